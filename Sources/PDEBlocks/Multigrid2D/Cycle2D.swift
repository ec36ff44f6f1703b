/// The classical cycles on a 2D hierarchy (same recursion as `Cycle.swift`):
///
///     cycle(l, x, b): coarsest: x = A_l⁻¹ b
///         x ← S_pre^{ν₁}(x, b);  b_{l+1} = R_l (b − A_l x);  x_{l+1} = 0
///         V: cycle(l+1)   W: twice   F: F-cycle(l+1) then V-cycle(l+1)
///         x ← x + P_l x_{l+1};  x ← S_post^{ν₂}(x, b)
extension MultigridHierarchy2D {
    func cycle(
        _ kind: CycleKind, level l: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>,
        ws: MultigridWorkspace2D, zeroStart: Bool = false
    ) {
        let last = levels.count - 1
        if l == last {
            coarse.solve(b, into: x, scratch: ws.scratch)
            return
        }
        let level = levels[l]
        let t = level.transfer!
        if zeroStart { x.update(repeating: 0, count: level.A.count) }
        smooth(level, x: x, b: b, post: false, work: ws.r[l])
        residualRestricted(level, x: x, b: b, ring: ws.r[l], into: ws.b[l + 1])
        let (xc, bc) = (ws.x[l + 1], UnsafePointer(ws.b[l + 1]))
        switch kind {
        case .v:
            cycle(.v, level: l + 1, x: xc, b: bc, ws: ws, zeroStart: true)
        case .w:
            cycle(.w, level: l + 1, x: xc, b: bc, ws: ws, zeroStart: true)
            if l + 1 < last { cycle(.w, level: l + 1, x: xc, b: bc, ws: ws) }
        case .f:
            cycle(.f, level: l + 1, x: xc, b: bc, ws: ws, zeroStart: true)
            if l + 1 < last { cycle(.v, level: l + 1, x: xc, b: bc, ws: ws) }
        }
        prolongAddBands(t, ws.x[l + 1], into: x, parts: CycleBands2D.parts(height: level.A.height, count: level.A.count))
        smooth(level, x: x, b: b, post: true, work: ws.r[l])
    }

    /// The pre- or post-smoothing sweeps of `options` on one level.
    func smooth(
        _ level: MultigridLevel2D, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, post: Bool,
        work: UnsafeMutablePointer<Double>
    ) {
        let times = post ? options.postSmoothing : options.preSmoothing
        guard times > 0 else { return }
        level.A.coefficients.withUnsafeBufferPointer { c in
            level.inverseDiagonal.withUnsafeBufferPointer { inv in
                var s = FieldSweeper(
                    c: c.baseAddress!, inverseDiagonal: inv.baseAddress!, height: level.A.height, width: level.A.width,
                    fivePoint: level.A.isFivePoint)
                s.symmetric = level.exactlySymmetric
                // 5-point red–black sweeps of large levels run in row bands (same values)
                let parts = level.A.isFivePoint ? CycleBands2D.parts(height: level.A.height, count: level.A.count) : 1
                for _ in 0..<times {
                    switch options.smoother {
                    case .redBlack where parts > 1: s.redBlackBands(reverse: post, x: x, b: b, parts: parts)
                    case .redBlack: s.redBlack(reverse: post, x: x, b: b)
                    case .gaussSeidel: s.lexicographic(backward: post, x: x, b: b)
                    case .forwardGaussSeidel: s.lexicographic(backward: false, x: x, b: b)
                    case .symmetricGaussSeidel:
                        s.lexicographic(backward: false, x: x, b: b)
                        s.lexicographic(backward: true, x: x, b: b)
                    case .jacobi: s.jacobi(omega: level.omega, x: x, b: b, work: work)
                    case .alternatingLine:
                        level.lines!.sweep(c.baseAddress!, fivePoint: level.A.isFivePoint, reverse: post, x: x, b: b)
                    }
                }
            }
        }
    }

    /// `r = b − A x` on a level; returns `‖r‖₂²`.
    @discardableResult
    func residual(
        _ level: MultigridLevel2D, x: UnsafePointer<Double>, b: UnsafePointer<Double>, r: UnsafeMutablePointer<Double>
    ) -> Double {
        level.A.coefficients.withUnsafeBufferPointer { c in
            StencilField2DKernels.residual(
                c.baseAddress!, height: level.A.height, width: level.A.width, fivePoint: level.A.isFivePoint,
                symmetric: level.exactlySymmetric, x: x, b: b, into: r)
        }
    }

