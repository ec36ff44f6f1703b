/// Relaxation sweeps on a stencil field for `A x = b`, in place on `x` (`D = diag(A)`):
///
///  - red–black Gauss–Seidel (`redBlack`): red pixels (`i + j` even) then black ones. For a
///    5-point field each colour is updated independently (a Jacobi step per colour); for a
///    9-point field the diagonal neighbours share the colour and the rows are taken in
///    order. Computed as one wavefront (red row `i`, then black row `i − 1`), which gives
///    exactly the two-pass result while reading the coefficients once per sweep. The
///    `reverse` sweep (black rows bottom-up, then red rows bottom-up) is the adjoint of the
///    forward one, so a cycle with red–black before and reversed after is symmetric.
///  - lexicographic Gauss–Seidel (`lexicographic`), forward (`p = 0…n−1`) or backward;
///  - weighted Jacobi (`jacobi`): `x ← x + ω D⁻¹ (b − A x)`, using `work` (n values).
///
/// `inverseDiagonal` holds `1/a_pp` (the diagonal must be nonzero; positive for SPD `A`).
struct FieldSweeper {
    let c: UnsafePointer<Double>
    let inverseDiagonal: UnsafePointer<Double>
    let height: Int, width: Int
    let fivePoint: Bool
    /// The field is exactly symmetric: interior rows read half the coefficients
    /// (`StencilField2DKernels.offDiagonalInterior(symmetric: true)`: the same products).
    var symmetric = false

    var n: Int { height * width }

    /// Gauss–Seidel update of every `step`-th pixel of row `i` from column `first`.
    @inline(__always)
    func relaxRow(_ i: Int, first: Int, step: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>) {
        let (H, W, n) = (height, width, n)
        let row = i * W
        if i == 0 || i == H - 1 || W < 3 {
            var j = first
            while j < W {
                let p = row + j
                x[p] = (b[p] - StencilField2DKernels.offDiagonalChecked(
                    c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: j)) * inverseDiagonal[p]
                j += step
            }
            return
        }
        var j = first
        if j == 0 {
            x[row] = (b[row] - StencilField2DKernels.offDiagonalChecked(
                c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: 0)) * inverseDiagonal[row]
            j += step
        }
        if step == 2 && W >= 10 {
            relaxColourInterior(row, colour: first & 1, x: x, b: b)
            j = W - 1 - ((W - 1 - first) & 1)   // this colour's last column (W − 1 or W − 2)
            if j < W - 1 { return }
        } else {
            while j < W - 1 {
                let p = row + j
                let off = StencilField2DKernels.offDiagonalInterior(
                    c, n: n, width: W, fivePoint: fivePoint, symmetric: symmetric, x, p: p, one: true)[0]
                x[p] = (b[p] - off) * inverseDiagonal[p]
                j += step
            }
        }
        if j == W - 1 {
            let p = row + j
            x[p] = (b[p] - StencilField2DKernels.offDiagonalChecked(
                c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: j)) * inverseDiagonal[p]
        }
    }

    /// The pixels of one colour (`j ≡ colour mod 2`) in the columns `1 … W−2` of the interior
    /// row starting at `row` (`W ≥ 10`), eight columns per vector: all eight new values are
    /// formed (`StencilField2DKernels.offDiagonalInterior`: the scalar loop's bits) and those
    /// of the colour stored. A colour's new values read only the other colour in
    /// this row (and, for 9 points, its own colour in the rows above and below), which this
    /// pass does not change, so computing the others' lanes is harmless; the last vector
    /// overlaps the one before (a recomputed pixel gets the same value again). The vector
    /// store puts the other colour's values back unchanged (a blend): a row is written only
    /// by the thread whose band holds it, and a concurrent reader of those pixels in another
    /// band reads the same bytes before and after.
    func relaxColourInterior(_ row: Int, colour: Int, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>) {
        // one loop per operator shape, each without branches
        switch (fivePoint, symmetric) {
        case (true, true): relaxColourInterior(row, colour, x, b, fivePoint: true, symmetric: true)
        case (true, false): relaxColourInterior(row, colour, x, b, fivePoint: true, symmetric: false)
        case (false, true): relaxColourInterior(row, colour, x, b, fivePoint: false, symmetric: true)
        case (false, false): relaxColourInterior(row, colour, x, b, fivePoint: false, symmetric: false)
        }
    }

    @inline(__always)
    private func relaxColourInterior(
        _ row: Int, _ colour: Int, _ x: UnsafeMutablePointer<Double>, _ b: UnsafePointer<Double>,
        fivePoint: Bool, symmetric: Bool
    ) {
        let (W, n) = (width, n)
        // this colour's lanes of a vector from an even / odd column (−1: take the new value)
        let (even, odd) = (SIMD8<Int>(-1, 0, -1, 0, -1, 0, -1, 0), SIMD8<Int>(0, -1, 0, -1, 0, -1, 0, -1))
        @inline(__always) func update(_ j: Int) {
            let p = row + j
            let v = (load8(b, p) - StencilField2DKernels.offDiagonalInterior(
                c, n: n, width: W, fivePoint: fivePoint, symmetric: symmetric, x, p: p)) * load8(inverseDiagonal, p)
            // lane l is column j + l: this colour's lanes are l ≡ colour − j (mod 2)
            store8(LaneSelect.select((colour &- j) & 1 == 0 ? even : odd, v, else: load8(x, p)), x, p)
        }
        var j = 1
        while j + 8 <= W - 1 {
            update(j)
            j += 8
        }
        if j < W - 1 { update(W - 9) }
    }

    /// One red–black sweep (forward: red then black; `reverse`: its adjoint).
    func redBlack(reverse: Bool, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>) {
        let H = height
        if !reverse {
            for i in 0...H {
                if i < H { relaxRow(i, first: i & 1, step: 2, x: x, b: b) }            // red row i
                if i >= 1 { relaxRow(i - 1, first: (i & 1), step: 2, x: x, b: b) }    // black row i−1
            }
        } else {
            var i = H - 1
            while i >= -1 {
                if i >= 0 { relaxRow(i, first: (i + 1) & 1, step: 2, x: x, b: b) }   // black row i
                if i + 1 < H { relaxRow(i + 1, first: (i + 1) & 1, step: 2, x: x, b: b) } // red row i+1
                i -= 1
            }
        }
    }

    /// One lexicographic Gauss–Seidel sweep.
    func lexicographic(backward: Bool, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>) {
        let (H, W, n) = (height, width, n)
        if !backward {
            for i in 0..<H { relaxRow(i, first: 0, step: 1, x: x, b: b) }
            return
        }
        var p = n - 1
        while p >= 0 {
            let (i, j) = (p / W, p % W)
            x[p] = (b[p] - StencilField2DKernels.offDiagonalChecked(
                c, n: n, height: H, width: W, fivePoint: fivePoint, x, i: i, j: j)) * inverseDiagonal[p]
            p -= 1
        }
    }

    /// One weighted Jacobi sweep.
    func jacobi(omega: Double, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, work: UnsafeMutablePointer<Double>) {
        _ = StencilField2DKernels.residual(
            c, height: height, width: width, fivePoint: fivePoint, symmetric: symmetric, x: x, b: b, into: work)
        for p in 0..<n { x[p] += omega * inverseDiagonal[p] * work[p] }
    }
}
