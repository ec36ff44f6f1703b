/*
 * fuzz_abi.c — calls every entry point of the headers in include/ with random and hostile
 * arguments and checks the ABI conventions of pdeblocks.h on every call:
 *
 *   - the status is PDB_OK or one of the PDB_ERR_* codes;
 *   - a failed call leaves a fresh, non-empty pdb_last_error() (a marker failure is
 *     provoked before every call, so a stale message is caught);
 *   - a failed call writes no output: every output buffer is filled with a sentinel
 *     pattern before the call and compared byte for byte after it;
 *   - a successful call writes nothing beyond the lengths it was given (buffers are
 *     allocated larger than the declared lengths where the generator chooses so);
 *   - inputs are never modified (except an output that aliases an input, where the
 *     header allows it);
 *   - arguments that the header makes certainly invalid (NULL where a pointer is
 *     required, negative sizes, overflowing products, unknown enum values and flags,
 *     NaN parameters, destroyed, wrong-type or forged handles) are refused;
 *   - creating a handle adds exactly one live handle on success and none on failure,
 *     and after destroying everything pdb_live_handles() is back to its start value;
 *   - nothing crashes (a signal handler names the entry point and call) and nothing
 *     hangs (a watchdog names the entry point if one call runs for more than
 *     --hang-seconds).
 *
 * Hostile arguments never lie about memory: a non-NULL pointer always has at least
 * the declared number of elements behind it, except for lengths that no memory can
 * back (negative, >= 2^61 elements, or products that overflow int64), which the
 * library must refuse before touching the pointer. Work counts (steps, cycles,
 * iterations, the n of the certified norm) are either small or invalid, never
 * valid-and-huge: those are requests for a lot of work, not misuse.
 *
 * Usage: fuzz_abi [--seed S] [--calls N] [--only NAME] [--skip NAME]... [--tmp DIR]
 *                 [--hostility PERCENT] [--hang-seconds T] [--list]
 * (--hostility: the chance of each argument being hostile, default 9.)
 * Prints one line per entry point, "<name> <calls> <ok> <failed>", then "total ...",
 * and any violations as "VIOLATION <name> call <k>: ..."; exits 0 iff there were none.
 * Built and run by python/tests/test_fuzz_abi.py.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pdeblocks.h"

/* ---- Random numbers (SplitMix64: reproducible from --seed) --------------- */

static uint64_t rng_state;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static int64_t irange(int64_t lo, int64_t hi) { return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); }
static int pct(int p) { return (int)(rnd() % 100) < p; }
static double unif(double a, double b) { return a + (b - a) * ((double)(rnd() >> 11) * 0x1.0p-53); }
#define PICK(arr) ((arr)[rnd() % (sizeof(arr) / sizeof((arr)[0]))])

/* Per-argument probability (percent) of a hostile value. */
static int H = 9;

/* ---- Bookkeeping -------------------------------------------------------- */

typedef void (*gen_fn)(void);
typedef struct {
    const char *name;
    gen_fn fn;
    long calls, ok, fail;
} entry_t;

static entry_t *cur;                /* entry point being exercised */
static volatile long call_serial;   /* increases with every library call (watchdog) */
static long violations;
static uint64_t seed;
static const char *tmpdir = "/tmp";

/* Reason the current call must fail (NULL: it may succeed). */
static const char *expect_fail;
static void must_fail(const char *why) {
    if (!expect_fail) expect_fail = why;
}

