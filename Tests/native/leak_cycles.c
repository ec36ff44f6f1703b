/*
 * leak_cycles.c — create / use / destroy cycles of every handle type and of the stateless
 * entry points, successes and error paths alike, for a leak checker:
 *
 *     valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
 *              ./leak_cycles [cycles] [tmpdir]
 *
 * One cycle makes and destroys: multigrid hierarchies (every smoother, cycle and transfer kind,
 * used by every pdb_mg_* function and as a CG preconditioner), two-level U-nets, networks with
 * each block kind (diffusion with built-in and learnable filters, FSI, implicit, residual with
 * flux activations; trained: forward, backward, parameters, certificates, projection), a network
 * saved and loaded back, and every scheme; then the error paths: NULL, invalid, destroyed and
 * wrong-type arguments, failures midway through building (a U-net whose third block is invalid,
 * a hierarchy whose coarsest matrix is singular), corrupt and missing files, unstable and
 * non-converged runs. A leak per cycle shows up as "definitely lost" blocks in multiples of the
 * cycle count. The program itself checks every status it expects and that no handle is live at
 * the end; it exits 0 iff all of that held.
 *
 * Built and run by python/tests/test_leaks.py and `make leakcheck`.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdeblocks.h"

static int failures;

/* Checks that `status` is the expected one (PDB_OK, or any failure when expected < 0 is given
 * as 1: "some error"). */
