/// `DiffusionBlock2D` as a layer of an `ImageNetwork` (`ImageBlock`): the per-image passes
/// of `ImageBlockForward`/`ImageBlockGradients`, its Theorem 2 certificate and its record
/// of the network file.
///
/// Record (`NetworkFile`, version 2): `u32 coupling · u32 flags (1 zero mean, 2 reaction,
/// 4 bounded τ) · u32 C · C × stencil2D · D × diffusivity · f64 τ · [f64 m with reaction]`,
/// `stencil2D = u32 rows · u32 columns · i64 oy · i64 ox · rows·columns × f64 weight`,
/// D = 1 (isotropic) or C (channelwise), diffusivities as in version 1.
extension DiffusionBlock2D: ImageBlock {
    public var kind: ImageBlockKind { .diffusion }

    public func validate(height: Int, width: Int) throws { try checkStep(height: height, width: width) }

    public func scratchCount(pixels n: Int) -> Int { backwardScratchCount(pixels: n) }

    public func forwardImage(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        forwardOne(u, muParameter == nil ? nil : f, height: height, width: width,
                   z: slice(scratch, 0, filters.count * height * width), out: out)
    }

    public func backwardImage(
        _ v: UnsafeBufferPointer<Double>, input u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>,
        height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>, gradF: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let reaction = muParameter != nil
        backwardOne(v, u, reaction ? f : nil, height: height, width: width, gradU: gradU,
                    gradF: reaction ? gradF : nil, grad: grad, work: scratch)
    }

    /// Certified iff `0 ≤ τ ≤ certifiedTauBound(height:width:)` (Theorem 2, see
    /// `ImageBlockCertificate`).
    public func certificate(height: Int, width: Int) throws -> ImageBlockCertificate {
        let bound = try certifiedTauBound(height: height, width: width)
        let ok = tau >= 0 && tau <= bound
        let reason = ok
            ? "certified: 0 ≤ τ = \(tau) ≤ 2/(sup g·λ_max(Σ_c K_cᵀK_c) + μ) = \(bound) on \(height)×\(width) images"
            : tau < 0 ? "not certified: τ = \(tau) is negative"
            : "not certified: τ = \(tau) exceeds the bound 2/(sup g·λ_max(Σ_c K_cᵀK_c) + μ) = \(bound) on \(height)×\(width) images"
        return ImageBlockCertificate(kind: .diffusion, certified: ok, tau: tau, tauBound: bound, reason: reason)
    }

    /// The `PDB_IMAGE_BLOCK_*` flag bits of the block.
    public var flags: Int32 {
        (zeroMean ? 1 : 0) | (muParameter != nil ? 2 : 0) | (stepMode == .bounded ? 4 : 0)
    }

    public func encode(to w: inout NetworkFile.Writer) {
        w.u32(UInt32(coupling.rawValue))
        w.u32(UInt32(flags))
        w.u32(UInt32(rawFilters.count))
        for K in rawFilters { NetworkFile.encode(K, &w) }
        for g in diffusivities { NetworkFile.encode(g, &w) }
        w.f64(tau)
        if let m = muParameter { w.f64(m) }
    }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> DiffusionBlock2D {
        let code = try r.u32()
        guard code <= Int32.max, let coupling = Coupling(rawValue: Int32(code)) else {
            throw PDEBlocksError.io("image block \(k) has unknown coupling \(code)")
        }
        let flags = try r.u32()
        guard flags & ~7 == 0 else { throw PDEBlocksError.io("image block \(k) has unknown flags \(flags)") }
        let C = try r.count(max: DiffusionBlock2D.maxFilters, "filter count")
        var bank = [Stencil2D]()
        for _ in 0..<C { bank.append(try NetworkFile.decodeStencil2D(&r)) }
        var gs = [ChannelDiffusivity]()
        for _ in 0..<(coupling == .isotropic ? 1 : C) { gs.append(try NetworkFile.decodeDiffusivity(&r)) }
        let tau = try r.f64()
        let m: Double? = flags & 2 != 0 ? try r.f64() : nil
        return try DiffusionBlock2D(filters: bank, coupling: coupling, diffusivities: gs, tau: tau,
                                    stepMode: flags & 4 != 0 ? .bounded : .free, muParameter: m, zeroMean: flags & 1 != 0)
    }

    public var summary: String {
        "diffusion2D: \(filters.count) filters, \(coupling.name), τ = \(tau)"
            + (muParameter == nil ? "" : ", μ = \(mu)") + (zeroMean ? ", zero mean" : "")
            + (stepMode == .bounded ? ", bounded τ" : "")
    }
}

extension NetworkFile {
    static func encode(_ K: Stencil2D, _ w: inout Writer) {
        w.u32(UInt32(K.rows))
        w.u32(UInt32(K.columns))
        w.u64(UInt64(bitPattern: Int64(K.offsetY)))
        w.u64(UInt64(bitPattern: Int64(K.offsetX)))
        for x in K.weights { w.f64(x) }
    }

    static func decodeStencil2D(_ r: inout Reader) throws -> Stencil2D {
        let rows = try r.count(max: 1 << 10, "stencil rows"), columns = try r.count(max: 1 << 10, "stencil columns")
        let oy = Int64(bitPattern: try r.u64()), ox = Int64(bitPattern: try r.u64())
        guard oy.magnitude < 1 << 40, ox.magnitude < 1 << 40 else { throw PDEBlocksError.io("stencil offset (\(oy), \(ox)) is out of range") }
        var w = [Double]()
        w.reserveCapacity(rows * columns)
        for _ in 0..<(rows * columns) { w.append(try r.f64()) }
        return try Stencil2D(weights: w, rows: rows, columns: columns, offsetY: Int(oy), offsetX: Int(ox))
    }
}
