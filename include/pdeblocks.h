/*
 * pdeblocks.h — C ABI of PDEBlocks (libpdeblocks.so).
 *
 * Numerical PDE schemes as neural-network building blocks, after Alt, Peter,
 * Weickert, Schrader: "Translating Numerical Concepts for PDEs into Neural
 * Architectures" (SSVM 2021). Equation numbers below refer to that paper.
 *
 * Conventions (every entry point):
 *   - Returns a status: PDB_OK (0) or a negative PDB_ERR_* code. On failure
 *     pdb_last_error() gives a message, and no output has been written.
 *   - Nothing traps or aborts the process, whatever the arguments.
 *   - Arrays are (pointer, length) pairs of float64; a batch of signals is a
 *     row-major (batch, n) array. The library never keeps a caller's pointer.
 *   - A stencil K is (weights, length, offset): (K u)_i = sum_j w_j u~_{i+offset+j}
 *     with the half-sample mirror extension u~_{-1-k} = u_k, u~_{n+k} = u_{n-1-k}.
 *     K^T is the exact matrix transpose of K (boundary rows included).
 *   - A diffusivity is (kind, lambda): kind is a PDB_DIFFUSIVITY_* constant,
 *     lambda > 0 the contrast parameter.
 *   - Thread safety: every function may be called from any number of threads at
 *     once; the last-error message is per thread.
 */
#ifndef PDEBLOCKS_H
#define PDEBLOCKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes ------------------------------------------------------ */
#define PDB_OK                 0
#define PDB_ERR_NULL          (-1)   /* a required pointer is NULL */
#define PDB_ERR_INVALID       (-2)   /* an argument is out of its domain */
#define PDB_ERR_NONFINITE     (-3)   /* an input array holds NaN or +-Inf */
#define PDB_ERR_UNSTABLE      (-4)   /* step size above the stability/contraction bound */
#define PDB_ERR_NOT_CONVERGED (-5)   /* iteration limit reached before the tolerance */
#define PDB_ERR_HANDLE        (-6)   /* NULL, destroyed or wrong-type handle */
#define PDB_ERR_IO            (-7)   /* file could not be read/written, or is corrupt */
#define PDB_ERR_CANCELLED     (-8)   /* cancelled by a progress callback */
#define PDB_ERR_INTERNAL      (-99)  /* a bug: please report */

/* ---- Diffusivities g(s^2) (lambda > 0) --------------------------------- */
#define PDB_DIFFUSIVITY_LINEAR                0  /* g = 1 */
#define PDB_DIFFUSIVITY_PERONA_MALIK          1  /* g = exp(-s^2/(2 lambda^2)) */
#define PDB_DIFFUSIVITY_PERONA_MALIK_RATIONAL 2  /* g = 1/(1 + s^2/lambda^2) */
#define PDB_DIFFUSIVITY_CHARBONNIER           3  /* g = 1/sqrt(1 + s^2/lambda^2) */
#define PDB_DIFFUSIVITY_WEICKERT              4  /* g = 1 - exp(-3.31488/(s/lambda)^8), g(0) = 1 */

/* ---- Stability bounds (Theorem 2) -------------------------------------- */
#define PDB_BOUND_SUP_G     0  /* tau <= 2/(sup g * ||K||_2^2)  (sharper; default) */
#define PDB_BOUND_LIPSCHITZ 1  /* tau <= 2/(L * ||K||_2^2), L = Lipschitz constant of Phi */

/* ---- Flags of the scheme entry points ---------------------------------- */
#define PDB_UNCHECKED 1  /* skip the stability check: allow unstable step sizes */

/* ---- Errors and version ------------------------------------------------ */

/* Message of the most recent failed call on this thread ("" if none). Valid
 * until the next failing call on the same thread. Never NULL. */
const char *pdb_last_error(void);

/* Semantic version of the library and its ABI. */
int32_t pdb_version(int32_t *major, int32_t *minor, int32_t *patch);
/* The version as a static string, e.g. "0.1.0". Never NULL. */
const char *pdb_version_string(void);

/* ---- Stencils (operators K with mirrored boundaries) ------------------- */

/* out = K u for each row of the (batch, n) array u. */
int32_t pdb_stencil_apply(const double *weights, int64_t length, int64_t offset,
                          const double *u, int64_t batch, int64_t n, double *out);
/* out = K^T v for each row (exact transpose: <K u, v> = <u, K^T v>). */
int32_t pdb_stencil_adjoint(const double *weights, int64_t length, int64_t offset,
                            const double *v, int64_t batch, int64_t n, double *out);
/* The dense n x n matrix of K, row-major, into out[n*n] (n <= 32768). */
int32_t pdb_stencil_matrix(const double *weights, int64_t length, int64_t offset,
                           int64_t n, double *out);
/* ||K||_2^2 on signals of length n: a certified upper bound, never below the
 * true value and within 1e-8 relative of it (bisection with LDL^T inertia tests).
 * The cost does not grow with n beyond the boundary rows (the Toeplitz interior is
 * eliminated by cyclic reduction), so any n up to 2^40 answers quickly. Weights of
 * any magnitude are scaled by a power of two (exact); tiny weights give a (possibly
 * subnormal) bound rounded up. PDB_ERR_INVALID, naming the largest weight, when the
 * norm overflows a double (weights beyond ~1e154), or when the boundary rows of
 * K^T K would need more than 2^24 stored entries (|offset| or length comparable to n). */
