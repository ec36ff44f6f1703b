/// Fast kernels for tridiagonal levels (`kl = ku = 1`), the common case of 1D multigrid.
///
/// A level's rows are split into a *constant run* — interior rows that all equal one row,
/// as in the Poisson matrix and its Galerkin operators — and the remaining rows. Inside
/// the run the coefficients are registers, so a sweep streams only `x` and `b`; outside
/// it they are read from the band (`a`) or the scaled rows (`s`, see `SmootherKernels`).
/// The loops are specialised for both cases through `TriRows`, and every Gauss–Seidel
/// chain `x_i ← … + s_{i,i−1}·x_{i−1}` is a single fused multiply–add.
///
/// All kernels compute exactly what the generic band kernels compute (up to the order of
/// floating-point operations).
struct Tridiagonal: Sendable {
    let n: Int
    /// Rows with the constant coefficients (inside `1 ..< n−1`; possibly empty).
    let run: Range<Int>
    /// The run's row of `A`: `(a_{i,i−1}, a_ii, a_{i,i+1})`.
    let a: (Double, Double, Double)
    /// The run's scaled row: `(−a_{i,i−1}/a_ii, 1/a_ii, −a_{i,i+1}/a_ii)`.
    let s: (Double, Double, Double)

    /// Finds the longest run of identical interior rows of `A` around its middle row; runs
    /// shorter than a quarter of the rows are not used.
    init(_ A: BandedMatrix, scaled: [Double]) {
        precondition(A.lower == 1 && A.upper == 1)
        n = A.n
        guard n >= 3 else {
            run = 1..<1
            a = (0, 0, 0)
            s = (0, 0, 0)
            return
        }
        let count = A.n
        let mid = count / 2
        let (lo, hi) = A.band.withUnsafeBufferPointer { band in
            func same(_ i: Int) -> Bool {
                band[3 * i] == band[3 * mid] && band[3 * i + 1] == band[3 * mid + 1] && band[3 * i + 2] == band[3 * mid + 2]
            }
            var lo = mid, hi = mid + 1
            while lo > 1 && same(lo - 1) { lo -= 1 }
            while hi < count - 1 && same(hi) { hi += 1 }
            return (lo, hi)
        }
        if hi - lo >= max(1, n / 4) {
            run = lo..<hi
        } else {
            run = mid..<mid
        }
        a = (A.band[3 * mid], A.band[3 * mid + 1], A.band[3 * mid + 2])
        s = (scaled[3 * mid], scaled[3 * mid + 1], scaled[3 * mid + 2])
    }
}

/// Row coefficients, either constant or read from a 3-per-row array.
protocol TriRows {
    func l(_ i: Int) -> Double
    func d(_ i: Int) -> Double
    func u(_ i: Int) -> Double
}

struct TriConstantRows: TriRows {
    let c: (Double, Double, Double)
    @inline(__always) func l(_ i: Int) -> Double { c.0 }
    @inline(__always) func d(_ i: Int) -> Double { c.1 }
    @inline(__always) func u(_ i: Int) -> Double { c.2 }
}

struct TriArrayRows: TriRows {
    let p: UnsafePointer<Double>
    @inline(__always) func l(_ i: Int) -> Double { p[3 &* i] }
    @inline(__always) func d(_ i: Int) -> Double { p[3 &* i &+ 1] }
    @inline(__always) func u(_ i: Int) -> Double { p[3 &* i &+ 2] }
}

/// The sweeps and residuals on a tridiagonal level. `s` = scaled rows, `a` = band of `A`
/// (3 per row each); `x`, `b`, `r` have length `n ≥ 3`.
enum TridiagonalKernels {
    // MARK: Gauss–Seidel

    /// Forward sweep: `x_i ← s_{i,i−1} x_{i−1} + s_ii b_i + s_{i,i+1} x_{i+1}`, `i = 0 … n−1`.
    static func forward(_ t: Tridiagonal, s: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>) {
        let n = t.n
        var prev = (s[2] * x[1]).plusProduct(s[1], b[0])
        x[0] = prev
        @inline(__always) func sweep<R: TriRows>(_ c: R, _ range: Range<Int>) {
            for i in range {
                let t = (c.u(i) * x[i &+ 1]).plusProduct(c.d(i), b[i])
                prev = t.plusProduct(c.l(i), prev)
                x[i] = prev
            }
        }
        let (lo, hi) = t.bounds
        sweep(TriArrayRows(p: s), 1..<lo)
        sweep(TriConstantRows(c: t.s), lo..<hi)
        sweep(TriArrayRows(p: s), hi..<(n - 1))
        let l = n - 1
        x[l] = (s[3 * l + 1] * b[l]).plusProduct(s[3 * l], prev)
    }

