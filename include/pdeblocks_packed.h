/*
 * pdeblocks_packed.h — packed-argument forms of small, frequently called entry points.
 *
 * Each entry point here, pdb_<name>_packed, takes the arguments of pdb_<name> in one
 * struct, pdb_<name>_args, and passes them on: the same validation, the same computation,
 * the same results bit for bit, the same status codes and messages. They exist for callers
 * whose cost per argument is high: Python's ctypes converts each argument separately
 * (~0.15 us apiece), so a 15-argument call costs ~2.5 us more than the same call with
 * one pointer. The Python package fills the struct with one struct.pack call.
 *
 * Included by pdeblocks.h; the conventions stated there hold. In addition:
 *   - args == NULL fails with PDB_ERR_NULL.
 *   - The struct is only read, never written or kept, and it need not be aligned:
 *     the library copies its fields out with unaligned loads, so any byte buffer laid
 *     out as the struct (native C layout) will do.
 *   - Pointer fields may be NULL exactly where the unpacked function allows NULL.
 */
#ifndef PDEBLOCKS_PACKED_H
#define PDEBLOCKS_PACKED_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Explicit scheme ---------------------------------------------------- */

/* The arguments of pdb_explicit, in its order. In Python's struct notation the
 * layout is "@PqqPqqiddqiqPqP" (120 bytes on LP64 platforms). */
typedef struct pdb_explicit_args {
    const double *f;          /* (batch, n) initial signals */
    int64_t batch;
    int64_t n;
    const double *weights;    /* the stencil K: (weights, length, offset) */
    int64_t length;
    int64_t offset;
    int32_t kind;             /* the diffusivity: (kind, lambda) */
    double lambda;
    double tau;
    int64_t steps;
    int32_t flags;            /* 0 or PDB_UNCHECKED */
    int64_t record_every;
    double *history;          /* may be NULL when record_every == 0 */
    int64_t history_length;
    double *out;              /* (batch, n) result; may equal f */
} pdb_explicit_args;

/* pdb_explicit(args->f, args->batch, ..., args->out). */
int32_t pdb_explicit_packed(const pdb_explicit_args *args);

#ifdef __cplusplus
}
#endif

#endif /* PDEBLOCKS_PACKED_H */
