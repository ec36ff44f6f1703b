/// `g = 1/√(1 + x²)`, `x = s/λ`: Charbonnier. `Φ′ = (1 + x²)^{−3/2}`; the flux is monotone
/// and tends to `λ·sign(s)`, which it gives where `x²` overflows (`|s| ≳ 1.3e154·λ`).
@frozen public struct CharbonnierDiffusivity: DiffusivityFormula {
    public static var kind: DiffusivityKind { .charbonnier }
    public static var supG: Double { 1 }
    public let inverseLambda2: Double
    /// `λ = 1/√(1/λ²)`, the limit of `|Φ|`.
    public let lambda: Double
    @inlinable public init(inverseLambda2: Double) {
        self.inverseLambda2 = inverseLambda2
        lambda = 1 / inverseLambda2.squareRoot()
    }

    @inlinable @inline(__always) public static func g(x2: Double) -> Double { 1 / (1 + x2).squareRoot() }
    @inlinable @inline(__always) public static func fluxDerivative(x2: Double) -> Double {
        let r = 1 / (1 + x2).squareRoot()
        return r * r * r
    }
    @inlinable @inline(__always) public static func backwardTerms(x2: Double) -> (g: Double, dphi: Double) {
        let r = 1 / (1 + x2).squareRoot()
        return (r, r * r * r)
    }
    /// `s·g(x²)`, or its limit `λ·sign(s)` where `x²` is not finite (not `s·0`).
    @inlinable @inline(__always)
    public static func flux(_ s: Double, x2: Double, lambda: Double) -> Double {
        x2.isFinite ? s * g(x2: x2) : Double(signOf: s, magnitudeOf: lambda)
    }

    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        let phi = v * (1 / (1 + x2).squareRoot())
        // x² = ∞ only for |s| ≳ 1.3e154·λ, where Φ = λ·sign(s) (one compare, two blends)
        let limit = LaneSelect.below(v, 0, SIMD8(repeating: -lambda), else: SIMD8(repeating: lambda))
        return LaneSelect.equal(x2, .infinity, limit, else: phi)
    }

    /// `g(m) = 1/√(1 + m/λ²)` directly (the isotropic couplings' form; 0 where `m/λ²`
    /// overflows, which is the limit of `Φ(√m)/√m`).
    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> { 1 / (1 + m * inverseLambda2).squareRoot() }
}
