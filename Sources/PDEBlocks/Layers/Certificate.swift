/// What Theorem 2 (Euclidean stability) says about one block on signals of length n.
///
/// `certified` means: for every input x, `‖block(x)‖₂ ≤ ‖x‖₂`. `tau` is the block's step
/// size (NaN when it has none), `tauBound` the certified largest τ for which the guarantee
/// holds with the sharp constant `sup g` (`2/λ_max(Σ_c sup g_c K_cᵀK_c)`, which for one
/// filter is Theorem 2's `2/(sup g·‖K‖₂²)`), `tauBoundLipschitz` the same with the flux's
/// Lipschitz constant as the paper states it (NaN when no bound applies). `reason` names
/// the result or every failing condition.
public struct BlockCertificate: Sendable, Equatable {
    public let kind: BlockKind
    public let certified: Bool
    public let tau: Double
    public let tauBound: Double
    public let tauBoundLipschitz: Double
    public let reason: String

    public init(kind: BlockKind, certified: Bool, tau: Double, tauBound: Double, tauBoundLipschitz: Double, reason: String) {
        self.kind = kind
        self.certified = certified
        self.tau = tau
        self.tauBound = tauBound
        self.tauBoundLipschitz = tauBoundLipschitz
        self.reason = reason
    }
}

/// A network is certified iff every block is; then `‖network(x)‖₂ ≤ ‖x‖₂` for every x.
public struct NetworkCertificate: Sendable, Equatable {
    public let n: Int
    public let blocks: [BlockCertificate]
    public var certified: Bool { blocks.allSatisfy(\.certified) }
    /// Index of the first uncertified block, or nil.
    public var firstFailure: Int? { blocks.firstIndex { !$0.certified } }
}

/// The step-size bounds of Theorem 2 for `u − τ Σ_c K_cᵀ G_c K_c u` (G_c ≤ sup g_c).
struct TheoremTwoBounds {
    let supG: Double
    let lipschitz: Double

    init(filters: [Stencil], diffusivities: [ChannelDiffusivity], n: Int) throws {
        let sup = diffusivities.map(\.supG), lip = diffusivities.map(\.lipschitz)
        let a = try StackedOperatorNorm.scaledLargestEigenvalueBound(filters: filters, weights: sup, n: n)
        let b = lip == sup ? a : try StackedOperatorNorm.scaledLargestEigenvalueBound(filters: filters, weights: lip, n: n)
        // Rounded down from the scaled λ_max; a bound that is not representable (filter
        // weights near 1e155 or 1e-155) is an error naming the weights, never a silent 0 or ∞.
        let largest = filters.map(\.largestWeightMagnitude).max() ?? 0
        let what = "the filter weights (largest |w| = \(largest))"
        supG = try stepSizeBound(2, over: a, name: "the stability bound 2/λ_max(Σ_c sup g_c K_cᵀK_c)", what: what)
        lipschitz = try stepSizeBound(2, over: b, name: "the stability bound 2/λ_max(Σ_c L_c K_cᵀK_c)", what: what)
    }
}
