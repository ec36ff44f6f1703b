/*
 * pdeblocks.h — C ABI of PDEBlocks (libpdeblocks.so).
 *
 * Numerical PDE schemes as neural-network building blocks, after Alt, Peter,
 * Weickert, Schrader: "Translating Numerical Concepts for PDEs into Neural
 * Architectures" (SSVM 2021). Equation numbers below refer to that paper.
 *
 * Conventions (every entry point):
 *   - Returns a status (pdb_status): PDB_OK (0) or a negative PDB_ERR_* code. On failure
 *     pdb_last_error() gives a message, and no output has been written.
 *   - Nothing traps or aborts the process, whatever the arguments (running out
 *     of memory included: PDB_ERR_MEMORY).
 *   - Arrays are (pointer, length) pairs of float64; a batch of signals is a
 *     row-major (batch, n) array. The library never keeps a caller's pointer.
 *   - A stencil K is (weights, length, offset): (K u)_i = sum_j w_j u~_{i+offset+j}
 *     with the half-sample mirror extension u~_{-1-k} = u_k, u~_{n+k} = u_{n-1-k}.
 *     K^T is the exact matrix transpose of K (boundary rows included).
 *   - A diffusivity is (kind, lambda): kind is a pdb_diffusivity, one of PDB_DIFFUSIVITY_*,
 *     lambda > 0 the contrast parameter.
 *   - Thread safety: every function may be called from any number of threads at
 *     once; the last-error message is per thread.
 *   - fork(): the child may call every function, whatever the parent's other threads
 *     were doing in the library at the fork (fork() waits for the library's short
 *     internal critical sections, never for a running call; the worker threads are
 *     started again in the child when a call needs them). Networks: see
 *     pdeblocks_layers.h. Not covered: returning into the library from a progress
 *     callback in which the child was forked (exit or exec there instead).
 *   - Aliasing: an output (array or scalar) must not share a single byte with an
 *     input or with another output of the same call, judged by the byte extents the
 *     call declares (pointer + length x element size; partial overlap included).
 *     The only exception is an output documented as "may equal" an input (e.g.
 *     "out may equal f"): it may be exactly that input's memory (same address, same
 *     extent) and is then computed in place, with the result of separate buffers.
 *     Any other overlap fails with PDB_ERR_INVALID, a message naming both arguments,
 *     and nothing written. Inputs may overlap each other freely.
 */
#ifndef PDEBLOCKS_H
#define PDEBLOCKS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Codes -------------------------------------------------------------
 * Every family of codes is a typed enum. The families are append-only: a value, once
 * released, keeps its number and meaning; new members go before the family's _COUNT
 * (families that are enumerations: 0 .. _COUNT-1 are all valid) or, for families of bit
 * flags (no _COUNT), take a new bit. Entry points take these types where an argument is
 * one code (they are int-sized: the ABI is that of int32_t); masks of bits, arrays of
 * codes and output codes stay int32_t. pdb_enum_name() names every member. */

/* Status codes: every entry point returns PDB_OK or one of the PDB_ERR_* below. */
typedef enum {
    PDB_OK                =   0,
    PDB_ERR_NULL          =  -1,  /* a required pointer is NULL */
    PDB_ERR_INVALID       =  -2,  /* an argument is out of its domain */
    PDB_ERR_NONFINITE     =  -3,  /* an input array holds NaN or +-Inf, or a result would
                                     (overflow beyond double precision; the message names
                                     the scheme or solver and the cause) */
    PDB_ERR_UNSTABLE      =  -4,  /* step size above the stability/contraction bound */
    PDB_ERR_NOT_CONVERGED =  -5,  /* iteration limit reached before the tolerance */
    PDB_ERR_HANDLE        =  -6,  /* NULL, destroyed or wrong-type handle */
    PDB_ERR_IO            =  -7,  /* file could not be read/written, or is corrupt */
    PDB_ERR_CANCELLED     =  -8,  /* cancelled by a progress callback */
    PDB_ERR_MEMORY        =  -9,  /* memory for a buffer sized by the arguments (a
                                   * workspace, hierarchy, tape, copy of filters...)
                                   * could not be allocated, or its size overflows;
                                   * the message gives the byte count. The call
                                   * changed nothing and the process goes on. */
    /* The handle is in use by a call that is still running and owns it: a re-entrant call
     * (e.g. from the progress callback of a running call on the same network), or, in a
     * fork() child, a network that another (vanished) thread was changing at the fork.
     * Nothing was done; the handle is unchanged. */
    PDB_ERR_BUSY          = -10,
    PDB_ERR_INTERNAL      = -99   /* a bug: please report */
} pdb_status;

