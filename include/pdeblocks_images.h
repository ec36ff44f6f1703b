/*
 * pdeblocks_images.h — 2D operators on images: 2D stencils, filter banks, certified norms
 * (included by pdeblocks.h; its conventions apply). Images are row-major (H, W) float64
 * arrays, batches (B, H, W); the 2D conventions (2D stencils with offsets (oy, ox),
 * half-sample mirror per axis, filter banks) are stated in pdeblocks_images.h.
 */
#ifndef PDEBLOCKS_IMAGES_H
#define PDEBLOCKS_IMAGES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions for images (every image entry point follows them):
 *
 *   An image is a row-major height x width array of doubles; i = row (y), j = column (x).
 *   A batch is `batch` such images one after the other.
 *
 *   A 2D stencil K has weights w[a][b] (rows x columns, row-major) and an offset (oy, ox):
 *       (K u)[i][j] = sum_a sum_b w[a][b] * u~[i + oy + a][j + ox + b]
 *   with the half-sample mirror of pdeblocks.h applied to the row index and to the column
 *   index independently. K^T is the exact matrix transpose. A 1 x q stencil acts along
 *   rows (x), a q x 1 stencil along columns (y).
 *
 *   A filter bank K_1..K_C (the stacked operator K = [K_1; ...; K_C]) is passed as three
 *   arguments:
 *       int64_t filters              C >= 1 (at most 4096)
 *       const int64_t *filter_shapes 4*C values: rows, columns, offset_y, offset_x of each
 *                                    filter (each side between 1 and 1024)
 *       const double *filter_weights the filters' row-major weights, one after the other
 *                                    (sum of rows*columns values, all finite)
 *   The gradient of gradient_2d(h) is the bank {1x2 [-1, 1]/h, 2x1 [-1; 1]/h}, offsets 0.
 */

/* ---- 2D stencils and filter banks ------------------------------------------
 * The bank is (filters, filter_shapes, filter_weights) as above, C = filters. Sizes: batch,
 * height, width >= 1; every array is checked before anything is written. Errors:
 * PDB_ERR_NULL for a NULL array, PDB_ERR_INVALID for a bad size or bank (the message names
 * it) or an overlap, PDB_ERR_NONFINITE for a NaN/Inf in u or v, PDB_ERR_MEMORY when a copy
 * of the bank or a dense matrix does not fit. On failure nothing is written. */

/* out[b][c] = K_c u[b]: u is (batch, height, width), out is (batch, filters, height, width)
 * (all channels of image 0 first). out must not overlap u, filter_shapes or filter_weights
 * (not in place). */
int32_t pdb_stencil2d_apply(int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                            const double *u, int64_t batch, int64_t height, int64_t width, double *out);

/* out[b] = sum_c K_c^T v[b][c], the exact transpose of pdb_stencil2d_apply
 * (<K u, v> = <u, K^T v> to rounding, boundary included): v is (batch, filters, height, width),
 * out is (batch, height, width). out must not overlap v or the bank (not in place). */
int32_t pdb_stencil2d_adjoint(int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                              const double *v, int64_t batch, int64_t height, int64_t width, double *out);

/* The dense matrix of the stacked K into out[(filters*height*width) * (height*width)],
 * row-major: row c*H*W + i*W + j, column i'*W + j' (pixel index i*W + j), for tests.
 * PDB_ERR_INVALID when it has more than 2^24 entries (checked before anything is built). */
int32_t pdb_stencil2d_matrix(int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                             int64_t height, int64_t width, double *out);

/* *out = a certified upper bound of lambda_max(sum_c K_c^T K_c) = ||K||_2^2 on
 * height x width images: never below the true value (rounding included). Exact (within
 * 1e-8 relative, as pdb_stencil_norm_squared) when every filter acts along one axis
 * (1 x q or q x 1 after trimming zero rows and columns, offsets across the axis 0: the Gram
 * is the Kronecker sum I (x) A_x + A_y (x) I), e.g. the gradient_2d bank
 * (4 cos^2(pi/2H) + 4 cos^2(pi/2W))/h^2, and for one separable filter p q^T (the product of
 * the two 1D norms); otherwise an upper bound: the exact parts plus, for general 2D
 * filters, the smaller of Gershgorin's bound on the entries of sum_c K_c^T K_c and Hoelder's
 * ||K||_1 ||K||_inf. Milliseconds for any image size with short filters: no image is
 * allocated. PDB_ERR_INVALID when the bound overflows a double. */
int32_t pdb_filter_bank_norm_squared(int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                                     int64_t height, int64_t width, double *out);

/* *tau = 2/(sup g * lambda_max) with the certified bound of pdb_filter_bank_norm_squared,
 * rounded down (Theorem 2 for images: an explicit step u - tau sum_c K_c^T G_c K_c u with
 * 0 <= G_c <= sup g, channelwise or isotropic coupling, does not increase ||u||_2).
 * +Inf for a bank of zeros. PDB_ERR_INVALID when the bound is not a finite positive double. */
int32_t pdb_stable_tau_2d(int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                          pdb_diffusivity kind, double lambda, int64_t height, int64_t width, double *tau);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGES_H */
