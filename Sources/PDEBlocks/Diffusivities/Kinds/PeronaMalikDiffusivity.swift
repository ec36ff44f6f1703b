/// `g = exp(−x²/2)`, `x = s/λ`: the paper's exponential Perona–Malik form (Sec. 2.1, 2.5).
/// `Φ(s) = s·e`, `Φ′ = e·(1 − x²)`, `∂Φ/∂ρ = s(g − Φ′) = e·s·x²` with `e = exp(−x²/2)`.
@frozen public struct PeronaMalikDiffusivity: DiffusivityFormula {
    public static var kind: DiffusivityKind { .peronaMalik }
    public static var supG: Double { 1 }
    public let inverseLambda2: Double
    /// `−1/(2λ²)`: `(v·v)·(−1/(2λ²))` equals the scalar path's `−0.5·((v·v)·(1/λ²))`
    /// bit for bit (scaling by −1/2 is exact).
    public let minusHalfInverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) {
        self.inverseLambda2 = inverseLambda2
        minusHalfInverseLambda2 = -0.5 * inverseLambda2
    }

    @inlinable @inline(__always) public static func g(x2: Double) -> Double { exp(-0.5 * x2) }
    @inlinable @inline(__always) public static func fluxDerivative(x2: Double) -> Double { exp(-0.5 * x2) * (1 - x2) }
    @inlinable @inline(__always) public static func backwardTerms(x2: Double) -> (g: Double, dphi: Double) {
        let e = exp(-0.5 * x2)
        return (e, e * (1 - x2))
    }

    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        v * VectorExp.exp8(nonPositive: (v * v) * minusHalfInverseLambda2)
    }

    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> { VectorExp.exp8(nonPositive: m * minusHalfInverseLambda2) }

    /// Eight lanes at a time (`VectorExp.exp8`), the tail through `backwardTerms`.
    @inlinable
    public func backward(_ y: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>) -> (dRho: Double, dot: Double) {
        let n = y.count, c = inverseLambda2
        guard let yb = y.baseAddress, let pb = p.baseAddress else { return (0, 0) }
        var accV = VectorExp.V(repeating: 0), dotV = VectorExp.V(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let s = load8(yb, i), pv = load8(pb, i)
            // e = exp(−x²/2) is 0 in double precision for x² ≥ 1490 (libm's value, which the
            // scalar tail gets): set it there (exp8 floors its argument at −708.3, so e·x² would
            // not vanish), and cap x² so that an overflowing s²/λ² (∞) gives 0·4096, not 0·∞ =
            // NaN. Bit-identical to the plain formula for x² < 1490.
            // (the cap by a blend, `LaneSelect`: `pointwiseMin` is a generic call per vector)
            let q = s * s * c
            let x2 = LaneSelect.above(q, 4096, VectorExp.V(repeating: 4096), else: q)
            let e = LaneSelect.above(x2, 1490, VectorExp.V(repeating: 0), else: VectorExp.exp8(x2 * -0.5))
            let z = e * s
            accV += pv * z * x2
            dotV += pv * z
            store8(z, yb, i)
            store8(e * (1 - x2) * pv, pb, i)
            i += 8
        }
        var acc = accV.sum(), dot = dotV.sum()
        while i < n {
            let s = y[i], pi = p[i]
            let (g, dphi) = Self.backwardTerms(x2: Swift.min(s * s * c, 4096))
            acc += pi * s * (g - dphi)
            let z = g * s
            dot += pi * z
            y[i] = z
            p[i] = dphi * pi
            i += 1
        }
        return (acc, dot)
    }
}