#define EXPECT(expected, call)                                                                        \
    do {                                                                                              \
        int32_t s_ = (call);                                                                          \
        int ok_ = (expected) == 1 ? s_ < 0 : s_ == (expected);                                        \
        if (!ok_) {                                                                                   \
            failures++;                                                                               \
            fprintf(stderr, "%s:%d: %s returned %d, expected %s (%s)\n", __FILE__, __LINE__, #call, s_, \
                    (expected) == 1 ? "an error" : #expected, s_ ? pdb_last_error() : "");            \
        }                                                                                             \
    } while (0)
#define ANY_ERROR 1

#define N 64
static double f[3 * N], out[3 * N], hist[16 * 3 * N];

static void signals(void) {
    for (int i = 0; i < 3 * N; i++) f[i] = sin(0.1 * i) + 0.3 * ((i * 7919) % 13 == 0);
}

static const double fd[2] = {-1, 1}, dxx[3] = {1, -2, 1}, smooth[3] = {0.25, 0.5, 0.25};

/* ---- Multigrid hierarchies ------------------------------------------------ */

static void multigrid_cycle(void) {
    const int64_t n = 63;
    double band[63 * 3], b[63], x[63], res[64], coarse[63], fine[63], three[3 * 63], lvl[63 * 9];
    EXPECT(PDB_OK, pdb_poisson_1d(n, 1.0 / 64, band));
    for (int i = 0; i < n; i++) b[i] = sin(0.2 * i);
    for (int smoother = 0; smoother < PDB_SMOOTHER_COUNT; smoother++) {
        for (int cycle = 0; cycle < PDB_CYCLE_COUNT; cycle++) {
            for (int transfer = 0; transfer < PDB_TRANSFER_COUNT; transfer++) {
                pdb_multigrid *mg = NULL;
                int32_t s = pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, smoother, 0, 1, 1, cycle, transfer, 3, 0, &mg);
                if (smoother == PDB_SMOOTHER_ALTERNATING_LINE) { /* 2D only: refused for 1D, nothing kept */
                    if (s == PDB_OK || mg != NULL) {
                        failures++;
                        fprintf(stderr, "pdb_mg_create accepted the 2D line smoother on a 1D hierarchy\n");
                    }
                    continue;
                }
                if (transfer == PDB_TRANSFER_CELL) { /* allowed or not: either way nothing may leak */
                    if (s != PDB_OK) continue;
                } else if (s != PDB_OK) {
                    failures++;
                    fprintf(stderr, "pdb_mg_create(%d, %d, %d): %s\n", smoother, cycle, transfer, pdb_last_error());
                    continue;
                }
                int64_t sizes[16], count = 0, kl, ku, cycles;
                int32_t tr, converged;
                double factor;
                EXPECT(PDB_OK, pdb_mg_levels(mg, sizes, 16, &count, &tr));
                EXPECT(PDB_OK, pdb_mg_level_matrix(mg, count - 1, &kl, &ku, lvl, 63 * 9));
                EXPECT(PDB_OK, pdb_mg_restrict(mg, 0, b, sizes[0], coarse, sizes[1]));
                EXPECT(PDB_OK, pdb_mg_prolong(mg, 0, coarse, sizes[1], fine, sizes[0]));
                memset(x, 0, sizeof x);
                EXPECT(PDB_OK, pdb_mg_cycle(mg, x, b, 1, n, x));
                EXPECT(PDB_OK, pdb_mg_unet_cycle(mg, x, b, n, three));
                EXPECT(PDB_OK, pdb_mg_solve(mg, b, NULL, n, 1e-8, 30, x, res, 32, &cycles, &converged, &factor));
                if (smoother != PDB_SMOOTHER_GAUSS_SEIDEL_FORWARD && cycle != PDB_CYCLE_F)
                    EXPECT(PDB_OK, pdb_cg(n, 1, 1, band, b, NULL, mg, 1e-10, 40, x, res, 64, &cycles, &converged));
                /* error paths on a live hierarchy */
                EXPECT(ANY_ERROR, pdb_mg_cycle(mg, x, b, 1, n + 1, x));
                EXPECT(ANY_ERROR, pdb_mg_cycle(mg, x, b, 1, n, (double *)b));
                EXPECT(ANY_ERROR, pdb_mg_level_matrix(mg, 99, &kl, &ku, NULL, 0));
                EXPECT(ANY_ERROR, pdb_mg_prolong(mg, 0, coarse, sizes[1] + 1, fine, sizes[0]));
                EXPECT(ANY_ERROR, pdb_mg_solve(mg, b, NULL, n, NAN, 30, x, NULL, 0, &cycles, &converged, &factor));
                EXPECT(ANY_ERROR, pdb_network_forward((pdb_network *)mg, f, 1, N, 0, out)); /* wrong type */
                EXPECT(PDB_OK, pdb_mg_destroy(mg));
                EXPECT(PDB_ERR_HANDLE, pdb_mg_destroy(mg));
                EXPECT(PDB_ERR_HANDLE, pdb_mg_cycle(mg, x, b, 1, n, x));
            }
        }
    }
    /* failed creations: n <= coarsest, a zero diagonal, a singular coarsest matrix, bad options */
    pdb_multigrid *mg = NULL;
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, 0, 0, 1, 1, 0, 0, 64, 0, &mg));
    double zero[63 * 3];
    memcpy(zero, band, sizeof zero);
    zero[3 * 5 + 1] = 0;
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, zero, PDB_GRID_VERTEX, 0, 0, 1, 1, 0, 0, 3, 0, &mg));
    double singular[63 * 3];
    for (int i = 0; i < n; i++) { /* tridiag(-1, 1, 0)-like rows summing to zero: singular */
        singular[3 * i] = i > 0 ? -1 : 0;
        singular[3 * i + 1] = (i > 0) + (i < n - 1);
        singular[3 * i + 2] = i < n - 1 ? -1 : 0;
    }
    pdb_mg_create(n, 1, 1, singular, PDB_GRID_CELL, 1, 0, 1, 1, 0, 0, 3, 0, &mg) == PDB_OK ? (void)pdb_mg_destroy(mg) : (void)0;
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, 9, 0, 1, 1, 0, 0, 3, 0, &mg));
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, 0, 0, 0, 0, 0, 0, 3, 0, &mg));
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, NULL, PDB_GRID_VERTEX, 0, 0, 1, 1, 0, 0, 3, 0, &mg));
    EXPECT(ANY_ERROR, pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, 0, 0, 1, 1, 0, 0, 3, 0, NULL));
}

/* ---- Banded systems, CG and semi-implicit diffusion (stateless) ----------------- */

/* 2D hierarchies (pdb_mg2d_create) with every smoother and transfer: create, cycle, solve,
 * error paths on the live handle, destroy; and refused creations. */
