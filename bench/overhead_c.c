/*
 * overhead_c.c — the native cost of one small library call, for the Python call
 * overhead figure of bench/suite.py: pdb_explicit on one signal of length N, one
 * Perona–Malik step (D = forward difference), called REPS times in a loop.
 *
 * Usage: overhead_c N REPS   -> prints "N explicit_us" (microseconds per call, best of 5)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pdeblocks.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s N REPS\n", argv[0]); return 2; }
    int64_t n = atoll(argv[1]), reps = atoll(argv[2]);
    if (n < 2 || reps < 1) { fprintf(stderr, "need N >= 2, REPS >= 1\n"); return 2; }
    double *f = malloc(n * sizeof *f), *out = malloc(n * sizeof *out);
    if (!f || !out) return 1;
    uint64_t s = 2;
    for (int64_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        f[i] = (s >> 11) * (1.0 / 9007199254740992.0) - 0.5;
    }
    const double w[2] = {-1.0, 1.0}, lam = 0.5;
    double tau;
    if (pdb_stable_tau(w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, lam, n, PDB_BOUND_SUP_G, &tau) != PDB_OK) {
        fprintf(stderr, "%s\n", pdb_last_error());
        return 1;
    }
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int64_t k = 0; k < reps; k++) {
            if (pdb_explicit(f, 1, n, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, lam, tau, 1, 0, 0, NULL, 0, out) != PDB_OK) {
                fprintf(stderr, "%s\n", pdb_last_error());
                return 1;
            }
        }
        double t = (now() - t0) / reps;
        if (t < best) best = t;
    }
    printf("%lld %.4f\n", (long long)n, 1e6 * best);
    free(f);
    free(out);
    return 0;
}
