extension Transfer {
    /// The Galerkin coarse operator `A_H = R A P` (`R = s·Qᵀ`), in band storage.
    ///
    /// Entry by entry, `A_H[I][J] = Σ_{i,k} s·Q[i][I]·A[i][k]·P[k][J]`, accumulated row by
    /// row of `A` in O(n·(kl+ku+1)·4). Its bandwidths follow from the sparsity patterns
    /// alone (`galerkinBandwidths`), so a hierarchy can be re-assembled in place for a new
    /// matrix with the same shape. For the 1D Poisson matrix with vertex transfer this is
    /// the Poisson matrix of spacing `2h`; a symmetric `A` with `Q = P` gives a symmetric `A_H`
    /// (to rounding).
    public func galerkin(_ A: BandedMatrix) throws -> BandedMatrix {
        let (kl, ku) = try galerkinBandwidths(A)
        var AH = try BandedMatrix(zeros: coarse, lower: kl, upper: ku, grid: A.grid)
        try galerkin(A, into: &AH)
        return AH
    }

    /// The lower and upper bandwidths of `R A P` for `A`'s shape.
    public func galerkinBandwidths(_ A: BandedMatrix) throws -> (lower: Int, upper: Int) {
        guard A.n == fine else {
            throw PDEBlocksError.invalidArgument("matrix of order \(A.n) does not match the transfer's fine size \(fine)")
        }
        var lower = 0, upper = 0
        // The pattern has period 2 away from the ends, so the first and last rows suffice.
        let window = 2 * (A.lower + A.upper) + 8
        let rows = fine <= 2 * window ? [0..<fine] : [0..<window, (fine - window)..<fine]
        for range in rows {
            for i in range {
                let ri = pattern(i)
                for d in -A.lower...A.upper where i + d >= 0 && i + d < fine {
                    let pk = pattern(i + d)
                    for (I, useI) in [(ri.lo, ri.useLo), (ri.lo + 1, ri.useHi)] where useI {
                        for (J, useJ) in [(pk.lo, pk.useLo), (pk.lo + 1, pk.useHi)] where useJ {
                            lower = max(lower, I - J)
                            upper = max(upper, J - I)
                        }
                    }
                }
            }
        }
        return (min(lower, coarse - 1), min(upper, coarse - 1))
    }

