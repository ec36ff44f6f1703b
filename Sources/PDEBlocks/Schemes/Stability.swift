/// Which constant bounds the activation in the step-size bound of Theorem 2.
public enum StabilityBound: Int32, Sendable, CaseIterable {
    /// `τ ≤ 2/(sup g·‖K‖₂²)` — the sharper bound; the proof of Theorem 2 only needs
    /// the eigenvalues of `G(u)` to lie in `[0, sup g]`. The default.
    case supG = 0
    /// `τ ≤ 2/(L·‖K‖₂²)` with `L` the Lipschitz constant of Φ — the bound as the paper states it.
    case lipschitz = 1

    /// The snake_case name (`"sup_g"`, `"lipschitz"`), as the Python binding's `bound=` argument spells it.
    public var name: String { self == .supG ? "sup_g" : "lipschitz" }
}

/// The largest step size for which Theorem 2 guarantees `‖u^{k+1}‖₂ ≤ ‖u^k‖₂` for an
/// explicit diffusion block with stencil `K` and diffusivity `g` on signals of length `n`.
/// Uses the certified upper bound of `‖K‖₂²`, so the returned τ never exceeds the true
/// bound. Returns `+∞` for the zero operator. `2/(c·‖K‖²)` is formed in a scaled
/// representation (`BinaryScaled`) and rounded down once: weights so large that it underflows
/// (≈1e155 and beyond) or so small that it overflows (≈1e-155 and below) throw an error that
/// names the largest weight — never a silent 0 or ∞.
public func stableTau(
    stencil: Stencil, diffusivity: Diffusivity, n: Int, bound: StabilityBound = .supG
) throws -> Double {
    try Check.positive(n, "n")
    let c = bound == .supG ? diffusivity.supG : diffusivity.lipschitz
    let norm2 = try stencil.scaledNormSquared(n: n)
    return try stepSizeBound(
        2, over: norm2.times(c), name: "the stability bound 2/(\(bound == .supG ? "sup g" : "L")·‖K‖²)",
        what: "the stencil weights (largest |w| = \(stencil.largestWeightMagnitude))")
}

/// Throws `.unstable` naming the bound when `tau` exceeds `2/(sup g·‖K‖²)`; cheap when
/// τ is clearly below it (Gershgorin's bound on `‖K‖²` decides without the exact norm).
func requireStable(
    tau: Double, stencil: Stencil, diffusivity: Diffusivity, n: Int, factor: Double = 1, what: String
) throws {
    let quick = try stencil.normSquaredUpperBound(n: n)
    if quick == 0 || tau <= factor * 2 / (diffusivity.supG * quick) { return }
    let bound = factor * (try stableTau(stencil: stencil, diffusivity: diffusivity, n: n))
    guard tau <= bound else {
        throw PDEBlocksError.unstable(
            "\(what): tau = \(tau) exceeds the Euclidean stability bound \(bound) = "
                + (factor == 1 ? "" : "\(factor)·") + "2/(sup g·‖K‖²) of Theorem 2 "
                + "(n = \(n)); pass check_stability=False (Swift: checkStability: false; C: PDB_UNCHECKED) to run anyway")
    }
}
