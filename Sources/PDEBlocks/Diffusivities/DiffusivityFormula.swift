/// The formulas of one diffusivity kind, in one type: `g`, the flux `Φ(s) = g(s²)·s` on
/// eight lanes (`FluxLanes`), `Φ′`, `sup g`, and the backward sweep with the derivative
/// with respect to `ρ = log λ`. Every formula is a function of `x² = s²·(1/λ²)`, formed the
/// same way everywhere, so the scalar and vector paths differ only by their `exp`.
///
/// `Diffusivity.withFormula` (in `Diffusivity.swift`, beside the kinds) is the one place
/// that maps a `DiffusivityKind` to its type; every kernel is generic over
/// `DiffusivityFormula` and so specialised per kind. Adding a kind: see CONTRIBUTING.md.
public protocol DiffusivityFormula: FluxLanes {
    /// The kind this type implements.
    static var kind: DiffusivityKind { get }
    /// `sup g` (the step-size bound of Theorem 2 scales with it).
    static var supG: Double { get }
    /// Binds λ (through `1/λ²`) for the eight-lane flux `callAsFunction`.
    init(inverseLambda2: Double)
    /// `g` at `x² = s²/λ² ≥ 0` (`+∞` allowed: the limit).
    static func g(x2: Double) -> Double
    /// `Φ(s)` given `x² = s²/λ²` and `λ`; the default `s·g(x²)`.
    static func flux(_ s: Double, x2: Double, lambda: Double) -> Double
    /// `Φ′(s) = g(s²) + 2s²·g′(s²)` at a finite `x² = s²/λ² ≥ 0` (`Diffusivity.fluxDerivative`
    /// supplies the limit 0 where `x²` overflows, for every kind but linear).
    static func fluxDerivative(x2: Double) -> Double
    /// The backward sweep of one channel (see `ChannelDiffusivity.backwardPass`): on entry
    /// `y_i` is the flux argument and `p_i` the adjoint, on exit `y_i = Φ(y_i)` and
    /// `p_i = Φ′(y_i)·p_i`. Returns `dRho = Σ_i p_i·∂Φ(y_i)/∂ρ` (before the update of p; every
    /// built-in flux depends on `s/λ` only, so `∂Φ/∂ρ = λ ∂Φ/∂λ = s·(g − Φ′)`) and
    /// `dot = Σ_i p_i·Φ(y_i)`. The default is a scalar loop over `backwardTerms`.
    func backward(_ y: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>) -> (dRho: Double, dot: Double)
    /// `(g, Φ′)` at `x²` as the default `backward` evaluates them (the same values as `g` and
    /// `fluxDerivative` up to rounding; a kind may share subexpressions here).
    static func backwardTerms(x2: Double) -> (g: Double, dphi: Double)
    /// `1/λ²`, as bound by `init(inverseLambda2:)`.
    var inverseLambda2: Double { get }
}

extension DiffusivityFormula {
    @inlinable @inline(__always)
    public static func flux(_ s: Double, x2: Double, lambda: Double) -> Double { s * g(x2: x2) }

    @inlinable
    public func backward(_ y: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>) -> (dRho: Double, dot: Double) {
        let c = inverseLambda2
        var acc = 0.0, dot = 0.0
        for i in 0..<y.count {
            let s = y[i], pi = p[i]
            let x2 = s * s * c
            // x² = ∞ (|s| ≳ 1.3e154·λ): the terms at the largest finite x² (their limits, finite)
            // instead of ∞·0 = NaN; the flux through `flux`, which knows its limit there.
            let (g, dphi) = Self.backwardTerms(x2: Swift.min(x2, .greatestFiniteMagnitude))
            acc += pi * s * (g - dphi)
            let z = x2.isFinite ? g * s : Self.flux(s, x2: x2, lambda: 1 / c.squareRoot())
            dot += pi * z
            y[i] = z
            p[i] = dphi * pi
        }
        return (acc, dot)
    }
}

/// A computation to run with the formulas of one kind (see `Diffusivity.withFormula`):
/// the visitor that lets one generic function be specialised for every kind.
public protocol DiffusivityFormulaKernel {
    associatedtype Result
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> Result
}

/// `withFluxLanes` as a formula kernel: binds λ, then runs the lanes kernel.
@usableFromInline
struct BoundLanes<K: FluxLanesKernel>: DiffusivityFormulaKernel {
    @usableFromInline let kernel: K
    @usableFromInline let inverseLambda2: Double
    @inlinable init(kernel: K, inverseLambda2: Double) { (self.kernel, self.inverseLambda2) = (kernel, inverseLambda2) }
    @inlinable @inline(__always)
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> K.Result { kernel.run(F(inverseLambda2: inverseLambda2)) }
}

/// `g(s²)` of `Diffusivity.g`.
@usableFromInline
struct ScalarG: DiffusivityFormulaKernel {
    @usableFromInline let x2: Double
    @inlinable init(x2: Double) { self.x2 = x2 }
    @inlinable @inline(__always)
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> Double { F.g(x2: x2) }
}

/// `Φ(s)` of `Diffusivity.flux`.
@usableFromInline
struct ScalarFlux: DiffusivityFormulaKernel {
    @usableFromInline let s: Double, inverseLambda2: Double, lambda: Double
    @inlinable init(s: Double, inverseLambda2: Double, lambda: Double) { (self.s, self.inverseLambda2, self.lambda) = (s, inverseLambda2, lambda) }
    @inlinable @inline(__always)
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> Double { F.flux(s, x2: (s * s) * inverseLambda2, lambda: lambda) }
}

/// `Φ′(s)` of `Diffusivity.fluxDerivative`, with the limit 0 where `x²` overflows.
@usableFromInline
struct ScalarFluxDerivative: DiffusivityFormulaKernel {
    @usableFromInline let s: Double, inverseLambda2: Double
    @inlinable init(s: Double, inverseLambda2: Double) { (self.s, self.inverseLambda2) = (s, inverseLambda2) }
    @inlinable @inline(__always)
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> Double {
        let x2 = (s * s) * inverseLambda2
        if F.kind != .linear, !x2.isFinite { return s.isNaN ? s : 0 }
        return F.fluxDerivative(x2: x2)
    }
}

/// `sup g` of `Diffusivity.supG`.
@usableFromInline
struct SupG: DiffusivityFormulaKernel {
    @inlinable init() {}
    @inlinable @inline(__always)
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> Double { F.supG }
}

/// The backward sweep of `ChannelDiffusivity.backwardPass` for a built-in kind.
@usableFromInline
struct BackwardSweep: DiffusivityFormulaKernel {
    @usableFromInline let y: UnsafeMutableBufferPointer<Double>, p: UnsafeMutableBufferPointer<Double>
    @usableFromInline let inverseLambda2: Double
    @inlinable init(y: UnsafeMutableBufferPointer<Double>, p: UnsafeMutableBufferPointer<Double>, inverseLambda2: Double) {
        (self.y, self.p, self.inverseLambda2) = (y, p, inverseLambda2)
    }
    @inlinable
    func run<F: DiffusivityFormula>(_ formula: F.Type) -> (dRho: Double, dot: Double) {
        F(inverseLambda2: inverseLambda2).backward(y, p)
    }
}
