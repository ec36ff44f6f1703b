/// A trainable 2D diffusion–reaction block (TNRD-like) on `H×W` images:
///
///     u_out = u − τ · ( Σ_c K_cᵀ Φ_c(K u) + μ (u − f) ),
///
/// with a bank of C learnable `Stencil2D` filters `K_c` (half-sample mirror boundaries),
/// `f` the block's data input (for the block alone a second input; in a network the
/// network input), and the coupling
/// - `.isotropic`: `Φ_c = g(Σ_d (K_d u)²) · K_c u` — one diffusivity for all channels;
/// - `.channelwise`: `Φ_c = g_c((K_c u)²) · K_c u` — one diffusivity per channel.
///
/// Each diffusivity is a `ChannelDiffusivity` (built-in kind with learned `ρ = log λ`, the
/// `LearnableDiffusivity` mixture, or the `RBFDiffusivity`), so `0 ≤ g ≤ sup g ≤ 1` for
/// every parameter value.
///
/// Parameters (flat vector, in this order; `ImageBlockGradients` differentiates them all):
/// 1. the raw weights of `K_1 … K_C` (row-major each). With `zeroMean` the filters used are
///    their projections `w − mean(w)` onto zero-sum stencils (as TNRD: `K_c 1 = 0`, so the
///    block ignores the image's mean); the gradient is projected the same way;
/// 2. the diffusivity parameters (`[ρ]`, none for linear, `[α_1…α_J, ρ_1…ρ_J]`, or
///    `[c_0…c_{J−1}, b, ρ]`), of the
///    single diffusivity (isotropic) or of channels 1 … C (channelwise);
/// 3. τ itself (free or bounded, see `StepMode`);
/// 4. with a reaction term only, `m` with `μ = softplus(m) = log(1 + eᵐ) > 0` (so μ ≥ 0
///    whatever training does; without a reaction term μ = 0 and f is unused).
///
/// Stability: the linear part `I − τ(Kᵀ G K + μ I)` (frozen `0 ≤ G ≤ sup g`) is
/// nonexpansive iff `0 ≤ τ ≤ 2/(sup g · λ_max(Σ_c K_cᵀK_c) + μ)`; `certifiedTauBound`
/// evaluates it with ImageOperatorNorm's certified `λ_max` (sup g: the largest over channels).
public struct DiffusionBlock2D: Sendable {
    /// How τ is held. `.free`: any finite τ. `.bounded`: the forward and backward passes
    /// refuse a τ outside `[0, certifiedTauBound(height:width:)]` for the images' size.
    public enum StepMode: Int32, Sendable, CaseIterable { case free = 0, bounded = 1 }

    /// The filters as given (raw parameters).
    public let rawFilters: [Stencil2D]
    /// The filters applied (`rawFilters`, projected to zero mean when `zeroMean`).
    public let filters: [Stencil2D]
    public let coupling: Coupling
    /// One diffusivity (isotropic) or one per filter (channelwise).
    public let diffusivities: [ChannelDiffusivity]
    public let zeroMean: Bool
    public let tau: Double
    public let stepMode: StepMode
    /// `m` with `μ = softplus(m)`; `nil`: no reaction term (μ = 0).
    public let muParameter: Double?
    /// The reaction weight μ.
    public let mu: Double

    /// The largest number of filters of one block.
    public static let maxFilters = 1024

    /// Throws for an empty or too large bank, a diffusivity count that does not match the
    /// coupling (1 for isotropic, C for channelwise), or a non-finite τ or m.
    public init(filters: [Stencil2D], coupling: Coupling, diffusivities: [ChannelDiffusivity], tau: Double,
                stepMode: StepMode = .free, muParameter: Double? = nil, zeroMean: Bool = false) throws {
        guard (1...Self.maxFilters).contains(filters.count) else {
            throw PDEBlocksError.invalidArgument("a 2D diffusion block needs 1...\(Self.maxFilters) filters, got \(filters.count)")
        }
        let expected = coupling == .isotropic ? 1 : filters.count
        guard diffusivities.count == expected else {
            throw PDEBlocksError.invalidArgument(
                "\(coupling.name) coupling with \(filters.count) filters needs \(expected) diffusivities, got \(diffusivities.count)")
        }
        try Check.finite(tau, "tau")
        if let m = muParameter { try Check.finite(m, "reaction parameter m") }
        rawFilters = filters
        self.filters = zeroMean ? try filters.map { try $0.zeroMeanProjection() } : filters
        (self.coupling, self.diffusivities, self.zeroMean) = (coupling, diffusivities, zeroMean)
        (self.tau, self.stepMode, self.muParameter) = (tau, stepMode, muParameter)
        mu = muParameter.map(Self.softplus) ?? 0
    }