/* Diffusivities g(s^2) (lambda > 0). */
typedef enum {
    PDB_DIFFUSIVITY_LINEAR                = 0,  /* g = 1 */
    PDB_DIFFUSIVITY_PERONA_MALIK          = 1,  /* g = exp(-s^2/(2 lambda^2)) */
    PDB_DIFFUSIVITY_PERONA_MALIK_RATIONAL = 2,  /* g = 1/(1 + s^2/lambda^2) */
    PDB_DIFFUSIVITY_CHARBONNIER           = 3,  /* g = 1/sqrt(1 + s^2/lambda^2) */
    PDB_DIFFUSIVITY_WEICKERT              = 4,  /* g = 1 - exp(-3.31488/(s/lambda)^8), g(0) = 1 */
    PDB_DIFFUSIVITY_COUNT
} pdb_diffusivity;

/* Stability bounds (Theorem 2). */
typedef enum {
    PDB_BOUND_SUP_G     = 0,  /* tau <= 2/(sup g * ||K||_2^2)  (sharper; default) */
    PDB_BOUND_LIPSCHITZ = 1,  /* tau <= 2/(L * ||K||_2^2), L = Lipschitz constant of Phi */
    PDB_BOUND_COUNT
} pdb_bound;

/* Bits of the `flags` mask of the scheme entry points (bit flags: no _COUNT). */
typedef enum {
    PDB_UNCHECKED = 1 << 0  /* skip the stability check: allow unstable step sizes */
} pdb_scheme_flag;

/* The code families, for pdb_enum_name: PDB_ENUM_<FAMILY> names the family pdb_<family>
 * (PDB_ENUM_SMOOTHER: pdb_smoother; the header that defines it in brackets). */
typedef enum {
    PDB_ENUM_STATUS         =  0,  /* pdb_status */
    PDB_ENUM_DIFFUSIVITY    =  1,  /* pdb_diffusivity */
    PDB_ENUM_BOUND          =  2,  /* pdb_bound */
    PDB_ENUM_SCHEME_FLAG    =  3,  /* pdb_scheme_flag: bits */
    PDB_ENUM_UPDATE         =  4,  /* pdb_update [pdeblocks_schemes.h] */
    PDB_ENUM_FED_ORDER      =  5,  /* pdb_fed_order [schemes] */
    PDB_ENUM_SCHEME         =  6,  /* pdb_scheme [schemes] */
    PDB_ENUM_EVOLVE_OPTION  =  7,  /* pdb_evolve_option: bits [schemes] */
    PDB_ENUM_EVOLVE_REPORT  =  8,  /* pdb_evolve_report [schemes] */
    PDB_ENUM_GRID           =  9,  /* pdb_grid [pdeblocks_multigrid.h] */
    PDB_ENUM_LU_STRATEGY    = 10,  /* pdb_lu_strategy [multigrid] */
    PDB_ENUM_SMOOTHER       = 11,  /* pdb_smoother [multigrid] */
    PDB_ENUM_CYCLE          = 12,  /* pdb_cycle [multigrid] */
    PDB_ENUM_TRANSFER       = 13,  /* pdb_transfer [multigrid] */
    PDB_ENUM_SEMI_SOLVER    = 14,  /* pdb_semi_solver [multigrid] */
    PDB_ENUM_UNET_BLOCK     = 15,  /* pdb_unet_block [multigrid] */
    PDB_ENUM_BLOCK_KIND     = 16,  /* pdb_block_kind [pdeblocks_layers.h] */
    PDB_ENUM_TAU_MODE       = 17,  /* pdb_tau_mode [layers] */
    PDB_ENUM_ACTIVATION     = 18,  /* pdb_activation [layers] */
    PDB_ENUM_W2_MODE        = 19,  /* pdb_w2_mode [layers] */
    PDB_ENUM_FORWARD_FLAG   = 20,  /* pdb_forward_flag: bits [layers] */
    PDB_ENUM_ENUM_FAMILY    = 21,  /* pdb_enum_family: this enum */
    PDB_ENUM_COUPLING       = 22,  /* pdb_coupling [pdeblocks_image_schemes.h] */
    PDB_ENUM_COUNT
} pdb_enum_family;

/* ---- Errors and version ------------------------------------------------ */

/* Message of the most recent failed call on this thread ("" if none). Valid
 * until the next failing call on the same thread. Never NULL. */
const char *pdb_last_error(void);