static void multigrid_2d_cycle(void) {
    enum { H = 13, W = 10, NN = H * W };
    static double A[9 * NN], b[NN], x[NN], res[32];
    EXPECT(PDB_OK, pdb_poisson_2d(H, W, 1.0, A, 9 * NN));
    for (int i = 0; i < NN; i++) b[i] = sin(0.3 * i);
    for (int smoother = 0; smoother < PDB_SMOOTHER_COUNT; smoother++) {
        for (int transfer = 0; transfer < PDB_TRANSFER_COUNT; transfer++) {
            pdb_multigrid *mg = NULL;
            if (pdb_mg2d_create(H, W, A, PDB_GRID_VERTEX, smoother, 0, 2, 2, PDB_CYCLE_V, transfer, 4, 0, &mg) != PDB_OK) {
                if (mg != NULL) { failures++; fprintf(stderr, "failed pdb_mg2d_create set the handle\n"); }
                continue;   /* a refused combination: nothing may leak either */
            }
            int64_t heights[16], widths[16], count = 0, cycles;
            int32_t tr, converged;
            double factor;
            memset(x, 0, sizeof x);
            EXPECT(PDB_OK, pdb_mg2d_levels(mg, heights, widths, 16, &count, &tr));
            EXPECT(PDB_OK, pdb_mg_cycle(mg, x, b, 1, NN, x));
            EXPECT(PDB_OK, pdb_mg_solve(mg, b, NULL, NN, 1e-8, 20, x, res, 32, &cycles, &converged, &factor));
            EXPECT(ANY_ERROR, pdb_mg_cycle(mg, x, b, 1, NN + 1, x));
            EXPECT(ANY_ERROR, pdb_mg_solve(mg, b, NULL, NN, NAN, 20, x, NULL, 0, &cycles, &converged, &factor));
            EXPECT(PDB_OK, pdb_mg_destroy(mg));
            EXPECT(PDB_ERR_HANDLE, pdb_mg_destroy(mg));
        }
    }
    pdb_multigrid *mg = NULL;
    EXPECT(ANY_ERROR, pdb_mg2d_create(H, W, A, PDB_GRID_VERTEX, 0, 0, 2, 2, PDB_CYCLE_V, 0, NN, 0, &mg));
    EXPECT(ANY_ERROR, pdb_mg2d_create(H, W, NULL, PDB_GRID_VERTEX, 0, 0, 2, 2, PDB_CYCLE_V, 0, 4, 0, &mg));
    A[9 * 7 + 4] = NAN;
    EXPECT(ANY_ERROR, pdb_mg2d_create(H, W, A, PDB_GRID_VERTEX, 0, 0, 2, 2, PDB_CYCLE_V, 0, 4, 0, &mg));
}

static void banded_cycle(void) {
    double w[N], band[N * 5], x[N], res[128];
    int64_t k = -1, iterations;
    int32_t strategy, converged;
    for (int i = 0; i < N; i++) w[i] = 1.0 / (1.0 + (double)(i % 5));
    EXPECT(PDB_OK, pdb_diffusion_system_bandwidth(dxx, 3, -1, N, &k));
    EXPECT(PDB_OK, pdb_diffusion_system(dxx, 3, -1, w, N, 0.5, band, N * (2 * k + 1)));
    EXPECT(PDB_OK, pdb_banded_matvec(N, k, k, band, f, 3, out));
    EXPECT(PDB_OK, pdb_banded_solve(N, k, k, band, f, 3, out, &strategy));
    EXPECT(PDB_OK, pdb_banded_solve(N, k, k, band, f, 1, out, &strategy));
    EXPECT(PDB_OK, pdb_cg(N, k, k, band, f, NULL, NULL, 1e-10, 100, x, res, 128, &iterations, &converged));
    EXPECT(ANY_ERROR, pdb_diffusion_system(dxx, 3, -1, w, N, 0.5, band, 3));
    w[3] = -1;
    EXPECT(ANY_ERROR, pdb_diffusion_system(dxx, 3, -1, w, N, 0.5, band, N * (2 * k + 1)));
    double singular[N * 3] = {0};
    EXPECT(ANY_ERROR, pdb_banded_solve(N, 1, 1, singular, f, 2, out, NULL));
    EXPECT(ANY_ERROR, pdb_banded_solve(N, 1, 1, singular, f, 1, out, NULL));
    int64_t cycles;
    EXPECT(PDB_OK, pdb_semi_implicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.3, 2.0, 3, PDB_SEMI_DIRECT, 0, 0,
                                     &cycles, out));
    EXPECT(PDB_OK, pdb_semi_implicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.3, 2.0, 3, PDB_SEMI_MULTIGRID,
                                     1e-8, 50, &cycles, out));
    EXPECT(PDB_ERR_NOT_CONVERGED, pdb_semi_implicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.3, 50.0, 2,
                                                    PDB_SEMI_MULTIGRID, 1e-14, 1, &cycles, out));
}