static void violation(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void violation(const char *fmt, ...) {
    violations++;
    if (violations > 40) return;
    va_list ap;
    va_start(ap, fmt);
    printf("VIOLATION %s call %ld (seed %llu): ", cur ? cur->name : "?", cur ? cur->calls : 0L,
           (unsigned long long)seed);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

/* ---- Memory regions checked around each call ---------------------------- */
/* Every buffer handed to the library is a region: `bytes` long (allocated with a
 * little extra), of which the first `writable` bytes may change on success. On
 * failure no byte may change; on success no byte past `writable` may change. */

#define SENTINEL 0xA5
#define MAXREG 40
typedef struct {
    unsigned char *p;
    size_t bytes, writable;
    unsigned char *snap;
    const char *name;
} region_t;
static region_t regs[MAXREG];
static int nregs;

static void *region(size_t bytes, size_t writable, const char *name) {
    if (nregs == MAXREG) { fprintf(stderr, "too many regions\n"); abort(); }
    region_t *r = &regs[nregs++];
    size_t alloc = bytes + 16;
    r->p = malloc(alloc);
    r->snap = malloc(alloc);
    if (!r->p || !r->snap) { fprintf(stderr, "out of memory\n"); abort(); }
    memset(r->p, SENTINEL, alloc);
    memset(r->snap, SENTINEL, alloc); /* regions made inside a call expression stay pure sentinel */
    r->bytes = bytes;
    r->writable = writable < bytes ? writable : bytes;
    r->name = name;
    return r->p;
}

static void release_regions(void) {
    for (int i = 0; i < nregs; i++) {
        free(regs[i].p);
        free(regs[i].snap);
    }
    nregs = 0;
}

/* Elements a declared (possibly hostile) length allows to be written, clamped to the buffer. */
static size_t clamp_len(int64_t declared, int64_t cap) {
    if (declared <= 0) return 0;
    return (size_t)(declared < cap ? declared : cap);
}

static double special_value(void) {
    static const double v[] = {NAN, -NAN, INFINITY, -INFINITY, 1e308, -1e308, DBL_MAX, 4.9e-324, -0.0};
    return PICK(v);
}

/* Fills count doubles: mostly uniform in [lo, hi]; with probability `nasty` percent one
 * or more entries become NaN, +-Inf, huge or subnormal. */
static void fill(double *p, int64_t count, double lo, double hi, int nasty) {
    for (int64_t i = 0; i < count; i++) p[i] = unif(lo, hi);
    if (count > 0 && pct(nasty)) {
        int64_t k = irange(1, count < 3 ? count : 3);
        for (int64_t j = 0; j < k; j++) p[irange(0, count - 1)] = special_value();
    }
}

/* An input array of `count` doubles (cap >= count elements behind it). */
static double *in_d(int64_t count, int64_t cap, double lo, double hi, int nasty, const char *name) {
    if (cap < count) cap = count;
    double *p = region((size_t)cap * sizeof(double), 0, name);
    fill(p, cap, lo, hi, nasty);
    return p;
}

/* An output array of cap doubles of which `declared` may be written. */
static double *out_d(int64_t declared, int64_t cap, const char *name) {
    return region((size_t)cap * sizeof(double), clamp_len(declared, cap) * sizeof(double), name);
}

/* A scalar output of `size` bytes, or NULL with probability p (then must_fail if required). */
static void *out_scalar(size_t size, int null_pct, int required, const char *name) {
    if (pct(null_pct)) {
        if (required) must_fail(name);
        return NULL;
    }
    return region(size, size, name);
}

/* ---- Calls ---------------------------------------------------------------- */

static int32_t dummy_kind;

static void prepare(void) {
    /* A marker failure: a failing call must replace it with its own message. */
    pdb_diffusivity_from_name("fuzz-marker-name", &dummy_kind);
    for (int i = 0; i < nregs; i++) memcpy(regs[i].snap, regs[i].p, regs[i].bytes);
    cur->calls++;
    call_serial++;
}

static int known_status(int32_t s) {
    switch (s) {
    case PDB_ERR_NULL: case PDB_ERR_INVALID: case PDB_ERR_NONFINITE: case PDB_ERR_UNSTABLE:
    case PDB_ERR_NOT_CONVERGED: case PDB_ERR_HANDLE: case PDB_ERR_IO: case PDB_ERR_CANCELLED:
    case PDB_ERR_MEMORY: case PDB_ERR_INTERNAL:
        return 1;
    default:
        return 0;
    }
}

static void check_regions(int ok) {
    for (int i = 0; i < nregs; i++) {
        region_t *r = &regs[i];
        size_t from = ok ? r->writable : 0;
        if (from < r->bytes && memcmp(r->p + from, r->snap + from, r->bytes - from) != 0) {
            size_t k = from;
            while (k < r->bytes && r->p[k] == r->snap[k]) k++;
            violation("%s: byte %zu of %zu changed by a %s call (writable: %zu)", r->name, k, r->bytes,
                      ok ? "successful" : "failed", ok ? r->writable : (size_t)0);
        }
    }
}

static int32_t finish(int32_t s) {
    call_serial++;
    if (s == PDB_OK) {
        cur->ok++;
        if (expect_fail) violation("returned PDB_OK although %s", expect_fail);
    } else {
        cur->fail++;
        const char *m = pdb_last_error();
        if (s > 0 || !known_status(s)) violation("status %d is not PDB_OK or a PDB_ERR_* code", s);
        if (s == PDB_ERR_INTERNAL) violation("PDB_ERR_INTERNAL: %s", m ? m : "(null)");
        if (m == NULL) violation("pdb_last_error() is NULL after status %d", s);
        else if (m[0] == 0) violation("pdb_last_error() is empty after status %d", s);
        else if (strstr(m, "fuzz-marker-name")) violation("status %d left the previous message in place", s);
    }
    check_regions(s == PDB_OK);
    return s;
}

#define RUN(expr) finish((prepare(), (expr)))

/* ---- Hostile values ------------------------------------------------------ */

/* Lengths no memory can back: negative or at least 2^61 elements. */
static int64_t bad_len(void) {
    static const int64_t v[] = {-1, -2, -7, INT64_MIN, INT64_MIN + 1, -((int64_t)1 << 40), INT64_MAX,
                                INT64_MAX - 1, (int64_t)1 << 62, ((int64_t)1 << 61) + 3};
    return PICK(v);
}
/* A hostile size for a scalar that is not a memory length (any value). */
static int64_t bad_scalar(void) {
    static const int64_t v[] = {0, -1, -2, INT64_MIN, INT64_MAX, (int64_t)1 << 62, ((int64_t)1 << 40) + 1,
                                -((int64_t)1 << 40), 3037000500LL, (int64_t)1 << 32, INT32_MAX, INT32_MIN};
    return PICK(v);
}
static int32_t bad_enum(void) {
    static const int32_t v[] = {-1, -2, 5, 7, 64, 100, 0x10000, INT32_MAX, INT32_MIN};
    return PICK(v);
}
/* A code outside a family of `count` members 0..count-1 (its _COUNT and beyond, negatives):
 * a member added to the header moves these along, so they stay invalid. */
static int32_t bad_code(int32_t count) {
    const int32_t v[] = {-1, -2, count, count + 1, count + 64, 0x10000, INT32_MAX, INT32_MIN};
    return PICK(v);
}
static double bad_double(void) {
    static const double v[] = {NAN, -NAN, INFINITY, -INFINITY, -1.0, 0.0, -0.0, 1e308, -1e308, DBL_MAX, 4.9e-324};
    return PICK(v);
}
static int is_bad_positive(double x) { return !(x > 0) || !isfinite(x); }

/* Forged handles: integers that were never handles. Values >= 2^40 cannot collide with a
 * registry key (keys count up from 1); small ones may, and then name a live object. */
static void *forged_handle(int *certain) {
    static int on_stack;
    static const uintptr_t big[] = {0xdeadbeefULL << 12, (uintptr_t)-1, (uintptr_t)INTPTR_MAX, (uintptr_t)1 << 40,
                                    ((uintptr_t)1 << 63) + 1, 0x00007fffdeadbeefULL};
    int r = (int)(rnd() % 4);
    if (r == 0) { *certain = 0; return (void *)(uintptr_t)irange(1, 4000); }
    if (r == 1) { *certain = 1; return (void *)&on_stack; } /* a real address, not a key */
    *certain = 1;
    return (void *)PICK(big);
}

/* ---- Handles --------------------------------------------------------------- */

enum { T_NET, T_MG, T_UNET, T_IMGNET, T_UNET2D, T_COUNT };
static const char *type_names[T_COUNT] = {"network", "multigrid", "unet2", "image network", "unet2d"};
#define POOLN 5
static void *pool[T_COUNT][POOLN];
static int64_t pool_n[T_COUNT][POOLN]; /* multigrid: matrix order */
static int npool[T_COUNT];
#define DEADN 32
static void *dead[T_COUNT][DEADN];
static int ndead[T_COUNT];
static int64_t live_start;

static int64_t live_handles(void) {
    int64_t c = -1;
    if (pdb_live_handles(&c) != PDB_OK) { fprintf(stderr, "pdb_live_handles failed\n"); abort(); }
    return c;
}

static void remember_dead(int t, void *h) {
    if (ndead[t] < DEADN) dead[t][ndead[t]++] = h;
    else dead[t][rnd() % DEADN] = h;
}

/* Removes pool slot i of type t (the handle must already be destroyed or be destroyed by the caller). */
static void pool_remove(int t, int i) {
    pool[t][i] = pool[t][npool[t] - 1];
    pool_n[t][i] = pool_n[t][npool[t] - 1];
    npool[t]--;
}

static int32_t destroy_any(int t, void *h) {
    switch (t) {
    case T_NET: return pdb_network_destroy(h);
    case T_MG: return pdb_mg_destroy(h);
    case T_IMGNET: return pdb_image_network_destroy(h);
    case T_UNET2D: return pdb_unet2d_destroy(h);
    default: return pdb_unet2_destroy(h);
    }
}

/* Adds a new live handle; a full pool destroys its oldest member first (not a fuzz call). */
static void pool_add(int t, void *h, int64_t n) {
    if (npool[t] == POOLN) {
        int32_t s = destroy_any(t, pool[t][0]);
        if (s != PDB_OK && s != PDB_ERR_HANDLE) violation("destroying a pooled %s gave %d", type_names[t], s);
        remember_dead(t, pool[t][0]);
        pool_remove(t, 0);
    }
    pool[t][npool[t]] = h;
    pool_n[t][npool[t]] = n;
    npool[t]++;
}

static pdb_image_network *new_image_network(void);

/* A valid object of type t made with helper calls (not fuzz calls), for an empty pool. */
static void refill_pool(int t) {
    if (t == T_IMGNET) {
        pdb_image_network *h = new_image_network();
        if (h) pool_add(T_IMGNET, h, 0);
    } else if (t == T_NET) {
        pdb_network *h;
        static const double fd[2] = {-1, 1};
        if (pdb_network_create(&h) != PDB_OK) { violation("pdb_network_create failed"); return; }
        pdb_network_add_diffusion(h, 0.1, PDB_TAU_FREE);
        pdb_network_add_filter(h, fd, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.5);
        pool_add(T_NET, h, 0);
    } else if (t == T_MG) {
        int64_t n = irange(5, 40);
        double *band = malloc((size_t)n * 3 * sizeof(double));
        if (pdb_poisson_1d(n, 1.0, band) == PDB_OK) {
            pdb_multigrid *h;
            if (pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, (int32_t)irange(0, PDB_SMOOTHER_COUNT - 1), 0, 1, 1,
                              (int32_t)irange(0, PDB_CYCLE_COUNT - 1), PDB_TRANSFER_AUTO, 2, 0, &h) == PDB_OK)
                pool_add(T_MG, h, n);
        }
        free(band);
    } else if (t == T_UNET2D) {
        static const int32_t kinds[2] = {PDB_UNET_DIFFUSION, PDB_UNET_STENCIL}, diffs[2] = {1, 0};
        static const int64_t filters[2] = {2, 1}, shapes[12] = {1, 2, 0, 0, 2, 1, 0, 0, 1, 1, 0, 0};
        static const double weights[5] = {-1, 1, -1, 1, 0.5}, lambdas[2] = {0.5, 1}, taus[2] = {0.1, 0};
        pdb_unet2d *h;
        if (pdb_unet2d_create(2, kinds, filters, shapes, weights, diffs, lambdas, taus, 1, 1, PDB_TRANSFER_CELL, &h) == PDB_OK)
            pool_add(T_UNET2D, h, 0);
    } else {
        static const int32_t kinds[2] = {PDB_UNET_DIFFUSION, PDB_UNET_STENCIL}, diffs[2] = {1, 0};
        static const int64_t lengths[2] = {2, 1}, offsets[2] = {0, 0};
        static const double weights[3] = {-1, 1, 0.5}, lambdas[2] = {0.5, 1}, taus[2] = {0.1, 0};
        pdb_unet2 *h;
        if (pdb_unet2_create(2, kinds, lengths, offsets, weights, diffs, lambdas, taus, 1, 1, PDB_TRANSFER_CELL, &h) == PDB_OK)
            pool_add(T_UNET, h, 0);
    }
}

/* A handle argument of type t: usually live, else NULL, destroyed, of another type or forged.
 * *slot receives the pool index of a live handle of type t (or -1). */
static void *pick_handle(int t, int *slot) {
    *slot = -1;
    if (npool[t] == 0 && pct(80)) refill_pool(t);
    int r = (int)(rnd() % 100);
    if (r < 62 && npool[t] > 0) {
        *slot = (int)(rnd() % (uint64_t)npool[t]);
        return pool[t][*slot];
    }
    if (r < 70 || (r < 62 && npool[t] == 0)) { must_fail("the handle is NULL"); return NULL; }
    if (r < 80 && ndead[t] > 0) { must_fail("the handle was destroyed"); return dead[t][rnd() % (uint64_t)ndead[t]]; }
    if (r < 90) {
        int o = (t + 1 + (int)(rnd() % 2)) % T_COUNT;
        if (npool[o] > 0) { must_fail("the handle is of another type"); return pool[o][rnd() % (uint64_t)npool[o]]; }
        if (ndead[o] > 0) { must_fail("the handle is of another type (destroyed)"); return dead[o][rnd() % (uint64_t)ndead[o]]; }
    }
    int certain;
    void *h = forged_handle(&certain);
    if (certain) must_fail("the handle is forged");
    return h;
}

/* ---- Argument generators --------------------------------------------------- */

typedef struct {
    const double *w;
    int64_t q, offset;
} stencil_t;

/* A stencil argument: usually 1..6 weights (sometimes up to 24) near the origin;
 * hostile: NULL, length 0/negative/huge, non-finite weights, far or out-of-range offsets. */
static stencil_t gen_stencil(void) {
    stencil_t s;
    int64_t q = pct(85) ? irange(1, 6) : irange(7, 24);
    double *w = in_d(q, q + irange(0, 3), -1, 1, 0, "stencil weights");
    if (pct(3)) memset(w, 0, (size_t)q * sizeof(double)); /* the zero operator */
    if (pct(H)) {
        fill(w, q, -1, 1, 100);
        for (int64_t j = 0; j < q; j++)
            if (!isfinite(w[j])) { must_fail("a stencil weight is not finite"); break; }
    }
    s.w = w;
    s.q = q;
    s.offset = irange(-q, 1);
    if (pct(H)) {
        int r = (int)(rnd() % 3);
        if (r == 0) { s.w = NULL; must_fail("the stencil weights are NULL"); }
        else if (r == 1) { s.q = pct(50) ? 0 : bad_len(); must_fail("the stencil length is not positive or huge"); }
        else {
            static const int64_t offs[] = {INT64_MIN, INT64_MAX, (int64_t)1 << 40, -((int64_t)1 << 40)};
            s.offset = PICK(offs);
            must_fail("the stencil offset is out of range");
        }
    } else if (pct(H)) {
        s.offset = pct(50) ? irange(-5000, 5000) : (pct(50) ? ((int64_t)1 << 40) - 1 : -((int64_t)1 << 40) + 1);
    }
    return s;
}

static int32_t gen_kind(void) {
    if (pct(H)) { must_fail("the diffusivity kind is unknown"); return bad_code(PDB_DIFFUSIVITY_COUNT); }
    return (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
}
static double gen_lambda(void) {
    if (pct(H)) {
        double l = bad_double();
        if (is_bad_positive(l)) must_fail("lambda is not positive and finite");
        return l;
    }
    return unif(0.05, 3);
}
static int32_t gen_flags(void) {
    if (pct(H)) { must_fail("unknown flag bits"); static const int32_t f[] = {2, 3, 4, -1, INT32_MIN, 0x100}; return PICK(f); }
    return pct(20) ? PDB_UNCHECKED : 0;
}
/* A step count or similar work count: small, or invalid. */
static int64_t gen_work(int64_t lo, int64_t hi, const char *what) {
    if (pct(H)) {
        int64_t v = bad_len();
        if (v < lo || v > ((int64_t)1 << 40)) must_fail(what);
        return v;
    }
    return irange(lo, hi);
}

typedef struct {
    int64_t batch, n, total; /* total: elements behind f and out (when sizes are valid) */
    double *f, *out;
    int valid, inplace;
} signals_t;

/* (batch, n) signals with an input f and an output out (out may alias f when allowed). */
static signals_t gen_signals(int64_t min_n, int64_t max_n, int allow_inplace, const char *fname) {
    signals_t s;
    s.batch = irange(1, 3);
    s.n = pct(4) ? irange(max_n, 300) : irange(min_n, max_n); /* sometimes long: vector kernels */
    s.valid = 1;
    s.inplace = 0;
    if (pct(H)) {
        s.valid = 0;
        int r = (int)(rnd() % 4);
        if (r == 0) { s.batch = pct(50) ? 0 : bad_len(); must_fail("batch is not positive"); }
        else if (r == 1) { s.n = pct(50) ? 0 : bad_len(); must_fail("n is not positive"); }
        else if (r == 2) {
            static const int64_t pairs[][2] = {{(int64_t)1 << 32, (int64_t)1 << 32}, {INT64_MAX, 2}, {2, INT64_MAX},
                                               {3, INT64_MAX / 2}, {(int64_t)1 << 31, (int64_t)1 << 31},
                                               {-((int64_t)1 << 32), -((int64_t)1 << 32)}, {-4, -4}};
            int k = (int)(rnd() % 7);
            s.batch = pairs[k][0];
            s.n = pairs[k][1];
            must_fail("batch*n overflows or is beyond any memory");
        } else {
            s.valid = 1;
            if (min_n >= 2) { s.n = 1; must_fail("n = 1 is below the minimum 2"); }
        }
    }
    s.total = s.valid ? s.batch * s.n : 4;
    int64_t cap = s.total + irange(0, 2);
    s.f = in_d(s.total, cap, -1, 1, H, fname);
    for (int64_t i = 0; i < s.total; i++)
        if (!isfinite(s.f[i])) { must_fail("the input holds NaN or Inf"); break; }
    if (allow_inplace && pct(15)) {
        s.out = s.f;
        s.inplace = 1;
        regs[nregs - 1].writable = s.valid ? (size_t)s.total * sizeof(double) : 0;
        regs[nregs - 1].name = "f (= out)";
    } else {
        s.out = out_d(s.valid ? s.total : 0, cap, "out");
    }
    if (pct(H / 2 + 1)) { s.f = NULL; must_fail("f is NULL"); }
    if (pct(H / 2 + 1)) { s.out = NULL; must_fail("out is NULL"); }
    return s;
}

/* A small symmetric positive definite banded matrix (diagonally dominant), or a hostile one. */
typedef struct {
    int64_t n, kl, ku;
    double *band;
    int64_t count; /* doubles behind band (before any hostile change of n, kl, ku) */
    int valid;
} banded_t;

static banded_t gen_banded(int64_t min_n, int64_t max_n, int spd) {
    banded_t m;
    m.n = irange(min_n, max_n);
    int64_t k = m.n > 1 ? irange(0, m.n - 1 < 2 ? m.n - 1 : 2) : 0;
    m.kl = k;
    m.ku = spd ? k : (m.n > 1 ? irange(0, m.n - 1 < 2 ? m.n - 1 : 2) : 0);
    m.valid = 1;
    int64_t width = m.kl + m.ku + 1, count = m.n * width;
    m.band = in_d(count, count + irange(0, 3), 0, 0, 0, "band");
    m.count = count;
    for (int64_t i = 0; i < m.n; i++) {
        double diag = 0.1;
        for (int64_t d = -m.kl; d <= m.ku; d++) {
            int64_t j = i + d;
            if (d == 0 || j < 0 || j >= m.n) continue;
            double v = -unif(0.1, 1.0);
            if (spd && d > 0) v = -0.5 - 0.1 * (double)((i + j) % 3); /* symmetric: depends on {i, j} only */
            if (spd && d < 0) v = -0.5 - 0.1 * (double)((i + j) % 3);
            m.band[i * width + d + m.kl] = v;
            diag += fabs(v);
        }
        m.band[i * width + m.kl] = diag + unif(0, 1);
    }
    if (pct(H)) {
        m.valid = 0;
        int r = (int)(rnd() % 5);
        if (r == 0) { m.band[irange(0, count - 1)] = special_value(); }
        else if (r == 1 && m.kl > 0) { m.band[0] = 1.0; must_fail("a slot outside the matrix is nonzero"); }
        else if (r == 2) { m.kl = pct(50) ? m.n : bad_len(); must_fail("kl is out of range"); }
        else if (r == 3) { m.n = pct(50) ? 0 : bad_len(); must_fail("n is not positive"); }
        else { m.band = NULL; must_fail("band is NULL"); }
        if (r == 0) {
            for (int64_t i = 0; i < count; i++)
                if (!isfinite(m.band[i])) { must_fail("band holds a non-finite value"); break; }
        }
    }
    return m;
}

/* ---- Entry points: errors, version, threads, handles ----------------------- */

static void g_last_error(void) {
    if (pct(50)) pdb_set_threads(-5); /* a failure to report */
    prepare();
    const char *m = pdb_last_error();
    call_serial++;
    cur->ok++;
    if (m == NULL) violation("pdb_last_error() returned NULL");
}

static void g_version(void) {
    int32_t *a = out_scalar(4, 10, 1, "major"), *b = out_scalar(4, 10, 1, "minor"), *c = out_scalar(4, 10, 1, "patch");
    RUN(pdb_version(a, b, c));
}

static void g_version_string(void) {
    prepare();
    const char *v = pdb_version_string();
    call_serial++;
    cur->ok++;
    int32_t a, b, c;
    char expect[64];
    if (v == NULL) { violation("pdb_version_string() is NULL"); return; }
    if (pdb_version(&a, &b, &c) != PDB_OK) { violation("pdb_version failed"); return; }
    snprintf(expect, sizeof expect, "%d.%d.%d", a, b, c);
    if (strcmp(v, expect) != 0) violation("pdb_version_string() = \"%s\", pdb_version gives %s", v, expect);
}

/* "version=<pdb_version_string()> variant=... cpu=... fma=0|1 arch=...", the same pointer each call. */
static void g_build_info(void) {
    prepare();
    const char *info = pdb_build_info();
    call_serial++;
    cur->ok++;
    if (info == NULL) { violation("pdb_build_info() is NULL"); return; }
    char expect[80];
    snprintf(expect, sizeof expect, "version=%s variant=", pdb_version_string());
    if (strncmp(info, expect, strlen(expect)) != 0) violation("pdb_build_info() = \"%s\" does not start with %s", info, expect);
    if (!strstr(info, " fma=") || !strstr(info, " arch=")) violation("pdb_build_info() = \"%s\" lacks fma= or arch=", info);
    if (pdb_build_info() != info) violation("pdb_build_info() is not one static string");
}

/* A static, lowercase name ([a-z0-9_]+) or NULL; never a failure, last error untouched. */
static void check_enum_name(const char *fn, int32_t family, int32_t code, const char *name, int must_be_null) {
    const char *m = pdb_last_error();
    if (m == NULL || strstr(m, "fuzz-marker-name") == NULL) violation("%s(%d, %d) changed pdb_last_error()", fn, family, code);
    if (name == NULL) return;
    if (must_be_null) { violation("%s(%d, %d) = \"%s\", expected NULL", fn, family, code, name); return; }
    size_t len = strlen(name);
    if (len == 0 || len > 64) violation("%s(%d, %d) has length %zu", fn, family, code, len);
    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            { violation("%s(%d, %d) = \"%s\" is not a lowercase name", fn, family, code, name); return; }
}

static void g_enum_name(void) {
    int32_t family = pct(20) ? bad_enum() : (int32_t)irange(0, PDB_ENUM_COUNT - 1);
    int32_t code = pct(30) ? bad_enum() : (int32_t)irange(-12, 70);
    prepare();
    const char *name = pdb_enum_name((pdb_enum_family)family, code);
    call_serial++;
    cur->ok++;
    check_enum_name("pdb_enum_name", family, code, name, family < 0 || family >= PDB_ENUM_COUNT);
    if (family == PDB_ENUM_STATUS) {
        const char *s = pdb_status_string(code);
        if (s != name) violation("pdb_status_string(%d) differs from pdb_enum_name(PDB_ENUM_STATUS, %d)", code, code);
    }
}

static void g_status_string(void) {
    int32_t status = pct(30) ? bad_enum() : (int32_t)irange(-100, 2);
    prepare();
    const char *name = pdb_status_string(status);
    call_serial++;
    cur->ok++;
    check_enum_name("pdb_status_string", PDB_ENUM_STATUS, status, name, status > 0 || (status < -10 && status != PDB_ERR_INTERNAL));
    if ((status == PDB_OK) != (name != NULL && strcmp(name, "ok") == 0)) violation("pdb_status_string(%d) = %s", status, name ? name : "NULL");
}

static void g_set_threads(void) {
    int32_t t = (int32_t)irange(0, 3);
    if (pct(H * 2)) {
        static const int32_t bad[] = {-1, -2, 4097, INT32_MAX, INT32_MIN};
        t = PICK(bad);
        must_fail("threads out of 0...4096");
    }
    RUN(pdb_set_threads(t));
}

/* A progress handler that counts its calls and never cancels (cancellation is covered by
 * python/tests/test_progress.py; here it must not turn other entry points' successes into
 * failures). Installed and removed at random, so the schemes also run with it. */
static int64_t progress_calls;
static int32_t fuzz_progress(void *user, int64_t done, int64_t total, double value) {
    (void)done; (void)total; (void)value;
    ++*(int64_t *)user;
    return 0;
}

static void g_set_progress(void) {
    static const double intervals[] = {0.0, 0.001, 0.1, INFINITY};
    double interval = PICK(intervals);
    pdb_progress_fn fn = pct(30) ? NULL : fuzz_progress;
    if (fn != NULL && pct(H * 2)) {
        static const double bad[] = {-1.0, -1e-300, NAN, -INFINITY};
        interval = PICK(bad);
        must_fail("interval must be >= 0 and not NaN");
    }
    RUN(pdb_set_progress(fn, &progress_calls, interval));
}

static void g_get_threads(void) { RUN(pdb_get_threads(out_scalar(4, 10, 1, "threads"))); }
static void g_live_handles(void) { RUN(pdb_live_handles(out_scalar(8, 10, 1, "count"))); }

/* ---- Operators ------------------------------------------------------------- */

static void g_stencil_map(int adjoint) {
    stencil_t k = gen_stencil();
    signals_t s = gen_signals(1, 16, 0, "u");
    if (adjoint) RUN(pdb_stencil_adjoint(k.w, k.q, k.offset, s.f, s.batch, s.n, s.out));
    else RUN(pdb_stencil_apply(k.w, k.q, k.offset, s.f, s.batch, s.n, s.out));
}
static void g_stencil_apply(void) { g_stencil_map(0); }
static void g_stencil_adjoint(void) { g_stencil_map(1); }

static void g_stencil_matrix(void) {
    stencil_t k = gen_stencil();
    int64_t n = irange(1, 12);
    double *out;
    if (pct(H)) {
        static const int64_t bad[] = {0, -1, 32769, INT64_MIN, INT64_MAX, (int64_t)1 << 40};
        n = PICK(bad);
        must_fail("n is out of 1...32768");
        out = out_d(0, 4, "out");
    } else if (pct(H / 2 + 1)) {
        n = pct(50) ? 32768 : irange(1, 12); /* a large valid n, with out NULL */
        out = NULL;
        must_fail("out is NULL");
    } else {
        out = out_d(n * n, n * n + irange(0, 3), "out");
    }
    RUN(pdb_stencil_matrix(k.w, k.q, k.offset, n, out));
}

/* The n of the certified norm functions: small, or invalid (a valid huge n is a request
 * for O(n) work: not fuzzed). */
static int64_t gen_norm_n(int64_t min_n) {
    if (pct(H)) {
        int64_t v = bad_scalar();
        if (v >= min_n && v <= ((int64_t)1 << 40)) v = -3; /* valid but huge: replaced */
        must_fail("n is out of range");
        return v;
    }
    return pct(1) ? irange(512, 4096) : irange(min_n, 48); /* sometimes long: far offsets cost O(n q^2) */
}

static void g_stencil_norm_squared(void) {
    stencil_t k = gen_stencil();
    int64_t n = gen_norm_n(1);
    RUN(pdb_stencil_norm_squared(k.w, k.q, k.offset, n, out_scalar(8, 8, 1, "out")));
}

static void g_difference_operator(void) {
    int64_t count = irange(0, 18), cap = count + irange(0, 2);
    double *alphas = in_d(count, cap, -2, 2, H, "alphas");
    if (count > 17) must_fail("order above 16");
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(alphas[i])) { must_fail("alphas hold NaN or Inf"); break; }
    if (pct(H)) { alphas = NULL; must_fail("alphas is NULL"); }
    if (pct(H)) { count = bad_len(); alphas = pct(50) ? NULL : alphas; must_fail("count is negative or huge"); }
    double h = pct(H) ? bad_double() : unif(0.1, 2);
    if (is_bad_positive(h)) must_fail("h is not positive and finite");
    double *weights = NULL;
    int64_t capacity = 0;
    int r = (int)(rnd() % 4);
    if (r == 0) { weights = NULL; capacity = 0; } /* size query */
    else if (r == 1 && pct(30)) { weights = NULL; capacity = irange(1, 20); must_fail("weights NULL with capacity > 0"); }
    else {
        int64_t wcap = irange(0, 20);
        capacity = irange(0, wcap);
        weights = out_d(capacity, wcap, "weights");
        if (pct(H)) { capacity = bad_len(); must_fail("capacity is negative or huge"); if (capacity > 0) weights = NULL; }
    }
    int64_t *length = out_scalar(8, 8, 1, "length"), *offset = out_scalar(8, 8, 1, "offset");
    RUN(pdb_difference_operator(alphas, count, h, weights, capacity, length, offset));
}

/* ---- Diffusivities ------------------------------------------------------------ */

static void g_diffusivity_from_name(void) {
    static const char *valid[] = {"linear", "perona_malik", "perona_malik_rational", "charbonnier", "weickert"};
    static const char *bad[] = {"", "Linear", "perona-malik", "weickert ", " linear", "\xff\xfe\xfd", "charbonnier\n",
                                "perona_malik_rational_", "lin\xc3\xa9" "ar"};
    static char longname[4097];
    const char *name = PICK(valid);
    if (pct(H * 2)) {
        int r = (int)(rnd() % 3);
        if (r == 0) { name = NULL; must_fail("name is NULL"); }
        else if (r == 1) { name = PICK(bad); must_fail("the name is unknown"); }
        else {
            for (int i = 0; i < 4096; i++) longname[i] = (char)('a' + (int)(rnd() % 26));
            longname[4096] = 0;
            name = longname;
            must_fail("the name is unknown");
        }
    }
    RUN(pdb_diffusivity_from_name(name, out_scalar(4, 8, 1, "kind")));
}

static void g_diffusivity_name(void) {
    int32_t kind = pct(30) ? bad_code(PDB_DIFFUSIVITY_COUNT) : (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
    prepare();
    const char *name = pdb_diffusivity_name((pdb_diffusivity)kind);
    call_serial++;
    cur->ok++;
    int known = kind >= 0 && kind < PDB_DIFFUSIVITY_COUNT;
    if (known != (name != NULL)) { violation("pdb_diffusivity_name(%d) = %s", kind, name ? name : "NULL"); return; }
    if (name) {
        int32_t back = -1;
        if (pdb_diffusivity_from_name(name, &back) != PDB_OK || back != kind)
            violation("pdb_diffusivity_name(%d) = \"%s\" does not map back (%d)", kind, name, back);
    }
}

static void g_diffusivity_eval(int which) {
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    int64_t count = irange(0, 24), cap = count + irange(0, 3);
    double *x = in_d(count, cap, which == 0 ? 0 : -4, 4, H, which == 0 ? "s2" : "s");
    for (int64_t i = 0; i < count; i++)
        if (isnan(x[i]) || (which == 0 && x[i] < 0)) { must_fail("s2 < 0 or NaN input"); break; }
    double *out = out_d(count, cap, "out");
    if (pct(H)) { x = NULL; must_fail("input is NULL"); }
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    if (pct(H)) { count = bad_len(); must_fail("count is negative or huge"); }
    if (which == 0) RUN(pdb_diffusivity_g(kind, lambda, x, count, out));
    else if (which == 1) RUN(pdb_diffusivity_flux(kind, lambda, x, count, out));
    else RUN(pdb_diffusivity_flux_derivative(kind, lambda, x, count, out));
}
static void g_diffusivity_g(void) { g_diffusivity_eval(0); }
static void g_diffusivity_flux(void) { g_diffusivity_eval(1); }
static void g_diffusivity_flux_derivative(void) { g_diffusivity_eval(2); }

static void g_diffusivity_constants(void) {
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    RUN(pdb_diffusivity_constants(kind, lambda, out_scalar(8, 8, 1, "sup_g"), out_scalar(8, 8, 1, "lipschitz")));
}

/* ---- Schemes ------------------------------------------------------------------- */

static double gen_tau(double typical) {
    if (pct(H)) {
        double t = bad_double();
        if (!(t >= 0) || !isfinite(t)) must_fail("tau is negative or not finite");
        return t;
    }
    return unif(0, typical);
}

/* A history buffer for record_every = r over `count` steps/cycles of (batch, n) signals. */
static double *gen_history(signals_t *s, int64_t every, int64_t count, int64_t *length) {
    if (every <= 0 || !s->valid || count < 0 || count > 64) {
        *length = irange(0, 4);
        if (pct(50)) return NULL;
        return out_d(*length, *length, "history");
    }
    int64_t need = (count / every + 1) * s->total;
    int64_t cap = need + irange(0, 3);
    *length = need;
    if (pct(H)) {
        *length = need + (pct(50) ? -1 : 1);
        if (*length > cap) *length = cap;
        if (*length != need) must_fail("history_length does not match");
    }
    if (pct(H)) { must_fail("history is NULL with record_every > 0"); return NULL; }
    return out_d(*length, cap, "history");
}

static int64_t gen_every(void) {
    if (pct(H)) { must_fail("record_every is negative"); return pct(50) ? -1 : INT64_MIN; }
    return pct(60) ? 0 : irange(1, 3);
}

static void g_stable_tau(void) {
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    int64_t n = gen_norm_n(2);
    int32_t bound = pct(H) ? (must_fail("unknown bound"), bad_code(PDB_BOUND_COUNT)) : (int32_t)irange(0, PDB_BOUND_COUNT - 1);
    if (pct(H) && !expect_fail) { n = 1; must_fail("n = 1"); }
    RUN(pdb_stable_tau(k.w, k.q, k.offset, kind, lambda, n, bound, out_scalar(8, 8, 1, "tau")));
}

/* The arguments of one pdb_explicit call (also the packed form's struct). */
static pdb_explicit_args gen_explicit(void) {
    signals_t s = gen_signals(2, 12, 1, "f");
    stencil_t k = gen_stencil();
    pdb_explicit_args a = {.f = s.f, .batch = s.batch, .n = s.n, .weights = k.w, .length = k.q, .offset = k.offset};
    a.kind = gen_kind();
    a.lambda = gen_lambda();
    a.tau = gen_tau(0.3);
    a.steps = gen_work(0, 6, "steps is negative or huge");
    a.flags = gen_flags();
    a.record_every = gen_every();
    a.history = gen_history(&s, a.record_every, a.steps, &a.history_length);
    if (a.record_every > 0 && !a.history) must_fail("history is NULL");
    a.out = s.out;
    return a;
}

static void g_explicit(void) {
    pdb_explicit_args a = gen_explicit();
    RUN(pdb_explicit(a.f, a.batch, a.n, a.weights, a.length, a.offset, a.kind, a.lambda, a.tau, a.steps, a.flags,
                     a.record_every, a.history, a.history_length, a.out));
}

/* The same calls through the packed struct, which sits in a region of its own (it must
 * not change); sometimes the struct pointer is NULL. */
static void g_explicit_packed(void) {
    pdb_explicit_args a = gen_explicit(), *p = NULL;
    if (pct(H)) must_fail("args is NULL");
    else {
        p = region(sizeof a, 0, "args");
        *p = a;
    }
    RUN(pdb_explicit_packed(p));
}

static int32_t gen_update(void) {
    if (pct(H)) { must_fail("unknown update"); return bad_code(PDB_UPDATE_COUNT); }
    return (int32_t)irange(0, PDB_UPDATE_COUNT - 1);
}
static int32_t gen_ordering(void) {
    if (pct(H)) { must_fail("unknown ordering"); return bad_code(PDB_FED_ORDER_COUNT); }
    return (int32_t)irange(0, PDB_FED_ORDER_COUNT - 1);
}
static int64_t gen_cycle_length(void) {
    if (pct(H)) {
        static const int64_t bad[] = {0, -1, PDB_MAX_CYCLE_LENGTH + 1, INT64_MAX, INT64_MIN};
        must_fail("cycle_length out of range");
        return PICK(bad);
    }
    return pct(2) ? irange(1000, 3000) : irange(1, 10);
}

static void g_fsi(void) {
    signals_t s = gen_signals(2, 12, 1, "f");
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda(), tau = gen_tau(0.3);
    int64_t L = gen_cycle_length(), cycles = gen_work(0, 3, "cycles is negative or huge");
    int32_t update = gen_update(), flags = gen_flags();
    int64_t every = gen_every(), hl;
    double *hist = gen_history(&s, every, cycles, &hl);
    if (every > 0 && !hist) must_fail("history is NULL");
    RUN(pdb_fsi(s.f, s.batch, s.n, k.w, k.q, k.offset, kind, lambda, tau, L, cycles, update, flags, every, hist, hl,
                s.out));
}

static void g_fed_step_sizes(void) {
    int64_t L = gen_cycle_length();
    double tau_max = pct(H) ? bad_double() : unif(0.01, 1);
    if (is_bad_positive(tau_max)) must_fail("tau_max is not positive and finite");
    int32_t ordering = gen_ordering();
    if (ordering == PDB_FED_ORDER_LEJA && L > PDB_MAX_LEJA_CYCLE_LENGTH && L <= PDB_MAX_CYCLE_LENGTH)
        must_fail("Leja order above its maximum length");
    int64_t valid_l = (L >= 1 && L <= 4096) ? L : 4;
    int64_t cap = valid_l + irange(0, 2), out_length = valid_l;
    double *out = out_d(out_length, cap, "out");
    if (pct(H)) { out_length = irange(0, cap); if (out_length != L) must_fail("out_length != cycle_length"); }
    if (L != out_length) must_fail("out_length != cycle_length");
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    RUN(pdb_fed_step_sizes(L, tau_max, ordering, out, out_length));
}

static void g_fed(void) {
    signals_t s = gen_signals(2, 12, 1, "f");
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda(), tau = gen_tau(0.3);
    int64_t L = gen_cycle_length(), cycles = gen_work(0, 3, "cycles is negative or huge");
    int32_t ordering = gen_ordering(), update = gen_update(), flags = gen_flags();
    if (ordering == PDB_FED_ORDER_LEJA && L > PDB_MAX_LEJA_CYCLE_LENGTH && L <= PDB_MAX_CYCLE_LENGTH)
        must_fail("Leja order above its maximum length");
    int64_t every = gen_every(), hl;
    double *hist = gen_history(&s, every, cycles, &hl);
    if (every > 0 && !hist) must_fail("history is NULL");
    RUN(pdb_fed(s.f, s.batch, s.n, k.w, k.q, k.offset, kind, lambda, tau, L, cycles, ordering, update, flags, every,
                hist, hl, s.out));
}

static void g_contraction_tau(void) {
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    int64_t n = gen_norm_n(2);
    RUN(pdb_contraction_tau(k.w, k.q, k.offset, kind, lambda, n, out_scalar(8, 8, 1, "tau")));
}

static double gen_tol(void) {
    if (pct(H)) {
        double t = bad_double();
        if (!(t >= 0) || !isfinite(t)) must_fail("tol is negative or not finite");
        return t;
    }
    return pct(50) ? 0 : unif(1e-8, 1e-2);
}

static void g_implicit(void) {
    signals_t s = gen_signals(2, 12, 1, "f");
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda(), tau = gen_tau(0.2);
    int64_t steps = gen_work(0, 4, "steps is negative or huge");
    int64_t iterations = gen_work(1, 6, "iterations is out of range");
    double tol = gen_tol();
    int32_t flags = gen_flags();
    RUN(pdb_implicit(s.f, s.batch, s.n, k.w, k.q, k.offset, kind, lambda, tau, steps, iterations, tol, flags, s.out,
                     out_scalar(8, 30, 0, "sweeps"), out_scalar(8, 30, 0, "residual")));
}

static void g_evolve(void) {
    signals_t s = gen_signals(2, 12, 1, "f");
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    double T = unif(0, 3);
    if (pct(H)) {
        static const double bad[] = {NAN, INFINITY, -INFINITY, -1.0, 1e300, DBL_MAX, 1e30};
        T = PICK(bad);
        if (!(T >= 0) || !isfinite(T)) must_fail("T is negative or not finite");
    }
    int32_t scheme = pct(H) ? (must_fail("unknown scheme"), bad_code(PDB_SCHEME_COUNT)) : (int32_t)irange(0, PDB_SCHEME_COUNT - 1);
    /* The options each scheme reads; setting another one is refused. */
    static const int32_t uses[4] = {
        PDB_EVOLVE_HAS_TAU, PDB_EVOLVE_HAS_TAU | PDB_EVOLVE_HAS_CYCLES | PDB_EVOLVE_HAS_UPDATE,
        PDB_EVOLVE_HAS_TAU | PDB_EVOLVE_HAS_CYCLES | PDB_EVOLVE_HAS_ORDERING | PDB_EVOLVE_HAS_UPDATE,
        PDB_EVOLVE_HAS_TAU | PDB_EVOLVE_HAS_ITERATIONS | PDB_EVOLVE_HAS_TOL | PDB_EVOLVE_HAS_CONTRACTION};
    int32_t set = (int32_t)(rnd() & 0x7f) & (scheme >= 0 && scheme <= 3 ? uses[scheme] : 0x7f);
    if (pct(H)) { set |= (int32_t)(1u << irange(0, 6)); }
    if (scheme >= 0 && scheme <= 3 && (set & ~uses[scheme])) must_fail("an option the scheme does not use is set");
    if (pct(H)) { set |= (int32_t)(1u << irange(7, 31)); must_fail("unknown option bits"); }
    double tau = pct(H) ? bad_double() : unif(0.01, 0.3);
    int64_t cycles = pct(H) ? bad_len() : irange(0, 4);
    int32_t ordering = pct(H) ? bad_code(PDB_FED_ORDER_COUNT) : (int32_t)irange(0, PDB_FED_ORDER_COUNT - 1);
    int32_t update = pct(H) ? bad_code(PDB_UPDATE_COUNT) : (int32_t)irange(0, PDB_UPDATE_COUNT - 1);
    int64_t iterations = pct(H) ? bad_len() : irange(0, 8);
    double tol = pct(H) ? bad_double() : unif(0, 1e-3);
    double contraction = pct(H) ? bad_double() : unif(0.05, 0.95);
    int32_t flags = gen_flags();
    int64_t rl = 0;
    double *report = NULL;
    int r = (int)(rnd() % 4);
    if (r == 1) { rl = irange(PDB_EVOLVE_REPORT_COUNT, PDB_EVOLVE_REPORT_COUNT + 3); report = out_d(rl, rl + 1, "report"); }
    else if (r == 2) { rl = irange(1, PDB_EVOLVE_REPORT_COUNT - 1); report = out_d(rl, rl, "report"); must_fail("report_length < 11"); }
    else if (r == 3 && pct(30)) { rl = PDB_EVOLVE_REPORT_COUNT; must_fail("report NULL with report_length > 0"); }
    else if (r == 3) { rl = bad_len(); report = out_d(0, 12, "report"); must_fail("report_length negative or huge"); }
    /* An option that is set but unused by the scheme, or out of its domain, is refused by the
     * library; the generator does not try to predict every combination, only the certain ones. */
    if ((set & PDB_EVOLVE_HAS_TAU) && isnan(tau)) must_fail("tau is NaN");
    if ((set & PDB_EVOLVE_HAS_CYCLES) && cycles < 0) must_fail("cycles < 0");
    if ((set & PDB_EVOLVE_HAS_ORDERING) && (ordering < 0 || ordering >= PDB_FED_ORDER_COUNT)) must_fail("unknown ordering");
    if ((set & PDB_EVOLVE_HAS_UPDATE) && (update < 0 || update >= PDB_UPDATE_COUNT)) must_fail("unknown update");
    if ((set & PDB_EVOLVE_HAS_ITERATIONS) && iterations < 0) must_fail("iterations < 0");
    if ((set & PDB_EVOLVE_HAS_CONTRACTION) && !(contraction > 0 && isfinite(contraction))) must_fail("contraction not positive");
    if ((set & PDB_EVOLVE_HAS_CONTRACTION) && contraction >= 1 && !(flags & PDB_UNCHECKED))
        must_fail("contraction >= 1 without PDB_UNCHECKED");
    if ((set & PDB_EVOLVE_HAS_TOL) && !(tol >= 0 && isfinite(tol))) must_fail("tol is negative or not finite");
    RUN(pdb_evolve(s.f, s.batch, s.n, k.w, k.q, k.offset, kind, lambda, T, scheme, set, tau, cycles, ordering, update,
                   iterations, tol, contraction, flags, s.out, report, rl));
}

/* ---- Image schemes (pdeblocks_image_schemes.h) ---------------------------- */

typedef struct {
    int64_t batch, height, width, total;
    double *f, *out;
    int valid;
} images_t;

/* (batch, height, width) images (small; sometimes wide: the vector kernel); out may be f. */
static images_t gen_images(void) {
    images_t m;
    m.batch = irange(1, 2);
    m.height = irange(1, 7);
    m.width = pct(5) ? irange(20, 70) : irange(1, 7);
    m.valid = 1;
    if (pct(H)) {
        m.valid = 0;
        int r = (int)(rnd() % 3);
        if (r == 0) { m.height = pct(50) ? 0 : bad_len(); must_fail("height is not positive"); }
        else if (r == 1) { m.width = pct(50) ? 0 : bad_len(); must_fail("width is not positive"); }
        else { m.batch = (int64_t)1 << 31; m.height = (int64_t)1 << 31; m.width = 4; must_fail("too many pixels"); }
    }
    m.total = m.valid ? m.batch * m.height * m.width : 4;
    int64_t cap = m.total + irange(0, 2);
    m.f = in_d(m.total, cap, -1, 1, H, "f");
    for (int64_t i = 0; i < m.total; i++)
        if (!isfinite(m.f[i])) { must_fail("the input holds NaN or Inf"); break; }
    if (pct(15)) {
        m.out = m.f;
        regs[nregs - 1].writable = m.valid ? (size_t)m.total * sizeof(double) : 0;
        regs[nregs - 1].name = "f (= out)";
    } else {
        m.out = out_d(m.valid ? m.total : 0, cap, "out");
    }
    if (pct(H / 2 + 1)) { m.f = NULL; must_fail("f is NULL"); }
    if (pct(H / 2 + 1)) { m.out = NULL; must_fail("out is NULL"); }
    return m;
}

typedef struct {
    int64_t filters;
    int64_t *shapes;
    double *weights;
    int32_t coupling;
    int64_t diffusivities;
    int32_t *kinds;
    double *lambdas;
} image_op_t;

/* A filter bank (usually gradient_2d, else 1..3 small filters with offsets), a coupling and
 * 1 or C diffusivities; hostile: unknown coupling, bad counts, bad shapes, NULLs, bad kinds. */
/* The bank part of gen_image_op (filters, filter_shapes, filter_weights); hostile: a
 * non-finite weight, a bad side, NULL arrays. */
static void gen_bank(image_op_t *bank) {
    image_op_t o;
    int gradient = pct(60);
    o.filters = gradient ? 2 : irange(1, 3);
    o.shapes = region((size_t)(4 * o.filters) * sizeof(int64_t), 0, "filter_shapes");
    int64_t total = 0;
    for (int64_t c = 0; c < o.filters; c++) {
        int64_t r = gradient ? (c == 0 ? 1 : 2) : irange(1, 3), k = gradient ? (c == 0 ? 2 : 1) : irange(1, 3);
        o.shapes[4 * c] = r;
        o.shapes[4 * c + 1] = k;
        o.shapes[4 * c + 2] = gradient ? 0 : irange(-2, 1);
        o.shapes[4 * c + 3] = gradient ? 0 : irange(-2, 1);
        total += r * k;
    }
    o.weights = in_d(total, total, -1, 1, 0, "filter_weights");
    if (gradient) { o.weights[0] = -1; o.weights[1] = 1; o.weights[2] = -1; o.weights[3] = 1; }
    if (pct(H)) {
        int r = (int)(rnd() % 4);
        if (r == 0) {
            double v = special_value(); /* NaN, +-Inf, huge or subnormal */
            o.weights[irange(0, total - 1)] = v;
            if (!isfinite(v)) must_fail("a filter weight is not finite");
        }
        else if (r == 1) { o.shapes[0] = pct(50) ? 0 : bad_len(); must_fail("a filter side is out of range"); }
        else if (r == 2) { o.shapes = NULL; must_fail("filter_shapes is NULL"); }
        else { o.weights = NULL; must_fail("filter_weights is NULL"); }
    }
    *bank = o;
}

static image_op_t gen_image_op(void) {
    image_op_t o;
    gen_bank(&o);
    o.coupling = pct(H) ? (must_fail("unknown coupling"), bad_code(PDB_COUPLING_COUNT))
                        : (int32_t)irange(0, PDB_COUPLING_COUNT - 1);
    o.diffusivities = (o.coupling == PDB_COUPLING_CHANNELWISE && pct(40)) ? o.filters : 1;
    if (pct(H)) {
        o.diffusivities = pct(50) ? 0 : o.filters + 1;
        must_fail("the number of diffusivities is neither 1 nor (channelwise) the number of filters");
    }
    int64_t nd = o.diffusivities > 0 && o.diffusivities < 8 ? o.diffusivities : 1;
    o.kinds = region((size_t)nd * sizeof(int32_t), 0, "kinds");
    o.lambdas = in_d(nd, nd, 0.05, 3, 0, "lambdas");
    for (int64_t k = 0; k < nd; k++) o.kinds[k] = gen_kind();
    if (pct(H)) { o.lambdas[0] = pct(50) ? -1.0 : NAN; must_fail("lambda is not positive and finite"); }
    if (pct(H / 2 + 1)) { o.kinds = NULL; must_fail("kinds is NULL"); }
    if (pct(H / 2 + 1)) { o.lambdas = NULL; must_fail("lambdas is NULL"); }
    return o;
}

/* The history of record_every = r over `count` steps/cycles of the images. */
static double *gen_image_history(images_t *m, int64_t every, int64_t count, int64_t *length) {
    signals_t s;
    s.valid = m->valid;
    s.total = m->total;
    return gen_history(&s, every, count, length);
}

/* ---- Image operators (pdeblocks_images.h) --------------------------------- */

typedef struct {
    int64_t batch, height, width, pixels; /* pixels: batch*height*width when valid, else 4 */
    int valid;
} image_size_t;

/* A small (batch, height, width); hostile: a side not positive, or too many pixels. */
static image_size_t gen_image_size(void) {
    image_size_t z = {irange(1, 2), irange(1, 6), irange(1, 6), 0, 1};
    if (pct(H)) {
        z.valid = 0;
        int r = (int)(rnd() % 3);
        if (r == 0) { z.height = pct(50) ? 0 : bad_len(); must_fail("height is not positive"); }
        else if (r == 1) { z.width = pct(50) ? 0 : bad_len(); must_fail("width is not positive"); }
        else { z.batch = (int64_t)1 << 31; z.height = (int64_t)1 << 31; z.width = 4; must_fail("too many pixels"); }
    }
    z.pixels = z.valid ? z.batch * z.height * z.width : 4;
    return z;
}

/* An input image array of `count` values (must_fail when it holds NaN/Inf), or NULL. */
static double *gen_image_input(int64_t count, const char *name) {
    double *u = in_d(count, count + irange(0, 2), -1, 1, H, name);
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(u[i])) { must_fail("an input image holds NaN or Inf"); break; }
    if (pct(H / 2 + 1)) { u = NULL; must_fail("an input image is NULL"); }
    return u;
}

static double *gen_image_output(int64_t count, int valid, const char *name) {
    double *out = out_d(valid ? count : 0, count + irange(0, 2), name);
    if (pct(H / 2 + 1)) { out = NULL; must_fail("out is NULL"); }
    return out;
}

static void g_stencil2d_apply(void) {
    image_op_t o;
    gen_bank(&o);
    image_size_t z = gen_image_size();
    double *u = gen_image_input(z.pixels, "u");
    double *out = gen_image_output(z.pixels * o.filters, z.valid, "out");
    RUN(pdb_stencil2d_apply(o.filters, o.shapes, o.weights, u, z.batch, z.height, z.width, out));
}

static void g_stencil2d_adjoint(void) {
    image_op_t o;
    gen_bank(&o);
    image_size_t z = gen_image_size();
    double *v = gen_image_input(z.pixels * o.filters, "v");
    double *out = gen_image_output(z.pixels, z.valid, "out");
    RUN(pdb_stencil2d_adjoint(o.filters, o.shapes, o.weights, v, z.batch, z.height, z.width, out));
}

static void g_stencil2d_matrix(void) {
    image_op_t o;
    gen_bank(&o);
    int64_t height = irange(1, 4), width = irange(1, 4), need;
    int valid = 1;
    if (pct(H)) {
        valid = 0;
        if (pct(50)) { height = pct(50) ? 0 : bad_len(); must_fail("height is not positive"); }
        else { height = 100; width = 100; must_fail("the dense matrix has more than 2^24 entries"); }
    }
    need = valid ? o.filters * height * width * height * width : 0;
    double *out = gen_image_output(need, valid, "out");
    RUN(pdb_stencil2d_matrix(o.filters, o.shapes, o.weights, height, width, out));
}

/* An image side for the norm bounds (no image is allocated): small or large; hostile. */
static int64_t gen_side(void) {
    if (pct(H)) { must_fail("an image side is not positive"); return pct(50) ? 0 : bad_len(); }
    return pct(20) ? irange(100, 5000) : irange(1, 9);
}

static void g_filter_bank_norm_squared(void) {
    image_op_t o;
    gen_bank(&o);
    int64_t height = gen_side(), width = gen_side();
    RUN(pdb_filter_bank_norm_squared(o.filters, o.shapes, o.weights, height, width, out_scalar(8, 8, 1, "out")));
}

static void g_stable_tau_2d(void) {
    image_op_t o;
    gen_bank(&o);
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    int64_t height = gen_side(), width = gen_side();
    RUN(pdb_stable_tau_2d(o.filters, o.shapes, o.weights, kind, lambda, height, width, out_scalar(8, 8, 1, "tau")));
}

#define IMAGE_ARGS(m, o) m.f, m.batch, m.height, m.width, o.filters, o.shapes, o.weights, o.coupling, \
    o.diffusivities, o.kinds, o.lambdas

static void g_explicit_2d(void) {
    images_t m = gen_images();
    image_op_t o = gen_image_op();
    double tau = gen_tau(0.1);
    int64_t steps = gen_work(0, 4, "steps is negative or huge");
    int32_t flags = gen_flags();
    int64_t every = gen_every(), hl;
    double *hist = gen_image_history(&m, every, steps, &hl);
    if (every > 0 && !hist) must_fail("history is NULL");
    RUN(pdb_explicit_2d(IMAGE_ARGS(m, o), tau, steps, flags, every, hist, hl, m.out));
}

static void g_fsi_2d(void) {
    images_t m = gen_images();
    image_op_t o = gen_image_op();
    double tau = gen_tau(0.1);
    int64_t L = gen_cycle_length(), cycles = gen_work(0, 3, "cycles is negative or huge");
    if (L > 20 && L <= PDB_MAX_CYCLE_LENGTH) L = 20;
    int32_t update = gen_update(), flags = gen_flags();
    int64_t every = gen_every(), hl;
    double *hist = gen_image_history(&m, every, cycles, &hl);
    if (every > 0 && !hist) must_fail("history is NULL");
    RUN(pdb_fsi_2d(IMAGE_ARGS(m, o), tau, L, cycles, update, flags, every, hist, hl, m.out));
}

static void g_fed_2d(void) {
    images_t m = gen_images();
    image_op_t o = gen_image_op();
    double tau = gen_tau(0.1);
    int64_t L = gen_cycle_length(), cycles = gen_work(0, 3, "cycles is negative or huge");
    if (L > 20 && L <= PDB_MAX_CYCLE_LENGTH) L = 20;
    int32_t ordering = gen_ordering(), update = gen_update(), flags = gen_flags();
    int64_t every = gen_every(), hl;
    double *hist = gen_image_history(&m, every, cycles, &hl);
    if (every > 0 && !hist) must_fail("history is NULL");
    RUN(pdb_fed_2d(IMAGE_ARGS(m, o), tau, L, cycles, ordering, update, flags, every, hist, hl, m.out));
}

static void g_implicit_2d(void) {
    images_t m = gen_images();
    image_op_t o = gen_image_op();
    double tau = gen_tau(0.05), tol = pct(H) ? bad_double() : unif(0, 1e-3);
    if (!(tol >= 0) || !isfinite(tol)) must_fail("tol is negative or not finite");
    int64_t steps = gen_work(0, 3, "steps is negative or huge");
    int64_t iterations = gen_work(1, 6, "iterations is not positive or huge");
    int32_t flags = gen_flags();
    int64_t *sweeps = out_scalar(sizeof(int64_t), 20, 0, "sweeps");
    double *residual = out_scalar(sizeof(double), 20, 0, "residual");
    RUN(pdb_implicit_2d(IMAGE_ARGS(m, o), tau, steps, iterations, tol, flags, m.out, sweeps, residual));
}

static void g_evolve_2d(void) {
    images_t m = gen_images();
    image_op_t o = gen_image_op();
    double T = pct(H) ? (must_fail("T is negative"), -1.0) : unif(0, 2);
    int32_t scheme = pct(H) ? (must_fail("unknown scheme"), bad_code(PDB_SCHEME_COUNT))
                            : (int32_t)irange(0, PDB_SCHEME_COUNT - 1);
    int32_t set = 0, flags = gen_flags();
    if (pct(H)) { set = (int32_t)(1u << irange(7, 30)); must_fail("unknown option bits"); }
    int64_t rl = 0;
    double *report = NULL;
    if (pct(50)) { rl = PDB_EVOLVE_REPORT_COUNT; report = out_d(rl, rl, "report"); }
    else if (pct(H)) { rl = 3; report = out_d(rl, rl, "report"); must_fail("report_length < count"); }
    RUN(pdb_evolve_2d(IMAGE_ARGS(m, o), T, scheme, set, 0.0, 0, 0, 0, 0, 0.0, 0.0, flags, m.out, report, rl));
}

/* ---- Banded matrices and multigrid ----------------------------------------------- */

static void g_banded_matvec(void) {
    banded_t m = gen_banded(1, 12, 0);
    int64_t batch = irange(1, 3), n = m.n > 0 && m.n < 64 ? m.n : 4;
    int64_t total = batch * n;
    double *x = in_d(total, total + 1, -1, 1, H, "x");
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(x[i])) { must_fail("x holds NaN or Inf"); break; }
    double *out = out_d(total, total + irange(0, 2), "out");
    if (pct(H)) { batch = pct(50) ? 0 : bad_len(); must_fail("batch is not positive"); }
    if (pct(H)) { x = NULL; must_fail("x is NULL"); }
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    RUN(pdb_banded_matvec(m.n, m.kl, m.ku, m.band, x, batch, out));
}

