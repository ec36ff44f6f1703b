/// The work of one block on one signal, in samples per signal sample: the pace at which
/// a network pass hands its progress over and consults the progress handler
/// (`ProgressTicker`). An estimate of the arithmetic, not a timing: a diffusion block
/// applies every filter and its transpose (`Σ_c 2·q_c + 1`), an FSI block does that
/// `L` times, an implicit block once per sweep, a residual block applies its two
/// stencils per channel. Saturates instead of overflowing.
enum BlockWork {
    /// The samples of work of `block` on one signal of length `n` (saturating).
    static func samples(_ block: any NetworkBlock, n: Int) -> Int { times(perSample(block), n) }

    static func perSample(_ block: any NetworkBlock) -> Int { block.workPerSample }

    /// A diffusion step: every filter and its transpose, `Σ_c 2·q_c + 1`.
    static func diffusion(_ b: DiffusionBlock) -> Int {
        b.filters.reduce(1) { plus($0, times(2, $1.weights.count) + 1) }
    }

    static func times(_ a: Int, _ b: Int) -> Int {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? Int.max : p
    }

    static func plus(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? Int.max : s
    }
}

extension DiffusionBlock {
    public var workPerSample: Int { BlockWork.diffusion(self) }
}

extension FSIBlock {
    public var workPerSample: Int { BlockWork.times(cycleLength, BlockWork.diffusion(step)) }
}

extension ImplicitBlock {
    public var workPerSample: Int { BlockWork.times(iterations, BlockWork.diffusion(step)) }
}

extension ResidualBlock {
    public var workPerSample: Int {
        channels.reduce(1) { BlockWork.plus($0, BlockWork.plus($1.w1.weights.count, $1.w2.weights.count)) }
    }
}
