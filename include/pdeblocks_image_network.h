/*
 * pdeblocks_image_network.h — networks of 2D blocks on images (included by pdeblocks.h; the
 * conventions of pdeblocks.h, pdeblocks_images.h and pdeblocks_image_layers.h apply).
 *
 * An image network is a sequence of blocks acting on (batch, height, width) float64 images,
 * every block receiving the network input f = x as its data term:
 *     u_0 = x,  u_{i+1} = block_i(u_i; x),  output u_L.
 * Blocks:
 *   - diffusion: u - tau (sum_c K_c^T Phi_c(K u) + mu (u - f)), described exactly as for the
 *     pdb_image_block_* entry points (filters, filter_shapes, coupling, kinds, terms, flags)
 *     with its packed parameter vector;
 *   - fsi: one FSI cycle of L extrapolated steps of a diffusion block (pdb_image_network_add_fsi);
 *   - residual: u - sum_c W2_c^T sigma(W1_c u + b_c), two free banks of C 2D stencils
 *     (shapes w1_shapes, w2_shapes: 4 int64 per filter), sigma a pdb_activation value (identity,
 *     relu or tanh); parameters: the weights of W1_1..W1_C, then of W2_1..W2_C (row-major
 *     each), then b_1..b_C. It ignores f.
 * The network's parameter vector is the blocks' vectors in order.
 *
 * Training: pdb_image_network_forward without PDB_FORWARD_INFERENCE records the pass (the
 * input of every block) in the handle; pdb_image_network_backward then gives
 * grad_in = dL/dx (through the chain and every data term) and grad_params = dL/dparams
 * summed over the batch. The handle keeps ONE recorded pass (not one per thread): the last
 * successful training forward pass on the handle, from any thread; any change of the
 * structure or the parameters, and a failed forward pass, discard it.
 * pdb_image_network_loss_and_gradient does both for the mean-squared error
 *     L = 1/2 mean((network(x) - target)^2)  (the mean over all batch*height*width values).
 * Inference (PDB_FORWARD_INFERENCE) is bit-identical to the training pass's output.
 * Results are bit-identical for every thread count (pdb_image_network_set_threads; 0 = one
 * per processor). Repeated calls with the same shapes allocate nothing.
 *
 * Certificates (Theorem 2): a diffusion block is certified on height x width images iff
 * 0 <= tau <= 2/(sup g lambda_max(sum_c K_c^T K_c) + mu) (pdb_image_block_tau_bound); then
 * u -> u - tau (sum_c K_c^T Phi_c(K u) + mu u) does not increase the Euclidean norm. A
 * residual block is never certified (free banks: the reason says so). An FSI block is certified
 * for L = 1 (a step of size 2 tau/3: tau <= 3/2 of the diffusion bound) and for linear
 * diffusivities (the FED cycle: tau <= the diffusion bound); otherwise it is not (the
 * extrapolation weights a_l > 1 void Theorem 2's argument).
 *
 * Files: pdb_image_network_save writes the network file format version 2 (image network);
 * pdb_image_network_load refuses a signal network's file (PDB_ERR_IO) and vice versa.
 *
 * Errors as in pdeblocks.h: PDB_ERR_HANDLE for a NULL, destroyed or wrong-type handle,
 * PDB_ERR_NULL, PDB_ERR_INVALID (bad size, description, count, empty network, no recorded
 * pass, overlap), PDB_ERR_NONFINITE (NaN/Inf input or parameter, overflowing result),
 * PDB_ERR_IO, PDB_ERR_BUSY (a call on the handle from a progress callback of a call on it).
 * On failure nothing is written and the network is unchanged.
 */
#ifndef PDEBLOCKS_IMAGE_NETWORK_H
#define PDEBLOCKS_IMAGE_NETWORK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pdb_image_network pdb_image_network;

/* A new empty image network into *net (free with pdb_image_network_destroy). */
int32_t pdb_image_network_create(pdb_image_network **net);
int32_t pdb_image_network_destroy(pdb_image_network *net);

/* Appends a diffusion block (description and params[count] as pdb_image_block_forward). */
int32_t pdb_image_network_add_diffusion(pdb_image_network *net, int64_t filters, const int64_t *filter_shapes,
                                        int32_t coupling, const int32_t *kinds, const int64_t *terms, int32_t flags,
                                        const double *params, int64_t count);

