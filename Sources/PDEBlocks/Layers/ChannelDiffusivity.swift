/// The diffusivity of one channel of a layer: either a built-in kind whose contrast λ is
/// learned (parameter `ρ = log λ`; `.linear` has no parameter), a `LearnableDiffusivity`
/// mixture (parameters `α_1…α_J, ρ_1…ρ_J`), or an `RBFDiffusivity` (parameters
/// `c_0…c_{J−1}, b, ρ`). It supplies the flux `Φ(s) = g(s²)·s` that a
/// diffusion block applies as its activation `τΦ` (paper Theorem 1, Sec. 2.5), its
/// derivative, and the gradients with respect to its own parameters.
///
/// Every variant keeps g within `[0, sup g]` with `sup g ≤ 1` for all parameter values,
/// so the step-size bound of Theorem 2 holds throughout training.
public enum ChannelDiffusivity: Hashable, Sendable {
    /// A built-in diffusivity; `logLambda = log λ` is the learned parameter (except `.linear`).
    case builtin(Diffusivity, logLambda: Double)
    /// A learnable mixture of exponential Perona–Malik terms.
    case learnable(LearnableDiffusivity)
    /// Radial basis functions through a sigmoid (g need not be monotone).
    case rbf(RBFDiffusivity)

    /// A built-in kind with contrast λ (stored as `log λ`; the λ used is `exp(log λ)`).
    public init(_ diffusivity: Diffusivity) throws {
        try self.init(kind: diffusivity.kind, logLambda: log(diffusivity.lambda))
    }

    /// A built-in kind with parameter `log λ`. Throws when `exp(logLambda)` is not a usable λ.
    public init(kind: DiffusivityKind, logLambda: Double) throws {
        let lambda = exp(logLambda)
        guard logLambda.isFinite, lambda.isNormal, (1 / (lambda * lambda)).isNormal else {
            throw PDEBlocksError.invalidArgument(
                "log-contrast \(logLambda) of a \(kind.name) diffusivity gives λ = \(lambda), outside the usable range")
        }
        self = .builtin(try Diffusivity(kind, lambda: lambda), logLambda: logLambda)
    }

    public var parameterCount: Int {
        switch self {
        case .builtin(let d, _): d.kind == .linear ? 0 : 1
        case .learnable(let m): m.parameterCount
        case .rbf(let r): r.parameterCount
        }
    }

