/// A learnable diffusivity: a nonnegative mixture of exponential Perona–Malik terms
///
///     g(s²) = Σ_{j=1..J} a_j · exp(−s² / (2 λ_j²)),
///
/// so its flux `Φ(s) = g(s²)·s` (the activation `τΦ` of a diffusion block, paper Sec. 2.5)
/// is learned like a weight while every trained block keeps the guarantee of Theorem 2.
///
/// Parameterisation (the values in a network's flat parameter vector, in this order):
/// - logits `α_1 … α_J`, with `a_j = exp(ᾱ_j) / (1 + Σ_k exp(ᾱ_k))` — a softmax with an
///   extra zero logit — of the logits clamped to `ᾱ_j = min(max(α_j, −B), B)`,
///   `B = logitBound = 25`. In exact arithmetic the softmax alone gives `a_j > 0`,
///   `Σ_j a_j < 1`; in float64 it does not for large |α| (α = (800, −800) gave a = (1, 0)).
///   With the clamp, `a_j ≥ e^{−B}/(1 + J e^B) > 10^{−24}` and
///   `1 − Σ_j a_j ≥ 1/(1 + J e^B) > 10^{−13}`, far above rounding, so the computed weights
///   satisfy `a_j > 0` and `Σ_j a_j < 1` strictly for *every* real α. A clamped logit has
///   derivative 0 (the weights do not change with it); every gradient stays finite;
/// - log-contrasts `ρ_1 … ρ_J`, with `λ_j = exp(ρ_j) > 0`.
///
/// Consequences, for every parameter value: g is smooth, positive, nonincreasing in s²,
/// `sup g = g(0) = Σ_j a_j < 1`, and the flux's Lipschitz constant `sup|Φ′| = Φ′(0) = Σ_j a_j`
/// (each term's `|e^{−x²/2}(1 − x²)|` is at most 1, attained at x = 0). Hence a step size
/// `τ ≤ 2/‖K‖₂²` is stable whatever the training does to α and ρ.
public struct LearnableDiffusivity: Hashable, Sendable {
    /// The logits `α_j` (unconstrained).
    public let logits: [Double]
    /// The log-contrasts `ρ_j = log λ_j` (unconstrained).
    public let logContrasts: [Double]
    /// The mixture weights `a_j` (derived; positive, summing to less than 1).
    public let weights: [Double]
    /// The contrasts `λ_j` (derived; positive).
    public let contrasts: [Double]
    /// `1/(2λ_j²)` (derived).
    @usableFromInline let halfInverseSquares: [Double]

    /// The largest number of mixture terms.
    public static let maxTerms = 64
    /// Logits act clamped to `[−logitBound, logitBound]` (see the type's description).
    public static let logitBound = 25.0

    /// From unconstrained parameters. Throws when the counts differ or are out of
    /// `1...maxTerms`, a value is not finite, or `exp(ρ_j)` leaves the positive normal range.
    public init(logits: [Double], logContrasts: [Double]) throws {
        guard (1...Self.maxTerms).contains(logits.count) else {
            throw PDEBlocksError.invalidArgument(
                "a learnable diffusivity needs 1...\(Self.maxTerms) terms, got \(logits.count)")
        }
        guard logContrasts.count == logits.count else {
            throw PDEBlocksError.invalidArgument(
                "learnable diffusivity: \(logits.count) logits but \(logContrasts.count) log-contrasts")
        }
        for (j, v) in logits.enumerated() where !v.isFinite {
            throw PDEBlocksError.nonFinite("learnable diffusivity logit \(j) is not finite (\(v))")
        }
        var contrasts = [Double](), halves = [Double]()
        for (j, r) in logContrasts.enumerated() {
            let lambda = exp(r)
            guard r.isFinite, lambda.isNormal, (1 / (lambda * lambda)).isNormal else {
                throw PDEBlocksError.invalidArgument(
                    "learnable diffusivity log-contrast \(j) = \(r) gives λ = \(lambda), outside the usable range")
            }
            contrasts.append(lambda)
            halves.append(0.5 / (lambda * lambda))
        }
        // a_j = exp(ᾱ_j − m) / (exp(−m) + Σ exp(ᾱ_k − m)), m = max(0, max ᾱ) ≤ B.
        let B = Self.logitBound
        let clamped = logits.map { min(max($0, -B), B) }
        let m = max(0, clamped.max() ?? 0)
        let e = clamped.map { exp($0 - m) }
        let denominator = exp(-m) + e.reduce(0, +)
        self.logits = logits
        self.logContrasts = logContrasts
        self.weights = e.map { $0 / denominator }
        self.contrasts = contrasts
        self.halfInverseSquares = halves
    }

