/*
 * pdeblocks_multigrid.h — banded systems, multigrid solvers and their U-net form,
 * semi-implicit diffusion (paper Sec. 3; included by pdeblocks.h).
 *
 * Conventions are those of pdeblocks.h (status codes, pdb_last_error, no traps,
 * no output written on failure, caller-owned arrays never kept). In addition:
 *
 *   - A banded n x n matrix with lower bandwidth kl and upper bandwidth ku
 *     (0 <= kl, ku < n) is passed as (n, kl, ku, band): band is a row-major
 *     (n, kl+ku+1) array with band[i*(kl+ku+1) + (j-i+kl)] = A[i][j]. The slots that
 *     fall outside the matrix (j < 0 or j >= n: the first kl and last ku rows) must
 *     hold 0, and every value must be finite (PDB_ERR_INVALID / PDB_ERR_NONFINITE).
 *   - A multigrid hierarchy is an opaque handle (pdb_multigrid *) from pdb_mg_create, freed
 *     by pdb_mg_destroy. A NULL, destroyed or wrong-type handle gives PDB_ERR_HANDLE.
 *     A hierarchy may be used from several threads at once.
 *   - Iterative solvers that stop at their iteration limit are not failures: they
 *     return PDB_OK with *converged = 0 and the iterate and residual history written.
 */
#ifndef PDEBLOCKS_MULTIGRID_H
#define PDEBLOCKS_MULTIGRID_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles (registry keys, not pointers: a destroyed or wrong-type handle is
 * reported as PDB_ERR_HANDLE, never dereferenced). */
typedef struct pdb_multigrid pdb_multigrid;
typedef struct pdb_unet2 pdb_unet2;

/* ---- Grids: which transfer operators a hierarchy uses by default ----------- */
typedef enum {
    PDB_GRID_UNKNOWN = 0,  /* no grid information: matrix-dependent interpolation */
    PDB_GRID_VERTEX  = 1,  /* vertex-centred, Dirichlet boundaries (pdb_poisson_1d) */
    PDB_GRID_CELL    = 2,  /* cell-centred, mirrored boundaries (pdb_diffusion_system) */
    PDB_GRID_COUNT
} pdb_grid;

/* ---- Banded direct solver strategies (pdb_banded_solve) ---------------- */
typedef enum {
    PDB_LU_SPD                 = 0,  /* symmetric positive definite: no pivoting */
    PDB_LU_DIAGONALLY_DOMINANT = 1,  /* diagonally dominant by rows or columns: no pivoting */
    PDB_LU_PARTIAL_PIVOTING    = 2,  /* partial row pivoting (LAPACK gbtf2) */
    PDB_LU_COUNT
} pdb_lu_strategy;

/* ---- Banded matrices ---------------------------------------------------- */

/* out = A x for each row of the (batch, n) array x (out must not overlap x: not in place). */
int32_t pdb_banded_matvec(int64_t n, int64_t kl, int64_t ku, const double *band,
                          const double *x, int64_t batch, double *out);

/* out = A^{-1} b for each row of the (batch, n) array b (out may equal b): banded LU,
 * without pivoting when A is SPD or diagonally dominant (then stable), with partial
 * pivoting otherwise; O(n) for tridiagonal A. Fails with PDB_ERR_INVALID when A is
 * singular to working precision. *strategy (may be NULL) receives a pdb_lu_strategy.
 * Overflow-free: a b with entries beyond 2^+-512 is solved scaled by an exact power of
 * two, so every solution representable in double precision is returned; one that is
 * not (A nearly singular for this b) fails with PDB_ERR_NONFINITE, out unchanged. */
int32_t pdb_banded_solve(int64_t n, int64_t kl, int64_t ku, const double *band,
                         const double *b, int64_t batch, double *out, int32_t *strategy);

/* The 1D Poisson matrix tridiag(-1, 2, -1)/h^2 with Dirichlet boundaries on n >= 1
 * interior points (h > 0; grid PDB_GRID_VERTEX). Bandwidths kl = ku = min(1, n-1);
 * band receives n*(2*kl+1) values. */
int32_t pdb_poisson_1d(int64_t n, double h, double *band);

