import PDEBlocks

/// The arguments every image scheme entry point takes (`include/pdeblocks_image_schemes.h`):
/// images, filter bank, coupling and diffusivities, validated in that order.
private struct ImageSchemeArguments {
    let f: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let batch: Int
    let step: ImageDiffusionStep
    /// The caller's read-only arrays other than f (bank, kinds, lambdas), for the aliasing check.
    let inputs: [Extent]

    init(
        _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
        _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
        _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
        _ out: UnsafeMutablePointer<Double>?
    ) throws {
        let b = try Buffers.count(batch, "batch")
        let h = try Buffers.count(height, "height"), w = try Buffers.count(width, "width")
        try Check.positive(b, "batch")
        try Check.positive(h, "height")
        try Check.positive(w, "width")
        let total = try Buffers.product(Int64(try Buffers.product(batch, height, "batch·height")), width,
                                        "batch·height·width")
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let mode = try Coupling.decode(coupling, "coupling")
        let count = try Buffers.count(diffusivities, "diffusivities")
        guard count == 1 || (mode == .channelwise && count == bank.count) else {
            throw PDEBlocksError.invalidArgument(
                "diffusivities = \(count): give 1, or for PDB_COUPLING_CHANNELWISE one per filter (\(bank.count))")
        }
        guard let kinds else { throw NullPointer(name: "kinds") }
        guard let lambdas else { throw NullPointer(name: "lambdas") }
        let gs = try (0..<count).map { try Buffers.diffusivity(kinds[$0], lambdas[$0], count > 1 ? "diffusivity \($0)" : nil) }
        step = try ImageDiffusionStep(bank: bank, diffusivities: gs, coupling: mode, height: h, width: w)
        self.f = try Buffers.input(f, total, "f")
        self.out = try Buffers.output(out, total, "out")
        self.batch = b
        let weightCount = bank.reduce(0) { $0 + $1.weights.count }
        inputs = [Extent("f", self.f), Extent("filter_shapes", shapes, count: 4 * bank.count),
                  Extent("filter_weights", weights, count: weightCount), Extent("kinds", kinds, count: count),
                  Extent("lambdas", lambdas, count: count)]
    }

    /// `out` may be exactly `f`; every other output overlaps nothing.
    func requireNoAliasing(_ extra: Extent...) throws {
        try Aliasing.require(outputs: [Extent("out", out, inPlaceOf: "f")] + extra, inputs: inputs)
    }
}

private func imageHistory(_ every: Int, _ history: UnsafeMutablePointer<Double>?, _ length: Int64) throws
    -> UnsafeMutableBufferPointer<Double>? {
    every > 0 ? try Buffers.output(history, try Buffers.count(length, "history_length"), "history") : nil
}

