/// Alternating zebra line Gauss–Seidel on a stencil field (`Smoother.alternatingLine`):
/// block Gauss–Seidel whose blocks are whole image lines, each solved exactly.
///
/// A row line `i` is the tridiagonal block `T_i = A[row i, row i]` (centre, west, east
/// couplings); its right-hand side is `b − (couplings to rows i ± 1)` (north, south and,
/// for 9-point fields, the diagonal directions). Rows of one parity couple only to rows
/// of the other, so each colour is an exact block-Jacobi step: one `sweep` is
///
///     even rows, odd rows, even columns, odd columns        (forward)
///     odd columns, even columns, odd rows, even rows        (reverse: the adjoint)
///
/// and a cycle with the forward sweep before and the reverse after the correction is
/// symmetric (a CG preconditioner). Each block is factorised once, `T = L D Lᵀ` (`L` unit
/// lower bidiagonal), and solved in place on `x`; the column blocks are processed all
/// columns of a colour at once, row by row, so memory is walked in storage order.
///
/// The blocks are principal submatrices of an SPD `A`, hence SPD; a pivot that is not
/// positive (rounding on a nearly singular line) is reported by `init`.
struct LineSmoother2D: Sendable {
    let height: Int, width: Int
    /// Row blocks: `rowLower[p] = T[j, j−1] / d_{j−1}` (0 at `j = 0`), `rowInverse[p] = 1/d_j`.
    let rowLower: [Double], rowInverse: [Double]
    /// Column blocks, likewise along `i`.
    let columnLower: [Double], columnInverse: [Double]

    init(_ A: StencilField2D) throws {
        let (H, W, n) = (A.height, A.width, A.count)
        height = H
        width = W
        var rl = try Memory.zeros(n, for: "the line smoother"), ri = try Memory.zeros(n, for: "the line smoother")
        var cl = try Memory.zeros(n, for: "the line smoother"), ci = try Memory.zeros(n, for: "the line smoother")
        let c = A.coefficients
        let (west, north, centre) = (3 * n, n, 4 * n)
        for i in 0..<H {
            for j in 0..<W {
                let p = i * W + j
                var d = c[centre + p]
                if j > 0 {
                    rl[p] = c[west + p] * ri[p - 1]
                    d -= rl[p] * c[west + p]
                }
                guard d > 0 else { throw Self.pivotError(p, width: W, along: "row") }
                ri[p] = 1 / d
            }
        }
        for i in 0..<H {
            for j in 0..<W {
                let p = i * W + j
                var d = c[centre + p]
                if i > 0 {
                    cl[p] = c[north + p] * ci[p - W]
                    d -= cl[p] * c[north + p]
                }
                guard d > 0 else { throw Self.pivotError(p, width: W, along: "column") }
                ci[p] = 1 / d
            }
        }
        (rowLower, rowInverse, columnLower, columnInverse) = (rl, ri, cl, ci)
    }

    static func pivotError(_ p: Int, width W: Int, along: String) -> PDEBlocksError {
        .invalidArgument(
            "the \(along) line through pixel (\(p / W), \(p % W)) is not positive definite (pivot ≤ 0): "
                + "the operator must be symmetric positive definite")
    }

    /// One alternating sweep on `A x = b` (`c`: the field's coefficients), forward or its adjoint.
    func sweep(
        _ c: UnsafePointer<Double>, fivePoint: Bool, reverse: Bool, x: UnsafeMutablePointer<Double>,
        b: UnsafePointer<Double>
    ) {
        if !reverse {
            rows(c, fivePoint: fivePoint, parity: 0, x: x, b: b)
            rows(c, fivePoint: fivePoint, parity: 1, x: x, b: b)
            columns(c, fivePoint: fivePoint, parity: 0, x: x, b: b)
            columns(c, fivePoint: fivePoint, parity: 1, x: x, b: b)
        } else {
            columns(c, fivePoint: fivePoint, parity: 1, x: x, b: b)
            columns(c, fivePoint: fivePoint, parity: 0, x: x, b: b)
            rows(c, fivePoint: fivePoint, parity: 1, x: x, b: b)
            rows(c, fivePoint: fivePoint, parity: 0, x: x, b: b)
        }
    }