/* The bandwidth k (kl = ku = k) of pdb_diffusion_system for the stencil K on n unknowns. */
int32_t pdb_diffusion_system_bandwidth(const double *weights, int64_t length, int64_t offset,
                                       int64_t n, int64_t *bandwidth);

/* A = I + tau K^T diag(w) K for the stencil K (mirrored boundaries, its exact n x n
 * matrix) and weights w[n] >= 0, tau > 0: symmetric positive definite, exactly
 * symmetric, grid PDB_GRID_CELL. band receives band_length = n*(2k+1) values,
 * k from pdb_diffusion_system_bandwidth. */
int32_t pdb_diffusion_system(const double *weights, int64_t length, int64_t offset,
                             const double *w, int64_t n, double tau,
                             double *band, int64_t band_length);

/* ---- Multigrid hierarchies ---------------------------------------------- */

/* Smoothers (each sweep's post-smoothing counterpart is its adjoint, except
 * GAUSS_SEIDEL_FORWARD, so cycles with pre == post are symmetric). */
typedef enum {
    PDB_SMOOTHER_JACOBI                 = 0,  /* weighted Jacobi, omega (default 4/(3 rho), rho Gershgorin bound of D^-1 A) */
    PDB_SMOOTHER_GAUSS_SEIDEL           = 1,  /* forward sweeps before, backward sweeps after the correction */
    PDB_SMOOTHER_GAUSS_SEIDEL_FORWARD   = 2,  /* forward sweeps before and after */
    PDB_SMOOTHER_SYMMETRIC_GAUSS_SEIDEL = 3,  /* forward + backward sweep, before and after */
    PDB_SMOOTHER_RED_BLACK              = 4,  /* red (odd i) then black (even i); reversed after */
    PDB_SMOOTHER_ALTERNATING_LINE       = 5,  /* 2D only: zebra line Gauss-Seidel, exact line solves: even rows,
                                                 odd rows, even columns, odd columns; reversed after */
    PDB_SMOOTHER_COUNT
} pdb_smoother;

/* Cycles. */
typedef enum {
    PDB_CYCLE_V = 0,
    PDB_CYCLE_W = 1,  /* two coarse visits per level (O(n log n) in 1D) */
    PDB_CYCLE_F = 2,  /* F-cycle on the coarse level, then a V-cycle */
    PDB_CYCLE_COUNT
} pdb_cycle;

/* Transfer operators. */
typedef enum {
    PDB_TRANSFER_AUTO   = 0,  /* the grid's linear transfer if it suits the matrix: smooth coefficients
                                 (each row's left and right couplings within a factor 4) and, for
                                 vertex grids, uniform levels (every coarsened level of odd size,
                                 n = 2^k - 1); else matrix-dependent */
    PDB_TRANSFER_VERTEX = 1,  /* vertex-centred linear interpolation, full weighting R = P^T/2 */
    PDB_TRANSFER_CELL   = 2,  /* cell-centred linear interpolation (3/4, 1/4; mirrored), R = P^T/2 */
    PDB_TRANSFER_MATRIX = 3,  /* matrix-dependent (black-box) interpolation, R from A^T */
    PDB_TRANSFER_COUNT
} pdb_transfer;