    /// Backward sweep: the same update for `i = n−1 … 0`.
    static func backward(_ t: Tridiagonal, s: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>) {
        let n = t.n
        let l = n - 1
        var next = (s[3 * l + 1] * b[l]).plusProduct(s[3 * l], x[l - 1])
        x[l] = next
        @inline(__always) func sweep<R: TriRows>(_ c: R, _ range: Range<Int>) {
            var i = range.upperBound &- 1
            while i >= range.lowerBound {
                let t = (c.l(i) * x[i &- 1]).plusProduct(c.d(i), b[i])
                next = t.plusProduct(c.u(i), next)
                x[i] = next
                i &-= 1
            }
        }
        let (lo, hi) = t.bounds
        sweep(TriArrayRows(p: s), hi..<(n - 1))
        sweep(TriConstantRows(c: t.s), lo..<hi)
        sweep(TriArrayRows(p: s), 1..<lo)
        x[0] = (s[1] * b[0]).plusProduct(s[2], next)
    }

    // MARK: Red–black Gauss–Seidel (both colours in one pass)

    /// Red (odd `i`) then black (even `i`) — or black then red when `blackFirst` — as one
    /// pass over the pairs `(2j, 2j+1)`: a second-colour unknown is updated as soon as both
    /// its first-colour neighbours are, which is the same result as two separate colour sweeps
    /// (each colour's updates are independent of each other).
    static func redBlack(
        _ t: Tridiagonal, s: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>,
        blackFirst: Bool
    ) {
        let n = t.n
        let (lo, hi) = t.bounds
        let sc = TriArrayRows(p: s), cc = TriConstantRows(c: t.s)
        @inline(__always) func relax<R: TriRows>(_ c: R, _ i: Int) {
            var v = c.d(i) * b[i]
            if i > 0 { v = v.plusProduct(c.l(i), x[i &- 1]) }
            if i < n &- 1 { v = v.plusProduct(c.u(i), x[i &+ 1]) }
            x[i] = v
        }
        @inline(__always) func relaxAny(_ i: Int) {
            if i >= lo && i < hi { relax(cc, i) } else { relax(sc, i) }
        }
        // first colour at index i, then second colour at the index just behind it
        let first = blackFirst ? 0 : 1
        var i = first
        // leading part (generic)
        @inline(__always) func step(_ i: Int) {
            relaxAny(i)
            if i &- 1 >= 0 { relaxAny(i &- 1) }
        }
        // the indices i with i−1, i, i+1 inside the run use the constant loop
        let cLo = max(lo + 1, 1), cHi = min(hi - 1, n - 1)
        while i < n && i < cLo {
            step(i)
            i += 2
        }
        let (sl, sd, su) = t.s
        while i < cHi {
            x[i] = (su * x[i &+ 1]).plusProduct(sd, b[i]).plusProduct(sl, x[i &- 1])
            let j = i &- 1
            x[j] = (su * x[i]).plusProduct(sd, b[j]).plusProduct(sl, x[j &- 1])
            i &+= 2
        }
        while i < n {
            step(i)
            i += 2
        }
        // the last second-colour unknown (index n−1) if the first colour ended at n−2
        if i == n { relaxAny(n - 1) }
    }

    // MARK: Jacobi

    /// `x ← (1−ω) x + ω (s_{i,i−1} x_{i−1} + s_ii b_i + s_{i,i+1} x_{i+1})` with the old `x`
    /// kept one step behind in registers (no work vector).
    static func jacobi(
        _ t: Tridiagonal, s: UnsafePointer<Double>, omega: Double, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>
    ) {
        let n = t.n
        let keep = 1 - omega
        var oldPrev = x[0], oldCur = x[1]
        x[0] = keep * oldPrev + omega * (s[1] * b[0]).plusProduct(s[2], oldCur)
        @inline(__always) func sweep<R: TriRows>(_ c: R, _ range: Range<Int>) {
            for i in range {
                let oldNext = x[i &+ 1]
                let v = (c.l(i) * oldPrev).plusProduct(c.d(i), b[i]).plusProduct(c.u(i), oldNext)
                x[i] = (keep * oldCur).plusProduct(omega, v)
                oldPrev = oldCur
                oldCur = oldNext
            }
        }
        let (lo, hi) = t.bounds
        sweep(TriArrayRows(p: s), 1..<lo)
        sweep(TriConstantRows(c: t.s), lo..<hi)
        sweep(TriArrayRows(p: s), hi..<(n - 1))
        let l = n - 1
        x[l] = (keep * oldCur).plusProduct(omega, (s[3 * l] * oldPrev).plusProduct(s[3 * l + 1], b[l]))
    }