/* ---- Two-level U-nets --------------------------------------------------------- */

static void unet_cycle(void) {
    const int32_t kinds[4] = {PDB_UNET_DIFFUSION, PDB_UNET_STENCIL, PDB_UNET_DIFFUSION, PDB_UNET_STENCIL};
    const int64_t lengths[4] = {2, 3, 3, 1}, offsets[4] = {0, -1, -1, 0};
    const double weights[9] = {-1, 1, 0.25, 0.5, 0.25, 1, -2, 1, 1};
    const int32_t diffs[4] = {PDB_DIFFUSIVITY_PERONA_MALIK, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0};
    const double lambdas[4] = {0.5, 1, 0.3, 1}, taus[4] = {0.2, 0, 0.05, 0};
    for (int transfer = PDB_TRANSFER_VERTEX; transfer <= PDB_TRANSFER_CELL; transfer++) {
        pdb_unet2 *u = NULL;
        EXPECT(PDB_OK, pdb_unet2_create(4, kinds, lengths, offsets, weights, diffs, lambdas, taus, 1, 2, transfer, &u));
        EXPECT(PDB_OK, pdb_unet2_forward(u, f, 3, N, out));
        EXPECT(PDB_OK, pdb_unet2_forward(u, out, 3, N, out));
        EXPECT(ANY_ERROR, pdb_unet2_forward(u, f, 3, 1, out));
        EXPECT(ANY_ERROR, pdb_mg_cycle((pdb_multigrid *)u, f, f, 1, N, out)); /* wrong type */
        EXPECT(PDB_OK, pdb_unet2_destroy(u));
        EXPECT(PDB_ERR_HANDLE, pdb_unet2_forward(u, f, 3, N, out));
        EXPECT(PDB_ERR_HANDLE, pdb_unet2_destroy(u));
    }
    /* a build that fails after parsing two blocks (third kind unknown, then a bad lambda) */
    int32_t bad_kinds[4] = {PDB_UNET_DIFFUSION, PDB_UNET_STENCIL, 7, PDB_UNET_STENCIL};
    double bad_lambdas[4] = {0.5, 1, -1, 1};
    pdb_unet2 *u = NULL;
    EXPECT(ANY_ERROR, pdb_unet2_create(4, bad_kinds, lengths, offsets, weights, diffs, lambdas, taus, 1, 2,
                                       PDB_TRANSFER_CELL, &u));
    EXPECT(ANY_ERROR, pdb_unet2_create(4, kinds, lengths, offsets, weights, diffs, bad_lambdas, taus, 1, 2,
                                       PDB_TRANSFER_CELL, &u));
    EXPECT(ANY_ERROR, pdb_unet2_create(4, kinds, lengths, offsets, weights, diffs, lambdas, taus, 3, 2,
                                       PDB_TRANSFER_CELL, &u));
    EXPECT(ANY_ERROR, pdb_unet2_create(4, kinds, lengths, offsets, weights, diffs, lambdas, taus, 1, 2,
                                       PDB_TRANSFER_MATRIX, &u));
}

/* ---- Networks ----------------------------------------------------------------------- */

