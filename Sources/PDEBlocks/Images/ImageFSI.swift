/// FSI cycles on images (paper eq. 7 with a filter bank): `α_ℓ = (4ℓ+2)/(2ℓ+3)`, inner step
/// `τ`, one cycle of length L reaching time `τ·L(L+1)/3` (see `FSI`). τ is held to the
/// explicit bound of Theorem 2 (`ImageStability`) when `checkStability`.
public enum ImageFSI {
    /// Evolves `(batch, height, width)` images by `cycles` FSI cycles of length `cycleLength`
    /// (arguments, history, progress and errors as `FSI.evolve`; `update` default `.perStep`).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, tau: Double, cycleLength: Int, cycles: Int, update: NonlinearityUpdate = .perStep,
        checkStability: Bool = true, recordEvery: Int = 0, history: UnsafeMutableBufferPointer<Double>? = nil,
        progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try ImageLayout.validate(f, batch: batch, step: step)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try CycleLength.validate(cycleLength)
        try Check.atLeast(cycles, 0, "cycles")
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: cycles, batch: batch, n: step.pixels)
        if checkStability { try ImageLayout.requireStable(tau: tau, step: step, what: "FSI scheme (images)") }
        let alphas = (0..<cycleLength).map(FSI.alpha)
        let taus = alphas.map { $0 * tau }
        guard taus.allSatisfy(\.isFinite) else {
            throw PDEBlocksError.invalidArgument(
                "tau = \(tau) is too large for double precision: the FSI step sizes α_ℓ·tau (α_ℓ up to 2) overflow")
        }
        try ImageCycles.evolve(
            f, into: out, batch: batch, step: step, taus: taus, extrapolation: alphas, cycles: cycles, update: update,
            recorder: recorder, progress: progress, what: "FSI scheme (images)", magnitude: magnitude,
            checked: checkStability, tau: tau)
    }
}
