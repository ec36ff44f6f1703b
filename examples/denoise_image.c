/*
 * denoise_image.c — PDEBlocks from C: denoise a grey-level image (PGM) with nonlinear
 * diffusion of images (include/pdeblocks_image_schemes.h, include/pdeblocks_image_eed.h).
 *
 *   denoise_image [--eed SIGMA | --model NET.pdbnet] [--raw FILE] [in.pgm out.pgm [lambda [t]]]
 *
 * Reads a binary (P5) or ASCII (P2) PGM with maxval 1..65535 (16-bit samples big-endian),
 * scales it to [0, 1] (sample / maxval) and diffuses it to time t:
 *   default   Perona–Malik, isotropic coupling (u <- u - tau K^T [g(|K u|^2) K u] with the
 *             gradient_2d(1) bank of pdeblocks_images.h), FED cycles chosen by
 *             pdb_evolve_2d (lambda 0.1, t 10);
 *   --eed S   edge-enhancing diffusion with Gaussian presmoothing sigma = S and the
 *             Weickert diffusivity, FED cycles of pdb_eed_fed (lambda 0.02, t 5);
 *   --model F a trained image network (include/pdeblocks_image_network.h), e.g. a shipped
 *             certified denoiser python/pdeblocks/models/denoiser_sigma25.pdbnet, loaded with
 *             pdb_image_network_load and run in inference mode (lambda and t are ignored).
 * It writes out.pgm (P5, the input's maxval, round(clamp(u, 0, 1) * maxval)), and with
 * --raw FILE also the unquantised result: height*width doubles, row-major, native byte order.
 * Without in/out it denoises a built-in synthetic noisy image (no files needed) and prints
 * the PSNR before and after.
 *
 * Exit codes: 0 done; 1 an unreadable, malformed or too large PGM, an output that cannot be
 * written, or a library error (a message on stderr); 2 a bad command line; 3 the synthetic
 * image was not improved (a self-check).
 *
 * Build (from the repository root, after `make build`):
 *   cc -std=c11 -Iinclude examples/denoise_image.c -L.build/lib -lpdeblocks \
 *      -Wl,-rpath,$PWD/.build/lib -lm -o denoise_image
 * or against an installed copy: cc -std=c11 examples/denoise_image.c $(pkg-config --cflags --libs pdeblocks) -lm
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdeblocks.h"

/* Largest image accepted: 2^26 pixels (a 8192 x 8192 image; three 512 MiB buffers). */
#define MAX_PIXELS ((int64_t)1 << 26)

typedef struct {
    int64_t height, width;
    uint32_t maxval;
    double *pixels; /* height*width values in [0, 1], row-major */
} image;

typedef struct {
    int eed;           /* 0: Perona–Malik (pdb_evolve_2d), 1: EED (pdb_eed_fed) */
    double sigma;      /* EED presmoothing */
    double lambda, t;  /* contrast parameter and stopping time */
    const char *model; /* a trained image network file (.pdbnet), or NULL */
} settings;

/* ---- Reading and writing PGM files ------------------------------------------------- */

/* The next character after whitespace and '#' comments (to the end of the line). */
static int skip_space_and_comments(FILE *in) {
    int c = fgetc(in);
    for (;;) {
        while (c != EOF && isspace(c)) c = fgetc(in);
        if (c != '#') return c;
        while (c != EOF && c != '\n' && c != '\r') c = fgetc(in);
    }
}

/* Reads an unsigned decimal number up to 2^40 (after whitespace, and '#' comments when
 * `header`) into *value; *after receives the character that ended it. 0 on success, else 1
 * with a message naming `what`. */
