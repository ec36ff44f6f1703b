/*
 * pdeblocks_schemes.h — accelerated and implicit schemes of PDEBlocks:
 * FSI and FED cycles, the implicit scheme as a recurrent network, and
 * diffusing to a stopping time (paper Sec. 2.6-2.7).
 *
 * Included by pdeblocks.h; the conventions stated there hold for every function
 * here (status codes, pdb_last_error(), no output written on failure, stencils
 * as (weights, length, offset), diffusivities as (kind, lambda), signals as a
 * row-major (batch, n) array with n >= 2, out may equal f; every other output — history,
 * report, sweeps, residual — overlaps nothing, see "Aliasing" in pdeblocks.h).
 */
#ifndef PDEBLOCKS_SCHEMES_H
#define PDEBLOCKS_SCHEMES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Options of the accelerated schemes -------------------------------- */

/* When a cycle evaluates the nonlinearity Phi. */
typedef enum {
    PDB_UPDATE_PER_STEP  = 0,  /* every step is a full diffusion block (eq. 7 for FSI) */
    PDB_UPDATE_PER_CYCLE = 1,  /* g frozen at the start of each cycle: every cycle is a
                                  polynomial in K^T G K, Euclidean-stable for any g */
    PDB_UPDATE_COUNT
} pdb_update;

/* Order of the step sizes within a FED cycle. */
typedef enum {
    PDB_FED_ORDER_PLAIN  = 0,  /* tau_0 <= tau_1 <= ... (rounding errors of early steps are
                                  amplified by the large late steps: ~3e8 at L = 20) */
    PDB_FED_ORDER_KAPPA  = 1,  /* kappa-cycle of Gentzsch & Schlueter (kappa = L/2, modulus
                                  the smallest prime > L); usually good, fails for some L */
    PDB_FED_ORDER_LEJA   = 2,  /* Leja order of the roots 1/tau_i, largest step first: the
                                  recommended order; L <= PDB_MAX_LEJA_CYCLE_LENGTH */
    PDB_FED_ORDER_COUNT
} pdb_fed_order;
#define PDB_MAX_LEJA_CYCLE_LENGTH (1 << 13)

/* Longest cycle accepted by the FSI and FED functions. */
#define PDB_MAX_CYCLE_LENGTH (1 << 20)

/* ---- FSI: fast semi-iterative cycles (eq. 7) --------------------------- */

/* For each row of the (batch, n) array f, `cycles` FSI cycles of length
 * cycle_length (1 <= L <= PDB_MAX_CYCLE_LENGTH):
 *   u^{k+(l+1)/L} = a_l (u^{k+l/L} - tau K^T Phi(K u^{k+l/L})) + (1 - a_l) u^{k+(l-1)/L},
 *   a_l = (4l+2)/(2l+3), l = 0..L-1, u^{k-1/L} = u^k.
 * One cycle reaches diffusion time tau L(L+1)/3 with L block evaluations.
 * update: PDB_UPDATE_PER_STEP (eq. 7) or PDB_UPDATE_PER_CYCLE.
 * tau above the explicit bound 2/(sup g ||K||^2) fails with PDB_ERR_UNSTABLE
 * unless flags has PDB_UNCHECKED. With record_every = r > 0, history receives the
 * states after cycles 0, r, 2r, ... as a (cycles/r + 1, batch, n) array
 * (history_length must equal that size); with r = 0 history may be NULL. */
int32_t pdb_fsi(const double *f, int64_t batch, int64_t n,
                const double *weights, int64_t length, int64_t offset,
                pdb_diffusivity kind, double lambda,
                double tau, int64_t cycle_length, int64_t cycles, pdb_update update, int32_t flags,
                int64_t record_every, double *history, int64_t history_length,
                double *out);

/* ---- FED: fast explicit diffusion (Grewenig, Weickert, Bruhn 2010) ------ */

/* The cycle_length step sizes tau_i = tau_max / (2 cos^2(pi (2i+1)/(4L+2))),
 * i = 0..L-1, in the given order (PDB_FED_ORDER_*), into out[out_length]
 * (out_length must equal cycle_length). Their sum is tau_max L(L+1)/3. */
