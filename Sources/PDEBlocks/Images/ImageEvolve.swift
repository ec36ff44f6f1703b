/// Reaches a stopping time `T` on images with a chosen scheme, planned exactly as for
/// signals (`Evolve.plan`: step counts, cycle lengths, defaults and option checks), with the
/// image bounds: `2/(sup g·λ_max(Σ_c K_cᵀK_c))` (`ImageStability`) and for the implicit
/// scheme `1/(L_Φ·λ_max)` (`ImageImplicit.contractionTau`).
public enum ImageEvolve {
    /// The plan for `(batch, height, width)` images `f` (the implicit default tolerance reads
    /// the initial rate `‖Σ_c K_cᵀ G_c K_c f‖_∞` from `f`); nothing runs.
    public static func plan(
        _ f: UnsafeBufferPointer<Double>, batch: Int, step: ImageDiffusionStep, time T: Double, scheme: Scheme,
        options: EvolveOptions = EvolveOptions()
    ) throws -> EvolveReport {
        guard T.isFinite, T >= 0 else {
            throw PDEBlocksError.invalidArgument("stopping time T must be nonnegative and finite, got \(T)")
        }
        try ImageLayout.validate(f, batch: batch, step: step)
        let rate = scheme == .implicit && options.tolerance == nil ? try initialRate(f, batch: batch, step: step) : 0
        return try Evolve.plan(time: T, scheme: scheme, options: options, initialRate: rate, bounds: Evolve.PlanBounds(
            stable: { try step.stableTau() },
            contraction: { try ImageImplicit.contractionTau(step) },
            requireStable: { try ImageLayout.requireStable(tau: $0, step: step, what: $1 + " (images)") },
            requireContraction: { tau in
                let bound = try ImageImplicit.contractionTau(step)
                guard tau < bound else {
                    throw PDEBlocksError.unstable(
                        "implicit scheme (images): tau = \(tau) violates the contraction condition; tau must be below "
                            + "1/(L_Φ·λ_max) = \(bound); pass check_stability=False to run anyway")
                }
            }))
    }

    /// Evolves `(batch, height, width)` images `f` to time `T` with `scheme` into `out`
    /// (may be `f`'s memory). Returns what was planned and done (`EvolveReport`).
    /// - Throws: as `plan` and the scheme's `evolve`.
    @discardableResult
    public static func run(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, time T: Double, scheme: Scheme, options: EvolveOptions = EvolveOptions(),
        progress: ProgressReporter? = nil
    ) throws -> EvolveReport {
        try ImageLayout.validate(f, batch: batch, step: step)
        try SignalLayout.validateOutput(out, count: f.count)
        var report = try plan(f, batch: batch, step: step, time: T, scheme: scheme, options: options)
        let check = options.checkStability
        if report.steps == 0 {
            progress?.begin(total: 0, unitCost: step.pixels)
            try progress?.finish("evolve (\(scheme.name), images)", units: "steps·images")
            if let base = f.baseAddress, UnsafeMutablePointer(mutating: base) != out.baseAddress {
                _ = out.update(fromContentsOf: f)
            }
            if scheme == .implicit { report.residual = 0 }
            return report
        }
        switch scheme {
        case .explicit:
            try ImageExplicit.evolve(f, into: out, batch: batch, step: step, tau: report.tau, steps: report.steps,
                                     checkStability: check, progress: progress)
        case .fsi:
            try ImageFSI.evolve(f, into: out, batch: batch, step: step, tau: report.tau, cycleLength: report.cycleLength,
                                cycles: report.steps, update: report.update ?? .perStep, checkStability: check,
                                progress: progress)
        case .fed:
            try ImageFED.evolve(f, into: out, batch: batch, step: step, tauMax: report.tau,
                                cycleLength: report.cycleLength, cycles: report.steps,
                                ordering: report.ordering ?? .leja, update: report.update ?? .perCycle,
                                checkStability: check, progress: progress)
        case .implicit:
            let r = try ImageImplicit.evolve(
                f, into: out, batch: batch, step: step, tau: report.tau, steps: report.steps,
                iterations: report.iterations ?? EvolveOptions.defaultIterations, tolerance: report.tolerance ?? 0,
                checkContraction: check, progress: progress)
            report.blockEvaluations = r.sweeps
            report.residual = r.residual
        }
        return report
    }

    /// `max_b ‖Σ_c K_cᵀ G_c K_c f_b‖_∞`.
    static func initialRate(_ f: UnsafeBufferPointer<Double>, batch: Int, step: ImageDiffusionStep) throws -> Double {
        let n = step.pixels
        var work = try Memory.zeros(try Memory.sum(n, step.workLength(), for: "work"), for: "the initial-rate work vectors")
        return work.withUnsafeMutableBufferPointer { work in
            let out = UnsafeMutableBufferPointer(rebasing: work[0..<n])
            let w = UnsafeMutableBufferPointer(rebasing: work[n...])
            var rate = 0.0
            for b in 0..<batch {
                let image = UnsafeBufferPointer(rebasing: f[(b * n)..<((b + 1) * n)])
                step.apply(image, base: image, tau: 1, into: out, work: w)
                for i in 0..<n { rate = max(rate, abs(out[i] - image[i])) }
            }
            return rate
        }
    }
}
