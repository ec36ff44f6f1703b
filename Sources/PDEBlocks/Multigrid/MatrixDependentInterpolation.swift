/// Matrix-dependent (operator-induced) interpolation as in black-box multigrid
/// (Dendy 1982, de Zeeuw 1990), for vertex coarsening: coarse unknowns are the odd fine
/// unknowns, and an F-unknown `i` (even) interpolates from its coarse neighbours `i−1`,
/// `i+1` with the weights that make its own row of `A` hold for the interpolant,
///
///     P[i][lo(i)] = −Σ_{j<i} a_ij / a_ii,   P[i][lo(i)+1] = −Σ_{j>i} a_ij / a_ii,
///
/// each side of the row lumped onto the coarse neighbour on that side (exactly the two
/// entries for a tridiagonal `A`). Where a diffusion weight jumps across an edge, the
/// weight on that side is tiny and the interpolant does not smear across the edge; where
/// `A` is the constant-coefficient Laplacian the weights are ½, ½ — linear interpolation.
/// For a tridiagonal `A` this `P` is the ideal interpolation `−A_FF⁻¹ A_FC` (`A_FF` is
/// diagonal), which with Galerkin coarse operators and an F-relaxation makes the two-grid
/// cycle exact. The restriction is built alike from `Aᵀ`: `R = ½ Qᵀ`. Boundary F rows drop
/// the weight towards a missing coarse neighbour.
extension Transfer {
    /// Operator-induced (black-box) interpolation for `A`, restriction from `Aᵀ`.
    /// Requires a nonzero diagonal (checked by the hierarchy).
    public static func matrixDependent(_ A: BandedMatrix) throws -> Transfer {
        var t = try Transfer(fine: A.n, coarsening: .vertex, kind: .matrixDependent)
        t.updateMatrixDependentWeights(A)
        return t
    }

    /// Recomputes the black-box weights for a matrix of the same shape (no allocation).
    mutating func updateMatrixDependentWeights(_ A: BandedMatrix) {
        let n = fine, kl = A.lower, ku = A.upper, w = A.width, nc = coarse
        A.band.withUnsafeBufferPointer { a in
            p.withUnsafeMutableBufferPointer { p in
                q.withUnsafeMutableBufferPointer { q in
                    for i in 0..<n {
                        if i & 1 == 1 {
                            p[2 * i] = 1
                            p[2 * i + 1] = 0
                            q[2 * i] = 1
                            q[2 * i + 1] = 0
                            continue
                        }
                        let lo = Transfer.lowColumn(i)
                        let diag = a[i * w + kl]
                        var rowLeft = 0.0, rowRight = 0.0, colLeft = 0.0, colRight = 0.0
                        for d in 1...max(1, max(kl, ku)) {
                            if i - d >= 0 {
                                if d <= kl { rowLeft += a[i * w - d + kl] }  // A[i][i−d]
                                if d <= ku { colLeft += a[(i - d) * w + d + kl] }  // A[i−d][i] = Aᵀ[i][i−d]
                            }
                            if i + d < n {
                                if d <= ku { rowRight += a[i * w + d + kl] }  // A[i][i+d]
                                if d <= kl { colRight += a[(i + d) * w - d + kl] }  // A[i+d][i] = Aᵀ[i][i+d]
                            }
                        }
                        let hasLo = lo >= 0, hasHi = lo + 1 < nc
                        p[2 * i] = hasLo ? -rowLeft / diag : 0
                        p[2 * i + 1] = hasHi ? -rowRight / diag : 0
                        q[2 * i] = hasLo ? -colLeft / diag : 0
                        q[2 * i + 1] = hasHi ? -colRight / diag : 0
                    }
                }
            }
        }
        findUniformRun()
    }
}

extension BandedMatrix {
    /// A measure of coefficient jumps: the largest ratio between the left and right
    /// coupling of a row, `max(L_i, R_i)/min(L_i, R_i)` with `L_i = Σ_{j<i}|a_ij|`,
    /// `R_i = Σ_{j>i}|a_ij|`, over the rows whose band is not cut by the matrix boundary
    /// (∞ when one side is zero and the other is not; 1 for a diagonal matrix). Linear
    /// interpolation assumes equal couplings; a jump of the diffusion weight across an
    /// edge shows up as a large ratio in the rows beside it.
    public func coefficientContrast() -> Double {
        let w = width, kl = lower
        guard n > lower + upper else { return 1 }
        return band.withUnsafeBufferPointer { a in
            var contrast = 1.0
            for i in kl..<(n - upper) {
                var left = 0.0, right = 0.0
                for k in 0..<kl { left += abs(a[i * w + k]) }
                for k in (kl + 1)..<w { right += abs(a[i * w + k]) }
                let (lo, hi) = (min(left, right), max(left, right))
                if hi > contrast * lo { contrast = lo > 0 ? hi / lo : .infinity }
            }
            return contrast
        }
    }
}
