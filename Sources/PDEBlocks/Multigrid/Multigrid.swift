/// A multigrid solver for a banded system `A x = b` (paper Sec. 3): a hierarchy built once
/// (`MultigridHierarchy`: transfers, Galerkin coarse operators, smoother data, coarsest LU) and
/// V-, W- or F-cycles over it (`Cycle.swift`), used as a solver (`solve`), one cycle at
/// a time (`cycle`), as a CG preconditioner (`ConjugateGradient`), or in the
/// three-channel U-net form of the paper's Fig. 2b (`unetCycle`).
///
/// Thread safety: the hierarchy is immutable; each call borrows a workspace from a
/// small pool (allocating a new one only when all are in use), so any number of
/// threads may use one `Multigrid` at once.
public final class Multigrid: Sendable {
    let hierarchy: MultigridHierarchy
    /// Fork-safe: a fork() child may use the hierarchy while the parent's threads were.
    private let pool = ForkSafeMutex<[MultigridWorkspace]>([])

    /// Builds the hierarchy for `A`. Throws when the options are invalid, `A` has a zero on
    /// its diagonal, `n ≤ coarsest`, or a coarse matrix is singular.
    public init(_ A: BandedMatrix, options: MultigridOptions = MultigridOptions()) throws {
        hierarchy = try MultigridHierarchy(A, options: options)
    }

    public var options: MultigridOptions { hierarchy.options }
    /// The order of `A`.
    public var n: Int { hierarchy.levels[0].A.n }
    /// Unknowns per level, finest first.
    public var sizes: [Int] { hierarchy.sizes }
    /// The transfer kind in use (`.automatic` resolved).
    public var transferKind: TransferKind { hierarchy.transferKind }

    /// The matrix of level `l` (`0` = `A`; then the Galerkin operators).
    public func matrix(level l: Int) throws -> BandedMatrix {
        try checkLevel(l, coarseAllowed: true)
        return hierarchy.levels[l].A
    }

    /// The transfer between level `l` and `l + 1` (`l < levels − 1`).
    public func transfer(level l: Int) throws -> Transfer {
        try checkLevel(l, coarseAllowed: false)
        return hierarchy.levels[l].transfer!
    }

    func checkLevel(_ l: Int, coarseAllowed: Bool) throws {
        let count = hierarchy.levels.count - (coarseAllowed ? 0 : 1)
        guard l >= 0, l < count else {
            throw PDEBlocksError.invalidArgument("level \(l) is out of range 0..<\(count)")
        }
    }

    /// Runs `body` with a workspace of the pool (or a new one).
    /// Throws `.outOfMemory` when a new workspace cannot be allocated.
    func withWorkspace<R>(_ body: (MultigridWorkspace) throws -> R) throws -> R {
        let ws = try pool.withLock { $0.popLast() } ?? MultigridWorkspace(sizes: hierarchy.sizes)
        defer { pool.withLock { if $0.count < 4 { $0.append(ws) } } }
        return try body(ws)
    }

    func validateVector(_ v: UnsafeBufferPointer<Double>, _ name: String) throws {
        guard v.count == n else {
            throw PDEBlocksError.invalidArgument("\(name) has length \(v.count), expected n = \(n)")
        }
        try VectorFiniteCheck.require(v, name)
    }

    // MARK: - Cycles

    /// One cycle (of the options' kind) on `A x = b`, in place on `x`. `x` and `b` must not
    /// overlap. Throws on wrong lengths or non-finite entries, before touching `x`.
    public func cycle(_ x: UnsafeMutableBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) throws {
        try validateVector(UnsafeBufferPointer(x), "x")
        try validateVector(b, "b")
        try withWorkspace { ws in
            hierarchy.cycle(options.cycle, level: 0, x: x.baseAddress!, b: b.baseAddress!, ws: ws)
        }
    }

    /// One cycle from `x`, returned as a new array.
    public func cycle(_ x: [Double], _ b: [Double]) throws -> [Double] {
        var out = x
        try b.withUnsafeBufferPointer { bb in try out.withUnsafeMutableBufferPointer { try cycle($0, bb) } }
        return out
    }

    // MARK: - Solving

