/// The hot loops on a stencil field (`StencilField2D` storage): the off-diagonal sum of a
/// row, `b − A x` (or `A x`) and its squared norm. Interior pixels run a branch-free loop;
/// the first and last rows and columns go through bounds checks (their outward
/// coefficients are zero, but the neighbours' memory may not exist).
enum StencilField2DKernels {
    /// `Σ_{d ≠ centre} a_d[p] x[p + step_d]` at pixel `(i, j)`, checking each neighbour.
    @inline(__always)
    static func offDiagonalChecked(
        _ c: UnsafePointer<Double>, n: Int, height H: Int, width W: Int, fivePoint: Bool,
        _ x: UnsafePointer<Double>, i: Int, j: Int
    ) -> Double {
        let p = i * W + j
        var s = 0.0
        let west = j > 0, east = j < W - 1
        if west { s += c[3 * n + p] * x[p - 1] }
        if east { s += c[5 * n + p] * x[p + 1] }
        if i > 0 {
            s += c[n + p] * x[p - W]
            if !fivePoint {
                if west { s += c[p] * x[p - W - 1] }
                if east { s += c[2 * n + p] * x[p - W + 1] }
            }
        }
        if i < H - 1 {
            s += c[7 * n + p] * x[p + W]
            if !fivePoint {
                if west { s += c[6 * n + p] * x[p + W - 1] }
                if east { s += c[8 * n + p] * x[p + W + 1] }
            }
        }
        return s
    }

    /// The same sum at an interior pixel `p` (all eight neighbours exist).
    @inline(__always)
    static func offDiagonalInterior(
        _ c: UnsafePointer<Double>, n: Int, width W: Int, fivePoint: Bool, _ x: UnsafePointer<Double>, p: Int
    ) -> Double {
        var s = c[n + p] * x[p - W] + c[7 * n + p] * x[p + W] + c[3 * n + p] * x[p - 1] + c[5 * n + p] * x[p + 1]
        if !fivePoint {
            s += c[p] * x[p - W - 1] + c[2 * n + p] * x[p - W + 1] + c[6 * n + p] * x[p + W - 1]
                + c[8 * n + p] * x[p + W + 1]
        }
        return s
    }

    /// `offDiagonalInterior` for an exactly symmetric field: the couplings to the east and
    /// the row below are read from those neighbours' west / north-side coefficients
    /// (`a_E[p] = a_W[p+1]`, `a_S[p] = a_N[p+W]`, `a_SW[p] = a_NE[p+W−1]`,
    /// `a_SE[p] = a_NW[p+W+1]`), so only 2 (5-point) or 4 (9-point) coefficient arrays are
    /// streamed instead of 4 or 8. The same products as `offDiagonalInterior`.
    @inline(__always)
    static func offDiagonalInteriorSymmetric(
        _ c: UnsafePointer<Double>, n: Int, width W: Int, fivePoint: Bool, _ x: UnsafePointer<Double>, p: Int
    ) -> Double {
        let (cn, cw) = (c + n, c + 3 * n)
        var s = cn[p] * x[p - W] + cn[p + W] * x[p + W] + cw[p] * x[p - 1] + cw[p + 1] * x[p + 1]
        if !fivePoint {
            let ne = c + 2 * n
            s += c[p] * x[p - W - 1] + ne[p] * x[p - W + 1] + ne[p + W - 1] * x[p + W - 1] + c[p + W + 1] * x[p + W + 1]
        }
        return s
    }

    /// `out = b − A x` (or `out = A x` when `b` is nil); returns `‖out‖₂²`. `out` must not
    /// overlap `x` (it may equal `b`). `symmetric`: the field is exactly symmetric (bitwise),
    /// so the interior reads half the coefficients (`offDiagonalInteriorSymmetric`).
    static func residual(
        _ c: UnsafePointer<Double>, height H: Int, width W: Int, fivePoint: Bool, symmetric: Bool = false,
        x: UnsafePointer<Double>, b: UnsafePointer<Double>?, into out: UnsafeMutablePointer<Double>
    ) -> Double {
        var sum = 0.0
        for i in 0..<H {
            sum += residualRow(i, c, height: H, width: W, fivePoint: fivePoint, symmetric: symmetric, x: x, b: b, into: out + i * W)
        }
        return sum
    }

    /// Row `i` of `b − A x` (or `A x`) into `rowOut[0..<W]`; returns its squared norm.
    /// `rowOut` must not overlap `x`.
    @inline(__always)
    static func residualRow(
        _ i: Int, _ c: UnsafePointer<Double>, height H: Int, width W: Int, fivePoint: Bool, symmetric: Bool,
        x: UnsafePointer<Double>, b: UnsafePointer<Double>?, into o: UnsafeMutablePointer<Double>
    ) -> Double {
        let n = H * W
        let centre = c + 4 * n
        let row = i * W
        var sum = 0.0
        @inline(__always) func put(_ j: Int, _ ax: Double) {
            let v = b.map { $0[row + j] - ax } ?? ax
            o[j] = v
            sum += v * v
        }
        let interiorRow = i > 0 && i < H - 1 && W > 2
        if !interiorRow {
            for j in 0..<W {
                let p = row + j
                put(j, centre[p] * x[p] + offDiagonalChecked(c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: j))
            }
            return sum
        }
        put(0, centre[row] * x[row] + offDiagonalChecked(c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: 0))
        if symmetric {
            if let b {
                for j in 1..<(W - 1) {
                    let p = row + j
                    let v = b[p] - (centre[p] * x[p] + offDiagonalInteriorSymmetric(c, n: n, width: W, fivePoint: fivePoint, x, p: p))
                    o[j] = v
                    sum += v * v
                }
            } else {
                for j in 1..<(W - 1) {
                    let p = row + j
                    let v = centre[p] * x[p] + offDiagonalInteriorSymmetric(c, n: n, width: W, fivePoint: fivePoint, x, p: p)
                    o[j] = v
                    sum += v * v
                }
            }
        } else if fivePoint {
            let (cn, cs, cw, ce) = (c + n, c + 7 * n, c + 3 * n, c + 5 * n)
            if let b {
                for j in 1..<(W - 1) {
                    let p = row + j
                    let v = b[p] - (centre[p] * x[p] + cn[p] * x[p - W] + cs[p] * x[p + W] + cw[p] * x[p - 1]
                        + ce[p] * x[p + 1])
                    o[j] = v
                    sum += v * v
                }
            } else {
                for j in 1..<(W - 1) {
                    let p = row + j
                    let v = centre[p] * x[p] + cn[p] * x[p - W] + cs[p] * x[p + W] + cw[p] * x[p - 1] + ce[p] * x[p + 1]
                    o[j] = v
                    sum += v * v
                }
            }
        } else {
            for j in 1..<(W - 1) {
                let p = row + j
                put(j, centre[p] * x[p] + offDiagonalInterior(c, n: n, width: W, fivePoint: false, x, p: p))
            }
        }
        let last = row + W - 1
        put(W - 1, centre[last] * x[last]
            + offDiagonalChecked(c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: W - 1))
        return sum
    }
}
