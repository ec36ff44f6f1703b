/// Theorem 2 on images: an explicit step `u ← u − τ Σ_c K_cᵀ G_c K_c u` with diagonal
/// `0 ≤ G_c ≤ sup g` (channelwise or isotropic coupling, or EED's `M` with eigenvalues
/// ≤ sup g) satisfies `‖u^{k+1}‖₂ ≤ ‖u^k‖₂` whenever
///
///     τ ≤ 2 / (sup g · λ_max(Σ_c K_cᵀ K_c)).
public enum ImageStability {
    /// A certified upper bound of `λ_max(Σ_c K_cᵀ K_c) = ‖K‖₂²` for the stacked operator of
    /// `bank` on `height`×`width` images: never below the true value (rounding included).
    ///
    /// Computed from the operator's structure (`ImageOperatorNorm`): exact up to the 1D
    /// norm's 1e-8 relative tolerance when every filter acts along one axis (1×q or q×1
    /// after trimming zero rows/columns; a Kronecker sum when their offsets across the axis
    /// are 0, so `gradient_2d(h)` gives `(4cos²(π/2H) + 4cos²(π/2W))/h²`), and for a single
    /// separable filter `p qᵀ` (`‖P‖²‖Q‖²`); otherwise an upper bound: those parts plus, for
    /// the general filters, the smaller of Gershgorin's bound on the Gram's actual entries and
    /// Hölder's `‖K_G‖₁‖K_G‖_∞` (or that bound for the whole bank when smaller). Milliseconds for any image size with short filters (no image is touched).
    /// Throws for an empty bank, a non-positive size, or a bound that overflows a `Double`.
    public static func lambdaMax(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        try Stencil.checkNormLength(height)
        try Stencil.checkNormLength(width)
        let bound = try ImageOperatorNorm.largestEigenvalueBound(bank, height: height, width: width)
        guard bound.isFinite else {
            throw PDEBlocksError.invalidArgument("filter bank norm overflows double precision")
        }
        return bound
    }

    /// `2 / (sup g · λ_max)` with the certified `lambdaMax`, rounded down; `+∞` for a zero bank.
    public static func stableTau(
        _ bank: [Stencil2D], diffusivity: Diffusivity, height: Int, width: Int
    ) throws -> Double {
        let lambda = try lambdaMax(bank, height: height, width: width)
        guard lambda > 0 else { return .infinity }
        let tau = (2 / (diffusivity.supG * lambda)).nextDown
        guard tau.isFinite, tau > 0 else {
            throw PDEBlocksError.invalidArgument("the stability bound 2/(sup g·λ_max) = \(tau) is not representable")
        }
        return tau
    }
}
