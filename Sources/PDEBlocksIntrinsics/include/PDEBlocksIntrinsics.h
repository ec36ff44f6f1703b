// The few machine operations PDEBlocks' kernels need that Swift does not express well:
// software prefetch (Swift has none), and lane-wise selection on eight doubles by a
// comparison (Swift's `replacing(with:where:)` goes through an 8 x i1 mask, which on AVX2,
// without mask registers, compiles to a dozen pack and shuffle instructions per vector;
// these compile to a compare and a blend per register). Header-only: Swift imports the static
// inline functions (the vector type as SIMD8<Double>) and inlines them.
#ifndef PDEBLOCKS_INTRINSICS_H
#define PDEBLOCKS_INTRINSICS_H

typedef double pdb_v8d __attribute__((ext_vector_type(8)));
typedef long pdb_v8l __attribute__((ext_vector_type(8)));   // a comparison's lanes (LP64: long is 64 bits)

/// Asks for the cache line holding `p` (to be read soon; keep it in every cache level).
/// A prefetch never faults, whatever the address.
static inline __attribute__((always_inline)) void pdb_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks for the cache line holding `p`, to be written soon.
static inline __attribute__((always_inline)) void pdb_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Lane by lane `p ? a : b` for a comparison mask `p` (every bit of a lane set or clear).
static inline __attribute__((always_inline)) pdb_v8d pdb_select8(pdb_v8l p, pdb_v8d a, pdb_v8d b) {
    return (pdb_v8d)((p & (pdb_v8l)a) | (~p & (pdb_v8l)b));
}

/// Lane by lane `a > b ? a : b` (b where either is NaN: x86's max).
static inline __attribute__((always_inline)) pdb_v8d pdb_max8(pdb_v8d a, pdb_v8d b) { return pdb_select8(a > b, a, b); }

/// Lane by lane `key > t ? a : b` (a NaN key gives b).
static inline __attribute__((always_inline)) pdb_v8d pdb_where_above8(pdb_v8d key, double t, pdb_v8d a, pdb_v8d b) {
    return pdb_select8(key > t, a, b);
}

/// Lane by lane `key < t ? a : b` (a NaN key gives b).
static inline __attribute__((always_inline)) pdb_v8d pdb_where_below8(pdb_v8d key, double t, pdb_v8d a, pdb_v8d b) {
    return pdb_select8(key < t, a, b);
}

/// Lane by lane `key == t ? a : b` (a NaN key gives b).
static inline __attribute__((always_inline)) pdb_v8d pdb_where_equal8(pdb_v8d key, double t, pdb_v8d a, pdb_v8d b) {
    return pdb_select8(key == t, a, b);
}

/// Whether some lane has `key < t` (a NaN lane does not count).
static inline __attribute__((always_inline)) int pdb_any_below8(pdb_v8d key, double t) {
    return __builtin_reduce_or(key < t) != 0;
}

/// Whether every lane has `key >= t` (a NaN lane fails).
static inline __attribute__((always_inline)) int pdb_all_at_least8(pdb_v8d key, double t) {
    return __builtin_reduce_and(key >= t) != 0;
}

#endif
