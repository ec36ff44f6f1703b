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

    /// The scalar reference of `applyFlux` (libm `exp`), kept for tests.
    public func applyFluxScalar(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        for i in y.indices { y[i] = scale * flux(y[i]) }
    }
}

/// `Φ(v)` on eight lanes for one diffusivity kind, its constants bound; every
/// `DiffusivityFormula` is one. Every kind forms `x² = (v·v)·(1/λ²)` as the scalar
/// `Diffusivity.g` does (Perona–Malik folds the exact factor −1/2 into 1/λ², which rounds
/// identically), so the vector and scalar paths differ only by their `exp` (`VectorExp.exp8` here).
public protocol FluxLanes {
    func callAsFunction(_ v: SIMD8<Double>) -> SIMD8<Double>
    /// `g(m)` at `m = s² ≥ 0` on eight lanes (the isotropic coupling of images, whose
    /// diffusivity is of `Σ_c (K_c u)²`). Default: `Φ(√m)/√m`, and `g(0) = 1` (= sup g of every
    /// built-in kind); kinds override it where a direct form avoids the square root and division.
    func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double>
}

extension FluxLanes {
    @inlinable @inline(__always)
    public func g(ofSquare m: SIMD8<Double>) -> SIMD8<Double> {
        let s = m.squareRoot()
        return LaneSelect.equal(s, 0, SIMD8(repeating: 1), else: self(s) / s)
    }
}

/// A loop to run with a concrete `FluxLanes` (see `Diffusivity.withFluxLanes`): the
/// visitor that lets one generic loop be specialised for every diffusivity kind.
public protocol FluxLanesKernel {
    associatedtype Result
    func run<F: FluxLanes>(_ flux: F) -> Result
}

/// The former names of the kinds' lane types, now their `DiffusivityFormula` types.
@available(*, deprecated, renamed: "LinearDiffusivity")
public typealias LinearFluxLanes = LinearDiffusivity
@available(*, deprecated, renamed: "PeronaMalikDiffusivity")
public typealias PeronaMalikFluxLanes = PeronaMalikDiffusivity
@available(*, deprecated, renamed: "RationalPeronaMalikDiffusivity")
public typealias RationalFluxLanes = RationalPeronaMalikDiffusivity
@available(*, deprecated, renamed: "CharbonnierDiffusivity")
public typealias CharbonnierFluxLanes = CharbonnierDiffusivity
@available(*, deprecated, renamed: "WeickertDiffusivity")
public typealias WeickertFluxLanes = WeickertDiffusivity

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
