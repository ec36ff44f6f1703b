/// How each block type saves itself (`NetworkBlock.encode(to:)`, `decode(from:index:)`)
/// and takes a filter (`adding(filter:diffusivity:)`); the record layouts are those of
/// `NetworkFile`'s format description. `BlockKind.blockType` is the decoder keyed by kind.

extension BlockKind {
    /// The block type of this kind, whose `decode(from:index:)` reads its records.
    public var blockType: any NetworkBlock.Type {
        switch self {
        case .residual: ResidualBlock.self
        case .diffusion: DiffusionBlock.self
        case .fsi: FSIBlock.self
        case .implicit: ImplicitBlock.self
        }
    }
}

extension DiffusionBlock {
    /// `L = 1` and the step (`NetworkFile`).
    public func encode(to w: inout NetworkFile.Writer) { NetworkFile.encodeStep(self, L: 1, &w) }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> DiffusionBlock {
        let (L, b) = try NetworkFile.decodeStep(&r, index: k)
        guard L == 1 else { throw PDEBlocksError.io("diffusion block \(k) has L = \(L), expected 1") }
        return b
    }
}

extension FSIBlock {
    /// `L` = the cycle length, and the step.
    public func encode(to w: inout NetworkFile.Writer) { NetworkFile.encodeStep(step, L: cycleLength, &w) }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> FSIBlock {
        let (L, b) = try NetworkFile.decodeStep(&r, index: k)
        return try FSIBlock(step: b, cycleLength: L)
    }

    /// The block with one more filter in its step.
    public func adding(filter: Stencil, diffusivity: ChannelDiffusivity) throws -> FSIBlock {
        try FSIBlock(step: try step.adding(filter: filter, diffusivity: diffusivity), cycleLength: cycleLength)
    }
}

extension ImplicitBlock {
    /// `L` = the number of sweeps, and the step.
    public func encode(to w: inout NetworkFile.Writer) { NetworkFile.encodeStep(step, L: iterations, &w) }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> ImplicitBlock {
        let (L, b) = try NetworkFile.decodeStep(&r, index: k)
        return try ImplicitBlock(step: b, iterations: L)
    }

    /// The block with one more filter in its step.
    public func adding(filter: Stencil, diffusivity: ChannelDiffusivity) throws -> ImplicitBlock {
        try ImplicitBlock(step: try step.adding(filter: filter, diffusivity: diffusivity), iterations: iterations)
    }
}

extension ResidualBlock {
    /// `C`, `b2`, `σ1`, `σ2`, then each channel's `W1`, `W2`, W2 mode and `b1`.
    public func encode(to w: inout NetworkFile.Writer) {
        w.u32(UInt32(channels.count))
        w.f64(b2)
        NetworkFile.encode(sigma1, &w)
        NetworkFile.encode(sigma2, &w)
        for ch in channels {
            NetworkFile.encode(ch.w1, &w)
            NetworkFile.encode(ch.w2, &w)
            w.u32(UInt32(ch.w2Mode.rawValue))
            w.f64(ch.b1)
        }
    }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> ResidualBlock {
        let C = try r.count(max: DiffusionBlock.maxFilters, "channel count")
        let b2 = try r.f64()
        let s1 = try NetworkFile.decodeActivation(&r), s2 = try NetworkFile.decodeActivation(&r)
        var channels = [ResidualChannel]()
        for _ in 0..<C {
            let w1 = try NetworkFile.decodeStencil(&r), w2 = try NetworkFile.decodeStencil(&r)
            let m = try r.u32()
            guard m <= Int32.max, let mode = OutputFilterMode(rawValue: Int32(m)) else {
                throw PDEBlocksError.io("unknown W2 mode \(m)")
            }
            channels.append(try ResidualChannel(w1: w1, w2: w2, w2Mode: mode, b1: try r.f64()))
        }
        return try ResidualBlock(channels: channels, b2: b2, sigma1: s1, sigma2: s2)
    }

    /// Throws: a residual block takes channels (`adding(channel:)`), not filters.
    public func adding(filter: Stencil, diffusivity: ChannelDiffusivity) throws -> ResidualBlock {
        throw PDEBlocksError.invalidArgument(
            "the last block is a residual block, which takes channels, not filters (pdb_network_add_residual_channel); filters go into diffusion, FSI or implicit blocks")
    }
}
