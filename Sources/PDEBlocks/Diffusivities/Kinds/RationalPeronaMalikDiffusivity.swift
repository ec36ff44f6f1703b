/// `g = 1/(1 + x²)`, `x = s/λ`: Perona–Malik's rational form. `Φ′ = (1 − x²)/(1 + x²)²`.
@frozen public struct RationalPeronaMalikDiffusivity: DiffusivityFormula {
    public static var kind: DiffusivityKind { .peronaMalikRational }
    public static var supG: Double { 1 }
    public let inverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) { self.inverseLambda2 = inverseLambda2 }

    @inlinable @inline(__always) public static func g(x2: Double) -> Double { 1 / (1 + x2) }
    @inlinable @inline(__always) public static func fluxDerivative(x2: Double) -> Double { (1 - x2) / ((1 + x2) * (1 + x2)) }
    /// `r = 1/(1 + x²)`, `Φ′ = (1 − x²)·r·r` (one division for both).
    @inlinable @inline(__always) public static func backwardTerms(x2: Double) -> (g: Double, dphi: Double) {
        let r = 1 / (1 + x2)
        return (r, (1 - x2) * r * r)
    }

    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        return v * (1 / (1 + x2))
    }

    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> { 1 / (1 + m * inverseLambda2) }
}