int32_t pdb_fed_step_sizes(int64_t cycle_length, double tau_max, pdb_fed_order ordering,
                           double *out, int64_t out_length);

/* For each row of f, `cycles` FED cycles: u <- u - tau_i K^T Phi(K u) for the step
 * sizes of pdb_fed_step_sizes in the given order (PDB_UPDATE_PER_STEP), or the
 * same with Phi(s) replaced by g((K u^k)^2) s, g frozen at the cycle's start
 * (PDB_UPDATE_PER_CYCLE; the recommended setting: with per-step updates single
 * steps of up to ~0.2 L^2 tau_max make nonlinear diffusion unstable).
 * tau_max above 2/(sup g ||K||^2) fails with PDB_ERR_UNSTABLE unless
 * PDB_UNCHECKED. record_every/history as for pdb_fsi (states after cycles). */
int32_t pdb_fed(const double *f, int64_t batch, int64_t n,
                const double *weights, int64_t length, int64_t offset,
                pdb_diffusivity kind, double lambda,
                double tau_max, int64_t cycle_length, int64_t cycles,
                pdb_fed_order ordering, pdb_update update, int32_t flags,
                int64_t record_every, double *history, int64_t history_length,
                double *out);

/* ---- Implicit scheme as a recurrent network (eqs. 8, 9) ---------------- */

/* Contraction bound 1/(L ||K||_2^2) of the fixed-point sweeps (L = Lipschitz
 * constant of Phi) on signals of length n >= 2; +Inf for the zero operator.
 * It is at most half the explicit bound. Not representable (weights near 1e155 or
 * 1e-155 and beyond): PDB_ERR_INVALID naming the largest weight, as pdb_stable_tau. */
int32_t pdb_contraction_tau(const double *weights, int64_t length, int64_t offset,
                            pdb_diffusivity kind, double lambda, int64_t n, double *tau);

/* For each row of f, `steps` implicit steps u^{k+1} = u^k - tau K^T Phi(K u^{k+1}),
 * each solved by fixed-point sweeps x <- u^k - tau K^T Phi(K x) from x = u^k:
 * exactly `iterations` (>= 1) sweeps when tol == 0; with tol > 0 a step stops
 * at the first sweep whose update max|x_new - x| is <= tol, or after `iterations`
 * sweeps (not an error: compare *residual with tol). One sweep = one explicit step.
 * Refuses (PDB_ERR_UNSTABLE, message with the bound) tau with
 * tau L ||K||^2 >= 1 unless flags has PDB_UNCHECKED.
 * sweeps (may be NULL): sweeps summed over the steps, the largest over the batch.
 * residual (may be NULL): the largest final update of any step and row. */
int32_t pdb_implicit(const double *f, int64_t batch, int64_t n,
                     const double *weights, int64_t length, int64_t offset,
                     pdb_diffusivity kind, double lambda,
                     double tau, int64_t steps, int64_t iterations, double tol, int32_t flags,
                     double *out, int64_t *sweeps, double *residual);

/* ---- Diffusing to a stopping time --------------------------------------- */

/* Schemes of pdb_evolve. */
typedef enum {
    PDB_SCHEME_EXPLICIT = 0,  /* pdb_explicit */
    PDB_SCHEME_FSI      = 1,  /* pdb_fsi */
    PDB_SCHEME_FED      = 2,  /* pdb_fed */
    PDB_SCHEME_IMPLICIT = 3,  /* pdb_implicit */
    PDB_SCHEME_COUNT
} pdb_scheme;

/* Bits of pdb_evolve's `set` mask: which option arguments are given (bit flags: no _COUNT).
 * Unset options are chosen by the library (default in brackets); an option set for a
 * scheme that does not use it is an error (PDB_ERR_INVALID). */
