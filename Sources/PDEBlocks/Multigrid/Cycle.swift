/// The classical multigrid cycles, recursively over the hierarchy's levels:
///
///     cycle(l, x, b):
///         if l is the coarsest level: x = A_l⁻¹ b                       (banded LU)
///         x ← S_pre^{ν₁}(x, b)                                            (pre-smoothing)
///         b_{l+1} = R_l (b − A_l x),  x_{l+1} = 0                          (restrict the residual)
///         V: cycle(l+1)   W: cycle(l+1) twice   F: F-cycle(l+1), then V-cycle(l+1)
///         x ← x + P_l x_{l+1}                                              (coarse-grid correction)
///         x ← S_post^{ν₂}(x, b)                                           (post-smoothing)
extension Hierarchy {
    /// One cycle of kind `kind` on level `l`, in place on `x`. `b` must not alias `x` or the
    /// workspace vectors of levels ≥ `l`.
    func cycle(_ kind: CycleKind, level l: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, ws: Workspace) {
        let last = levels.count - 1
        if l == last {
            coarse.solve(UnsafeBufferPointer(start: b, count: coarse.n), into: UnsafeMutableBufferPointer(start: x, count: coarse.n))
            return
        }
        let level = levels[l]
        guard let t = level.transfer else { return }
        smooth(level, x: x, b: b, post: false, work: ws.r[l])
        let n = level.A.n
        level.A.residual(
            UnsafeBufferPointer(start: x, count: n), UnsafeBufferPointer(start: b, count: n),
            into: UnsafeMutableBufferPointer(start: ws.r[l], count: n))
        t.restrict(UnsafeBufferPointer(start: ws.r[l], count: n), into: UnsafeMutableBufferPointer(start: ws.b[l + 1], count: t.coarse))
        ws.x[l + 1].update(repeating: 0, count: t.coarse)
        switch kind {
        case .v:
            cycle(.v, level: l + 1, x: ws.x[l + 1], b: ws.b[l + 1], ws: ws)
        case .w:
            cycle(.w, level: l + 1, x: ws.x[l + 1], b: ws.b[l + 1], ws: ws)
            if l + 1 < last { cycle(.w, level: l + 1, x: ws.x[l + 1], b: ws.b[l + 1], ws: ws) }
        case .f:
            cycle(.f, level: l + 1, x: ws.x[l + 1], b: ws.b[l + 1], ws: ws)
            if l + 1 < last { cycle(.v, level: l + 1, x: ws.x[l + 1], b: ws.b[l + 1], ws: ws) }
        }
        t.prolongAdd(UnsafeBufferPointer(start: ws.x[l + 1], count: t.coarse), into: UnsafeMutableBufferPointer(start: x, count: n))
        smooth(level, x: x, b: b, post: true, work: ws.r[l])
    }

    /// The pre- (`post == false`) or post-smoothing steps of `options` on one level.
    func smooth(
        _ level: Level, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, post: Bool,
        work: UnsafeMutablePointer<Double>
    ) {
        let times = post ? options.postSmoothing : options.preSmoothing
        guard times > 0 else { return }
        let (first, second) = options.smoother.sweeps(post: post)
        level.scaled.withUnsafeBufferPointer { s in
            let A = level.A
            for _ in 0..<times {
                SmootherKernels.sweep(
                    first, s: s.baseAddress!, n: A.n, lower: A.lower, upper: A.upper, omega: level.omega,
                    b: b, x: x, work: work)
                if let second {
                    SmootherKernels.sweep(
                        second, s: s.baseAddress!, n: A.n, lower: A.lower, upper: A.upper, omega: level.omega,
                        b: b, x: x, work: work)
                }
            }
        }
    }
}