/* A network with every block kind; returns NULL (and counts a failure) if building fails. */
static pdb_network *every_block_network(void) {
    pdb_network *net = NULL;
    const double mix[3] = {0.3, 0.2, 0.1}, contrasts[3] = {0.2, 0.6, 1.5};
    EXPECT(PDB_OK, pdb_network_create(&net));
    EXPECT(PDB_OK, pdb_network_add_diffusion(net, 0.2, PDB_TAU_FREE));
    EXPECT(PDB_OK, pdb_network_add_filter(net, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.4));
    EXPECT(PDB_OK, pdb_network_add_learnable_filter(net, dxx, 3, -1, mix, contrasts, 3));
    EXPECT(PDB_OK, pdb_network_add_fsi(net, 0.5, PDB_TAU_BOUNDED, 5));
    EXPECT(PDB_OK, pdb_network_add_filter(net, fd, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.3));
    EXPECT(PDB_OK, pdb_network_add_implicit(net, 0.1, PDB_TAU_FREE, 4));
    EXPECT(PDB_OK, pdb_network_add_filter(net, fd, 2, 0, PDB_DIFFUSIVITY_WEICKERT, 0.5));
    EXPECT(PDB_OK, pdb_network_add_residual(net, PDB_ACTIVATION_FLUX, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2,
                                            PDB_ACTIVATION_IDENTITY, 0, 1, 0, 0));
    EXPECT(PDB_OK, pdb_network_add_residual_channel(net, fd, 2, 0, fd, 2, 0, PDB_W2_TRANSPOSED, 0));
    EXPECT(PDB_OK, pdb_network_add_residual(net, PDB_ACTIVATION_TANH, 0, 1, 0, PDB_ACTIVATION_RELU, 0, 1, 0, 0.01));
    EXPECT(PDB_OK, pdb_network_add_residual_channel(net, smooth, 3, -1, dxx, 3, -1, PDB_W2_CONVOLUTION, 0.1));
    return net;
}

