/// The diffusivity as a function of `s = Σ_c (K_c u)²` for the isotropic coupling of a
/// 2D diffusion block, where the flux of channel c is `Φ_c = g(s)·K_c u`, so its
/// derivative needs `g′(s)` and the parameter gradient needs `∂g(s)/∂θ` (not `∂Φ/∂θ`).
extension ChannelDiffusivity {
    /// `(g(s), 2g′(s))` at `s ≥ 0` (`g′` the derivative with respect to the argument).
    ///
    /// Built-in kinds: `2g′(s) = (Φ′(√s) − g(s))/s` (from `Φ′(σ) = g(σ²) + 2σ²g′(σ²)`), and 0
    /// at `s = 0` — where the block multiplies it by `K_c u = 0`; for small `s` the
    /// cancellation's absolute error times the block's factor `(K_c u)(Σ_d K_d u·p_d) = O(s)`
    /// stays at rounding level. Mixture: `2g′(s) = −Σ_j a_j e_j/λ_j²`, `e_j = exp(−s/(2λ_j²))`.
    /// RBF: `RBFDiffusivity.gAndSlope`.
    func gAndSlope(_ s: Double) -> (g: Double, slope: Double) {
        switch self {
        case .builtin(let d, _):
            let g = d.g(s)
            guard s > 0, d.kind != .linear else { return (g, 0) }
            return (g, (d.fluxDerivative(s.squareRoot()) - g) / s)
        case .learnable(let m):
            var g = 0.0, slope = 0.0
            for j in 0..<m.count {
                let c = m.halfInverseSquares[j], t = m.weights[j] * exp(-s * c)
                g += t
                slope -= 2 * c * t
            }
            return (g, slope)
        case .rbf(let r):
            return r.gAndSlope(s)
        }
    }

    /// Adds `scale·Σ_i w_i ∂g(s_i)/∂θ` (raw: mixture weights `a`, not logits; see
    /// `convertGradient`) to `grad`. Built-in: `∂g(s)/∂ρ = −2s g′(s) = g(s) − Φ′(√s)`
    /// (`ρ = log λ`; g depends on `s/λ²` only). Mixture: `∂g/∂a_j = e_j`,
    /// `∂g/∂ρ_j = a_j e_j s/λ_j²`. RBF: `RBFDiffusivity.accumulate` at `x = √s/λ`.
    func accumulateGGradient(
        _ s: UnsafeBufferPointer<Double>, _ w: UnsafeBufferPointer<Double>, scale: Double,
        into grad: UnsafeMutableBufferPointer<Double>
    ) {
        switch self {
        case .builtin(let d, _):
            guard d.kind != .linear else { return }
            var acc = 0.0
            for i in s.indices where s[i] > 0 { acc += w[i] * (d.g(s[i]) - d.fluxDerivative(s[i].squareRoot())) }
            grad[0] += scale * acc
        case .learnable(let m):
            let J = m.count
            for j in 0..<J {
                let c = m.halfInverseSquares[j]
                var ga = 0.0, gr = 0.0
                for i in s.indices {
                    let t = exp(-s[i] * c) * w[i]
                    ga += t
                    gr += t * 2 * c * s[i]
                }
                grad[j] += scale * ga
                grad[J + j] += scale * m.weights[j] * gr
            }
        case .rbf(let r):
            r.accumulate(s.count, magnitude: { s[$0].squareRoot() }, weight: { w[$0] }, scale: scale, into: grad)
        }
    }
}
