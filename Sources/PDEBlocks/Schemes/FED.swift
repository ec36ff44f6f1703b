/// Fast explicit diffusion (FED; Grewenig, Weickert, Bruhn 2010): cycles of `L`
/// explicit steps with the varying step sizes
///
///     τ_i = τ_max / (2·cos²(π(2i+1)/(4L+2))),   i = 0 … L−1,
///
/// whose sum is `τ_max·L(L+1)/3`. In the linear case the cycle `Π(I − τ_i KᵀK)` is
/// the same polynomial as an FSI cycle with τ = τ_max (eq. 7), bounded by 1 in
/// modulus on `[0, 2/τ_max]` — so τ_max is held to the explicit bound of Theorem 2.
/// Single steps go far beyond that bound (τ_{L−1} ≈ 2L²·τ_max/π²), which is why the
/// step order matters (`FEDOrdering`) and why, by default, the diffusivity is frozen
/// per cycle (`NonlinearityUpdate.perCycle`), which keeps the Euclidean stability.
public enum FED {
    /// The `L` step sizes of one FED cycle, in the given order.
    /// - Throws: when `cycleLength` is outside `1…CycleLength.maximum` or `tauMax` is
    ///   not positive and finite.
    public static func stepSizes(cycleLength L: Int, tauMax: Double, ordering: FEDOrdering = .plain) throws -> [Double] {
        try CycleLength.validate(L)
        try Check.positiveFinite(tauMax, "tau_max")
        try ordering.validate(L)
        // cos(π(2i+1)/(4L+2)) = sin(π(L−i)/(2L+1)): the sine form keeps full relative
        // accuracy for the small values near i = L−1.
        let denominator = Double(2 * L + 1)
        let plain = (0..<L).map { i -> Double in
            let c = sin(Double.pi * Double(L - i) / denominator)
            return tauMax / (2 * c * c)
        }
        guard plain.allSatisfy(\.isFinite) else {
            throw PDEBlocksError.invalidArgument(
                "tau_max = \(tauMax) is too large for double precision: the FED step sizes (up to "
                    + "tau_max·\(1 / (2 * pow(sin(Double.pi / denominator), 2)))) overflow")
        }
        return ordering.permutation(L).map { plain[$0] }
    }

    /// Evolves a row-major `(batch, n)` block of signals `f` by `cycles` FED cycles of
    /// length `cycleLength` into `out` (which may be the same memory as `f`; otherwise
    /// they must not overlap). Each step is a diffusion block `x − τ_i·KᵀΦ(Kx)`
    /// (`update: .perStep`) or its linearisation with the diffusivity frozen at the
    /// start of the cycle (`.perCycle`, the default).
    ///
    /// - Parameters:
    ///   - recordEvery: when > 0, `history` receives the states after cycles
    ///     `0, r, 2r, …` — `cycles / r + 1` blocks of `batch·n` values.
    /// - Throws: before writing `out` or `history`, on any invalid argument, a
    ///   non-finite input, or `tauMax` above `2/(sup g·‖K‖²)` when `checkStability`, or
    ///   so large that the step sizes overflow; `.cancelled` (with `out` unchanged) when
    ///   `progress` cancels; `.nonFinite` (with `out` unchanged) when the result overflows
    ///   double precision (`FiniteResult`). `progress` counts
    ///   inner steps·rows (`cycles·L·batch` in all).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tauMax: Double, cycleLength: Int, cycles: Int,
        ordering: FEDOrdering = .leja, update: NonlinearityUpdate = .perCycle,
        checkStability: Bool = true, recordEvery: Int = 0, history: UnsafeMutableBufferPointer<Double>? = nil,
        progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        let taus = try stepSizes(cycleLength: cycleLength, tauMax: tauMax, ordering: ordering)
        try Check.atLeast(cycles, 0, "cycles")
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: cycles, batch: batch, n: n)
        if checkStability {
            try requireStable(tau: tauMax, stencil: stencil, diffusivity: diffusivity, n: n, what: "FED scheme (tau_max)")
        }
        try InnerStepCycles.evolve(
            f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity,
            taus: taus, extrapolation: nil, cycles: cycles, update: update,
            recorder: recorder, progress: progress, what: "FED scheme",
            magnitude: magnitude, checked: checkStability, tauBound: { try? stableTau(stencil: stencil, diffusivity: diffusivity, n: n) },
            tau: tauMax)
    }
}
