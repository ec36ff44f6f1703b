/// The work of one block on one signal, in samples per signal sample: the pace at which
/// a network pass hands its progress over and consults the progress handler
/// (`ProgressTicker`). An estimate of the arithmetic, not a timing: a diffusion block
/// applies every filter and its transpose (`Σ_c 2·q_c + 1`), an FSI block does that
/// `L` times, an implicit block once per sweep, a residual block applies its two
/// stencils per channel. Saturates instead of overflowing.
enum BlockWork {
    /// The samples of work of `block` on one signal of length `n` (saturating).
    static func samples(_ block: any NetworkBlock, n: Int) -> Int { times(perSample(block), n) }

    static func perSample(_ block: any NetworkBlock) -> Int {
        switch block {
        case let b as DiffusionBlock: return diffusion(b)
        case let b as FSIBlock: return times(b.cycleLength, diffusion(b.step))
        case let b as ImplicitBlock: return times(b.iterations, diffusion(b.step))
        case let b as ResidualBlock:
            return b.channels.reduce(1) { plus($0, plus($1.w1.weights.count, $1.w2.weights.count)) }
        default: return 1
        }
    }

    private static func diffusion(_ b: DiffusionBlock) -> Int {
        b.filters.reduce(1) { plus($0, times(2, $1.weights.count) + 1) }
    }

    private static func times(_ a: Int, _ b: Int) -> Int {
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? Int.max : p
    }

    private static func plus(_ a: Int, _ b: Int) -> Int {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? Int.max : s
    }
}
