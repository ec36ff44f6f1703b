/// `exp` on eight doubles at once — the one exp of the library's hot loops (the flux of
/// exponential diffusivities is the hot spot of a diffusion block); the libm `exp` stays
/// the scalar reference (`Diffusivity.flux`), and the tests compare the two. Range
/// reduction `x = k·ln2 + r`, |r| ≤ ln2/2, a degree-11 polynomial for `e^r` (minimax,
/// error < 2e-17 relative, evaluated by Estrin's scheme), and `2^k` assembled in the
/// exponent bits. Accurate to a few ulp (tested against the C library: ≤ 2 ulp) for
/// `x ∈ [−708.3, 709.4]`; inputs outside are clamped to that interval (so `exp(−1000)`
/// gives 2.6e−308, not 0).
@usableFromInline
enum VectorExp {
    public typealias V = SIMD8<Double>

    @inlinable @inline(__always)
    static func exp8(_ x0: V) -> V {
        // (`LaneSelect`: one compare and blend; `clamped` and `pointwiseMin` become calls.)
        return exp8(nonPositive: LaneSelect.above(x0, 709.4, V(repeating: 709.4), else: x0))
    }

    /// `exp8` for arguments ≤ 709.4 — all the fluxes need (their arguments are ≤ 0) —
    /// without the clamp from above.
    @inlinable @inline(__always)
    static func exp8(nonPositive x0: V) -> V {
        let x = LaneSelect.below(x0, -708.3, V(repeating: -708.3), else: x0)
        // k = round(x/ln2): adding 1.5·2^52 rounds to nearest and leaves k in the low bits.
        let magic = V(repeating: 6755399441055744.0)
        let kb = magic.plusProduct(x, V(repeating: 1.4426950408889634))
        let k = kb - magic
        // Cody–Waite: ln2 = hi + lo with hi exact in 32 bits (k·hi is exact).
        let r = x.plusProduct(k, V(repeating: -0.693145751953125)).plusProduct(k, V(repeating: -1.428606820309417232e-06))
        // e^r = 1 + r + r²·P(r) with P the degree-9 minimax approximation of
        // (e^r − 1 − r)/r² on |r| ≤ ln2/2 (Remez; max error 1.0e-16, so ≤ 1.3e-17 relative
        // in e^r), evaluated by Estrin's scheme: Horner's chain of dependent multiply–adds
        // made the loop latency-bound. The terms 1 + r come last, so P's rounding is scaled
        // by r² ≤ 0.12.
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let p0 = V(repeating: 0.5000000000000001).plusProduct(V(repeating: 0.16666666666666674), r)
        let p1 = V(repeating: 0.04166666666662416).plusProduct(V(repeating: 0.008333333333322215), r)
        let p2 = V(repeating: 0.0013888888917198876).plusProduct(V(repeating: 0.00019841269886567182), r)
        let p3 = V(repeating: 2.4801521319394068e-05).plusProduct(V(repeating: 2.7557242363961556e-06), r)
        let p4 = V(repeating: 2.762007716172468e-07).plusProduct(V(repeating: 2.511003951462024e-08), r)
        let big = p0.plusProduct(p1, r2).plusProduct(p2.plusProduct(p3, r2), r4).plusProduct(p4, r8)
        let p = V(repeating: 1.0) + r.plusProduct(r2, big)
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