static int read_number(FILE *in, const char *path, const char *what, int header, uint64_t *value, int *after) {
    int c = header ? skip_space_and_comments(in) : fgetc(in);
    if (!header)
        while (c != EOF && isspace(c)) c = fgetc(in);
    if (c == EOF) {
        fprintf(stderr, "%s: truncated PGM: end of file before the %s\n", path, what);
        return 1;
    }
    if (!isdigit(c)) {
        fprintf(stderr, "%s: malformed PGM: the %s is not a decimal number (found '%c')\n", path, what,
                isprint(c) ? c : '?');
        return 1;
    }
    uint64_t v = 0;
    while (c != EOF && isdigit(c)) {
        v = 10 * v + (uint64_t)(c - '0');
        if (v > ((uint64_t)1 << 40)) {
            fprintf(stderr, "%s: malformed PGM: the %s is out of range (more than 2^40)\n", path, what);
            return 1;
        }
        c = fgetc(in);
    }
    if (c != EOF && !isspace(c) && !(header && c == '#')) {
        fprintf(stderr, "%s: malformed PGM: the %s is followed by '%c', not whitespace\n", path, what,
                isprint(c) ? c : '?');
        return 1;
    }
    *value = v;
    *after = c;
    return 0;
}

/* Reads the raster of a P5 file: one byte per sample when maxval < 256, else two (big-endian). */
static int read_binary_raster(FILE *in, const char *path, image *img) {
    const int bytes = img->maxval < 256 ? 1 : 2;
    unsigned char *row = malloc((size_t)img->width * (size_t)bytes);
    if (row == NULL) {
        fprintf(stderr, "%s: out of memory for a row of %lld pixels\n", path, (long long)img->width);
        return 1;
    }
    for (int64_t i = 0; i < img->height; i++) {
        if (fread(row, (size_t)bytes, (size_t)img->width, in) != (size_t)img->width) {
            fprintf(stderr, "%s: truncated PGM: the raster ends in row %lld of %lld\n", path, (long long)i,
                    (long long)img->height);
            free(row);
            return 1;
        }
        for (int64_t j = 0; j < img->width; j++) {
            uint32_t v = bytes == 1 ? row[j] : ((uint32_t)row[2 * j] << 8 | row[2 * j + 1]);
            if (v > img->maxval) {
                fprintf(stderr, "%s: malformed PGM: sample %u at row %lld, column %lld exceeds maxval %u\n", path,
                        v, (long long)i, (long long)j, img->maxval);
                free(row);
                return 1;
            }
            img->pixels[i * img->width + j] = (double)v / (double)img->maxval;
        }
    }
    free(row);
    return 0;
}

/* Reads the raster of a P2 file: whitespace-separated decimal samples. */
static int read_ascii_raster(FILE *in, const char *path, image *img) {
    for (int64_t k = 0; k < img->height * img->width; k++) {
        uint64_t v;
        int after;
        if (read_number(in, path, "sample", 0, &v, &after)) return 1;
        if (v > img->maxval) {
            fprintf(stderr, "%s: malformed PGM: sample %llu at row %lld, column %lld exceeds maxval %u\n", path,
                    (unsigned long long)v, (long long)(k / img->width), (long long)(k % img->width), img->maxval);
            return 1;
        }
        img->pixels[k] = (double)v / (double)img->maxval;
    }
    return 0;
}

/* Reads `path` into *img (pixels allocated here). 0 on success; else 1 with a message on
 * stderr and nothing allocated. */
static int read_pgm(const char *path, image *img) {
    FILE *in = fopen(path, "rb");
    if (in == NULL) {
        fprintf(stderr, "%s: cannot open for reading\n", path);
        return 1;
    }
    int status = 1;
    img->pixels = NULL;
    char magic[2];
    uint64_t width = 0, height = 0, maxval = 0;
    int after = 0;
    if (fread(magic, 1, 2, in) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '2')) {
        fprintf(stderr, "%s: not a PGM file (expected the magic number P5 or P2)\n", path);
        goto done;
    }
    if (read_number(in, path, "width", 1, &width, &after) || (after != EOF && ungetc(after, in) == EOF) ||
        read_number(in, path, "height", 1, &height, &after) || (after != EOF && ungetc(after, in) == EOF) ||
        read_number(in, path, "maxval", 1, &maxval, &after))
        goto done;
    if (width == 0 || height == 0) {
        fprintf(stderr, "%s: malformed PGM: width and height must be at least 1 (got %llu x %llu)\n", path,
                (unsigned long long)width, (unsigned long long)height);
        goto done;
    }
    if (width > (uint64_t)MAX_PIXELS || height > (uint64_t)MAX_PIXELS ||
        width * height > (uint64_t)MAX_PIXELS) {
        fprintf(stderr, "%s: image of %llu x %llu pixels is too large (at most %lld pixels)\n", path,
                (unsigned long long)width, (unsigned long long)height, (long long)MAX_PIXELS);
        goto done;
    }
    if (maxval == 0 || maxval > 65535) {
        fprintf(stderr, "%s: malformed PGM: maxval %llu is outside 1..65535\n", path, (unsigned long long)maxval);
        goto done;
    }
    if (!isspace(after)) { /* EOF, or a comment right after maxval */
        fprintf(stderr, "%s: %s PGM: no raster after the header\n", path, after == EOF ? "truncated" : "malformed");
        goto done;
    }
    img->width = (int64_t)width;
    img->height = (int64_t)height;
    img->maxval = (uint32_t)maxval;
    img->pixels = malloc((size_t)(width * height) * sizeof(double));
    if (img->pixels == NULL) {
        fprintf(stderr, "%s: out of memory for %llu x %llu pixels\n", path, (unsigned long long)width,
                (unsigned long long)height);
        goto done;
    }
    status = magic[1] == '5' ? read_binary_raster(in, path, img) : read_ascii_raster(in, path, img);