static void network_cycle(const char *tmpdir) {
    char path[1024], bad[1024];
    snprintf(path, sizeof path, "%s/leak_cycles.pdbnet", tmpdir);
    snprintf(bad, sizeof bad, "%s/leak_cycles_damaged.pdbnet", tmpdir);
    pdb_network *net = every_block_network();
    int64_t count = 0, blocks = 0, len = 0, changed, first;
    int32_t certified, kind;
    double params[512], grads[512], gin[3 * N], tau, tb, tbl;
    char text[4096];
    EXPECT(PDB_OK, pdb_network_block_count(net, &blocks));
    EXPECT(PDB_OK, pdb_network_parameter_count(net, &count));
    if (count > 512) { failures++; fprintf(stderr, "unexpected parameter count %lld\n", (long long)count); return; }
    for (int64_t b = 0; b < blocks; b++) {
        int64_t off, cnt;
        EXPECT(PDB_OK, pdb_network_block_info(net, b, &kind, &off, &cnt));
        EXPECT(PDB_OK, pdb_network_block_certificate(net, b, N, &certified, &tau, &tb, &tbl, text, sizeof text, &len));
    }
    EXPECT(PDB_OK, pdb_network_describe(net, NULL, 0, &len));
    EXPECT(PDB_OK, pdb_network_describe(net, text, sizeof text, &len));
    EXPECT(PDB_OK, pdb_network_set_threads(net, 2));
    for (int step = 0; step < 3; step++) { /* a few training steps */
        EXPECT(PDB_OK, pdb_network_forward(net, f, 3, N, 0, out));
        EXPECT(PDB_OK, pdb_network_backward(net, out, 3, N, gin, grads, count));
        EXPECT(PDB_OK, pdb_network_get_parameters(net, params, count));
        for (int64_t i = 0; i < count; i++) params[i] -= 1e-3 * grads[i];
        EXPECT(PDB_OK, pdb_network_set_parameters(net, params, count));
        EXPECT(PDB_OK, pdb_network_project_stable(net, N, 0.9, &changed));
    }
    EXPECT(PDB_OK, pdb_network_forward(net, f, 3, N, PDB_FORWARD_INFERENCE, out));
    EXPECT(PDB_OK, pdb_network_certificate(net, N, &certified, &first));
    /* error paths on a live network */
    EXPECT(ANY_ERROR, pdb_network_backward(net, out, 3, N, gin, grads, count)); /* no recorded pass */
    EXPECT(ANY_ERROR, pdb_network_forward(net, f, 3, N, 0, (double *)f));
    EXPECT(ANY_ERROR, pdb_network_add_filter(net, fd, 2, 0, PDB_DIFFUSIVITY_LINEAR, 1)); /* last block is residual */
    params[0] = NAN;
    EXPECT(ANY_ERROR, pdb_network_set_parameters(net, params, count));
    EXPECT(ANY_ERROR, pdb_network_get_parameters(net, params, count + 1));
    EXPECT(ANY_ERROR, pdb_network_block_certificate(net, blocks, N, &certified, &tau, &tb, &tbl, text, 16, &len));
    EXPECT(ANY_ERROR, pdb_network_project_stable(net, N, 2.0, &changed));
    EXPECT(ANY_ERROR, pdb_unet2_forward((pdb_unet2 *)net, f, 1, N, out)); /* wrong type */

    /* saved and loaded */
    EXPECT(PDB_OK, pdb_network_save(net, path));
    pdb_network *loaded = NULL;
    EXPECT(PDB_OK, pdb_network_load(path, &loaded));
    EXPECT(PDB_OK, pdb_network_forward(loaded, f, 3, N, 0, out));
    EXPECT(PDB_OK, pdb_network_backward(loaded, out, 3, N, gin, grads, count));
    EXPECT(PDB_OK, pdb_network_destroy(loaded));
    EXPECT(PDB_ERR_HANDLE, pdb_network_forward(loaded, f, 3, N, 0, out));
    EXPECT(PDB_OK, pdb_network_destroy(net));
    EXPECT(PDB_ERR_HANDLE, pdb_network_destroy(net));

    /* damaged files: truncated, checksum mismatch, hostile block count with a valid checksum */
    FILE *in = fopen(path, "rb");
    unsigned char buf[1 << 16];
    size_t n = in ? fread(buf, 1, sizeof buf, in) : 0;
    if (in) fclose(in);
    if (n < 40) { failures++; fprintf(stderr, "saved file too short (%zu bytes)\n", n); return; }
    for (int damage = 0; damage < 3; damage++) {
        unsigned char copy[1 << 16];
        size_t m = n;
        memcpy(copy, buf, n);
        if (damage == 0) m = n / 2;
        else if (damage == 1) copy[30] ^= 0x40;
        else {
            const uint32_t blocks_claimed = 0x7fffffff;
            memcpy(copy + 24, &blocks_claimed, 4);
            uint64_t h = 0xcbf29ce484222325ULL;
            for (size_t i = 0; i < m - 8; i++) { h ^= copy[i]; h *= 0x100000001b3ULL; }
            memcpy(copy + m - 8, &h, 8);
        }
        FILE *o = fopen(bad, "wb");
        if (!o) { failures++; fprintf(stderr, "cannot write %s\n", bad); return; }
        fwrite(copy, 1, m, o);
        fclose(o);
        pdb_network *none = NULL;
        EXPECT(PDB_ERR_IO, pdb_network_load(bad, &none));
    }
    pdb_network *none = NULL;
    EXPECT(PDB_ERR_IO, pdb_network_load("/nonexistent-pdeblocks/net.pdbnet", &none));
    EXPECT(ANY_ERROR, pdb_network_load(NULL, &none));
    remove(path);
    remove(bad);

    /* an invalid network (a block without filters) cannot be run or saved */
    pdb_network *empty = NULL;
    EXPECT(PDB_OK, pdb_network_create(&empty));
    EXPECT(PDB_OK, pdb_network_add_diffusion(empty, 0.1, PDB_TAU_FREE));
    EXPECT(ANY_ERROR, pdb_network_forward(empty, f, 3, N, 0, out));
    EXPECT(ANY_ERROR, pdb_network_save(empty, path));
    EXPECT(ANY_ERROR, pdb_network_add_learnable_filter(empty, fd, 2, 0, NULL, NULL, 3));
    EXPECT(PDB_OK, pdb_network_destroy(empty));
    EXPECT(ANY_ERROR, pdb_network_create(NULL));
}

/* ---- Stateless entry points ---------------------------------------------------------- */

