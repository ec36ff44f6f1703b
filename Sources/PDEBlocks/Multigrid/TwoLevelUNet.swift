/// The generic two-level U-net of the paper's Sec. 3.1 (Fig. 2a), with additive
/// combination:
///
///     f̃ = C₁(f),   f_H = R f̃,   f̃_H = C_H(f_H),   f̃_new = f̃ + P f̃_H,   f̂ = C₂(f̃_new),
///
/// where `C₁`, `C_H`, `C₂` are chains of library blocks (`UNetBlock`: stencils, diffusion
/// blocks; an empty chain is the identity) and `R`, `P` are the transfer operators of a
/// multigrid hierarchy: cell-centred (default; `R` averages pairs of cells with weights
/// `⅛ ⅜ ⅜ ⅛`, `P` interpolates linearly, both mirrored at the boundary) or vertex-centred
/// (full weighting, linear interpolation, zero outside). The coarse chain acts on signals
/// of length `⌈n/2⌉` (cell) or `⌊n/2⌋` (vertex); choose its stencils for spacing `2h`.
/// The multigrid V-cycle is this architecture on three-channel signals (`unetCycle`).
public struct TwoLevelUNet: Sendable, Equatable {
    public let pre: [UNetBlock]
    public let coarse: [UNetBlock]
    public let post: [UNetBlock]
    /// `.cell` or `.vertex`.
    public let transfer: TransferKind

    public init(pre: [UNetBlock], coarse: [UNetBlock], post: [UNetBlock], transfer: TransferKind = .cell) throws {
        guard transfer == .cell || transfer == .vertex else {
            throw PDEBlocksError.invalidArgument(
                "a U-net needs a grid transfer: 'cell' or 'vertex', got '\(transfer.name)'")
        }
        for block in pre + coarse + post { try block.validate() }
        self.pre = pre
        self.coarse = coarse
        self.post = post
        self.transfer = transfer
    }

    func makeTransfer(_ n: Int) throws -> Transfer {
        transfer == .cell ? try .cellLinear(fine: n) : try .vertexLinear(fine: n)
    }

    /// Applies the network to each row of a row-major `(batch, n)` block `f` (`n ≥ 2`).
    /// `out` may be the same memory as `f`.
    public func forward(_ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int) throws {
        try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        let t = try makeTransfer(n)
        let nc = t.coarse
        // fine: two ping-pong rows + work; coarse: two ping-pong rows + work
        var storage = try Memory.zeros(3 * n + 3 * nc, for: "the U-net work vectors")
        storage.withUnsafeMutableBufferPointer { s in
            let fineA = UnsafeMutableBufferPointer(rebasing: s[0..<n])
            let fineB = UnsafeMutableBufferPointer(rebasing: s[n..<(2 * n)])
            let fineWork = UnsafeMutableBufferPointer(rebasing: s[(2 * n)..<(3 * n)])
            let coarseA = UnsafeMutableBufferPointer(rebasing: s[(3 * n)..<(3 * n + nc)])
            let coarseB = UnsafeMutableBufferPointer(rebasing: s[(3 * n + nc)..<(3 * n + 2 * nc)])
            let coarseWork = UnsafeMutableBufferPointer(rebasing: s[(3 * n + 2 * nc)..<(3 * n + 3 * nc)])
            for r in 0..<batch {
                SignalLayout.copy(f, row: r, n: n, into: fineA)
                // 1. f̃ = C₁(f)
                let fTilde = Self.chain(pre, fineA, fineB, fineWork)
                // 2. f_H = R f̃
                t.restrict(UnsafeBufferPointer(fTilde), into: coarseA)
                // 3. f̃_H = C_H(f_H)
                let fHTilde = Self.chain(coarse, coarseA, coarseB, coarseWork)
                // 4.–5. f̃_new = f̃ + P f̃_H (the additive skip)
                t.prolongAdd(UnsafeBufferPointer(fHTilde), into: fTilde)
                // 6. f̂ = C₂(f̃_new)
                let other = fTilde.baseAddress == fineA.baseAddress ? fineB : fineA
                let result = Self.chain(post, fTilde, other, fineWork)
                _ = SignalLayout.row(out, r, n).update(fromContentsOf: result)
            }
        }
    }

    /// One signal.
    public func forward(_ f: [Double]) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the U-net output")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { try forward(fb, into: $0, batch: 1, n: f.count) }
        }
        return out
    }

    /// Applies `blocks` starting in `a`, ping-ponging with `b`; returns the buffer holding the result.
    static func chain(
        _ blocks: [UNetBlock], _ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>,
        _ work: UnsafeMutableBufferPointer<Double>
    ) -> UnsafeMutableBufferPointer<Double> {
        var (src, dst) = (a, b)
        for block in blocks {
            block.apply(UnsafeBufferPointer(src), into: dst, work: work)
            swap(&src, &dst)
        }
        return src
    }
}