static void g_banded_solve(void) {
    banded_t m = gen_banded(1, 12, pct(50));
    int64_t batch = irange(1, 3), n = m.n > 0 && m.n < 64 ? m.n : 4;
    int64_t total = batch * n;
    if (m.band && m.valid && pct(5)) {
        memset(m.band, 0, (size_t)m.count * sizeof(double));
        must_fail("the matrix is singular");
    }
    double *b = in_d(total, total + 1, -1, 1, H, "b");
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(b[i])) { must_fail("b holds NaN or Inf"); break; }
    double *out;
    if (pct(15)) { out = b; regs[nregs - 1].writable = (size_t)total * sizeof(double); regs[nregs - 1].name = "b (= out)"; }
    else out = out_d(total, total + irange(0, 2), "out");
    if (pct(H)) { batch = pct(50) ? 0 : bad_len(); must_fail("batch is not positive"); }
    if (pct(H)) { b = NULL; must_fail("b is NULL"); }
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    RUN(pdb_banded_solve(m.n, m.kl, m.ku, m.band, b, batch, out, out_scalar(4, 30, 0, "strategy")));
}

static void g_poisson_1d(void) {
    int64_t n = irange(1, 20);
    double h = pct(H) ? bad_double() : unif(0.01, 1);
    if (is_bad_positive(h)) must_fail("h is not positive and finite");
    int64_t k = n > 1 ? 1 : 0, count = n * (2 * k + 1);
    double *band = out_d(count, count + irange(0, 3), "band");
    if (pct(H)) { n = pct(50) ? 0 : bad_len(); band = pct(50) ? NULL : band; must_fail("n is not positive"); }
    else if (pct(H)) {
        static const int64_t big[] = {(int64_t)1 << 34, 20000000000LL, ((int64_t)1 << 36) / 3 - 1, (int64_t)1 << 40};
        n = PICK(big); /* valid but large: only with band = NULL */
        band = NULL;
        must_fail("band is NULL");
    } else if (pct(H)) { band = NULL; must_fail("band is NULL"); }
    RUN(pdb_poisson_1d(n, h, band));
}