/* Deprecated names (before the prefixes PDB_SMOOTHER_, PDB_CYCLE_, PDB_TRANSFER_). */
#define PDB_MG_JACOBI                 PDB_SMOOTHER_JACOBI                 /* deprecated: use PDB_SMOOTHER_JACOBI; removed in the next release */
#define PDB_MG_GAUSS_SEIDEL           PDB_SMOOTHER_GAUSS_SEIDEL           /* deprecated: use PDB_SMOOTHER_GAUSS_SEIDEL; removed in the next release */
#define PDB_MG_GAUSS_SEIDEL_FORWARD   PDB_SMOOTHER_GAUSS_SEIDEL_FORWARD   /* deprecated: use PDB_SMOOTHER_GAUSS_SEIDEL_FORWARD; removed in the next release */
#define PDB_MG_SYMMETRIC_GAUSS_SEIDEL PDB_SMOOTHER_SYMMETRIC_GAUSS_SEIDEL /* deprecated: use PDB_SMOOTHER_SYMMETRIC_GAUSS_SEIDEL; removed in the next release */
#define PDB_MG_RED_BLACK              PDB_SMOOTHER_RED_BLACK              /* deprecated: use PDB_SMOOTHER_RED_BLACK; removed in the next release */
#define PDB_MG_CYCLE_V                PDB_CYCLE_V                         /* deprecated: use PDB_CYCLE_V; removed in the next release */
#define PDB_MG_CYCLE_W                PDB_CYCLE_W                         /* deprecated: use PDB_CYCLE_W; removed in the next release */
#define PDB_MG_CYCLE_F                PDB_CYCLE_F                         /* deprecated: use PDB_CYCLE_F; removed in the next release */
#define PDB_MG_TRANSFER_AUTO          PDB_TRANSFER_AUTO                   /* deprecated: use PDB_TRANSFER_AUTO; removed in the next release */
#define PDB_MG_TRANSFER_VERTEX        PDB_TRANSFER_VERTEX                 /* deprecated: use PDB_TRANSFER_VERTEX; removed in the next release */
#define PDB_MG_TRANSFER_CELL          PDB_TRANSFER_CELL                   /* deprecated: use PDB_TRANSFER_CELL; removed in the next release */
#define PDB_MG_TRANSFER_MATRIX        PDB_TRANSFER_MATRIX                 /* deprecated: use PDB_TRANSFER_MATRIX; removed in the next release */

/* Builds a hierarchy for the banded matrix A (copied): levels of Galerkin operators
 * R A P until a level has at most `coarsest` (>= 1) unknowns or `max_levels` (>= 2;
 * <= 0 means no limit) levels exist; the coarsest level is factorised. grid is a
 * pdb_grid; omega in (0, 2) for Jacobi only, or <= 0 for the default; pre, post >= 0
 * sweeps with pre + post >= 1. Fails (PDB_ERR_INVALID) when n <=
 * coarsest, a diagonal entry is zero, or the coarsest matrix is singular. */
int32_t pdb_mg_create(int64_t n, int64_t kl, int64_t ku, const double *band, pdb_grid grid,
                      pdb_smoother smoother, double omega, int64_t pre, int64_t post, pdb_cycle cycle,
                      pdb_transfer transfer, int64_t coarsest, int64_t max_levels, pdb_multigrid **handle);

/* Frees a hierarchy; the handle is invalid afterwards (using it gives PDB_ERR_HANDLE). */
int32_t pdb_mg_destroy(pdb_multigrid *handle);

/* Number of levels in *count and, if capacity >= count, the unknowns per level
 * (finest first) in sizes[capacity] (sizes may be NULL with capacity 0: a size query).
 * *transfer (may be NULL) receives the pdb_transfer in use (AUTO resolved). */
int32_t pdb_mg_levels(pdb_multigrid *handle, int64_t *sizes, int64_t capacity, int64_t *count, int32_t *transfer);

/* The matrix of a level (0 = A, then the Galerkin operators): *kl, *ku and, if
 * capacity >= n_level*(kl+ku+1), its band storage (band may be NULL with capacity 0). */
int32_t pdb_mg_level_matrix(pdb_multigrid *handle, int64_t level, int64_t *kl, int64_t *ku,
                            double *band, int64_t capacity);

/* fine[fine_n] = P_level coarse[coarse_n]  (prolongation from level+1 to level). */
int32_t pdb_mg_prolong(pdb_multigrid *handle, int64_t level, const double *coarse, int64_t coarse_n,
                       double *fine, int64_t fine_n);
/* coarse[coarse_n] = R_level fine[fine_n]  (restriction from level to level+1). */
int32_t pdb_mg_restrict(pdb_multigrid *handle, int64_t level, const double *fine, int64_t fine_n,
                        double *coarse, int64_t coarse_n);

/* One classical cycle for each row: out = cycle(x, b) for the (batch, n) arrays x, b
 * (out may equal x, not b). */
int32_t pdb_mg_cycle(pdb_multigrid *handle, const double *x, const double *b, int64_t batch, int64_t n,
                     double *out);

/* One cycle computed in the three-channel U-net form of the paper's Fig. 2b from the
 * channels (x, b, 0); out[3n] receives the output channels (x, b, r) one after the
 * other. out[0..n) equals pdb_mg_cycle's result (to rounding). */
int32_t pdb_mg_unet_cycle(pdb_multigrid *handle, const double *x, const double *b, int64_t n, double *out);