/* Semantic version of the library and its ABI. */
int32_t pdb_version(int32_t *major, int32_t *minor, int32_t *patch);
/* The version as a static string, e.g. "0.1.0". Never NULL. */
const char *pdb_version_string(void);
/* How this copy of the library was built, as a static string of space-separated key=value
 * pairs: "version=0.1.0 variant=v4 cpu=haswell+avx512 fma=1 arch=x86_64". variant is the
 * CPU variant (baseline, v3 = x86-64-v3, v4 = x86-64-v4 with AVX-512, native = built for the
 * build machine, unspecified = built without the Makefile's flags, e.g. as a SwiftPM
 * dependency); C programs linking libpdeblocks.so get the variant it chose at load time
 * (PDEBLOCKS_CPU=baseline|v3|v4 forces one). Never NULL. */
const char *pdb_build_info(void);

/* Names of codes. pdb_enum_name(family, code) is the static, lowercase name of the member
 * `code` of `family`: its C name without the family's common prefix, e.g.
 * pdb_enum_name(PDB_ENUM_SMOOTHER, PDB_SMOOTHER_GAUSS_SEIDEL) = "gauss_seidel",
 * pdb_enum_name(PDB_ENUM_STATUS, PDB_ERR_NULL) = "err_null", and for bit families the name
 * of one bit (PDB_EVOLVE_HAS_TAU: "tau"). NULL for an unknown family or a code that is not
 * a member (a _COUNT value, a combination of bits, 0 for a bit family). Never fails, never
 * sets pdb_last_error(). pdb_status_string(s) is pdb_enum_name(PDB_ENUM_STATUS, s). */
const char *pdb_enum_name(pdb_enum_family family, int32_t code);
const char *pdb_status_string(int32_t status);

/* ---- Stencils (operators K with mirrored boundaries) ------------------- */

/* out = K u for each row of the (batch, n) array u (out must not overlap u: not in place). */
int32_t pdb_stencil_apply(const double *weights, int64_t length, int64_t offset,
                          const double *u, int64_t batch, int64_t n, double *out);
/* out = K^T v for each row (exact transpose: <K u, v> = <u, K^T v>); out must not overlap v. */
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
const char *pdb_diffusivity_name(pdb_diffusivity kind);
/* out[i] = g(s2[i]); s2 >= 0. Elementwise: out may equal s2 (in place), as out may equal s
 * in the two functions below. */
int32_t pdb_diffusivity_g(pdb_diffusivity kind, double lambda, const double *s2, int64_t count, double *out);
/* out[i] = Phi(s[i]) = g(s[i]^2) s[i]  (flux, eq. 3; the activation of Theorem 1 is tau*Phi). */
int32_t pdb_diffusivity_flux(pdb_diffusivity kind, double lambda, const double *s, int64_t count, double *out);
/* out[i] = Phi'(s[i]). */
int32_t pdb_diffusivity_flux_derivative(pdb_diffusivity kind, double lambda, const double *s, int64_t count, double *out);
/* sup g and the Lipschitz constant L = sup |Phi'| (computed, independent of lambda). */
int32_t pdb_diffusivity_constants(pdb_diffusivity kind, double lambda, double *sup_g, double *lipschitz);

/* ---- Explicit scheme: a chain of diffusion blocks (eq. 4, Theorems 1-2) -- */

/* Largest stable step size 2/(c ||K||_2^2), c = sup g (PDB_BOUND_SUP_G) or the
 * Lipschitz constant (PDB_BOUND_LIPSCHITZ), for signals of length n >= 2.
 * +Inf for the zero operator. Rounded down, never above the true bound. When the
 * bound is not a finite positive double (weights near 1e155 and beyond make it
 * underflow, near 1e-155 and below overflow) PDB_ERR_INVALID with a message naming
 * the largest weight -- never a silent 0. */
int32_t pdb_stable_tau(const double *weights, int64_t length, int64_t offset,
                       pdb_diffusivity kind, double lambda, int64_t n, pdb_bound bound, double *tau);

/* u^{k+1} = u^k - tau K^T Phi(K u^k), k = 0..steps-1, u^0 = f, for each row of
 * the (batch, n) array f (n >= 2); result in out[batch*n] (out may equal f).
 * tau above the PDB_BOUND_SUP_G bound fails with PDB_ERR_UNSTABLE unless flags
 * has PDB_UNCHECKED. With record_every > 0, history[history_length] receives the
 * states u^0, u^r, u^{2r}, ... as an (steps/r + 1, batch, n) array
 * (history_length must equal that size); with record_every == 0 history may be NULL. */
int32_t pdb_explicit(const double *f, int64_t batch, int64_t n,
                     const double *weights, int64_t length, int64_t offset,
                     pdb_diffusivity kind, double lambda,
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
#include "pdeblocks_images.h"
#include "pdeblocks_image_schemes.h"
#include "pdeblocks_image_eed.h"
#include "pdeblocks_image_layers.h"
#include "pdeblocks_image_network.h"

#endif /* PDEBLOCKS_H */
