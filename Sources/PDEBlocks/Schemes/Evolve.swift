/// Diffusing to a stopping time: the one call most users need.
///
///     ∂t u = −D*(g(|Du|²) Du),  u(·, 0) = f,  evaluated at t = T,
///
/// with explicit steps (eq. 4), FSI cycles (eq. 7), FED cycles or implicit steps
/// (eqs. 8, 9). `plan` chooses τ (never above the stability bound — for implicit, the
/// contraction bound) and the step or cycle counts so that the steps add up to T
/// exactly; `run` executes that plan and returns it as an `EvolveReport`.
public enum Evolve {
    /// Evolves a row-major `(batch, n)` block of signals `f` to time `T` into `out`
    /// (which may be the same memory as `f`; otherwise they must not overlap).
    /// `progress` reports in the units of the scheme that runs (see `ProgressReporter`).
    /// - Throws: before writing `out`, on invalid signals or any error of `plan`;
    ///   `.cancelled` (with `out` unchanged) when `progress` cancels.
    @discardableResult
    public static func run(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, time T: Double, scheme: Scheme,
        options: EvolveOptions = EvolveOptions(), progress: ProgressReporter? = nil
    ) throws -> EvolveReport {
        try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        let rate = scheme == .implicit && options.tolerance == nil
            ? try initialRate(f, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity) : 0
        var report = try plan(
            time: T, scheme: scheme, stencil: stencil, diffusivity: diffusivity, n: n, options: options,
            initialRate: rate)
        // The plan has checked τ against the bound already (or was told not to).
        let check = options.checkStability
        if report.steps == 0 {
            progress?.begin(total: 0, unitCost: n)
            try progress?.finish("evolve (\(scheme.name))", units: "steps·rows")
            if let base = f.baseAddress, UnsafeMutablePointer(mutating: base) != out.baseAddress {
                _ = out.update(fromContentsOf: f)
            }
            if scheme == .implicit { report.residual = 0 }
            return report
        }
        switch scheme {
        case .explicit:
            try Explicit.evolve(
                f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: report.tau,
                steps: report.steps, checkStability: check, progress: progress)
        case .fsi:
            try FSI.evolve(
                f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: report.tau,
                cycleLength: report.cycleLength, cycles: report.steps, update: report.update ?? .perStep,
                checkStability: check, progress: progress)
        case .fed:
            try FED.evolve(
                f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tauMax: report.tau,
                cycleLength: report.cycleLength, cycles: report.steps, ordering: report.ordering ?? .leja,
                update: report.update ?? .perCycle, checkStability: check, progress: progress)
        case .implicit:
            let sweeps = try Implicit.evolve(
                f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: report.tau,
                steps: report.steps, iterations: report.iterations ?? EvolveOptions.defaultIterations,
                tolerance: report.tolerance ?? 0, checkContraction: check, progress: progress)
            report.blockEvaluations = sweeps.sweeps
            report.residual = sweeps.residual
        }
        return report
    }

    /// `max_b ‖KᵀΦ(K f_b)‖_∞` — the initial rate of change, which scales the default
    /// implicit tolerance. `f` must be validated.
    static func initialRate(
        _ f: UnsafeBufferPointer<Double>, batch: Int, n: Int, stencil: Stencil, diffusivity: Diffusivity
    ) throws -> Double {
        let block = DiffusionStep(stencil: stencil, diffusivity: diffusivity)
        var work = try Memory.zeros(2 * n, for: "the initial-rate work vectors")
        return work.withUnsafeMutableBufferPointer { work in
            let y = UnsafeMutableBufferPointer(rebasing: work[0..<n])
            let step = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
            var rate = 0.0
            for b in 0..<batch {
                let row = UnsafeBufferPointer(rebasing: f[(b * n)..<((b + 1) * n)])
                block.apply(row, base: row, tau: 1, into: step, work: y)  // f − KᵀΦ(Kf)
                for i in 0..<n { rate = max(rate, abs(step[i] - row[i])) }
            }
            return rate
        }
    }

    /// Array convenience: evolves `f` (`batch` signals of length `f.count / batch`)
    /// to time `T` and returns the result with the report.
    public static func run(
        _ f: [Double], batch: Int = 1, stencil: Stencil, diffusivity: Diffusivity, time T: Double,
        scheme: Scheme = .fsi, options: EvolveOptions = EvolveOptions(), progress: ProgressReporter? = nil
    ) throws -> (u: [Double], report: EvolveReport) {
        try Check.positive(batch, "batch")
        guard f.count % batch == 0 else {
            throw PDEBlocksError.invalidArgument("signal holds \(f.count) values, not a multiple of batch = \(batch)")
        }
        var out = try Memory.zeros(f.count, for: "the evolved signals")
        let report = try f.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try run(src, into: dst, batch: batch, n: f.count / batch, stencil: stencil, diffusivity: diffusivity,
                        time: T, scheme: scheme, options: options, progress: progress)
            }
        }
        return (out, report)
    }
}