/* Solves A x = b by cycles from x0 (NULL: zero) until ||b - A x_k||_2 <= tol ||b||_2
 * (relative to ||r_0|| when b = 0) or max_cycles (0..1e6) cycles. x[n] receives the last
 * iterate, residuals[0..cycles] the norms ||b - A x_k||_2 (k = 0 is the initial
 * guess; residuals may be NULL, else capacity >= max_cycles + 1), *cycles the number
 * of cycles, *converged 1 or 0, *factor the average reduction per cycle
 * (||r_m||/||r_0||)^(1/m) (NaN if no cycle ran). Stopping at max_cycles is PDB_OK
 * with *converged = 0; a non-finite residual stops at once. x must not overlap b; it may
 * equal x0 (start from x's own content). Norms never overflow or underflow: b and x0 with
 * entries beyond 2^+-200 are solved scaled by an exact power of two (same for pdb_cg); a
 * solution beyond double precision fails with PDB_ERR_NONFINITE, x unchanged. */
int32_t pdb_mg_solve(pdb_multigrid *handle, const double *b, const double *x0, int64_t n, double tol,
                     int64_t max_cycles, double *x, double *residuals, int64_t capacity,
                     int64_t *cycles, int32_t *converged, double *factor);

/* Conjugate gradients for a symmetric positive definite banded A, preconditioned by
 * one cycle of the hierarchy `preconditioner` (NULL: none; it must be a symmetric
 * cycle: pre == post, not GAUSS_SEIDEL_FORWARD, not an F-cycle). Stopping, outputs and
 * residual history as pdb_mg_solve (max_iter iterations; residuals are the
 * recursively updated ones, except that convergence is claimed only when the true
 * residual ||b - A x|| meets tol -- otherwise CG restarts from it -- and the last entry
 * is always the true residual). A breakdown (A or M not positive definite) stops with
 * *converged = 0 before max_iter; it is the only early stop without convergence besides
 * a non-finite residual. */
int32_t pdb_cg(int64_t n, int64_t kl, int64_t ku, const double *band, const double *b,
               const double *x0, pdb_multigrid *preconditioner, double tol, int64_t max_iter,
               double *x, double *residuals, int64_t capacity,
               int64_t *iterations, int32_t *converged);

/* ---- Semi-implicit diffusion --------------------------------------------- */
typedef enum {
    PDB_SEMI_DIRECT    = 0,  /* banded LU (default; O(n) for tridiagonal systems) */
    PDB_SEMI_MULTIGRID = 1,  /* V(2,2) Gauss-Seidel cycles, automatic transfer, from u^k */
    PDB_SEMI_COUNT
} pdb_semi_solver;

/* (I + tau K^T G(u^k) K) u^{k+1} = u^k, G = diag(g(|K u^k|^2)), u^0 = f, for each row
 * of the (batch, n) array f (n >= 2, tau > 0: unconditionally stable), steps >= 0;
 * result in out (may equal f). With PDB_SEMI_MULTIGRID each step iterates to a
 * relative residual <= tol within max_cycles cycles (else PDB_ERR_NOT_CONVERGED,
 * nothing written); *cycles (may be NULL) receives the total number of cycles.
 * A tau too large for double precision fails with PDB_ERR_INVALID naming tau: a step
 * whose mean (conserved exactly in exact arithmetic) drifts by more than
 * sqrt(eps) * max|u| through rounding, or a system singular to working precision. */
int32_t pdb_semi_implicit(const double *f, int64_t batch, int64_t n,
                          const double *weights, int64_t length, int64_t offset,
                          pdb_diffusivity kind, double lambda, double tau, int64_t steps,
                          pdb_semi_solver solver, double tol, int64_t max_cycles,
                          int64_t *cycles, double *out);

/* ---- Generic two-level U-net (paper Sec. 3.1) ---------------------------- */
typedef enum {
    PDB_UNET_STENCIL   = 0,  /* u -> K u */
    PDB_UNET_DIFFUSION = 1,  /* u -> u - tau K^T Phi(K u)  (a diffusion block, eq. 4) */
    PDB_UNET_COUNT
} pdb_unet_block;