int32_t pdb_stencil_norm_squared(const double *weights, int64_t length, int64_t offset,
                                 int64_t n, double *out);
/* The stencil of D = sum_{m=0}^{count-1} alphas[m] d^m/dx^m on grid spacing h
 * (order-m difference: weights (-1)^(m-j) C(m,j)/h^m, offset -floor(m/2)).
 * Writes *length and *offset; with weights == NULL and capacity == 0 it only
 * reports the length (a size query). Orders up to 16. PDB_ERR_INVALID naming h
 * when h^m or 1/h^m is not a normal double (the weights would overflow or vanish),
 * naming h and alphas when a weight alphas[m]*C(m,j)/h^m overflows. */
int32_t pdb_difference_operator(const double *alphas, int64_t count, double h,
                                double *weights, int64_t capacity,
                                int64_t *length, int64_t *offset);

/* ---- Diffusivities ----------------------------------------------------- */

/* Kind of a diffusivity name: "linear", "perona_malik", "perona_malik_rational",
 * "charbonnier", "weickert". */
int32_t pdb_diffusivity_from_name(const char *name, int32_t *kind);
/* Static name of a kind, or NULL for an unknown kind. */
const char *pdb_diffusivity_name(int32_t kind);
/* out[i] = g(s2[i]); s2 >= 0. */
int32_t pdb_diffusivity_g(int32_t kind, double lambda, const double *s2, int64_t count, double *out);
/* out[i] = Phi(s[i]) = g(s[i]^2) s[i]  (flux, eq. 3; the activation of Theorem 1 is tau*Phi). */
int32_t pdb_diffusivity_flux(int32_t kind, double lambda, const double *s, int64_t count, double *out);
/* out[i] = Phi'(s[i]). */
int32_t pdb_diffusivity_flux_derivative(int32_t kind, double lambda, const double *s, int64_t count, double *out);
/* sup g and the Lipschitz constant L = sup |Phi'| (computed, independent of lambda). */
int32_t pdb_diffusivity_constants(int32_t kind, double lambda, double *sup_g, double *lipschitz);

/* ---- Explicit scheme: a chain of diffusion blocks (eq. 4, Theorems 1-2) -- */

/* Largest stable step size 2/(c ||K||_2^2), c = sup g (PDB_BOUND_SUP_G) or the
 * Lipschitz constant (PDB_BOUND_LIPSCHITZ), for signals of length n >= 2.
 * +Inf for the zero operator. Rounded down, never above the true bound. When the
 * bound is not a finite positive double (weights near 1e155 and beyond make it
 * underflow, near 1e-155 and below overflow) PDB_ERR_INVALID with a message naming
 * the largest weight -- never a silent 0. */
int32_t pdb_stable_tau(const double *weights, int64_t length, int64_t offset,
                       int32_t kind, double lambda, int64_t n, int32_t bound, double *tau);

/* u^{k+1} = u^k - tau K^T Phi(K u^k), k = 0..steps-1, u^0 = f, for each row of
 * the (batch, n) array f (n >= 2); result in out[batch*n] (out may equal f).
 * tau above the PDB_BOUND_SUP_G bound fails with PDB_ERR_UNSTABLE unless flags
 * has PDB_UNCHECKED. With record_every > 0, history[history_length] receives the
 * states u^0, u^r, u^{2r}, ... as an (steps/r + 1, batch, n) array
 * (history_length must equal that size); with record_every == 0 history may be NULL. */
int32_t pdb_explicit(const double *f, int64_t batch, int64_t n,
                     const double *weights, int64_t length, int64_t offset,
                     int32_t kind, double lambda,
                     double tau, int64_t steps, int32_t flags,
                     int64_t record_every, double *history, int64_t history_length,
                     double *out);

/* ---- Threads ----------------------------------------------------------- */
/* Rows of a batch are spread over threads, and a single long signal is split
 * into column ranges per step. Results never depend on the thread count.
 * threads = 0 restores the default (one per online processor). Process-wide. */
int32_t pdb_set_threads(int32_t threads);
int32_t pdb_get_threads(int32_t *threads);

/* ---- Handles ----------------------------------------------------------- */
/* Stateful objects (multigrid hierarchies, networks) are opaque handles with
 * create/destroy pairs. A handle is a registry key, not a pointer: using a
 * destroyed or wrong-type handle returns PDB_ERR_HANDLE. */

/* Number of live handles of all types (to check for leaks). */
int32_t pdb_live_handles(int64_t *count);

#ifdef __cplusplus
}
#endif

/* Further areas of the ABI, each in its own header. */
/* (area headers are included here) */
#include "pdeblocks_schemes.h"
#include "pdeblocks_multigrid.h"
#include "pdeblocks_layers.h"
#include "pdeblocks_progress.h"
#include "pdeblocks_packed.h"

#endif /* PDEBLOCKS_H */
