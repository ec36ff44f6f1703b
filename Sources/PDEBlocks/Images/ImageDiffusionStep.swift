/// One diffusion block on images (paper eq. 4 with a filter bank, DESIGN.md "Images"):
///
///     out = base − τ Σ_c K_cᵀ G_c K_c x,
///
/// with `G_c = diag g_c((K_c x)²)` (channelwise: `G_c K_c x = Φ_c(K_c x)`) or
/// `G_c = diag g(Σ_j (K_j x)²)` for every c (isotropic). `base = x` is an explicit step;
/// `base = u^k` a fixed-point sweep of the implicit scheme (eq. 9); FSI passes its blend.
/// `0 ≤ G_c ≤ sup g`, so Theorem 2 bounds τ by `2/(sup g·λ_max(Σ_c K_cᵀK_c))`
/// (`ImageStability`).
///
/// Two kernels compute it. `gradient_2d(h)` with one diffusivity (the common case) takes
/// `GradientDiffusionKernel`: one streaming pass over the image per step, rows split over
/// threads. Any other bank takes the generic path: `K_c x` for every channel into work
/// memory, the diffusivities, then `out = base + Σ_c K_cᵀ(−τ G_c K_c x)` with the exact
/// transposes (mirrored index tables, `MirroredBankTables`), one image per thread.
/// Neither allocates per step.
public struct ImageDiffusionStep: Sendable {
    public let bank: [Stencil2D]
    /// One diffusivity, or (channelwise only) one per filter.
    public let diffusivities: [Diffusivity]
    public let coupling: Coupling
    public let height: Int
    public let width: Int
    /// `1/h` when `bank` is exactly `gradient_2d(h)` with one diffusivity: the fast kernel applies.
    let gradientInverseH: Double?
    /// Mirrored index tables for the generic path.
    let tables: MirroredBankTables

    /// Throws when the bank is empty, the number of diffusivities is neither 1 nor (for the
    /// channelwise coupling) the number of filters, or the image size is not positive.
    public init(bank: [Stencil2D], diffusivities: [Diffusivity], coupling: Coupling, height: Int, width: Int) throws {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let count = diffusivities.count
        guard count == 1 || (coupling == .channelwise && count == bank.count) else {
            throw PDEBlocksError.invalidArgument(
                coupling == .isotropic
                    ? "the isotropic coupling takes one diffusivity, got \(count)"
                    : "channelwise coupling takes one diffusivity or one per filter (\(bank.count)), got \(count)")
        }
        _ = try Memory.count(height, width, for: "a \(height)×\(width) image")
        (self.bank, self.diffusivities, self.coupling, self.height, self.width) =
            (bank, diffusivities, coupling, height, width)
        gradientInverseH = Self.gradientInverseH(bank, diffusivities: diffusivities)
        tables = try MirroredBankTables(bank, height: height, width: width)
    }

    public init(bank: [Stencil2D], diffusivity: Diffusivity, coupling: Coupling, height: Int, width: Int) throws {
        try self.init(bank: bank, diffusivities: [diffusivity], coupling: coupling, height: height, width: width)
    }

    static func gradientInverseH(_ bank: [Stencil2D], diffusivities: [Diffusivity]) -> Double? {
        guard bank.count == 2, Set(diffusivities).count == 1 else { return nil }
        let (kx, ky) = (bank[0], bank[1])
        guard kx.rows == 1, kx.columns == 2, ky.rows == 2, ky.columns == 1,
              kx.offsetX == 0, kx.offsetY == 0, ky.offsetX == 0, ky.offsetY == 0 else { return nil }
        let a = kx.weights[1]
        guard a > 0, kx.weights[0] == -a, ky.weights == kx.weights else { return nil }
        return a
    }

    /// Pixels per image.
    public var pixels: Int { height * width }
    /// Whether the fused `gradient_2d` kernel computes this step.
    public var usesGradientKernel: Bool { gradientInverseH != nil }
    /// `sup g` over the diffusivities.
    public var supG: Double { diffusivities.map(\.supG).max() ?? 1 }
    /// The Euclidean stability bound `2/(sup g·λ_max)` of Theorem 2 (certified, `ImageStability`).
    public func stableTau() throws -> Double {
        let d = diffusivities.max { $0.supG < $1.supG }!
        return try ImageStability.stableTau(bank, diffusivity: d, height: height, width: width)
    }

    /// Values of work memory `apply` needs for one image with `threads` row bands (`lagged`:
    /// with a frozen `G`, and for `freeze`).
    public func workLength(threads: Int = 1, lagged: Bool = false) -> Int {
        let generic = (bank.count + 1) * pixels
        guard usesGradientKernel else { return generic }
        let band = max(GradientDiffusionKernel.bandWorkLength(width: width),
                       GradientWavefront.bandWorkLength(width: width, levels: stepsPerSweep))
        let bands = max(1, threads) * band
        return lagged ? max(bands, generic) : bands
    }

    /// Steps `applySteps` takes in one sweep over the image (1 when only single steps are
    /// fused: banks other than `gradient_2d`, or images too wide for the cache).
    var stepsPerSweep: Int { usesGradientKernel ? GradientWavefront.levels(width: width) : 1 }