    /// The largest `maxCycles` accepted.
    public static let cycleLimit = 1_000_000

    /// Solves `A x = b` by cycles from `x0` (zero when `nil`) until
    /// `‖b − A x_k‖₂ ≤ tol·‖b‖₂` (relative to `‖r_0‖₂` when `b = 0`), or `maxCycles` cycles.
    ///
    /// Norms never overflow or underflow: `b` and `x0` with entries beyond `2^±200` are
    /// solved scaled by an exact power of two (`ScaledSolve`), and residual norms are
    /// scaled (`ScaledNorm`). Throws `.nonFinite` (with `x` unchanged) when the solution
    /// itself exceeds double precision.
    ///
    /// Never hangs: at most `maxCycles` cycles run; if the tolerance is not met — a
    /// singular or indefinite system, a tolerance below the rounding floor, a divergent
    /// smoother — the report says so (`converged == false`, `message`), and a non-finite
    /// residual stops at once. Note the rounding floor: even the exact solution leaves a
    /// relative residual of about `ε·‖A‖‖x‖/‖b‖` (≈1e-10 for Poisson at n = 2^16, ≈2e-8 at
    /// 2^20), so measure convergence factors with tolerances above it.
    ///
    /// `x` receives the final iterate (also when not converged); it must not overlap `b`
    /// or `x0` (which may be `x` itself only if identical memory).
    ///
    /// `progress` counts cycles (`total = maxCycles`, set to the cycles done by the final
    /// report) with the relative residual as its value; when it cancels, the solve stops
    /// after the current cycle and throws `.cancelled` with `x` unchanged.
    public func solve(
        _ b: UnsafeBufferPointer<Double>, initialGuess x0: UnsafeBufferPointer<Double>?,
        into x: UnsafeMutableBufferPointer<Double>, tolerance: Double = 1e-10, maxCycles: Int = 100,
        progress: ProgressReporter? = nil
    ) throws -> SolveReport {
        try validateVector(b, "b")
        if let x0 { try validateVector(x0, "x0") }
        guard x.count == n else { throw PDEBlocksError.invalidArgument("x has length \(x.count), expected n = \(n)") }
        try Self.validateStopping(tolerance: tolerance, maxIterations: maxCycles, name: "max_cycles")
        progress?.begin(total: Int64(maxCycles), unitCost: 64 * n)
        return try ProgressReporter.staged(x, progress) { x in
            let report = try ScaledSolve.run(b, initialGuess: x0, into: x, what: "multigrid solve") { b, x in
                try withWorkspace { ws in
                    hierarchy.solve(b, x, ws: ws, tolerance: tolerance, maxCycles: maxCycles, progress: progress)
                }
            }
            let relative = report.reference > 0 ? report.residuals.last! / report.reference : 0
            try progress?.finish("multigrid solve", units: "cycles", value: relative, completeTotal: true)
            return report
        }
    }

    /// `solve` on arrays: returns the final iterate and the report.
    public func solve(
        _ b: [Double], initialGuess x0: [Double]? = nil, tolerance: Double = 1e-10, maxCycles: Int = 100,
        progress: ProgressReporter? = nil
    ) throws -> (x: [Double], report: SolveReport) {
        var x = try Memory.zeros(n, for: "the solution")
        let report = try b.withUnsafeBufferPointer { bb in
            try x.withUnsafeMutableBufferPointer { xb in
                if let x0 {
                    return try x0.withUnsafeBufferPointer {
                        try solve(bb, initialGuess: $0, into: xb, tolerance: tolerance, maxCycles: maxCycles,
                                  progress: progress)
                    }
                }
                return try solve(bb, initialGuess: nil, into: xb, tolerance: tolerance, maxCycles: maxCycles,
                                 progress: progress)
            }
        }
        return (x, report)
    }

    static func validateStopping(tolerance: Double, maxIterations: Int, name: String) throws {
        guard tolerance.isFinite, tolerance >= 0 else {
            throw PDEBlocksError.invalidArgument("tol must be finite and nonnegative, got \(tolerance)")
        }
        guard (0...cycleLimit).contains(maxIterations) else {
            throw PDEBlocksError.invalidArgument("\(name) must lie in 0...\(cycleLimit), got \(maxIterations)")
        }
    }
}

