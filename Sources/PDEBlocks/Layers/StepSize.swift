/// How a diffusion-type block holds its step size τ (the scale of its activation τΦ).
///
/// - `.free(τ)`: τ itself is the parameter. Theorem 2 then holds when τ stays below the
///   block's certified bound (see `BlockCertificate`); `Network.projectStable` enforces it.
/// - `.bounded(θ)`: `τ = β(K)·sigmoid(θ)` with the differentiable bound
///   `β(K) = 1 / Σ_c (Σ_j |w_cj|)²`. Since `‖K_c‖₂ ≤ √(‖K_c‖₁‖K_c‖_∞) ≤ √2·Σ_j|w_cj|` for a
///   mirrored stencil (a row holds each weight once, a column at most twice) and every
///   `sup g_c ≤ 1`, `τ·λ_max(Σ_c K_cᵀ G_c K_c) ≤ 2·sigmoid(θ) < 2` for *every* value of θ and
///   of the filter weights: the block is stable by construction, whatever training does.
///   (β is pessimistic by up to a factor 2 against the certified bound.) The gradient
///   flows to θ and, through β, to the filter weights.
public enum StepSize: Hashable, Sendable {
    case free(Double)
    case bounded(theta: Double)

    /// Raw values of the C ABI's `PDB_TAU_*` constants.
    public enum Mode: Int32, Sendable, CaseIterable { case free = 0, bounded = 1 }

    public var mode: Mode {
        switch self {
        case .free: .free
        case .bounded: .bounded
        }
    }

    /// `.bounded` with `sigmoid(θ) = fraction` (`0 < fraction < 1`).
    public static func bounded(fraction: Double) throws -> StepSize {
        guard fraction.isFinite, fraction > 0, fraction < 1 else {
            throw PDEBlocksError.invalidArgument("bounded tau fraction must lie in (0, 1), got \(fraction)")
        }
        return .bounded(theta: log(fraction / (1 - fraction)))
    }

    /// The single parameter value (τ or θ).
    public var parameter: Double {
        switch self {
        case .free(let t): t
        case .bounded(let t): t
        }
    }

    func setting(_ value: Double) throws -> StepSize {
        switch self {
        case .free:
            try Check.finite(value, "tau")
            return .free(value)
        case .bounded:
            try Check.finite(value, "tau parameter theta")
            return .bounded(theta: value)
        }
    }

    /// `sigmoid(θ)`, computed without overflow.
    static func sigmoid(_ t: Double) -> Double {
        t >= 0 ? 1 / (1 + exp(-t)) : exp(t) / (1 + exp(t))
    }

    /// The effective τ for the given filters.
    func tau(filters: [Stencil]) -> Double {
        switch self {
        case .free(let t): return t
        case .bounded(let theta):
            let sum = filters.reduce(0.0) { $0 + $1.absoluteSum * $1.absoluteSum }
            return sum > 0 ? StepSize.sigmoid(theta) / sum : 0
        }
    }

    /// Maps `dτ` (in `grad[tauIndex]`, where the caller accumulated ∂L/∂τ) to the
    /// parameterisation: `.free` keeps it; `.bounded` writes `∂L/∂θ = dτ·τ(1 − σ(θ))` and
    /// adds `dτ·∂τ/∂w_cj = −dτ·τ·2‖w_c‖₁ sign(w_cj) / Σ_c ‖w_c‖₁²` to the weight gradients
    /// (`weightOffsets[c]` is the index of filter c's first weight in `grad`).
    func convertGradient(
        _ grad: UnsafeMutableBufferPointer<Double>, tauIndex: Int, filters: [Stencil], weightOffsets: [Int]
    ) {
        guard case .bounded(let theta) = self else { return }
        let dtau = grad[tauIndex]
        let sum = filters.reduce(0.0) { $0 + $1.absoluteSum * $1.absoluteSum }
        guard sum > 0 else { grad[tauIndex] = 0; return }
        let s = StepSize.sigmoid(theta)
        let tau = s / sum
        grad[tauIndex] = dtau * tau * (1 - s)
        for (c, K) in filters.enumerated() {
            let l1 = K.absoluteSum
            for (j, w) in K.weights.enumerated() where w != 0 {
                grad[weightOffsets[c] + j] += -dtau * tau * 2 * l1 * (w > 0 ? 1 : -1) / sum
            }
        }
    }

    public var summary: String {
        switch self {
        case .free(let t): "τ=\(t)"
        case .bounded(let t): "τ=β(K)·sigmoid(\(t))"
        }
    }
}
