/// Linear solves on a rescaled system, shared by `Multigrid.solve` and `ConjugateGradient`.
///
/// `A x = b` and `A (x·2^-e) = b·2^-e` have the same iterates up to the exact factor `2^e`,
/// so when `b` or `x0` has entries beyond `2^±200` — where sums of squares and inner
/// products would overflow or underflow — the solve runs on `b·2^-e` from `x0·2^-e`
/// (`2^e` the magnitude of their largest entry) and its result is scaled back. In range
/// nothing is scaled (bitwise the plain solve). If the solution itself exceeds double
/// precision the call throws `.nonFinite` and `x` is left unchanged.
enum ScaledSolve {
    /// Entries up to this magnitude (and down to its reciprocal) are solved unscaled.
    static let safeMagnitude = 0x1p200

    /// The exponent `e` by which `b` and `x0` are scaled down (`0`: not at all).
    static func exponent(_ b: UnsafeBufferPointer<Double>, _ x0: UnsafeBufferPointer<Double>?) -> Int {
        let largest = Swift.max(ScaledNorm.largestMagnitude(b), x0.map(ScaledNorm.largestMagnitude) ?? 0)
        guard largest > 0, largest > safeMagnitude || largest < 1 / safeMagnitude else { return 0 }
        return Int(largest.exponent)
    }

    /// Runs `solve(b′, x′)` — `x′` holding the initial guess (`x0`, or zeros), receiving the
    /// result — on the system scaled by `2^-e`, then writes `x` and rescales the report.
    /// `what` names the solver in the overflow error.
    static func run(
        _ b: UnsafeBufferPointer<Double>, initialGuess x0: UnsafeBufferPointer<Double>?,
        into x: UnsafeMutableBufferPointer<Double>, what: String,
        _ solve: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> SolveReport
    ) throws -> SolveReport {
        let n = x.count
        let e = exponent(b, x0)
        if e == 0 {
            if let x0, let src = x0.baseAddress {
                if src != UnsafePointer(x.baseAddress!) { x.baseAddress!.update(from: src, count: n) }
            } else {
                x.update(repeating: 0)
            }
            return try solve(b, x)
        }
        var scratch = [Double](unsafeUninitializedCapacity: 2 * n) { _, count in count = 2 * n }
        return try scratch.withUnsafeMutableBufferPointer { s in
            let bs = UnsafeMutableBufferPointer(rebasing: s[0..<n])
            let y = UnsafeMutableBufferPointer(rebasing: s[n..<(2 * n)])
            let down = PowerOfTwo.scale(-e), up = PowerOfTwo.scale(e)
            for i in 0..<n { bs[i] = PowerOfTwo.times(b[i], down) }
            if let x0 { for i in 0..<n { y[i] = PowerOfTwo.times(x0[i], down) } } else { y.update(repeating: 0) }
            var report = try solve(UnsafeBufferPointer(bs), y)
            let largest = ScaledNorm.largestMagnitude(UnsafeBufferPointer(y))
            if largest.isFinite, !PowerOfTwo.times(largest, up).isFinite {
                throw PDEBlocksError.nonFinite(
                    "\(what): the solution overflows double precision (b's entries reach "
                        + "\(ScaledNorm.largestMagnitude(b)), the solution's would reach about \(largest)·2^\(e))")
            }
            for i in 0..<n { x[i] = PowerOfTwo.times(y[i], up) }
            report.rescale(by: up)
            return report
        }
    }
}
