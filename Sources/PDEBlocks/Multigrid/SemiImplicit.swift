/// Semi-implicit (linear-implicit) nonlinear diffusion: the diffusivity is lagged, so
/// each step solves one linear system (paper eq. 8 with `G` evaluated at the old state):
///
///     (I + τ Kᵀ G(u^k) K) u^{k+1} = u^k,   G(u) = diag(g(|K u|²)),   u^0 = f.
///
/// The matrix `A_k = I + τ Kᵀ G K` is symmetric with eigenvalues ≥ 1, so
/// `‖u^{k+1}‖₂ ≤ ‖u^k‖₂` for every τ > 0: unconditionally stable, τ may be far above the
/// explicit bound. For `K` the first-order forward difference, `A_k` is also an M-matrix
/// with unit row sums, so `u^{k+1}` is a convex combination of `u^k`: the discrete
/// maximum–minimum principle holds.
///
/// Each step assembles `A_k` in place (`BandedMatrix.diffusionSystem`) and solves it
/// either directly (`BandedLU`, O(n) for tridiagonal systems — the default) or by
/// multigrid cycles from `u^k` (the hierarchy is built once and re-assembled in place;
/// an `.automatic` transfer becomes `.matrixDependent`, since the weights — and their
/// jumps — change from step to step).
public enum SemiImplicit {
    /// The linear solver of each step.
    public enum Solver: Sendable, Equatable {
        /// Banded LU (no pivoting: the system is SPD).
        case direct
        /// Multigrid cycles from `u^k` until the relative residual is at most `tolerance`
        /// (at most `maxCycles` cycles; not converging is an error).
        case multigrid(MultigridOptions, tolerance: Double, maxCycles: Int)

        /// Multigrid with default options (V(2,2), Gauss–Seidel, automatic transfer),
        /// tolerance 1e-10 and at most 100 cycles per step.
        public static let multigridDefault = Solver.multigrid(MultigridOptions(), tolerance: 1e-10, maxCycles: 100)
    }

    /// What a call did.
    public struct Report: Sendable, Equatable {
        /// Total multigrid cycles over all steps and signals (0 for `.direct`).
        public var cycles: Int
        /// The largest relative residual a multigrid step ended with (0 for `.direct`).
        public var worstRelativeResidual: Double
    }

