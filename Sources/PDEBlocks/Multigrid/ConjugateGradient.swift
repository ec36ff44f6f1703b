/// The (preconditioned) conjugate gradient method for a symmetric positive definite
/// banded `A x = b` (Hestenes–Stiefel), optionally preconditioned by one multigrid
/// cycle `z = M r` (one cycle on `A z = r` from `z = 0`).
///
/// A preconditioner must be a symmetric operator, so the multigrid options must have
/// `ν₁ = ν₂`, a smoother whose post-sweep is the adjoint of its pre-sweep (not
/// `.forwardGaussSeidel`) and a V- or W-cycle (`MultigridOptions.isSymmetricCycle`).
/// It should be built from `A` itself (only its size is checked).
public enum ConjugateGradient {
    /// Iterates until `‖b − A x_k‖₂ ≤ tol·‖b‖₂` (relative to `‖r_0‖₂` when `b = 0`) or
    /// `maxIterations` iterations.
    ///
    /// **Which residual.** Iterations update `r_k` recursively (`r ← r − αAp`), which drifts
    /// away from the true `b − A x_k` near the rounding floor (`≈ ε·‖A‖‖x‖`). When the
    /// recursive residual meets the tolerance, the true residual is computed; convergence
    /// is claimed only if *it* meets the tolerance. Otherwise the iteration restarts from
    /// the true residual (`r = b − Ax`, `p = Mr`) and goes on, up to `maxIterations`.
    /// `SolveReport.residuals` holds the recursive residuals, except that every entry at
    /// such a check — and the last entry, unless a breakdown or a non-finite residual
    /// stopped the iteration — is the true residual, so `converged` and the last residual agree.
    ///
    /// **Scale.** Inner products never overflow or underflow: `b` and `x0` with entries
    /// beyond `2^±200` are solved scaled by an exact power of two (`ScaledSolve`). Throws
    /// `.nonFinite` (with `x` unchanged) when the solution itself exceeds double precision.
    ///
    /// Throws before writing `x` when `A` is not symmetric (1e-12 relative), a vector has the
    /// wrong length or a non-finite entry, or the preconditioner does not qualify. A
    /// breakdown (`pᵀAp ≤ 0` or `rᵀz ≤ 0`: `A` or `M` not positive definite) stops with
    /// `converged == false` and says so in the message; it is the only way the iteration
    /// stops early without converging, other than a non-finite residual. `x` must not overlap `b`.
    ///
    /// `progress` counts iterations (`total = maxIterations`, set to the iterations done
    /// by the final report) with the relative residual as its value; when it cancels, the
    /// solve stops after the current iteration and throws `.cancelled` with `x` unchanged.
    public static func solve(
        _ A: BandedMatrix, _ b: UnsafeBufferPointer<Double>, initialGuess x0: UnsafeBufferPointer<Double>?,
        into x: UnsafeMutableBufferPointer<Double>, tolerance: Double = 1e-10, maxIterations: Int,
        preconditioner: Multigrid? = nil, progress: ProgressReporter? = nil
    ) throws -> SolveReport {
        let n = A.n
        try A.requireVector(b, "b")
        if let x0 { try A.requireVector(x0, "x0") }
        guard x.count == n else { throw PDEBlocksError.invalidArgument("x has length \(x.count), expected n = \(n)") }
        try Multigrid.validateStopping(tolerance: tolerance, maxIterations: maxIterations, name: "max_iter")
        guard A.isSymmetric(relativeTolerance: 1e-12) else {
            throw PDEBlocksError.invalidArgument("conjugate gradients need a symmetric matrix; A is not symmetric")
        }
        if let M = preconditioner {
            guard M.n == n else {
                throw PDEBlocksError.invalidArgument("the preconditioner has order \(M.n), A has order \(n)")
            }
            guard M.options.isSymmetricCycle else {
                throw PDEBlocksError.invalidArgument(
                    "a CG preconditioner must be a symmetric cycle: pre = post, a symmetric smoother "
                        + "(not gauss_seidel_forward) and a V- or W-cycle")
            }
        }
        progress?.begin(total: Int64(maxIterations), unitCost: (preconditioner == nil ? 8 : 64) * n)
        return try ProgressReporter.staged(x, progress) { x in
            let report = try ScaledSolve.run(b, initialGuess: x0, into: x, what: "conjugate gradients") { b, x in
                try iterate(A, b, x, tolerance: tolerance, maxIterations: maxIterations,
                        preconditioner: preconditioner, progress: progress)
            }
            let relative = report.reference > 0 ? report.residuals.last! / report.reference : 0
            try progress?.finish("conjugate gradients", units: "iterations", value: relative, completeTotal: true)
            return report
        }
    }

