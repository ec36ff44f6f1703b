/// A learnable diffusivity from radial basis functions passed through a sigmoid:
///
///     x = |s|/λ,   λ = exp(ρ),
///     h(x) = b + Σ_{j=0..J−1} c_j · exp(−(x − x_j)²/(2γ²)),   x_j = 3j/(J−1),  γ = 3/(J−1),
///     g(s²) = σ(h(x)) = 1/(1 + e^{−h}),   flux Φ(s) = g(s²)·s,
///
/// for `J` in `2...64` (centres evenly spaced on `[0, 3]` in units of λ, widths the spacing).
/// Unlike the `LearnableDiffusivity` mixture g need not be monotone, so the flux Φ may be
/// nonmonotone (forward–backward diffusion, paper Sec. 2.5), yet every block keeps Theorem 2.
///
/// Parameters (the values in a network's flat parameter vector, in this order):
/// `c_0 … c_{J−1}`, `b`, `ρ` — `J + 2` values, all unconstrained.
///
/// Bounds, for every parameter value: `0 < g < 1` in exact arithmetic, and the computed g
/// lies in `[0, 1]` with nothing overflowing or NaN. For that the coefficients and the bias
/// act clamped to `[−parameterBound, parameterBound]` (`10^300`; a clamped value has
/// gradient 0), so `|h| ≤ 65·10^300` is finite; the sigmoid is evaluated as `1/(1 + e^{−|h|})`
/// (or its complement), and x is capped at `x_cap = 3 + 40γ`, beyond which every
/// `exp(−(x − x_j)²/(2γ²)) ≤ e^{−800}` is 0 in double precision anyway (so `|s|/λ = ∞`
/// cannot meet a zero Gaussian). Hence `sup g ≤ 1` and the step-size bound
/// `2/(sup g · λ_max + μ)` of Theorem 2 certifies a block whatever training does;
/// `supG` is the tighter `σ(b + Σ_j max(c_j, 0))` (h ≤ that, σ increasing), rounded up.
///
/// Derivatives (`g′ = g(1 − g)`, the sigmoid's slope, `h′ = dh/dx`):
///
///     dΦ/ds   = g + g(1 − g)·x h′(x)
///     ∂g/∂c_j = g(1 − g)·exp(−(x − x_j)²/(2γ²)),   ∂g/∂b = g(1 − g),   ∂g/∂ρ = −g(1 − g)·x h′(x)
///
/// At s = 0 h is smooth in x but x = |s| has a kink; Φ stays C¹ since `x h′(x) → 0`, and
/// every formula above is written with `x h′(x)` (no division by x). The isotropic coupling's
/// `2 dg/d(s²) = g(1 − g)·x h′(x)/s²` is 0 at s = 0 (where the block multiplies it by 0).
public struct RBFDiffusivity: Hashable, Sendable {
    /// The coefficients `c_j` as given.
    public let coefficients: [Double]
    /// The bias `b` as given.
    public let bias: Double
    /// `ρ = log λ`.
    public let logScale: Double
    /// `λ = exp(ρ)` (derived).
    public let scale: Double
    /// `1/λ`, the clamped `c_j` and `b`, `γ`, `1/(2γ²)`, `1/γ²`, `x_cap` (derived).
    @usableFromInline let inverseScale: Double
    @usableFromInline let c: [Double]
    @usableFromInline let b: Double
    @usableFromInline let gamma: Double, halfInverseGamma2: Double, inverseGamma2: Double, xCap: Double

    /// The fewest and most radial basis functions.
    public static let minTerms = 2, maxTerms = 64
    /// Coefficients and bias act clamped to `[−parameterBound, parameterBound]`.
    public static let parameterBound = 1e300

    /// From the parameters. Throws when `coefficients.count` is outside `2...64`, a value is
    /// not finite, or `λ = exp(ρ)` or `1/λ` leaves the positive normal range.
    public init(coefficients: [Double], bias: Double, logScale: Double) throws {
        let J = coefficients.count
        guard (Self.minTerms...Self.maxTerms).contains(J) else {
            throw PDEBlocksError.invalidArgument(
                "an RBF diffusivity needs \(Self.minTerms)...\(Self.maxTerms) basis functions, got \(J)")
        }
        for (j, v) in (coefficients + [bias]).enumerated() where !v.isFinite {
            throw PDEBlocksError.nonFinite("RBF diffusivity \(j < J ? "coefficient \(j)" : "bias") is not finite (\(v))")
        }
        let lambda = exp(logScale)
        guard logScale.isFinite, lambda.isNormal, (1 / lambda).isNormal else {
            throw PDEBlocksError.invalidArgument(
                "RBF diffusivity log-scale \(logScale) gives λ = \(lambda), outside the usable range")
        }
        let B = Self.parameterBound
        (self.coefficients, self.bias, self.logScale, scale, inverseScale) = (coefficients, bias, logScale, lambda, 1 / lambda)
        c = coefficients.map { min(max($0, -B), B) }
        b = min(max(bias, -B), B)
        gamma = 3 / Double(J - 1)
        (halfInverseGamma2, inverseGamma2) = (0.5 / (gamma * gamma), 1 / (gamma * gamma))
        xCap = 3 + 40 * gamma
    }