    // MARK: Residuals

    /// `‖b − A x‖₂²`, storing `r = b − A x` unless `r` is nil.
    static func residual(
        _ t: Tridiagonal, a: UnsafePointer<Double>, x: UnsafePointer<Double>, b: UnsafePointer<Double>,
        r: UnsafeMutablePointer<Double>?
    ) -> Double {
        let n = t.n
        var s0 = 0.0, s1 = 0.0
        @inline(__always) func rows<R: TriRows>(_ c: R, _ range: Range<Int>) {
            var i = range.lowerBound
            while i &+ 1 < range.upperBound {
                let v0 = b[i] - (c.l(i) * x[i &- 1]).plusProduct(c.d(i), x[i]).plusProduct(c.u(i), x[i &+ 1])
                let j = i &+ 1
                let v1 = b[j] - (c.l(j) * x[j &- 1]).plusProduct(c.d(j), x[j]).plusProduct(c.u(j), x[j &+ 1])
                if let r {
                    r[i] = v0
                    r[j] = v1
                }
                s0 = s0.plusProduct(v0, v0)
                s1 = s1.plusProduct(v1, v1)
                i &+= 2
            }
            if i < range.upperBound {
                let v0 = b[i] - (c.l(i) * x[i &- 1]).plusProduct(c.d(i), x[i]).plusProduct(c.u(i), x[i &+ 1])
                r?[i] = v0
                s0 = s0.plusProduct(v0, v0)
            }
        }
        let v0 = b[0] - (a[1] * x[0]).plusProduct(a[2], x[1])
        let l = n - 1
        let vl = b[l] - (a[3 * l] * x[l - 1]).plusProduct(a[3 * l + 1], x[l])
        r?[0] = v0
        r?[l] = vl
        let (lo, hi) = t.bounds
        rows(TriArrayRows(p: a), 1..<lo)
        rows(TriConstantRows(c: t.a), lo..<hi)
        rows(TriArrayRows(p: a), hi..<(n - 1))
        return (s0 + s1) + (v0 * v0 + vl * vl)
    }
}

extension TridiagonalKernels {
    /// `out = A x`.
    static func multiply(_ t: Tridiagonal, a: UnsafePointer<Double>, x: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let n = t.n
        @inline(__always) func rows<R: TriRows>(_ c: R, _ range: Range<Int>) {
            for i in range { out[i] = (c.l(i) * x[i &- 1]).plusProduct(c.d(i), x[i]).plusProduct(c.u(i), x[i &+ 1]) }
        }
        out[0] = (a[1] * x[0]).plusProduct(a[2], x[1])
        let l = n - 1
        out[l] = (a[3 * l] * x[l - 1]).plusProduct(a[3 * l + 1], x[l])
        let (lo, hi) = t.bounds
        rows(TriArrayRows(p: a), 1..<lo)
        rows(TriConstantRows(c: t.a), lo..<hi)
        rows(TriArrayRows(p: a), hi..<(n - 1))
    }
}

extension Tridiagonal {
    /// The constant run clamped to the interior rows `1 ..< n−1`, as `(lo, hi)` with `lo ≤ hi`.
    var bounds: (Int, Int) {
        let lo = min(max(1, run.lowerBound), n - 1)
        let hi = max(lo, min(n - 1, run.upperBound))
        return (lo, hi)
    }
}

// MARK: - Sweeps from a zero iterate (the first coarse-level sweep: no zero fill, no reads of x)

