/// The explicit scheme (paper eq. 4) — a chain of `steps` diffusion blocks (Theorem 1):
///
///     u^{k+1} = u^k − τ·Kᵀ Φ(K u^k),   u^0 = f.
///
/// Stable in the Euclidean norm for `τ ≤ 2/(sup g·‖K‖₂²)` (Theorem 2, sharpened; see
/// `StabilityBound`). Larger τ is refused unless `checkStability` is false.
public enum Explicit {
    /// Evolves a row-major `(batch, n)` block of signals `f` into `out` (which may be
    /// the same memory as `f`; otherwise they must not overlap). Each signal evolves
    /// independently, so a row's result does not depend on the other rows of the batch.
    ///
    /// - Parameters:
    ///   - f: the initial signals `u^0`, `batch·n` finite values, row-major.
    ///   - out: receives `u^steps`; `batch·n` values.
    ///   - batch: number of signals (≥ 1).
    ///   - n: length of each signal (≥ 2).
    ///   - stencil: `K`, the discretisation of `D`; its exact transpose discretises `D*`.
    ///   - diffusivity: `g`; the activation of each block is `τΦ` with `Φ(s) = g(s²)s` (eq. 3).
    ///   - tau: the step size τ > 0; the stopping time is `steps·τ`.
    ///   - steps: number of steps (diffusion blocks), ≥ 0; 0 copies `f` into `out`.
    ///   - checkStability: when true (the default), throws `.unstable` if
    ///     `τ > stableTau(stencil:diffusivity:n:)` (Theorem 2).
    ///   - recordEvery: when > 0, `history` receives `u^0, u^k, u^{2k}, …` — that is
    ///     `steps / recordEvery + 1` blocks of `batch·n` values, shape `(R, batch, n)`.
    ///   - history: the buffer for `recordEvery > 0`, of exactly that size; ignored when `recordEvery = 0`.
    ///   - progress: reports `done`/`total` in steps·rows and can cancel (see `ProgressReporter`).
    /// - Throws: before writing `out` or `history`, on any invalid argument, on a
    ///   non-finite input, or on an unstable τ; `.cancelled` (with `out` unchanged) when
    ///   `progress` cancels; `.nonFinite` (with `out` and `history` unchanged) when the result overflows double precision — an input
    ///   near 1e308, or τ above the bound with `checkStability` off (`FiniteResult`).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, steps: Int,
        checkStability: Bool = true, recordEvery: Int = 0,
        history: UnsafeMutableBufferPointer<Double>? = nil, progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: steps, batch: batch, n: n)
        if checkStability {
            try requireStable(tau: tau, stencil: stencil, diffusivity: diffusivity, n: n, what: "explicit scheme")
        }
        let step = DiffusionStep(stencil: stencil, diffusivity: diffusivity)
        let inner = Parallelism.threadsForSignal(n: n, batch: batch)
        progress?.begin(steps, times: batch, unitCost: n)
        // Long signals evolve in place, tile by tile (no length-n work buffers to allocate).
        let blocked = TemporalBlocking.applies(n: n, steps: steps, recording: recorder.isRecording, stencil: stencil)
        let check = FiniteResult.mayOverflow(
            magnitude: magnitude, n: n, stencil: stencil, largestStep: tau, checked: checkStability)
        try recorder.staged(check || progress != nil) { recorder in
        try FiniteResult.run(out, progress: progress, check: check, n: n, what: "explicit scheme (\(steps) steps)", cause: {
            FiniteResult.cause(
                tau: tau, bound: try? stableTau(stencil: stencil, diffusivity: diffusivity, n: n),
                boundName: "stability bound 2/(sup g·‖K‖²)", flag: "check_stability", magnitude: magnitude)
        }) { out in
            try Parallelism.forEachRow(batch: batch, n: n, workLength: blocked ? 0 : 2 * n) { b, work in
                var ticker = ProgressTicker(progress)
                if ticker.isCancelled { return }
                let row = SignalLayout.row(out, b, n)
                if blocked {
                    // (no copy of f into the row: the first sweep reads f itself)
                    let tileThreads = batch == 1 ? Parallelism.threads : 1
                    TemporalBlocking.evolve(row, from: f.baseAddress! + b * n, step: step, tau: tau, steps: steps,
                                            threads: tileThreads) { ticker.step(Int64($0)) }
                    ticker.flush()
                    return
                }
                SignalLayout.copy(f, row: b, n: n, into: row)
                recorder.record(row, step: 0, signal: b)
                let y = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                let spare = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
                // Ping-pong between the output row and a spare row: no copy per step.
                var (src, dst) = (row, spare)
                for k in 0..<steps {
                    step.apply(UnsafeBufferPointer(src), base: UnsafeBufferPointer(src), tau: tau, into: dst, work: y, threads: inner)
                    swap(&src, &dst)
                    recorder.record(src, step: k + 1, signal: b)
                    if !ticker.step() { break }
                }
                ticker.flush()
                if src.baseAddress != row.baseAddress { _ = row.update(fromContentsOf: src) }
            }
            try progress?.finish("explicit scheme", units: "steps·rows")
        }
        }
    }

}
