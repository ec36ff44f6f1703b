/*
 * pdeblocks_layers.h — trainable layers of PDEBlocks: residual, diffusion, FSI and
 * implicit blocks with backward passes, stability certificates, networks.
 *
 * Included by pdeblocks.h; the conventions there apply (status codes, pdb_last_error,
 * stencils as (weights, length, offset), diffusivities as (kind, lambda), row-major
 * (batch, n) float64 signals, no trap on bad input, no caller pointer kept).
 *
 * Blocks (paper equation numbers; K_c stencils with mirrored boundaries):
 *   residual   (eq. 2)  out = s2( x + sum_c W2_c s1(W1_c x + b1_c) + b2 )
 *   diffusion  (eq. 4)  out = x - tau sum_c K_c^T Phi_c(K_c x),   Phi_c(s) = g_c(s^2) s
 *   FSI        (eq. 7)  u_{l+1} = a_l (u_l - tau sum_c K_c^T Phi_c(K_c u_l)) + (1 - a_l) u_{l-1},
 *                       a_l = (4l+2)/(2l+3), u_{-1} = u_0 = x, l = 0..L-1, out = u_L
 *   implicit   (eq. 9)  u_0 = x, u_{l+1} = x - tau sum_c K_c^T Phi_c(K_c u_l), out = u_L
 *
 * A network is built by successive calls on a handle:
 *
 *     pdb_network *net;
 *     pdb_network_create(&net);
 *     pdb_network_add_diffusion(net, 0.2, PDB_TAU_FREE);           // a block ...
 *     pdb_network_add_filter(net, (double[]){-1, 1}, 2, 0,         // ... and its filters
 *                            PDB_DIFFUSIVITY_PERONA_MALIK, 0.1);
 *     pdb_network_forward(net, x, batch, n, 0, out);
 *     pdb_network_backward(net, grad_out, batch, n, grad_in, grad_params, count);
 *     pdb_network_destroy(net);
 *
 * Parameters form one flat float64 vector: the blocks' parameters in order
 * (pdb_network_block_info gives each block's slice). Within a block:
 *   diffusion/FSI/implicit: weights of K_1..K_C (offsets fixed), then each filter's
 *     diffusivity parameters — built-in kinds: log(lambda) (none for linear);
 *     learnable: logits alpha_1..J then log-contrasts rho_1..J — then one step-size
 *     parameter: tau (PDB_TAU_FREE) or theta (PDB_TAU_BOUNDED).
 *   residual: weights of W1_1..W1_C, of W2_1..W2_C, b1_1..b1_C, b2, then the
 *     log(lambda) of s1 and of s2 when they are flux activations (not linear).
 *
 * Learnable diffusivity: g(s^2) = sum_j a_j exp(-s^2/(2 lambda_j^2)) with
 *   a_j = exp(c_j)/(1 + sum_k exp(c_k)), c_j = alpha_j clamped to [-25, 25] (so the
 *   computed a_j > 0 and sum a_j < 1 hold strictly for every alpha; a clamped logit
 *   has gradient 0), and
 *   lambda_j = exp(rho_j): g stays in [0, sup g] with sup g = sum a_j < 1 for every
 *   parameter value, so Theorem 2 holds throughout training.
 *
 * Bounded step size (PDB_TAU_BOUNDED): tau = sigmoid(theta) / sum_c (sum_j |w_cj|)^2,
 *   which keeps tau * lambda_max(sum_c sup g_c K_c^T K_c) < 2 for every parameter value
 *   (||K||_2^2 <= 2 (sum_j |w_j|)^2 for a mirrored stencil).
 *
 * Thread safety: calls on one handle are serialised; distinct handles run in parallel.
 * Batch rows are processed on pdb_network_set_threads threads; results are
 * bit-identical for any thread count.
 *   - Tapes are per thread: pdb_network_backward uses the tape of the last forward pass
 *     (without PDB_FORWARD_INFERENCE) made on the *calling* thread, so threads running
 *     forward/backward pairs on one handle each get the gradients of their own pass.
 *     (A progress callback counts as the thread of the call it reports on.)
 *   - Any change of the structure or the parameters (pdb_network_add_*,
 *     pdb_network_set_parameters, a pdb_network_project_stable that changes a block), by
 *     any thread, invalidates every thread's tape: a backward pass then fails with
 *     PDB_ERR_INVALID until that thread runs forward again (with the new parameters).
 *     A failed forward pass leaves its thread without a valid tape.
 *   - A thread's tape is freed when the thread exits (or, if the handle is busy at that
 *     moment, when the handle is destroyed).
 *   - Re-entry: a call on a handle from the progress callback of a running call on the
 *     same handle returns PDB_ERR_BUSY (nothing done) instead of waiting for itself.
 *   - fork(): a child process can use the networks it inherits, even one another thread
 *     of the parent was running a pass on at the fork (that pass's work memory is
 *     dropped in the child; the tapes of the parent's other threads are dropped too). A
 *     network another thread was *changing* (building, setting parameters) at the fork is
 *     unusable in the child: every call returns PDB_ERR_BUSY saying so.
 *
 * Memory: a handle keeps its tapes and work memory (grown to the largest batch, n and
 * thread count seen) and the library keeps its worker threads, so after the first call
 * repeated forward, inference and backward passes allocate nothing (shown by
 * Tests/native/alloc_steady_state.c). Exceptions: a multi-threaded pass that starts while
 * another handle's multi-threaded pass holds the worker threads runs on Dispatch, which
 * allocates; building, pdb_network_set_parameters and the certificate calls allocate.
 *   - Tape of a recorded forward pass, per row (signal): n values for the input of every
 *     block, plus (L - 1) n for an FSI block of cycle length L or an implicit block of
 *     L sweeps (one signal per inner step: 8n bytes per sweep), (2C + 1) n for a residual
 *     block of C channels, nothing for a diffusion block; 8 bytes per value, times batch.
 *     A pass whose tape would exceed the handle's tape limit (pdb_network_set_tape_limit,
 *     default 4 GiB; never above 2^34 bytes) fails with PDB_ERR_INVALID before allocating,
 *     naming the bytes it needs and the limit.
 *   - Inference (PDB_FORWARD_INFERENCE) keeps no tape: per thread two signals plus the
 *     work memory of one block (at most a few n values), independent of L.
 */