done:
    fclose(in);
    if (status != 0) {
        free(img->pixels);
        img->pixels = NULL;
    }
    return status;
}

/* The sample of u in [0, 1] at `maxval`: floor(clamp(u, 0, 1) * maxval + 0.5). */
static uint32_t quantise(double u, uint32_t maxval) {
    double x = u < 0 ? 0 : (u > 1 ? 1 : u);
    return (uint32_t)floor(x * maxval + 0.5);
}

/* Writes `u` (img's size) as a P5 PGM with img's maxval. 0 on success, else 1 with a message. */
static int write_pgm(const char *path, const image *img, const double *u) {
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "%s: cannot open for writing\n", path);
        return 1;
    }
    int ok = fprintf(out, "P5\n%lld %lld\n%u\n", (long long)img->width, (long long)img->height, img->maxval) > 0;
    for (int64_t k = 0; ok && k < img->height * img->width; k++) {
        uint32_t v = quantise(u[k], img->maxval);
        ok = img->maxval < 256 ? fputc((int)v, out) != EOF
                               : (fputc((int)(v >> 8), out) != EOF && fputc((int)(v & 0xff), out) != EOF);
    }
    if (fclose(out) != 0) ok = 0;
    if (!ok) fprintf(stderr, "%s: write failed\n", path);
    return !ok;
}

/* Writes n doubles (native byte order). 0 on success, else 1 with a message. */
static int write_raw(const char *path, const double *u, int64_t n) {
    FILE *out = fopen(path, "wb");
    if (out == NULL) {
        fprintf(stderr, "%s: cannot open for writing\n", path);
        return 1;
    }
    int ok = fwrite(u, sizeof(double), (size_t)n, out) == (size_t)n;
    if (fclose(out) != 0) ok = 0;
    if (!ok) fprintf(stderr, "%s: write failed\n", path);
    return !ok;
}

/* ---- Diffusion through the C API ----------------------------------------------------- */

/* Prints the function of a failed call (its text up to the parenthesis), the status's name and
 * the library's message; returns 1 (the exit code). */
static int library_error(const char *call, int32_t status) {
    fprintf(stderr, "%.*s failed: %s (%d): %s\n", (int)strcspn(call, "("), call, pdb_status_string(status), status,
            pdb_last_error());
    return 1;
}

