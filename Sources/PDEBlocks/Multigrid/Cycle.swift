/// The classical multigrid cycles, recursively over the hierarchy's levels:
///
///     cycle(l, x, b):
///         if l is the coarsest level: x = A_l⁻¹ b                       (banded LU)
///         x ← S_pre^{ν₁}(x, b)                                            (pre-smoothing)
///         b_{l+1} = R_l (b − A_l x),  x_{l+1} = 0                          (restrict the residual)
///         V: cycle(l+1)   W: cycle(l+1) twice   F: F-cycle(l+1), then V-cycle(l+1)
///         x ← x + P_l x_{l+1}                                              (coarse-grid correction)
///         x ← S_post^{ν₂}(x, b)                                           (post-smoothing)
extension MultigridHierarchy {
    /// One cycle of kind `kind` on level `l`, in place on `x`. `b` must not alias `x` or the
    /// workspace vectors of levels ≥ `l`.
    ///
    /// `zeroStart`: `x` is to be taken as 0 whatever its memory holds (coarse levels); the
    /// first smoothing sweep then writes every entry without reading `x`.
    func cycle(
        _ kind: CycleKind, level l: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, ws: MultigridWorkspace,
        zeroStart: Bool = false
    ) {
        let last = levels.count - 1
        if l == last {
            coarse.solve(UnsafeBufferPointer(start: b, count: coarse.n), into: UnsafeMutableBufferPointer(start: x, count: coarse.n))
            return
        }
        let level = levels[l]
        guard let t = level.transfer else { return }
        smooth(level, x: x, b: b, post: false, work: ws.r[l], zeroStart: zeroStart)
        let n = level.A.n
        if let tri = level.tridiagonal {
            level.A.band.withUnsafeBufferPointer { a in
                t.q.withUnsafeBufferPointer { q in
                    TridiagonalKernels.residualRestrict(
                        tri, a: a.baseAddress!, x: x, b: b, transfer: t, q: q.baseAddress!, into: ws.b[l + 1])
                }
            }
        } else {
            _ = residual(level, x: x, b: b, r: ws.r[l], store: true)
            t.restrict(UnsafeBufferPointer(start: ws.r[l], count: n), into: UnsafeMutableBufferPointer(start: ws.b[l + 1], count: t.coarse))
        }
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
        t.prolongAdd(UnsafeBufferPointer(start: ws.x[l + 1], count: t.coarse), into: UnsafeMutableBufferPointer(start: x, count: n))
        smooth(level, x: x, b: b, post: true, work: ws.r[l])
    }

    /// The pre- (`post == false`) or post-smoothing steps of `options` on one level.
    func smooth(
        _ level: MultigridLevel, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, post: Bool,
        work: UnsafeMutablePointer<Double>, zeroStart: Bool = false
    ) {
        let times = post ? options.postSmoothing : options.preSmoothing
        let (first, second) = options.smoother.sweeps(post: post)
        var skipFirst = false
        let pairs = times >= 2 && second == nil && first == .forward && (level.tridiagonal?.n ?? 0) >= 4
        if zeroStart && !pairs {
            let done = times > 0 && level.tridiagonal.map { t in
                level.scaled.withUnsafeBufferPointer {
                    TridiagonalKernels.sweepFromZero(first, t, s: $0.baseAddress!, omega: level.omega, b: b, x: x)
                }
            } == true
            if done {
                skipFirst = true
            } else {
                x.update(repeating: 0, count: level.A.n)
            }
        }
        guard times > 0 else { return }
        // Gauss–Seidel on a tridiagonal level of n ≥ 4: two sweeps per pass
        if let t = level.tridiagonal, t.n >= 4, second == nil, first == .forward || first == .backward {
            level.scaled.withUnsafeBufferPointer { sb in
                let sp = sb.baseAddress!
                var k = 0
                while k < times {
                    let fresh = zeroStart && k == 0
                    if times - k >= 2 {
                        if first == .forward {
                            TridiagonalKernels.forwardPair(t, s: sp, b: b, x: x, zeroStart: fresh)
                        } else {
                            TridiagonalKernels.backwardPair(t, s: sp, b: b, x: x)
                        }
                        k += 2
                    } else {
                        if !(fresh && skipFirst) {
                            if first == .forward { TridiagonalKernels.forward(t, s: sp, b: b, x: x) } else {
                                TridiagonalKernels.backward(t, s: sp, b: b, x: x)
                            }
                        }
                        k += 1
                    }
                }
            }
            return
        }
        level.scaled.withUnsafeBufferPointer { s in
            let A = level.A
            let sp = s.baseAddress!
            func run(_ sweep: SmootherSweep) {
                    if let t = level.tridiagonal {
                        switch sweep {
                        case .forward: TridiagonalKernels.forward(t, s: sp, b: b, x: x)
                        case .backward: TridiagonalKernels.backward(t, s: sp, b: b, x: x)
                        case .redBlack: TridiagonalKernels.redBlack(t, s: sp, b: b, x: x, blackFirst: false)
                        case .blackRed: TridiagonalKernels.redBlack(t, s: sp, b: b, x: x, blackFirst: true)
                        case .jacobi: TridiagonalKernels.jacobi(t, s: sp, omega: level.omega, b: b, x: x)
                        }
                    } else {
                        SmootherKernels.sweep(
                            sweep, s: sp, n: A.n, lower: A.lower, upper: A.upper, omega: level.omega,
                            b: b, x: x, work: work)
                    }
            }
            for k in 0..<times {
                if !(k == 0 && skipFirst) { run(first) }
                if let second { run(second) }
            }
        }
    }

    /// `‖b − A x‖₂²` on one level. `r` receives `b − A x` when `store`; otherwise it may
    /// still be used as scratch (levels without the tridiagonal kernels).
    func residual(
        _ level: MultigridLevel, x: UnsafePointer<Double>, b: UnsafePointer<Double>, r: UnsafeMutablePointer<Double>, store: Bool
    ) -> Double {
        level.A.band.withUnsafeBufferPointer { a in
            if let t = level.tridiagonal {
                return TridiagonalKernels.residual(t, a: a.baseAddress!, x: x, b: b, r: store ? r : nil)
            }
            let n = level.A.n
            return BandKernels.residual(
                a, n: n, lower: level.A.lower, upper: level.A.upper, UnsafeBufferPointer(start: x, count: n),
                UnsafeBufferPointer(start: b, count: n), into: UnsafeMutableBufferPointer(start: r, count: n))
        }
    }
}
