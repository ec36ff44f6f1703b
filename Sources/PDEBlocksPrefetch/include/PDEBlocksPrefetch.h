// Software prefetch for PDEBlocks' strided kernels (Swift has no prefetch of its own).
// Header-only: Swift imports the static inline functions and inlines them. A prefetch
// never faults, whatever the address.
#ifndef PDEBLOCKS_PREFETCH_H
#define PDEBLOCKS_PREFETCH_H

/// Asks for the cache line holding `p` (to be read soon; keep it in every cache level).
static inline __attribute__((always_inline)) void pdb_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks for the cache line holding `p`, to be written soon.
static inline __attribute__((always_inline)) void pdb_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

#endif
