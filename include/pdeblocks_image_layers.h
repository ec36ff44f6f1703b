/*
 * pdeblocks_image_layers.h — a trainable 2D diffusion block on images, forward and backward
 * (included by pdeblocks.h; its conventions and those of pdeblocks_images.h apply).
 *
 *     u_out = u - tau * ( sum_c K_c^T Phi_c(K u) + mu (u - f) )
 *
 * over a bank of C 2D stencils K_c (half-sample mirror), f the block's data input, and
 *     PDB_COUPLING_ISOTROPIC:   Phi_c = g(sum_d (K_d u)^2) K_c u   (one diffusivity)
 *     PDB_COUPLING_CHANNELWISE: Phi_c = g_c((K_c u)^2) K_c u       (one per filter)
 *
 * The block is described by (filters, filter_shapes, coupling, kinds, terms, flags) and a
 * packed parameter vector params[count], in this order:
 *   1. the filters' weights, row-major, one filter after the other (shapes in filter_shapes,
 *      4 int64 per filter as in pdeblocks_images.h). With PDB_IMAGE_BLOCK_ZERO_MEAN the
 *      filters used are w - mean(w) (zero-sum, as TNRD) and the gradient is projected alike;
 *   2. per diffusivity d (D = 1 for isotropic, D = C for channelwise): terms[d] = 0 is the
 *      built-in kind kinds[d] (a pdb_diffusivity) with one parameter rho = log(lambda)
 *      (none for PDB_DIFFUSIVITY_LINEAR); terms[d] = J in 1..64 is the learnable mixture
 *      g = sum_j a_j exp(-s^2/(2 lambda_j^2)) with 2J parameters: logits alpha_1..J
 *      (a = softmax of (alpha, 0), alpha clipped to [-25, 25]) then rho_j = log(lambda_j);
 *      kinds[d] is then ignored, except that kinds[d] = PDB_IMAGE_DIFFUSIVITY_RBF with
 *      terms[d] = J in 2..64 is the RBF diffusivity (below) with J + 2 parameters
 *      c_0..c_{J-1}, b, rho. terms may be NULL (every diffusivity built-in);
 *   3. tau;
 *   4. with PDB_IMAGE_BLOCK_REACTION only, m with mu = softplus(m) = log(1 + e^m) > 0
 *      (without it mu = 0 and f is not read; it may be NULL).
 * The RBF diffusivity (PDB_IMAGE_DIFFUSIVITY_RBF, valid only here and in image networks):
 *     x = |s|/lambda, lambda = exp(rho),
 *     h(x) = b + sum_{j=0}^{J-1} c_j exp(-(x - x_j)^2/(2 gamma^2)), x_j = 3j/(J-1), gamma = 3/(J-1),
 *     g = sigmoid(h) = 1/(1 + exp(-h))
 * (isotropic: s^2 = sum_d (K_d u)^2), so 0 <= g <= 1 for every parameter value (c_j and b act
 * clipped to [-1e300, 1e300], gradient 0 beyond) and g need not be monotone; its sup g for the
 * bound below is sigmoid(b + sum_j max(c_j, 0)), rounded up.
 * With PDB_IMAGE_BLOCK_TAU_BOUNDED the passes refuse (PDB_ERR_INVALID) a tau outside
 * [0, pdb_image_block_tau_bound], the certified 2/(sup g * lambda_max(sum K_c^T K_c) + mu).
 *
 * Errors: PDB_ERR_NULL for a required NULL array, PDB_ERR_INVALID for a bad size, count,
 * description, parameter (e.g. a log-contrast whose exp underflows) or an overlap,
 * PDB_ERR_NONFINITE for a NaN/Inf input or parameter, or a result beyond double precision
 * (finite input that overflows, e.g. values near 1e308). On failure nothing is written. No
 * output may overlap an input or another output (not in place).
 */
#ifndef PDEBLOCKS_IMAGE_LAYERS_H
#define PDEBLOCKS_IMAGE_LAYERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of the `flags` of the image-block entry points. */
#define PDB_IMAGE_BLOCK_ZERO_MEAN   1  /* filters projected to zero mean */
#define PDB_IMAGE_BLOCK_REACTION    2  /* the term mu (u - f), mu = softplus(m) learned */
#define PDB_IMAGE_BLOCK_TAU_BOUNDED 4  /* tau must stay within the certified bound */

/* kinds[d] of the RBF diffusivity (with terms[d] = J in 2..64); not a pdb_diffusivity. */
#define PDB_IMAGE_DIFFUSIVITY_RBF 101

/* The number of parameters of the described block into *count. */
int32_t pdb_image_block_parameter_count(int64_t filters, const int64_t *filter_shapes, int32_t coupling,
                                        const int32_t *kinds, const int64_t *terms, int32_t flags,
                                        int64_t *count);

/* The certified step-size bound 2/(sup g * lambda_max(sum_c K_c^T K_c) + mu) of the block
 * with parameters params[count] on height x width images (sup g: the largest over the
 * diffusivities; lambda_max as pdb_filter_bank_norm_squared), into *bound (+inf when 0/0). */
int32_t pdb_image_block_tau_bound(int64_t filters, const int64_t *filter_shapes, int32_t coupling,
                                  const int32_t *kinds, const int64_t *terms, int32_t flags,
                                  const double *params, int64_t count, int64_t height, int64_t width,
                                  double *bound);

/* out = u_out for u, f, out of shape (batch, height, width). */
int32_t pdb_image_block_forward(int64_t filters, const int64_t *filter_shapes, int32_t coupling,
                                const int32_t *kinds, const int64_t *terms, int32_t flags,
                                const double *params, int64_t count,
                                const double *u, const double *f, int64_t batch, int64_t height, int64_t width,
                                double *out);

/* The backward pass for grad_out = dL/du_out at (u, f): grad_u = dL/du, grad_f = dL/df
 * (may be NULL: not computed; zero without PDB_IMAGE_BLOCK_REACTION), both (batch, height,
 * width), and grad_params[count] = dL/dparams summed over the batch. */
int32_t pdb_image_block_backward(int64_t filters, const int64_t *filter_shapes, int32_t coupling,
                                 const int32_t *kinds, const int64_t *terms, int32_t flags,
                                 const double *params, int64_t count,
                                 const double *grad_out, const double *u, const double *f,
                                 int64_t batch, int64_t height, int64_t width,
                                 double *grad_u, double *grad_f, double *grad_params);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_IMAGE_LAYERS_H */
