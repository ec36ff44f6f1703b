import PDEBlocks

// C entry points of the accelerated and implicit schemes (`include/pdeblocks_schemes.h`).
// Each one validates and converts its arguments, then calls the core; no numerics here.

/// The common (f, batch, n, K, g, out) arguments of a scheme entry point.
private struct SchemeArguments {
    let f: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let batch: Int
    let n: Int
    let stencil: Stencil
    let diffusivity: Diffusivity
    /// The caller's stencil weights (an input, for the aliasing check).
    let weights: Extent

    init(
        _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
        _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
        _ out: UnsafeMutablePointer<Double>?
    ) throws {
        stencil = try Buffers.stencil(w, q, offset)
        weights = Extent("weights", w, count: stencil.count)
        diffusivity = try Buffers.diffusivity(kind, lambda)
        let (b, len, total) = try Buffers.signals(batch, n)
        self.f = try Buffers.input(f, total, "f")
        self.out = try Buffers.output(out, total, "out")
        self.batch = b
        self.n = len
    }

    /// The aliasing rule of the scheme entry points: `out` may be exactly `f` (computed in
    /// place); a further output (`extra`, `extra2`: history, report, counters) shares no byte with
    /// `out`, `f`, the weights or another output.
    func requireNoAliasing(_ extra: Extent = .empty, _ extra2: Extent = .empty) throws {
        try Aliasing.requireScheme(out: Extent("out", out, inPlaceOf: "f"), f: Extent("f", f), weights: weights, extra, extra2)
    }
}

/// The optional history buffer: required (non-NULL, length checked by the core) when record_every > 0.
private func historyBuffer(_ every: Int, _ history: UnsafeMutablePointer<Double>?, _ length: Int64) throws
    -> UnsafeMutableBufferPointer<Double>? {
    every > 0 ? try Buffers.output(history, try Buffers.count(length, "history_length"), "history") : nil
}

@_cdecl("pdb_fsi")
public func pdb_fsi(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ tau: Double, _ cycleLength: Int64, _ cycles: Int64, _ update: Int32, _ flags: Int32,
    _ recordEvery: Int64, _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try SchemeArguments(f, batch, n, w, q, offset, kind, lambda, out)
        let mode = try NonlinearityUpdate.decode(update)
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = try historyBuffer(every, history, historyLength)
        try a.requireNoAliasing(Extent("history", hist))
        try FSI.evolve(
            a.f, into: a.out, batch: a.batch, n: a.n, stencil: a.stencil, diffusivity: a.diffusivity, tau: tau,
            cycleLength: try Buffers.count(cycleLength, "cycle_length"), cycles: try Buffers.count(cycles, "cycles"),
            update: mode, checkStability: !SchemeFlag.unchecked.isSet(in: flags),
            recordEvery: every, history: hist,
            progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_fed_step_sizes")
public func pdb_fed_step_sizes(
    _ cycleLength: Int64, _ tauMax: Double, _ ordering: Int32, _ out: UnsafeMutablePointer<Double>?, _ outLength: Int64
) -> Int32 {
    guarded {
        // The arguments first (a NULL `out` with a bad cycle_length reports the latter).
        let L = try Buffers.count(cycleLength, "cycle_length")
        let order = try FEDOrdering.decode(ordering)
        let taus = try FED.stepSizes(cycleLength: L, tauMax: tauMax, ordering: order)
        let m = try Buffers.count(outLength, "out_length")
        let dst = try Buffers.output(out, m, "out")
        guard m == taus.count else {
            throw PDEBlocksError.invalidArgument("out_length must equal cycle_length = \(taus.count), got \(m)")
        }
        _ = dst.update(fromContentsOf: taus)
    }
}

@_cdecl("pdb_fed")
public func pdb_fed(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ tauMax: Double, _ cycleLength: Int64, _ cycles: Int64, _ ordering: Int32, _ update: Int32, _ flags: Int32,
    _ recordEvery: Int64, _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try SchemeArguments(f, batch, n, w, q, offset, kind, lambda, out)
        let order = try FEDOrdering.decode(ordering)
        let mode = try NonlinearityUpdate.decode(update)
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = try historyBuffer(every, history, historyLength)
        try a.requireNoAliasing(Extent("history", hist))
        try FED.evolve(
            a.f, into: a.out, batch: a.batch, n: a.n, stencil: a.stencil, diffusivity: a.diffusivity, tauMax: tauMax,
            cycleLength: try Buffers.count(cycleLength, "cycle_length"), cycles: try Buffers.count(cycles, "cycles"),
            ordering: order, update: mode, checkStability: !SchemeFlag.unchecked.isSet(in: flags),
            recordEvery: every, history: hist,
            progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_contraction_tau")
public func pdb_contraction_tau(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double, _ n: Int64,
    _ tau: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let g = try Buffers.diffusivity(kind, lambda)
        let len = try Buffers.count(n, "n")
        try Check.atLeast(len, 2, "signal length n")
        let out = try Buffers.scalar(tau, "tau")
        out.pointee = try contractionTau(stencil: K, diffusivity: g, n: len)
    }
}

@_cdecl("pdb_implicit")
public func pdb_implicit(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ tau: Double, _ steps: Int64, _ iterations: Int64, _ tol: Double, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?, _ sweeps: UnsafeMutablePointer<Int64>?, _ residual: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try SchemeArguments(f, batch, n, w, q, offset, kind, lambda, out)
        try a.requireNoAliasing(Extent(scalar: "sweeps", sweeps), Extent(scalar: "residual", residual))
        let report = try Implicit.evolve(
            a.f, into: a.out, batch: a.batch, n: a.n, stencil: a.stencil, diffusivity: a.diffusivity, tau: tau,
            steps: try Buffers.count(steps, "steps"), iterations: try Buffers.count(iterations, "iterations"),
            tolerance: tol, checkContraction: !SchemeFlag.unchecked.isSet(in: flags), progress: ProgressHandler.reporter())
        sweeps?.pointee = Int64(report.sweeps)
        residual?.pointee = report.residual
    }
}

@_cdecl("pdb_evolve")
public func pdb_evolve(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ T: Double, _ scheme: Int32, _ set: Int32,
    _ tau: Double, _ cycles: Int64, _ ordering: Int32, _ update: Int32,
    _ iterations: Int64, _ tol: Double, _ contraction: Double, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?, _ report: UnsafeMutablePointer<Double>?, _ reportLength: Int64
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        try EvolveOption.validate(set, "the option mask set")
        let a = try SchemeArguments(f, batch, n, w, q, offset, kind, lambda, out)
        let s = try Scheme.decode(scheme)
        let reportOut = try EvolveArguments.report(report, reportLength)
        try a.requireNoAliasing(Extent("report", reportOut))
        let options = try EvolveArguments.options(
            set: set, tau: tau, cycles: cycles, ordering: ordering, update: update, iterations: iterations, tol: tol,
            contraction: contraction, flags: flags)
        let r = try Evolve.run(
            a.f, into: a.out, batch: a.batch, n: a.n, stencil: a.stencil, diffusivity: a.diffusivity,
            time: T, scheme: s, options: options, progress: ProgressHandler.reporter())
        if let reportOut { EvolveReportSlot.fill(r, into: reportOut) }
    }
}
