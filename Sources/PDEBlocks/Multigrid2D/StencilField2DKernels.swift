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

    /// The same sum at the interior pixels `p ..< p + 8` (all their neighbours exist), or,
    /// with `one`, at the pixel `p` alone (every lane holds its sum; lane 0 is read). One
    /// formula for the vector bodies of the row loops and their scalar remainders: the same
    /// products in the same order, so a pixel gets the same bits whichever loop computes it.
    /// `symmetric` (the field is exactly symmetric): the couplings to the east and the row
    /// below are read from those neighbours' west / north-side coefficients
    /// (`a_E[p] = a_W[p+1]`, `a_S[p] = a_N[p+W]`, `a_SW[p] = a_NE[p+W−1]`,
    /// `a_SE[p] = a_NW[p+W+1]`), so only 2 (5-point) or 4 (9-point) coefficient arrays are
    /// streamed instead of 4 or 8 — the same values, hence the same products.
    @inline(__always)
    static func offDiagonalInterior(
        _ c: UnsafePointer<Double>, n: Int, width W: Int, fivePoint: Bool, symmetric: Bool, _ x: UnsafePointer<Double>,
        p: Int, one: Bool = false
    ) -> SIMD8<Double> {
        @inline(__always) func v(_ q: UnsafePointer<Double>) -> SIMD8<Double> { lanes(q, one: one) }
        let (cn, cw) = (c + n, c + 3 * n)
        let (cs, ce) = symmetric ? (cn + W, cw + 1) : (c + 7 * n, c + 5 * n)
        var s = v(cn + p) * v(x + p - W) + v(cs + p) * v(x + p + W) + v(cw + p) * v(x + p - 1) + v(ce + p) * v(x + p + 1)
        if !fivePoint {
            let (nw, ne) = (c, c + 2 * n)
            let (sw, se) = symmetric ? (ne + W - 1, nw + W + 1) : (c + 6 * n, c + 8 * n)
            s += v(nw + p) * v(x + p - W - 1) + v(ne + p) * v(x + p - W + 1) + v(sw + p) * v(x + p + W - 1)
                + v(se + p) * v(x + p + W + 1)
        }
        return s
    }

    /// Eight values from `q`, or (`one`) `q`'s value in every lane.
    @inline(__always)
    static func lanes(_ q: UnsafePointer<Double>, one: Bool) -> SIMD8<Double> {
        one ? SIMD8(repeating: q.pointee) : load8(q, 0)
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
        // columns 1 … W−2: eight at a time, then one at a time (the same formula)
        @inline(__always) func ax(_ p: Int, one: Bool) -> SIMD8<Double> {
            lanes(centre + p, one: one) * lanes(x + p, one: one)
                + offDiagonalInterior(c, n: n, width: W, fivePoint: fivePoint, symmetric: symmetric, x, p: p, one: one)
        }
        var j = 1
        var sums = SIMD8<Double>(repeating: 0)
        while j + 8 <= W - 1 {
            let p = row + j
            let a = ax(p, one: false)
            let v = b.map { load8($0, p) - a } ?? a
            store8(v, o, j)
            sums += v * v
            j += 8
        }
        sum += sums.sum()
        while j < W - 1 {
            put(j, ax(row + j, one: true)[0])
            j += 1
        }
        let last = row + W - 1
        put(W - 1, centre[last] * x[last]
            + offDiagonalChecked(c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: W - 1))
        return sum
    }
}