extension TridiagonalKernels {
    /// The first sweep of `sweep` on `x = 0`, writing every `x_i` (the old `x` is not read).
    /// Returns false for sweeps without such a variant (the caller zero-fills instead).
    static func sweepFromZero(
        _ sweep: SmootherSweep, _ t: Tridiagonal, s: UnsafePointer<Double>, omega: Double, b: UnsafePointer<Double>,
        x: UnsafeMutablePointer<Double>
    ) -> Bool {
        let n = t.n
        let (lo, hi) = t.bounds
        switch sweep {
        case .forward:
            // x_i = s_ii b_i + s_{i,i−1} x_{i−1} (the right neighbour is still 0)
            var prev = s[1] * b[0]
            x[0] = prev
            @inline(__always) func run<R: TriRows>(_ c: R, _ range: Range<Int>) {
                for i in range {
                    prev = (c.d(i) * b[i]).plusProduct(c.l(i), prev)
                    x[i] = prev
                }
            }
            run(TriArrayRows(p: s), 1..<lo)
            run(TriConstantRows(c: t.s), lo..<hi)
            run(TriArrayRows(p: s), hi..<n)
            return true
        case .jacobi:
            @inline(__always) func run<R: TriRows>(_ c: R, _ range: Range<Int>) {
                for i in range { x[i] = omega * (c.d(i) * b[i]) }
            }
            run(TriArrayRows(p: s), 0..<lo)
            run(TriConstantRows(c: t.s), lo..<hi)
            run(TriArrayRows(p: s), hi..<n)
            return true
        case .redBlack:
            // red (odd) unknowns see only zeros: x_i = s_ii b_i; then the regular black update
            var i = 1
            while i < n {
                x[i] = s[3 * i + 1] * b[i]
                i += 2
            }
            i = 0
            while i < n {
                var v = s[3 * i + 1] * b[i]
                if i > 0 { v = v.plusProduct(s[3 * i], x[i - 1]) }
                if i < n - 1 { v = v.plusProduct(s[3 * i + 2], x[i + 1]) }
                x[i] = v
                i += 2
            }
            return true
        case .backward, .blackRed:
            return false
        }
    }

    // MARK: - Residual and restriction in one pass

    /// `c = R (b − A x)` without storing the residual: each coarse value takes the residuals
    /// of fine rows `2J−1 … 2J+2`, computed once and carried along. Rows in `A`'s constant run
    /// whose restriction weights are uniform use register constants; the rest read the band
    /// and the weights. Same values as `residual` followed by `Transfer.restrict`, up to the
    /// order of floating-point operations.
    static func residualRestrict(
        _ t: Tridiagonal, a: UnsafePointer<Double>, x: UnsafePointer<Double>, b: UnsafePointer<Double>,
        transfer tr: Transfer, q: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>
    ) {
        let n = t.n, nc = tr.coarse, s = tr.scale
        let (alo, ahi) = t.bounds
        @inline(__always) func r(_ i: Int) -> Double {
            guard i >= 0 && i < n else { return 0 }
            var v = b[i] - a[3 &* i &+ 1] * x[i]
            if i > 0 { v -= a[3 &* i] * x[i &- 1] }
            if i < n &- 1 { v -= a[3 &* i &+ 2] * x[i &+ 1] }
            return v
        }
        // weight of fine row i in coarse value J (its lower column lo(i), or lo(i)+1)
        @inline(__always) func qHi(_ i: Int) -> Double { i >= 0 && i < n ? q[2 &* i &+ 1] : 0 }
        @inline(__always) func qLo(_ i: Int) -> Double { i >= 0 && i < n ? q[2 &* i] : 0 }
        @inline(__always) func generic(_ J: Int) {
            let i = 2 &* J
            c[J] = s * ((qHi(i &- 1) * r(i &- 1) + qHi(i) * r(i)) + (qLo(i &+ 1) * r(i &+ 1) + qLo(i &+ 2) * r(i &+ 2)))
        }
        // the fast range: rows 2J−1 … 2J+2 inside the constant run, pairs J−1 … J+1 uniform
        // (clamped to nc: a coarse level of one or two values has no fast range at all)
        let jLo = min(nc, max(1, (alo + 2) / 2, tr.uniform.lowerBound + 1))
        let jHi = max(jLo, min(nc, (ahi - 1) / 2, tr.uniform.upperBound - 1))
        for J in 0..<jLo { generic(J) }
        if jLo < jHi {
            let (al, ad, au) = t.a
            let w = tr.uniformQ
            let (v0, v1, v2, v3) = (s * w[0], s * w[1], s * w[2], s * w[3])
            @inline(__always) func rc(_ i: Int) -> Double {
                b[i] - (al * x[i &- 1]).plusProduct(ad, x[i]).plusProduct(au, x[i &+ 1])
            }
            var rm1 = rc(2 &* jLo &- 1), r0 = rc(2 &* jLo)
            for J in jLo..<jHi {
                let i = 2 &* J
                let r1 = rc(i &+ 1), r2 = rc(i &+ 2)
                c[J] = (v3 * rm1).plusProduct(v1, r0) + (v2 * r1).plusProduct(v0, r2)
                rm1 = r1
                r0 = r2
            }
        }
        for J in jHi..<nc { generic(J) }
    }
}

// MARK: - Two Gauss–Seidel sweeps in one pass

