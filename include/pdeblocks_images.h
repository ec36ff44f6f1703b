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

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGES_H */
