/// The post-condition every scheme applies to its result: finite inputs give a finite
/// output, or the call throws `.nonFinite` naming the scheme, the first non-finite entry
/// (row, column) and the cause — with `out` unchanged.
///
/// **Cost.** Checking needs the result in scratch memory (so that `out` is written only
/// after the check) and one scan. Both are skipped when overflow is impossible: with the
/// step size held to its bound (stability or contraction), every state and intermediate
/// value is bounded by `√n·max|f|` times the operator's gain (`mayOverflow`), so for inputs
/// of ordinary magnitude the hot loops run exactly as before, straight into `out`. Inputs
/// near the top of double precision, or a bound the caller switched off, take the checked
/// path.
enum FiniteResult {
    /// Whether a scheme's values might overflow: always when the step-size check is off;
    /// otherwise when `log₂` of the bound `max|f|·√n·(1 + ‖w‖₁)²·(1 + τ_max)·2^growth`
    /// (`‖w‖₁` the stencil's absolute weight sum, `τ_max` the largest single step,
    /// `growth` an allowance for growth inside a cycle) comes within `2^24` of overflow.
    static func mayOverflow(
        magnitude: Double, n: Int, stencil: Stencil, largestStep tau: Double, log2Growth: Double = 0, checked: Bool
    ) -> Bool {
        guard checked else { return true }
        let w1 = stencil.weights.reduce(0) { $0 + abs($1) }
        let bound = log2(Swift.max(magnitude, 1)) + 0.5 * log2(Double(Swift.max(n, 1))) + 2 * log2(1 + w1)
            + log2(1 + tau) + log2Growth
        return !(bound < 1000)
    }

    /// Runs `body` on the buffer that receives the result: `out` itself, or — when `check`
    /// (or `progress`, which may cancel) — scratch memory committed to `out` only if the
    /// body returns and, when `check`, the result is finite (`require`).
    static func run<R>(
        _ out: UnsafeMutableBufferPointer<Double>, progress: ProgressReporter?, check: Bool, n: Int,
        what: @autoclosure () -> String, cause: () -> String,
        _ body: (UnsafeMutableBufferPointer<Double>) throws -> R
    ) throws -> R {
        guard check || progress != nil, !out.isEmpty else { return try body(out) }
        // Doubles are trivial: the callers write every element before it is read or copied.
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: out.count)
        defer { scratch.deallocate() }
        let result = try body(scratch)
        if check { try require(UnsafeBufferPointer(scratch), n: n, what: what(), cause: cause) }
        _ = out.update(fromContentsOf: scratch)
        return result
    }

    /// Throws `.nonFinite` naming `what`, the first non-finite entry of the row-major
    /// `(·, n)` block `v` and `cause()`, unless every entry is finite.
    static func require(_ v: UnsafeBufferPointer<Double>, n: Int, what: String, cause: () -> String) throws {
        if VectorFiniteCheck.isAllFinite(v) { return }
        let i = v.firstIndex { !$0.isFinite } ?? 0
        throw PDEBlocksError.nonFinite(
            "\(what): the result is not finite (\(v[i]) at row \(i / n), column \(i % n)) although the input is: "
                + cause())
    }

    /// The cause of a non-finite result: the step size above its bound (when the check was
    /// off), else overflow of values too large for double precision.
    static func cause(
        tau: Double, bound: Double?, boundName: String, flag: String, magnitude: Double
    ) -> String {
        if let bound, tau > bound {
            return "tau = \(tau) is above the \(boundName) \(bound) (\(flag)=False), so the iteration grew "
                + "until it overflowed double precision"
        }
        return "overflow — values beyond double precision (1.8e308) arise from an input of magnitude "
            + "\(magnitude) (max |f|); scale the signal down"
    }
}
