/// A diffusion block with C filters (paper eq. 4 for C = 1, Theorem 1):
///
///     out = x − τ Σ_c K_cᵀ Φ_c(K_c x),     Φ_c(s) = g_c(s²)·s,
///
/// a residual block with `W1 = [K_1; …; K_C]`, `W2 = −W1ᵀ`, `σ1 = τΦ_c` per channel,
/// `σ2 = Id` and no biases. Each filter has its own diffusivity (built-in with learned λ,
/// or a `LearnableDiffusivity`).
///
/// Flat parameters, in order: the weights of `K_1 … K_C` (offsets are fixed), the
/// diffusivity parameters of channels 1 … C, then the step-size parameter (τ itself, or θ
/// for `StepSize.bounded`). Stability: see `certificate(n:)`.
public struct DiffusionBlock: NetworkBlock {
    public let filters: [Stencil]
    public let diffusivities: [ChannelDiffusivity]
    public let step: StepSize
    /// The effective step size τ.
    public let tau: Double

    let weightOffsets: [Int]
    let diffusivityOffsets: [Int]
    let tauIndex: Int

    /// The largest number of filters of one block.
    public static let maxFilters = 1024

    /// Throws when the counts differ or exceed `maxFilters`, or the step size is not finite.
    /// An empty block (no filters yet) is allowed here but refused by `validate()`.
    public init(filters: [Stencil], diffusivities: [ChannelDiffusivity], step: StepSize) throws {
        guard filters.count == diffusivities.count else {
            throw PDEBlocksError.invalidArgument("\(filters.count) filters but \(diffusivities.count) diffusivities")
        }
        guard filters.count <= Self.maxFilters else {
            throw PDEBlocksError.invalidArgument("a block has at most \(Self.maxFilters) filters, got \(filters.count)")
        }
        try Check.finite(step.parameter, step.mode == .free ? "tau" : "tau parameter theta")
        self.filters = filters
        self.diffusivities = diffusivities
        self.step = step
        tau = step.tau(filters: filters)
        var offset = 0
        var w = [Int](), d = [Int]()
        for K in filters { w.append(offset); offset += K.count }
        for g in diffusivities { d.append(offset); offset += g.parameterCount }
        weightOffsets = w
        diffusivityOffsets = d
        tauIndex = offset
    }

    /// One filter with a built-in diffusivity and a free τ — eq. 4 exactly.
    public init(stencil: Stencil, diffusivity: Diffusivity, tau: Double) throws {
        try self.init(filters: [stencil], diffusivities: [try ChannelDiffusivity(diffusivity)], step: .free(tau))
    }

    /// The block with one more filter.
    public func adding(filter: Stencil, diffusivity: ChannelDiffusivity) throws -> DiffusionBlock {
        try DiffusionBlock(filters: filters + [filter], diffusivities: diffusivities + [diffusivity], step: step)
    }

    public var kind: BlockKind { .diffusion }
    public var channels: Int { filters.count }
    public var parameterCount: Int { tauIndex + 1 }

    public func parameters(into p: UnsafeMutableBufferPointer<Double>) {
        for (c, K) in filters.enumerated() {
            for (j, w) in K.weights.enumerated() { p[weightOffsets[c] + j] = w }
        }
        for (c, g) in diffusivities.enumerated() { g.parameters(into: slice(p, diffusivityOffsets[c], g.parameterCount)) }
        p[tauIndex] = step.parameter
    }

    public func setting(parameters p: UnsafeBufferPointer<Double>) throws -> DiffusionBlock {
        try checkParameterCount(p, parameterCount, "diffusion block")
        let K = try filters.enumerated().map { c, K in try K.withWeights(slice(p, weightOffsets[c], K.count)) }
        let g = try diffusivities.enumerated().map { c, g in try g.setting(slice(p, diffusivityOffsets[c], g.parameterCount)) }
        return try DiffusionBlock(filters: K, diffusivities: g, step: try step.setting(p[tauIndex]))
    }

    public func validate() throws {
        guard !filters.isEmpty else {
            throw PDEBlocksError.invalidArgument("\(kind.name) block has no filters (add at least one)")
        }
    }

    /// The block stores nothing: its backward pass recomputes `K_c x` and the flux from the
    /// block input, which keeps a network's tape at one signal per block (memory traffic,
    /// not arithmetic, bounds a recorded forward pass on long signals).
    public func tapeCount(n: Int) -> Int { 0 }
    public func scratchCount(n: Int) -> Int { DiffusionBlock.vjpScratch * n }
    /// Scratch of `residualVJP`.
    static let vjpScratch = 4

    // MARK: The residual part R(x) = −τ Σ_c K_cᵀ Φ_c(K_c x) and its VJP

    /// `out = base + scale·R(x)`. `out` may alias `base`, not `x`. `scratch` has at least n values.
    @inline(__always)
    func residual(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, scale: Double,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count
        let z = slice(scratch, 0, n)
        if filters.isEmpty, base.baseAddress != UnsafePointer(out.baseAddress) { _ = out.update(fromContentsOf: base) }
        for c in filters.indices {
            filters[c].apply(x, into: z)
            diffusivities[c].applyFlux(z, scale: -scale * tau)
            filters[c].accumulateTransposed(UnsafeBufferPointer(z), into: out, base: c == 0 ? base : UnsafeBufferPointer(out))
        }
    }

