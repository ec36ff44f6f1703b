/*
 * explicit_c.c — the explicit Perona–Malik step (eq. 4, D = forward difference with
 * mirrored boundaries) timed two ways in one process: a plain C loop (scalar libm exp,
 * compiled by the benchmark with -O3) and the library's C entry point pdb_explicit.
 *
 * Usage: explicit_c N STEPS THREADS   -> prints "N plain_ns lib_ns maxdiff" (ns per sample per step)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdeblocks.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* One step: y_i = u_{i+1} - u_i (y_{N-1} = 0), Phi(y) = y exp(-y^2/(2 lam^2)),
 * out = u - tau K^T Phi(y), (K^T y)_0 = -y_0, (K^T y)_i = y_{i-1} - y_i. */
static void plain_step(const double *u, double *out, double *y, int64_t n, double tau, double lam) {
    const double c = -0.5 / (lam * lam);
    for (int64_t i = 0; i < n - 1; i++) {
        double d = u[i + 1] - u[i];
        y[i] = d * exp(c * d * d);
    }
    y[n - 1] = 0.0;
    out[0] = u[0] + tau * y[0];
    for (int64_t i = 1; i < n; i++) out[i] = u[i] - tau * (y[i - 1] - y[i]);
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s N STEPS THREADS\n", argv[0]); return 2; }
    int64_t n = atoll(argv[1]), steps = atoll(argv[2]);
    int32_t threads = atoi(argv[3]);
    double lam = 0.1, tau = 0.0;
    double *f = malloc(n * sizeof *f), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b),
           *y = malloc(n * sizeof *y), *lib = malloc(n * sizeof *lib);
    uint64_t s = 1;
    double acc = 0;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        acc += ((s >> 11) * (1.0 / 9007199254740992.0) - 0.5) * 0.05;
        f[i] = acc;
    }
    const double w[2] = {-1.0, 1.0};
    if (pdb_stable_tau(w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, lam, n, PDB_BOUND_SUP_G, &tau) != PDB_OK) return 1;
    double best_plain = 1e30, best_lib = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        memcpy(a, f, n * sizeof *a);
        for (int64_t k = 0; k < steps; k++) {
            plain_step(a, b, y, n, tau, lam);
            double *t = a; a = b; b = t;
        }
        double t1 = now();
        if (t1 - t0 < best_plain) best_plain = t1 - t0;
        pdb_set_threads(threads);
        t0 = now();
        if (pdb_explicit(f, 1, n, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, lam, tau, steps, 0, 0, NULL, 0, lib) != PDB_OK) {
            fprintf(stderr, "%s\n", pdb_last_error());
            return 1;
        }
        t1 = now();
        if (t1 - t0 < best_lib) best_lib = t1 - t0;
    }
    double maxdiff = 0;
    for (int64_t i = 0; i < n; i++) maxdiff = fmax(maxdiff, fabs(a[i] - lib[i]));
    printf("%lld %.4f %.4f %.3g\n", (long long)n, 1e9 * best_plain / (steps * (double)n),
           1e9 * best_lib / (steps * (double)n), maxdiff);
    return 0;
}
