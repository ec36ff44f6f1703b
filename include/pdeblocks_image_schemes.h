/*
 * pdeblocks_image_schemes.h — nonlinear diffusion of images: explicit, FSI, FED, implicit, evolve
 * (included by pdeblocks.h; its conventions apply). Images are row-major (H, W) float64
 * arrays, batches (B, H, W); the 2D conventions (2D stencils with offsets (oy, ox),
 * half-sample mirror per axis, filter banks) are stated in pdeblocks_images.h.
 */
#ifndef PDEBLOCKS_IMAGE_SCHEMES_H
#define PDEBLOCKS_IMAGE_SCHEMES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Arguments common to the image schemes below:
 *   f, batch, height, width   the (batch, height, width) row-major input images
 *                             (batch, height, width >= 1; all values finite)
 *   filters, filter_shapes, filter_weights
 *                             the filter bank K_1..K_C (convention of pdeblocks_images.h)
 *   coupling                  PDB_COUPLING_*
 *   diffusivities, kinds, lambdas
 *                             diffusivities = 1 (one g for every channel), or for
 *                             PDB_COUPLING_CHANNELWISE also = filters (g_c per filter);
 *                             kinds[k] is a pdb_diffusivity code, lambdas[k] > 0
 *   flags                     PDB_UNCHECKED runs a step size above the bound
 *   out                       batch*height*width values; may equal f (in place),
 *                             otherwise overlaps no input; every other output (history,
 *                             sweeps, residual, report) overlaps nothing.
 * Each image evolves independently; on any error nothing is written.
 * The step size bound is Theorem 2's tau <= 2 / (sup g * lambda_max(sum_c K_c^T K_c)),
 * with a certified upper bound of lambda_max; a tau above it fails with
 * PDB_ERR_UNSTABLE (message naming the bound) unless flags has PDB_UNCHECKED.
 * Results do not depend on the number of threads.
 */

/* How the channels of a filter bank share the diffusivity. */
typedef enum {
    PDB_COUPLING_ISOTROPIC   = 0,  /* u <- u - tau sum_c K_c^T [g(sum_j (K_j u)^2) K_c u]:
                                      one diffusivity of the squared gradient magnitude
                                      (rotationally invariant for gradient_2d) */
    PDB_COUPLING_CHANNELWISE = 1,  /* u <- u - tau sum_c K_c^T Phi_c(K_c u), Phi_c(s) = g_c(s^2) s:
                                      each filter its own flux (medpy's anisotropic_diffusion
                                      with gradient_2d) */
    PDB_COUPLING_COUNT
} pdb_coupling;

/* ---- Explicit scheme on images (eq. 4) ----------------------------------- */

/* `steps` >= 0 explicit steps u^{k+1} = u^k - tau sum_c K_c^T G_c(u^k) K_c u^k of each image.
 * With record_every = r > 0, history receives u^0, u^r, u^{2r}, ... as a
 * (steps/r + 1, batch, height, width) array (history_length must equal that size);
 * with r = 0 history may be NULL. */
int32_t pdb_explicit_2d(const double *f, int64_t batch, int64_t height, int64_t width,
                        int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                        pdb_coupling coupling, int64_t diffusivities, const int32_t *kinds,
                        const double *lambdas, double tau, int64_t steps, int32_t flags,
                        int64_t record_every, double *history, int64_t history_length,
                        double *out);

/* ---- FSI and FED cycles on images (eq. 7; Grewenig et al.) --------------- */

/* `cycles` FSI cycles of length cycle_length, as pdb_fsi with the image step; tau is held
 * to the bound above; update PDB_UPDATE_PER_STEP (eq. 7) or PDB_UPDATE_PER_CYCLE;
 * history: the states after cycles 0, r, 2r, ... */
int32_t pdb_fsi_2d(const double *f, int64_t batch, int64_t height, int64_t width,
                   int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                   pdb_coupling coupling, int64_t diffusivities, const int32_t *kinds,
                   const double *lambdas, double tau, int64_t cycle_length, int64_t cycles,
                   pdb_update update, int32_t flags,
                   int64_t record_every, double *history, int64_t history_length,
                   double *out);

/* `cycles` FED cycles of length cycle_length with the step sizes of pdb_fed_step_sizes in
 * the given order, as pdb_fed with the image step; tau_max is held to the bound above;
 * PDB_UPDATE_PER_CYCLE freezes the diagonals G_c at each cycle's start. */
int32_t pdb_fed_2d(const double *f, int64_t batch, int64_t height, int64_t width,
                   int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                   pdb_coupling coupling, int64_t diffusivities, const int32_t *kinds,
                   const double *lambdas, double tau_max, int64_t cycle_length, int64_t cycles,
                   pdb_fed_order ordering, pdb_update update, int32_t flags,
                   int64_t record_every, double *history, int64_t history_length,
                   double *out);

/* ---- Implicit scheme on images (eqs. 8, 9) ------------------------------- */

/* `steps` implicit steps u^{k+1} = u^k - tau sum_c K_c^T G_c(u^{k+1}) K_c u^{k+1}, each solved
 * by fixed-point sweeps from u^k as pdb_implicit does, with iterations >= 1 and tol >= 0. A tau with
 * tau L lambda_max >= 1 (L the largest Lipschitz constant of the fluxes) fails with
 * PDB_ERR_UNSTABLE unless PDB_UNCHECKED. sweeps, residual (may be NULL) as pdb_implicit. */
int32_t pdb_implicit_2d(const double *f, int64_t batch, int64_t height, int64_t width,
                        int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                        pdb_coupling coupling, int64_t diffusivities, const int32_t *kinds,
                        const double *lambdas, double tau, int64_t steps, int64_t iterations,
                        double tol, int32_t flags,
                        double *out, int64_t *sweeps, double *residual);

/* ---- Diffusing images to a stopping time --------------------------------- */

/* pdb_evolve for images: the same plan (set mask PDB_EVOLVE_HAS_*, options, defaults),
 * the image bounds, and the same report (report_length >= PDB_EVOLVE_REPORT_COUNT, or
 * report NULL with report_length 0). */
int32_t pdb_evolve_2d(const double *f, int64_t batch, int64_t height, int64_t width,
                      int64_t filters, const int64_t *filter_shapes, const double *filter_weights,
                      pdb_coupling coupling, int64_t diffusivities, const int32_t *kinds,
                      const double *lambdas, double T, pdb_scheme scheme, int32_t set,
                      double tau, int64_t cycles, pdb_fed_order ordering, pdb_update update,
                      int64_t iterations, double tol, double contraction, int32_t flags,
                      double *out, double *report, int64_t report_length);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGE_SCHEMES_H */