typedef enum {
    PDB_EVOLVE_HAS_TAU         = 1 << 0,  /* all: largest step (FSI: inner tau, FED:
                                             tau_max) [the bound] */
    PDB_EVOLVE_HAS_CYCLES      = 1 << 1,  /* FSI, FED: number of cycles M
                                             [max(1, min(5, floor(T/(2 tau))))] */
    PDB_EVOLVE_HAS_ORDERING    = 1 << 2,  /* FED: PDB_FED_ORDER_* [LEJA] */
    PDB_EVOLVE_HAS_UPDATE      = 1 << 3,  /* FSI, FED: PDB_UPDATE_* [FSI: PER_STEP,
                                             FED: PER_CYCLE] */
    PDB_EVOLVE_HAS_ITERATIONS  = 1 << 4,  /* implicit: sweeps per step (max) [100] */
    PDB_EVOLVE_HAS_TOL         = 1 << 5,  /* implicit: tolerance [1e-3 tau max|K^T Phi(K f)|,
                                             a thousandth of the first step's change] */
    PDB_EVOLVE_HAS_CONTRACTION = 1 << 6   /* implicit: tau as a fraction q in (0, 1)
                                             of the contraction bound [0.5] */
} pdb_evolve_option;

/* Slots of pdb_evolve's report array (doubles); the array holds PDB_EVOLVE_REPORT_COUNT. */
typedef enum {
    PDB_EVOLVE_REPORT_TAU               =  0,  /* step used (FSI: inner tau; FED: tau_max) */
    PDB_EVOLVE_REPORT_TAU_BOUND         =  1,  /* 2/(sup g ||K||^2); implicit: 1/(L ||K||^2) */
    PDB_EVOLVE_REPORT_STEPS             =  2,  /* time steps (explicit, implicit) or cycles */
    PDB_EVOLVE_REPORT_CYCLE_LENGTH      =  3,  /* L of every cycle; 1 for explicit/implicit */
    PDB_EVOLVE_REPORT_BLOCK_EVALUATIONS =  4,  /* per signal (implicit: sweeps, max over batch) */
    PDB_EVOLVE_REPORT_TIME_REACHED      =  5,  /* sum of the step sizes (= T up to rounding) */
    PDB_EVOLVE_REPORT_ORDERING          =  6,  /* FED: PDB_FED_ORDER_*; -1 otherwise */
    PDB_EVOLVE_REPORT_UPDATE            =  7,  /* FSI, FED: PDB_UPDATE_*; -1 otherwise */
    PDB_EVOLVE_REPORT_ITERATIONS        =  8,  /* implicit: sweeps per step (max); 0 otherwise */
    PDB_EVOLVE_REPORT_TOL               =  9,  /* implicit: tolerance; 0 otherwise */
    PDB_EVOLVE_REPORT_RESIDUAL          = 10,  /* implicit: largest final update of any step
                                                  (converged iff <= tol); 0 otherwise */
    PDB_EVOLVE_REPORT_COUNT
} pdb_evolve_report;
#define PDB_EVOLVE_REPORT_LENGTH PDB_EVOLVE_REPORT_COUNT /* deprecated: use PDB_EVOLVE_REPORT_COUNT; removed in the next release */

/* Evolves each row of f to diffusion time T >= 0 with the given scheme
 * (PDB_SCHEME_*), choosing the step size and counts so that the steps add up to T:
 *   explicit, implicit: steps = ceil(T/t), tau = T/steps <= t, where t is the
 *     given tau or the bound (implicit: contraction x the contraction bound);
 *   FSI, FED: M cycles of time T/M, L the smallest length whose cycle with step t
 *     reaches T/M (Grewenig et al.'s cycle-time rule), tau = 3(T/M)/(L(L+1)) <= t.
 * The option arguments are read only where their bit is in `set`. A given tau above
 * the bound fails with PDB_ERR_UNSTABLE unless flags has PDB_UNCHECKED.
 * report (may be NULL with report_length 0) receives what was chosen and done:
 * report_length >= PDB_EVOLVE_REPORT_COUNT, slots PDB_EVOLVE_REPORT_*. */
int32_t pdb_evolve(const double *f, int64_t batch, int64_t n,
                   const double *weights, int64_t length, int64_t offset,
                   pdb_diffusivity kind, double lambda,
                   double T, pdb_scheme scheme, int32_t set,
                   double tau, int64_t cycles, pdb_fed_order ordering, pdb_update update,
                   int64_t iterations, double tol, double contraction, int32_t flags,
                   double *out, double *report, int64_t report_length);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_SCHEMES_H */
