/// The Schur complement of a long run of Toeplitz rows of `μI − A` onto the run's first and
/// last blocks, computed by cyclic reduction (nested dissection) in O(b³·log R) time for a
/// run of `R` blocks of `b` rows — independent of the run's length.
///
/// With block size `b` equal to the bandwidth of `A`, the run is block tridiagonal and block
/// Toeplitz: diagonal blocks `D = μI − T_b(a)` (`T_b(a)` the b×b symmetric Toeplitz matrix
/// of `a_0 … a_{b−1}`), sub-diagonal blocks `C` with `C[i][j] = −a_{b+i−j}` for `i ≤ j`
/// (zero below). A section of `m ≥ 2` blocks with its interior blocks eliminated is the
/// 2b×2b matrix `[[F, Bᵀ], [B, G]]` on its (first, last) blocks. Two sections join by
/// eliminating the adjacent pair (last of the first, first of the second) — the pivot block
/// `Mid = [[G₁, Cᵀ], [C, F₂]]`:
///
///     F = F₁ − u₁ᵀ Mid⁻¹ u₁,   G = G₂ − u₂ᵀ Mid⁻¹ u₂,   B = −u₂ᵀ Mid⁻¹ u₁,
///     u₁ = [B₁; 0],  u₂ = [0; B₂ᵀ].
///
/// Sections of 2^k blocks come from doubling (a section joined with a copy of itself), a
/// run of R blocks from joining the sections of R's binary digits. Every block of the run
/// except its first and last is eliminated exactly once, so — eliminating a symmetric matrix
/// in any order, Sylvester's law of inertia — the run's interior is positive definite iff
/// every pivot block `Mid` is (each Cholesky factorisation succeeds), and then the whole
/// matrix is positive definite iff its reduction (the rows outside the run plus these
/// 2b×2b) is. Rounding: each join is a Cholesky-based Schur complement of a positive
/// definite matrix, backward stable with error ≤ c·b·ε times the norm of the reduced matrix,
/// itself ≤ ‖μI − A‖ (a Schur complement of a positive definite matrix is below its
/// principal block); over `levels` joins the computed reduction is the exact one of a
/// matrix within `levels·c·b·ε·‖μI − A‖` — covered by the caller's relative margin.
struct ToeplitzRunReduction {
    let b: Int
    /// F, G, B (B: rows of the last block, columns of the first), b×b row-major.
    var first: [Double], last: [Double], coupling: [Double]

    /// The largest block size the reduction is used for (b³ work and b² memory per join).
    static let maxBlock = 256

    /// Reduces a run of `blocks` blocks (`blocks` even, ≥ 2) of Toeplitz row `a` (a_0 … a_b)
    /// at shift `mu`. Nil when a pivot block is not positive definite (then `μI − A` is not).
    /// `joins` counts the pivot blocks factorised (for the rounding margin).
    static func reduce(toeplitz a: [Double], mu: Double, blocks: Int, joins: inout Int) -> ToeplitzRunReduction? {
        let b = a.count - 1
        guard b >= 1, blocks >= 2, blocks % 2 == 0 else { return nil }
        var d = [Double](repeating: 0, count: b * b)
        var c = [Double](repeating: 0, count: b * b)
        for i in 0..<b {
            for j in 0..<b {
                d[i * b + j] = (i == j ? mu : 0) - a[abs(i - j)]
                if i <= j { c[i * b + j] = -a[b + i - j] }
            }
        }
        // A section of two blocks: nothing eliminated.
        var power = ToeplitzRunReduction(b: b, first: d, last: d, coupling: c)
        var result: ToeplitzRunReduction? = nil
        var units = blocks / 2
        var scratch = JoinScratch(b: b)
        while units > 0 {
            if units & 1 == 1 {
                if let acc = result {
                    guard let joined = join(acc, power, c, &scratch) else { return nil }
                    joins += 1
                    result = joined
                } else {
                    result = power
                }
            }
            units >>= 1
            if units > 0 {
                guard let doubled = join(power, power, c, &scratch) else { return nil }
                joins += 1
                power = doubled
            }
        }
        return result
    }

    struct JoinScratch {
        var mid: [Double], y1: [Double], y2: [Double]
        init(b: Int) {
            mid = [Double](repeating: 0, count: 4 * b * b)
            y1 = [Double](repeating: 0, count: 2 * b * b)
            y2 = [Double](repeating: 0, count: 2 * b * b)
        }
    }

