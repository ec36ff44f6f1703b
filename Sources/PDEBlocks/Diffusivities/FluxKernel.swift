extension Diffusivity {
    /// `y_i ← scale·Φ(y_i)` in place over a buffer: the activation σ₁ = τΦ of Theorem 1
    /// applied to a whole layer (with `scale = ±τ`). Eight lanes at a time through the
    /// kind's `FluxLanes` (one loop per kind, no switch inside it); the tail goes through
    /// the same vector code, so every element sees the same arithmetic. Agrees with the
    /// scalar `flux` to ≤ 1e-14 relative (tested).
    @inlinable
    public func applyFlux(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        withFluxLanes(FluxInPlace(y: y, scale: scale))
    }

    /// Runs `kernel` with the flux of this kind as a concrete `FluxLanes` value (λ bound),
    /// so that the kernel's loop is specialised for the kind.
    @inlinable @inline(__always)
    public func withFluxLanes<K: FluxLanesKernel>(_ kernel: K) -> K.Result {
        let c = inverseLambda2
        switch kind {
        case .linear: return kernel.run(LinearFluxLanes())
        case .peronaMalik: return kernel.run(PeronaMalikFluxLanes(inverseLambda2: c))
        case .peronaMalikRational: return kernel.run(RationalFluxLanes(inverseLambda2: c))
        case .charbonnier: return kernel.run(CharbonnierFluxLanes(inverseLambda2: c))
        case .weickert: return kernel.run(WeickertFluxLanes(inverseLambda2: c))
        }
    }

    /// `1 − e^{−t}` for `t ≥ 0` (or +∞) without cancellation, eight lanes, branch-free: its
    /// Taylor series to t⁹ for t < 0.05 (truncation ≤ 1e-16 relative), else `1 − e^{−t}`
    /// (cancellation costs at most a factor 1/t ≤ 20 in relative error, i.e. ≤ 5e-15).
    @inlinable @inline(__always)
    static func oneMinusExpNeg(_ t: SIMD8<Double>) -> SIMD8<Double> {
        let one = SIMD8<Double>(repeating: 1)
        var s = one - t / 9
        s = one - t / 8 * s
        s = one - t / 7 * s
        s = one - t / 6 * s
        s = one - t / 5 * s
        s = one - t / 4 * s
        s = one - t / 3 * s
        s = one - t / 2 * s
        let series = t * s
        let direct = one - VectorExp.exp8(nonPositive: -t)
        return direct.replacing(with: series, where: t .< 0.05)
    }

    /// The scalar reference of `applyFlux` (libm `exp`), kept for tests.
    public func applyFluxScalar(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        for i in y.indices { y[i] = scale * flux(y[i]) }
    }
}

/// `Φ(v)` on eight lanes for one diffusivity kind, its constants bound. Every kind forms
/// `x² = (v·v)·(1/λ²)` as the scalar `Diffusivity.g` does (Perona–Malik folds the exact
/// factor −1/2 into 1/λ², which rounds identically), so the vector and scalar paths differ
/// only by their `exp` (`VectorExp.exp8` here).
public protocol FluxLanes {
    func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double>
}

/// A loop to run with a concrete `FluxLanes` (see `Diffusivity.withFluxLanes`): the
/// visitor that lets one generic loop be specialised for every diffusivity kind.
public protocol FluxLanesKernel {
    associatedtype Result
    func run<F: FluxLanes>(_ flux: F) -> Result
}

/// `Φ(s) = s`.
@frozen public struct LinearFluxLanes: FluxLanes {
    @inlinable public init() {}
    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> { v }
}

/// `Φ(s) = s·exp(−x²/2)`, `x = s/λ`.
@frozen public struct PeronaMalikFluxLanes: FluxLanes {
    /// `−1/(2λ²)`: `(v·v)·(−1/(2λ²))` equals the scalar path's `−0.5·((v·v)·(1/λ²))`
    /// bit for bit (scaling by −1/2 is exact).
    public let minusHalfInverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) { minusHalfInverseLambda2 = -0.5 * inverseLambda2 }
    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        v * VectorExp.exp8(nonPositive: (v * v) * minusHalfInverseLambda2)
    }
}

/// `Φ(s) = s/(1 + x²)`.
@frozen public struct RationalFluxLanes: FluxLanes {
    public let inverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) { self.inverseLambda2 = inverseLambda2 }
    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        return v * (1 / (1 + x2))
    }
}

/// `Φ(s) = s/√(1 + x²)`; where `x²` overflows, its limit `λ·sign(s)` (as the scalar `flux`).
@frozen public struct CharbonnierFluxLanes: FluxLanes {
    public let inverseLambda2: Double
    /// `λ = 1/√(1/λ²)`, the limit of `|Φ|`.
    public let lambda: Double
    @inlinable public init(inverseLambda2: Double) {
        self.inverseLambda2 = inverseLambda2
        lambda = 1 / inverseLambda2.squareRoot()
    }
    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        let phi = v * (1 / (1 + x2).squareRoot())
        // x² = ∞ only for |s| ≳ 1.3e154·λ, where Φ = λ·sign(s) (one compare, two blends)
        let limit = SIMD8(repeating: lambda).replacing(with: -lambda, where: v .< 0)
        return phi.replacing(with: limit, where: x2 .== .infinity)
    }
}

/// `Φ(s) = s·(1 − exp(−C/x⁸))` (`= s` at s = 0).
@frozen public struct WeickertFluxLanes: FluxLanes {
    public let inverseLambda2: Double
    @inlinable public init(inverseLambda2: Double) { self.inverseLambda2 = inverseLambda2 }
    @inlinable @inline(__always)
    public func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double> {
        let x2 = (v * v) * inverseLambda2
        let t = Diffusivity.weickertConstant / ((x2 * x2) * (x2 * x2))  // C/x⁸ (∞ at v = 0: g = 1)
        return v * Diffusivity.oneMinusExpNeg(t)
    }
}

/// `applyFlux`'s loop: `y ← scale·Φ(y)`.
@usableFromInline
struct FluxInPlace: FluxLanesKernel {
    @usableFromInline let y: UnsafeMutableBufferPointer<Double>
    @usableFromInline let scale: Double
    @inlinable init(y: UnsafeMutableBufferPointer<Double>, scale: Double) { (self.y, self.scale) = (y, scale) }

    @inlinable
    func run<F: FluxLanes>(_ flux: F) {
        guard let p = y.baseAddress else { return }
        let n = y.count
        var i = 0
        while i + 8 <= n {
            store8(scale * flux(load8(p, i)), p, i)
            i += 8
        }
        if i < n {
            var v = SIMD8<Double>(repeating: 0)
            for k in 0..<(n - i) { v[k] = p[i + k] }
            let r = scale * flux(v)
            for k in 0..<(n - i) { p[i + k] = r[k] }
        }
    }
}