    /// `Σ_d c_d[p] x[p + step_d]` over the directions `dirs` that stay inside the image.
    @inline(__always)
    private func coupling(
        _ c: UnsafePointer<Double>, _ dirs: [Int], p: Int, i: Int, j: Int, x: UnsafePointer<Double>
    ) -> Double {
        let (H, W, n) = (height, width, height * width)
        var s = 0.0
        for d in dirs {
            let (dy, dx) = (d / 3 - 1, d % 3 - 1)
            let (y, xx) = (i + dy, j + dx)
            if y >= 0, y < H, xx >= 0, xx < W { s += c[d * n + p] * x[p + dy * W + dx] }
        }
        return s
    }

    /// Exact solves of every row `i ≡ parity (mod 2)`.
    func rows(
        _ c: UnsafePointer<Double>, fivePoint: Bool, parity: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>
    ) {
        let (H, W, n) = (height, width, height * width)
        let (cn, cs) = (c + n, c + 7 * n)
        let (cnw, cne, csw, cse) = (c, c + 2 * n, c + 6 * n, c + 8 * n)
        let outer = fivePoint ? [1, 7] : [0, 1, 2, 6, 7, 8]
        rowLower.withUnsafeBufferPointer { lo in
            rowInverse.withUnsafeBufferPointer { inv in
                var i = parity
                while i < H {
                    let row = i * W
                    let interior = i > 0 && i < H - 1
                    // forward elimination: x_j ← r_j − l_j x_{j−1}
                    for j in 0..<W {
                        let p = row + j
                        var r = b[p]
                        if interior && j > 0 && j < W - 1 {
                            r -= cn[p] * x[p - W] + cs[p] * x[p + W]
                            if !fivePoint {
                                r -= cnw[p] * x[p - W - 1] + cne[p] * x[p - W + 1] + csw[p] * x[p + W - 1]
                                    + cse[p] * x[p + W + 1]
                            }
                        } else {
                            r -= coupling(c, outer, p: p, i: i, j: j, x: x)
                        }
                        x[p] = j > 0 ? r - lo[p] * x[p - 1] : r
                    }
                    // back substitution: x_j ← y_j / d_j − l_{j+1} x_{j+1}
                    x[row + W - 1] *= inv[row + W - 1]
                    var j = W - 2
                    while j >= 0 {
                        let p = row + j
                        x[p] = x[p] * inv[p] - lo[p + 1] * x[p + 1]
                        j -= 1
                    }
                    i += 2
                }
            }
        }
    }

    /// Exact solves of every column `j ≡ parity (mod 2)`, all at once row by row.
    func columns(
        _ c: UnsafePointer<Double>, fivePoint: Bool, parity: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>
    ) {
        let (H, W, n) = (height, width, height * width)
        let (cw, ce) = (c + 3 * n, c + 5 * n)
        let (cnw, cne, csw, cse) = (c, c + 2 * n, c + 6 * n, c + 8 * n)
        let outer = fivePoint ? [3, 5] : [0, 2, 3, 5, 6, 8]
        columnLower.withUnsafeBufferPointer { lo in
            columnInverse.withUnsafeBufferPointer { inv in
                for i in 0..<H {
                    let row = i * W
                    let interiorRow = i > 0 && i < H - 1
                    var j = parity
                    while j < W {
                        let p = row + j
                        var r = b[p]
                        if interiorRow && j > 0 && j < W - 1 {
                            r -= cw[p] * x[p - 1] + ce[p] * x[p + 1]
                            if !fivePoint {
                                r -= cnw[p] * x[p - W - 1] + cne[p] * x[p - W + 1] + csw[p] * x[p + W - 1]
                                    + cse[p] * x[p + W + 1]
                            }
                        } else {
                            r -= coupling(c, outer, p: p, i: i, j: j, x: x)
                        }
                        x[p] = i > 0 ? r - lo[p] * x[p - W] : r
                        j += 2
                    }
                }
                var i = H - 1
                while i >= 0 {
                    let row = i * W
                    var j = parity
                    while j < W {
                        let p = row + j
                        x[p] = i < H - 1 ? x[p] * inv[p] - lo[p + W] * x[p + W] : x[p] * inv[p]
                        j += 2
                    }
                    i -= 1
                }
            }
        }
    }
}
