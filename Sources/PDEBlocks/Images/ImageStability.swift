/// Theorem 2 on images: an explicit step `u ← u − τ Σ_c K_cᵀ G_c K_c u` with diagonal
/// `0 ≤ G_c ≤ sup g` (channelwise or isotropic coupling, or EED's `M` with eigenvalues
/// ≤ sup g) satisfies `‖u^{k+1}‖₂ ≤ ‖u^k‖₂` whenever
///
///     τ ≤ 2 / (sup g · λ_max(Σ_c K_cᵀ K_c)).
public enum ImageStability {
    /// A certified upper bound of `λ_max(Σ_c K_cᵀ K_c) = ‖K‖₂²` for the stacked operator of
    /// `bank` on `height`×`width` images: never below the true value.
    ///
    /// Current bound: Hölder's `‖K‖₂² ≤ ‖K‖₁·‖K‖_∞`, with the row and column sums of `|K|`
    /// bounded entrywise by the stencils of `|w|` (mirror folding only merges weights, so
    /// `|K| ≤ K_{|w|}` entrywise), rounded up. Exact in the limit for `gradient_2d` (8),
    /// loose otherwise.
    public static func lambdaMax(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let n = height * width
        try Memory.reserve(2 * n, for: "the row and column sums of a \(height)×\(width) filter bank")
        let ones = [Double](repeating: 1, count: n)
        var column = [Double](repeating: 0, count: n)
        var row = [Double](repeating: 0, count: n)
        var rowMax = 0.0
        for k in bank {
            let abs = try Stencil2D(weights: k.weights.map(\.magnitude), rows: k.rows, columns: k.columns,
                                    offsetY: k.offsetY, offsetX: k.offsetX)
            ones.withUnsafeBufferPointer { o in
                row.withUnsafeMutableBufferPointer { abs.apply(o, height: height, width: width, into: $0) }
                column.withUnsafeMutableBufferPointer { c in
                    abs.accumulateTransposed(o, height: height, width: width, into: c, base: UnsafeBufferPointer(c))
                }
            }
            rowMax = max(rowMax, row.max() ?? 0)
        }
        let columnMax = column.max() ?? 0
        let bound = rowMax * columnMax
        guard bound.isFinite else {
            throw PDEBlocksError.invalidArgument("filter bank norm overflows double precision")
        }
        return bound == 0 ? 0 : (bound * (1 + 1e-12)).nextUp
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