    /// `log(1 + eᵐ)` without overflow.
    static func softplus(_ m: Double) -> Double { m > 0 ? m + log1p(exp(-m)) : log1p(exp(m)) }

    // MARK: Parameter layout

    var weightCount: Int { rawFilters.reduce(0) { $0 + $1.weights.count } }
    var diffusivityCount: Int { diffusivities.reduce(0) { $0 + $1.parameterCount } }
    var tauIndex: Int { weightCount + diffusivityCount }
    public var parameterCount: Int { tauIndex + 1 + (muParameter == nil ? 0 : 1) }

    /// The flat parameter vector (see the type's description).
    public var parameters: [Double] {
        var p = rawFilters.flatMap(\.weights)
        for g in diffusivities {
            var q = [Double](repeating: 0, count: g.parameterCount)
            q.withUnsafeMutableBufferPointer { g.parameters(into: $0) }
            p += q
        }
        p.append(tau)
        if let m = muParameter { p.append(m) }
        return p
    }

    /// The same block structure with new parameters (validated like `init`).
    public func setting(parameters p: [Double]) throws -> DiffusionBlock2D {
        guard p.count == parameterCount else {
            throw PDEBlocksError.invalidArgument("2D diffusion block has \(parameterCount) parameters, got \(p.count)")
        }
        var k = 0
        let K = try rawFilters.map { K in
            defer { k += K.weights.count }
            return try Stencil2D(weights: Array(p[k..<(k + K.weights.count)]), rows: K.rows, columns: K.columns,
                                 offsetY: K.offsetY, offsetX: K.offsetX)
        }
        let g = try diffusivities.map { g in
            defer { k += g.parameterCount }
            return try p.withUnsafeBufferPointer { try g.setting(UnsafeBufferPointer(rebasing: $0[k..<(k + g.parameterCount)])) }
        }
        return try DiffusionBlock2D(filters: K, coupling: coupling, diffusivities: g, tau: p[k], stepMode: stepMode,
                                    muParameter: muParameter == nil ? nil : p[k + 1], zeroMean: zeroMean)
    }

    // MARK: Stability

    /// `2/(sup g · λ_max(Σ_c K_cᵀK_c) + μ)` rounded down, with the certified `λ_max` of
    /// `ImageStability.lambdaMax` for `height`×`width` images (`+∞` when both terms vanish).
    public func certifiedTauBound(height: Int, width: Int) throws -> Double {
        let lambda = try ImageStability.lambdaMax(filters, height: height, width: width)
        let supG = diffusivities.map(\.supG).max() ?? 1
        let denominator = (supG * lambda).nextUp + mu
        return denominator > 0 ? (2 / denominator).nextDown : .infinity
    }

    /// Throws for a bounded step with τ outside `[0, certifiedTauBound]`.
    func checkStep(height: Int, width: Int) throws {
        guard stepMode == .bounded else { return }
        let bound = try certifiedTauBound(height: height, width: width)
        guard tau >= 0, tau <= bound else {
            throw PDEBlocksError.invalidArgument(
                "bounded tau = \(tau) is outside [0, \(bound)], the certified bound 2/(sup g·λ_max + μ) "
                    + "for \(height)×\(width) images")
        }
    }

    /// Throws unless every buffer holds `batch` images of `height`×`width` values and the
    /// first `finite` of them (the inputs) are finite.
    func checkImages(_ arrays: [(String, UnsafeBufferPointer<Double>)], batch: Int, height: Int, width: Int,
                     finite: Int) throws {
        try Check.positive(batch, "batch")
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let total = try Memory.count(batch, try Memory.count(height, width, for: "an image"), for: "a batch of images")
        for (k, (name, a)) in arrays.enumerated() {
            guard a.count == total else {
                throw PDEBlocksError.invalidArgument(
                    "\(name) has \(a.count) values, expected batch·height·width = \(batch)×\(height)×\(width)")
            }
            if k < finite { try Check.allFinite(a, name) }
        }
    }
}
