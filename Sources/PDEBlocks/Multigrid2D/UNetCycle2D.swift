/// The 2D cycle computed as a U-net on three-channel images `(x, b, r)` (paper Fig. 2b;
/// as `UNetCycle.swift` for 1D): solver block `S_A` (smoothing, then `r = b − A x̃`),
/// downsampling `(0, R r, 0)`, the coarse U-net (exact solve on the coarsest level),
/// upsampling `(P x̃_H, 0, 0)`, the additive skip, and the post-smoothing solver block.
/// Its `x` channel equals `Multigrid2D.cycle`'s result.
extension Multigrid2D {
    /// One cycle in U-net form from `(x, b, 0)`; returns `(x̂, b, r̂ = b − A x̂)`.
    public func unetCycle(x: [Double], b: [Double]) throws -> ThreeChannelSignal {
        try x.withUnsafeBufferPointer { try validateVector($0, "x") }
        try b.withUnsafeBufferPointer { try validateVector($0, "b") }
        try Memory.reserve(Memory.count(24, n, for: "the U-net's signals"), for: "the U-net's signals (n = \(n))")
        return try withWorkspace { ws in
            try unet(options.cycle, level: 0, ThreeChannelSignal(x: x, b: b, r: [Double](repeating: 0, count: n)), ws: ws)
        }
    }

    func unet(_ kind: CycleKind, level l: Int, _ input: ThreeChannelSignal, ws: MultigridWorkspace2D) throws -> ThreeChannelSignal {
        let h = hierarchy
        let last = h.levels.count - 1
        if l == last {
            var out = input
            out.x.withUnsafeMutableBufferPointer { x in
                input.b.withUnsafeBufferPointer { b in h.coarse.solve(b.baseAddress!, into: x.baseAddress!, scratch: ws.scratch) }
            }
            residualChannel(&out, level: l)
            return out
        }
        let t = h.levels[l].transfer!
        let smoothed = solverBlock(level: l, post: false, input, ws: ws)
        let nc = h.levels[l + 1].A.count
        var rc = [Double](repeating: 0, count: nc)
        smoothed.r.withUnsafeBufferPointer { r in rc.withUnsafeMutableBufferPointer { t.restrict(r.baseAddress!, into: $0.baseAddress!) } }
        let zero = [Double](repeating: 0, count: nc)
        var coarse = try ThreeChannelSignal(x: zero, b: rc, r: zero)
        switch kind {
        case .v: coarse = try unet(.v, level: l + 1, coarse, ws: ws)
        case .w: coarse = try unet(.w, level: l + 1, unet(.w, level: l + 1, coarse, ws: ws), ws: ws)
        case .f: coarse = try unet(.v, level: l + 1, unet(.f, level: l + 1, coarse, ws: ws), ws: ws)
        }
        var merged = smoothed
        coarse.x.withUnsafeBufferPointer { e in merged.x.withUnsafeMutableBufferPointer { t.prolongAdd(e.baseAddress!, into: $0.baseAddress!) } }
        return solverBlock(level: l, post: true, merged, ws: ws)
    }

    func solverBlock(level l: Int, post: Bool, _ input: ThreeChannelSignal, ws: MultigridWorkspace2D) -> ThreeChannelSignal {
        var out = input
        out.x.withUnsafeMutableBufferPointer { x in
            input.b.withUnsafeBufferPointer { b in
                hierarchy.smooth(hierarchy.levels[l], x: x.baseAddress!, b: b.baseAddress!, post: post, work: ws.r[l])
            }
        }
        residualChannel(&out, level: l)
        return out
    }

    func residualChannel(_ s: inout ThreeChannelSignal, level l: Int) {
        let (x, b) = (s.x, s.b)
        s.r.withUnsafeMutableBufferPointer { r in
            x.withUnsafeBufferPointer { xb in
                b.withUnsafeBufferPointer { bb in
                    _ = hierarchy.residual(hierarchy.levels[l], x: xb.baseAddress!, b: bb.baseAddress!, r: r.baseAddress!)
                }
            }
        }
    }
}