static void g_diffusion_system_bandwidth(void) {
    stencil_t k = gen_stencil();
    int64_t n = irange(1, 48);
    if (pct(H)) {
        n = bad_scalar();
        if (n < 1 || n > ((int64_t)1 << 40)) must_fail("n is out of range");
    } else if (pct(H)) {
        static const int64_t big[] = {(int64_t)1 << 30, (int64_t)1 << 34, ((int64_t)1 << 36) / 7, (int64_t)1 << 40};
        n = PICK(big); /* bandwidth of a huge system: a pure size query */
    }
    RUN(pdb_diffusion_system_bandwidth(k.w, k.q, k.offset, n, out_scalar(8, 8, 1, "bandwidth")));
}

static void g_diffusion_system(void) {
    stencil_t k = gen_stencil();
    int64_t n = irange(1, 16);
    double *w = in_d(n, n + 1, 0, 2, H, "w");
    for (int64_t i = 0; i < n; i++)
        if (!(w[i] >= 0) || !isfinite(w[i])) { must_fail("w holds a negative or non-finite value"); break; }
    if (pct(H)) w[irange(0, n - 1)] = -1, must_fail("w holds a negative value");
    double tau = pct(H) ? bad_double() : unif(0.01, 2);
    if (is_bad_positive(tau)) must_fail("tau is not positive and finite");
    int64_t bw = 0;
    int32_t bs = k.w && k.q > 0 && k.q < 64 ? pdb_diffusion_system_bandwidth(k.w, k.q, k.offset, n, &bw) : -1;
    if (bs != PDB_OK) bw = n - 1;
    int64_t need = n * (2 * bw + 1), cap = need + irange(0, 3), len = need;
    if (pct(H)) { len = irange(0, cap); if (len != need) must_fail("band_length mismatch"); }
    double *band = out_d(len, cap, "band");
    if (pct(H)) { band = NULL; must_fail("band is NULL"); }
    if (pct(H)) { n = pct(50) ? 0 : bad_len(); must_fail("n is not positive"); }
    else if (pct(H / 2 + 1)) { n = ((int64_t)1 << 40) + 1; w = NULL; must_fail("n is huge and w NULL"); }
    if (pct(H)) { w = NULL; must_fail("w is NULL"); }
    RUN(pdb_diffusion_system(k.w, k.q, k.offset, w, n, tau, band, len));
}

static void g_mg_create(void) {
    banded_t m = gen_banded(4, 40, 1);
    int32_t grid = pct(H) ? (must_fail("unknown grid"), bad_code(PDB_GRID_COUNT)) : (int32_t)irange(0, PDB_GRID_COUNT - 1);
    int32_t smoother = pct(H) ? (must_fail("unknown smoother"), bad_code(PDB_SMOOTHER_COUNT)) : (int32_t)irange(0, PDB_SMOOTHER_COUNT - 1);
    double omega = pct(80) ? 0 : unif(0.2, 1.5);
    if (pct(H)) { omega = bad_double(); if (isnan(omega) || (omega > 0 && (omega >= 2 || !isfinite(omega)))) must_fail("omega out of (0, 2)"); }
    int64_t pre = irange(0, 3), post = irange(0, 3);
    if (pre + post == 0) must_fail("pre + post = 0");
    if (pct(H)) { pre = pct(50) ? -1 : INT64_MAX; must_fail("pre out of range"); }
    int32_t cycle = pct(H) ? (must_fail("unknown cycle"), bad_code(PDB_CYCLE_COUNT)) : (int32_t)irange(0, PDB_CYCLE_COUNT - 1);
    int32_t transfer = pct(H) ? (must_fail("unknown transfer"), bad_code(PDB_TRANSFER_COUNT)) : (int32_t)irange(0, PDB_TRANSFER_COUNT - 1);
    int64_t coarsest = irange(1, 5), max_levels = pct(60) ? 0 : irange(-1, 5);
    if (max_levels == 1) must_fail("max_levels = 1");
    if (pct(H)) { coarsest = pct(50) ? 0 : INT64_MAX; must_fail("coarsest out of range"); }
    if (m.valid && m.n > 0 && m.n <= coarsest) must_fail("n <= coarsest");
    pdb_multigrid **out = out_scalar(sizeof(void *), 6, 1, "handle");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_mg_create(m.n, m.kl, m.ku, m.band, grid, smoother, omega, pre, post, cycle, transfer, coarsest,
                                  max_levels, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_MG, *out, m.n);
}

/* ---- 2D stencil fields and hierarchies ------------------------------------ */

/* A valid 5-point Poisson field of h x w pixels (not a fuzz call). */
static double *poisson_field(int64_t h, int64_t w, const char *name) {
    double *c = in_d(9 * h * w, 9 * h * w, 0, 1, 0, name);
    if (pdb_poisson_2d(h, w, 1.0, c, 9 * h * w) != PDB_OK) violation("pdb_poisson_2d failed on %lldx%lld", (long long)h, (long long)w);
    return c;
}

static void g_poisson_2d(void) {
    int64_t h = irange(1, 6), w = irange(1, 6), count = 9 * h * w, capacity = count;
    double spacing = pct(H) ? bad_double() : unif(0.01, 1);
    if (is_bad_positive(spacing)) must_fail("h is not positive and finite");
    double *c = out_d(count, count + irange(0, 3), "coefficients");
    if (pct(H)) { capacity = pct(50) ? count - 1 : bad_len(); must_fail("capacity is not 9*H*W"); }
    if (pct(H)) { h = pct(50) ? 0 : bad_len(); must_fail("height is not positive"); }
    if (pct(H)) { c = NULL; must_fail("coefficients is NULL"); }
    RUN(pdb_poisson_2d(h, w, spacing, c, capacity));
}

static void g_diffusion_system_2d(void) {
    static const int64_t shapes[8] = {1, 2, 0, 0, 2, 1, 0, 0};
    static const double taps[4] = {-1, 1, -1, 1};
    int64_t h = irange(1, 6), w = irange(1, 6), n = h * w, filters = pct(50) ? 1 : 2;
    int64_t w_count = filters == 2 && pct(50) ? 2 * n : n, capacity = 9 * n;
    double *wt = in_d(w_count, 3 * n + 1, 0, 1, pct(H), "w");
    double tau = pct(H) ? bad_double() : unif(0.1, 100);
    if (is_bad_positive(tau)) must_fail("tau is not positive and finite");
    double *c = out_d(9 * n, 9 * n + 2, "coefficients");
    if (pct(H)) { w_count = 3 * n + 1; must_fail("w_count mismatch"); }
    if (pct(H)) { capacity = bad_len(); must_fail("capacity is not 9*H*W"); }
    if (pct(H)) { filters = pct(50) ? 0 : bad_len(); must_fail("filters out of range"); }
    RUN(pdb_diffusion_system_2d(h, w, filters, shapes, taps, wt, w_count, tau, c, capacity));
}

static void g_stencil_field_matvec(void) {
    int64_t h = irange(1, 6), w = irange(1, 6), n = h * w, batch = irange(0, 3);
    const double *c = poisson_field(h, w, "coefficients");
    const double *x = in_d(batch * n, batch * n + 1, -1, 1, pct(H), "x");
    double *out = out_d(batch * n, batch * n + 1, "out");
    if (pct(H)) { batch = bad_len(); must_fail("batch out of range"); }
    if (pct(H)) { out = NULL; if (batch * n > 0) must_fail("out is NULL"); }
    RUN(pdb_stencil_field_matvec(h, w, c, x, batch, out));
}

static void g_mg2d_create(void) {
    int64_t h = irange(2, 9), w = irange(2, 9);
    const double *c = poisson_field(h, w, "coefficients");
    int32_t smoother = pct(H) ? (must_fail("unknown smoother"), bad_code(PDB_SMOOTHER_COUNT)) : (int32_t)irange(0, PDB_SMOOTHER_COUNT - 1);
    int32_t transfer = (int32_t)irange(0, PDB_TRANSFER_COUNT - 1), cycle = (int32_t)irange(0, PDB_CYCLE_COUNT - 1);
    int64_t coarsest = irange(1, 5);
    if (h * w <= coarsest) must_fail("H*W <= coarsest");
    pdb_multigrid **out = out_scalar(sizeof(void *), 6, 1, "handle");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_mg2d_create(h, w, c, PDB_GRID_VERTEX, smoother, 0.0, 2, 2, cycle, transfer, coarsest, 0, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_MG, *out, h * w);
}

static void g_mg2d_levels(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t cap = irange(0, 8), capacity = cap;
    int64_t *hs = region((size_t)cap * 8, (size_t)cap * 8, "heights"), *ws = region((size_t)cap * 8, (size_t)cap * 8, "widths");
    if (pct(20)) { hs = ws = NULL; capacity = 0; }
    if (pct(H)) { capacity = bad_len(); must_fail("capacity negative or huge"); if (capacity > 0) hs = NULL; }
    RUN(pdb_mg2d_levels(h, hs, ws, capacity, out_scalar(8, 8, 1, "count"), out_scalar(4, 30, 0, "transfer")));
}

static void g_mg2d_level_operator(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t level = irange(0, 3), cap = slot >= 0 ? pool_n[T_MG][slot] * 9 : 16, capacity = irange(0, cap);
    double *c = pct(20) ? (capacity = 0, (double *)NULL) : out_d(capacity, cap, "coefficients");
    if (pct(H)) { level = bad_scalar(); if (level < 0) must_fail("level out of range"); }
    RUN(pdb_mg2d_level_operator(h, level, out_scalar(8, 8, 1, "height"), out_scalar(8, 8, 1, "width"), c, capacity));
}

static void g_mg_destroy(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int32_t s = RUN(pdb_mg_destroy(h));
    if (s == PDB_OK && slot >= 0) { remember_dead(T_MG, h); pool_remove(T_MG, slot); }
}

/* Level sizes of a pooled hierarchy (not a fuzz call); 0 levels for anything else. */
static int64_t mg_sizes(void *h, int64_t *sizes, int64_t cap) {
    int64_t count = 0;
    if (pdb_mg_levels(h, sizes, cap, &count, NULL) != PDB_OK || count > cap) return 0;
    return count;
}

static void g_mg_levels(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t cap = irange(0, 8), capacity = cap;
    int64_t *sizes = pct(20) ? (cap = 0, capacity = 0, (int64_t *)NULL) : region((size_t)cap * 8, (size_t)cap * 8, "sizes");
    if (pct(H)) { capacity = bad_len(); must_fail("capacity negative or huge"); if (capacity > 0) sizes = NULL; }
    RUN(pdb_mg_levels(h, sizes, capacity, out_scalar(8, 8, 1, "count"), out_scalar(4, 30, 0, "transfer")));
}

static void g_mg_level_matrix(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t levels[16], nl = mg_sizes(h, levels, 16); /* 0 for an invalid handle */
    int64_t level = nl > 0 ? irange(0, nl - 1) : 0;
    if (pct(H)) { level = pct(50) ? nl : bad_scalar(); if (level < 0 || level >= nl) must_fail("level out of range"); }
    int64_t cap = slot >= 0 ? pool_n[T_MG][slot] * 9 : 16, capacity = irange(0, cap);
    double *band = pct(20) ? (capacity = 0, (double *)NULL) : out_d(capacity, cap, "band");
    if (pct(H)) { capacity = bad_len(); must_fail("capacity negative or huge"); if (capacity > 0) band = NULL; }
    RUN(pdb_mg_level_matrix(h, level, out_scalar(8, 8, 1, "kl"), out_scalar(8, 8, 1, "ku"), band, capacity));
}

static void g_mg_transfer(int prolong) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t levels[16], nl = mg_sizes(h, levels, 16); /* 0 for an invalid handle */
    int64_t level = nl > 1 ? irange(0, nl - 2) : 0;
    int64_t fine = nl > 1 ? levels[level] : 8, coarse = nl > 1 ? levels[level + 1] : 4;
    if (pct(H)) { level = pct(50) ? nl - 1 : bad_scalar(); if (level < 0 || level >= nl - 1) must_fail("level out of range"); }
    int64_t in_n = prolong ? coarse : fine, out_n = prolong ? fine : coarse;
    int64_t in_cap = in_n + 2, out_cap = out_n + 2;
    if (pct(H)) { in_n = irange(0, in_cap); if (in_n != (prolong ? coarse : fine)) must_fail("input length mismatch"); }
    if (pct(H)) { out_n = irange(0, out_cap); if (out_n != (prolong ? fine : coarse)) must_fail("output length mismatch"); }
    double *in = in_d(in_n, in_cap, -1, 1, H, prolong ? "coarse" : "fine");
    for (int64_t i = 0; i < in_n; i++)
        if (!isfinite(in[i])) { must_fail("input holds NaN or Inf"); break; }
    double *out = out_d(out_n, out_cap, prolong ? "fine" : "coarse");
    if (pct(H)) { in = NULL; must_fail("input NULL"); }
    if (pct(H)) { out = NULL; must_fail("output NULL"); }
    if (pct(H)) { in_n = bad_len(); in = NULL; must_fail("input length negative or huge"); }
    if (prolong) RUN(pdb_mg_prolong(h, level, in, in_n, out, out_n));
    else RUN(pdb_mg_restrict(h, level, in, in_n, out, out_n));
}
static void g_mg_prolong(void) { g_mg_transfer(1); }
static void g_mg_restrict(void) { g_mg_transfer(0); }

static void g_mg_cycle(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t n = slot >= 0 ? pool_n[T_MG][slot] : irange(4, 20), batch = irange(1, 3);
    if (pct(H)) { n = n + 1; must_fail("n differs from the hierarchy's"); }
    int64_t total = batch * n;
    double *x = in_d(total, total + 1, -1, 1, H, "x"), *b = in_d(total, total + 1, -1, 1, H, "b");
    for (int64_t i = 0; i < total; i++)
        if (!isfinite(x[i]) || !isfinite(b[i])) { must_fail("x or b holds NaN or Inf"); break; }
    double *out;
    int r = (int)(rnd() % 10);
    if (r == 0) { out = x; regs[nregs - 2].writable = (size_t)total * 8; regs[nregs - 2].name = "x (= out)"; }
    else if (r == 1 && pct(50)) { out = b; must_fail("out is b"); }
    else out = out_d(total, total + 2, "out");
    if (pct(H)) { batch = pct(50) ? 0 : bad_len(); must_fail("batch is not positive"); }
    if (pct(H)) { x = NULL; must_fail("x is NULL"); }
    if (pct(H)) { b = NULL; must_fail("b is NULL"); }
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    RUN(pdb_mg_cycle(h, x, b, batch, n, out));
}

static void g_mg_unet_cycle(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t n = slot >= 0 ? pool_n[T_MG][slot] : irange(4, 20);
    if (pct(H)) { n = n - 1; must_fail("n differs from the hierarchy's"); }
    double *x = in_d(n, n + 1, -1, 1, H, "x"), *b = in_d(n, n + 1, -1, 1, H, "b");
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(b[i])) { must_fail("x or b holds NaN or Inf"); break; }
    double *out = out_d(3 * n, 3 * n + 2, "out");
    if (pct(H)) { x = NULL; must_fail("x is NULL"); }
    if (pct(H)) { b = NULL; must_fail("b is NULL"); }
    if (pct(H)) { out = NULL; must_fail("out is NULL"); }
    if (pct(H)) { n = bad_len(); x = b = NULL; out = NULL; must_fail("n negative or huge"); }
    RUN(pdb_mg_unet_cycle(h, x, b, n, out));
}

static void g_mg_solve(void) {
    int slot;
    void *h = pick_handle(T_MG, &slot);
    int64_t n = slot >= 0 ? pool_n[T_MG][slot] : irange(4, 20);
    if (pct(H)) { n = n + 2; must_fail("n differs from the hierarchy's"); }
    double *b = in_d(n, n, -1, 1, H, "b");
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(b[i])) { must_fail("b holds NaN or Inf"); break; }
    double *x0 = pct(40) ? NULL : in_d(n, n, -1, 1, H, "x0");
    if (x0) for (int64_t i = 0; i < n; i++)
        if (!isfinite(x0[i])) { must_fail("x0 holds NaN or Inf"); break; }
    double tol = gen_tol();
    int64_t max_cycles = irange(0, 12);
    if (pct(H)) { static const int64_t bad[] = {-1, 1000001, INT64_MAX, INT64_MIN}; max_cycles = PICK(bad); must_fail("max_cycles out of 0...1e6"); }
    double *x = out_d(n, n + 1, "x");
    if (pct(5)) { x = b; regs[0].writable = 0; must_fail("x is b"); }
    int64_t capacity = 0;
    double *res = NULL;
    if (pct(60)) {
        int64_t need = max_cycles >= 0 && max_cycles <= 12 ? max_cycles + 1 : 1, cap = need + 2;
        capacity = pct(H) ? irange(0, cap) : irange(need, cap);
        if (capacity < need) must_fail("residual capacity below max_cycles + 1");
        res = out_d(capacity, cap, "residuals");
    }
    if (pct(H)) { b = NULL; must_fail("b is NULL"); }
    if (pct(H)) { x = NULL; must_fail("x is NULL"); }
    RUN(pdb_mg_solve(h, b, x0, n, tol, max_cycles, x, res, capacity, out_scalar(8, 8, 1, "cycles"),
                     out_scalar(4, 8, 1, "converged"), out_scalar(8, 8, 1, "factor")));
}

static void g_cg(void) {
    banded_t m = gen_banded(2, 30, 1);
    int slot = -1;
    void *prec = NULL;
    if (pct(50)) {
        const char *before = expect_fail;
        prec = pick_handle(T_MG, &slot);
        if (prec == NULL) expect_fail = before; /* NULL: no preconditioner */
    }
    if (slot >= 0 && m.valid && pool_n[T_MG][slot] != m.n) must_fail("preconditioner size differs");
    int64_t n = m.n > 0 && m.n < 64 ? m.n : 4;
    double *b = in_d(n, n, -1, 1, H, "b");
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(b[i])) { must_fail("b holds NaN or Inf"); break; }
    double *x0 = pct(40) ? NULL : in_d(n, n, -1, 1, 0, "x0");
    double tol = gen_tol();
    int64_t max_iter = irange(0, 40);
    if (pct(H)) { static const int64_t bad[] = {-1, 1000001, INT64_MAX, INT64_MIN}; max_iter = PICK(bad); must_fail("max_iter out of range"); }
    double *x = out_d(n, n + 1, "x");
    int64_t capacity = 0;
    double *res = NULL;
    if (pct(60)) {
        int64_t need = max_iter >= 0 && max_iter <= 40 ? max_iter + 1 : 1, cap = need + 2;
        capacity = pct(H) ? irange(0, cap) : irange(need, cap);
        if (capacity < need) must_fail("residual capacity below max_iter + 1");
        res = out_d(capacity, cap, "residuals");
    }
    if (pct(H)) { b = NULL; must_fail("b is NULL"); }
    if (pct(H)) { x = NULL; must_fail("x is NULL"); }
    RUN(pdb_cg(m.n, m.kl, m.ku, m.band, b, x0, prec, tol, max_iter, x, res, capacity,
               out_scalar(8, 8, 1, "iterations"), out_scalar(4, 8, 1, "converged")));
}

static void g_semi_implicit(void) {
    signals_t s = gen_signals(2, 24, 1, "f");
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    double tau = pct(H) ? bad_double() : unif(0.01, 5);
    if (is_bad_positive(tau)) must_fail("tau is not positive and finite");
    int64_t steps = gen_work(0, 3, "steps negative or huge");
    int32_t solver = pct(H) ? (must_fail("unknown solver"), bad_code(PDB_SEMI_COUNT)) : (int32_t)irange(0, PDB_SEMI_COUNT - 1);
    double tol = pct(H) ? bad_double() : unif(1e-10, 1e-4);
    int64_t max_cycles = pct(H) ? bad_len() : irange(1, 30);
    RUN(pdb_semi_implicit(s.f, s.batch, s.n, k.w, k.q, k.offset, kind, lambda, tau, steps, solver, tol, max_cycles,
                          out_scalar(8, 30, 0, "cycles"), s.out));
}

/* ---- Two-level U-nets --------------------------------------------------------------- */