#define CHECK(call)                                                   \
    do {                                                              \
        int32_t status_ = (call);                                     \
        if (status_ != PDB_OK) return library_error(#call, status_); \
    } while (0)

/* The gradient_2d(1) bank (pdeblocks_images.h): Kx = 1x2 [-1, 1], Ky = 2x1 [-1; 1], offsets 0. */
static const int64_t gradient_shapes[8] = {1, 2, 0, 0, 2, 1, 0, 0};
static const double gradient_weights[4] = {-1.0, 1.0, -1.0, 1.0};

/* Diffuses f (height x width) into out with `s`; prints the plan. 0 on success, else 1. */
static int denoise(const double *f, int64_t height, int64_t width, const settings *s, double *out) {
    int32_t kind;
    if (s->model != NULL) {
        pdb_image_network *net = NULL;
        int64_t blocks = 0, parameters = 0;
        CHECK(pdb_image_network_load(s->model, &net));
        int32_t status = pdb_image_network_block_count(net, &blocks);
        if (status == PDB_OK) status = pdb_image_network_parameter_count(net, &parameters);
        if (status == PDB_OK) status = pdb_image_network_forward(net, f, 1, height, width, PDB_FORWARD_INFERENCE, out);
        pdb_image_network_destroy(net);
        if (status != PDB_OK) return library_error("pdb_image_network_forward", status);
        printf("network %s: %lld blocks, %lld parameters\n", s->model, (long long)blocks, (long long)parameters);
        return 0;
    }
    if (s->eed) {
        int64_t cycles = 0, length = 0;
        double tau = 0;
        CHECK(pdb_diffusivity_from_name("weickert", &kind));
        CHECK(pdb_eed_fed(f, 1, height, width, 1.0, kind, s->lambda, s->sigma, s->t, 0.0, 0, 0, out, &cycles,
                          &length, &tau));
        printf("EED (Weickert g, sigma = %g), lambda = %g, t = %g: %lld FED cycles of length %lld, tau_max = %.6g\n",
               s->sigma, s->lambda, s->t, (long long)cycles, (long long)length, tau);
        return 0;
    }
    double report[PDB_EVOLVE_REPORT_COUNT];
    CHECK(pdb_diffusivity_from_name("perona_malik", &kind));
    CHECK(pdb_evolve_2d(f, 1, height, width, 2, gradient_shapes, gradient_weights, PDB_COUPLING_ISOTROPIC, 1, &kind,
                        &s->lambda, s->t, PDB_SCHEME_FED, 0, 0.0, 0, PDB_FED_ORDER_LEJA, PDB_UPDATE_PER_CYCLE, 0, 0.0,
                        0.0, 0, out, report, PDB_EVOLVE_REPORT_COUNT));
    printf("Perona-Malik (isotropic), lambda = %g, t = %g: %.0f FED cycles of length %.0f, tau_max = %.6g "
           "(bound %.6g)\n",
           s->lambda, s->t, report[PDB_EVOLVE_REPORT_STEPS], report[PDB_EVOLVE_REPORT_CYCLE_LENGTH],
           report[PDB_EVOLVE_REPORT_TAU], report[PDB_EVOLVE_REPORT_TAU_BOUND]);
    return 0;
}

/* ---- The synthetic test image -------------------------------------------------------- */

#define SYNTHETIC_HEIGHT 64
#define SYNTHETIC_WIDTH 80

/* Uniform in (0, 1) from a 64-bit LCG; exact arithmetic, so Python and Swift reproduce it bit for bit. */
static double uniform(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(*state >> 11) + 0.5) / 9007199254740992.0;
}

/* A 64 x 80 image in [0, 1]: background 0.2, a rectangle 0.8 (rows 16..47, columns 10..39),
 * a disk 0.5 (centre (32, 60), radius 12), plus noise of standard deviation 25/255: the
 * Irwin–Hall sum of 12 uniforms minus 6 (no libm, so every language gets the same bits). */
static void synthetic(double *clean, double *noisy) {
    const int h = SYNTHETIC_HEIGHT, w = SYNTHETIC_WIDTH;
    const int ci = h / 2, cj = 3 * w / 4, r = h / 5;
    const double sigma = 25.0 / 255.0;
    uint64_t state = 2024;
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            double v = 0.2;
            if (i >= h / 4 && i < 3 * h / 4 && j >= w / 8 && j < w / 2) v = 0.8;
            if ((i - ci) * (i - ci) + (j - cj) * (j - cj) <= r * r) v = 0.5;
            double s = 0.0;
            for (int k = 0; k < 12; k++) s += uniform(&state);
            clean[i * w + j] = v;
            noisy[i * w + j] = v + sigma * (s - 6.0);
        }
}

static double psnr(const double *u, const double *clean, int64_t n) {
    double s = 0;
    for (int64_t k = 0; k < n; k++) s += (u[k] - clean[k]) * (u[k] - clean[k]);
    return 10.0 * log10((double)n / s);
}

