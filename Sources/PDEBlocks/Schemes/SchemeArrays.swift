/// Array forms of the schemes: the same contracts as the buffer forms they call (see
/// those), with `f` and `out` as `[Double]` of `batch·n` values (row-major). Without a
/// history; record one through the buffer forms.
extension Explicit {
    /// `evolve(_:into:…)` on arrays: `out` receives `u^steps` and must already hold `f.count` values.
    public static func evolve(
        _ f: [Double], into out: inout [Double], batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, steps: Int,
        checkStability: Bool = true, progress: ProgressReporter? = nil
    ) throws {
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try evolve(fb, into: ob, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: tau,
                           steps: steps, checkStability: checkStability, progress: progress)
            }
        }
    }
}

extension FSI {
    /// `evolve(_:into:…)` on arrays: `out` must already hold `f.count` values.
    public static func evolve(
        _ f: [Double], into out: inout [Double], batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, cycleLength: Int, cycles: Int,
        update: NonlinearityUpdate = .perStep, checkStability: Bool = true, progress: ProgressReporter? = nil
    ) throws {
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try evolve(fb, into: ob, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: tau,
                           cycleLength: cycleLength, cycles: cycles, update: update,
                           checkStability: checkStability, progress: progress)
            }
        }
    }
}

extension FED {
    /// `evolve(_:into:…)` on arrays: `out` must already hold `f.count` values.
    public static func evolve(
        _ f: [Double], into out: inout [Double], batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tauMax: Double, cycleLength: Int, cycles: Int,
        ordering: FEDOrdering = .leja, update: NonlinearityUpdate = .perCycle,
        checkStability: Bool = true, progress: ProgressReporter? = nil
    ) throws {
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try evolve(fb, into: ob, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tauMax: tauMax,
                           cycleLength: cycleLength, cycles: cycles, ordering: ordering, update: update,
                           checkStability: checkStability, progress: progress)
            }
        }
    }
}

extension Implicit {
    /// `evolve(_:into:…)` on arrays: `out` must already hold `f.count` values.
    @discardableResult
    public static func evolve(
        _ f: [Double], into out: inout [Double], batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, steps: Int, iterations: Int,
        tolerance: Double = 0, checkContraction: Bool = true, progress: ProgressReporter? = nil
    ) throws -> Report {
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try evolve(fb, into: ob, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity, tau: tau,
                           steps: steps, iterations: iterations, tolerance: tolerance,
                           checkContraction: checkContraction, progress: progress)
            }
        }
    }
}
