/// `g = 1 − exp(−C/x⁸)`, `x = s/λ`, `g(0) = 1` (Weickert; `C = 3.31488` makes the flux
/// peak at x = 1). With `t = C/x⁸`: `Φ′ = (1 − e^{−t}) − 8·t·e^{−t}`.
@frozen public struct WeickertDiffusivity: DiffusivityFormula {
    public static var kind: DiffusivityKind { .weickert }
    public static var supG: Double { 1 }
    /// The constant C.
    public static let constant = 3.31488
    public let inverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) { self.inverseLambda2 = inverseLambda2 }

    @inlinable @inline(__always) public static func g(x2: Double) -> Double {
        guard x2 > 0 else { return 1 }
        let x8 = (x2 * x2) * (x2 * x2)
        return -expm1(-constant / x8)
    }
    @inlinable @inline(__always) public static func fluxDerivative(x2: Double) -> Double {
        guard x2 > 0 else { return 1 }
        let t = constant / ((x2 * x2) * (x2 * x2))  // C/x⁸
        let e = exp(-t)
        guard e > 0 else { return 1 }  // x → 0: g → 1, Φ′ → 1 (avoids ∞·0)
        // g = 1 − e; 2s² g′(s²) = −8·t·e
        return -expm1(-t) - 8 * t * e
    }
    /// `g` and `Φ′` (with `Φ′`'s limit 0 where `x²` overflows).
    @inlinable @inline(__always) public static func backwardTerms(x2: Double) -> (g: Double, dphi: Double) {
        (g(x2: x2), x2.isFinite ? fluxDerivative(x2: x2) : (x2.isNaN ? x2 : 0))
    }

    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        let t = Self.constant / ((x2 * x2) * (x2 * x2))  // C/x⁸ (∞ at v = 0: g = 1)
        return v * Self.oneMinusExpNeg(t)
    }

    /// `g(m) = 1 − exp(−C/(m/λ²)⁴)` directly (the isotropic couplings' form, no square root;
    /// 1 at m = 0, where t = ∞).
    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = m * inverseLambda2
        return Self.oneMinusExpNeg(Self.constant / ((x2 * x2) * (x2 * x2)))
    }

    /// `1 − e^{−t}` for `t ≥ 0` (or +∞) without cancellation, eight lanes: its Taylor series
    /// to t⁹ for t < 0.05 (truncation ≤ 1e-16 relative), else `1 − e^{−t}` (cancellation
    /// costs at most a factor 1/t ≤ 20 in relative error, i.e. ≤ 5e-15). Vectors without a
    /// small lane skip the series, and vectors whose lanes all have t ≥ 40 (flat image regions:
    /// e^{−t} < 4.3e-18, so 1 − e^{−t} rounds to 1) skip the exp too: the same values.
    @inlinable @inline(__always)
    static func oneMinusExpNeg(_ t: SIMD8<Double>) -> SIMD8<Double> {
        let one = SIMD8<Double>(repeating: 1)
        if !LaneSelect.anyBelow(t, 0.05) {   // (no lane is small)
            if LaneSelect.allAtLeast(t, 40) { return one }
            return one - VectorExp.exp8(nonPositive: -t)
        }
        // (products by the rounded reciprocals, not eight vector divisions: each factor is
        // within an ulp of t/k, far below the truncation error above)
        var s = one - t * (1.0 / 9)
        s = one - t * (1.0 / 8) * s
        s = one - t * (1.0 / 7) * s
        s = one - t * (1.0 / 6) * s
        s = one - t * (1.0 / 5) * s
        s = one - t * (1.0 / 4) * s
        s = one - t * (1.0 / 3) * s
        s = one - t * (1.0 / 2) * s
        let series = t * s
        let direct = one - VectorExp.exp8(nonPositive: -t)
        return LaneSelect.below(t, 0.05, series, else: direct)
    }
}