/* Denoises the synthetic image; shows a refused step size. Exit code as main's. */
static int run_synthetic(const settings *s, const char *raw) {
    enum { N = SYNTHETIC_HEIGHT * SYNTHETIC_WIDTH };
    static double clean[N], noisy[N], out[N];
    synthetic(clean, noisy);
    if (denoise(noisy, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH, s, out)) return 1;
    if (raw != NULL && write_raw(raw, out, N)) return 1;
    double before = psnr(noisy, clean, N), after = psnr(out, clean, N);
    printf("synthetic %dx%d image, noise sigma 25/255\n", SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH);
    printf("noisy    PSNR %.2f dB\n", before);
    printf("denoised PSNR %.2f dB\n", after);

    /* Errors are status codes with a name and a message, never a crash: a step size above
     * Theorem 2's bound is refused and nothing is written. */
    int32_t kind;
    CHECK(pdb_diffusivity_from_name("perona_malik", &kind));
    double tau = 0;
    CHECK(pdb_stable_tau_2d(2, gradient_shapes, gradient_weights, kind, s->lambda, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH,
                            &tau));
    int32_t status = pdb_explicit_2d(noisy, 1, SYNTHETIC_HEIGHT, SYNTHETIC_WIDTH, 2, gradient_shapes, gradient_weights,
                                     PDB_COUPLING_ISOTROPIC, 1, &kind, &s->lambda, 2 * tau, 1, 0, 0, NULL, 0, out);
    printf("tau = 2x bound -> %s (%d): %s\n", pdb_status_string(status), status, pdb_last_error());
    return after > before ? 0 : 3;
}

/* ---- Command line -------------------------------------------------------------------- */

static int usage(const char *message) {
    if (message != NULL) fprintf(stderr, "denoise_image: %s\n", message);
    fprintf(stderr, "usage: denoise_image [--eed SIGMA | --model NET.pdbnet] [--raw FILE] [in.pgm out.pgm [lambda [t]]]\n");
    return 2;
}

/* A finite double from `text`, at least `least` (strictly above when `strict`). 0 on success. */
static int parse_number(const char *text, double least, int strict, double *value) {
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(v) || v < least || (strict && v == least)) return 1;
    *value = v;
    return 0;
}

int main(int argc, char **argv) {
    settings s = {0, 1.0, 0.1, 10.0, NULL};
    const char *raw = NULL, *positional[4];
    int count = 0;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--raw") == 0 && k + 1 < argc) {
            raw = argv[++k];
        } else if (strcmp(argv[k], "--eed") == 0 && k + 1 < argc) {
            if (parse_number(argv[++k], 0.0, 0, &s.sigma)) return usage("SIGMA must be a finite number >= 0");
            s.eed = 1;
            s.lambda = 0.02;
            s.t = 5.0;
        } else if (strcmp(argv[k], "--model") == 0 && k + 1 < argc) {
            s.model = argv[++k];
        } else if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            usage(NULL);
            return 0;
        } else if (argv[k][0] == '-' && argv[k][1] == '-') {
            return usage("unknown option or missing value");
        } else if (count < 4) {
            positional[count++] = argv[k];
        } else {
            return usage("too many arguments");
        }
    }
    if (count == 1) return usage("an output file is needed");
    if (s.model != NULL && s.eed) return usage("--eed and --model exclude each other");
    if (count >= 3 && parse_number(positional[2], 0.0, 1, &s.lambda)) return usage("lambda must be a finite number > 0");
    if (count >= 4 && parse_number(positional[3], 0.0, 0, &s.t)) return usage("t must be a finite number >= 0");
    if (count == 0) return run_synthetic(&s, raw);

    image img;
    if (read_pgm(positional[0], &img)) return 1;
    const int64_t n = img.height * img.width;
    double *out = malloc((size_t)n * sizeof(double));
    if (out == NULL) {
        fprintf(stderr, "out of memory for %lld pixels\n", (long long)n);
        free(img.pixels);
        return 1;
    }
    printf("%s: %lld x %lld, maxval %u\n", positional[0], (long long)img.width, (long long)img.height, img.maxval);
    int status = denoise(img.pixels, img.height, img.width, &s, out);
    if (status == 0) status = write_pgm(positional[1], &img, out);
    if (status == 0 && raw != NULL) status = write_raw(raw, out, n);
    free(out);
    free(img.pixels);
    return status;
}