extension TridiagonalKernels {
    /// Two forward sweeps in one pass: the second sweep runs one row behind the first, so its
    /// update of row `i−1` uses the first sweep's new `x_i` straight from a register. The two
    /// recurrences are independent chains that the processor overlaps, and `x` is read and
    /// written once. Same result as two `forward` sweeps (to the order of operations).
    /// With `zeroStart`, the first sweep takes the old `x` as 0 and `x` is not read.
    static func forwardPair(
        _ t: Tridiagonal, s: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>,
        zeroStart: Bool = false
    ) {
        let n = t.n
        @inline(__always) func old(_ i: Int) -> Double { zeroStart ? 0 : x[i] }
        // row 0 (first sweep), row 1 (first sweep) and row 0 (second sweep)
        var p1 = (s[2] * old(1)).plusProduct(s[1], b[0])  // x¹_0
        let x11 = (s[5] * old(2)).plusProduct(s[4], b[1]).plusProduct(s[3], p1)
        var p2 = (s[2] * x11).plusProduct(s[1], b[0])  // x²_0
        x[0] = p2
        p1 = x11
        @inline(__always) func run<R: TriRows>(_ c: R, _ range: Range<Int>) {
            for i in range {
                let x1 = (c.u(i) * old(i &+ 1)).plusProduct(c.d(i), b[i]).plusProduct(c.l(i), p1)
                let j = i &- 1
                p2 = (c.u(j) * x1).plusProduct(c.d(j), b[j]).plusProduct(c.l(j), p2)
                x[j] = p2
                p1 = x1
            }
        }
        let (lo, hi) = t.bounds
        let cLo = min(max(2, lo + 1), n - 1), cHi = max(cLo, min(hi, n - 1))
        run(TriArrayRows(p: s), 2..<cLo)
        run(TriConstantRows(c: t.s), cLo..<cHi)
        run(TriArrayRows(p: s), cHi..<(n - 1))
        // last row (first sweep), row n−2 and n−1 (second sweep)
        let l = n - 1
        let x1 = (s[3 * l + 1] * b[l]).plusProduct(s[3 * l], p1)
        p2 = (s[3 * (l - 1) + 2] * x1).plusProduct(s[3 * (l - 1) + 1], b[l - 1]).plusProduct(s[3 * (l - 1)], p2)
        x[l - 1] = p2
        x[l] = (s[3 * l + 1] * b[l]).plusProduct(s[3 * l], p2)
    }

    /// Two backward sweeps in one pass (the mirror image of `forwardPair`).
    static func backwardPair(_ t: Tridiagonal, s: UnsafePointer<Double>, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>) {
        let n = t.n
        let l = n - 1
        var p1 = (s[3 * l] * x[l - 1]).plusProduct(s[3 * l + 1], b[l])  // x¹_{n−1}
        let k = l - 1
        let x1k = (s[3 * k] * x[k - 1]).plusProduct(s[3 * k + 1], b[k]).plusProduct(s[3 * k + 2], p1)
        var p2 = (s[3 * l] * x1k).plusProduct(s[3 * l + 1], b[l])  // x²_{n−1}
        x[l] = p2
        p1 = x1k
        @inline(__always) func run<R: TriRows>(_ c: R, _ range: Range<Int>) {
            var i = range.upperBound &- 1
            while i >= range.lowerBound {
                let x1 = (c.l(i) * x[i &- 1]).plusProduct(c.d(i), b[i]).plusProduct(c.u(i), p1)
                let j = i &+ 1
                p2 = (c.l(j) * x1).plusProduct(c.d(j), b[j]).plusProduct(c.u(j), p2)
                x[j] = p2
                p1 = x1
                i &-= 1
            }
        }
        // rows i = n−3 … 1 update i (first sweep) and i+1 (second sweep): constants need both in the run
        let (lo, hi) = t.bounds
        let cHi = max(1, min(hi - 1, n - 2)), cLo = min(cHi, max(lo, 1))
        run(TriArrayRows(p: s), cHi..<(n - 2))
        run(TriConstantRows(c: t.s), cLo..<cHi)
        run(TriArrayRows(p: s), 1..<cLo)
        // row 0 (first sweep), rows 1 and 0 (second sweep)
        let x10 = (s[2] * p1).plusProduct(s[1], b[0])
        p2 = (s[3] * x10).plusProduct(s[4], b[1]).plusProduct(s[5], p2)
        x[1] = p2
        x[0] = (s[2] * p2).plusProduct(s[1], b[0])
    }
}
