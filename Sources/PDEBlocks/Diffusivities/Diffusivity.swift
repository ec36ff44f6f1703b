/// The diffusivities `g(s²)` of DESIGN.md (λ > 0 is the contrast parameter); each kind's
/// formulas live in its `DiffusivityFormula` type (`PeronaMalikDiffusivity` …). Raw values are the C ABI's `PDB_DIFFUSIVITY_*` constants.
public enum DiffusivityKind: Int32, CaseIterable, Sendable {
    /// `g = 1`: linear (homogeneous) diffusion.
    case linear = 0
    /// `g = exp(−s²/(2λ²))`, the paper's exponential Perona–Malik form (Sec. 2.1, 2.5).
    case peronaMalik = 1
    /// `g = 1/(1 + s²/λ²)`.
    case peronaMalikRational = 2
    /// `g = 1/√(1 + s²/λ²)`.
    case charbonnier = 3
    /// `g = 1 − exp(−3.31488/(s/λ)⁸)`, `g(0) = 1`.
    case weickert = 4

    /// The snake_case name used by Python and C (`"perona_malik"` …).
    public var name: String {
        switch self {
        case .linear: "linear"
        case .peronaMalik: "perona_malik"
        case .peronaMalikRational: "perona_malik_rational"
        case .charbonnier: "charbonnier"
        case .weickert: "weickert"
        }
    }

    /// Looks a kind up by its snake_case name; throws naming the known ones.
    public init(name: String) throws {
        guard let kind = Self.allCases.first(where: { $0.name == name }) else {
            let known = Self.allCases.map(\.name).joined(separator: ", ")
            throw PDEBlocksError.invalidArgument("unknown diffusivity '\(name)' (known: \(known))")
        }
        self = kind
    }
}

/// A diffusivity `g(s²)` with contrast parameter λ, its flux `Φ(s) = g(s²)·s`
/// (paper eq. 3) — which becomes the activation `τΦ` of a diffusion block
/// (Theorem 1) — and the flux derivative `Φ′(s) = g(s²) + 2s²·g′(s²)`.
///
/// All five `g` are smooth, nonnegative, nonincreasing in s² and bounded by `supG = 1`.
/// Every flux depends on `s` only through `x = s/λ`, so `Φ′(s) = φ(s/λ)` and the
/// Lipschitz constant `sup|Φ′|` does not depend on λ.
public struct Diffusivity: Hashable, Sendable {
    /// Which `g` (see the table on `DiffusivityKind`).
    public let kind: DiffusivityKind
    /// The contrast parameter λ > 0 (ignored by `.linear`, but still validated).
    public let lambda: Double

    /// Throws when λ is not positive and finite.
    public init(_ kind: DiffusivityKind, lambda: Double = 1) throws {
        try Check.positiveFinite(lambda, "lambda")
        guard (lambda * lambda).isNormal, (1 / (lambda * lambda)).isFinite else {
            throw PDEBlocksError.invalidArgument("lambda = \(lambda) is too small or too large (λ² must be a normal number)")
        }
        self.kind = kind
        self.lambda = lambda
        self.inverseLambda2 = 1 / (lambda * lambda)
    }

    /// `1/λ²`; every kind evaluates `x² = s²·(1/λ²)` the same way in the scalar and the
    /// vectorised paths, so the two differ only by their `exp`.
    public let inverseLambda2: Double

    /// The constant in Weickert's diffusivity (makes the flux of `x = s/λ` peak at x = 1).
    public static let weickertConstant = WeickertDiffusivity.constant

    /// `g(s²)` (the kind's `DiffusivityFormula.g` at `x² = s²·(1/λ²)`). Requires `s2 ≥ 0`.
    @inlinable
    public func g(_ s2: Double) -> Double { withFormula(ScalarG(x2: s2 * inverseLambda2)) }

    /// The flux `Φ(s) = g(s²)·s`; antisymmetric and, except for `.linear`/`.charbonnier`, nonmonotone.
    ///
    /// Finite for every finite `s`. Where `s²/λ²` overflows (`|s| ≳ 1.3e154·λ`) the kinds
    /// with `g → 0` faster than `1/s` give their limit `0` (Perona–Malik, rational, Weickert),
    /// and Charbonnier gives its limit `λ·sign(s)` (`s/√(1 + s²/λ²) → λ`), not `s·0`.
    @inlinable
    public func flux(_ s: Double) -> Double {
        withFormula(ScalarFlux(s: s, inverseLambda2: inverseLambda2, lambda: lambda))
    }

    /// `Φ′(s) = g(s²) + 2s²·g′(s²)`.
    ///
    /// Finite for every finite `s`: where `x² = s²/λ²` overflows, the limit `Φ′ → 0` of every
    /// kind but linear (without this, `exp(−∞)·(1 − ∞)` and `−∞/∞` give NaN for
    /// `|s| ≳ 1.3e154·λ`, and with them NaN gradients of a finite forward pass).
    @inlinable
    public func fluxDerivative(_ s: Double) -> Double {
        withFormula(ScalarFluxDerivative(s: s, inverseLambda2: inverseLambda2))
    }

    /// `sup g = g(0)` (1 for every built-in kind).
    public var supG: Double { withFormula(SupG()) }

    /// The Lipschitz constant `L = sup_s |Φ′(s)|` of the flux (paper, Theorem 2).
    /// 1 for linear, Perona–Malik, rational Perona–Malik and Charbonnier (attained
    /// at s = 0); ≈ 2.335 for Weickert. Computed, not tabulated: see `LipschitzSearch`.
    public var lipschitz: Double { LipschitzSearch.constant(kind) }
}

extension Diffusivity {
    /// Runs `kernel` with this diffusivity's formula type: the one switch over the kinds.
    @inlinable @inline(__always)
    public func withFormula<K: DiffusivityFormulaKernel>(_ kernel: K) -> K.Result {
        switch kind {
        case .linear: kernel.run(LinearDiffusivity.self)
        case .peronaMalik: kernel.run(PeronaMalikDiffusivity.self)
        case .peronaMalikRational: kernel.run(RationalPeronaMalikDiffusivity.self)
        case .charbonnier: kernel.run(CharbonnierDiffusivity.self)
        case .weickert: kernel.run(WeickertDiffusivity.self)
        }
    }

    /// Runs `kernel` with the flux of this kind as a concrete `FluxLanes` value (λ bound),
    /// so that the kernel's loop is specialised for the kind.
    @inlinable @inline(__always)
    public func withFluxLanes<K: FluxLanesKernel>(_ kernel: K) -> K.Result {
        withFormula(BoundLanes(kernel: kernel, inverseLambda2: inverseLambda2))
    }
}
