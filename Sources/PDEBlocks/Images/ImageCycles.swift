/// The loop FSI (eq. 7) and FED share on images: `cycles` cycles of `L` inner diffusion
/// blocks with step sizes `τ_ℓ`, and for FSI the extrapolation
/// `u^{k+(ℓ+1)/L} = α_ℓ·u^{k+ℓ/L} + (1 − α_ℓ)·u^{k+(ℓ−1)/L} − τ_ℓ Σ_c K_cᵀ G_c K_c u^{k+ℓ/L}`
/// (as `InnerStepCycles` for signals). With `update: .perCycle` the diagonals `G_c` are frozen
/// at each cycle's start (the linearised step, `ImageDiffusionStep.freeze`). FED's inner
/// steps run several per sweep over memory (`ImageDiffusionStep.applySteps`).
enum ImageCycles {
    static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, taus: [Double], extrapolation: [Double]?, cycles: Int, update: NonlinearityUpdate,
        recorder: HistoryRecorder, progress: ProgressReporter?, what: String, magnitude: Double, checked: Bool, tau: Double
    ) throws {
        let n = step.pixels
        let lagged = update == .perCycle
        let (perImage, overflow) = cycles.multipliedReportingOverflow(by: taus.count)
        progress?.begin(overflow ? -1 : perImage, times: batch, unitCost: n)
        let check = ImageLayout.mayOverflow(
            magnitude: magnitude, step: step, largestStep: taus.max() ?? 0,
            log2Growth: Double(min(taus.count, 1000)), checked: checked)
        let extra = try Memory.sum(n, lagged ? step.frozenLength : 0, for: "image work buffers")
        let sweep = step.stepsPerSweep
        let stepSizes = UnsafeMutableBufferPointer<Double>.allocate(capacity: taus.count)
        defer { stepSizes.deallocate() }
        _ = stepSizes.initialize(from: taus)
        try recorder.staged(check || progress != nil) { recorder in
        try FiniteResult.run(out, progress: progress, check: check, n: step.width,
                             what: "\(what) (\(cycles) cycles of length \(taus.count))", cause: {
            FiniteResult.cause(tau: tau, bound: try? step.stableTau(), boundName: "stability bound 2/(sup g·λ_max)",
                               flag: "check_stability", magnitude: magnitude)
        }) { out in
            try ImageLayout.forEachImage(out, batch: batch, step: step, extra: extra, lagged: lagged) { b, image, work, threads in
                var ticker = ProgressTicker(progress)
                if ticker.isCancelled { return }
                let spare = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                let frozen = UnsafeMutableBufferPointer(rebasing: work[n..<extra])
                let stepWork = UnsafeMutableBufferPointer(rebasing: work[extra...])
                SignalLayout.copy(f, row: b, n: n, into: image)
                recorder.record(image, step: 0, signal: b)
                var (cur, old) = (image, spare)
                run: for k in 0..<cycles {
                    if lagged { step.freeze(UnsafeBufferPointer(cur), into: frozen, work: stepWork) }
                    if extrapolation == nil {
                        // FED: several inner steps per sweep over memory (`GradientWavefront`).
                        var l = 0
                        while l < taus.count {
                            let s = min(sweep, taus.count - l)
                            step.applySteps(UnsafeBufferPointer(cur), taus: UnsafeBufferPointer(rebasing: stepSizes[l..<(l + s)]),
                                            into: old, work: stepWork, frozen: lagged ? UnsafeBufferPointer(frozen) : nil,
                                            threads: threads)
                            swap(&cur, &old)
                            l += s
                            if !ticker.step(Int64(s)) { break run }
                        }
                        recorder.record(cur, step: k + 1, signal: b)
                        continue
                    }
                    for (l, tau) in taus.enumerated() {
                        var base = cur
                        if let alphas = extrapolation, l > 0 {
                            let a = alphas[l], c = 1 - a
                            for i in 0..<n { old[i] = a * cur[i] + c * old[i] }
                            base = old
                        }
                        step.apply(UnsafeBufferPointer(cur), base: UnsafeBufferPointer(base), tau: tau, into: old,
                                   work: stepWork, frozen: lagged ? UnsafeBufferPointer(frozen) : nil, threads: threads)
                        swap(&cur, &old)
                        if !ticker.step() { break run }
                    }
                    recorder.record(cur, step: k + 1, signal: b)
                }
                ticker.flush()
                if cur.baseAddress != image.baseAddress { _ = image.update(fromContentsOf: cur) }
            }
            try progress?.finish(what, units: "inner steps·images")
        }
        }
    }
}
