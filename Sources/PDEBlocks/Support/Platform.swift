// The platform's C library (libm's `exp`, `log`, `expm1`, …, and the few POSIX calls the
// core makes), imported once for the whole module and re-exported: no other file of the
// core imports it. Clients of PDEBlocks see it as well (as they would through Foundation).
#if canImport(Glibc)
@_exported import Glibc
#elseif canImport(Musl)
@_exported import Musl
#elseif canImport(Darwin)
@_exported import Darwin
#endif
