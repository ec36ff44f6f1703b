/// The implicit scheme as a recurrent network (paper eqs. 8 and 9). Each time step
/// solves the nonlinear system
///
///     u^{k+1} = u^k − τ·Kᵀ Φ(K u^{k+1})                                   (8)
///
/// by fixed-point sweeps started at `x_0 = u^k`,
///
///     x_{ℓ+1} = F(x_ℓ) := u^k − τ·Kᵀ Φ(K x_ℓ),                            (9)
///
/// each one a diffusion block whose skip connection comes from `u^k` rather than
/// from its own input: the recurrent connection of Sec. 2.7. One sweep is exactly
/// one explicit step.
///
/// **Contraction.** `‖F(x) − F(y)‖₂ ≤ τ·L_Φ·‖K‖₂²·‖x − y‖₂`, with `L_Φ = sup|Φ′|` the
/// Lipschitz constant of the flux, so the sweeps converge (Banach) whenever
/// `τ·L_Φ·‖K‖² < 1`, i.e. `τ < 1/(L_Φ·‖K‖²)` (`contractionTau`). That is at most
/// *half* the explicit bound `2/(sup g·‖K‖²)` (L_Φ ≥ Φ′(0) = sup g): solved by these
/// sweeps, the implicit scheme never takes larger steps than the explicit one, and
/// needs at least one block evaluation per step — it is the RNN reading of the
/// scheme, not an accelerator.
///
/// **Stopping.** With `tolerance = 0` every step makes exactly `iterations` sweeps.
/// With `tolerance > 0` a step stops after the first sweep whose update
/// `‖x_{ℓ+1} − x_ℓ‖_∞` is ≤ `tolerance`, or after `iterations` sweeps. That update is
/// the fixed-point residual `‖F(x_ℓ) − x_ℓ‖_∞` of the previous iterate; by
/// contraction (rate q) the returned iterate is within `q/(1−q)` times it (in ‖·‖₂
/// for the ‖·‖₂ update) of the exact solution of (8).
public enum Implicit {
    /// What the fixed-point sweeps did.
    public struct Report: Sendable, Equatable {
        /// Sweeps (= block evaluations) summed over the time steps; the largest over the batch.
        public var sweeps: Int
        /// The largest final update `‖x_L − x_{L−1}‖_∞` (the fixed-point residual of the
        /// last-but-one iterate) over all time steps and signals; 0 when `steps = 0`.
        public var residual: Double
        /// The tolerance the sweeps were asked to reach (0: fixed sweep count).
        public var tolerance: Double

        /// Whether every time step reached the tolerance (with tolerance 0: whether the
        /// sweeps stayed finite). Never true for a NaN or infinite residual.
        public var converged: Bool { residual.isFinite && (tolerance == 0 || residual <= tolerance) }

        public init(sweeps: Int, residual: Double, tolerance: Double) {
            self.sweeps = sweeps
            self.residual = residual
            self.tolerance = tolerance
        }
    }

