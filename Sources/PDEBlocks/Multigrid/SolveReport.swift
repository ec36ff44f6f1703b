/// What an iterative solve did: the residual history and whether it reached its tolerance.
public struct SolveReport: Sendable, Equatable {
    /// `‖b − A x_k‖₂` for `k = 0` (the initial guess), `1, …, iterations`.
    public var residuals: [Double]
    /// `‖b‖₂`, or `‖r_0‖₂` when `b = 0`: the tolerance is relative to it.
    public var reference: Double
    /// Whether `‖r_k‖ ≤ tol·reference` was reached.
    public var converged: Bool
    /// The average residual reduction per iteration, `(‖r_m‖/‖r_0‖)^{1/m}` over the `m`
    /// iterations performed (NaN when `m = 0`). Measured above the rounding floor only
    /// if the tolerance is (see `Multigrid.solve`).
    public var convergenceFactor: Double
    /// A one-line summary (why it stopped).
    public var message: String

    /// The number of cycles (or CG iterations) performed.
    public var iterations: Int { residuals.count - 1 }

    /// Expresses the residuals and the reference of a solve of the system scaled by `2^-e`
    /// in the units of the original one (`factor` = `PowerOfTwo.scale(e)`); the convergence
    /// factor and the flag are scale-free. A residual beyond double precision becomes +∞.
    mutating func rescale(by factor: (Double, Double)) {
        for k in residuals.indices { residuals[k] = PowerOfTwo.times(residuals[k], factor) }
        reference = PowerOfTwo.times(reference, factor)
    }

    init(residuals: [Double], reference: Double, converged: Bool, message: String) {
        self.residuals = residuals
        self.reference = reference
        self.converged = converged
        self.message = message
        let m = residuals.count - 1
        if m > 0, let r0 = residuals.first, r0 > 0, let rm = residuals.last, rm.isFinite {
            convergenceFactor = rm == 0 ? 0 : exp(log(rm / r0) / Double(m))
        } else {
            convergenceFactor = m > 0 ? .infinity : .nan
        }
    }
}
