/// The (preconditioned) conjugate gradient method for a symmetric positive definite
/// banded `A x = b` (Hestenes–Stiefel), optionally preconditioned by one multigrid
/// cycle `z = M r` (one cycle on `A z = r` from `z = 0`).
///
/// A preconditioner must be a symmetric operator, so the multigrid options must have
/// `ν₁ = ν₂`, a smoother whose post-sweep is the adjoint of its pre-sweep (not
/// `.forwardGaussSeidel`) and a V- or W-cycle (`MultigridOptions.isSymmetricCycle`).
/// It should be built from `A` itself (only its size is checked).
public enum ConjugateGradient {
    /// Iterates until `‖r_k‖₂ ≤ tol·‖b‖₂` (relative to `‖r_0‖₂` when `b = 0`) or
    /// `maxIterations` iterations; `r_k` is the recursively updated residual.
    ///
    /// Throws before writing `x` when `A` is not symmetric (1e-12 relative), a vector has the
    /// wrong length or a non-finite entry, or the preconditioner does not qualify. A
    /// breakdown (`pᵀAp ≤ 0` or `rᵀz ≤ 0`: `A` or `M` not positive definite) stops with
    /// `converged == false` and says so in the message. `x` must not overlap `b`.
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
            if let x0 {
                if x0.baseAddress! != UnsafePointer(x.baseAddress!) { x.baseAddress!.update(from: x0.baseAddress!, count: n) }
            } else {
                x.update(repeating: 0)
            }
            // r, z, p, q: each written (residual, preconditioner, copy, product) before it is read
            try Memory.reserve(4 * n, for: "the conjugate gradient vectors")
            var storage = [Double](unsafeUninitializedCapacity: 4 * n) { _, count in count = 4 * n }
            let report = try storage.withUnsafeMutableBufferPointer { work in
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
                var rNorm = A.residual(UnsafeBufferPointer(x), b, into: r).squareRoot()
                let normB = BandKernels.normSquared(b).squareRoot()
                let reference = normB > 0 ? normB : rNorm
                var residuals = [rNorm]
                var stop: String? = nil
                try precondition()
                _ = p.update(fromContentsOf: z)
                var rz = dot(r, z)
                var ticker = ProgressTicker(progress)
                defer { ticker.flush() }
                for _ in 0..<maxIterations {
                    if rNorm <= tolerance * reference || ticker.isCancelled { break }
                    if !(rz > 0) {
                        stop = "breakdown: rᵀz = \(rz) ≤ 0 (the preconditioner is not positive definite)"
                        break
                    }
                    multiply(p, into: q)
                    let pq = dot(p, q)
                    if !(pq > 0) {
                        stop = "breakdown: pᵀAp = \(pq) ≤ 0 (A is not positive definite)"
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
                    rNorm = (ss.sum() + tail).squareRoot()
                    residuals.append(rNorm)
                    _ = ticker.step(value: reference > 0 ? rNorm / reference : 0)
                    if !rNorm.isFinite {
                        stop = "diverged: the residual is not finite"
                        break
                    }
                    try precondition()
                    let rzNew = dot(r, z)
                    let beta = rzNew / rz
                    rz = rzNew
                    for i in 0..<n { p[i] = z[i] + beta * p[i] }
                }
                let converged = rNorm <= tolerance * reference && stop == nil
                let relative = reference > 0 ? rNorm / reference : 0
                let iterations = residuals.count - 1
                let message = stop ?? (converged
                    ? "converged: relative residual \(relative) ≤ \(tolerance) after \(iterations) iterations"
                    : "not converged: relative residual \(relative) > \(tolerance) after \(iterations) iterations (max_iter)")
                return SolveReport(residuals: residuals, reference: reference, converged: converged, message: message)
            }
            let relative = report.reference > 0 ? report.residuals.last! / report.reference : 0
            try progress?.finish("conjugate gradients", units: "iterations", value: relative, completeTotal: true)
            return report
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