    /// Evolves each row of the row-major `(batch, n)` block `f` by `steps` semi-implicit
    /// steps into `out` (which may be the same memory as `f`).
    ///
    /// **Conservation as a check.** Every step conserves the mean exactly (`A_k` has unit
    /// column sums) — in exact arithmetic. Rounding in the solve perturbs it by about
    /// `ε·τ‖K‖²·max|u|`; a step whose mean drifts by more than `√ε·max|u|` (half the digits;
    /// with multigrid, also the tolerance's share) is an error naming τ, instead of a result
    /// dominated by rounding (τ ≈ 1e12 and above for unit-scale K). A τ for which `A_k` is
    /// singular to working precision is reported the same way.
    ///
    /// - Throws: before writing `out`, on invalid arguments (`n ≥ 2`, τ > 0 finite,
    ///   `steps ≥ 0`), τ too large for double precision (see above), non-finite input, `n` too small for a multigrid hierarchy, or a
    ///   multigrid step that does not reach its tolerance within `maxCycles`
    ///   (`.notConverged`); `.cancelled` (with `out` unchanged) when `progress` cancels.
    ///   `progress` counts steps·rows; with multigrid its value is the last step's
    ///   relative residual.
    @discardableResult
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil K: Stencil, diffusivity g: Diffusivity, tau: Double, steps: Int, solver: Solver = .direct,
        progress: ProgressReporter? = nil
    ) throws -> Report {
        try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        if case .multigrid(let options, let tol, let maxCycles) = solver {
            try options.validate()
            try Multigrid.validateStopping(tolerance: tol, maxIterations: maxCycles, name: "max_cycles")
        }
        let rows = try StencilRows(K, n: n)
        var A = try BandedMatrix(zeros: n, lower: rows.spread, upper: rows.spread, grid: .cell)
        // Work: the result block (so `out` is written only on success), K u, weights, next state.
        var result = try Memory.zeros(f.count, for: "the semi-implicit result")
        var work = try Memory.zeros(3 * n, for: "the semi-implicit work vectors")
        var report = Report(cycles: 0, worstRelativeResidual: 0)
        // The solver is built from the first system and then re-assembled in place.
        var lu: BandedLU? = nil
        var hierarchy: MultigridHierarchy? = nil
        var workspace: MultigridWorkspace? = nil
        var history: [Double] = []
        if case .multigrid(_, _, let maxCycles) = solver { history.reserveCapacity(min(maxCycles, 1000) + 1) }
        progress?.begin(steps, times: batch, unitCost: 8 * n)
        var ticker = ProgressTicker(progress)
        try result.withUnsafeMutableBufferPointer { res in
            try work.withUnsafeMutableBufferPointer { w in
                let y = UnsafeMutableBufferPointer(rebasing: w[0..<n])
                let weights = UnsafeMutableBufferPointer(rebasing: w[n..<(2 * n)])
                let next = UnsafeMutableBufferPointer(rebasing: w[(2 * n)..<(3 * n)])
                rows: for r in 0..<batch {
                    let u = SignalLayout.row(res, r, n)
                    SignalLayout.copy(f, row: r, n: n, into: u)
                    for step in 0..<steps {
                        var value = Double.nan
                        let before = MeanConservation(UnsafeBufferPointer(u))
                        K.apply(UnsafeBufferPointer(u), into: y)
                        for i in 0..<n { weights[i] = g.g(y[i] * y[i]) }
                        try A.assembleDiffusionSystem(rows, weights: UnsafeBufferPointer(weights), tau: tau)
                        do {
                        switch solver {
                        case .direct where A.lower == 1 && A.upper == 1:
                            // SPD tridiagonal: the two-pass solve, factors not kept (scratch reused)
                            try A.band.withUnsafeBufferPointer { a in
                                _ = try BandedLU.solve(band: a, n: n, lower: 1, upper: 1, u.baseAddress!, into: u.baseAddress!)
                            }
                        case .direct:
                            if lu == nil { lu = try BandedLU(A) } else { try lu!.factor(A) }
                            lu!.solve(UnsafeBufferPointer(u), into: u)
                        case .multigrid(let options, let tol, let maxCycles):
                            if hierarchy == nil {
                                // the weights change every step, so the transfer must follow them
                                var fixed = options
                                if fixed.transfer == .automatic { fixed.transfer = .matrixDependent }
                                hierarchy = try MultigridHierarchy(A, options: fixed)
                                workspace = try MultigridWorkspace(sizes: hierarchy!.sizes)
                            } else {
                                try hierarchy!.update(A)
                            }
                            _ = next.update(fromContentsOf: u)
                            let (reference, stop) = hierarchy!.solveLoop(
                                UnsafeBufferPointer(u), next, ws: workspace!, tolerance: tol, maxCycles: maxCycles,
                                residuals: &history)
                            let last = history.last!
                            guard stop == nil, last <= tol * reference else {
                                throw PDEBlocksError.notConverged(
                                    "semi-implicit step, multigrid: " + (stop ?? "not converged: relative residual "
                                        + "\(reference > 0 ? last / reference : 0) > \(tol) after \(history.count - 1) cycles (max_cycles)"))
                            }
                            report.cycles += history.count - 1
                            _ = ticker.work((history.count - 1) &* 64 &* n)  // the cycles are this step's work
                            if reference > 0 { report.worstRelativeResidual = max(report.worstRelativeResidual, last / reference) }
                            value = reference > 0 ? last / reference : 0
                            _ = u.update(fromContentsOf: next)
                        }
                        } catch PDEBlocksError.invalidArgument(let message) where message.contains("singular") {
                            // I + τKᵀGK has eigenvalues ≥ 1: singular only in rounding, when τ swamps the 1
                            throw PDEBlocksError.invalidArgument(
                                "semi-implicit scheme: tau = \(tau) is too large for double precision — the system "
                                    + "I + tau·KᵀG(u)K (eigenvalues ≥ 1) is singular to working precision at step \(step + 1)"
                                    + (batch > 1 ? ", row \(r)" : "") + " (\(message)); use a smaller tau")
                        }
                        var allowance = MeanConservation.roundingAllowance
                        if case .multigrid(_, let tol, _) = solver { allowance = Swift.max(allowance, 4 * tol) }
                        try before.require(after: UnsafeBufferPointer(u), allowance: allowance) { drift, scale in
                            "semi-implicit scheme: tau = \(tau) is too large for double precision — the step "
                                + "\(step + 1)" + (batch > 1 ? " of row \(r)" : "") + " changed the mean by \(drift) "
                                + "(the scheme conserves it exactly; rounding allows \(allowance * scale)), so the result "
                                + "is dominated by rounding errors; use a smaller tau"
                        }
                        if !ticker.step(value: value) { break rows }
                    }
                }
            }
        }
        ticker.flush()
        try progress?.finish("semi-implicit scheme", units: "steps·rows")
        try result.withUnsafeBufferPointer { res in
            try FiniteResult.require(res, n: n, what: "semi-implicit scheme (\(steps) steps)") {
                "overflow — values beyond double precision (1.8e308) arise from an input of magnitude "
                    + "\(ScaledNorm.largestMagnitude(f)) (max |f|); scale the signal down"
            }
        }
        _ = out.update(fromContentsOf: result)
        return report
    }

    /// One signal.
    public static func evolve(
        _ f: [Double], stencil K: Stencil, diffusivity g: Diffusivity, tau: Double, steps: Int, solver: Solver = .direct,
        progress: ProgressReporter? = nil
    ) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the semi-implicit result")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer {
                _ = try evolve(fb, into: $0, batch: 1, n: f.count, stencil: K, diffusivity: g, tau: tau, steps: steps,
                               solver: solver, progress: progress)
            }
        }
        return out
    }
}

/// The mean of a signal before a step, to check that the step conserved it (`SemiImplicit`).
struct MeanConservation {
    /// `√ε`: a step may move the mean by at most this fraction of `max |u|`.
    static let roundingAllowance = Double.ulpOfOne.squareRoot()
    let mean: Double
    let scale: Double

    init(_ u: UnsafeBufferPointer<Double>) {
        var sum = 0.0, largest = 0.0
        for v in u {
            sum += v
            largest = Swift.max(largest, abs(v))
        }
        mean = sum / Double(Swift.max(u.count, 1))
        scale = largest
    }

    /// Throws `.invalidArgument(message(drift, scale))` when the mean of `after` differs from
    /// `mean` by more than `allowance·max|u|` (plus the rounding of the sums themselves).
    func require(
        after u: UnsafeBufferPointer<Double>, allowance: Double, _ message: (Double, Double) -> String
    ) throws {
        var sum = 0.0
        for v in u { sum += v }
        let drift = abs(sum / Double(Swift.max(u.count, 1)) - mean)
        let limit = (allowance + 4 * Double(u.count) * Double.ulpOfOne) * scale
        guard drift <= limit else {  // (a NaN drift fails too)
            throw PDEBlocksError.invalidArgument(message(drift, scale))
        }
    }
}
