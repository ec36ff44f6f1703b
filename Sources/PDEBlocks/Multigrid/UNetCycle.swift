/// The multigrid cycle computed literally as a U-net on three-channel signals
/// `(x, b, r)` (paper Sec. 3.2, Fig. 2b):
///
///  1. the solver block `S_A` turns `(x₀, b, ·)` into `(x̃, b, r = b − A x̃)` (ν₁ smoothing steps);
///  2. the downsampling block `[[0,0,0],[0,0,R],[0,0,0]]` gives `(0, R r, 0)`: the coarse
///     residual equation `A_H x_H = R r` with initial guess 0;
///  3. the coarse solver `S_H` — the exact solve on the coarsest level, otherwise the
///     U-net of the next level (deeper cycles by recursion; a W-cycle concatenates two
///     coarse U-nets, an F-cycle an F- and a V-net);
///  4. the upsampling block `[[P,0,0],[0,0,0],[0,0,0]]` gives `(P x̃_H, 0, 0)`;
///  5. the additive skip: `(x̃, b, r) + (P x̃_H, 0, 0) = (x̃ + P x̃_H, b, ·)`;
///  6. the solver block `S_A` (ν₂ post-smoothing steps) gives `(x̂, b, r̂ = b − A x̂)`.
///
/// It computes the same iterate as the classical cycle (`Multigrid.cycle`), plus the
/// final residual channel.
extension Multigrid {
    /// One cycle (of the options' kind) in U-net form; the input's `r` channel is ignored.
    public func unetCycle(_ input: ThreeChannelSignal) throws -> ThreeChannelSignal {
        guard input.count == n else {
            throw PDEBlocksError.invalidArgument("the channels have length \(input.count), expected n = \(n)")
        }
        try input.x.withUnsafeBufferPointer { try validateVector($0, "x") }
        try input.b.withUnsafeBufferPointer { try validateVector($0, "b") }
        // The net's signals live at most ~20 n values at once (channels, outputs and work
        // on every level, a geometric sum); checked once here rather than per signal.
        try Memory.reserve(Memory.count(24, n, for: "the U-net's signals"), for: "the U-net's signals (n = \(n))")
        return unet(options.cycle, level: 0, input)
    }

    /// One cycle in U-net form from `(x, b, 0)`.
    public func unetCycle(x: [Double], b: [Double]) throws -> ThreeChannelSignal {
        guard x.count == n, b.count == n else {
            throw PDEBlocksError.invalidArgument("x and b must have length n = \(n), got \(x.count) and \(b.count)")
        }
        return try unetCycle(ThreeChannelSignal(x: x, b: b, r: Memory.zeros(n, for: "the residual channel")))
    }

    /// The U-net of level `l`.
    func unet(_ kind: CycleKind, level l: Int, _ input: ThreeChannelSignal) -> ThreeChannelSignal {
        let last = hierarchy.levels.count - 1
        if l == last { return coarseSolverBlock(input) }
        let t = hierarchy.levels[l].transfer!
        let smoothed = solverBlock(level: l, post: false, input)
        var coarse = ChannelOperator.downsampling(t).apply(smoothed)
        switch kind {
        case .v: coarse = unet(.v, level: l + 1, coarse)
        case .w: coarse = unet(.w, level: l + 1, unet(.w, level: l + 1, coarse))
        case .f: coarse = unet(.v, level: l + 1, unet(.f, level: l + 1, coarse))
        }
        let merged = smoothed + ChannelOperator.upsampling(t).apply(coarse)
        return solverBlock(level: l, post: true, merged)
    }

    /// `S_A` on level `l`: `(x, b, ·) ↦ (x̃, b, b − A x̃)` with `x̃` after the pre- or
    /// post-smoothing steps.
    func solverBlock(level l: Int, post: Bool, _ input: ThreeChannelSignal) -> ThreeChannelSignal {
        let level = hierarchy.levels[l]
        var out = input
        var work = [Double](repeating: 0, count: input.count)
        out.x.withUnsafeMutableBufferPointer { x in
            input.b.withUnsafeBufferPointer { b in
                work.withUnsafeMutableBufferPointer { w in
                    hierarchy.smooth(level, x: x.baseAddress!, b: b.baseAddress!, post: post, work: w.baseAddress!)
                }
            }
        }
        out.r.withUnsafeMutableBufferPointer { r in
            out.x.withUnsafeBufferPointer { x in
                input.b.withUnsafeBufferPointer { b in _ = level.A.residual(x, b, into: r) }
            }
        }
        return out
    }

    /// `S_H` on the coarsest level: `(·, b, ·) ↦ (A⁻¹b, b, b − A A⁻¹b)`.
    func coarseSolverBlock(_ input: ThreeChannelSignal) -> ThreeChannelSignal {
        let level = hierarchy.levels[hierarchy.levels.count - 1]
        var out = input
        out.x.withUnsafeMutableBufferPointer { x in
            input.b.withUnsafeBufferPointer { b in hierarchy.coarse.solve(b, into: x) }
        }
        out.r.withUnsafeMutableBufferPointer { r in
            out.x.withUnsafeBufferPointer { x in
                input.b.withUnsafeBufferPointer { b in _ = level.A.residual(x, b, into: r) }
            }
        }
        return out
    }
}
