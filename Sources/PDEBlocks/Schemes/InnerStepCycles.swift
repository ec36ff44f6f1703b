/// The loop FSI (eq. 7) and FED share: `cycles` cycles of `L` inner diffusion-block steps
/// per signal, with step sizes `τ_ℓ`, and for FSI the extrapolation
///
///     u^{k+(ℓ+1)/L} = α_ℓ·u^{k+ℓ/L} + (1 − α_ℓ)·u^{k+(ℓ−1)/L} − τ_ℓ·Kᵀ Φ(K u^{k+ℓ/L}),
///
/// with `τ_ℓ = α_ℓ·τ` and `u^{k−1/L} := u^k` (so step 0 has base `u^k`). Without
/// extrapolation (FED) every step is `u ← u − τ_ℓ·KᵀΦ(Ku)`. The nonlinearity is evaluated
/// at every inner step, or frozen at each cycle's start (`NonlinearityUpdate`). Two
/// state buffers per signal, swapped after every inner step; rows on threads, a long single
/// signal split by columns; history and progress as the schemes document.
enum InnerStepCycles {
    /// Runs the cycles on validated input (the schemes validate and check stability first).
    /// `extrapolation`, when given, holds `α_ℓ` for ℓ = 0 … L−1 (same length as `taus`).
    static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, taus: [Double], extrapolation: [Double]?, cycles: Int,
        update: NonlinearityUpdate, recorder: HistoryRecorder, progress: ProgressReporter?, what: String,
        magnitude: Double, checked: Bool, tauBound: () -> Double?, tau: Double
    ) throws {
        let block = DiffusionStep(stencil: stencil, diffusivity: diffusivity)
        let inner = Parallelism.threadsForSignal(n: n, batch: batch)
        let frozen = FrozenDiffusivityStep(stencil: stencil, diffusivity: diffusivity)
        let lagged = update == .perCycle
        let (perRow, overflow) = cycles.multipliedReportingOverflow(by: taus.count)
        progress?.begin(overflow ? -1 : perRow, times: batch, unitCost: n)
        // overflow is impossible for ordinary inputs under the bound; otherwise check (FiniteResult),
        // with an allowance of one bit per inner step for growth inside a cycle
        let check = FiniteResult.mayOverflow(
            magnitude: magnitude, n: n, stencil: stencil, largestStep: taus.max() ?? 0,
            log2Growth: Double(Swift.min(taus.count, 1000)), checked: checked)
        try recorder.staged(check || progress != nil) { recorder in
        try FiniteResult.run(out, progress: progress, check: check, n: n, what: "\(what) (\(cycles) cycles of length \(taus.count))",
                             cause: {
            FiniteResult.cause(tau: tau, bound: tauBound(), boundName: "stability bound 2/(sup g·‖K‖²)",
                               flag: "check_stability", magnitude: magnitude)
        }) { out in
            // spare: the second state buffer; y: K x; weights: the frozen g (perCycle only).
            try Parallelism.forEachRow(batch: batch, n: n, workLength: 3 * n) { b, work in
                var ticker = ProgressTicker(progress)
                if ticker.isCancelled { return }
                let spare = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                let y = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
                let weights = UnsafeMutableBufferPointer(rebasing: work[(2 * n)..<(3 * n)])
                let row = SignalLayout.row(out, b, n)
                SignalLayout.copy(f, row: b, n: n, into: row)
                recorder.record(row, step: 0, signal: b)
                // `cur` holds u^{k+ℓ/L}; `old` holds u^{k+(ℓ−1)/L} (FSI) and is overwritten by
                // u^{k+(ℓ+1)/L}: two buffers suffice.
                var (cur, old) = (row, spare)
                run: for k in 0..<cycles {
                    if lagged { frozen.freeze(UnsafeBufferPointer(cur), into: weights) }
                    for (l, tau) in taus.enumerated() {
                        // The base: u^{k+ℓ/L}, or for FSI past step 0 the blend α·cur + (1−α)·old.
                        var base = cur
                        if let alphas = extrapolation, l > 0 {
                            let a = alphas[l], c = 1 - a
                            for i in 0..<n { old[i] = a * cur[i] + c * old[i] }
                            base = old
                        }
                        if lagged {
                            frozen.apply(UnsafeBufferPointer(cur), base: UnsafeBufferPointer(base), tau: tau,
                                         weights: UnsafeBufferPointer(weights), into: old, work: y)
                        } else {
                            block.apply(UnsafeBufferPointer(cur), base: UnsafeBufferPointer(base), tau: tau,
                                        into: old, work: y, threads: inner)
                        }
                        swap(&cur, &old)
                        if !ticker.step() { break run }
                    }
                    recorder.record(cur, step: k + 1, signal: b)
                }
                ticker.flush()
                if cur.baseAddress != row.baseAddress { _ = row.update(fromContentsOf: cur) }
            }
            try progress?.finish(what, units: "inner steps·rows")
        }
        }
    }
}
