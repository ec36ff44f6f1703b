/*
 * alloc_steady_state.c — shows that the library allocates only at set-up, never per
 * step: every allocation made by libpdeblocks (and the Swift runtime under it) is
 * counted by malloc & co. defined here, which interpose on the whole process. Each
 * scheme is called with few and with many steps; the counts must be equal.
 *
 * Iterations scale with the "steps" argument (cycles, steps, passes), so equal counts
 * mean no allocation per iteration.
 *
 * Networks: "steps" counts calls (forward, inference or forward+backward passes on one
 * handle), so equal counts mean no allocation per call: the handle keeps its tape, its
 * workspace (per-thread scratch, per-chunk gradients) and the worker threads, all made
 * by the warm-up call. With 2 threads the warm-up also starts the library's worker pool
 * thread (a one-time, process-wide allocation; Dispatch's concurrentPerform is not used
 * because it allocates on every call). In fact these calls allocate nothing at all.
 *
 * Built and run by python/tests/test_allocations.py. Prints one line per case:
 *   <case> <allocations with few steps> <allocations with many steps>
 * and exits 0 iff all pairs are equal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pdeblocks.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static volatile size_t allocations;

void *malloc(size_t n) { allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { allocations++; return __libc_realloc(p, n); }
void *aligned_alloc(size_t al, size_t n) { allocations++; return __libc_memalign(al, n); }
void *memalign(size_t al, size_t n) { allocations++; return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    allocations++;
    *out = __libc_memalign(al, n);
    return *out ? 0 : 12;
}
void free(void *p) { __libc_free(p); }

#define N 20000
static double f[N], out[N];

typedef int32_t (*scheme_fn)(int64_t steps);

static const double fd[2] = {-1.0, 1.0};

static int32_t run_explicit(int64_t steps) {
    return pdb_explicit(f, 1, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, steps, 0, 0, NULL, 0, out);
}

static const double dxx[3] = {1.0, -2.0, 1.0};
static int32_t run_explicit_dxx(int64_t steps) {
    return pdb_explicit(f, 1, N, dxx, 3, -1, PDB_DIFFUSIVITY_WEICKERT, 0.5, 0.05, steps, 0, 0, NULL, 0, out);
}

static int32_t run_fsi(int64_t cycles) {
    return pdb_fsi(f, 1, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 10, cycles, PDB_UPDATE_PER_STEP, 0, 0,
                   NULL, 0, out);
}

static int32_t run_fed(int64_t cycles) {
    return pdb_fed(f, 1, N, fd, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.5, 0.2, 10, cycles, PDB_FED_ORDER_LEJA,
                   PDB_UPDATE_PER_CYCLE, 0, 0, NULL, 0, out);
}

static int32_t run_implicit(int64_t steps) {
    int64_t sweeps;
    double residual;
    return pdb_implicit(f, 1, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.1, steps, 4, 0.0, 0, out, &sweeps,
                        &residual);
}

static double band[3 * N], x[N], residuals[64];
static pdb_multigrid *mg;

static int32_t run_mg_solve(int64_t cycles) {  /* tol 0: exactly `cycles` V-cycles */
    int64_t done;
    int32_t converged;
    double factor;
    return pdb_mg_solve(mg, f, NULL, N, 0.0, cycles / 10 + 1, x, residuals, 64, &done, &converged, &factor);
}

static int32_t run_semi_implicit(int64_t steps) {
    int64_t cycles;
    return pdb_semi_implicit(f, 1, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 10.0, steps / 50 + 1,
                             PDB_SEMI_DIRECT, 0.0, 0, &cycles, out);
}


/* Networks: one call is one pass, so "steps" counts passes (calls). A network with a
 * diffusion block (a built-in and a learnable filter), a residual block (flux and tanh
 * activations), an FSI block (bounded tau) and an implicit block, run on 4 rows of 256
 * samples with 1 and 2 threads. */
#define NB 4
#define NN 256
static pdb_network *net;
static double xb[NB * NN], yb[NB * NN], gin[NB * NN], gparams[256];
static int64_t param_count;

