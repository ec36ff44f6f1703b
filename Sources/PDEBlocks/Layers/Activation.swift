/// `tanh` from the C library (inside `Activation`, `tanh` names the case).
@usableFromInline
func hyperbolicTangent(_ x: Double) -> Double { tanh(x) }

/// Kinds of activation; raw values are the C ABI's `PDB_ACTIVATION_*` constants.
public enum ActivationKind: Int32, CaseIterable, Sendable {
    case identity = 0
    case relu = 1
    case tanh = 2
    /// `τΦ(s)` for a diffusivity (Theorem 1: the inner activation of a diffusion block).
    case flux = 3

    public var name: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .tanh: "tanh"
        case .flux: "flux"
        }
    }
}

/// An activation σ of a residual block (paper eq. 2), with its derivative.
///
/// `.flux(g, tau:)` is `σ(s) = τ·Φ(s) = τ·g(s²)·s`, the activation of Theorem 1; it is
/// antisymmetric and, for Perona–Malik–type g, nonmonotone (Sec. 2.5). Its diffusivity's
/// parameters (`log λ`, or a mixture's `α, ρ`) are learned; τ is fixed. The ReLU's
/// derivative at 0 is taken as 0.
public enum Activation: Hashable, Sendable {
    case identity
    case relu
    case tanh
    case flux(ChannelDiffusivity, tau: Double)

    public var kind: ActivationKind {
        switch self {
        case .identity: .identity
        case .relu: .relu
        case .tanh: .tanh
        case .flux: .flux
        }
    }

    /// `τΦ` with a built-in diffusivity. Throws when τ is not finite.
    public static func flux(_ diffusivity: Diffusivity, tau: Double) throws -> Activation {
        try Check.finite(tau, "activation tau")
        return .flux(try ChannelDiffusivity(diffusivity), tau: tau)
    }

    /// Number of learned parameters (those of a flux activation's diffusivity).
    public var parameterCount: Int {
        if case .flux(let g, _) = self { return g.parameterCount }
        return 0
    }

    func parameters(into p: UnsafeMutableBufferPointer<Double>) {
        if case .flux(let g, _) = self { g.parameters(into: p) }
    }

    func setting(_ p: UnsafeBufferPointer<Double>) throws -> Activation {
        if case .flux(let g, let tau) = self { return .flux(try g.setting(p), tau: tau) }
        return self
    }

    /// `σ(s)`.
    @inlinable
    public func value(_ s: Double) -> Double {
        switch self {
        case .identity: s
        case .relu: s > 0 ? s : 0
        case .tanh: hyperbolicTangent(s)
        case .flux(let g, let tau): tau * g.flux(s)
        }
    }

    /// `σ′(s)`.
    @inlinable
    public func derivative(_ s: Double) -> Double {
        switch self {
        case .identity: return 1
        case .relu: return s > 0 ? 1 : 0
        case .tanh:
            let t = hyperbolicTangent(s)
            return 1 - t * t
        case .flux(let g, let tau): return tau * g.fluxDerivative(s)
        }
    }

    /// `out[i] = σ(s[i])` (`out` may alias `s`).
    func apply(_ s: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .identity: if s.baseAddress != UnsafePointer(out.baseAddress) { _ = out.update(fromContentsOf: s) }
        default: for i in s.indices { out[i] = value(s[i]) }
        }
    }

    /// `p[i] *= σ′(s[i])` — the backward pass through σ.
    func multiplyDerivative(_ s: UnsafeBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .identity: return
        default: for i in s.indices { p[i] *= derivative(s[i]) }
        }
    }

    /// Adds `Σ_i p_i ∂σ(s_i)/∂θ` (θ = the activation's parameters) to `grad`.
    func accumulateGradient(
        _ s: UnsafeBufferPointer<Double>, _ p: UnsafeBufferPointer<Double>,
        into grad: UnsafeMutableBufferPointer<Double>
    ) {
        if case .flux(let g, let tau) = self { g.accumulateGradient(s, p, scale: tau, into: grad) }
    }

    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        if case .flux(let g, _) = self { g.convertGradient(grad) }
    }

    public var summary: String {
        switch self {
        case .flux(let g, let tau): "\(tau)·Φ[\(g.summary)]"
        default: kind.name
        }
    }
}