    /// Overwrites `AH` (shaped by `galerkinBandwidths`) with `R A P`. No allocation.
    func galerkin(_ A: BandedMatrix, into AH: inout BandedMatrix) throws {
        guard A.n == fine, AH.n == coarse else {
            throw PDEBlocksError.invalidArgument("Galerkin product: sizes do not match the transfer")
        }
        if A.lower == 1 && A.upper == 1 && coarsening == .vertex && AH.lower == 1 && AH.upper == 1 && fine >= 3 {
            galerkinTridiagonalVertex(A, into: &AH)
            return
        }
        let n = fine, kl = A.lower, ku = A.upper, w = A.width
        let khl = AH.lower, wh = AH.width
        let s = scale
        A.band.withUnsafeBufferPointer { a in
            p.withUnsafeBufferPointer { p in
                q.withUnsafeBufferPointer { q in
                    AH.band.withUnsafeMutableBufferPointer { ah in
                        ah.update(repeating: 0)
                        for i in 0..<n {
                            let ri = pattern(i)
                            let r0 = ri.useLo ? s * q[2 * i] : 0
                            let r1 = ri.useHi ? s * q[2 * i + 1] : 0
                            for d in max(-kl, -i)...min(ku, n - 1 - i) {
                                let aik = a[i * w + d + kl]
                                if aik == 0 { continue }
                                let k = i + d
                                let pk = pattern(k)
                                let p0 = pk.useLo ? p[2 * k] : 0
                                let p1 = pk.useHi ? p[2 * k + 1] : 0
                                // rows I ∈ {ri.lo, ri.lo+1}, columns J ∈ {pk.lo, pk.lo+1}
                                @inline(__always) func add(_ I: Int, _ rI: Double, _ J: Int, _ pJ: Double) {
                                    if rI != 0 && pJ != 0 { ah[I * wh + (J - I) + khl] += rI * aik * pJ }
                                }
                                if ri.useLo {
                                    if pk.useLo { add(ri.lo, r0, pk.lo, p0) }
                                    if pk.useHi { add(ri.lo, r0, pk.lo + 1, p1) }
                                }
                                if ri.useHi {
                                    if pk.useLo { add(ri.lo + 1, r1, pk.lo, p0) }
                                    if pk.useHi { add(ri.lo + 1, r1, pk.lo + 1, p1) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `R A P` for tridiagonal `A` and vertex coarsening (tridiagonal result), row by
    /// coarse row: coarse unknown `J` is fine unknown `c = 2J+1`, `P` column `J` is
    /// `(p_hi(c−1), 1, p_lo(c+1))` on rows `c−1, c, c+1`, `R` row `J` is `s·(q_hi(c−1), 1,
    /// q_lo(c+1))` on the same columns, so each coarse row is a sum of a few products.
    private func galerkinTridiagonalVertex(_ A: BandedMatrix, into AH: inout BandedMatrix) {
        let n = fine, nc = coarse, s = scale
        A.band.withUnsafeBufferPointer { ab in
            let a = ab.baseAddress!
            p.withUnsafeBufferPointer { p in
                q.withUnsafeBufferPointer { q in
                    AH.band.withUnsafeMutableBufferPointer { ah in
                        // A[i][i+d] (0 outside the matrix), P/Q weights of the F rows beside C rows
                        @inline(__always) func A_(_ i: Int, _ k: Int) -> Double {
                            i >= 0 && i < n && k >= 0 && k < n ? a[3 &* i &+ (k &- i) &+ 1] : 0
                        }
                        @inline(__always) func hi(_ w: UnsafeBufferPointer<Double>, _ i: Int) -> Double { i >= 0 && i < n ? w[2 &* i &+ 1] : 0 }
                        @inline(__always) func lo(_ w: UnsafeBufferPointer<Double>, _ i: Int) -> Double { i >= 0 && i < n ? w[2 &* i] : 0 }
                        // Rows 2 ≤ c−2 and c+3 ≤ n−1 need no bounds checks (the generic body
                        // below is the same formula with every access guarded).
                        let interior = 2..<max(2, min(nc - 1, (n - 4) / 2))
                        for J in interior {
                            let c = 2 &* J &+ 1
                            let r0 = q[2 &* c &- 1], r2 = q[2 &* c &+ 2]
                            let p0 = p[2 &* c &- 1], p2 = p[2 &* c &+ 2]
                            let row0 = a + 3 &* (c &- 1), row1 = a + 3 &* c, row2 = a + 3 &* (c &+ 1)
                            // row k of A: (row[0], row[1], row[2]) = (A[k][k−1], A[k][k], A[k][k+1])
                            let ap0 = row0[1] * p0 + row0[2]
                            let ap1 = row1[0] * p0 + row1[1] + row1[2] * p2
                            let ap2 = row2[0] + row2[1] * p2
                            ah[3 &* J &+ 1] = s * (r0 * ap0 + ap1 + r2 * ap2)
                            let qp = p[2 &* c &+ 3]  // p_hi(c+1)
                            ah[3 &* J &+ 2] = s * (row1[2] * qp + r2 * (row2[1] * qp + row2[2]))
                            let qm = p[2 &* c &- 2]  // p_lo(c−1)
                            ah[3 &* J] = s * (r0 * (row0[0] + row0[1] * qm) + row1[0] * qm)
                        }
                        for J in 0..<nc where !interior.contains(J) {
                            let c = 2 &* J &+ 1
                            // restriction row J: rows c−1, c, c+1 with weights r0, 1, r2 (times s)
                            let r0 = hi(q, c &- 1), r2 = lo(q, c &+ 1)
                            // prolongation column J: rows c−1, c, c+1 with weights p0, 1, p2
                            let p0 = hi(p, c &- 1), p2 = lo(p, c &+ 1)
                            // (A P_J) on rows c−1, c, c+1
                            let ap0 = A_(c &- 1, c &- 1) * p0 + A_(c &- 1, c)  // row c−2 is a coarse unknown: P[c−2][J] = 0
                            let ap1 = A_(c, c &- 1) * p0 + A_(c, c) + A_(c, c &+ 1) * p2
                            let ap2 = A_(c &+ 1, c) + A_(c &+ 1, c &+ 1) * p2
                            ah[3 &* J &+ 1] = s * (r0 * ap0 + ap1 + r2 * ap2)
                            if J &+ 1 < nc {
                                // column J+1: rows c+1, c+2 (, c+3) with weights p_hi(c+1), 1 (, p_lo(c+3): out of reach)
                                let q0 = hi(p, c &+ 1)
                                // rows c and c+1 of A P_{J+1} (row c−1 does not reach column c+1)
                                let bp1 = A_(c, c &+ 1) * q0
                                let bp2 = A_(c &+ 1, c &+ 1) * q0 + A_(c &+ 1, c &+ 2)
                                ah[3 &* J &+ 2] = s * (bp1 + r2 * bp2)
                            }
                            if J > 0 {
                                // column J−1: rows c−3, c−2, c−1 with weights p_hi(c−3), 1, p_lo(c−1)
                                let q0 = lo(p, c &- 1)
                                let bm0 = A_(c &- 1, c &- 2) + A_(c &- 1, c &- 1) * q0
                                let bm1 = A_(c, c &- 1) * q0
                                ah[3 &* J] = s * (r0 * bm0 + bm1)
                            }
                        }
                    }
                }
            }
        }
    }
}