static void schemes_cycle(void) {
    double taus[16], report[PDB_EVOLVE_REPORT_COUNT], w[20], s2[N];
    int64_t len, off, sweeps;
    double residual, tau;
    int32_t kind;
    EXPECT(PDB_OK, pdb_explicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 8, 0, 2, hist, 5 * 3 * N, out));
    EXPECT(PDB_ERR_UNSTABLE, pdb_explicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.9, 8, 0, 0, NULL, 0, out));
    EXPECT(PDB_OK, pdb_fsi(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.5, 0.2, 7, 3, PDB_UPDATE_PER_STEP, 0, 1, hist,
                           4 * 3 * N, out));
    EXPECT(PDB_OK, pdb_fed_step_sizes(16, 0.25, PDB_FED_ORDER_LEJA, taus, 16));
    EXPECT(PDB_OK, pdb_fed(f, 3, N, dxx, 3, -1, PDB_DIFFUSIVITY_WEICKERT, 0.5, 0.05, 9, 2, PDB_FED_ORDER_KAPPA,
                           PDB_UPDATE_PER_CYCLE, 0, 0, NULL, 0, out));
    EXPECT(PDB_OK, pdb_implicit(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 3, 20, 1e-6, 0, out, &sweeps,
                                &residual));
    for (int scheme = 0; scheme < PDB_SCHEME_COUNT; scheme++)
        EXPECT(PDB_OK, pdb_evolve(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 2.0, scheme, 0, 0, 0, 0, 0, 0, 0,
                                  0, 0, out, report, PDB_EVOLVE_REPORT_COUNT));
    EXPECT(ANY_ERROR, pdb_evolve(f, 3, N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 1e300, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                 0, out, report, PDB_EVOLVE_REPORT_COUNT));
    EXPECT(PDB_OK, pdb_stable_tau(dxx, 3, -1, PDB_DIFFUSIVITY_CHARBONNIER, 0.2, N, PDB_BOUND_LIPSCHITZ, &tau));
    EXPECT(PDB_OK, pdb_contraction_tau(dxx, 3, -1, PDB_DIFFUSIVITY_CHARBONNIER, 0.2, N, &tau));
    EXPECT(PDB_OK, pdb_stencil_apply(dxx, 3, -1, f, 3, N, out));
    EXPECT(PDB_OK, pdb_stencil_adjoint(dxx, 3, -5, f, 3, N, out));
    EXPECT(PDB_OK, pdb_stencil_norm_squared(dxx, 3, 40, N, &tau));
    EXPECT(PDB_OK, pdb_stencil_matrix(fd, 2, 0, 16, hist));
    const double alphas[3] = {0, 1, 0.5};
    EXPECT(PDB_OK, pdb_difference_operator(alphas, 3, 0.5, w, 20, &len, &off));
    EXPECT(ANY_ERROR, pdb_difference_operator(alphas, 3, 0.5, w, 1, &len, &off));
    for (int i = 0; i < N; i++) s2[i] = 0.01 * i;
    EXPECT(PDB_OK, pdb_diffusivity_g(PDB_DIFFUSIVITY_WEICKERT, 0.3, s2, N, out));
    EXPECT(PDB_OK, pdb_diffusivity_flux(PDB_DIFFUSIVITY_PERONA_MALIK_RATIONAL, 0.3, f, N, out));
    EXPECT(PDB_OK, pdb_diffusivity_flux_derivative(PDB_DIFFUSIVITY_CHARBONNIER, 0.3, f, N, out));
    EXPECT(PDB_OK, pdb_diffusivity_from_name("weickert", &kind));
    EXPECT(ANY_ERROR, pdb_diffusivity_from_name("no such diffusivity", &kind));
    EXPECT(ANY_ERROR, pdb_explicit(f, 3, N, fd, 2, 0, 17, 0.5, 0.2, 8, 0, 0, NULL, 0, out));
    EXPECT(ANY_ERROR, pdb_fsi(NULL, 3, N, fd, 2, 0, 1, 0.5, 0.2, 7, 3, 0, 0, 0, NULL, 0, out));
    EXPECT(ANY_ERROR, pdb_stencil_apply(fd, 2, 0, f, INT64_MAX, 2, out));
    EXPECT(PDB_OK, pdb_set_threads(2));
    EXPECT(PDB_OK, pdb_explicit(f, 1, 3 * N, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 8, 0, 0, NULL, 0, out));
    EXPECT(PDB_OK, pdb_set_threads(0));
}

/* ---- Image networks ---------------------------------------------------------------------- */

/* Build, train (loss and gradient, forward/backward), certify, save, load, fail, destroy;
 * images are (3, 8, 8) views of f (3 * N values, N = 64). */