    /// Number of basis functions J.
    public var count: Int { coefficients.count }
    /// Number of parameters, `J + 2`.
    public var parameterCount: Int { coefficients.count + 2 }
    /// The centre `x_j = 3j/(J − 1)`.
    @inlinable func centre(_ j: Int) -> Double { Double(3 * j) / Double(c.count - 1) }

    /// `σ(b + Σ_j max(c_j, 0))` rounded up (at most 1): `h ≤ b + Σ_j max(c_j, 0)` as every
    /// Gaussian is at most 1. The slack `10^{−14}·(|b| + Σ|c_j|)` covers the rounding of
    /// the sums (here and in g), the factor `1 + 10^{−15}` that of the sigmoid.
    public var supG: Double {
        let top = c.reduce(b) { $0 + max($1, 0) }
        let slack = 1e-14 * c.reduce(abs(b)) { $0 + abs($1) }
        return min(1, Self.sigmoid(top + slack).g * (1 + 1e-15))
    }

    /// A bound on `sup|Φ′|`: `|Φ′| ≤ g + g(1 − g)|x h′(x)| ≤ 1 + ¼ Σ_j |c_j| (j e^{−1/2} + 2/e)`,
    /// since with `y = (x − x_j)/γ`, `x = γ(j + y)`: `|x (x − x_j)/γ²| e^{−y²/2} ≤ j|y|e^{−y²/2} + y²e^{−y²/2}`.
    public var lipschitz: Double {
        var s = 0.0
        for j in c.indices { s += abs(c[j]) * (Double(j) * exp(-0.5) + 2 * exp(-1.0)) }
        return (1 + 0.25 * s) * (1 + 1e-14)
    }

    /// `(σ(h), σ(h)(1 − σ(h)))` without overflow for every finite h.
    @inlinable static func sigmoid(_ h: Double) -> (g: Double, slope: Double) {
        let e = exp(-abs(h)), r = 1 / (1 + e)
        return (h >= 0 ? r : e * r, e * r * r)
    }

    /// `x = min(|s|/λ, x_cap)` for `|s|` given.
    @inlinable func argument(_ magnitude: Double) -> Double { min(magnitude * inverseScale, xCap) }

    /// `(g, g(1 − g), x h′(x))` at `x ∈ [0, x_cap]`; with `e` non-nil also writes the J
    /// Gaussians `e_j = exp(−(x − x_j)²/(2γ²))` there.
    @inlinable
    func evaluate(_ x: Double, gaussians e: UnsafeMutablePointer<Double>? = nil) -> (g: Double, slope: Double, xh: Double) {
        var h = b, dh = 0.0
        for j in c.indices {
            let d = x - centre(j), ej = exp(-d * d * halfInverseGamma2)
            e?[j] = ej
            h += c[j] * ej
            dh -= c[j] * ej * d
        }
        let (g, slope) = Self.sigmoid(h)
        return (g, slope, x * dh * inverseGamma2)
    }

    /// `g(s²)`.
    public func g(_ s2: Double) -> Double { evaluate(argument(s2.squareRoot())).g }

    /// `Φ′(s) = g + g(1 − g)·x h′(x)`.
    public func fluxDerivative(_ s: Double) -> Double {
        let v = evaluate(argument(abs(s)))
        return v.g + v.slope * v.xh
    }

    /// `(g(S), 2g′(S))` as a function of `S = s²` (isotropic coupling):
    /// `2g′(S) = g(1 − g)·x h′(x)/S`, 0 at S = 0.
    func gAndSlope(_ s2: Double) -> (g: Double, slope: Double) {
        let v = evaluate(argument(s2.squareRoot()))
        return (v.g, s2 > 0 ? v.slope * v.xh / s2 : 0)
    }

    /// `y_i ← scale·Φ(y_i)` in place.
    func applyFlux(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        for i in y.indices { y[i] = scale * evaluate(argument(abs(y[i]))).g * y[i] }
    }

    /// Adds `scale·Σ_i w_i ∂g(x_i)/∂θ` to `grad[0..<J+2]` (θ = c, b, ρ), where `x_i` is
    /// `argument(magnitude(i))` and `w_i = weight(i)`; `body(i, g, Φ′-part)` sees each sample's
    /// `(g, g(1 − g)·x h′(x))` (for the passes that also transform the samples).
    @inlinable
    func accumulate(
        _ n: Int, magnitude: (Int) -> Double, weight: (Int) -> Double, scale: Double,
        into grad: UnsafeMutableBufferPointer<Double>, body: (Int, Double, Double) -> Void = { _, _, _ in }
    ) {
        let J = c.count
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * J + 2) { t in
            guard let e = t.baseAddress else { return }
            let acc = e + J
            acc.initialize(repeating: 0, count: J + 2)
            for i in 0..<n {
                let v = evaluate(argument(magnitude(i)), gaussians: e)
                let ws = weight(i) * v.slope
                for j in 0..<J { acc[j] += ws * e[j] }
                acc[J] += ws
                acc[J + 1] -= ws * v.xh
                body(i, v.g, v.slope * v.xh)
            }
            for k in 0..<(J + 2) { grad[k] += scale * acc[k] }
        }
    }

    /// Zeroes the gradient of a coefficient or bias beyond `parameterBound` (clamped: g
    /// does not depend on it).
    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        for (k, v) in (coefficients + [bias]).enumerated() where abs(v) > Self.parameterBound { grad[k] = 0 }
    }
}