#ifndef PDEBLOCKS_LAYERS_H
#define PDEBLOCKS_LAYERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque network handle (a registry key, not a pointer; see pdeblocks.h "Handles"). */
typedef struct pdb_network pdb_network;

/* ---- Constants ---------------------------------------------------------- */
/* Block kinds (pdb_network_block_info). */
typedef enum {
    PDB_BLOCK_RESIDUAL  = 0,
    PDB_BLOCK_DIFFUSION = 1,
    PDB_BLOCK_FSI       = 2,
    PDB_BLOCK_IMPLICIT  = 3,
    PDB_BLOCK_COUNT
} pdb_block_kind;

/* Step-size modes. PDB_TAU_FREE: the tau argument is tau (>= 0 for a stable block).
 * PDB_TAU_BOUNDED: the tau argument is the fraction sigmoid(theta) in (0, 1) of the
 * differentiable bound 1/sum_c (sum_j |w_cj|)^2 (see above). */
typedef enum {
    PDB_TAU_FREE    = 0,
    PDB_TAU_BOUNDED = 1,
    PDB_TAU_COUNT
} pdb_tau_mode;

/* Activations of residual blocks. PDB_ACTIVATION_FLUX is tau*Phi(s) = tau g(s^2) s for
 * a built-in diffusivity (kind, lambda); its log(lambda) is a learned parameter. */
typedef enum {
    PDB_ACTIVATION_IDENTITY = 0,
    PDB_ACTIVATION_RELU     = 1,  /* derivative at 0 taken as 0 */
    PDB_ACTIVATION_TANH     = 2,
    PDB_ACTIVATION_FLUX     = 3,
    PDB_ACTIVATION_COUNT
} pdb_activation;

/* How a residual block's second stencil S acts: W2_c = S or W2_c = S^T (exact matrix
 * transpose; W2 = -W1^T, the diffusion structure, is S = -W1 with PDB_W2_TRANSPOSED). */
typedef enum {
    PDB_W2_CONVOLUTION = 0,
    PDB_W2_TRANSPOSED  = 1,
    PDB_W2_COUNT
} pdb_w2_mode;

/* Bits of pdb_network_forward's `flags` (bit flags: no _COUNT). */
typedef enum {
    PDB_FORWARD_INFERENCE = 1 << 0  /* do not keep what the backward pass needs */
} pdb_forward_flag;

/* Default of pdb_network_set_tape_limit: 4 GiB. */
#define PDB_NETWORK_DEFAULT_TAPE_LIMIT ((int64_t)1 << 32)

/* ---- Building ----------------------------------------------------------- */