static int32_t run_network_inference(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_network_forward(net, xb, NB, NN, PDB_FORWARD_INFERENCE, yb);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int32_t run_network_forward(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_network_forward(net, xb, NB, NN, 0, yb);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int32_t run_network_forward_backward(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_network_forward(net, xb, NB, NN, 0, yb);
        if (s == PDB_OK) s = pdb_network_backward(net, yb, NB, NN, gin, gparams, param_count);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int build_network(void) {
    static const double k1[2] = {-1.0, 1.0}, k2[3] = {0.5, -1.0, 0.5};
    static const double mix[2] = {0.3, 0.4}, contrasts[2] = {0.2, 0.7};
    static const double w1[2] = {-1.0, 1.0}, w2[2] = {1.0, -1.0};
    int32_t s = pdb_network_create(&net);
    if (s == PDB_OK) s = pdb_network_add_diffusion(net, 0.2, PDB_TAU_FREE);
    if (s == PDB_OK) s = pdb_network_add_filter(net, k1, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5);
    if (s == PDB_OK) s = pdb_network_add_learnable_filter(net, k2, 3, -1, mix, contrasts, 2);
    if (s == PDB_OK) s = pdb_network_add_residual(net, PDB_ACTIVATION_FLUX, PDB_DIFFUSIVITY_CHARBONNIER, 0.3, 0.2,
                                                  PDB_ACTIVATION_TANH, 0, 0.0, 0.0, 0.01);
    if (s == PDB_OK) s = pdb_network_add_residual_channel(net, w1, 2, 0, w2, 2, 0, PDB_W2_TRANSPOSED, 0.02);
    if (s == PDB_OK) s = pdb_network_add_fsi(net, 0.5, PDB_TAU_BOUNDED, 3);
    if (s == PDB_OK) s = pdb_network_add_filter(net, k1, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.4);
    if (s == PDB_OK) s = pdb_network_add_implicit(net, 0.1, PDB_TAU_FREE, 3);
    if (s == PDB_OK) s = pdb_network_add_filter(net, k1, 2, 0, PDB_DIFFUSIVITY_WEICKERT, 0.5);
    if (s == PDB_OK) s = pdb_network_parameter_count(net, &param_count);
    if (s == PDB_OK && param_count > 256) s = PDB_ERR_INVALID;
    for (int i = 0; i < NB * NN; i++) xb[i] = ((i * 37) % 101) * 0.01 + (i % NN > NN / 2);
    return s;
}

/* An image network (pdeblocks_image_network.h): a diffusion block with reaction and a free
 * residual block (2x2 and 1x2 filters), on a batch of 4 images of 24 x 20 pixels.
 * Known limit, not hidden: Stencil2D's generic transpose kernel (filters of 3+ rows on
 * images of ~20+ rows) takes its row-pair index tables from withUnsafeTemporaryAllocation,
 * which uses the heap above about 1 KiB: then 2 allocations per image and transposed filter. */
#define GB 4
#define GH 24
#define GW 20
static pdb_image_network *inet;
static double gx[GB * GH * GW], gt[GB * GH * GW], gy[GB * GH * GW], ggin[GB * GH * GW], ggp[64];
static int64_t iparam_count;

static int build_image_network(void) {
    static const int64_t shapes[8] = {1, 2, 0, 0, 2, 1, 0, 0}, s1[4] = {2, 2, 0, 0}, s2[4] = {1, 2, 0, 0};
    static const int32_t kinds[1] = {PDB_DIFFUSIVITY_PERONA_MALIK};
    static const double dp[7] = {-1, 1, -1, 1, -0.7, 0.1, -0.5};
    static const double rp[7] = {0.3, -0.1, -0.2, 0.1, -0.2, 0.2, 0.01};
    int32_t s = pdb_image_network_create(&inet);
    if (s == PDB_OK) s = pdb_image_network_add_diffusion(inet, 2, shapes, PDB_COUPLING_ISOTROPIC, kinds, NULL,
                                                         PDB_IMAGE_BLOCK_REACTION, dp, 7);
    if (s == PDB_OK) s = pdb_image_network_add_residual(inet, 1, s1, s2, PDB_ACTIVATION_TANH, rp, 7);
    if (s == PDB_OK) s = pdb_image_network_parameter_count(inet, &iparam_count);
    for (int i = 0; i < GB * GH * GW; i++) { gx[i] = ((i * 31) % 97) * 0.01; gt[i] = (i % GW > GW / 2); }
    return s;
}

/* A diffusion-only network on one 16 x 1024 image: with 2 threads inference runs the image in
 * row bands (two fork-joins per block), which must allocate nothing per pass either. */
#define BH 16
#define BW 1024
static pdb_image_network *bnet;
static double bx[BH * BW], by[BH * BW];

static int build_banded_network(void) {
    static const int64_t shapes[8] = {1, 2, 0, 0, 2, 1, 0, 0};
    static const int32_t kinds[1] = {PDB_DIFFUSIVITY_PERONA_MALIK};
    static const double dp[6] = {-1, 1, -1, 1, -0.7, 0.1};
    int32_t s = pdb_image_network_create(&bnet);
    for (int k = 0; k < 3 && s == PDB_OK; k++)
        s = pdb_image_network_add_diffusion(bnet, 2, shapes, PDB_COUPLING_ISOTROPIC, kinds, NULL, 0, dp, 6);
    if (s == PDB_OK) s = pdb_image_network_set_threads(bnet, 2);
    for (int i = 0; i < BH * BW; i++) bx[i] = ((i * 29) % 89) * 0.01;
    return s;
}

static int32_t run_banded_inference(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_image_network_forward(bnet, bx, 1, BH, BW, PDB_FORWARD_INFERENCE, by);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int32_t run_image_inference(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_image_network_forward(inet, gx, GB, GH, GW, PDB_FORWARD_INFERENCE, gy);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int32_t run_image_forward_backward(int64_t passes) {
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_image_network_forward(inet, gx, GB, GH, GW, 0, gy);
        if (s == PDB_OK) s = pdb_image_network_backward(inet, gy, GB, GH, GW, ggin, ggp, iparam_count);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int32_t run_image_loss(int64_t passes) {
    double loss;
    for (int64_t k = 0; k < passes; k++) {
        int32_t s = pdb_image_network_loss_and_gradient(inet, gx, gt, GB, GH, GW, &loss, ggp, iparam_count);
        if (s != PDB_OK) return s;
    }
    return PDB_OK;
}

static int check_counts(const char *name, scheme_fn fn, int64_t small, int64_t large) {
    fn(small);  /* warm up: one-time runtime initialisation (type metadata), caches, worker threads */
    allocations = 0;
    int32_t s1 = fn(small);
    size_t few = allocations;
    allocations = 0;
    int32_t s2 = fn(large);
    size_t many = allocations;
    printf("%s %zu %zu\n", name, few, many);
    if (s1 != PDB_OK || s2 != PDB_OK) {
        printf("%s failed: %s\n", name, pdb_last_error());
        return 1;
    }
    return few == many ? 0 : 1;
}

static int check(const char *name, scheme_fn fn) { return check_counts(name, fn, 5, 500); }

/* One long signal on 2 threads: the explicit scheme's temporally blocked sweeps and the
 * column-split steps of FSI (tiles and column ranges on the library's worker threads). */
#define NL (1 << 18)
static double fl[NL], outl[NL];

static int32_t run_explicit_long(int64_t steps) {
    return pdb_explicit(fl, 1, NL, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, steps, 0, 0, NULL, 0, outl);
}

static int32_t run_fsi_long(int64_t cycles) {
    return pdb_fsi(fl, 1, NL, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 4, cycles, PDB_UPDATE_PER_STEP, 0, 0,
                   NULL, 0, outl);
}

/* Images: gradient_2d with the isotropic coupling (the fused kernel, row bands on 2 threads),
 * FED with frozen diagonals, and a general bank (the generic path); 512 x 256 pixels: two bands. */
#define IH 512
#define IW 256
static double fi[IH * IW], outi[IH * IW];
static const int64_t grad_shapes[] = {1, 2, 0, 0, 2, 1, 0, 0}, bank_shapes[] = {3, 3, -1, -1};
static const double grad_weights[] = {-1, 1, -1, 1}, bank_weights[] = {0, -0.25, 0, -0.25, 1, 0, 0, -0.25, -0.25};
static const int32_t pm_kind[] = {PDB_DIFFUSIVITY_PERONA_MALIK};
static const double pm_lambda[] = {0.5};

static int32_t run_explicit_2d(int64_t steps) {
    return pdb_explicit_2d(fi, 1, IH, IW, 2, grad_shapes, grad_weights, PDB_COUPLING_ISOTROPIC, 1, pm_kind, pm_lambda,
                           0.1, steps, 0, 0, NULL, 0, outi);
}

static int32_t run_fed_2d(int64_t cycles) {
    return pdb_fed_2d(fi, 1, IH, IW, 2, grad_shapes, grad_weights, PDB_COUPLING_CHANNELWISE, 1, pm_kind, pm_lambda,
                      0.1, 4, cycles, PDB_FED_ORDER_LEJA, PDB_UPDATE_PER_CYCLE, 0, 0, NULL, 0, outi);
}

static int32_t run_explicit_2d_bank(int64_t steps) {
    return pdb_explicit_2d(fi, 1, IH, IW, 1, bank_shapes, bank_weights, PDB_COUPLING_ISOTROPIC, 1, pm_kind,
                           pm_lambda, 0.1, steps, 0, 0, NULL, 0, outi);
}

static int32_t run_aos_2d(int64_t steps) {
    return pdb_aos(fi, 1, IH, IW, 1.0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 5.0, steps, outi);
}

static int32_t run_eed_2d(int64_t steps) {
    return pdb_eed(fi, 1, IH, IW, 1.0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 1.0, 0.1, steps, 0, outi);
}

/* 2D multigrid: 5-point Poisson (Dirichlet) and a diffusion system I + tau K^T W K with jumping
 * weights (Dendy transfers, 9-point coarse levels) on 127 x 96 images; V(2,2) red-black cycles
 * through pdb_mg_cycle (one call per cycle, in place) and pdb_mg_solve (tol 0). */
#define MH 127
#define MW 96
static double mcoef[9 * MH * MW], mweights[MH * MW], mb[MH * MW], mx[MH * MW], mres[64];
static pdb_multigrid *mg2d;

static int32_t run_mg2d_cycles(int64_t cycles) {
    int32_t s = PDB_OK;
    for (int64_t k = 0; k < cycles / 10 + 1 && s == PDB_OK; k++) s = pdb_mg_cycle(mg2d, mx, mb, 1, MH * MW, mx);
    return s;
}

static int32_t run_mg2d_solve(int64_t cycles) {
    int64_t done;
    int32_t converged;
    double factor;
    return pdb_mg_solve(mg2d, mb, NULL, MH * MW, 0.0, cycles / 10 + 1, mx, mres, 64, &done, &converged, &factor);
}

static int mg2d_check(const char *prefix, int diffusion) {
    int32_t s = diffusion ? pdb_diffusion_system_2d(MH, MW, 2, grad_shapes, grad_weights, mweights, MH * MW, 50.0,
                                                    mcoef, 9 * MH * MW)
                          : pdb_poisson_2d(MH, MW, 1.0, mcoef, 9 * MH * MW);
    if (s == PDB_OK)
        s = pdb_mg2d_create(MH, MW, mcoef, diffusion ? PDB_GRID_CELL : PDB_GRID_VERTEX, PDB_SMOOTHER_RED_BLACK, 0.0, 2, 2,
                            PDB_CYCLE_V, PDB_TRANSFER_AUTO, 64, 0, &mg2d);
    if (s != PDB_OK) {
        printf("2D multigrid set-up failed: %s\n", pdb_last_error());
        return 1;
    }
    char name[64];
    int failures = 0;
    snprintf(name, sizeof name, "%s_cycle", prefix);
    failures += check(name, run_mg2d_cycles);
    snprintf(name, sizeof name, "%s_solve", prefix);
    failures += check(name, run_mg2d_solve);
    pdb_mg_destroy(mg2d);
    return failures;
}

int main(void) {
    for (int i = 0; i < N; i++) f[i] = (i % 97) * 0.01 + (i > N / 2);
    int failures = 0;
    failures += check("explicit", run_explicit);
    failures += check("explicit_dxx_weickert", run_explicit_dxx);
    failures += check("fsi", run_fsi);
    failures += check("fed", run_fed);
    failures += check("implicit", run_implicit);

    for (int i = 0; i < NL; i++) fl[i] = (i % 89) * 0.01 + (i > NL / 2);
    pdb_set_threads(2);
    failures += check_counts("explicit_long_2thread", run_explicit_long, 17, 170);
    failures += check_counts("fsi_long_2thread", run_fsi_long, 3, 30);
    for (int i = 0; i < IH * IW; i++) fi[i] = (i % 83) * 0.01 + (i % IW > IW / 2);
    failures += check_counts("explicit_2d_2thread", run_explicit_2d, 5, 50);
    failures += check_counts("fed_2d_2thread", run_fed_2d, 2, 20);
    failures += check_counts("explicit_2d_bank_2thread", run_explicit_2d_bank, 5, 50);
    failures += check_counts("aos_2d_2thread", run_aos_2d, 2, 20);
    failures += check_counts("eed_2d_2thread", run_eed_2d, 2, 20);
    pdb_set_threads(0);

    if (pdb_poisson_1d(N, 1.0 / (N + 1), band) != PDB_OK ||
        pdb_mg_create(N, 1, 1, band, PDB_GRID_VERTEX, PDB_SMOOTHER_GAUSS_SEIDEL, 0.0, 2, 2, PDB_CYCLE_V,
                      PDB_TRANSFER_AUTO, 3, 0, &mg) != PDB_OK) {
        printf("multigrid set-up failed: %s\n", pdb_last_error());
        return 1;
    }
    failures += check("multigrid_solve", run_mg_solve);
    pdb_mg_destroy(mg);
    failures += check("semi_implicit", run_semi_implicit);
    for (int i = 0; i < MH * MW; i++) {
        mb[i] = (i % 53) * 0.02 - 0.4;
        mweights[i] = ((i / MW) / 9 + (i % MW) / 7) % 2 ? 1.0 : 1e-4;
    }
    failures += mg2d_check("multigrid_2d_poisson", 0);
    failures += mg2d_check("multigrid_2d_diffusion", 1);

    if (build_network() != PDB_OK) {
        printf("network set-up failed: %s\n", pdb_last_error());
        return 1;
    }
    for (int threads = 1; threads <= 2; threads++) {
        char name[64];
        pdb_network_set_threads(net, threads);
        snprintf(name, sizeof name, "network_inference_%dthread", threads);
        failures += check(name, run_network_inference);
        snprintf(name, sizeof name, "network_forward_%dthread", threads);
        failures += check(name, run_network_forward);
        snprintf(name, sizeof name, "network_forward_backward_%dthread", threads);
        failures += check(name, run_network_forward_backward);
    }
    pdb_network_destroy(net);

    if (build_image_network() != PDB_OK) {
        printf("image network set-up failed: %s\n", pdb_last_error());
        return 1;
    }
    for (int threads = 1; threads <= 2; threads++) {
        char name[64];
        pdb_image_network_set_threads(inet, threads);
        snprintf(name, sizeof name, "network_image_inference_%dthread", threads);
        failures += check(name, run_image_inference);
        snprintf(name, sizeof name, "network_image_forward_backward_%dthread", threads);
        failures += check(name, run_image_forward_backward);
        snprintf(name, sizeof name, "network_image_loss_%dthread", threads);
        failures += check(name, run_image_loss);
    }
    pdb_image_network_destroy(inet);

    if (build_banded_network() != PDB_OK) {
        printf("banded image network set-up failed: %s\n", pdb_last_error());
        return 1;
    }
    failures += check("network_image_banded_inference_2thread", run_banded_inference);
    pdb_image_network_destroy(bnet);

    return failures == 0 ? 0 : 1;
}