/* Appends an FSI block: one cycle (paper eq. 7) of cycle_length (1...64) extrapolated steps
 *     u_{l+1} = a_l S(u_l; f) + (1 - a_l) u_{l-1},  a_l = (4l+2)/(2l+3),  u_{-1} = u_0 = u,
 * of the diffusion block S described by the remaining arguments exactly as for
 * pdb_image_network_add_diffusion (the parameters are S's). */
int32_t pdb_image_network_add_fsi(pdb_image_network *net, int64_t cycle_length, int64_t filters,
                                  const int64_t *filter_shapes, int32_t coupling, const int32_t *kinds,
                                  const int64_t *terms, int32_t flags, const double *params, int64_t count);

/* Appends a residual block of `channels` channels (1...1024): w1_shapes and w2_shapes hold
 * 4 int64 per filter (rows, columns, oy, ox; sides 1...1024), activation a pdb_activation
 * other than PDB_ACTIVATION_FLUX, params[count] the block's parameters (see above). */
int32_t pdb_image_network_add_residual(pdb_image_network *net, int64_t channels, const int64_t *w1_shapes,
                                       const int64_t *w2_shapes, int32_t activation, const double *params,
                                       int64_t count);

int32_t pdb_image_network_block_count(pdb_image_network *net, int64_t *count);
int32_t pdb_image_network_parameter_count(pdb_image_network *net, int64_t *count);
/* Kind of block `index` (PDB_BLOCK_DIFFUSION for a diffusion block, PDB_BLOCK_RESIDUAL for a
 * residual block, PDB_BLOCK_FSI for an FSI block; pdb_block_kind of pdeblocks_layers.h) and its
 * slice of the parameter vector. */
int32_t pdb_image_network_block_info(pdb_image_network *net, int64_t index, int32_t *kind,
                                     int64_t *parameter_offset, int64_t *parameter_count);
/* out[count] = the parameters; count must equal the parameter count. */
int32_t pdb_image_network_get_parameters(pdb_image_network *net, double *out, int64_t count);
/* Sets all parameters (validated block by block; nothing changes on failure). */
int32_t pdb_image_network_set_parameters(pdb_image_network *net, const double *params, int64_t count);
/* Threads for the images of a batch: 0...4096, 0 = one per online processor. */
int32_t pdb_image_network_set_threads(pdb_image_network *net, int32_t threads);

/* out = network(x), both (batch, height, width); flags: 0 or PDB_FORWARD_INFERENCE. */
int32_t pdb_image_network_forward(pdb_image_network *net, const double *x, int64_t batch, int64_t height,
                                  int64_t width, int32_t flags, double *out);

/* For grad_out = dL/dout of the recorded pass's shape: grad_in (batch, height, width) and
 * grad_params[param_count] (param_count = the parameter count). */
int32_t pdb_image_network_backward(pdb_image_network *net, const double *grad_out, int64_t batch, int64_t height,
                                   int64_t width, double *grad_in, double *grad_params, int64_t param_count);

/* *loss = 1/2 mean((network(x) - target)^2) and grad_params[param_count] = dL/dparams, in one
 * forward and one backward pass (recorded like a training forward pass). */
int32_t pdb_image_network_loss_and_gradient(pdb_image_network *net, const double *x, const double *target,
                                            int64_t batch, int64_t height, int64_t width, double *loss,
                                            double *grad_params, int64_t param_count);

/* Whether every block is certified on height x width images, and the first block that is
 * not (-1 when all are). */
int32_t pdb_image_network_certificate(pdb_image_network *net, int64_t height, int64_t width, int32_t *certified,
                                      int64_t *first_failure);

/* Block `index`'s certificate: certified (0/1), tau and the certified bound (NaN for a
 * residual block), and the reason as UTF-8 text (reason[capacity], NUL-terminated and
 * truncated; *reason_length = its full length; reason may be NULL when capacity is 0). */
int32_t pdb_image_network_block_certificate(pdb_image_network *net, int64_t index, int64_t height, int64_t width,
                                            int32_t *certified, double *tau, double *tau_bound, char *reason,
                                            int64_t capacity, int64_t *reason_length);

/* Saves atomically to `path` (format version 2). */
int32_t pdb_image_network_save(pdb_image_network *net, const char *path);
/* Loads an image network saved by pdb_image_network_save into a new handle *net. */
int32_t pdb_image_network_load(const char *path, pdb_image_network **net);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGE_NETWORK_H */