/* A new, empty network. Release it with pdb_network_destroy. */
int32_t pdb_network_create(pdb_network **net);
int32_t pdb_network_destroy(pdb_network *net);

/* Appends a diffusion block without filters; add them with pdb_network_add_filter /
 * pdb_network_add_learnable_filter (a block needs at least one before it runs). */
int32_t pdb_network_add_diffusion(pdb_network *net, double tau, pdb_tau_mode tau_mode);
/* Appends an FSI block: one cycle of cycle_length (1..10000) extrapolated steps (eq. 7). */
int32_t pdb_network_add_fsi(pdb_network *net, double tau, pdb_tau_mode tau_mode, int64_t cycle_length);
/* Appends an implicit block: iterations (1..10000) fixed-point sweeps (eq. 9). */
int32_t pdb_network_add_implicit(pdb_network *net, double tau, pdb_tau_mode tau_mode, int64_t iterations);
/* Adds a filter K with a built-in diffusivity (kind, lambda) to the last block, which must
 * be a diffusion, FSI or implicit block (at most 1024 filters). */
int32_t pdb_network_add_filter(pdb_network *net, const double *weights, int64_t length, int64_t offset,
                               pdb_diffusivity kind, double lambda);
/* Adds a filter K with a learnable diffusivity: mix_weights[terms] (each > 0, sum < 1) and
 * contrasts[terms] (each > 0), 1 <= terms <= 64. */
int32_t pdb_network_add_learnable_filter(pdb_network *net, const double *weights, int64_t length, int64_t offset,
                                         const double *mix_weights, const double *contrasts, int64_t terms);
/* Appends a residual block (eq. 2) without channels, with activations s1, s2 given as
 * (activation, diffusivity kind, lambda, tau) — kind/lambda/tau are used by
 * PDB_ACTIVATION_FLUX only — and output bias b2. Add channels with
 * pdb_network_add_residual_channel. */
int32_t pdb_network_add_residual(pdb_network *net,
                                 pdb_activation sigma1, pdb_diffusivity sigma1_kind, double sigma1_lambda, double sigma1_tau,
                                 pdb_activation sigma2, pdb_diffusivity sigma2_kind, double sigma2_lambda, double sigma2_tau,
                                 double b2);
/* Adds a channel to the last block, which must be a residual block: stencils W1 and S
 * (W2 = S or S^T by w2_mode) and the bias b1. */
int32_t pdb_network_add_residual_channel(pdb_network *net,
                                         const double *w1, int64_t length1, int64_t offset1,
                                         const double *w2, int64_t length2, int64_t offset2,
                                         pdb_w2_mode w2_mode, double b1);

/* ---- Inspecting and parameters ----------------------------------------- */

int32_t pdb_network_block_count(pdb_network *net, int64_t *count);
/* Kind (a pdb_block_kind) of block `index` and its slice of the parameter vector. */
int32_t pdb_network_block_info(pdb_network *net, int64_t index, int32_t *kind,
                               int64_t *parameter_offset, int64_t *parameter_count);
int32_t pdb_network_parameter_count(pdb_network *net, int64_t *count);
/* Copies the flat parameter vector into out[count]; count must equal the parameter count. */
int32_t pdb_network_get_parameters(pdb_network *net, double *out, int64_t count);
/* Sets all parameters from p[count]; validates everything first (finite values, usable
 * contrasts) and changes nothing on failure. Invalidates every thread's recorded forward
 * pass (see "Thread safety"). */
int32_t pdb_network_set_parameters(pdb_network *net, const double *p, int64_t count);
/* Threads for batch rows (0 = one per online processor, the default; at most 4096). The
 * count is an int32_t, as in every thread-count argument of the ABI (it was an int64_t
 * here before 0.1.1). */
int32_t pdb_network_set_threads(pdb_network *net, int32_t threads);
/* The most bytes the tape of a recorded forward pass may take (1 <= bytes <= 2^34; default
 * PDB_NETWORK_DEFAULT_TAPE_LIMIT = 4 GiB). See "Memory" above for what a tape holds. */
int32_t pdb_network_set_tape_limit(pdb_network *net, int64_t bytes);
/* One line per block (kind, step size, filters, diffusivities) into text[capacity]
 * (NUL-terminated, truncated); *length receives the full length. text == NULL with
 * capacity == 0 is a size query. */
int32_t pdb_network_describe(pdb_network *net, char *text, int64_t capacity, int64_t *length);

/* ---- Running ------------------------------------------------------------ */