static void g_unet2_create(void) {
    int64_t count = irange(0, 5);
    int32_t *kinds = region((size_t)count * 4 + 4, 0, "kinds");
    int64_t *lengths = region((size_t)count * 8 + 8, 0, "lengths");
    int64_t *offsets = region((size_t)count * 8 + 8, 0, "offsets");
    int32_t *diffs = region((size_t)count * 4 + 4, 0, "diffusivities");
    double *lambdas = in_d(count, count + 1, 0.05, 2, 0, "lambdas");
    double *taus = in_d(count, count + 1, 0, 0.2, 0, "taus");
    int64_t total = 0;
    int has_diffusion = 0;
    for (int64_t i = 0; i < count; i++) {
        kinds[i] = (int32_t)irange(0, PDB_UNET_COUNT - 1);
        has_diffusion |= kinds[i] == PDB_UNET_DIFFUSION;
        lengths[i] = irange(1, 4);
        offsets[i] = irange(-lengths[i], 0);
        diffs[i] = (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
        total += lengths[i];
    }
    double *weights = in_d(total, total + 1, -1, 1, 0, "weights");
    int64_t n_pre = count > 0 ? irange(0, count) : 0;
    int64_t n_coarse = irange(0, count - n_pre);
    int32_t transfer = pct(50) ? PDB_TRANSFER_CELL : PDB_TRANSFER_VERTEX;
    if (count > 0 && pct(H)) {
        int64_t i = irange(0, count - 1);
        int r = (int)(rnd() % 6);
        if (r == 0) { kinds[i] = bad_code(PDB_UNET_COUNT); must_fail("unknown block kind"); }
        else if (r == 1) { static const int64_t bad[] = {0, -1, ((int64_t)1 << 20) + 1, INT64_MAX, INT64_MIN}; lengths[i] = PICK(bad); must_fail("bad stencil length"); }
        else if (r == 2) { offsets[i] = pct(50) ? INT64_MAX : INT64_MIN; must_fail("offset out of range"); }
        else if (r == 3 && kinds[i] == PDB_UNET_DIFFUSION) { diffs[i] = bad_code(PDB_DIFFUSIVITY_COUNT); must_fail("unknown diffusivity"); }
        else if (r == 4 && kinds[i] == PDB_UNET_DIFFUSION) { lambdas[i] = bad_double(); if (is_bad_positive(lambdas[i])) must_fail("bad lambda"); }
        else if (r == 5 && total > 0) {
            weights[irange(0, total - 1)] = special_value();
            for (int64_t j = 0; j < total; j++)
                if (!isfinite(weights[j])) { must_fail("a stencil weight is not finite"); break; }
        }
    }
    if (pct(H)) { count = bad_len(); must_fail("count negative or huge"); }
    if (pct(H) && count > 0) { n_pre = count + 1; must_fail("n_pre > count"); }
    if (pct(H) && count >= 0) { n_coarse = pct(50) ? -1 : INT64_MAX; must_fail("n_coarse out of range"); }
    if (pct(H)) { transfer = pct(50) ? PDB_TRANSFER_MATRIX : bad_code(PDB_TRANSFER_COUNT); must_fail("transfer not CELL/VERTEX"); }
    if (count > 0 && pct(H)) { int r = (int)(rnd() % 3); if (r == 0) kinds = NULL; else if (r == 1) lengths = NULL; else offsets = NULL; must_fail("an array is NULL"); }
    if (has_diffusion && count > 0 && pct(H)) { diffs = NULL; must_fail("diffusivities NULL"); }
    if (total > 0 && count > 0 && pct(H)) { weights = NULL; must_fail("weights NULL"); }
    pdb_unet2 **out = out_scalar(sizeof(void *), 6, 1, "handle");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_unet2_create(count, kinds, lengths, offsets, weights, diffs, lambdas, taus, n_pre, n_coarse,
                                     transfer, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_UNET, *out, 0);
}

static void g_unet2_destroy(void) {
    int slot;
    void *h = pick_handle(T_UNET, &slot);
    int32_t s = RUN(pdb_unet2_destroy(h));
    if (s == PDB_OK && slot >= 0) { remember_dead(T_UNET, h); pool_remove(T_UNET, slot); }
}

static void g_unet2_forward(void) {
    int slot;
    void *h = pick_handle(T_UNET, &slot);
    signals_t s = gen_signals(2, 16, 1, "f");
    RUN(pdb_unet2_forward(h, s.f, s.batch, s.n, s.out));
}

static void g_unet2d_create(void) {
    int64_t count = irange(0, 4);
    int32_t *kinds = region((size_t)count * 4 + 4, 0, "kinds");
    int64_t *filters = region((size_t)count * 8 + 8, 0, "filters");
    int32_t *diffs = region((size_t)count * 4 + 4, 0, "diffusivities");
    double *lambdas = in_d(count, count + 1, 0.05, 2, 0, "lambdas");
    double *taus = in_d(count, count + 1, 0, 0.2, 0, "taus");
    int64_t nf = 0, total = 0;
    int has_diffusion = 0;
    for (int64_t i = 0; i < count; i++) {
        kinds[i] = (int32_t)irange(0, PDB_UNET_COUNT - 1);
        has_diffusion |= kinds[i] == PDB_UNET_DIFFUSION;
        filters[i] = kinds[i] == PDB_UNET_STENCIL ? 1 : irange(1, 2);
        diffs[i] = (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
        nf += filters[i];
    }
    int64_t *shapes = region((size_t)(4 * nf) * 8 + 8, 0, "filter_shapes");
    for (int64_t k = 0; k < nf; k++) {
        shapes[4 * k] = irange(1, 3);
        shapes[4 * k + 1] = irange(1, 3);
        shapes[4 * k + 2] = irange(-2, 0);
        shapes[4 * k + 3] = irange(-2, 0);
        total += shapes[4 * k] * shapes[4 * k + 1];
    }
    double *weights = in_d(total, total + 1, -1, 1, 0, "weights");
    int64_t n_pre = count > 0 ? irange(0, count) : 0;
    int64_t n_coarse = irange(0, count - n_pre);
    int32_t transfer = pct(50) ? PDB_TRANSFER_CELL : PDB_TRANSFER_VERTEX;
    if (count > 0 && pct(H)) {
        int64_t i = irange(0, count - 1);
        int r = (int)(rnd() % 6);
        if (r == 0) { kinds[i] = bad_code(PDB_UNET_COUNT); must_fail("unknown block kind"); }
        else if (r == 1) {
            filters[i] = kinds[i] == PDB_UNET_STENCIL ? 2 : (pct(50) ? 0 : bad_len());
            must_fail("bad filter count");
        }
        else if (r == 2 && nf > 0) { shapes[4 * irange(0, nf - 1)] = pct(50) ? 0 : 1025; must_fail("a filter side is out of range"); }
        else if (r == 3 && kinds[i] == PDB_UNET_DIFFUSION) { diffs[i] = bad_code(PDB_DIFFUSIVITY_COUNT); must_fail("unknown diffusivity"); }
        else if (r == 4 && kinds[i] == PDB_UNET_DIFFUSION) { taus[i] = pct(50) ? -0.1 : NAN; must_fail("tau negative or NaN"); }
        else if (r == 5 && total > 0) {
            weights[irange(0, total - 1)] = special_value();
            for (int64_t j = 0; j < total; j++)
                if (!isfinite(weights[j])) { must_fail("a stencil weight is not finite"); break; }
        }
    }
    if (pct(H)) { count = bad_len(); must_fail("count negative or huge"); }
    if (pct(H) && count > 0) { n_pre = count + 1; must_fail("n_pre > count"); }
    if (pct(H)) { transfer = pct(50) ? PDB_TRANSFER_MATRIX : bad_code(PDB_TRANSFER_COUNT); must_fail("transfer not CELL/VERTEX"); }
    if (count > 0 && pct(H)) { int r = (int)(rnd() % 3); if (r == 0) kinds = NULL; else if (r == 1) filters = NULL; else shapes = NULL; must_fail("an array is NULL"); }
    if (has_diffusion && count > 0 && pct(H)) { taus = NULL; must_fail("taus NULL"); }
    if (total > 0 && count > 0 && pct(H)) { weights = NULL; must_fail("weights NULL"); }
    pdb_unet2d **out = out_scalar(sizeof(void *), 6, 1, "handle");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_unet2d_create(count, kinds, filters, shapes, weights, diffs, lambdas, taus, n_pre, n_coarse,
                                      transfer, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_UNET2D, *out, 0);
}

static void g_unet2d_destroy(void) {
    int slot;
    void *h = pick_handle(T_UNET2D, &slot);
    int32_t s = RUN(pdb_unet2d_destroy(h));
    if (s == PDB_OK && slot >= 0) { remember_dead(T_UNET2D, h); pool_remove(T_UNET2D, slot); }
}

static void g_unet2d_forward(void) {
    int slot;
    void *h = pick_handle(T_UNET2D, &slot);
    image_size_t z = gen_image_size();
    if (z.valid && (z.height < 2 || z.width < 2)) must_fail("an image side below 2");
    double *f = gen_image_input(z.pixels, "f");
    double *out = gen_image_output(z.pixels, z.valid, "out");
    RUN(pdb_unet2d_forward(h, f, z.batch, z.height, z.width, out));
}

/* ---- Networks ------------------------------------------------------------------------- */

static int64_t net_count(void *h, int what) {
    int64_t c = -1;
    int32_t s = what == 0 ? pdb_network_block_count(h, &c) : pdb_network_parameter_count(h, &c);
    return s == PDB_OK ? c : -1;
}

/* A network handle; live networks that grew large are replaced by fresh ones first. */
static void *pick_net(int *slot) {
    void *h = pick_handle(T_NET, slot);
    if (*slot >= 0 && (net_count(h, 0) > 8 || net_count(h, 1) > 300)) {
        int32_t s = pdb_network_destroy(h);
        if (s != PDB_OK && s != PDB_ERR_HANDLE) violation("destroying a grown network gave %d", s);
        remember_dead(T_NET, h);
        pdb_network *fresh = NULL;
        if (pdb_network_create(&fresh) != PDB_OK) { violation("pdb_network_create failed"); return h; }
        static const double fd[2] = {-1, 1};
        pdb_network_add_diffusion(fresh, 0.1, PDB_TAU_FREE);
        pdb_network_add_filter(fresh, fd, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5);
        pool[T_NET][*slot] = fresh;
        h = fresh;
    }
    return h;
}

static void complete_block(void *h, int residual);

static void g_network_create(void) {
    pdb_network **out = out_scalar(sizeof(void *), 6, 1, "net");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_network_create(out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) {
        pool_add(T_NET, *out, 0);
        if (pct(80) && pdb_network_add_diffusion(*out, 0.05, PDB_TAU_FREE) == PDB_OK) complete_block(*out, 0);
    }
}

static void g_network_destroy(void) {
    int slot;
    void *h = pick_handle(T_NET, &slot);
    int32_t s = RUN(pdb_network_destroy(h));
    if (s == PDB_OK && slot >= 0) { remember_dead(T_NET, h); pool_remove(T_NET, slot); }
}

static double gen_block_tau(int32_t *mode) {
    *mode = (int32_t)irange(0, PDB_TAU_COUNT - 1);
    double tau = *mode == PDB_TAU_FREE ? unif(0, 0.2) : unif(0.05, 0.95);
    if (pct(H)) { *mode = bad_code(PDB_TAU_COUNT); must_fail("unknown tau mode"); }
    if (pct(H)) {
        tau = bad_double();
        if (!isfinite(tau) || (*mode == PDB_TAU_BOUNDED && !(tau > 0 && tau < 1))) must_fail("bad tau");
    }
    return tau;
}

/* After a block was appended, usually give it a filter (not a fuzz call) so that the
 * network stays runnable and forward/backward/certificates reach their success paths. */
static void complete_block(void *h, int residual) {
    static const double fd[2] = {-1, 1}, w1[3] = {0.2, -0.5, 0.3};
    if (!pct(70)) return;
    if (residual) pdb_network_add_residual_channel(h, fd, 2, 0, w1, 3, -1, (int32_t)irange(0, PDB_W2_COUNT - 1), 0.0);
    else pdb_network_add_filter(h, fd, 2, 0, (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1), unif(0.1, 2));
}

static void g_network_add_diffusion(void) {
    int slot, mode;
    void *h = pick_net(&slot);
    double tau = gen_block_tau(&mode);
    if (RUN(pdb_network_add_diffusion(h, tau, mode)) == PDB_OK) complete_block(h, 0);
}

static int64_t gen_block_length(const char *what) {
    if (pct(H)) {
        static const int64_t bad[] = {0, -1, 10001, INT64_MAX, INT64_MIN};
        must_fail(what);
        return PICK(bad);
    }
    return irange(1, 6);
}

static void g_network_add_fsi(void) {
    int slot, mode;
    void *h = pick_net(&slot);
    double tau = gen_block_tau(&mode);
    if (RUN(pdb_network_add_fsi(h, tau, mode, gen_block_length("cycle_length out of 1...10000"))) == PDB_OK)
        complete_block(h, 0);
}

static void g_network_add_implicit(void) {
    int slot, mode;
    void *h = pick_net(&slot);
    double tau = gen_block_tau(&mode);
    if (RUN(pdb_network_add_implicit(h, tau, mode, gen_block_length("iterations out of 1...10000"))) == PDB_OK)
        complete_block(h, 0);
}

static void g_network_add_filter(void) {
    int slot;
    void *h = pick_net(&slot);
    stencil_t k = gen_stencil();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    RUN(pdb_network_add_filter(h, k.w, k.q, k.offset, kind, lambda));
}

static void g_network_add_learnable_filter(void) {
    int slot;
    void *h = pick_net(&slot);
    stencil_t k = gen_stencil();
    int64_t terms = irange(1, 4), cap = terms + 1;
    double *mix = in_d(terms, cap, 0.05, 0.9 / (double)terms, 0, "mix_weights");
    double *con = in_d(terms, cap, 0.1, 2, 0, "contrasts");
    if (pct(H)) {
        int r = (int)(rnd() % 4);
        if (r == 0) { mix[irange(0, terms - 1)] = pct(50) ? -0.1 : NAN; must_fail("a mix weight is not positive"); }
        else if (r == 1) { for (int64_t j = 0; j < terms; j++) mix[j] = 0.6; if (terms > 1) must_fail("mix weights sum to 1 or more"); }
        else if (r == 2) { con[irange(0, terms - 1)] = pct(50) ? 0 : -INFINITY; must_fail("a contrast is not positive"); }
        else { terms = pct(50) ? 0 : 65; must_fail("terms out of 1...64"); }
    }
    if (pct(H)) { terms = bad_len(); must_fail("terms negative or huge"); }
    if (pct(H)) { mix = NULL; must_fail("mix_weights NULL"); }
    if (pct(H)) { con = NULL; must_fail("contrasts NULL"); }
    RUN(pdb_network_add_learnable_filter(h, k.w, k.q, k.offset, mix, con, terms));
}

static void gen_activation(int32_t *a, int32_t *kind, double *lambda, double *tau) {
    *a = (int32_t)irange(0, PDB_ACTIVATION_COUNT - 1);
    *kind = (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
    *lambda = unif(0.05, 2);
    *tau = unif(0, 0.3);
    if (pct(H)) { *a = bad_code(PDB_ACTIVATION_COUNT); must_fail("unknown activation"); }
    if (*a == PDB_ACTIVATION_FLUX && pct(H)) { *kind = bad_code(PDB_DIFFUSIVITY_COUNT); must_fail("unknown diffusivity of a flux activation"); }
    if (*a == PDB_ACTIVATION_FLUX && pct(H)) { *lambda = bad_double(); if (is_bad_positive(*lambda)) must_fail("bad lambda"); }
    if (pct(H)) *tau = bad_double(); /* not predicted: a tau of a non-flux activation is unused */
}

static void g_network_add_residual(void) {
    int slot;
    void *h = pick_net(&slot);
    int32_t s1, k1, s2, k2;
    double l1, t1, l2, t2;
    gen_activation(&s1, &k1, &l1, &t1);
    gen_activation(&s2, &k2, &l2, &t2);
    double b2 = pct(H) ? bad_double() : unif(-0.1, 0.1);
    if (RUN(pdb_network_add_residual(h, s1, k1, l1, t1, s2, k2, l2, t2, b2)) == PDB_OK) complete_block(h, 1);
}

static void g_network_add_residual_channel(void) {
    int slot;
    void *h = pick_net(&slot);
    if (slot >= 0 && pct(50)) /* a residual block to add the channel to (not a fuzz call) */
        pdb_network_add_residual(h, (int32_t)irange(0, 2), 0, 1, 0, PDB_ACTIVATION_IDENTITY, 0, 1, 0, 0);
    stencil_t a = gen_stencil(), b = gen_stencil();
    int32_t mode = (int32_t)irange(0, PDB_W2_COUNT - 1);
    if (pct(H)) { mode = bad_code(PDB_W2_COUNT); must_fail("unknown W2 mode"); }
    double b1 = pct(H) ? bad_double() : unif(-0.1, 0.1);
    RUN(pdb_network_add_residual_channel(h, a.w, a.q, a.offset, b.w, b.q, b.offset, mode, b1));
}

static void g_network_block_count(void) {
    int slot;
    void *h = pick_net(&slot);
    RUN(pdb_network_block_count(h, out_scalar(8, 8, 1, "count")));
}

static void g_network_parameter_count(void) {
    int slot;
    void *h = pick_net(&slot);
    RUN(pdb_network_parameter_count(h, out_scalar(8, 8, 1, "count")));
}

static void g_network_block_info(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t blocks = net_count(h, 0); /* -1 for an invalid handle (which fails anyway) */
    int64_t index = blocks > 0 ? irange(0, blocks - 1) : 0;
    if (pct(H) || blocks == 0) { index = pct(50) ? blocks : bad_scalar(); if (index < 0 || index >= blocks) must_fail("index out of range"); }
    RUN(pdb_network_block_info(h, index, out_scalar(4, 8, 1, "kind"), out_scalar(8, 8, 1, "parameter_offset"),
                               out_scalar(8, 8, 1, "parameter_count")));
}

static void g_network_get_parameters(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t pc = net_count(h, 1), valid = pc >= 0; /* -1 for an invalid handle (which fails anyway) */
    if (!valid) pc = 3;
    int64_t cap = pc + 2, count = pc;
    if (pct(H)) { count = irange(0, cap); if (count != pc && valid) must_fail("count differs from the parameter count"); }
    double *out = out_d(count, cap, "out");
    if (pct(H)) { out = NULL; if (count > 0) must_fail("out is NULL"); }
    if (pct(H)) { count = bad_len(); must_fail("count negative or huge"); }
    RUN(pdb_network_get_parameters(h, out, count));
}

static void g_network_set_parameters(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t pc = net_count(h, 1), valid = pc >= 0; /* -1 for an invalid handle (which fails anyway) */
    if (!valid) pc = 3;
    int64_t cap = pc + 2, count = pc;
    double *p = in_d(count, cap, -0.1, 0.1, 0, "parameters");
    if (slot >= 0 && pct(80) && pdb_network_get_parameters(h, p, pc) == PDB_OK)
        for (int64_t i = 0; i < pc; i++) p[i] += unif(-1e-3, 1e-3);
    if (pct(H)) { p[irange(0, cap - 1)] = special_value(); }
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(p[i])) { must_fail("a parameter is not finite"); break; }
    if (pct(H)) { count = irange(0, cap); if (count != pc && valid) must_fail("count differs from the parameter count"); }
    if (pct(H)) { p = NULL; must_fail("parameters NULL"); }
    if (pct(H)) { count = bad_len(); must_fail("count negative or huge"); }
    RUN(pdb_network_set_parameters(h, p, count));
}

static void g_network_set_threads(void) {
    int slot;
    void *h = pick_net(&slot);
    int32_t t = (int32_t)irange(0, 3);
    if (pct(H)) { static const int32_t bad[] = {-1, 4097, INT32_MAX, INT32_MIN}; t = PICK(bad); must_fail("threads out of 0...4096"); }
    RUN(pdb_network_set_threads(h, t));
}

static void g_network_set_tape_limit(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t b = pct(50) ? ((int64_t)1 << 32) : irange(1, (int64_t)1 << 20);
    if (pct(H)) { static const int64_t bad[] = {0, -1, ((int64_t)1 << 34) + 1, INT64_MAX, INT64_MIN}; b = PICK(bad); must_fail("tape limit out of 1...2^34"); }
    RUN(pdb_network_set_tape_limit(h, b));
}

/* A text buffer argument (text, capacity): a size query, a buffer, or hostile. */
static char *gen_text(int64_t *capacity) {
    int r = (int)(rnd() % 5);
    if (r == 0) { *capacity = 0; return NULL; }
    if (r == 1 && pct(H * 3)) { *capacity = irange(1, 100); must_fail("text NULL with capacity > 0"); return NULL; }
    if (r == 2 && pct(H * 3)) { *capacity = bad_len(); must_fail("capacity negative or huge"); return *capacity > 0 ? NULL : region(8, 0, "text"); }
    int64_t cap = irange(0, 300);
    *capacity = irange(0, cap);
    return region((size_t)cap, (size_t)*capacity, "text");
}

static void g_network_describe(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t capacity;
    char *text = gen_text(&capacity);
    int64_t *len = out_scalar(8, 8, 1, "length");
    int32_t s = RUN(pdb_network_describe(h, text, capacity, len));
    if (s == PDB_OK && text && capacity > 0 && memchr(text, 0, (size_t)capacity) == NULL)
        violation("describe: text is not NUL-terminated within capacity %lld", (long long)capacity);
}

static void g_network_forward(void) {
    int slot;
    void *h = pick_net(&slot);
    signals_t s = gen_signals(2, 12, 0, "x");
    int32_t flags = pct(50) ? 0 : PDB_FORWARD_INFERENCE;
    if (pct(H)) { static const int32_t bad[] = {2, 3, -1, INT32_MIN}; flags = PICK(bad); must_fail("unknown flags"); }
    double *out = s.out;
    if (pct(5) && s.f) { out = (double *)s.f; must_fail("out is x"); }
    RUN(pdb_network_forward(h, s.f, s.batch, s.n, flags, out));
}

static void g_network_backward(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t batch = irange(1, 3), n = irange(2, 10), total = batch * n;
    int recorded = 0;
    if (slot >= 0 && pct(75)) {
        double *x = malloc((size_t)total * 8), *y = malloc((size_t)total * 8);
        for (int64_t i = 0; i < total; i++) x[i] = unif(-1, 1);
        recorded = pdb_network_forward(h, x, batch, n, 0, y) == PDB_OK; /* records the tape (not a fuzz call) */
        free(x);
        free(y);
    }
    int64_t pc = net_count(h, 1), valid = pc >= 0; /* -1 for an invalid handle (which fails anyway) */
    if (!valid) pc = 3;
    int64_t cap = batch * (n + 1) + 1;
    double *g = in_d(total, cap, -1, 1, H, "grad_out"); /* NaN/Inf: not predicted */
    double *gi = out_d(total, cap + 1, "grad_in");
    int64_t pcap = pc + 2, count = pc;
    if (pct(H)) { count = irange(0, pcap); if (count != pc && valid) must_fail("param_count differs"); }
    double *gp = out_d(count, pcap, "grad_params");
    if (pct(H)) {
        n = n + 1; /* the buffers hold batch·(n+1) values */
        regs[nregs - 2].writable = (size_t)(batch * n) * sizeof(double);
        if (recorded) must_fail("shape differs from the forward pass");
    }
    if (pct(H)) { batch = pct(50) ? 0 : bad_len(); must_fail("batch is not positive"); }
    if (pct(H)) { g = NULL; must_fail("grad_out NULL"); }
    if (pct(H)) { gi = NULL; must_fail("grad_in NULL"); }
    if (pct(H)) { gp = NULL; must_fail("grad_params NULL"); }
    RUN(pdb_network_backward(h, g, batch, n, gi, gp, count));
}

static int64_t gen_cert_n(void) {
    if (pct(H)) { int64_t v = bad_scalar(); must_fail("n out of 2...2^26"); return v < 2 || v > ((int64_t)1 << 26) ? v : -1; }
    return irange(2, 48);
}

static void g_network_certificate(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t n = gen_cert_n();
    RUN(pdb_network_certificate(h, n, out_scalar(4, 8, 1, "certified"), out_scalar(8, 8, 1, "first_failure")));
}

static void g_network_block_certificate(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t blocks = net_count(h, 0); /* -1 for an invalid handle (which fails anyway) */
    int64_t index = blocks > 0 ? irange(0, blocks - 1) : 0;
    if (pct(H) || blocks == 0) { index = pct(50) ? blocks : bad_scalar(); if (index < 0 || index >= blocks) must_fail("index out of range"); }
    int64_t n = gen_cert_n(), capacity;
    char *reason = gen_text(&capacity);
    int32_t s = RUN(pdb_network_block_certificate(h, index, n, out_scalar(4, 8, 1, "certified"), out_scalar(8, 8, 1, "tau"),
                                                  out_scalar(8, 8, 1, "tau_bound"), out_scalar(8, 8, 1, "tau_bound_lipschitz"),
                                                  reason, capacity, out_scalar(8, 8, 1, "reason_length")));
    if (s == PDB_OK && reason && capacity > 0 && memchr(reason, 0, (size_t)capacity) == NULL)
        violation("block_certificate: reason is not NUL-terminated within capacity %lld", (long long)capacity);
}

static void g_network_project_stable(void) {
    int slot;
    void *h = pick_net(&slot);
    int64_t n = gen_cert_n();
    double margin = unif(0.1, 1);
    if (pct(H)) { margin = bad_double(); if (!(margin > 0 && margin <= 1)) must_fail("margin out of (0, 1]"); }
    RUN(pdb_network_project_stable(h, n, margin, out_scalar(8, 8, 1, "changed")));
}

/* ---- Files ------------------------------------------------------------------------------ */

#define SAVED 4
static char saved_path[SAVED][512];
static int saved_ok[SAVED];

static const char *hostile_path(void) {
    static char longpath[6000], buf[600];
    int r = (int)(rnd() % 6);
    if (r == 0) { must_fail("path is NULL"); return NULL; }
    if (r == 1) { must_fail("path is empty"); return ""; }
    if (r == 2) { must_fail("the directory does not exist"); return "/nonexistent-pdeblocks-fuzz/dir/net.pdbnet"; }
    if (r == 3) { must_fail("the path is a directory"); return tmpdir; }
    if (r == 4) {
        size_t k = 0;
        k += (size_t)snprintf(longpath, sizeof longpath, "%s/", tmpdir);
        while (k < 5000) longpath[k++] = 'x';
        longpath[k] = 0;
        must_fail("the file name is too long");
        return longpath;
    }
    snprintf(buf, sizeof buf, "%s/sub\xff\xfe/none", tmpdir);
    must_fail("the directory does not exist");
    return buf;
}

static void g_network_save(void) {
    int slot;
    void *h = pick_net(&slot);
    int k = (int)(rnd() % SAVED);
    const char *path = saved_path[k];
    if (pct(H * 2)) path = hostile_path();
    int32_t s = RUN(pdb_network_save(h, path));
    if (path == saved_path[k]) saved_ok[k] = s == PDB_OK ? 1 : saved_ok[k];
}

static uint64_t fnv1a(const unsigned char *p, size_t n) {
    uint64_t x = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) { x ^= p[i]; x *= 0x100000001b3ULL; }
    return x;
}

/* Writes a damaged copy of a saved network file: truncated, flipped, or with hostile values
 * written into header or payload fields and the checksum recomputed (so parsing is reached). */
static const char *damaged_copy(const char *src) {
    static char path[600];
    snprintf(path, sizeof path, "%s/damaged.pdbnet", tmpdir);
    FILE *f = fopen(src, "rb");
    if (!f) return NULL;
    unsigned char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n < 32) return NULL;
    int r = (int)(rnd() % 4);
    if (r == 0) n = (size_t)irange(0, (int64_t)n - 1); /* truncated */
    else if (r == 1) buf[irange(0, (int64_t)n - 1)] ^= (unsigned char)(1u << irange(0, 7)); /* checksum mismatch */
    else {
        /* hostile field values, checksum fixed up */
        static const uint64_t vals[] = {0, 1, 0xffffffffULL, 0x7fffffffULL, 0x80000000ULL, 100, 65, 10001, 1ULL << 40,
                                        0xffffffffffffffffULL, 0x7ff8000000000000ULL /* NaN */, 0x7ff0000000000000ULL};
        int edits = (int)irange(1, 3);
        for (int e = 0; e < edits; e++) {
            uint64_t v = PICK(vals);
            size_t width = pct(50) ? 4 : 8;
            size_t at = r == 2 ? (size_t)irange(8, 23) : (size_t)irange(24, (int64_t)n - 8 - (int64_t)width);
            if (at + width > n - 8) continue;
            memcpy(buf + at, &v, width); /* little-endian host */
        }
        uint64_t c = fnv1a(buf, n - 8);
        memcpy(buf + n - 8, &c, 8);
    }
    f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(buf, 1, n, f);
    fclose(f);
    return path;
}