static void image_network_cycle(const char *tmpdir) {
    static const int64_t shapes[8] = {1, 2, 0, 0, 2, 1, 0, 0}, s1[4] = {3, 3, -1, -1}, s2[4] = {1, 2, 0, 0};
    static const int32_t kinds[1] = {PDB_DIFFUSIVITY_PERONA_MALIK};
    const double dp[7] = {-1, 1, -1, 1, -0.7, 0.1, -0.5};
    const double rp[12] = {0, -0.1, 0, -0.1, 0.4, 0, 0, -0.1, -0.1, -0.2, 0.2, 0.01};
    char path[1024], text[512];
    snprintf(path, sizeof path, "%s/leak_cycles_image.pdbnet", tmpdir);
    pdb_image_network *net = NULL, *loaded = NULL;
    int64_t count = 0, first, len;
    int32_t certified;
    double params[64], grads[64], gin[3 * N], loss, tau, tb;
    EXPECT(PDB_OK, pdb_image_network_create(&net));
    EXPECT(PDB_OK, pdb_image_network_add_diffusion(net, 2, shapes, PDB_COUPLING_ISOTROPIC, kinds, NULL,
                                                   PDB_IMAGE_BLOCK_REACTION, dp, 7));
    EXPECT(PDB_OK, pdb_image_network_add_residual(net, 1, s1, s2, PDB_ACTIVATION_TANH, rp, 12));
    EXPECT(PDB_OK, pdb_image_network_parameter_count(net, &count));
    if (count != 19) { failures++; fprintf(stderr, "unexpected image parameter count %lld\n", (long long)count); return; }
    EXPECT(PDB_OK, pdb_image_network_set_threads(net, 2));
    for (int step = 0; step < 3; step++) {
        EXPECT(PDB_OK, pdb_image_network_loss_and_gradient(net, f, out, 3, 8, 8, &loss, grads, count));
        EXPECT(PDB_OK, pdb_image_network_get_parameters(net, params, count));
        for (int64_t i = 0; i < count; i++) params[i] -= 1e-3 * grads[i];
        EXPECT(PDB_OK, pdb_image_network_set_parameters(net, params, count));
    }
    EXPECT(PDB_OK, pdb_image_network_forward(net, f, 3, 8, 8, 0, out));
    EXPECT(PDB_OK, pdb_image_network_backward(net, out, 3, 8, 8, gin, grads, count));
    EXPECT(PDB_OK, pdb_image_network_certificate(net, 8, 8, &certified, &first));
    EXPECT(PDB_OK, pdb_image_network_block_certificate(net, 1, 8, 8, &certified, &tau, &tb, text, sizeof text, &len));
    EXPECT(ANY_ERROR, pdb_image_network_backward(net, out, 3, 8, 7, gin, grads, count)); /* not the recorded shape */
    params[0] = NAN;
    EXPECT(ANY_ERROR, pdb_image_network_set_parameters(net, params, count));
    EXPECT(ANY_ERROR, pdb_network_forward((pdb_network *)net, f, 1, N, 0, out)); /* wrong type */
    EXPECT(PDB_OK, pdb_image_network_save(net, path));
    EXPECT(ANY_ERROR, pdb_network_load(path, (pdb_network **)&loaded)); /* an image network's file */
    EXPECT(PDB_OK, pdb_image_network_load(path, &loaded));
    EXPECT(PDB_OK, pdb_image_network_loss_and_gradient(loaded, f, out, 3, 8, 8, &loss, grads, count));
    EXPECT(PDB_OK, pdb_image_network_destroy(loaded));
    EXPECT(PDB_OK, pdb_image_network_destroy(net));
    EXPECT(PDB_ERR_HANDLE, pdb_image_network_destroy(net));
}

int main(int argc, char **argv) {
    int cycles = argc > 1 ? atoi(argv[1]) : 3;
    const char *tmpdir = argc > 2 ? argv[2] : "/tmp";
    signals();
    for (int c = 0; c < cycles; c++) {
        multigrid_cycle();
        multigrid_2d_cycle();
        banded_cycle();
        unet_cycle();
        network_cycle(tmpdir);
        image_network_cycle(tmpdir);
        schemes_cycle();
    }
    int64_t live = -1;
    EXPECT(PDB_OK, pdb_live_handles(&live));
    if (live != 0) {
        failures++;
        fprintf(stderr, "%lld handles are still live after destroying everything\n", (long long)live);
    }
    printf("cycles %d failures %d live handles %lld\n", cycles, failures, (long long)live);
    return failures ? 2 : 0;
}
