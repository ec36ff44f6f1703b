/// Cycle lengths of the accelerated schemes (FSI, FED) and the cycle-time rule.
///
/// A cycle of length `L` with step size τ (FSI, eq. 7) or with `τ_max = τ` (FED)
/// reaches diffusion time `θ = τ·L(L+1)/3`. Grewenig, Weickert and Bruhn (2010)
/// choose, for a stopping time `T` split into `M` cycles of time `θ = T/M`, the
/// smallest `L` with `τ_bound·L(L+1)/3 ≥ θ`,
///
///     L = ⌈−1/2 + √(1/4 + 3θ/τ_bound)⌉,
///
/// and then shrink the step to `τ = 3θ/(L(L+1)) ≤ τ_bound`, so that `M` cycles reach
/// `T` exactly with every step size within the bound.
public enum CycleLength {
    /// The longest cycle accepted (2^20): one cycle then reaches ≈ 3.7·10¹¹·τ, and the
    /// FED step-size table (`L` doubles) stays small.
    public static let maximum = 1 << 20

    /// The diffusion time `τ·L(L+1)/3` of one cycle.
    public static func cycleTime(tau: Double, cycleLength L: Int) -> Double {
        let time = tau * Double(L) * Double(L + 1) / 3
        // near the top of the range, divide first (a finite cycle time stays finite)
        return time.isFinite ? time : tau / 3 * Double(L) * Double(L + 1)
    }

    /// Throws unless `1 ≤ L ≤ maximum`.
    package static func validate(_ L: Int, _ name: String = "cycle_length") throws {
        try Check.positive(L, name)
        guard L <= maximum else {
            throw PDEBlocksError.invalidArgument("\(name) must be at most \(maximum), got \(L)")
        }
    }

    /// The cycle-time rule: the smallest `L ≥ 1` whose cycle with step `tauBound`
    /// reaches `theta ≥ 0` (up to a relative 1e-14). `tauBound = +∞` gives 1.
    /// Throws when that `L` exceeds `maximum` (the caller should use more cycles).
    public static func forCycleTime(_ theta: Double, tauBound: Double) throws -> Int {
        try Check.finite(theta, "cycle time")
        guard theta >= 0 else { throw PDEBlocksError.invalidArgument("cycle time must be nonnegative, got \(theta)") }
        guard tauBound > 0, !tauBound.isNaN else {
            throw PDEBlocksError.invalidArgument("step-size bound must be positive, got \(tauBound)")
        }
        let ratio = theta / tauBound
        guard ratio <= Double(maximum) * Double(maximum + 1) / 3 else {
            throw PDEBlocksError.invalidArgument(
                "a cycle of time \(theta) needs a cycle length above \(maximum) at step-size bound \(tauBound); use more cycles")
        }
        var L = max(1, Int((-0.5 + (0.25 + 3 * ratio).squareRoot()).rounded(.up)))
        // Correct the rounding of the square root in both directions; a cycle time within
        // a relative 1e-14 of θ counts as reaching it (the caller clamps τ to the bound).
        let target = theta * (1 - 1e-14)
        while L > 1 && cycleTime(tau: tauBound, cycleLength: L - 1) >= target { L -= 1 }
        while cycleTime(tau: tauBound, cycleLength: L) < target { L += 1 }
        guard L <= maximum else {
            throw PDEBlocksError.invalidArgument(
                "a cycle of time \(theta) needs cycle length \(L) > \(maximum) at step-size bound \(tauBound); use more cycles")
        }
        return L
    }
}