    /// The iteration on validated buffers; `x` holds the initial guess and receives the result.
    static func iterate(
        _ A: BandedMatrix, _ b: UnsafeBufferPointer<Double>, _ x: UnsafeMutableBufferPointer<Double>,
        tolerance: Double, maxIterations: Int, preconditioner: Multigrid?, progress: ProgressReporter?
    ) throws -> SolveReport {
        let n = A.n
        // r, z, p, q: each written (residual, preconditioner, copy, product) before it is read
        try Memory.reserve(4 * n, for: "the conjugate gradient vectors")
        var storage = [Double](unsafeUninitializedCapacity: 4 * n) { _, count in count = 4 * n }
        return try storage.withUnsafeMutableBufferPointer { work in
            let r = UnsafeMutableBufferPointer(rebasing: work[0..<n])
            let z = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
            let p = UnsafeMutableBufferPointer(rebasing: work[(2 * n)..<(3 * n)])
            let q = UnsafeMutableBufferPointer(rebasing: work[(3 * n)..<(4 * n)])
            func precondition() throws {
                if let M = preconditioner {
                    try M.withWorkspace { ws in
                        M.hierarchy.cycle(
                            M.options.cycle, level: 0, x: z.baseAddress!, b: UnsafePointer(r.baseAddress!), ws: ws, zeroStart: true)
                    }
                } else {
                    _ = z.update(fromContentsOf: r)
                }
            }
            func dot(_ u: UnsafeMutableBufferPointer<Double>, _ v: UnsafeMutableBufferPointer<Double>) -> Double {
                var s = SIMD4<Double>(repeating: 0)
                var i = 0
                while i + 4 <= n {
                    s = s.plusProduct(
                        SIMD4(u[i], u[i + 1], u[i + 2], u[i + 3]), SIMD4(v[i], v[i + 1], v[i + 2], v[i + 3]))
                    i += 4
                }
                var tail = 0.0
                while i < n {
                    tail += u[i] * v[i]
                    i += 1
                }
                return s.sum() + tail
            }
            // A p through the tridiagonal kernels when they apply
            let tri = A.lower == 1 && A.upper == 1 && n >= 3 ? Tridiagonal(A, scaled: A.band) : nil
            func multiply(_ v: UnsafeMutableBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
                if let tri {
                    A.band.withUnsafeBufferPointer {
                        TridiagonalKernels.multiply(tri, a: $0.baseAddress!, x: v.baseAddress!, into: out.baseAddress!)
                    }
                } else {
                    A.multiply(UnsafeBufferPointer(v), into: out)
                }
            }
            /// `into = b − A x` and its norm (overflow-free).
            func trueResidual(into out: UnsafeMutableBufferPointer<Double>) -> Double {
                let sumOfSquares = A.residual(UnsafeBufferPointer(x), b, into: out)
                return ScaledNorm.norm(sumOfSquares: sumOfSquares, of: UnsafeBufferPointer(out))
            }
            var rNorm = trueResidual(into: r)
            let normB = ScaledNorm.norm(b)
            let reference = normB > 0 ? normB : rNorm
            var residuals = [rNorm]
            var stop: String? = nil
            var rz = 0.0
            /// Search direction from the current residual (start and restarts).
            func restart() throws {
                try precondition()
                _ = p.update(fromContentsOf: z)
                rz = dot(r, z)
            }
            try restart()
            var ticker = ProgressTicker(progress)
            defer { ticker.flush() }
            var iterations = 0
            var lastIsTrue = true  // whether residuals.last is b − Ax (not the recursive r)
            while true {
                if rNorm <= tolerance * reference {
                    if iterations == 0 { break }  // r_0 is the true residual
                    // The recursive residual claims convergence: check the true one.
                    rNorm = trueResidual(into: q)
                    residuals[residuals.count - 1] = rNorm
                    lastIsTrue = true
                    if rNorm <= tolerance * reference || !rNorm.isFinite { break }
                    _ = r.update(fromContentsOf: q)
                    try restart()
                }
                if iterations == maxIterations || ticker.isCancelled { break }
                if !(rz > 0) {
                    stop = "breakdown: rᵀz = \(rz) ≤ 0 after \(iterations) iterations "
                        + (preconditioner == nil ? "(A is not positive definite)" : "(the preconditioner is not positive definite)")
                    break
                }
                multiply(p, into: q)
                let pq = dot(p, q)
                if !(pq > 0) {
                    stop = "breakdown: pᵀAp = \(pq) ≤ 0 after \(iterations) iterations (A is not positive definite)"
                    break
                }
                let alpha = rz / pq
                var ss = SIMD4<Double>(repeating: 0)
                var i = 0
                while i + 4 <= n {
                    for k in 0..<4 {
                        x[i + k] += alpha * p[i + k]
                        r[i + k] -= alpha * q[i + k]
                    }
                    let rv = SIMD4(r[i], r[i + 1], r[i + 2], r[i + 3])
                    ss = ss.plusProduct(rv, rv)
                    i += 4
                }
                var tail = 0.0
                while i < n {
                    x[i] += alpha * p[i]
                    r[i] -= alpha * q[i]
                    tail += r[i] * r[i]
                    i += 1
                }
                rNorm = ScaledNorm.norm(sumOfSquares: ss.sum() + tail, of: UnsafeBufferPointer(r))
                residuals.append(rNorm)
                lastIsTrue = false
                iterations += 1
                _ = ticker.step(value: reference > 0 ? rNorm / reference : 0)
                if !rNorm.isFinite {
                    stop = "diverged: the residual is not finite after \(iterations) iterations"
                    break
                }
                if rNorm <= tolerance * reference { continue }  // checked against the true residual above
                try precondition()
                let rzNew = dot(r, z)
                let beta = rzNew / rz
                rz = rzNew
                for i in 0..<n { p[i] = z[i] + beta * p[i] }
            }
            // The last entry is always the true residual.
            if stop == nil, !lastIsTrue {
                let trueNorm = trueResidual(into: q)
                residuals[residuals.count - 1] = trueNorm
                rNorm = trueNorm
            }
            let converged = stop == nil && rNorm <= tolerance * reference
            let relative = reference > 0 ? rNorm / reference : 0
            let message = stop ?? (converged
                ? "converged: relative residual \(relative) ≤ \(tolerance) after \(iterations) iterations"
                : "not converged: relative residual \(relative) > \(tolerance) after \(iterations) iterations (max_iter)")
            return SolveReport(residuals: residuals, reference: reference, converged: converged, message: message)
        }
    }

    /// `solve` on arrays; `maxIterations` defaults to `max(n, 100)`.
    public static func solve(
        _ A: BandedMatrix, _ b: [Double], initialGuess x0: [Double]? = nil, tolerance: Double = 1e-10,
        maxIterations: Int? = nil, preconditioner: Multigrid? = nil, progress: ProgressReporter? = nil
    ) throws -> (x: [Double], report: SolveReport) {
        var x = try Memory.zeros(b.count, for: "the solution")
        let limit = maxIterations ?? min(max(A.n, 100), Multigrid.cycleLimit)
        let report = try b.withUnsafeBufferPointer { bb in
            try x.withUnsafeMutableBufferPointer { xb in
                if let x0 {
                    return try x0.withUnsafeBufferPointer {
                        try solve(A, bb, initialGuess: $0, into: xb, tolerance: tolerance, maxIterations: limit,
                                  preconditioner: preconditioner, progress: progress)
                    }
                }
                return try solve(A, bb, initialGuess: nil, into: xb, tolerance: tolerance, maxIterations: limit,
                                 preconditioner: preconditioner, progress: progress)
            }
        }
        return (x, report)
    }
}
