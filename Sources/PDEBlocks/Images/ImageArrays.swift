/// Array forms of the image schemes: the same contracts as the buffer forms they call (see
/// those), with `f` a row-major `(batch, height, width)` array of `batch·step.pixels` values
/// (`step` carries the bank, diffusivities, coupling and image size); they return the result
/// as a new array of `f.count` values and leave `f` unchanged. Without a history; record one
/// through the buffer forms. EED and AOS have theirs next to them (`EED`, `AOS`).
///
///     let step = try ImageDiffusionStep(bank: Stencil2D.gradient(), diffusivity: Diffusivity(.peronaMalik, lambda: 0.1),
///                                       coupling: .isotropic, height: 64, width: 80)
///     let (u, report) = try ImageEvolve.run(noisy, step: step, time: 10, scheme: .fed)
extension ImageExplicit {
    /// `evolve(_:into:…)` on arrays: `u^steps` of each image.
    public static func evolve(
        _ f: [Double], batch: Int = 1, step: ImageDiffusionStep, tau: Double, steps: Int,
        checkStability: Bool = true, progress: ProgressReporter? = nil
    ) throws -> [Double] {
        try ImageArrays.run(f) { fb, ob in
            try evolve(fb, into: ob, batch: batch, step: step, tau: tau, steps: steps, checkStability: checkStability,
                       progress: progress)
        }
    }
}

extension ImageFSI {
    /// `evolve(_:into:…)` on arrays: each image after `cycles` FSI cycles.
    public static func evolve(
        _ f: [Double], batch: Int = 1, step: ImageDiffusionStep, tau: Double, cycleLength: Int, cycles: Int,
        update: NonlinearityUpdate = .perStep, checkStability: Bool = true, progress: ProgressReporter? = nil
    ) throws -> [Double] {
        try ImageArrays.run(f) { fb, ob in
            try evolve(fb, into: ob, batch: batch, step: step, tau: tau, cycleLength: cycleLength, cycles: cycles,
                       update: update, checkStability: checkStability, progress: progress)
        }
    }
}

extension ImageFED {
    /// `evolve(_:into:…)` on arrays: each image after `cycles` FED cycles.
    public static func evolve(
        _ f: [Double], batch: Int = 1, step: ImageDiffusionStep, tauMax: Double, cycleLength: Int, cycles: Int,
        ordering: FEDOrdering = .leja, update: NonlinearityUpdate = .perCycle, checkStability: Bool = true,
        progress: ProgressReporter? = nil
    ) throws -> [Double] {
        try ImageArrays.run(f) { fb, ob in
            try evolve(fb, into: ob, batch: batch, step: step, tauMax: tauMax, cycleLength: cycleLength, cycles: cycles,
                       ordering: ordering, update: update, checkStability: checkStability, progress: progress)
        }
    }
}

extension ImageImplicit {
    /// `evolve(_:into:…)` on arrays: each image after `steps` implicit steps, and the sweep report.
    public static func evolve(
        _ f: [Double], batch: Int = 1, step: ImageDiffusionStep, tau: Double, steps: Int, iterations: Int,
        tolerance: Double = 0, checkContraction: Bool = true, progress: ProgressReporter? = nil
    ) throws -> (u: [Double], report: Implicit.Report) {
        var report = Implicit.Report(sweeps: 0, residual: 0, tolerance: tolerance)
        let u = try ImageArrays.run(f) { fb, ob in
            report = try evolve(fb, into: ob, batch: batch, step: step, tau: tau, steps: steps, iterations: iterations,
                                tolerance: tolerance, checkContraction: checkContraction, progress: progress)
        }
        return (u, report)
    }
}

extension ImageEvolve {
    /// `run(_:into:…)` on arrays: each image at time `T`, and what was planned and done.
    public static func run(
        _ f: [Double], batch: Int = 1, step: ImageDiffusionStep, time T: Double, scheme: Scheme = .fsi,
        options: EvolveOptions = EvolveOptions(), progress: ProgressReporter? = nil
    ) throws -> (u: [Double], report: EvolveReport) {
        var report: EvolveReport?
        let u = try ImageArrays.run(f) { fb, ob in
            report = try run(fb, into: ob, batch: batch, step: step, time: T, scheme: scheme, options: options,
                             progress: progress)
        }
        return (u, report!)
    }
}

/// The plumbing of the array forms.
enum ImageArrays {
    /// A new array of `f.count` values (allocation checked) filled by `body(f, out)`.
    static func run(
        _ f: [Double], _ body: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void
    ) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the evolved images")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { try body(fb, $0) }
        }
        return out
    }
}
