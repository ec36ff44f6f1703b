/*
 * progress.c — pdb_set_progress as a C program uses it (built and run by
 * python/tests/test_progress.py): reports through user_data reach done == total,
 * a nonzero return cancels with PDB_ERR_CANCELLED and leaves out unchanged, the
 * handler is thread-local, removal and invalid intervals.
 *
 * Prints one "ok <check>" line per check; exits nonzero at the first failure.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdeblocks.h"

struct record {
    int calls;
    int cancel_at; /* cancel at this call (1-based); 0: never */
    int64_t first_done, last_done, last_total;
};

static int32_t report(void *user_data, int64_t done, int64_t total, double value) {
    (void)value;
    struct record *r = user_data;
    r->calls += 1;
    if (r->calls == 1) r->first_done = done;
    r->last_done = done;
    r->last_total = total;
    return r->calls == r->cancel_at;
}

#define CHECK(cond, name)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "FAILED %s (%s:%d): %s\n", name, __FILE__, __LINE__, #cond); \
            exit(1);                                                                   \
        }                                                                              \
        printf("ok %s\n", name);                                                       \
    } while (0)

static const double w[2] = {-1.0, 1.0};

static int32_t run_explicit(const double *f, int64_t batch, int64_t n, int64_t steps, double *out) {
    return pdb_explicit(f, batch, n, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, steps, 0, 0, NULL, 0, out);
}

struct thread_job {
    const double *f;
    int64_t n;
    struct record *own; /* installed by the thread itself (NULL: none) */
    int32_t status;
};

static void *thread_main(void *arg) {
    struct thread_job *job = arg;
    double *out = malloc(job->n * sizeof *out);
    if (job->own) pdb_set_progress(report, job->own, 0.0);
    job->status = run_explicit(job->f, 1, job->n, 25, out);
    pdb_set_progress(NULL, NULL, 0.0);
    free(out);
    return NULL;
}

int main(void) {
    enum { BATCH = 3, N = 512, BIG = 4096 };
    double *f = malloc(BATCH * N * sizeof *f), *out = malloc(BATCH * N * sizeof *out),
           *plain = malloc(BATCH * N * sizeof *plain), *g = malloc(BIG * sizeof *g), *gout = malloc(BIG * sizeof *gout);
    for (int i = 0; i < BATCH * N; i++) f[i] = sin(0.37 * i) + (i % N > N / 2);
    for (int i = 0; i < BIG; i++) g[i] = (i % 17) * 0.1;

    /* 1. a full run reports through user_data up to done == total == steps * batch */
    struct record all = {0};
    CHECK(pdb_set_progress(report, &all, 0.0) == PDB_OK, "install");
    CHECK(run_explicit(f, BATCH, N, 200, out) == PDB_OK, "run with a handler");
    CHECK(all.calls >= 1 && all.last_done == BATCH * 200 && all.last_total == BATCH * 200, "done reaches total");
    CHECK(pdb_set_progress(NULL, NULL, 0.0) == PDB_OK, "remove");
    CHECK(run_explicit(f, BATCH, N, 200, plain) == PDB_OK && memcmp(out, plain, BATCH * N * sizeof *out) == 0,
          "same result without a handler");

    /* 2. a nonzero return cancels promptly; out keeps its contents */
    struct record stop = {.cancel_at = 1};
    for (int i = 0; i < BIG; i++) gout[i] = -5.0;
    const int64_t many = 10000000;
    CHECK(pdb_set_progress(report, &stop, 0.0) == PDB_OK, "install a cancelling handler");
    int32_t status = run_explicit(g, 1, BIG, many, gout);
    pdb_set_progress(NULL, NULL, 0.0);
    CHECK(status == PDB_ERR_CANCELLED, "cancelled status");
    CHECK(strstr(pdb_last_error(), "cancelled by the progress callback") != NULL, "cancel message");
    CHECK(stop.calls == 1 && stop.first_done > 0 && stop.first_done * 1000 < many, "stopped at the first report");
    int unchanged = 1;
    for (int i = 0; i < BIG; i++) unchanged &= gout[i] == -5.0;
    CHECK(unchanged, "out unchanged after cancelling");

    /* 3. thread-local: a handler on this thread is not used by another thread's calls,
     *    and another thread's handler is used by its own calls only */
    struct record mine = {0}, theirs = {0};
    CHECK(pdb_set_progress(report, &mine, 0.0) == PDB_OK, "install on the main thread");
    pthread_t t;
    struct thread_job bare = {f, N, NULL, -1}, owning = {f, N, &theirs, -1};
    CHECK(pthread_create(&t, NULL, thread_main, &bare) == 0 && pthread_join(t, NULL) == 0 && bare.status == PDB_OK,
          "call on a thread without a handler");
    CHECK(mine.calls == 0, "main thread's handler not used by another thread");
    CHECK(pthread_create(&t, NULL, thread_main, &owning) == 0 && pthread_join(t, NULL) == 0 && owning.status == PDB_OK,
          "call on a thread with its own handler");
    CHECK(theirs.calls >= 1 && theirs.last_done == 25 && mine.calls == 0, "each thread's handler for its calls");
    CHECK(run_explicit(f, 1, N, 7, out) == PDB_OK && mine.calls >= 1 && mine.last_done == 7,
          "main thread's handler still installed");
    pdb_set_progress(NULL, NULL, 0.0);

    /* 4. invalid intervals */
    CHECK(pdb_set_progress(report, &mine, -1.0) == PDB_ERR_INVALID, "negative interval refused");
    CHECK(pdb_set_progress(report, &mine, NAN) == PDB_ERR_INVALID, "NaN interval refused");
    CHECK(pdb_set_progress(report, &mine, INFINITY) == PDB_OK, "infinite interval: final report only");
    mine.calls = 0;
    CHECK(run_explicit(f, BATCH, N, 300, out) == PDB_OK && mine.calls == 1 && mine.last_done == BATCH * 300,
          "exactly one report with an infinite interval");
    pdb_set_progress(NULL, NULL, 0.0);

    free(f); free(out); free(plain); free(g); free(gout);
    return 0;
}