    /// `out = u^s`, `s = taus.count ≤ stepsPerSweep`, from `x = u^0` by s explicit steps
    /// `u^ℓ = u^{ℓ−1} − τ_ℓ Σ_c K_cᵀ G_c K_c u^{ℓ−1}` in one sweep over memory
    /// (`GradientWavefront`): bitwise the results of s calls of `apply` with `base = x`.
    /// `out` must not overlap `x` or `work`; `frozen` and `work` as for `apply`.
    func applySteps(
        _ x: UnsafeBufferPointer<Double>, taus: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        work: UnsafeMutableBufferPointer<Double>, frozen: UnsafeBufferPointer<Double>? = nil, threads: Int = 1
    ) {
        assert(taus.count >= 1 && taus.count <= stepsPerSweep, "applySteps takes 1 ... stepsPerSweep steps")
        guard let invH = gradientInverseH else {
            return apply(x, base: x, tau: taus[0], into: out, work: work, frozen: frozen, threads: threads)
        }
        let kernel = GradientDiffusionKernel(
            height: height, width: width, inverseH: invH, tau: taus[0], isotropic: coupling == .isotropic,
            frozen: frozen?.baseAddress)
        GradientWavefront(kernel: kernel).apply(
            x.baseAddress!, taus: taus, into: out.baseAddress!, work: work.baseAddress!,
            diffusivity: diffusivities[0], threads: threads)
    }

    /// Values `freeze` writes: the frozen diagonal(s) G.
    public var frozenLength: Int { coupling == .isotropic ? pixels : bank.count * pixels }

    /// `out = base − τ Σ_c K_cᵀ G_c K_c x` for one image. `frozen`, when given, holds the
    /// diagonals `G` from `freeze` (the linearised step, diffusivity lagged). `out` may alias
    /// `base`, not `x` or `work`; `work` holds `workLength(threads:lagged:)` values. Results do not
    /// depend on `threads`.
    public func apply(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>,
        frozen: UnsafeBufferPointer<Double>? = nil, threads: Int = 1
    ) {
        if let invH = gradientInverseH {
            let kernel = GradientDiffusionKernel(
                height: height, width: width, inverseH: invH, tau: tau, isotropic: coupling == .isotropic,
                frozen: frozen?.baseAddress)
            kernel.apply(x.baseAddress!, base: base.baseAddress!, into: out.baseAddress!, work: work.baseAddress!,
                         diffusivity: diffusivities[0], threads: threads)
            return
        }
        applyGeneric(x, base: base, tau: tau, into: out, work: work, frozen: frozen)
    }

    /// The diagonals of `G` at `x`: isotropic `g(Σ_j (K_j x)²)` (N values), channelwise
    /// `g_c((K_c x)²)` per channel (C·N values, channel-major). `work` as for `apply`.
    public func freeze(_ x: UnsafeBufferPointer<Double>, into g: UnsafeMutableBufferPointer<Double>,
                       work: UnsafeMutableBufferPointer<Double>) {
        let n = pixels
        let y = forward(x, work: work)
        if coupling == .isotropic {
            sumOfSquares(y, into: g)
            diffusivities[0].withFluxLanes(DiffusivityOfSquareInPlace(v: g))
            return
        }
        for c in bank.indices {
            let gc = UnsafeMutableBufferPointer(rebasing: g[(c * n)..<((c + 1) * n)])
            for p in 0..<n { gc[p] = y[c * n + p] * y[c * n + p] }
            diffusivity(c).withFluxLanes(DiffusivityOfSquareInPlace(v: gc))
        }
    }

    func diffusivity(_ c: Int) -> Diffusivity { diffusivities.count == 1 ? diffusivities[0] : diffusivities[c] }

    /// `y_c = K_c x` for every channel into `work[0 ..< C·N]`.
    func forward(_ x: UnsafeBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>) -> UnsafeMutableBufferPointer<Double> {
        let n = pixels
        for (c, k) in bank.enumerated() {
            tables.apply(c, k, x, height: height, width: width,
                         into: UnsafeMutableBufferPointer(rebasing: work[(c * n)..<((c + 1) * n)]))
        }
        return UnsafeMutableBufferPointer(rebasing: work[0..<(bank.count * n)])
    }

    func sumOfSquares(_ y: UnsafeMutableBufferPointer<Double>, into m: UnsafeMutableBufferPointer<Double>) {
        let n = pixels
        for p in 0..<n { m[p] = 0 }
        for c in bank.indices { for p in 0..<n { m[p] += y[c * n + p] * y[c * n + p] } }
    }

    func applyGeneric(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>,
        frozen: UnsafeBufferPointer<Double>?
    ) {
        let n = pixels, cCount = bank.count
        let y = forward(x, work: work)
        let m = UnsafeMutableBufferPointer(rebasing: work[(cCount * n)..<((cCount + 1) * n)])
        // y_c ← −τ G_c y_c
        if let frozen {
            for c in 0..<cCount {
                let off = coupling == .isotropic ? 0 : c * n
                for p in 0..<n { y[c * n + p] *= -tau * frozen[off + p] }
            }
        } else if coupling == .isotropic {
            sumOfSquares(y, into: m)
            diffusivities[0].withFluxLanes(DiffusivityOfSquareInPlace(v: m))
            for c in 0..<cCount { for p in 0..<n { y[c * n + p] *= -tau * m[p] } }
        } else {
            for c in 0..<cCount {
                diffusivity(c).applyFlux(UnsafeMutableBufferPointer(rebasing: y[(c * n)..<((c + 1) * n)]), scale: -tau)
            }
        }
        // out = base + Σ_c K_cᵀ y_c
        if UnsafePointer(out.baseAddress) != base.baseAddress { _ = out.update(fromContentsOf: base) }
        for (c, k) in bank.enumerated() {
            tables.accumulateTransposed(c, k, UnsafeBufferPointer(rebasing: y[(c * n)..<((c + 1) * n)]),
                                        height: height, width: width, into: out)
        }
    }
}
