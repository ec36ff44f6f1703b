/// A block of the generic two-level U-net (`TwoLevelUNet`): a map from signals of one
/// length to signals of the same length, built from this library's blocks.
public enum UNetBlock: Sendable, Equatable {
    /// `u ↦ K u`: a linear convolution with mirrored boundaries.
    case stencil(Stencil)
    /// `u ↦ u − τ Kᵀ Φ(K u)`: a diffusion block (paper Theorem 1; one explicit step,
    /// eq. 4). No stability check here: a U-net is a free composition.
    case diffusion(Stencil, Diffusivity, tau: Double)

    /// Throws for a non-finite or negative τ.
    func validate() throws {
        if case .diffusion(_, _, let tau) = self {
            guard tau.isFinite, tau >= 0 else {
                throw PDEBlocksError.invalidArgument("diffusion block tau must be finite and nonnegative, got \(tau)")
            }
        }
    }

    /// `out = block(u)`; `out` must not overlap `u`; `work` has `u`'s length.
    func apply(_ u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>) {
        switch self {
        case .stencil(let K):
            K.apply(u, into: out)
        case .diffusion(let K, let g, let tau):
            DiffusionStep(stencil: K, diffusivity: g).apply(u, base: u, tau: tau, into: out, work: work)
        }
    }
}
