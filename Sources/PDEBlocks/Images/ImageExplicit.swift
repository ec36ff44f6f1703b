/// The explicit scheme on images (paper eq. 4 with a filter bank): `steps` diffusion blocks
///
///     u^{k+1} = u^k − τ Σ_c K_cᵀ G_c(u^k) K_c u^k,   u^0 = f,
///
/// with the coupling of `ImageDiffusionStep`. Stable in the Euclidean norm for
/// `τ ≤ 2/(sup g·λ_max(Σ_c K_cᵀK_c))` (Theorem 2; `ImageStability`); larger τ is refused
/// unless `checkStability` is false.
public enum ImageExplicit {
    /// Evolves a row-major `(batch, height, width)` block of images `f` into `out` (which may
    /// be the same memory as `f`; otherwise they must not overlap). Each image evolves
    /// independently.
    ///
    /// - Parameters:
    ///   - step: the bank, diffusivities, coupling and image size.
    ///   - tau: τ > 0; the stopping time is `steps·τ`. `steps ≥ 0` (0 copies `f`).
    ///   - recordEvery: when > 0, `history` receives `u^0, u^r, u^{2r}, …` — `steps/r + 1`
    ///     blocks of `batch·height·width` values.
    ///   - progress: counts steps·images and can cancel.
    /// - Throws: before writing `out` or `history`, on an invalid argument, a non-finite input
    ///   or τ above the bound (`.unstable`, naming it); `.cancelled` (with `out` unchanged) when
    ///   `progress` cancels; `.nonFinite` (with `out` and `history` unchanged) when the result
    ///   overflows (`FiniteResult`).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, tau: Double, steps: Int, checkStability: Bool = true, recordEvery: Int = 0,
        history: UnsafeMutableBufferPointer<Double>? = nil, progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try ImageLayout.validate(f, batch: batch, step: step)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        let n = step.pixels
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: steps, batch: batch, n: n)
        if checkStability { try ImageLayout.requireStable(tau: tau, step: step, what: "explicit scheme (images)") }
        progress?.begin(steps, times: batch, unitCost: n)
        let check = ImageLayout.mayOverflow(magnitude: magnitude, step: step, largestStep: tau, checked: checkStability)
        let sweep = step.stepsPerSweep
        let taus = UnsafeMutableBufferPointer<Double>.allocate(capacity: sweep)
        defer { taus.deallocate() }
        taus.initialize(repeating: tau)
        try recorder.staged(check || progress != nil) { recorder in
        try FiniteResult.run(out, progress: progress, check: check, n: step.width,
                             what: "explicit scheme on images (\(steps) steps)", cause: {
            FiniteResult.cause(tau: tau, bound: try? step.stableTau(), boundName: "stability bound 2/(sup g·λ_max)",
                               flag: "check_stability", magnitude: magnitude)
        }) { out in
            try ImageLayout.forEachImage(out, batch: batch, step: step, extra: n) { b, image, work, threads in
                var ticker = ProgressTicker(progress)
                if ticker.isCancelled { return }
                let source = UnsafeBufferPointer(rebasing: f[(b * n)..<((b + 1) * n)])
                recorder.record(source, step: 0, signal: b)
                let spare = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                let stepWork = UnsafeMutableBufferPointer(rebasing: work[n...])
                // Several steps per sweep over memory, up to the next recorded step.
                let length = { (k: Int) in
                    recorder.isRecording ? min(sweep, steps - k, recordEvery - k % recordEvery) : min(sweep, steps - k)
                }
                // The first sweep reads `f` itself, and the buffers alternate so that the last
                // sweep writes `image`: no copy in or out (unless `image` is `f`'s memory and
                // the number of sweeps is odd: then one copy at the end).
                var sweeps = 0, k = 0
                while k < steps { k += length(k); sweeps += 1 }
                let aliased = UnsafeMutablePointer(mutating: source.baseAddress!) == image.baseAddress!
                var dst = aliased || sweeps % 2 == 0 ? spare : image
                var src = source
                k = 0
                while k < steps {
                    let s = length(k)
                    step.applySteps(src, taus: UnsafeBufferPointer(rebasing: taus[0..<s]), into: dst,
                                    work: stepWork, threads: threads)
                    src = UnsafeBufferPointer(dst)
                    dst = dst.baseAddress == image.baseAddress ? spare : image
                    k += s
                    recorder.record(src, step: k, signal: b)
                    if !ticker.step(Int64(s)) { break }
                }
                ticker.flush()
                if src.baseAddress != UnsafePointer(image.baseAddress) {
                    _ = image.update(fromContentsOf: src)
                }
            }
            try progress?.finish("explicit scheme (images)", units: "steps·images")
        }
        }
    }
}