extension MultigridHierarchy {
    /// The cycle loop of `Multigrid.solve` on validated buffers; `x` holds the initial guess.
    func solve(
        _ b: UnsafeBufferPointer<Double>, _ x: UnsafeMutableBufferPointer<Double>, ws: MultigridWorkspace,
        tolerance: Double, maxCycles: Int, progress: ProgressReporter? = nil
    ) -> SolveReport {
        var residuals: [Double] = []
        residuals.reserveCapacity(min(maxCycles, 1000) + 1)
        let (reference, stop) = solveLoop(
            b, x, ws: ws, tolerance: tolerance, maxCycles: maxCycles, residuals: &residuals, progress: progress)
        let current = residuals.last!
        let converged = stop == nil && current <= tolerance * reference
        let relative = reference > 0 ? current / reference : 0
        let cycles = residuals.count - 1
        let message = stop ?? (converged
            ? "converged: relative residual \(relative) ≤ \(tolerance) after \(cycles) cycles"
            : "not converged: relative residual \(relative) > \(tolerance) after \(cycles) cycles (max_cycles)")
        return SolveReport(residuals: residuals, reference: reference, converged: converged, message: message)
    }

    /// `‖b − A x‖₂` on `level` without overflow or underflow (`ScaledNorm`): the fused
    /// kernel's sum of squares when it is trustworthy, else the residual stored in `r` and
    /// its scaled norm (only for residuals beyond about 1e±144, so free in practice).
    func residualNorm(
        _ level: MultigridLevel, x: UnsafePointer<Double>, b: UnsafePointer<Double>, r: UnsafeMutablePointer<Double>
    ) -> Double {
        let sumOfSquares = residual(level, x: x, b: b, r: r, store: false)
        if ScaledNorm.isTrustworthy(sumOfSquares: sumOfSquares) { return sumOfSquares.squareRoot() }
        _ = residual(level, x: x, b: b, r: r, store: true)
        return ScaledNorm.rescaled(UnsafeBufferPointer(start: r, count: level.A.n))
    }

    /// Cycles until `‖r‖ ≤ tol·reference` or `maxCycles`; `residuals` (emptied first, its
    /// capacity kept) receives `‖r_0‖, ‖r_1‖, …`. Returns the reference and, if the residual
    /// became non-finite, why it stopped. No allocation when `residuals` has the capacity.
    /// With `progress`, each cycle is a unit (value: the relative residual) and a
    /// cancellation ends the loop after the current cycle (the caller throws).
    func solveLoop(
        _ b: UnsafeBufferPointer<Double>, _ x: UnsafeMutableBufferPointer<Double>, ws: MultigridWorkspace,
        tolerance: Double, maxCycles: Int, residuals: inout [Double], progress: ProgressReporter? = nil
    ) -> (reference: Double, stop: String?) {
        let fine = levels[0]
        residuals.removeAll(keepingCapacity: true)
        let r0 = residualNorm(fine, x: x.baseAddress!, b: b.baseAddress!, r: ws.r[0])
        let normB = ScaledNorm.norm(b)
        let reference = normB > 0 ? normB : r0
        residuals.append(r0)
        guard reference.isFinite else {
            return (reference, "not solved: ‖b‖₂ exceeds double precision (its entries reach "
                + "\(ScaledNorm.largestMagnitude(b))); scale the system down")
        }
        var current = r0
        var ticker = ProgressTicker(progress)
        defer { ticker.flush() }
        for _ in 0..<maxCycles {
            if current <= tolerance * reference || ticker.isCancelled { break }
            cycle(options.cycle, level: 0, x: x.baseAddress!, b: b.baseAddress!, ws: ws)
            current = residualNorm(fine, x: x.baseAddress!, b: b.baseAddress!, r: ws.r[0])
            residuals.append(current)
            let goOn = ticker.step(value: reference > 0 ? current / reference : 0)
            if !current.isFinite {
                return (reference, "diverged: the residual is not finite after \(residuals.count - 1) cycles "
                    + "(the iterate overflowed double precision: the solution is too large, or the cycles diverge)")
            }
            if !goOn { break }
        }
        return (reference, nil)
    }
}
