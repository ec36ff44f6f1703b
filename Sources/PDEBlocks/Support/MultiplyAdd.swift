/// `self + a·b` for the hot loops (multigrid kernels, `VectorExp`).
///
/// `addingProduct` is a fused multiply–add — one instruction when the library is compiled
/// for a CPU with FMA (`-Xswiftc -target-cpu -Xswiftc haswell` or `native`), but a call to
/// the software `fma()` on the baseline x86-64 target, which makes a Gauss–Seidel sweep
/// several times slower. So the kernels use `plusProduct`: the fused form when compiled
/// with `-Xswiftc -DPDB_FMA` (together with such a CPU flag), otherwise a plain multiply
/// and add — correctly rounded twice instead of once, which no result depends on.
extension Double {
    @inlinable @inline(__always)
    func plusProduct(_ a: Double, _ b: Double) -> Double {
        #if PDB_FMA
        return addingProduct(a, b)
        #else
        return self + a * b
        #endif
    }
}

extension SIMD where Scalar == Double {
    @inlinable @inline(__always)
    func plusProduct(_ a: Self, _ b: Self) -> Self {
        #if PDB_FMA
        return addingProduct(a, b)
        #else
        return self + a * b
        #endif
    }
}
