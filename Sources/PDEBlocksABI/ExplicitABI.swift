import PDEBlocks

@_cdecl("pdb_stable_tau")
public func pdb_stable_tau(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double, _ n: Int64,
    _ bound: Int32, _ tau: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let g = try Buffers.diffusivity(kind, lambda)
        let b = try StabilityBound.decode(bound)
        let len = try Buffers.count(n, "n")
        try Check.atLeast(len, 2, "signal length n")
        let out = try Buffers.scalar(tau, "tau")
        out.pointee = try stableTau(stencil: K, diffusivity: g, n: len, bound: b)
    }
}

@_cdecl("pdb_explicit")
public func pdb_explicit(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ tau: Double, _ steps: Int64, _ flags: Int32, _ recordEvery: Int64,
    _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let K = try Buffers.stencil(w, q, offset)
        let g = try Buffers.diffusivity(kind, lambda)
        let (b, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = every > 0 ? try Buffers.output(history, try Buffers.count(historyLength, "history_length"), "history") : nil
        try Aliasing.requireScheme(
            out: Extent("out", dst, inPlaceOf: "f"), f: Extent("f", src), weights: Extent("weights", w, count: K.count),
            Extent("history", hist))
        try Explicit.evolve(
            src, into: dst, batch: b, n: len, stencil: K, diffusivity: g, tau: tau,
            steps: try Buffers.count(steps, "steps"), checkStability: !SchemeFlag.unchecked.isSet(in: flags),
            recordEvery: every, history: hist, progress: ProgressHandler.reporter())
    }
}
