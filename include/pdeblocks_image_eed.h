/*
 * pdeblocks_image_eed.h — edge-enhancing anisotropic diffusion (EED) and AOS semi-implicit image diffusion
 * (included by pdeblocks.h; its conventions apply). Images are row-major (H, W) float64
 * arrays, batches (B, H, W); the 2D conventions (2D stencils with offsets (oy, ox),
 * half-sample mirror per axis, filter banks) are stated in pdeblocks_images.h.
 */
#ifndef PDEBLOCKS_IMAGE_EED_H
#define PDEBLOCKS_IMAGE_EED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * ---- Edge-enhancing anisotropic diffusion (EED, Weickert) -----------------
 *
 * One EED step is the explicit scheme of Theorem 2 with a per-pixel tensor:
 *     u <- u - tau K^T M(u) K u,   K = [Kx; Ky] = gradient_2d(h)
 * (forward differences (u[i][j+1] - u[i][j])/h and (u[i+1][j] - u[i][j])/h, zero in
 * the last column / row), with M applied per pixel to the pair ((Kx u)[i][j], (Ky u)[i][j]):
 *     M = g(|grad u_sigma|^2) v1 v1^T + v2 v2^T,  v1 = grad u_sigma / |grad u_sigma|, v2 _|_ v1,
 * and M = I where grad u_sigma = 0 (= g(0) I: every kind has g(0) = sup g = 1).
 * M is symmetric positive semidefinite with eigenvalues g and 1, in [0, sup g], so the
 * step keeps ||u||_2 nonincreasing for tau <= 2/(sup g lambda_max(Kx^T Kx + Ky^T Ky))
 * (pdb_eed_stable_tau), and every step keeps the mean.
 *   u_sigma: u convolved with the sampled Gaussian w_k = exp(-k^2/(2 sigma^2)),
 *     k = -r..r, r = ceil(3 sigma), normalised to sum 1, applied along x then along y
 *     with the half-sample mirror; sigma = 0 is the identity. sigma must be finite,
 *     >= 0, with ceil(3 sigma) <= 65536.
 *   grad u_sigma: central differences with the mirror,
 *     ((u_sigma[i][j+1] - u_sigma[i][j-1])/(2h), (u_sigma[i+1][j] - u_sigma[i-1][j])/(2h))
 *     with mirrored indices (the first column uses (u_sigma[i][1] - u_sigma[i][0])/(2h)).
 *
 * Shapes: f and out hold batch*height*width doubles (batch, height, width >= 1; 1 is
 * allowed). out may be exactly f (in place), otherwise it must not overlap f. h > 0
 * finite (grid size). On any error out (and the optional outputs) are unchanged:
 * PDB_ERR_NULL (a NULL f or out), PDB_ERR_INVALID (shape, h, sigma, tau, steps, unknown kind or flags,
 * overlap), PDB_ERR_NONFINITE (NaN/Inf in f, or a result that overflows),
 * PDB_ERR_UNSTABLE (step above the bound without PDB_UNCHECKED), PDB_ERR_MEMORY.
 */

/* 2/(sup g lambda_max) for gradient_2d(h) on height x width images: the largest
 * step pdb_eed and pdb_eed_fed (tau_max) accept without PDB_UNCHECKED. */
int32_t pdb_eed_stable_tau(int64_t height, int64_t width, double h,
                           pdb_diffusivity kind, double lambda, double *tau);

/* `steps` >= 0 explicit EED steps of size tau > 0, M recomputed from the current u
 * before every step. flags: 0 or PDB_UNCHECKED (skip the refusal of tau above
 * pdb_eed_stable_tau). The block form of EED: one step is one diffusion block. */
int32_t pdb_eed(const double *f, int64_t batch, int64_t height, int64_t width, double h,
                pdb_diffusivity kind, double lambda, double sigma,
                double tau, int64_t steps, int32_t flags, double *out);

/* FED-accelerated EED to the stopping time t >= 0: `cycles` FED cycles (0: the default
 * max(1, min(5, floor(t/(2 tau_max))))), each of the smallest length L whose cycle time
 * tau_max L(L+1)/3 reaches t/cycles, run with tau_max shrunk to 3 (t/cycles)/(L(L+1))
 * so that the cycles reach t exactly, step sizes of pdb_fed_step_sizes in Leja order.
 * M is recomputed once per cycle (at its start) and frozen during it. tau_max <= 0
 * means pdb_eed_stable_tau; a larger tau_max fails with PDB_ERR_UNSTABLE unless
 * PDB_UNCHECKED. t = 0 copies f. cycles_used, cycle_length, tau_used (each may be
 * NULL) receive the plan: cycles, L and the tau_max used. */
int32_t pdb_eed_fed(const double *f, int64_t batch, int64_t height, int64_t width, double h,
                    pdb_diffusivity kind, double lambda, double sigma,
                    double t, double tau_max, int64_t cycles, int32_t flags, double *out,
                    int64_t *cycles_used, int64_t *cycle_length, double *tau_used);

/*
 * ---- AOS semi-implicit diffusion (Weickert, ter Haar Romeny, Viergever 1998) ----
 *
 * `steps` >= 0 steps of additive operator splitting for isotropic nonlinear diffusion
 * with gradient_2d(h):
 *     u^{k+1} = 1/2 sum_{l in x, y} (I - 2 tau A_l(u^k))^{-1} u^k,
 *     A_l = -K_l^T diag(g) K_l,  g[i][j] = g((Kx u)[i][j]^2 + (Ky u)[i][j]^2)
 * (forward differences as in the isotropic coupling, g evaluated at the pixel; the
 * weight on the edge between pixels j and j+1 of a row, or i and i+1 of a column, is
 * that of the first pixel). One tridiagonal SPD solve per row (x) and per column (y).
 * Unconditionally stable for every tau > 0: each step is a convex combination of the
 * values of u^k (min f <= u <= max f) and keeps the mean. Shapes, aliasing and errors
 * as pdb_eed (tau > 0 finite with 2 tau/h^2 finite; no flags, no stability refusal).
 */
int32_t pdb_aos(const double *f, int64_t batch, int64_t height, int64_t width, double h,
                pdb_diffusivity kind, double lambda, double tau, int64_t steps, double *out);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGE_EED_H */
