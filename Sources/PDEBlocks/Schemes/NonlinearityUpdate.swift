/// When a cycle of an accelerated scheme (FSI, FED) evaluates the nonlinearity.
/// Raw values are the C ABI's `PDB_UPDATE_*` constants.
///
/// - `perStep`: every inner step is a full diffusion block `x − τ_ℓ·Kᵀ Φ(K x)` — the
///   flux is re-evaluated at every step, as in the paper's FSI scheme (eq. 7). No
///   stability theorem covers this for nonlinear g: the inner matrices `KᵀG(x)K`
///   change from step to step and the extrapolation weights `α_ℓ > 1` can then
///   amplify. FSI usually stays stable in practice (but not always: a Weickert example
///   in the Python tests grows by 3 % in 20 cycles); FED, whose single steps reach
///   `≈ 0.2·L²·τ_max`, does not (a noisy step under Perona–Malik, L = 13, grew 9-fold
///   over 200 cycles).
/// - `perCycle`: the diffusivity is frozen at the start of each cycle,
///   `G = diag(g(|K u^k|²))`, and the inner steps use the linearised block
///   `x − τ_ℓ·Kᵀ G K x` (Grewenig, Weickert, Bruhn 2010, for FED). Each cycle is then
///   a polynomial in the symmetric matrix `A = KᵀGK` with spectrum in
///   `[0, sup g·‖K‖²]`, bounded by 1 in modulus there when τ (FSI) or τ_max (FED)
///   obeys Theorem 2's bound — so `‖u^{k+1}‖₂ ≤ ‖u^k‖₂` holds cycle to cycle for every
///   diffusivity. It also evaluates `g` once per cycle instead of once per step.
public enum NonlinearityUpdate: Int32, CaseIterable, Sendable {
    case perStep = 0
    case perCycle = 1

    /// `"step"` or `"cycle"` (the Python option values).
    public var name: String { self == .perStep ? "step" : "cycle" }

    /// Throws for an unknown raw value (from C or Python).
    public init(code: Int32) throws {
        guard let value = Self(rawValue: code) else {
            throw PDEBlocksError.invalidArgument(
                "unknown nonlinearity update \(code) (PDB_UPDATE_PER_STEP = 0, PDB_UPDATE_PER_CYCLE = 1)")
        }
        self = value
    }
}

/// The linearised diffusion block with a frozen diffusivity (see `NonlinearityUpdate.perCycle`):
///
///     out = base − τ·Kᵀ (G ⊙ K x),   G_i = g((K u)_i²) evaluated once by `freeze`.
///
/// For `x = u` it coincides with the diffusion block `base − τKᵀΦ(Kx)`.
struct FrozenDiffusivityStep {
    let stencil: Stencil
    let diffusivity: Diffusivity

    /// `weights_i = g((K u)_i²)`. `weights` has the signal's length and must not overlap `u`.
    func freeze(_ u: UnsafeBufferPointer<Double>, into weights: UnsafeMutableBufferPointer<Double>) {
        stencil.apply(u, into: weights)
        if diffusivity.kind == .linear {
            for i in weights.indices { weights[i] = 1 }
            return
        }
        for i in weights.indices {
            let s = weights[i]
            weights[i] = diffusivity.g(s * s)
        }
    }

    /// `out = base − tau·Kᵀ(weights ⊙ K x)`. `work` has the signal's length; `out` may
    /// alias `base` but not `x`, `weights` or `work`.
    func apply(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        weights: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        work: UnsafeMutableBufferPointer<Double>
    ) {
        stencil.apply(x, into: work)
        let scale = -tau
        for i in work.indices { work[i] *= scale * weights[i] }
        stencil.accumulateTransposed(UnsafeBufferPointer(work), into: out, base: base)
    }
}