    /// From mixture weights and contrasts: requires `a_j > 0`, `Σ a_j < 1`, `λ_j > 0`.
    public init(weights: [Double], contrasts: [Double]) throws {
        guard weights.count == contrasts.count else {
            throw PDEBlocksError.invalidArgument(
                "learnable diffusivity: \(weights.count) weights but \(contrasts.count) contrasts")
        }
        for (j, a) in weights.enumerated() where !(a.isFinite && a > 0) {
            throw PDEBlocksError.invalidArgument("learnable diffusivity weight \(j) must be positive and finite, got \(a)")
        }
        let total = weights.reduce(0, +)
        guard total < 1 else {
            throw PDEBlocksError.invalidArgument(
                "learnable diffusivity weights must sum to less than 1 (so that sup g < 1), got \(total)")
        }
        for (j, l) in contrasts.enumerated() { try Check.positiveFinite(l, "contrast \(j)") }
        let rest = 1 - total
        let logits = weights.map { log($0 / rest) }
        for (j, a) in logits.enumerated() where abs(a) > Self.logitBound {
            throw PDEBlocksError.invalidArgument(
                "learnable diffusivity weight \(j) = \(weights[j]) needs the logit log(a_j/(1 − Σa)) = \(a), outside "
                    + "[−\(Self.logitBound), \(Self.logitBound)] (weights between about 1e-11 and 1 − 1e-11 of each other)")
        }
        try self.init(logits: logits, logContrasts: contrasts.map { log($0) })
    }

    /// Number of terms J.
    public var count: Int { logits.count }
    /// Number of parameters, `2J`.
    public var parameterCount: Int { 2 * logits.count }
    /// `sup g = g(0) = Σ a_j` (< 1).
    public var supG: Double { weights.reduce(0, +) }
    /// `sup |Φ′| = Φ′(0) = Σ a_j`.
    public var lipschitz: Double { supG }

    /// `g(s²)`.
    public func g(_ s2: Double) -> Double {
        var s = 0.0
        for j in 0..<count { s += weights[j] * exp(-s2 * halfInverseSquares[j]) }
        return s
    }

    /// `(g(s²), Φ′(s))` with `Φ′(s) = Σ a_j e_j (1 − s²/λ_j²)`.
    @inlinable
    func gAndFluxDerivative(_ s: Double) -> (g: Double, dphi: Double) {
        let s2 = s * s
        var g = 0.0, d = 0.0
        for j in 0..<halfInverseSquares.count {
            let c = halfInverseSquares[j]
            let t = weights[j] * exp(-s2 * c)
            g += t
            d += t * (1 - 2 * c * s2)
        }
        return (g, d)
    }

    /// Adds `Σ_i p_i ∂Φ(s_i)/∂a_j` to `grad[j]` and `Σ_i p_i ∂Φ(s_i)/∂ρ_j` to `grad[J + j]`,
    /// all scaled by `scale` — the gradient with respect to the *mixture weights* `a` (not
    /// yet the logits; see `convertGradient`) and the log-contrasts ρ.
    /// `∂Φ/∂a_j = s e_j`, `∂Φ/∂ρ_j = a_j e_j s · s²/λ_j²`, `e_j = exp(−s²/(2λ_j²))`.
    func accumulateGradient(
        _ s: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>, scale: Double,
        into grad: UnsafeMutableBufferPointer<Double>
    ) {
        let J = count
        for j in 0..<J {
            let c = halfInverseSquares[j]
            var ga = 0.0, gr = 0.0
            for i in s.indices {
                let si = s[i], s2 = si * si
                let t = exp(-s2 * c) * si * p[i]
                ga += t
                gr += t * 2 * c * s2
            }
            grad[j] += scale * ga
            grad[J + j] += scale * weights[j] * gr
        }
    }

    /// Turns a gradient with respect to the weights `a` (first J entries) into one with
    /// respect to the logits α, in place: `∂L/∂α_k = a_k (∂L/∂a_k − Σ_j a_j ∂L/∂a_j)`,
    /// and 0 for a logit outside `[−logitBound, logitBound]` (clamped: `a` does not depend on it).
    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        var dot = 0.0
        for j in 0..<count { dot += weights[j] * grad[j] }
        for j in 0..<count {
            grad[j] = abs(logits[j]) <= Self.logitBound ? weights[j] * (grad[j] - dot) : 0
        }
    }
}
