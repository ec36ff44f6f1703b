/// FED cycles on images (Grewenig et al. 2010): the step sizes of `FED.stepSizes` in the
/// given ordering, `tauMax` held to the explicit bound of Theorem 2 when `checkStability`;
/// by default the diffusivity is frozen per cycle (`.perCycle`), as for signals.
public enum ImageFED {
    /// Evolves `(batch, height, width)` images by `cycles` FED cycles of length `cycleLength`
    /// (arguments, history, progress and errors as `FED.evolve`).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, tauMax: Double, cycleLength: Int, cycles: Int, ordering: FEDOrdering = .leja,
        update: NonlinearityUpdate = .perCycle, checkStability: Bool = true, recordEvery: Int = 0,
        history: UnsafeMutableBufferPointer<Double>? = nil, progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try ImageLayout.validate(f, batch: batch, step: step)
        try SignalLayout.validateOutput(out, count: f.count)
        let taus = try FED.stepSizes(cycleLength: cycleLength, tauMax: tauMax, ordering: ordering)
        try Check.atLeast(cycles, 0, "cycles")
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: cycles, batch: batch, n: step.pixels)
        if checkStability { try ImageLayout.requireStable(tau: tauMax, step: step, what: "FED scheme (images, tau_max)") }
        try ImageCycles.evolve(
            f, into: out, batch: batch, step: step, taus: taus, extrapolation: nil, cycles: cycles, update: update,
            recorder: recorder, progress: progress, what: "FED scheme (images)", magnitude: magnitude,
            checked: checkStability, tau: tauMax)
    }
}