static void g_network_load(void) {
    int k = (int)(rnd() % SAVED);
    const char *path = saved_path[k];
    if (!saved_ok[k]) must_fail("no file saved there");
    if (pct(40)) {
        if (saved_ok[k]) {
            const char *d = damaged_copy(saved_path[k]);
            if (d) path = d; /* may still be valid (e.g. a flip inside a float): not predicted */
        }
    } else if (pct(H * 2)) path = hostile_path();
    pdb_network **out = out_scalar(sizeof(void *), 6, 1, "net");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_network_load(path, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_NET, *out, 0);
}

/* ---- EED and AOS on images (pdeblocks_image_eed.h) ------------------------------------------ */

/* (images_t and gen_images: see "Image schemes" above) */

static double gen_grid(void) {
    if (pct(H)) { double h = bad_double(); if (is_bad_positive(h)) must_fail("h is not positive and finite"); return h; }
    return unif(0.5, 2);
}

static double gen_sigma(void) {
    if (pct(H)) { double v = bad_double(); if (!(v >= 0) || !isfinite(v) || v > 1e5) must_fail("sigma is negative, not finite or huge"); return v; }
    return pct(20) ? 0.0 : unif(0, 3);
}

static void g_eed_stable_tau(void) {
    int64_t height = irange(1, 50), width = irange(1, 50);
    if (pct(H)) { height = pct(50) ? 0 : bad_len(); must_fail("height is not positive"); }
    double h = gen_grid();
    int32_t kind = gen_kind();
    double lambda = gen_lambda();
    RUN(pdb_eed_stable_tau(height, width, h, kind, lambda, out_scalar(8, 8, 1, "tau")));
}

static void g_eed(void) {
    images_t m = gen_images();
    double h = gen_grid(), sigma = gen_sigma(), lambda = gen_lambda();
    int32_t kind = gen_kind();
    double tau = gen_tau(0.2);
    int64_t steps = gen_work(0, 4, "steps is negative or huge");
    RUN(pdb_eed(m.f, m.batch, m.height, m.width, h, kind, lambda, sigma, tau, steps, gen_flags(), m.out));
}

static void g_eed_fed(void) {
    images_t m = gen_images();
    double h = gen_grid(), sigma = gen_sigma(), lambda = gen_lambda();
    int32_t kind = gen_kind();
    double t = pct(H) ? bad_double() : unif(0, 3);
    if (!(t >= 0) || !isfinite(t)) must_fail("t is negative or not finite");
    double tau_max = pct(50) ? 0.0 : unif(0, 0.2);
    if (pct(H)) { tau_max = bad_double(); if (!isfinite(tau_max)) must_fail("tau_max is not finite"); }
    int64_t cycles = pct(H) ? bad_len() : irange(0, 3);
    if (cycles < 0 || cycles > ((int64_t)1 << 40)) must_fail("cycles is negative or huge");
    RUN(pdb_eed_fed(m.f, m.batch, m.height, m.width, h, kind, lambda, sigma, t, tau_max, cycles, gen_flags(), m.out,
                    out_scalar(8, 30, 0, "cycles_used"), out_scalar(8, 30, 0, "cycle_length"),
                    out_scalar(8, 30, 0, "tau_used")));
}

static void g_aos(void) {
    images_t m = gen_images();
    double h = gen_grid(), lambda = gen_lambda();
    int32_t kind = gen_kind();
    double tau = pct(H) ? bad_double() : unif(0.01, 100);
    if (is_bad_positive(tau)) must_fail("tau is not positive and finite");
    int64_t steps = gen_work(0, 4, "steps is negative or huge");
    RUN(pdb_aos(m.f, m.batch, m.height, m.width, h, kind, lambda, tau, steps, m.out));
}

/* ---- 2D diffusion block (pdeblocks_image_layers.h) ------------------------------------------ */

typedef struct {
    int64_t filters, count, true_count;
    int64_t *shapes, *terms;
    int32_t coupling, flags;
    int32_t *kinds;
    double *params;
} image_block_t;

/* A small block description and its parameters (tau small and positive); hostile: one
 * certainly invalid argument. `uses_params`: the entry point reads params and count. */
static image_block_t gen_image_block(int uses_params) {
    image_block_t b;
    b.filters = irange(1, 3);
    b.shapes = region((size_t)(4 * b.filters) * sizeof(int64_t), 0, "filter_shapes");
    int64_t weights = 0;
    for (int64_t c = 0; c < b.filters; c++) {
        int64_t r = irange(1, 3), k = irange(1, 3);
        b.shapes[4 * c] = r;
        b.shapes[4 * c + 1] = k;
        b.shapes[4 * c + 2] = irange(-2, 1);
        b.shapes[4 * c + 3] = irange(-2, 1);
        weights += r * k;
    }
    b.coupling = (int32_t)irange(0, PDB_COUPLING_COUNT - 1);
    int64_t d = b.coupling == PDB_COUPLING_CHANNELWISE ? b.filters : 1, dp = 0;
    b.kinds = region((size_t)d * sizeof(int32_t), 0, "kinds");
    b.terms = pct(30) ? NULL : region((size_t)d * sizeof(int64_t), 0, "terms");
    for (int64_t k = 0; k < d; k++) {
        b.kinds[k] = (int32_t)irange(0, PDB_DIFFUSIVITY_COUNT - 1);
        int64_t j = b.terms && pct(40) ? irange(1, 3) : 0;
        if (b.terms) b.terms[k] = j;
        dp += j > 0 ? 2 * j : (b.kinds[k] == PDB_DIFFUSIVITY_LINEAR ? 0 : 1);
    }
    b.flags = (int32_t)irange(0, 7);
    b.true_count = b.count = weights + dp + 1 + ((b.flags & PDB_IMAGE_BLOCK_REACTION) ? 1 : 0);
    b.params = in_d(b.count, b.count + 2, -1, 1, 0, "params");
    b.params[weights + dp] = unif(0, 0.05);
    if (pct(H)) {
        int r = (int)(rnd() % 9);
        if (r == 0 && uses_params) { b.params[irange(0, b.count - 1)] = pct(50) ? NAN : INFINITY; must_fail("a parameter is not finite"); }
        else if (r == 1) { b.shapes[4 * irange(0, b.filters - 1)] = pct(50) ? 0 : bad_len(); must_fail("a filter side is out of range"); }
        else if (r == 2) { b.shapes = NULL; must_fail("filter_shapes is NULL"); }
        else if (r == 3) { b.kinds = NULL; must_fail("kinds is NULL"); }
        else if (r == 4) { b.coupling = bad_code(PDB_COUPLING_COUNT); must_fail("unknown coupling"); }
        else if (r == 5) { b.flags |= (int32_t)8 << irange(0, 20); must_fail("unknown flag bits"); }
        else if (r == 6 && uses_params) {
            b.count = pct(50) ? b.count + (pct(50) ? 1 : -1) : bad_len();
            must_fail("count is not the block's parameter count");
        }
        else if (r == 7) { b.filters = pct(50) ? 0 : bad_len(); must_fail("filters is not in 1...1024"); }
        else if (r == 8 && b.terms) { b.terms[0] = pct(50) ? 65 : -1; must_fail("terms out of 0...64"); }
    }
    if (uses_params && pct(H / 2 + 1)) { b.params = NULL; must_fail("params is NULL"); }
    return b;
}

#define BLOCK_ARGS(b) b.filters, b.shapes, b.coupling, b.kinds, b.terms, b.flags

/* f: required with PDB_IMAGE_BLOCK_REACTION, otherwise not read (often NULL). */
static double *gen_block_data(image_block_t *b, int64_t pixels) {
    if (b->flags & PDB_IMAGE_BLOCK_REACTION) return gen_image_input(pixels, "f");
    return pct(50) ? NULL : in_d(pixels, pixels, -1, 1, 0, "f");
}

static void g_image_block_parameter_count(void) {
    image_block_t b = gen_image_block(0);
    RUN(pdb_image_block_parameter_count(BLOCK_ARGS(b), out_scalar(8, 10, 1, "count")));
}

static void g_image_block_tau_bound(void) {
    image_block_t b = gen_image_block(1);
    int64_t height = gen_side(), width = gen_side();
    RUN(pdb_image_block_tau_bound(BLOCK_ARGS(b), b.params, b.count, height, width, out_scalar(8, 10, 1, "bound")));
}

static void g_image_block_forward(void) {
    image_block_t b = gen_image_block(1);
    image_size_t z = gen_image_size();
    double *u = gen_image_input(z.pixels, "u");
    double *f = gen_block_data(&b, z.pixels);
    double *out = gen_image_output(z.pixels, z.valid, "out");
    RUN(pdb_image_block_forward(BLOCK_ARGS(b), b.params, b.count, u, f, z.batch, z.height, z.width, out));
}

static void g_image_block_backward(void) {
    image_block_t b = gen_image_block(1);
    image_size_t z = gen_image_size();
    double *v = gen_image_input(z.pixels, "grad_out");
    double *u = gen_image_input(z.pixels, "u");
    double *f = gen_block_data(&b, z.pixels);
    double *gu = gen_image_output(z.pixels, z.valid, "grad_u");
    double *gf = pct(30) ? NULL : out_d(z.valid ? z.pixels : 0, z.pixels + irange(0, 2), "grad_f");
    double *gp = out_d(b.true_count, b.true_count + irange(0, 2), "grad_params");
    if (pct(H / 2 + 1)) { gp = NULL; must_fail("grad_params is NULL"); }
    RUN(pdb_image_block_backward(BLOCK_ARGS(b), b.params, b.count, v, u, f, z.batch, z.height, z.width, gu, gf, gp));
}

/* ---- Image networks (pdeblocks_image_network.h) ---------------------------------------------- */

/* Appends (helper call) a small diffusion block: one forward difference along x, Perona-Malik. */
static void add_small_image_block(pdb_image_network *h, int reaction) {
    static const int64_t shapes[4] = {1, 2, 0, 0};
    static const int32_t kinds[1] = {PDB_DIFFUSIVITY_PERONA_MALIK};
    const double params[5] = {-1, 1, -0.7, 0.1, -0.5};
    pdb_image_network_add_diffusion(h, 1, shapes, PDB_COUPLING_ISOTROPIC, kinds, NULL,
                                    reaction ? PDB_IMAGE_BLOCK_REACTION : 0, params, reaction ? 5 : 4);
}

/* Appends (helper call) a small residual block: one channel, forward differences, tanh. */
static void add_small_residual(pdb_image_network *h) {
    static const int64_t s1[4] = {1, 2, 0, 0}, s2[4] = {2, 1, 0, 0};
    const double params[5] = {-1, 1, -0.1, 0.1, 0.05};
    pdb_image_network_add_residual(h, 1, s1, s2, PDB_ACTIVATION_TANH, params, 5);
}

static pdb_image_network *new_image_network(void) {
    pdb_image_network *h = NULL;
    if (pdb_image_network_create(&h) != PDB_OK) { violation("pdb_image_network_create failed"); return NULL; }
    add_small_image_block(h, 1);
    if (pct(50)) add_small_residual(h);
    return h;
}

static int64_t imgnet_count(void *h, int what) {
    int64_t c = -1;
    int32_t s = what == 0 ? pdb_image_network_block_count(h, &c) : pdb_image_network_parameter_count(h, &c);
    return s == PDB_OK ? c : -1;
}

/* An image network handle; live networks that grew large are replaced by fresh ones first. */
static void *pick_imgnet(int *slot) {
    void *h = pick_handle(T_IMGNET, slot);
    if (*slot >= 0 && (imgnet_count(h, 0) > 6 || imgnet_count(h, 1) > 400)) {
        int32_t s = pdb_image_network_destroy(h);
        if (s != PDB_OK && s != PDB_ERR_HANDLE) violation("destroying a grown image network gave %d", s);
        remember_dead(T_IMGNET, h);
        pdb_image_network *fresh = new_image_network();
        if (!fresh) { pool_remove(T_IMGNET, *slot); *slot = -1; return NULL; }
        pool[T_IMGNET][*slot] = fresh;
        h = fresh;
    }
    return h;
}

/* The parameter count of a live pooled network (slot >= 0), else a small guess. */
static int64_t imgnet_params(void *h, int slot) {
    int64_t c = slot >= 0 ? imgnet_count(h, 1) : -1;
    return c >= 0 ? c : irange(0, 8);
}

static void g_image_network_create(void) {
    pdb_image_network **out = out_scalar(sizeof(void *), 6, 1, "net");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_image_network_create(out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) {
        pool_add(T_IMGNET, *out, 0);
        if (pct(80)) add_small_image_block(*out, (int)pct(50));
    }
}

static void g_image_network_destroy(void) {
    int slot;
    void *h = pick_handle(T_IMGNET, &slot);
    int32_t s = RUN(pdb_image_network_destroy(h));
    if (s == PDB_OK && slot >= 0) { remember_dead(T_IMGNET, h); pool_remove(T_IMGNET, slot); }
}

static void g_image_network_add_diffusion(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    image_block_t b = gen_image_block(1);
    RUN(pdb_image_network_add_diffusion(h, BLOCK_ARGS(b), b.params, b.count));
}

static void g_image_network_add_fsi(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t cycle = irange(1, 4);
    if (pct(H)) { cycle = pct(50) ? irange(-2, 0) : (pct(50) ? 65 : bad_len()); must_fail("cycle_length is not in 1...64"); }
    image_block_t b = gen_image_block(1);
    RUN(pdb_image_network_add_fsi(h, cycle, BLOCK_ARGS(b), b.params, b.count));
}

static void g_image_network_add_residual(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t c = irange(1, 2), weights = 0;
    int64_t *s1 = region((size_t)(4 * c) * sizeof(int64_t), 0, "w1_shapes");
    int64_t *s2 = region((size_t)(4 * c) * sizeof(int64_t), 0, "w2_shapes");
    for (int64_t k = 0; k < 4 * c; k += 4) {
        int64_t *sh[2] = {s1, s2};
        for (int j = 0; j < 2; j++) {
            sh[j][k] = irange(1, 3);
            sh[j][k + 1] = irange(1, 3);
            sh[j][k + 2] = irange(-2, 1);
            sh[j][k + 3] = irange(-2, 1);
            weights += sh[j][k] * sh[j][k + 1];
        }
    }
    int32_t act = (int32_t)irange(0, 2);
    int64_t count = weights + c;
    double *params = in_d(count, count + 2, -0.5, 0.5, 0, "params");
    if (pct(H)) {
        int r = (int)(rnd() % 7);
        if (r == 0) { act = PDB_ACTIVATION_FLUX; must_fail("a flux activation"); }
        else if (r == 1) { act = bad_code(PDB_ACTIVATION_COUNT); must_fail("unknown activation"); }
        else if (r == 2) { s1 = NULL; must_fail("w1_shapes is NULL"); }
        else if (r == 3) { s2[4 * irange(0, c - 1) + 1] = pct(50) ? 0 : bad_len(); must_fail("a W2 side is out of range"); }
        else if (r == 4) { params[irange(0, count - 1)] = pct(50) ? NAN : INFINITY; must_fail("a parameter is not finite"); }
        else if (r == 5) { count = pct(50) ? count - 1 : bad_len(); must_fail("count is not the block's parameter count"); }
        else { c = pct(50) ? 0 : bad_len(); must_fail("channels is not in 1...1024"); }
    }
    if (pct(H / 2 + 1)) { params = NULL; must_fail("params is NULL"); }
    RUN(pdb_image_network_add_residual(h, c, s1, s2, act, params, count));
}

static void g_image_network_block_count(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    RUN(pdb_image_network_block_count(h, out_scalar(8, 10, 1, "count")));
}

static void g_image_network_parameter_count(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    RUN(pdb_image_network_parameter_count(h, out_scalar(8, 10, 1, "count")));
}

static void g_image_network_block_info(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t blocks = imgnet_count(h, 0); /* -1 for an invalid handle (which fails anyway) */
    int64_t index = blocks > 0 ? irange(0, blocks - 1) : 0;
    if (pct(H) || blocks == 0) { index = pct(50) ? blocks : bad_scalar(); if (index < 0 || index >= blocks) must_fail("index out of range"); }
    RUN(pdb_image_network_block_info(h, index, out_scalar(4, 8, 1, "kind"), out_scalar(8, 8, 1, "parameter_offset"),
                                     out_scalar(8, 8, 1, "parameter_count")));
}

static void g_image_network_get_parameters(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t pc = imgnet_params(h, slot), count = pc;
    if (pct(H)) { count = pct(50) ? pc + 1 : bad_len(); if (slot >= 0) must_fail("count is not the parameter count"); }
    double *out = out_d(count == pc ? pc : 0, pc + 2, "out");
    if (pct(H / 2 + 1) && pc > 0) { out = NULL; must_fail("out is NULL"); }
    RUN(pdb_image_network_get_parameters(h, out, count));
}