/* f~ = C1(f), f_H = R f~, f~_H = C_H(f_H), f_new = f~ + P f~_H, out = C2(f_new).
 * The `count` blocks are given in order: n_pre blocks of C1, then n_coarse blocks of
 * C_H, then the rest (C2). Block k: kinds[k] (PDB_UNET_*), a stencil of lengths[k]
 * weights (taken one after another from `weights`) and offsets[k]; for diffusion
 * blocks also diffusivities[k] (PDB_DIFFUSIVITY_*), lambdas[k], taus[k] >= 0 (the
 * last three may be NULL when there are no diffusion blocks). transfer is
 * PDB_TRANSFER_CELL (averaging / mirrored linear interpolation) or _VERTEX. */
int32_t pdb_unet2_create(int64_t count, const int32_t *kinds, const int64_t *lengths,
                         const int64_t *offsets, const double *weights,
                         const int32_t *diffusivities, const double *lambdas, const double *taus,
                         int64_t n_pre, int64_t n_coarse, pdb_transfer transfer, pdb_unet2 **handle);
int32_t pdb_unet2_destroy(pdb_unet2 *handle);
/* out = U-net(f) for each row of the (batch, n) array f (n >= 2; out may equal f). */
int32_t pdb_unet2_forward(pdb_unet2 *handle, const double *f, int64_t batch, int64_t n, double *out);

/* The same U-net on images: blocks act on row-major height x width images, R = R_y (x) R_x and
 * P = P_y (x) P_x are the tensor products of the 1D transfers (cell: coarse ceil(H/2) x
 * ceil(W/2); vertex: floor(H/2) x floor(W/2)). Block k: kinds[k] (PDB_UNET_*) with filters[k]
 * 2D filters (1 for a stencil block u -> K u; 1...1024 for a diffusion block
 * u -> u - tau sum_c K_c^T g(sum_d (K_d u)^2) K_c u, the isotropic coupling); the filters of
 * all blocks in order have 4 int64 each in filter_shapes (rows, columns, oy, ox; sides
 * 1...1024; at most 65536 filters in all) and rows*columns weights each, one after another,
 * in `weights`; diffusion blocks also diffusivities[k] (PDB_DIFFUSIVITY_*), lambdas[k],
 * taus[k] >= 0 (NULL allowed without diffusion blocks). */
typedef struct pdb_unet2d pdb_unet2d;
int32_t pdb_unet2d_create(int64_t count, const int32_t *kinds, const int64_t *filters,
                          const int64_t *filter_shapes, const double *weights,
                          const int32_t *diffusivities, const double *lambdas, const double *taus,
                          int64_t n_pre, int64_t n_coarse, pdb_transfer transfer, pdb_unet2d **handle);
int32_t pdb_unet2d_destroy(pdb_unet2d *handle);
/* out = U-net(f) for each image of the (batch, height, width) array f (height, width >= 2;
 * out may equal f). */
int32_t pdb_unet2d_forward(pdb_unet2d *handle, const double *f, int64_t batch, int64_t height, int64_t width,
                           double *out);

/* ---- 2D multigrid on images ------------------------------------------------
 *
 * A stencil field is a 9-point operator A on H x W images (row-major pixels p = i*W + j),
 * passed as (height, width, coefficients): coefficients is a (9, H, W) array with
 * coefficients[d*H*W + p] = A[p][p + dy*W + dx] for the direction d = 3*(dy+1) + (dx+1)
 * (d = 4 is the diagonal; dy = -1 is the row above). Values must be finite and 0 in every
 * direction that leaves the image (PDB_ERR_NONFINITE / PDB_ERR_INVALID).
 *
 * A 2D hierarchy is a pdb_multigrid handle from pdb_mg2d_create; pdb_mg_destroy,
 * pdb_mg_levels (sizes H*W per level), pdb_mg_prolong, pdb_mg_restrict, pdb_mg_cycle,
 * pdb_mg_unet_cycle and pdb_mg_solve accept it with vectors of length n = H*W (images
 * flattened row-major); pdb_mg_level_matrix and pdb_cg are 1D only. */

/* The 5-point Poisson operator (4u - u_N - u_S - u_W - u_E)/h^2 on H x W interior points
 * with Dirichlet boundaries (h > 0, 1/h^2 finite; grid PDB_GRID_VERTEX); coefficients
 * receives capacity = 9*H*W values. */
