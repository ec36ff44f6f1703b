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
        for i in 0..<fine {
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
        return (min(lower, coarse - 1), min(upper, coarse - 1))
    }

    /// Overwrites `AH` (shaped by `galerkinBandwidths`) with `R A P`. No allocation.
    func galerkin(_ A: BandedMatrix, into AH: inout BandedMatrix) throws {
        guard A.n == fine, AH.n == coarse else {
            throw PDEBlocksError.invalidArgument("Galerkin product: sizes do not match the transfer")
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
}