static void g_image_network_set_parameters(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t pc = imgnet_params(h, slot), count = pc;
    double *p = in_d(pc, pc + 2, -0.5, 0.5, 0, "params");
    if (slot >= 0 && pc > 0) pdb_image_network_get_parameters(h, p, pc); /* helper: start from the current values */
    for (int64_t i = 0; i < pc; i++) p[i] += unif(-1e-3, 1e-3);
    if (pct(H)) {
        int r = (int)(rnd() % 3);
        if (r == 0 && pc > 0) { p[irange(0, pc - 1)] = pct(50) ? NAN : -INFINITY; must_fail("a parameter is not finite"); }
        else if (r == 1) { count = pct(50) ? pc + 1 : bad_len(); if (slot >= 0 || count < 0) must_fail("count is not the parameter count"); }
        else if (pc > 0) { p = NULL; must_fail("params is NULL"); }
    }
    RUN(pdb_image_network_set_parameters(h, p, count));
}

static void g_image_network_set_threads(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int32_t t = (int32_t)irange(0, 3);
    if (pct(H)) { t = pct(50) ? -1 : 5000; must_fail("threads out of 0...4096"); }
    RUN(pdb_image_network_set_threads(h, t));
}

static void g_image_network_forward(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    image_size_t z = gen_image_size();
    double *x = gen_image_input(z.pixels, "x");
    int32_t flags = pct(50) ? PDB_FORWARD_INFERENCE : 0;
    if (pct(H)) { flags = 1 << irange(1, 30); must_fail("unknown forward flags"); }
    double *out = gen_image_output(z.pixels, z.valid, "out");
    RUN(pdb_image_network_forward(h, x, z.batch, z.height, z.width, flags, out));
}

/* A recorded pass of z's shape on h (helper call), so backward reaches its success path. */
static void record_image_pass(void *h, int slot, image_size_t z) {
    if (slot < 0 || !z.valid || !pct(70)) return;
    double *x = malloc((size_t)z.pixels * sizeof(double)), *out = malloc((size_t)z.pixels * sizeof(double));
    for (int64_t i = 0; i < z.pixels; i++) x[i] = unif(-1, 1);
    pdb_image_network_forward(h, x, z.batch, z.height, z.width, 0, out);
    free(x);
    free(out);
}

static void g_image_network_backward(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    image_size_t z = gen_image_size();
    record_image_pass(h, slot, z);
    int64_t pc = imgnet_params(h, slot), count = pc;
    double *v = gen_image_input(z.pixels, "grad_out");
    double *gi = gen_image_output(z.pixels, z.valid, "grad_in");
    if (pct(H)) { count = pct(50) ? pc + 1 : bad_len(); if (slot >= 0 || count < 0) must_fail("param_count is not the parameter count"); }
    double *gp = out_d(count == pc ? pc : 0, pc + 2, "grad_params");
    if (pct(H / 2 + 1)) { gp = NULL; must_fail("grad_params is NULL"); }
    RUN(pdb_image_network_backward(h, v, z.batch, z.height, z.width, gi, gp, count));
}

static void g_image_network_loss_and_gradient(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    image_size_t z = gen_image_size();
    int64_t pc = imgnet_params(h, slot), count = pc;
    double *x = gen_image_input(z.pixels, "x");
    double *t = gen_image_input(z.pixels, "target");
    double *loss = out_scalar(8, 5, 1, "loss");
    if (pct(H)) { count = pct(50) ? pc + 1 : bad_len(); if (slot >= 0 || count < 0) must_fail("param_count is not the parameter count"); }
    double *gp = out_d(count == pc ? pc : 0, pc + 2, "grad_params");
    if (pct(H / 2 + 1)) { gp = NULL; must_fail("grad_params is NULL"); }
    RUN(pdb_image_network_loss_and_gradient(h, x, t, z.batch, z.height, z.width, loss, gp, count));
}

static void g_image_network_certificate(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t height = gen_side(), width = gen_side();
    RUN(pdb_image_network_certificate(h, height, width, out_scalar(4, 5, 1, "certified"), out_scalar(8, 5, 1, "first_failure")));
}

static void g_image_network_block_certificate(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int64_t index = irange(0, 2), height = gen_side(), width = gen_side();
    if (pct(H)) { index = pct(50) ? -1 : bad_len(); must_fail("block index out of range"); }
    int64_t capacity = pct(30) ? 0 : irange(1, 300);
    char *reason = capacity > 0 ? region((size_t)capacity, (size_t)capacity, "reason") : NULL;
    if (capacity > 0 && pct(H / 2 + 1)) { reason = NULL; must_fail("reason is NULL with capacity > 0"); }
    RUN(pdb_image_network_block_certificate(h, index, height, width, out_scalar(4, 5, 1, "certified"), out_scalar(8, 5, 1, "tau"),
                                            out_scalar(8, 5, 1, "tau_bound"), reason, capacity,
                                            out_scalar(8, 5, 1, "reason_length")));
}

#define IMG_SAVED 3
static char img_saved_path[IMG_SAVED][512];
static int img_saved_ok[IMG_SAVED];

static void g_image_network_save(void) {
    int slot;
    void *h = pick_imgnet(&slot);
    int k = (int)(rnd() % IMG_SAVED);
    const char *path = img_saved_path[k];
    if (pct(H * 2)) path = hostile_path();
    int32_t s = RUN(pdb_image_network_save(h, path));
    if (path == img_saved_path[k]) img_saved_ok[k] = s == PDB_OK ? 1 : img_saved_ok[k];
}

static void g_image_network_load(void) {
    int k = (int)(rnd() % IMG_SAVED);
    const char *path = img_saved_path[k];
    if (!img_saved_ok[k]) must_fail("no file saved there");
    if (pct(40)) {
        if (img_saved_ok[k]) {
            const char *d = damaged_copy(img_saved_path[k]);
            if (d) path = d; /* may still be valid: not predicted */
        }
    } else if (pct(10)) {
        path = saved_path[rnd() % SAVED];
        must_fail("a signal network's file (or none)");
    } else if (pct(H * 2)) path = hostile_path();
    pdb_image_network **out = out_scalar(sizeof(void *), 6, 1, "net");
    int64_t before = live_handles();
    int32_t s = RUN(pdb_image_network_load(path, out));
    int64_t after = live_handles();
    if (after != before + (s == PDB_OK)) violation("live handles %lld -> %lld (status %d)", (long long)before, (long long)after, s);
    if (s == PDB_OK) pool_add(T_IMGNET, *out, 0);
}

/* ---- Entry table ---------------------------------------------------------------------------- */

#define G(name) {"pdb_" #name, g_##name, 0, 0, 0}
static entry_t entries[] = {
    G(last_error), G(version), G(version_string), G(build_info), G(enum_name), G(status_string), G(set_threads), G(get_threads), G(live_handles), G(set_progress),
    G(stencil_apply), G(stencil_adjoint), G(stencil_matrix), G(stencil_norm_squared), G(difference_operator),
    G(diffusivity_from_name), G(diffusivity_name), G(diffusivity_g), G(diffusivity_flux),
    G(diffusivity_flux_derivative), G(diffusivity_constants),
    G(stable_tau), G(explicit), G(explicit_packed), G(fsi), G(fed_step_sizes), G(fed), G(contraction_tau), G(implicit), G(evolve),
    G(explicit_2d), G(fsi_2d), G(fed_2d), G(implicit_2d), G(evolve_2d),
    G(stencil2d_apply), G(stencil2d_adjoint), G(stencil2d_matrix), G(filter_bank_norm_squared), G(stable_tau_2d),
    G(image_block_parameter_count), G(image_block_tau_bound), G(image_block_forward), G(image_block_backward),
    G(image_network_create), G(image_network_destroy), G(image_network_add_diffusion), G(image_network_add_fsi), G(image_network_add_residual),
    G(image_network_block_count), G(image_network_block_info), G(image_network_parameter_count), G(image_network_get_parameters),
    G(image_network_set_parameters), G(image_network_set_threads), G(image_network_forward), G(image_network_backward),
    G(image_network_loss_and_gradient), G(image_network_certificate), G(image_network_block_certificate),
    G(image_network_save), G(image_network_load),
    G(banded_matvec), G(banded_solve), G(poisson_1d), G(poisson_2d), G(diffusion_system_2d), G(stencil_field_matvec),
    G(mg2d_create), G(mg2d_levels), G(mg2d_level_operator), G(diffusion_system_bandwidth), G(diffusion_system),
    G(mg_create), G(mg_destroy), G(mg_levels), G(mg_level_matrix), G(mg_prolong), G(mg_restrict), G(mg_cycle),
    G(mg_unet_cycle), G(mg_solve), G(cg), G(semi_implicit),
    G(unet2_create), G(unet2_destroy), G(unet2_forward), G(unet2d_create), G(unet2d_destroy), G(unet2d_forward),
    G(network_create), G(network_destroy), G(network_add_diffusion), G(network_add_fsi), G(network_add_implicit),
    G(network_add_filter), G(network_add_learnable_filter), G(network_add_residual),
    G(network_add_residual_channel), G(network_block_count), G(network_block_info), G(network_parameter_count),
    G(network_get_parameters), G(network_set_parameters), G(network_set_threads), G(network_set_tape_limit), G(network_describe),
    G(network_forward), G(network_backward), G(network_certificate), G(network_block_certificate),
    G(network_project_stable), G(network_save), G(network_load),
    G(eed_stable_tau), G(eed), G(eed_fed), G(aos),
};
#define NENTRIES ((int)(sizeof(entries) / sizeof(entries[0])))

/* ---- Crashes and hangs ------------------------------------------------------------------------ */

static int hang_seconds = 20;

static void on_crash(int sig) {
    char msg[512];
    int k = snprintf(msg, sizeof msg, "CRASH signal %d in %s call %ld (seed %llu)\n", sig, cur ? cur->name : "?",
                     cur ? cur->calls : 0L, (unsigned long long)seed);
    if (k > 0) (void)!write(2, msg, (size_t)k);
    if (k > 0) (void)!write(1, msg, (size_t)k);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_alarm(int sig) {
    (void)sig;
    static long last = -1;
    static int still;
    if (call_serial != last) { last = call_serial; still = 0; return; }
    if (++still < hang_seconds) return;
    char msg[512];
    int k = snprintf(msg, sizeof msg, "HANG in %s call %ld (seed %llu): no return for %d s\n", cur ? cur->name : "?",
                     cur ? cur->calls : 0L, (unsigned long long)seed, hang_seconds);
    if (k > 0) (void)!write(2, msg, (size_t)k);
    if (k > 0) (void)!write(1, msg, (size_t)k);
    _exit(3);
}

static void install_handlers(void) {
    int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], on_crash);
    signal(SIGALRM, on_alarm);
    struct itimerval t = {{1, 0}, {1, 0}};
    setitimer(ITIMER_REAL, &t, NULL);
}

/* ---- Network handles: re-entry, extreme logits, tape limit (issue 12, "network") ------------------ */

/* A progress callback that calls the network it reports on: every such call must return
 * PDB_ERR_BUSY (it trapped with "Recursive call to lock Mutex", or deadlocked when the
 * callback ran on a worker thread). */
static pdb_network *reentry_net;
static int reentry_bad, reentry_calls;
static double reentry_x[64 * 32], reentry_y[64 * 32], reentry_g[64 * 32], reentry_p[64];
static int32_t reentry_progress(void *user, int64_t done, int64_t total, double value) {
    (void)user; (void)done; (void)total; (void)value;
    int64_t count = 0, pc = 0;
    int32_t s[5];
    s[0] = pdb_network_block_count(reentry_net, &count);
    s[1] = pdb_network_parameter_count(reentry_net, &pc);
    s[2] = pdb_network_forward(reentry_net, reentry_x, 1, 32, 0, reentry_y);
    s[3] = pdb_network_set_parameters(reentry_net, reentry_p, 1);
    s[4] = pdb_network_set_tape_limit(reentry_net, 1 << 20);
    for (int k = 0; k < 5; k++) reentry_bad += s[k] != PDB_ERR_BUSY;
    reentry_calls++;
    return 0;
}

static void fuzz_network_hostile(void) {
    static const double fd[2] = {-1.0, 1.0}, mix[2] = {0.3, 0.2}, lam[2] = {0.5, 1.0};
    pdb_network *net;
    if (pdb_network_create(&net) != PDB_OK) { violation("network_hostile: create failed"); return; }
    int32_t s = pdb_network_add_implicit(net, 0.1, PDB_TAU_FREE, 40);
    if (s == PDB_OK) s = pdb_network_add_learnable_filter(net, fd, 2, 0, mix, lam, 2);
    int64_t pc = 0;
    if (s == PDB_OK) s = pdb_network_parameter_count(net, &pc);
    if (s != PDB_OK || pc != 7) { violation("network_hostile: build gave %d (%s)", s, pdb_last_error()); pdb_network_destroy(net); return; }
    for (int i = 0; i < 64 * 32; i++) reentry_x[i] = unif(-1, 1);
    double out[64 * 32], gin[64 * 32], gp[7], p[7];

    /* re-entry from the callback, on the calling thread (1 thread) and on workers (2) */
    reentry_net = net;
    for (int threads = 1; threads <= 2; threads++) {
        pdb_network_set_threads(net, threads);
        for (int flags = 0; flags <= 1; flags++) {
            reentry_bad = reentry_calls = 0;
            pdb_set_progress(reentry_progress, NULL, 0.0);
            s = pdb_network_forward(net, reentry_x, 64, 32, flags, out);
            pdb_set_progress(NULL, NULL, 0.0);
            if (s != PDB_OK || reentry_calls == 0 || reentry_bad)
                violation("network_hostile: re-entrant calls (threads %d, flags %d): outer %d, %d callbacks, %d not BUSY",
                          threads, flags, s, reentry_calls, reentry_bad);
        }
    }

    /* logits of any size keep a_j > 0, sum a_j < 1: finite outputs and gradients */
    static const double logits[][2] = {{800, -800}, {-800, 800}, {800, 800}, {1e300, -1e300}, {-1e300, -1e300}, {40, -40}};
    pdb_network_set_threads(net, 1);
    for (size_t k = 0; k < sizeof logits / sizeof logits[0]; k++) {
        if (pdb_network_get_parameters(net, p, 7) != PDB_OK) { violation("network_hostile: get_parameters"); break; }
        p[2] = logits[k][0];
        p[3] = logits[k][1];
        s = pdb_network_set_parameters(net, p, 7);
        if (s == PDB_OK) s = pdb_network_forward(net, reentry_x, 4, 32, 0, out);
        if (s == PDB_OK) s = pdb_network_backward(net, out, 4, 32, gin, gp, 7);
        int finite = 1;
        for (int i = 0; i < 4 * 32; i++) finite &= isfinite(out[i]) && isfinite(gin[i]);
        for (int j = 0; j < 7; j++) finite &= isfinite(gp[j]);
        if (s != PDB_OK || !finite) violation("network_hostile: logits (%g, %g): status %d, finite %d", logits[k][0], logits[k][1], s, finite);
    }

    /* a recorded pass above the tape limit fails before writing; inference is not limited */
    pdb_network_set_tape_limit(net, 8 * 32 * 10);
    for (int i = 0; i < 4 * 32; i++) out[i] = -7;
    s = pdb_network_forward(net, reentry_x, 4, 32, 0, out);
    int untouched = 1;
    for (int i = 0; i < 4 * 32; i++) untouched &= out[i] == -7;
    if (s != PDB_ERR_INVALID || !untouched || !strstr(pdb_last_error(), "bytes of tape"))
        violation("network_hostile: tape over the limit gave %d (%s), out untouched %d", s, pdb_last_error(), untouched);
    s = pdb_network_forward(net, reentry_x, 4, 32, PDB_FORWARD_INFERENCE, out);
    if (s != PDB_OK) violation("network_hostile: inference under a small tape limit gave %d (%s)", s, pdb_last_error());
    pdb_network_destroy(net);
    reentry_net = NULL;
}

/* ---- Files area: overlapping outputs, hostile file names ------------------------------------------ */

/* Input classes that found the defects of the "files" area (issue 12, items 11, 13-15), run
 * `rounds` times: an output array overlapping an input or another output (the same memory where
 * the header does not allow it, or shifted by a few elements), which must fail with
 * PDB_ERR_INVALID and change no byte; then file names: two names differing only in non-UTF-8
 * bytes are two files, a FIFO and a symbolic-link loop are refused (PDB_ERR_IO) without
 * blocking and left as they were. Its objects are its own and destroyed at the end. */
static entry_t files_entry = {"fuzz_files_hostile", NULL, 0, 0, 0};

static void files_expect_overlap_refused(int32_t s) {
    const char *m = pdb_last_error();
    if (s != PDB_ERR_INVALID) violation("overlapping arguments: status %d, expected PDB_ERR_INVALID (%s)", s, m);
    else if (!strstr(m, "overlaps")) violation("overlapping arguments: the message does not name the overlap: %s", m);
}

static void fuzz_files_hostile(long rounds) {
    static const double w[2] = {-1, 1};
    entry_t *outer = cur;
    cur = &files_entry;
    pdb_network *net = NULL, *net2 = NULL;
    pdb_multigrid *mg = NULL;
    double poisson[15 * 3];
    if (pdb_network_create(&net) != PDB_OK || pdb_network_add_diffusion(net, 0.1, PDB_TAU_FREE) != PDB_OK ||
        pdb_network_add_filter(net, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5) != PDB_OK ||
        pdb_network_create(&net2) != PDB_OK || pdb_network_add_diffusion(net2, 0.2, PDB_TAU_FREE) != PDB_OK ||
        pdb_network_add_filter(net2, w, 2, 0, PDB_DIFFUSIVITY_CHARBONNIER, 0.3) != PDB_OK ||
        pdb_poisson_1d(15, 1.0, poisson) != PDB_OK ||
        pdb_mg_create(15, 1, 1, poisson, PDB_GRID_VERTEX, PDB_SMOOTHER_GAUSS_SEIDEL, 0, 1, 1, PDB_CYCLE_V,
                      PDB_TRANSFER_AUTO, 2, 0, &mg) != PDB_OK) {
        violation("set-up of the files fuzz failed: %s", pdb_last_error());
        return;
    }
    int64_t params = 0;
    pdb_network_parameter_count(net, &params);

    for (long i = 0; i < rounds; i++) {
        int64_t batch = irange(1, 3), n = irange(2, 12), total = batch * n;
        int64_t shift = irange(1, total - 1) * (pct(50) ? 1 : -1);      /* a partial overlap */
        int64_t same_or_shift = pct(30) ? 0 : shift;                     /* where in place is not allowed */
        double *a = region((size_t)(4 * total + 64) * sizeof(double), 0, "arena (inputs and overlapping outputs)");
        fill(a, 4 * total + 64, -1, 1, 0);
        double *in = a + 2 * total;                                      /* room on both sides */
        expect_fail = "an output overlaps an input or another output";
        int32_t s;
        switch ((int)(rnd() % 9)) {
        case 0: s = RUN(pdb_stencil_apply(w, 2, 0, in, batch, n, in + same_or_shift)); break;
        case 1: s = RUN(pdb_stencil_adjoint(w, 2, 0, in, batch, n, in + same_or_shift)); break;
        case 2: /* diagonal band (no outside slots) right after x */
            s = RUN(pdb_banded_matvec(n, 0, 0, in + total, in, batch, in + same_or_shift)); break;
        case 3: s = RUN(pdb_explicit(in, batch, n, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 3, 0, 0, NULL, 0,
                                     in + shift)); break;
        case 4: { /* history over f or over out (= f: allowed in place) */
            double *history = pct(50) ? in - irange(0, 3 * total) : in + shift;
            s = RUN(pdb_explicit(in, batch, n, w, 2, 0, PDB_DIFFUSIVITY_PERONA_MALIK, 0.5, 0.2, 3, 0, 1, history,
                                 4 * total, in));
            break;
        }
        case 5: s = RUN(pdb_diffusivity_flux(PDB_DIFFUSIVITY_WEICKERT, 0.5, in, total, in + shift)); break;
        case 6: { /* out over b (never allowed), x separate */
            double *b = in;
            s = RUN(pdb_mg_cycle(mg, a, b, 1, 15, b + (pct(30) ? 0 : irange(-14, 14))));
            break;
        }
        case 7: s = RUN(pdb_network_forward(net, in, batch, n, (int32_t)irange(0, 1), in + same_or_shift)); break;
        default: {
            double *x = malloc((size_t)total * 2 * sizeof(double));
            if (!x || pdb_network_forward(net, x, batch, n, 0, x + total) != PDB_OK) { free(x); continue; }
            free(x);
            double *gp = a + 4 * total + 64 - params;                     /* separate unless grad_in reaches it */
            s = RUN(pdb_network_backward(net, in, batch, n, in + same_or_shift, gp, params));
            break;
        }
        }
        files_expect_overlap_refused(s);
        release_regions();
    }

    /* File names are bytes: \xff and \xfe are two files, the U+FFFD spelling is neither. */
    char pa[600], pb[600], pr[600], fifo[600], loop1[600], loop2[600];
    snprintf(pa, sizeof pa, "%s/fuzz_files_\xff.pdbnet", tmpdir);
    snprintf(pb, sizeof pb, "%s/fuzz_files_\xfe.pdbnet", tmpdir);
    snprintf(pr, sizeof pr, "%s/fuzz_files_\xef\xbf\xbd.pdbnet", tmpdir);
    snprintf(fifo, sizeof fifo, "%s/fuzz_files_fifo.pdbnet", tmpdir);
    snprintf(loop1, sizeof loop1, "%s/fuzz_files_loop1", tmpdir);
    snprintf(loop2, sizeof loop2, "%s/fuzz_files_loop2", tmpdir);
    const char *names[] = {pa, pb, pr, fifo, loop1, loop2};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) unlink(names[k]);
    expect_fail = NULL;
    if (RUN(pdb_network_save(net, pa)) != PDB_OK || RUN(pdb_network_save(net2, pb)) != PDB_OK) {
        violation("saving to a non-UTF-8 file name failed: %s", pdb_last_error());
    } else {
        pdb_network *h[2] = {NULL, NULL};
        const char *paths[2] = {pa, pb};
        pdb_network *orig[2] = {net, net2};
        for (int k = 0; k < 2; k++) {
            int64_t c1 = -1, c2 = -2;
            double p1[16], p2[16];
            if (RUN(pdb_network_load(paths[k], &h[k])) != PDB_OK) { violation("loading %d failed", k); continue; }
            pdb_network_parameter_count(h[k], &c1);
            pdb_network_parameter_count(orig[k], &c2);
            if (c1 != c2 || c1 > 16 || pdb_network_get_parameters(h[k], p1, c1) != PDB_OK ||
                pdb_network_get_parameters(orig[k], p2, c2) != PDB_OK || memcmp(p1, p2, (size_t)c1 * 8) != 0)
                violation("the network loaded from non-UTF-8 name %d is not the one saved there", k);
            pdb_network_destroy(h[k]);
        }
        pdb_network *none = NULL;
        expect_fail = "no file has the U+FFFD spelling of the name";
        RUN(pdb_network_load(pr, &none));
        if (none) pdb_network_destroy(none);
    }
    /* A FIFO is neither replaced nor read (a blocking open would trip the watchdog). */
    if (mkfifo(fifo, 0600) == 0) {
        struct stat st;
        expect_fail = "the path is a FIFO";
        if (RUN(pdb_network_save(net, fifo)) != PDB_ERR_IO) violation("saving onto a FIFO: %s", pdb_last_error());
        pdb_network *h = NULL;
        if (RUN(pdb_network_load(fifo, &h)) != PDB_ERR_IO) violation("loading a FIFO: %s", pdb_last_error());
        if (lstat(fifo, &st) != 0 || !S_ISFIFO(st.st_mode)) violation("the FIFO was replaced");
    }
    if (symlink("fuzz_files_loop2", loop1) == 0 && symlink("fuzz_files_loop1", loop2) == 0) {
        expect_fail = "the symbolic links form a loop";
        if (RUN(pdb_network_save(net, loop1)) != PDB_ERR_IO) violation("saving into a link loop: %s", pdb_last_error());
    }
    expect_fail = NULL;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) unlink(names[k]);
    pdb_network_destroy(net);
    pdb_network_destroy(net2);
    pdb_mg_destroy(mg);
    cur = outer;
}