int32_t pdb_poisson_2d(int64_t height, int64_t width, double h, double *coefficients, int64_t capacity);

/* A = I + tau sum_c K_c^T diag(w_c) K_c for the filter bank K (filters, filter_shapes,
 * filter_weights as in pdeblocks_images.h: mirrored boundaries, exact transposes) on
 * H x W images; w holds w_count = H*W values (one weight image for every filter: the
 * isotropic case) or filters*H*W (w_c for filter c, filter-major); weights finite and
 * >= 0, tau > 0. Symmetric positive definite (eigenvalues >= 1), exactly symmetric,
 * grid PDB_GRID_CELL. 5-point for gradient-type banks; 9-point when every filter fits a
 * 2 x 2 window; a bank whose K_c^T W K_c couples pixels more than one step apart per axis
 * fails with PDB_ERR_INVALID. coefficients receives capacity = 9*H*W values. */
int32_t pdb_diffusion_system_2d(int64_t height, int64_t width, int64_t filters, const int64_t *filter_shapes,
                                const double *filter_weights, const double *w, int64_t w_count, double tau,
                                double *coefficients, int64_t capacity);

/* out = A x for each image of the (batch, H, W) array x (out must not overlap x). */
int32_t pdb_stencil_field_matvec(int64_t height, int64_t width, const double *coefficients,
                                 const double *x, int64_t batch, double *out);

/* Builds a 2D hierarchy for the symmetric stencil field A (copied): coarse levels
 * floor(H/2) x floor(W/2) (coarse pixel (I, J) = fine (2I+1, 2J+1)) until a level has at
 * most `coarsest` (>= 1) unknowns, a side below 2, or max_levels (>= 2; <= 0: no limit)
 * levels; the coarsest level is solved by banded LU. Transfers: PDB_TRANSFER_AUTO and
 * _MATRIX: Dendy's matrix-dependent (black-box) interpolation; _VERTEX: bilinear with
 * Dirichlet boundary weights; _CELL: bilinear with mirrored (Neumann) boundary weights.
 * Restriction R = P^T / 4, Galerkin coarse operators R A P (9-point). Smoothers:
 * PDB_SMOOTHER_RED_BLACK (red i+j even, then black; the adjoint order after the
 * correction), _ALTERNATING_LINE (zebra line Gauss-Seidel with exact tridiagonal line
 * solves, rows then columns; the adjoint order after: robust for anisotropic and jumping
 * couplings, pdb_mg_create rejects it), _GAUSS_SEIDEL (lexicographic forward before, backward after),
 * _GAUSS_SEIDEL_FORWARD, _SYMMETRIC_GAUSS_SEIDEL, _JACOBI (omega as pdb_mg_create).
 * grid is a pdb_grid value, informational. Fails with PDB_ERR_INVALID when A is not
 * symmetric (1e-10 relative), a level's diagonal is not positive, H*W <= coarsest, a
 * side is below 2, or the coarsest operator is singular (e.g. a pure Neumann Laplacian
 * without identity term: its constant null space is reported, not solved). */
int32_t pdb_mg2d_create(int64_t height, int64_t width, const double *coefficients, pdb_grid grid,
                        pdb_smoother smoother, double omega, int64_t pre, int64_t post, pdb_cycle cycle,
                        pdb_transfer transfer, int64_t coarsest, int64_t max_levels, pdb_multigrid **handle);

/* Number of levels in *count and, if capacity >= count, each level's height and width
 * (finest first; both NULL with capacity 0: a count query). *transfer (may be NULL)
 * receives the pdb_transfer in use (AUTO resolved). Fails with PDB_ERR_HANDLE for a 1D
 * hierarchy. */
int32_t pdb_mg2d_levels(pdb_multigrid *handle, int64_t *heights, int64_t *widths, int64_t capacity,
                        int64_t *count, int32_t *transfer);

/* The operator of a level (0 = A, then the Galerkin operators): *height, *width and, if
 * capacity >= 9*height*width, its coefficients (NULL with capacity 0: a shape query). */
int32_t pdb_mg2d_level_operator(pdb_multigrid *handle, int64_t level, int64_t *height, int64_t *width,
                                double *coefficients, int64_t capacity);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_MULTIGRID_H */
