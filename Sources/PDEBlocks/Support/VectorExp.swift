#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `exp` on eight doubles at once — the one exp of the library's hot loops (the flux of
/// exponential diffusivities is the hot spot of a diffusion block); the libm `exp` stays
/// the scalar reference (`Diffusivity.flux`), and the tests compare the two. Range reduction `x = k·ln2 + r`, |r| ≤ ln2/2, a degree-13 Taylor
/// polynomial for `e^r` (truncation < 1e-17 relative), and `2^k` assembled in the exponent
/// bits. Accurate to a few ulp (tested against the C library) for `x ∈ [−708.3, 709.4]`;
/// inputs outside are clamped to that interval (so `exp(−1000)` gives 2.6e−308, not 0).
@usableFromInline
enum VectorExp {
    public typealias V = SIMD8<Double>

    @inlinable @inline(__always)
    static func exp8(_ x0: V) -> V {
        // (`replacing(with:where:)` and the magic-number rounding compile to vector
        // instructions; `clamped`, `pointwiseMin` and `rounded` become calls.)
        let lo = V(repeating: -708.3), hi = V(repeating: 709.4)
        var x = x0.replacing(with: lo, where: x0 .< lo)
        x = x.replacing(with: hi, where: x .> hi)
        // k = round(x/ln2): adding 1.5·2^52 rounds to nearest and leaves k in the low bits.
        let magic = V(repeating: 6755399441055744.0)
        let kb = x * 1.4426950408889634 + magic
        let k = kb - magic
        // Cody–Waite: ln2 = hi + lo with hi exact in 32 bits.
        var r = x - k * 0.693145751953125
        r = r - k * 1.428606820309417232e-06
        // Horner for Σ_{m=0..13} r^m/m! (fused multiply–adds with -DPDB_FMA, see plusProduct).
        var p = V(repeating: 1.0 / 6227020800.0)
        p = V(repeating: 1.0 / 479001600.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 39916800.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 3628800.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 362880.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 40320.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 5040.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 720.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 120.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 24.0).plusProduct(p, r)
        p = V(repeating: 1.0 / 6.0).plusProduct(p, r)
        p = V(repeating: 0.5).plusProduct(p, r)
        p = V(repeating: 1.0).plusProduct(p, r)
        p = V(repeating: 1.0).plusProduct(p, r)
        // 2^k assembled in the exponent field.
        let bits = unsafeBitCast(kb, to: SIMD8<UInt64>.self) &- unsafeBitCast(magic, to: SIMD8<UInt64>.self)
        let scale = unsafeBitCast((bits &+ 1023) &<< 52, to: V.self)
        return p * scale
    }

    /// `exp(x)` for one value through the vector path (for the tails of vector loops, so
    /// that every element of a buffer sees the same arithmetic).
    @inlinable @inline(__always)
    static func exp1(_ x: Double) -> Double { exp8(V(repeating: x))[0] }

    /// `x[i] ← exp(x[i])` for a buffer (vector body, scalar tail).
    @inlinable
    static func apply(_ x: UnsafeMutableBufferPointer<Double>) {
        guard let base = x.baseAddress else { return }
        let n = x.count
        var i = 0
        while i + 8 <= n {
            let raw = UnsafeMutableRawPointer(base + i)
            raw.storeBytes(of: exp8(raw.loadUnaligned(as: V.self)), as: V.self)
            i += 8
        }
        while i < n { base[i] = exp1(base[i]); i += 1 }
    }
}

@inlinable @inline(__always)
func load8(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> SIMD8<Double> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self)
}

@inlinable @inline(__always)
func store8(_ v: SIMD8<Double>, _ p: UnsafeMutablePointer<Double>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Double>.self)
}

@inlinable @inline(__always)
func load8(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD8<Double> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self)
}