/* ---- Main ----------------------------------------------------------------------------------------- */

/* Memory: (1) in a child process limited to 1 GB of address space, requests sized by
 * the arguments -- a network block given 1024 filters of 2^20 taps, a multigrid hierarchy
 * of n = 2^24 - 1 -- must fail with PDB_ERR_MEMORY naming the byte count
 * (not abort), after which a small call still works. (2) A library call made inside a
 * progress callback runs without the outer handler: it is not reported to (the callback
 * is not re-entered) and not cancelled by it. */
static int nested_depth, nested_max_depth, nested_status = PDB_OK, nested_calls;

static int32_t nested_report(void *user, int64_t done, int64_t total, double value) {
    (void)user; (void)done; (void)total; (void)value;
    nested_depth++;
    if (nested_depth > nested_max_depth) nested_max_depth = nested_depth;
    if (nested_depth == 1) {
        double f[64], out[64];
        for (int i = 0; i < 64; i++) f[i] = sin(0.3 * i);
        int32_t s = pdb_explicit(f, 1, 64, (double[]){-1, 1}, 2, 0, PDB_DIFFUSIVITY_LINEAR, 1.0, 0.2, 3000, 0, 0, NULL, 0, out);
        if (s != PDB_OK) nested_status = s;
        nested_calls++;
    }
    nested_depth--;
    return 1; /* cancels the outer call (and would cancel a nested call that inherited it) */
}

static void fuzz_memory_hostile(void) {
    pid_t pid = fork();
    if (pid < 0) { violation("memory: fork failed"); return; }
    if (pid == 0) {
        struct rlimit lim = {(rlim_t)1024 << 20, (rlim_t)1024 << 20};
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(3);
        int bad = 0;
        static double taps[1 << 20];
        for (int i = 0; i < (1 << 20); i++) taps[i] = (i & 1) ? 1e-6 : -1e-6;
        pdb_network *net = NULL;
        if (pdb_network_create(&net) != PDB_OK || pdb_network_add_diffusion(net, 0.1, 0) != PDB_OK) _exit(4);
        int32_t s = PDB_OK;
        for (int k = 0; k < 1024 && s == PDB_OK; k++)
            s = pdb_network_add_filter(net, taps, 1 << 20, 0, PDB_DIFFUSIVITY_LINEAR, 1.0);
        if (s != PDB_ERR_MEMORY || !strstr(pdb_last_error(), "bytes")) {
            printf("memory: 1024 filters of 2^20 taps gave %d (%s), expected PDB_ERR_MEMORY\n", s, pdb_last_error());
            bad = 1;
        }
        pdb_network_destroy(net);
        /* a hierarchy of n = 2^24 - 1: the caller's band takes 384 MiB, the library's copy of
         * it and the smoother's scaled rows another 768 MiB: more than the limit allows */
        int64_t n = (1 << 24) - 1;
        double *band = malloc((size_t)n * 3 * sizeof(double));
        if (band == NULL) _exit(5);
        for (int64_t i = 0; i < n; i++) { band[3 * i] = i ? -1 : 0; band[3 * i + 1] = 2; band[3 * i + 2] = i + 1 < n ? -1 : 0; }
        pdb_multigrid *mg = NULL;
        s = pdb_mg_create(n, 1, 1, band, PDB_GRID_VERTEX, PDB_SMOOTHER_JACOBI, 0.0, 1, 1, PDB_CYCLE_V,
                          PDB_TRANSFER_AUTO, 3, 0, &mg);
        if (s != PDB_ERR_MEMORY || !strstr(pdb_last_error(), "bytes")) {
            printf("memory: a hierarchy of n = %lld gave %d (%s), expected PDB_ERR_MEMORY\n", (long long)n, s, pdb_last_error());
            bad = 1;
        }
        if (s == PDB_OK) pdb_mg_destroy(mg);
        free(band);
        /* the process is alive and the library usable */
        double f[16], out[16];
        for (int i = 0; i < 16; i++) f[i] = i;
        s = pdb_explicit(f, 1, 16, (double[]){-1, 1}, 2, 0, PDB_DIFFUSIVITY_LINEAR, 1.0, 0.2, 3, 0, 0, NULL, 0, out);
        if (s != PDB_OK) { printf("memory: a small call after PDB_ERR_MEMORY gave %d\n", s); bad = 1; }
        fflush(stdout);
        _exit(bad ? 1 : 0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status)) violation("memory: the child limited to 1 GB died of signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0) violation("memory: the child limited to 1 GB exited with %d", WEXITSTATUS(status));

    /* (2) nested calls inside a callback */
    double f[4096], out[4096];
    for (int i = 0; i < 4096; i++) f[i] = sin(0.01 * i);
    if (pdb_set_progress(nested_report, NULL, 0.0) != PDB_OK) { violation("memory: pdb_set_progress failed"); return; }
    int32_t s = pdb_implicit(f, 1, 4096, (double[]){-1, 1}, 2, 0, PDB_DIFFUSIVITY_LINEAR, 1.0, 0.2, 100000, 1000, 0.0, 0,
                             out, NULL, NULL);
    pdb_set_progress(NULL, NULL, 0.0);
    if (s != PDB_ERR_CANCELLED) violation("memory: the outer call was not cancelled by its callback (%d)", s);
    if (nested_calls < 1) violation("memory: the callback was never called");
    if (nested_max_depth != 1) violation("memory: a nested call re-entered the outer callback (depth %d)", nested_max_depth);
    if (nested_status != PDB_OK) violation("memory: a call inside the callback gave %d (inherited the handler)", nested_status);
}

/* ---- Solvers area (issue 12): finite inputs at the edge of double precision --------
 * Inputs that made schemes and solvers return NaN/inf or claim convergence at x = 0:
 * values near 1e308 (overflow), tiny ones (underflow of squared norms), huge tau/T on a
 * zero operator, unchecked unstable tau, semi-implicit tau beyond rounding. Each call
 * must either succeed with finite outputs (a finite answer exists) or fail with
 * PDB_ERR_NONFINITE / PDB_ERR_INVALID and leave every output byte unchanged. */
static entry_t solvers_entry = {"fuzz_solvers_hostile", NULL, 0, 0, 0};

static void require_finite(const double *v, int64_t count, const char *what) {
    for (int64_t i = 0; i < count; i++)
        if (!isfinite(v[i])) { violation("%s[%lld] = %g is not finite after PDB_OK", what, (long long)i, v[i]); return; }
}

static void fuzz_solvers_hostile(void) {
    entry_t *saved = cur;
    cur = &solvers_entry;
    enum { N = 63 };
    static const double scales[] = {1e308, -1e307, 1e300, 1e154, 1e-170, 1e-300, 4.9e-324};
    double w1[2] = {-1.0, 1.0}, w0[1] = {0.0};
    for (int round = 0; round < 40; round++) {
        double s = PICK(scales);
        double f[2 * N];
        for (int i = 0; i < 2 * N; i++) f[i] = (pct(50) ? s : 1.0) * ((i % 2) ? -1.0 : 1.0) * (1.0 + (double)(rnd() % 7));
        int32_t kind = (int32_t)(rnd() % PDB_DIFFUSIVITY_COUNT);
        int checked = pct(70);

        /* explicit: overflow is PDB_ERR_NONFINITE, history and out untouched */
        expect_fail = NULL;
        double *out = region(sizeof f, sizeof f, "out");
        double *hist = region(sizeof f * 4, sizeof f * 4, "history");
        double tau = checked ? 0.2 : 3.0;
        if (RUN(pdb_explicit(f, 2, N, w1, 2, 0, kind, 1.0, tau, 3, checked ? 0 : PDB_UNCHECKED, 1, hist, 8 * N, out)) == PDB_OK)
            require_finite(out, 2 * N, "explicit out");
        release_regions();

        /* FSI/FED with a huge step on the zero operator: exact (f) or PDB_ERR_INVALID naming tau */
        expect_fail = NULL;
        out = region(sizeof f, sizeof f, "out");
        double big = pct(50) ? 1e308 : 1.7e308;
        if (RUN(pdb_fed(f, 2, N, w0, 1, 0, kind, 1.0, big, 1 + (int64_t)(rnd() % 4), 1, PDB_FED_ORDER_LEJA,
                        PDB_UPDATE_PER_CYCLE, 0, 0, NULL, 0, out)) == PDB_OK)
            require_finite(out, 2 * N, "fed out");
        release_regions();
        expect_fail = NULL;
        out = region(sizeof f, sizeof f, "out");
        if (RUN(pdb_fsi(f, 2, N, w0, 1, 0, kind, 1.0, big, 1 + (int64_t)(rnd() % 4), 1, PDB_UPDATE_PER_STEP, 0, 0, NULL, 0,
                        out)) == PDB_OK)
            require_finite(out, 2 * N, "fsi out");
        release_regions();

        /* implicit with the contraction check off: never PDB_OK with a NaN result */
        expect_fail = NULL;
        out = region(sizeof f, sizeof f, "out");
        double *res = region(sizeof(double), sizeof(double), "residual");
        int64_t *sweeps = region(sizeof(int64_t), sizeof(int64_t), "sweeps");
        if (RUN(pdb_implicit(f, 2, N, w1, 2, 0, kind, 1.0, checked ? 0.1 : 100.0, 20, 20, 0.0,
                             checked ? 0 : PDB_UNCHECKED, out, sweeps, res)) == PDB_OK) {
            require_finite(out, 2 * N, "implicit out");
            require_finite(res, 1, "implicit residual");
        }
        release_regions();

        /* banded solve, multigrid and CG on huge/tiny right-hand sides */
        double band[3 * N], b[N];
        pdb_poisson_1d(N, pct(50) ? 1.0 : 1.0 / 64, band);
        for (int i = 0; i < N; i++) b[i] = s * (1.0 + (double)(i % 3));
        expect_fail = NULL;
        out = region(sizeof b, sizeof b, "out");
        if (RUN(pdb_banded_solve(N, 1, 1, band, b, 1, out, NULL)) == PDB_OK) require_finite(out, N, "banded_solve out");
        release_regions();
        expect_fail = NULL;
        out = region(sizeof b, sizeof b, "x");
        double *hist2 = region(sizeof(double) * 501, sizeof(double) * 501, "residuals");
        int64_t *its = region(sizeof(int64_t), sizeof(int64_t), "iterations");
        int32_t *conv = region(sizeof(int32_t), sizeof(int32_t), "converged");
        if (RUN(pdb_cg(N, 1, 1, band, b, NULL, NULL, 1e-10, 500, out, hist2, 501, its, conv)) == PDB_OK) {
            require_finite(out, N, "cg x");
            if (*conv && !isfinite(hist2[*its])) violation("cg converged with residual %g", hist2[*its]);
            if (s >= 1e154 && s < 1e300 && !*conv) violation("cg did not converge for b ~ %g", s);
        }
        release_regions();
        pdb_multigrid *mg = NULL;
        if (pdb_mg_create(N, 1, 1, band, PDB_GRID_VERTEX, PDB_SMOOTHER_GAUSS_SEIDEL, 0.0, 2, 2, PDB_CYCLE_V,
                          PDB_TRANSFER_AUTO, 3, 0, &mg) == PDB_OK) {
            expect_fail = NULL;
            out = region(sizeof b, sizeof b, "x");
            hist2 = region(sizeof(double) * 101, sizeof(double) * 101, "residuals");
            its = region(sizeof(int64_t), sizeof(int64_t), "cycles");
            conv = region(sizeof(int32_t), sizeof(int32_t), "converged");
            double *factor = region(sizeof(double), sizeof(double), "factor");
            if (RUN(pdb_mg_solve(mg, b, NULL, N, 1e-10, 100, out, hist2, 101, its, conv, factor)) == PDB_OK) {
                require_finite(out, N, "mg x");
                if (s >= 1e154 && s < 1e300 && !*conv) violation("multigrid did not converge for b ~ %g", s);
            }
            release_regions();
            pdb_mg_destroy(mg);
        }

        /* semi-implicit with tau beyond rounding: PDB_ERR_INVALID or finite, mean conserved */
        expect_fail = NULL;
        out = region(sizeof f, sizeof f, "out");
        double taus[] = {1e2, 1e15, 1e16, 1e300};
        if (RUN(pdb_semi_implicit(f, 2, N, w1, 2, 0, kind, 0.1, PICK(taus), 2, PDB_SEMI_DIRECT, 1e-10, 10, NULL, out))
            == PDB_OK)
            require_finite(out, 2 * N, "semi_implicit out");
        release_regions();
    }
    cur = saved;
}

/* ---- Operator norm: hostile magnitudes and lengths (issue 12, norm) -------------------------- */

/* Weights far from 1 (subnormal, 1e-160, 1e200: the norm's bisection used to loop forever or
 * overflow into a silent tau of 0), signals up to 2^40 (used to take minutes), offsets of the
 * order of n, up to 64 taps, and spacings h whose difference weights overflow. Every call must
 * return (watchdog) with a finite nonnegative result or a known error with a message. */
static void fuzz_norm_hostile(void) {
    static const double scales[] = {5e-324, 1e-310, 1e-300, 1e-160, 1e-155, 1e-100, 1.0, 1e100, 1e150, 1e155, 1e200, 1e300};
    static const int64_t lengths[] = {1, 2, 7, 64, 4097, 1000000, 1000000000, (int64_t)1 << 40};
    static const int64_t far[] = {-((int64_t)1 << 39), ((int64_t)1 << 39) + 5, -1000000007, 1000000007};
    static const double spacings[] = {5e-324, 1e-300, 1e-160, 1e-110, 1e-60, 1e60, 1e110, 1e200, 1e300};
    /* Own entries (not the table's), so the per-entry-point statistics stay those of the random calls. */
    static entry_t norm_e = {"pdb_stencil_norm_squared (norm hostile)", NULL, 0, 0, 0};
    static entry_t tau_e = {"pdb_stable_tau (norm hostile)", NULL, 0, 0, 0};
    static entry_t ctau_e = {"pdb_contraction_tau (norm hostile)", NULL, 0, 0, 0};
    static entry_t diff_e = {"pdb_difference_operator (norm hostile)", NULL, 0, 0, 0};
    entry_t *saved = cur, *norm = &norm_e, *tau = &tau_e, *ctau = &ctau_e, *diff = &diff_e;
    double w[64], out;
    for (int t = 0; t < 40; t++) {
        release_regions();
        int64_t q = pct(90) ? irange(1, 8) : irange(9, 64);
        double scale = PICK(scales);
        for (int64_t i = 0; i < q; i++) w[i] = scale * unif(-1, 1);
        int64_t n = PICK(lengths);
        int64_t offset = pct(85) ? irange(-q - 2, 2) : PICK(far);
        expect_fail = NULL;
        cur = norm;
        out = NAN;
        if (RUN(pdb_stencil_norm_squared(w, q, offset, n, &out)) == PDB_OK && !(out >= 0 && out <= DBL_MAX))
            violation("norm_squared of weights ~%g (q %lld, offset %lld, n %lld) is %g", scale, (long long)q,
                      (long long)offset, (long long)n, out);
        int64_t n2 = n < 2 ? 2 : n;
        cur = tau;
        out = NAN;
        if (RUN(pdb_stable_tau(w, q, offset, 1, 1.0, n2, 0, &out)) == PDB_OK && !(out > 0))
            violation("stable_tau of weights ~%g (q %lld, n %lld) is %g", scale, (long long)q, (long long)n2, out);
        cur = ctau;
        out = NAN;
        if (RUN(pdb_contraction_tau(w, q, offset, 1, 1.0, n2, &out)) == PDB_OK && !(out > 0))
            violation("contraction_tau of weights ~%g (q %lld, n %lld) is %g", scale, (long long)q, (long long)n2, out);
    }
    for (int t = 0; t < 20; t++) {
        release_regions();
        double alphas[17], weights[17];
        int64_t count = irange(1, 17), length = 0, off = 0;
        for (int64_t i = 0; i < count; i++) alphas[i] = unif(-2, 2);
        double h = PICK(spacings);
        cur = diff;
        expect_fail = NULL;
        if (RUN(pdb_difference_operator(alphas, count, h, weights, 17, &length, &off)) == PDB_OK)
            for (int64_t i = 0; i < length; i++)
                if (!isfinite(weights[i])) violation("difference_operator h = %g gave weight %lld = %g", h, (long long)i, weights[i]);
    }
    release_regions();
    cur = saved;
}

int main(int argc, char **argv) {
    long calls = 200000;
    const char *only = NULL;
    const char *skip[16];
    int nskip = 0;
    seed = 20240607;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            for (int k = 0; k < NENTRIES; k++) printf("%s\n", entries[k].name);
            return 0;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--calls") && i + 1 < argc) calls = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--skip") && i + 1 < argc && nskip < 16) skip[nskip++] = argv[++i];
        else if (!strcmp(argv[i], "--tmp") && i + 1 < argc) tmpdir = argv[++i];
        else if (!strcmp(argv[i], "--hostility") && i + 1 < argc) H = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hang-seconds") && i + 1 < argc) hang_seconds = atoi(argv[++i]);
        else { fprintf(stderr, "usage: %s [--seed S] [--calls N] [--only NAME] [--skip NAME]... [--tmp DIR] [--hostility PERCENT] [--hang-seconds T] [--list]\n", argv[0]); return 2; }
    }
    rng_state = seed;
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int k = 0; k < SAVED; k++) {
        snprintf(saved_path[k], sizeof saved_path[k], "%s/fuzz_%d.pdbnet", tmpdir, k);
        unlink(saved_path[k]); /* files of an earlier run */
    }
    for (int k = 0; k < IMG_SAVED; k++) {
        snprintf(img_saved_path[k], sizeof img_saved_path[k], "%s/fuzz_image_%d.pdbnet", tmpdir, k);
        unlink(img_saved_path[k]);
    }
    install_handlers();
    fuzz_memory_hostile();
    live_start = live_handles();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    int only_index = -1;
    if (only) {
        for (int k = 0; k < NENTRIES; k++) if (!strcmp(entries[k].name, only)) only_index = k;
        if (only_index < 0) { fprintf(stderr, "unknown entry point %s\n", only); return 2; }
    }
    for (long i = 0; i < calls; i++) {
        int k = only_index >= 0 ? only_index : (int)(rnd() % NENTRIES);
        int skipped = 0;
        for (int j = 0; j < nskip; j++) skipped |= !strcmp(entries[k].name, skip[j]);
        if (skipped) continue;
        /* Keep a few live objects around so handle arguments are usually valid. */
        if (only_index >= 0 && npool[T_NET] == 0) { pdb_network *h; if (pdb_network_create(&h) == PDB_OK) pool_add(T_NET, h, 0); }
        cur = &entries[k];
        expect_fail = NULL;
        cur->fn();
        release_regions();
    }
    if (only_index < 0) fuzz_norm_hostile();
    cur = NULL;
    fuzz_network_hostile();
    if (only_index < 0) fuzz_solvers_hostile();
    if (only_index < 0 && nskip == 0) fuzz_files_hostile(calls / 100 + 1);

    /* Destroy everything still alive: the live count must return to its start. */
    for (int t = 0; t < T_COUNT; t++) {
        while (npool[t] > 0) {
            int32_t s = destroy_any(t, pool[t][0]);
            if (s != PDB_OK && s != PDB_ERR_HANDLE) violation("final destroy of a %s gave %d", type_names[t], s);
            pool_remove(t, 0);
        }
    }
    int64_t live_end = live_handles();
    if (live_end != live_start) {
        violations++;
        printf("VIOLATION live handles: %lld at the start, %lld after destroying everything\n", (long long)live_start,
               (long long)live_end);
    }
    pdb_set_threads(0);
    clock_gettime(CLOCK_MONOTONIC, &t1);

    long total = 0, ok = 0, fail = 0;
    for (int k = 0; k < NENTRIES; k++) {
        printf("%s %ld %ld %ld\n", entries[k].name, entries[k].calls, entries[k].ok, entries[k].fail);
        total += entries[k].calls;
        ok += entries[k].ok;
        fail += entries[k].fail;
        if (only_index < 0 && nskip == 0 && entries[k].calls == 0) { violations++; printf("VIOLATION %s was never called\n", entries[k].name); }
    }
    printf("total %ld %ld %ld seconds %.2f seed %llu violations %ld\n", total, ok, fail,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), (unsigned long long)seed,
           violations);
    return violations ? 1 : 0;
}