    /// The section `x` followed by `y` (coupled by `C`), the adjacent pair eliminated.
    static func join(_ x: ToeplitzRunReduction, _ y: ToeplitzRunReduction, _ c: [Double],
                     _ s: inout JoinScratch) -> ToeplitzRunReduction? {
        let b = x.b, m = 2 * b
        var out = ToeplitzRunReduction(b: b, first: x.first, last: y.last, coupling: [Double](repeating: 0, count: b * b))
        let ok = s.mid.withUnsafeMutableBufferPointer { mid in
            s.y1.withUnsafeMutableBufferPointer { y1 in
                s.y2.withUnsafeMutableBufferPointer { y2 in
                    // Mid = [[G_x, Cᵀ], [C, F_y]] (lower triangle suffices), u1 = [B_x; 0], u2 = [0; B_yᵀ].
                    for i in 0..<b {
                        for j in 0...i {
                            mid[i * m + j] = x.last[i * b + j]
                            mid[(b + i) * m + (b + j)] = y.first[i * b + j]
                        }
                        for j in 0..<b { mid[(b + i) * m + j] = c[i * b + j] }
                    }
                    for i in 0..<b {
                        for j in 0..<b {
                            y1[i * b + j] = x.coupling[i * b + j]
                            y1[(b + i) * b + j] = 0
                            y2[i * b + j] = 0
                            y2[(b + i) * b + j] = y.coupling[j * b + i]
                        }
                    }
                    guard DenseCholesky.factor(mid, size: m) else { return false }
                    DenseCholesky.forwardSolve(mid, size: m, rhs: y1, columns: b, fromRow: 0)
                    DenseCholesky.forwardSolve(mid, size: m, rhs: y2, columns: b, fromRow: b)
                    out.first.withUnsafeMutableBufferPointer { f in
                        out.last.withUnsafeMutableBufferPointer { g in
                            out.coupling.withUnsafeMutableBufferPointer { bb in
                                for i in 0..<b {
                                    for j in 0..<b {
                                        var sf = 0.0, sg = 0.0, sb = 0.0
                                        for k in 0..<m {
                                            let y1i = y1[k * b + i], y2i = y2[k * b + i]
                                            sf += y1i * y1[k * b + j]
                                            sg += y2i * y2[k * b + j]
                                            sb += y2i * y1[k * b + j]
                                        }
                                        f[i * b + j] -= sf
                                        g[i * b + j] -= sg
                                        bb[i * b + j] = -sb
                                    }
                                }
                            }
                        }
                    }
                    return true
                }
            }
        }
        return ok ? out : nil
    }
}

/// Dense Cholesky on row-major square matrices (lower triangle), for the small pivot blocks.
enum DenseCholesky {
    /// `A = LLᵀ` in place (L in the lower triangle). False when a pivot is not positive
    /// (or not finite): then `A` is not positive definite.
    static func factor(_ a: UnsafeMutableBufferPointer<Double>, size m: Int) -> Bool {
        for j in 0..<m {
            var djj = a[j * m + j]
            for k in 0..<j { djj -= a[j * m + k] * a[j * m + k] }
            guard djj > 0, djj.isFinite else { return false }
            let ljj = djj.squareRoot()
            a[j * m + j] = ljj
            let inv = 1 / ljj
            for i in (j + 1)..<m {
                var s = a[i * m + j]
                for k in 0..<j { s -= a[i * m + k] * a[j * m + k] }
                a[i * m + j] = s * inv
            }
        }
        return true
    }

    /// Solves `L Y = RHS` in place (RHS m×columns, row-major); rows of RHS before `fromRow`
    /// are zero and stay zero.
    static func forwardSolve(_ l: UnsafeMutableBufferPointer<Double>, size m: Int,
                             rhs: UnsafeMutableBufferPointer<Double>, columns: Int, fromRow: Int) {
        for i in fromRow..<m {
            let inv = 1 / l[i * m + i]
            for k in fromRow..<i {
                let lik = l[i * m + k]
                if lik == 0 { continue }
                for j in 0..<columns { rhs[i * columns + j] -= lik * rhs[k * columns + j] }
            }
            for j in 0..<columns { rhs[i * columns + j] *= inv }
        }
    }
}
