/// Fast semi-iterative (FSI) cycles of diffusion blocks (paper eq. 7; Hafner et al. 2016):
///
///     u^{k+(ℓ+1)/L} = α_ℓ·(u^{k+ℓ/L} − τ·Kᵀ Φ(K u^{k+ℓ/L})) + (1 − α_ℓ)·u^{k+(ℓ−1)/L},
///     α_ℓ = (4ℓ + 2)/(2ℓ + 3),   ℓ = 0 … L−1,   u^{k−1/L} := u^k.
///
/// A diffusion block with a second skip connection weighted `1 − α_ℓ` (Fig. 1b). One
/// cycle of length `L` reaches diffusion time `τ·L(L+1)/3` with `L` block
/// evaluations, against `τ·L` for `L` explicit steps. In the linear case a cycle
/// equals a FED cycle with `τ_max = τ` (same polynomial in `KᵀK`), whose modulus is
/// ≤ 1 on the spectrum when τ obeys the explicit bound of Theorem 2 — that bound is
/// what `checkStability` enforces. `update: .perCycle` freezes the diffusivity per
/// cycle, which makes the Euclidean stability a theorem for every diffusivity (see
/// `NonlinearityUpdate`).
public enum FSI {
    /// The extrapolation weight `α_ℓ = (4ℓ+2)/(2ℓ+3)` (α_0 = 2/3, increasing to 2).
    @inlinable
    public static func alpha(_ l: Int) -> Double { Double(4 * l + 2) / Double(2 * l + 3) }

    /// Evolves a row-major `(batch, n)` block of signals `f` by `cycles` FSI cycles of
    /// length `cycleLength` into `out` (which may be the same memory as `f`; otherwise
    /// they must not overlap).
    ///
    /// - Parameters:
    ///   - recordEvery: when > 0, `history` receives the states after cycles
    ///     `0, r, 2r, …` — `cycles / r + 1` blocks of `batch·n` values.
    /// - Throws: before writing `out` or `history`, on any invalid argument
    ///   (`cycleLength` outside `1…CycleLength.maximum`, negative `cycles`, τ not
    ///   positive and finite), a non-finite input, or τ above `2/(sup g·‖K‖²)` when
    ///   `checkStability` is true, or τ so large that the step sizes `α_ℓ·τ` overflow;
    ///   `.cancelled` (with `out` unchanged) when `progress` cancels; `.nonFinite` (with
    ///   `out` unchanged) when the result overflows double precision (`FiniteResult`).
    ///   `progress` counts inner steps·rows (`cycles·L·batch` in all).
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        stencil: Stencil, diffusivity: Diffusivity, tau: Double, cycleLength: Int, cycles: Int,
        update: NonlinearityUpdate = .perStep, checkStability: Bool = true,
        recordEvery: Int = 0, history: UnsafeMutableBufferPointer<Double>? = nil, progress: ProgressReporter? = nil
    ) throws {
        let magnitude = try SignalLayout.validate(f, batch: batch, n: n)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try CycleLength.validate(cycleLength)
        try Check.atLeast(cycles, 0, "cycles")
        let recorder = try HistoryRecorder(history, every: recordEvery, steps: cycles, batch: batch, n: n)
        if checkStability {
            try requireStable(tau: tau, stencil: stencil, diffusivity: diffusivity, n: n, what: "FSI scheme")
        }
        let alphas = (0..<cycleLength).map(alpha)
        let taus = alphas.map { $0 * tau }
        guard taus.allSatisfy(\.isFinite) else {
            throw PDEBlocksError.invalidArgument(
                "tau = \(tau) is too large for double precision: the FSI step sizes α_ℓ·tau (α_ℓ up to 2) overflow")
        }
        try InnerStepCycles.evolve(
            f, into: out, batch: batch, n: n, stencil: stencil, diffusivity: diffusivity,
            taus: taus, extrapolation: alphas, cycles: cycles, update: update,
            recorder: recorder, progress: progress, what: "FSI scheme",
            magnitude: magnitude, checked: checkStability, tauBound: { try? stableTau(stencil: stencil, diffusivity: diffusivity, n: n) },
            tau: tau)
    }
}