    /// Adds `scale·J_R(x)ᵀ v` to `gradX` and `scale·∂⟨v, R(x)⟩/∂θ` (raw) to `grad`.
    /// `scratch` has at least 4n values.
    @inline(__always)
    func residualVJP(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        scale: Double, gradX: UnsafeMutableBufferPointer<Double>, grad: UnsafeMutableBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count
        let y = slice(scratch, 0, n), p = slice(scratch, n, n), work = slice(scratch, 2 * n, 2 * n)
        let factor = -scale * tau
        var dtau = 0.0
        for c in filters.indices {
            let K = filters[c]
            K.apply(x, into: y)
            K.apply(v, into: p)
            // y ← Φ(Kx), p ← Φ′(Kx)·Kv, diffusivity gradient, and ⟨Kv, Φ(Kx)⟩ for dτ.
            let dot = diffusivities[c].backwardPass(
                y, p, scale: factor, grad: slice(grad, diffusivityOffsets[c], diffusivities[c].parameterCount), work: work)
            dtau -= scale * dot
            let wg = slice(grad, weightOffsets[c], K.count)
            K.accumulateWeightGradient(of: v, against: UnsafeBufferPointer(y), scale: factor, into: wg)
            K.accumulateWeightGradient(of: x, against: UnsafeBufferPointer(p), scale: factor, into: wg)
            for i in 0..<n { p[i] *= factor }
            K.accumulateTransposed(UnsafeBufferPointer(p), into: gradX, base: UnsafeBufferPointer(gradX))
        }
        grad[tauIndex] += dtau
    }

    // MARK: NetworkBlock

    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        tape: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        residual(x, base: x, scale: 1, into: out, scratch: scratch)
    }

    public func backward(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        tape: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        _ = gradIn.update(fromContentsOf: v)
        residualVJP(v, input: x, scale: 1, gradX: gradIn, grad: grad, scratch: scratch)
    }

    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        for (c, g) in diffusivities.enumerated() { g.convertGradient(slice(grad, diffusivityOffsets[c], g.parameterCount)) }
        step.convertGradient(grad, tauIndex: tauIndex, filters: filters, weightOffsets: weightOffsets)
    }

    /// Theorem 2 (extended to C filters): certified iff `0 ≤ τ ≤ 2/λ_max(Σ_c sup g_c K_cᵀK_c)`.
    public func certificate(n: Int) throws -> BlockCertificate {
        try certificate(n: n, factor: 1, what: "explicit diffusion step (Theorem 2)", as: .diffusion)
    }

    /// Certificate of an explicit step `x + factor·R(x)`, i.e. step size `factor·τ`.
    func certificate(n: Int, factor: Double, what: String, as kind: BlockKind) throws -> BlockCertificate {
        try validate()
        let bounds = try TheoremTwoBounds(filters: filters, diffusivities: diffusivities, n: n)
        let t = factor * tau
        let (sup, lip) = (bounds.supG / factor, bounds.lipschitz / factor)
        if tau < 0 {
            return BlockCertificate(kind: kind, certified: false, tau: tau, tauBound: sup, tauBoundLipschitz: lip,
                                    reason: "τ = \(tau) is negative (backward diffusion): Theorem 2 needs τ ≥ 0")
        }
        let ok = t <= bounds.supG
        let reason = ok
            ? "\(what): τ = \(tau) ≤ \(sup) = 2/λ_max(Σ sup g·KᵀK)\(factor == 1 ? "" : "/\(factor)") (n = \(n))"
            : "\(what): τ = \(tau) exceeds the stability bound \(sup) = 2/λ_max(Σ sup g·KᵀK)\(factor == 1 ? "" : "/\(factor)") (n = \(n))"
        return BlockCertificate(kind: kind, certified: ok, tau: tau, tauBound: sup, tauBoundLipschitz: lip, reason: reason)
    }

    /// With a free τ outside `[0, margin·bound]`, the block with τ clamped into it.
    public func projectedStable(n: Int, margin: Double) throws -> DiffusionBlock? {
        try projected(bound: try certificate(n: n).tauBound, margin: margin)
    }

    func projected(bound: Double, margin: Double) throws -> DiffusionBlock? {
        guard case .free(let t) = step else { return nil }
        let limit = margin * bound
        if t < 0 { return try DiffusionBlock(filters: filters, diffusivities: diffusivities, step: .free(0)) }
        if limit.isFinite, t > limit {
            return try DiffusionBlock(filters: filters, diffusivities: diffusivities, step: .free(limit))
        }
        return nil
    }

    public var summary: String {
        let parts = filters.indices.map { c in "K\(c)=\(filters[c].weights)@\(filters[c].offset) g=\(diffusivities[c].summary)" }
        return "\(kind.name): τ=\(tau) [\(step.mode == .free ? "free" : "bounded")], " + parts.joined(separator: "; ")
    }
}