    /// `coarse = R (b − A x)` on a level with a transfer, fused: residual rows go to a ring
    /// of three rows in `ring` (≥ min(3, H)·W values) and each coarse row is restricted as
    /// soon as its fine rows `2I…2I+2` exist, so the fine residual is never written out
    /// whole and read back. Same values as `residual` followed by `restrict`.
    func residualRestricted(
        _ level: MultigridLevel2D, x: UnsafePointer<Double>, b: UnsafePointer<Double>,
        ring: UnsafeMutablePointer<Double>, into coarse: UnsafeMutablePointer<Double>
    ) {
        let t = level.transfer!
        let (H, W) = (level.A.height, level.A.width)
        let parts = CycleBands2D.parts(height: H, count: level.A.count)
        if parts > 1 {   // (ring: 3W values per band ≤ n since a band has ≥ 4 rows)
            residualRestrictedBands(level, x: x, b: b, ring: ring, into: coarse, parts: parts)
            return
        }
        level.A.coefficients.withUnsafeBufferPointer { cb in
            let c = cb.baseAddress!
            @inline(__always) func slot(_ i: Int) -> UnsafeMutablePointer<Double> { ring + (i % 3) * W }
            var next = 0
            for I in 0..<t.coarseHeight {
                while next <= min(2 * I + 2, H - 1) {
                    _ = StencilField2DKernels.residualRow(
                        next, c, height: H, width: W, fivePoint: level.A.isFivePoint, symmetric: level.exactlySymmetric,
                        x: x, b: b, into: slot(next))
                    next += 1
                }
                t.restrictRow(
                    I, f0: slot(2 * I), f1: slot(2 * I + 1), f2: 2 * I + 2 < H ? UnsafePointer(slot(2 * I + 2)) : nil,
                    into: coarse + I * t.coarseWidth)
            }
        }
    }

    /// `‖b − A x‖₂` without overflow or underflow. Each residual row goes to the first row
    /// of `r` (overwritten: no n-value store stream); only when the sum of squares
    /// over- or underflows is the whole residual stored in `r` and rescaled.
    func residualNorm(_ x: UnsafePointer<Double>, b: UnsafePointer<Double>, r: UnsafeMutablePointer<Double>) -> Double {
        let level = levels[0]
        let (H, W) = (level.A.height, level.A.width)
        let parts = CycleBands2D.parts(height: H, count: level.A.count)
        // bands: parts·W row values and H row sums fit in r (n = H·W values; W ≥ 2, ≥ 4 rows a band)
        let rowSums = parts > 1 && W >= 2 ? residualSumOfSquaresBands(x, b: b, work: r, parts: parts)
            : level.A.coefficients.withUnsafeBufferPointer { cb in
            var sum = 0.0
            for i in 0..<H {
                sum += StencilField2DKernels.residualRow(
                    i, cb.baseAddress!, height: H, width: W, fivePoint: level.A.isFivePoint, symmetric: level.exactlySymmetric,
                    x: x, b: b, into: r)
            }
            return sum
        }
        if ScaledNorm.isTrustworthy(sumOfSquares: rowSums) { return rowSums.squareRoot() }
        let sumOfSquares = residual(levels[0], x: x, b: b, r: r)
        if ScaledNorm.isTrustworthy(sumOfSquares: sumOfSquares) { return sumOfSquares.squareRoot() }
        return ScaledNorm.rescaled(UnsafeBufferPointer(start: r, count: levels[0].A.count))
    }

    /// The cycle loop of `Multigrid2D.solve` (as `MultigridHierarchy.solve`).
    func solve(
        _ b: UnsafeBufferPointer<Double>, _ x: UnsafeMutableBufferPointer<Double>, ws: MultigridWorkspace2D,
        tolerance: Double, maxCycles: Int, progress: ProgressReporter? = nil
    ) -> SolveReport {
        var residuals: [Double] = []
        residuals.reserveCapacity(min(maxCycles, 1000) + 1)
        let r0 = residualNorm(x.baseAddress!, b: b.baseAddress!, r: ws.r[0])
        let normB = ScaledNorm.norm(b)
        let reference = normB > 0 ? normB : r0
        residuals.append(r0)
        var stop: String? = nil
        if !reference.isFinite {
            stop = "not solved: ‖b‖₂ exceeds double precision; scale the system down"
        } else {
            var current = r0
            var ticker = ProgressTicker(progress)
            defer { ticker.flush() }
            for _ in 0..<maxCycles {
                if current <= tolerance * reference || ticker.isCancelled { break }
                cycle(options.cycle, level: 0, x: x.baseAddress!, b: b.baseAddress!, ws: ws)
                current = residualNorm(x.baseAddress!, b: b.baseAddress!, r: ws.r[0])
                residuals.append(current)
                let goOn = ticker.step(value: reference > 0 ? current / reference : 0)
                if !current.isFinite {
                    stop = "diverged: the residual is not finite after \(residuals.count - 1) cycles"
                    break
                }
                if !goOn { break }
            }
        }
        let current = residuals.last!
        let converged = stop == nil && current <= tolerance * reference
        let relative = reference > 0 ? current / reference : 0
        let cycles = residuals.count - 1
        let message = stop ?? (converged
            ? "converged: relative residual \(relative) ≤ \(tolerance) after \(cycles) cycles"
            : "not converged: relative residual \(relative) > \(tolerance) after \(cycles) cycles (max_cycles)")
        return SolveReport(residuals: residuals, reference: reference, converged: converged, message: message)
    }
}
