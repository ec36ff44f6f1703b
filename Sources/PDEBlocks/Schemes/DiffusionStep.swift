/// One evaluation of the diffusion block of Theorem 1 (paper eq. 4):
///
///     out = base − τ·Kᵀ Φ(K x)
///
/// With `base = x` this is an explicit step; with `base = u^k` it is a fixed-point
/// sweep of the implicit scheme (eq. 9). Owns the one work array it needs, so a
/// scheme allocates once per call, never per step.
public struct DiffusionStep: Sendable {
    public let stencil: Stencil
    public let diffusivity: Diffusivity

    public init(stencil: Stencil, diffusivity: Diffusivity) {
        self.stencil = stencil
        self.diffusivity = diffusivity
    }

    /// `out = base − tau·Kᵀ Φ(K x)` for one signal. `work` has the signal's length;
    /// `out` may alias `base` but not `x` or `work`.
    @inlinable
    public func apply(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>
    ) {
        stencil.apply(x, into: work)
        diffusivity.applyFlux(work, scale: -tau)
        // out = base + Kᵀ(work): transpose into `x`-sized temp is avoided by accumulating.
        stencil.accumulateTransposed(UnsafeBufferPointer(work), into: out, base: base)
    }
}

extension Diffusivity {
    /// `y_i ← scale·Φ(y_i)` in place (the activation σ₁ = τΦ of Theorem 1 with scale = τ).
    @inlinable
    public func applyFlux(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        switch kind {
        case .linear:
            for i in y.indices { y[i] *= scale }
        default:
            for i in y.indices { y[i] = scale * flux(y[i]) }
        }
    }
}