    /// Evolves a row-major `(batch, n)` block of signals `f` by `steps` implicit steps
    /// into `out` (which may be the same memory as `f`; otherwise they must not overlap).
    ///
    /// - Parameters:
    ///   - iterations: the number of sweeps per step (`tolerance = 0`) or their maximum.
    ///   - tolerance: ≥ 0 and finite; see the type's documentation. Not reaching it is
    ///     not an error: the report's `residual` and `converged` tell.
    ///   - checkContraction: refuse τ with `τ·L_Φ·‖K‖² ≥ 1` (`.unstable`, naming the bound).
    /// - Throws: before writing `out`, on any invalid argument, a non-finite input, or a
    ///   τ that violates the contraction condition; `.cancelled` (with `out` unchanged)
    ///   when `progress` cancels; `.nonFinite` (with `out` unchanged) when the result
    ///   overflows double precision — τ above the contraction bound with
    ///   `checkContraction` off, or an input near 1e308 (`FiniteResult`). `progress` counts time steps·rows, with the last step's
    ///   final update as its value; cancellation is checked between sweeps.
    @discardableResult
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, steps: Int, iterations: Int,
        tolerance: Double = 0, checkContraction: Bool = true, progress: ProgressReporter? = nil
    ) throws -> Report {
        let magnitude = try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        try Check.positive(iterations, "iterations")
        guard tolerance.isFinite, tolerance >= 0 else {
            throw PDEBlocksError.invalidArgument("tol must be nonnegative and finite, got \(tolerance)")
        }
        if checkContraction {
            try requireContraction(tau: tau, stencil: stencil, diffusivity: diffusivity, n: n)
        }
        let block = DiffusionStep(stencil: stencil, diffusivity: diffusivity)
        let inner = Parallelism.threadsForSignal(n: n, batch: batch)
        // Per-row results, reduced after the (possibly parallel) rows: max sweeps, max residual.
        var rowSweeps = try Memory.array(repeating: 0, count: batch, for: "the per-row sweep counts")
        var rowResidual = try Memory.zeros(batch, for: "the per-row residuals")
        progress?.begin(steps, times: batch, unitCost: n)
        let check = FiniteResult.mayOverflow(
            magnitude: magnitude, n: n, stencil: stencil, largestStep: tau, log2Growth: 2, checked: checkContraction)
        try FiniteResult.run(out, progress: progress, check: check, n: n, what: "implicit scheme (\(steps) steps)", cause: {
            FiniteResult.cause(
                tau: tau, bound: try? contractionTau(stencil: stencil, diffusivity: diffusivity, n: n),
                boundName: "contraction bound 1/(L_Φ·‖K‖²)", flag: "check_contraction", magnitude: magnitude)
        }) { out in
            try rowSweeps.withUnsafeMutableBufferPointer { rowSweeps in
                try rowResidual.withUnsafeMutableBufferPointer { rowResidual in
                    try Parallelism.forEachRow(batch: batch, n: n, workLength: 3 * n) { b, work in
                        var ticker = ProgressTicker(progress)
                        if ticker.isCancelled { return }
                        let y = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                        var xa = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
                        var xb = UnsafeMutableBufferPointer(rebasing: work[(2 * n)..<(3 * n)])
                        let row = SignalLayout.row(out, b, n)
                        SignalLayout.copy(f, row: b, n: n, into: row)
                        var uk = row
                        var sweeps = 0
                        var residual = 0.0
                        run: for _ in 0..<steps {
                            // Sweep 1 from x_0 = u^k: one explicit step, into xa.
                            block.apply(UnsafeBufferPointer(uk), base: UnsafeBufferPointer(uk), tau: tau, into: xa, work: y, threads: inner)
                            var update = maxDifference(xa, uk)
                            var l = 1
                            while l < iterations && !(tolerance > 0 && update <= tolerance) {
                                if !ticker.work(n) { break run }  // each sweep is work: the handler is consulted on its pace
                                block.apply(UnsafeBufferPointer(xa), base: UnsafeBufferPointer(uk), tau: tau, into: xb, work: y, threads: inner)
                                update = maxDifference(xb, xa)
                                swap(&xa, &xb)
                                l += 1
                            }
                            sweeps += l
                            if update.isNaN || update > residual { residual = update }  // a NaN sticks
                            // u^{k+1} = xa; the old u^k buffer becomes scratch (no copy).
                            swap(&uk, &xa)
                            if !ticker.step(value: update) { break }
                        }
                        ticker.flush()
                        if uk.baseAddress != row.baseAddress { _ = row.update(fromContentsOf: uk) }
                        rowSweeps[b] = sweeps
                        rowResidual[b] = residual
                    }
                }
            }
            try progress?.finish("implicit scheme", units: "steps·rows")
        }
        var report = Report(sweeps: rowSweeps.max() ?? 0, residual: 0, tolerance: tolerance)
        for r in rowResidual where r.isNaN || r > report.residual { report.residual = r }
        return report
    }

    /// `max_i |a_i − b_i|` (NaN-propagating: a NaN update is reported, not hidden).
    @inline(__always)
    static func maxDifference(_ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>) -> Double {
        var m = 0.0
        for i in a.indices {
            let d = abs(a[i] - b[i])
            if d > m { m = d } else if d.isNaN { return .nan }
        }
        return m
    }
}

/// The contraction bound `1/(L_Φ·‖K‖₂²)` of the implicit scheme's fixed-point sweeps
/// (eq. 9) on signals of length `n`: sweeps with `τ` strictly below it converge.
/// Uses the certified upper bound of `‖K‖²`, so the returned value never exceeds the
/// true bound. `+∞` for the zero operator; an error naming the largest weight when the
/// bound is not representable (as `stableTau`).
public func contractionTau(stencil: Stencil, diffusivity: Diffusivity, n: Int) throws -> Double {
    try Check.positive(n, "n")
    let norm2 = try stencil.scaledNormSquared(n: n)
    return try stepSizeBound(
        1, over: norm2.times(diffusivity.lipschitz), name: "the contraction bound 1/(L_Φ·‖K‖²)",
        what: "the stencil weights (largest |w| = \(stencil.largestWeightMagnitude))")
}

/// Throws `.unstable` with the bound when `tau·L_Φ·‖K‖² ≥ 1`; cheap when τ is clearly
/// below the bound (Gershgorin decides without the exact norm).
func requireContraction(tau: Double, stencil: Stencil, diffusivity: Diffusivity, n: Int) throws {
    let quick = try stencil.normSquaredUpperBound(n: n)
    if quick == 0 || tau * diffusivity.lipschitz * quick < 1 { return }
    let norm2 = try stencil.normSquared(n: n)
    let q = tau * diffusivity.lipschitz * norm2
    guard q < 1 else {
        throw PDEBlocksError.unstable(
            "implicit scheme: tau = \(tau) violates the contraction condition tau·L_Φ·‖K‖² < 1 of the "
                + "fixed-point sweeps (eq. 9): tau·L_Φ·‖K‖² = \(q) with L_Φ = \(diffusivity.lipschitz), "
                + "‖K‖² = \(norm2) (n = \(n)); tau must be below 1/(L_Φ·‖K‖²) = \(1 / (diffusivity.lipschitz * norm2)); "
                + "pass check_contraction=False (Swift: checkContraction: false; C: PDB_UNCHECKED) to run anyway")
    }
}