@_cdecl("pdb_explicit_2d")
public func pdb_explicit_2d(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ tau: Double, _ steps: Int64, _ flags: Int32,
    _ recordEvery: Int64, _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try ImageSchemeArguments(f, batch, height, width, filters, shapes, weights, coupling, diffusivities,
                                         kinds, lambdas, out)
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = try imageHistory(every, history, historyLength)
        try a.requireNoAliasing(Extent("history", hist))
        try ImageExplicit.evolve(
            a.f, into: a.out, batch: a.batch, step: a.step, tau: tau, steps: try Buffers.count(steps, "steps"),
            checkStability: !SchemeFlag.unchecked.isSet(in: flags), recordEvery: every, history: hist,
            progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_fsi_2d")
public func pdb_fsi_2d(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ tau: Double, _ cycleLength: Int64, _ cycles: Int64, _ update: Int32, _ flags: Int32,
    _ recordEvery: Int64, _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try ImageSchemeArguments(f, batch, height, width, filters, shapes, weights, coupling, diffusivities,
                                         kinds, lambdas, out)
        let mode = try NonlinearityUpdate.decode(update)
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = try imageHistory(every, history, historyLength)
        try a.requireNoAliasing(Extent("history", hist))
        try ImageFSI.evolve(
            a.f, into: a.out, batch: a.batch, step: a.step, tau: tau,
            cycleLength: try Buffers.count(cycleLength, "cycle_length"), cycles: try Buffers.count(cycles, "cycles"),
            update: mode, checkStability: !SchemeFlag.unchecked.isSet(in: flags), recordEvery: every, history: hist,
            progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_fed_2d")
public func pdb_fed_2d(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ tauMax: Double, _ cycleLength: Int64, _ cycles: Int64, _ ordering: Int32, _ update: Int32, _ flags: Int32,
    _ recordEvery: Int64, _ history: UnsafeMutablePointer<Double>?, _ historyLength: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try ImageSchemeArguments(f, batch, height, width, filters, shapes, weights, coupling, diffusivities,
                                         kinds, lambdas, out)
        let order = try FEDOrdering.decode(ordering)
        let mode = try NonlinearityUpdate.decode(update)
        let every = try Buffers.count(recordEvery, "record_every")
        let hist = try imageHistory(every, history, historyLength)
        try a.requireNoAliasing(Extent("history", hist))
        try ImageFED.evolve(
            a.f, into: a.out, batch: a.batch, step: a.step, tauMax: tauMax,
            cycleLength: try Buffers.count(cycleLength, "cycle_length"), cycles: try Buffers.count(cycles, "cycles"),
            ordering: order, update: mode, checkStability: !SchemeFlag.unchecked.isSet(in: flags),
            recordEvery: every, history: hist, progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_implicit_2d")
public func pdb_implicit_2d(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ tau: Double, _ steps: Int64, _ iterations: Int64, _ tol: Double, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?, _ sweeps: UnsafeMutablePointer<Int64>?, _ residual: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let a = try ImageSchemeArguments(f, batch, height, width, filters, shapes, weights, coupling, diffusivities,
                                         kinds, lambdas, out)
        try a.requireNoAliasing(Extent(scalar: "sweeps", sweeps), Extent(scalar: "residual", residual))
        let report = try ImageImplicit.evolve(
            a.f, into: a.out, batch: a.batch, step: a.step, tau: tau, steps: try Buffers.count(steps, "steps"),
            iterations: try Buffers.count(iterations, "iterations"), tolerance: tol,
            checkContraction: !SchemeFlag.unchecked.isSet(in: flags), progress: ProgressHandler.reporter())
        sweeps?.pointee = Int64(report.sweeps)
        residual?.pointee = report.residual
    }
}

@_cdecl("pdb_evolve_2d")
public func pdb_evolve_2d(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ coupling: Int32, _ diffusivities: Int64, _ kinds: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ T: Double, _ scheme: Int32, _ set: Int32,
    _ tau: Double, _ cycles: Int64, _ ordering: Int32, _ update: Int32,
    _ iterations: Int64, _ tol: Double, _ contraction: Double, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?, _ report: UnsafeMutablePointer<Double>?, _ reportLength: Int64
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        try EvolveOption.validate(set, "the option mask set")
        let a = try ImageSchemeArguments(f, batch, height, width, filters, shapes, weights, coupling, diffusivities,
                                         kinds, lambdas, out)
        let s = try Scheme.decode(scheme)
        let reportOut = try EvolveArguments.report(report, reportLength)
        try a.requireNoAliasing(Extent("report", reportOut))
        let options = try EvolveArguments.options(
            set: set, tau: tau, cycles: cycles, ordering: ordering, update: update, iterations: iterations, tol: tol,
            contraction: contraction, flags: flags)
        let r = try ImageEvolve.run(a.f, into: a.out, batch: a.batch, step: a.step, time: T, scheme: s,
                                    options: options, progress: ProgressHandler.reporter())
        if let reportOut { EvolveReportSlot.fill(r, into: reportOut) }
    }
}