    /// Writes the parameters (`[log λ]`, `[α…, ρ…]` or `[c…, b, ρ]`).
    func parameters(into p: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .builtin(let d, let r): if d.kind != .linear { p[0] = r }
        case .learnable(let m):
            for j in 0..<m.count {
                p[j] = m.logits[j]
                p[m.count + j] = m.logContrasts[j]
            }
        case .rbf(let r):
            for j in 0..<r.count { p[j] = r.coefficients[j] }
            (p[r.count], p[r.count + 1]) = (r.bias, r.logScale)
        }
    }

    /// The same diffusivity with new parameters (validated).
    func setting(_ p: UnsafeBufferPointer<Double>) throws -> ChannelDiffusivity {
        switch self {
        case .builtin(let d, let r):
            return d.kind == .linear ? .builtin(d, logLambda: r) : try ChannelDiffusivity(kind: d.kind, logLambda: p[0])
        case .learnable(let m):
            return .learnable(try LearnableDiffusivity(
                logits: Array(p[0..<m.count]), logContrasts: Array(p[m.count..<(2 * m.count)])))
        case .rbf(let r):
            return .rbf(try RBFDiffusivity(coefficients: Array(p[0..<r.count]), bias: p[r.count], logScale: p[r.count + 1]))
        }
    }

    /// `sup g` (1 for built-in kinds, `Σ a_j` for a mixture, a certified bound ≤ 1 for RBF).
    public var supG: Double {
        switch self {
        case .builtin(let d, _): d.supG
        case .learnable(let m): m.supG
        case .rbf(let r): r.supG
        }
    }

    /// The Lipschitz constant of Φ.
    public var lipschitz: Double {
        switch self {
        case .builtin(let d, _): d.lipschitz
        case .learnable(let m): m.lipschitz
        case .rbf(let r): r.lipschitz
        }
    }

    /// Whether g ≡ 1 (the linear case, where FSI and fixed-point cycles have exact stability results).
    public var isLinear: Bool {
        if case .builtin(let d, _) = self { return d.kind == .linear }
        return false
    }

    /// `g(s²)`.
    public func g(_ s2: Double) -> Double {
        switch self {
        case .builtin(let d, _): d.g(s2)
        case .learnable(let m): m.g(s2)
        case .rbf(let r): r.g(s2)
        }
    }

    /// `Φ(s) = g(s²)·s`.
    public func flux(_ s: Double) -> Double { g(s * s) * s }

    /// `Φ′(s)`.
    public func fluxDerivative(_ s: Double) -> Double {
        switch self {
        case .builtin(let d, _): d.fluxDerivative(s)
        case .learnable(let m): m.gAndFluxDerivative(s).dphi
        case .rbf(let r): r.fluxDerivative(s)
        }
    }

    /// `y_i ← scale·Φ(y_i)` in place (the activation `τΦ` of a diffusion block): built-in
    /// kinds through `Diffusivity.applyFlux` (the schemes' kernel), mixtures eight samples
    /// at a time with `VectorExp`.
    func applyFlux(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        guard let base = y.baseAddress else { return }
        let n = y.count
        var i = 0
        switch self {
        case .builtin(let d, _): d.applyFlux(y, scale: scale)
        case .rbf(let r): r.applyFlux(y, scale: scale)
        case .learnable(let m):
            let J = m.count
            m.weights.withUnsafeBufferPointer { a in
                m.halfInverseSquares.withUnsafeBufferPointer { c in
                    // two vectors per step: independent exp chains for the out-of-order core
                    while i + 16 <= n {
                        let v = load8(base, i), s2 = v * v, v1 = load8(base, i + 8), t2 = v1 * v1
                        var g = VectorExp.V(repeating: 0), h = VectorExp.V(repeating: 0)
                        for j in 0..<J {
                            g += a[j] * VectorExp.exp8(s2 * -c[j])
                            h += a[j] * VectorExp.exp8(t2 * -c[j])
                        }
                        store8(scale * g * v, base, i)
                        store8(scale * h * v1, base, i + 8)
                        i += 16
                    }
                    while i + 8 <= n {
                        let v = load8(base, i), s2 = v * v
                        var g = VectorExp.V(repeating: 0)
                        for j in 0..<J { g += a[j] * VectorExp.exp8(s2 * -c[j]) }
                        store8(scale * g * v, base, i)
                        i += 8
                    }
                }
            }
            while i < n {
                let s = base[i], s2 = s * s
                var g = 0.0
                for j in 0..<J { g += m.weights[j] * exp(-s2 * m.halfInverseSquares[j]) }
                base[i] = scale * g * s
                i += 1
            }
        }
    }

    /// The backward pass through the flux for one channel, in one sweep over the samples.
    /// On entry `y_i` is the flux argument and `p_i` the adjoint `(K v)_i`; on exit
    /// `y_i = Φ(y_i) = g(y_i²)·y_i` and `p_i = Φ′(y_i)·p_i`. Adds `scale·Σ_i p_i ∂Φ(y_i)/∂θ`
    /// (raw; see `convertGradient`) to `grad` and returns `Σ_i p_i Φ(y_i)`. A built-in kind
    /// runs its `DiffusivityFormula.backward` (`∂Φ/∂ρ = λ ∂Φ/∂λ = s·(g(s²) − Φ′(s))`).
    /// `work` holds 2n values (used by mixtures only).
    func backwardPass(
        _ y: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>, scale: Double,
        grad: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let n = y.count
        var dot = 0.0
        switch self {
        case .builtin(let d, _):
            // The kind's formulas, specialised (`DiffusivityFormula.backward`).
            let (dRho, dot) = d.withFormula(BackwardSweep(y: y, p: p, inverseLambda2: d.inverseLambda2))
            if d.kind != .linear { grad[0] += scale * dRho }
            return dot
        case .rbf(let r):
            // ∂Φ/∂θ = s·∂g/∂θ; then y ← g·y, p ← (g + g(1 − g)·x h′)·p.
            r.accumulate(n, magnitude: { abs(y[$0]) }, weight: { p[$0] * y[$0] }, scale: scale, into: grad) { i, g, t in
                let z = g * y[i]
                dot += p[i] * z
                y[i] = z
                p[i] *= g + t
            }
            return dot
        case .learnable(let m):
            let J = m.count
            let gs = UnsafeMutableBufferPointer(rebasing: work[0..<n])
            let ds = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
            gs.update(repeating: 0)
            ds.update(repeating: 0)
            guard let yb = y.baseAddress, let pb = p.baseAddress, let gb = gs.baseAddress, let db = ds.baseAddress else { return 0 }
            for j in 0..<J {
                let c = m.halfInverseSquares[j], a = m.weights[j]
                var gaV = VectorExp.V(repeating: 0), grV = VectorExp.V(repeating: 0)
                var i = 0
                while i + 8 <= n {
                    let s = load8(yb, i), s2 = s * s
                    let e = VectorExp.exp8(s2 * -c)
                    let t = a * e
                    store8(load8(gb, i) + t, gb, i)
                    store8(load8(db, i) + t * (1 - 2 * c * s2), db, i)
                    let sp = e * s * load8(pb, i)
                    gaV += sp
                    grV += sp * s2
                    i += 8
                }
                var ga = gaV.sum(), gr = 2 * c * grV.sum()
                while i < n {
                    let s = y[i], s2 = s * s
                    let e = exp(-s2 * c)
                    let t = a * e
                    gs[i] += t
                    ds[i] += t * (1 - 2 * c * s2)
                    let sp = e * s * p[i]
                    ga += sp
                    gr += sp * 2 * c * s2
                    i += 1
                }
                grad[j] += scale * ga
                grad[J + j] += scale * a * gr
            }
            for i in 0..<n {
                let z = gs[i] * y[i]
                dot += p[i] * z
                y[i] = z
                p[i] *= ds[i]
            }
            return dot
        }
    }

    /// Maps an accumulated gradient to the parameterisation (mixture: weights → logits;
    /// RBF: 0 for a clamped coefficient or bias).
    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .builtin: break
        case .learnable(let m): m.convertGradient(grad)
        case .rbf(let r): r.convertGradient(grad)
        }
    }

    /// A short description, e.g. `perona_malik(λ=0.1)` or `learnable(a=[…], λ=[…])`.
    public var summary: String {
        switch self {
        case .builtin(let d, _): d.kind == .linear ? "linear" : "\(d.kind.name)(λ=\(d.lambda))"
        case .learnable(let m): "learnable(a=\(m.weights), λ=\(m.contrasts))"
        case .rbf(let r): "rbf(c=\(r.coefficients), b=\(r.bias), λ=\(r.scale))"
        }
    }
}

extension ChannelDiffusivity {
    /// `accumulateGradient` without precomputed `g`/`Φ′` (evaluates them per sample).
    func accumulateGradient(
        _ s: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>, scale: Double,
        into grad: UnsafeMutableBufferPointer<Double>
    ) {
        switch self {
        case .builtin(let d, _):
            guard d.kind != .linear else { return }
            var acc = 0.0
            for i in s.indices { acc += p[i] * s[i] * (d.g(s[i] * s[i]) - d.fluxDerivative(s[i])) }
            grad[0] += scale * acc
        case .learnable(let m):
            m.accumulateGradient(s, p, scale: scale, into: grad)
        case .rbf(let r):
            r.accumulate(s.count, magnitude: { abs(s[$0]) }, weight: { p[$0] * s[$0] }, scale: scale, into: grad)
        }
    }
}
