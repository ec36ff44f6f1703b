/// `g = 1`: linear (homogeneous) diffusion; `Φ(s) = s`, `Φ′ = 1`, no parameter to learn.
@frozen public struct LinearDiffusivity: DiffusivityFormula {
    public static var kind: DiffusivityKind { .linear }
    public static var supG: Double { 1 }
    public let inverseLambda2: Double
    @inlinable public init() { inverseLambda2 = 1 }
    @inlinable public init(inverseLambda2: Double) { self.inverseLambda2 = inverseLambda2 }

    @inlinable @inline(__always) public static func g(x2: Double) -> Double { 1 }
    @inlinable @inline(__always) public static func fluxDerivative(x2: Double) -> Double { 1 }
    @inlinable @inline(__always) public static func backwardTerms(x2: Double) -> (g: Double, dphi: Double) { (1, 1) }

    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> { v }
    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> { SIMD8(repeating: 1) }

    /// `y` and `p` stay (`Φ(y) = y`, `Φ′ = 1`); `dRho = 0` (no λ).
    @inlinable
    public func backward(_ y: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>) -> (dRho: Double, dot: Double) {
        var dot = 0.0
        for i in 0..<y.count { dot += p[i] * y[i] }
        return (0, dot)
    }
}