/* out = network(x) for each row of the (batch, n) array x (n >= 2); out must not overlap x.
 * Records what pdb_network_backward needs unless flags has PDB_FORWARD_INFERENCE. */
int32_t pdb_network_forward(pdb_network *net, const double *x, int64_t batch, int64_t n,
                            int32_t flags, double *out);
/* Backward pass of the calling thread's last recorded forward pass: given
 * grad_out = dL/d(out), writes grad_in = dL/dx (batch, n) and grad_params =
 * dL/d(parameters) summed over the batch (param_count values, the parameter count).
 * Fails (PDB_ERR_INVALID) when this thread recorded no forward pass since the network or
 * its parameters last changed (by any thread), or the shape differs. */
int32_t pdb_network_backward(pdb_network *net, const double *grad_out, int64_t batch, int64_t n,
                             double *grad_in, double *grad_params, int64_t param_count);

/* ---- Stability (Theorem 2) ---------------------------------------------- */

/* Whether every block is certified on signals of length n (2 <= n <= 2^26); then
 * ||network(x)||_2 <= ||x||_2 for every x. *first_failure: index of the first
 * uncertified block, or -1. The bounds are computed at any n in time independent of n
 * beyond the boundary rows; a bound that is not a finite positive double (filter weights
 * near 1e155 or 1e-155 and beyond) is PDB_ERR_INVALID naming the largest filter weight. */
int32_t pdb_network_certificate(pdb_network *net, int64_t n, int32_t *certified, int64_t *first_failure);
/* The certificate of block `index`: *certified, its step size *tau (NaN if none), the
 * certified bounds *tau_bound = 2/lambda_max(sum_c sup g_c K_c^T K_c) (for one filter:
 * 2/(sup g ||K||^2), Theorem 2 sharpened) and *tau_bound_lipschitz (the paper's form with
 * the Lipschitz constant of Phi), NaN when no bound applies, and a reason naming the
 * result or every failing condition (text convention of pdb_network_describe).
 * FSI blocks are certified for linear diffusivities (FED cycle) or L = 1; implicit blocks
 * for L = 1, or linear diffusivities with tau <= tau_bound (= half of Theorem 2's). A
 * residual block is certified iff it has the diffusion structure W2 = -W1^T, s1 = tau Phi,
 * s2 = identity, zero biases, and tau within the bound. */
int32_t pdb_network_block_certificate(pdb_network *net, int64_t index, int64_t n, int32_t *certified,
                                      double *tau, double *tau_bound, double *tau_bound_lipschitz,
                                      char *reason, int64_t capacity, int64_t *reason_length);
/* Projects every free step size onto [0, margin * tau_bound] of its block (0 < margin <= 1):
 * after an optimiser step this restores the guarantee. *changed: blocks modified. */
int32_t pdb_network_project_stable(pdb_network *net, int64_t n, double margin, int64_t *changed);

/* ---- Files --------------------------------------------------------------- */

/* Saves the network (structure and parameters, bit-exact) to path. path is a byte string
 * used as given (not decoded: any bytes but NUL, fewer than 4096). The write is atomic: a
 * new file with a unique name (".<name>.<random>.tmp", created with O_EXCL) in the
 * target's directory is written, fsync'ed and renamed over the target, so a concurrent
 * reader sees the old or the new file, complete, and concurrent saves never share a
 * temporary file; on failure the temporary file is removed and the target is untouched.
 * A symbolic link (chain) is followed: its final target is replaced and the links stay
 * (a dangling link creates its target). A path that exists and is not a regular file
 * (directory, FIFO, device, socket) fails with PDB_ERR_IO naming what it is. An existing
 * target keeps its permission bits; a new one gets 0666 minus the umask.
 * Format v1, little-endian:
 *   "PDBNETv\0" | u32 version=1 | u32 0 | u64 payload length P | payload | u64 FNV-1a-64
 *   of all preceding bytes. Payload: u32 block count, then per block u32 kind and its
 *   fields (documented in Sources/PDEBlocks/Layers/NetworkFile.swift). */
int32_t pdb_network_save(pdb_network *net, const char *path);
/* Loads a saved network into a new handle (path as for pdb_network_save; only a regular
 * file is read: a FIFO or device fails with PDB_ERR_IO instead of blocking). A truncated,
 * corrupted (checksum) or invalid file fails with PDB_ERR_IO and a message naming the problem. */
int32_t pdb_network_load(const char *path, pdb_network **net);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_LAYERS_H */
