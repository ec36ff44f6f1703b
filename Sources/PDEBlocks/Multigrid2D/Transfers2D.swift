/// The transfer between an `H×W` level and its `Hc×Wc = ⌊H/2⌋×⌊W/2⌋` coarse level
/// (vertex coarsening per axis: coarse `(I, J)` is fine `(2I+1, 2J+1)`).
///
/// The prolongation `P` is injection at coarse points and, at the other fine points,
/// a weighted sum of the adjacent coarse points:
///  - an *x-edge* point `(2I+1, 2J′)` from `(I, J′−1)` and `(I, J′)` (`ex`, 2 weights);
///  - a *y-edge* point `(2I′, 2J+1)` from `(I′−1, J)` and `(I′, J)` (`ey`, 2 weights);
///  - a *centre* point `(2I′, 2J′)` from the four corners `(I′−1, J′−1), (I′−1, J′), (I′, J′−1), (I′, J′)` (`ec`).
/// A weight to a coarse point that does not exist is 0. The restriction is `R = ¼ Pᵀ`
/// (full weighting for bilinear `P`): exactly adjoint up to the factor ¼.
///
/// Two constructions: `bilinear` (the tensor product of 1D linear interpolation; at a
/// boundary point with one coarse neighbour the weight is ½ for Dirichlet grids, 1 for
/// mirrored ones) and `matrixDependent` (Dendy's black-box multigrid, 1982: edge points
/// from the operator's stencil collapsed across the edge, centre points from the
/// operator's own row, so the interpolant follows jumping coefficients).
public struct Transfer2D: Sendable {
    public let fineHeight: Int, fineWidth: Int, coarseHeight: Int, coarseWidth: Int
    /// Even fine rows / columns: `H − Hc`, `W − Wc`.
    let evenRows: Int, evenColumns: Int
    /// `ex[(I·evenColumns + J′)·2 + {0, 1}]`.
    var ex: [Double]
    /// `ey[(I′·Wc + J)·2 + {0, 1}]`.
    var ey: [Double]
    /// `ec[(I′·evenColumns + J′)·4 + k]`, k: NW, NE, SW, SE corner.
    var ec: [Double]

    init(fineHeight H: Int, fineWidth W: Int) throws {
        fineHeight = H
        fineWidth = W
        coarseHeight = H / 2
        coarseWidth = W / 2
        evenRows = H - H / 2
        evenColumns = W - W / 2
        ex = try Memory.zeros(2 * coarseHeight * evenColumns, for: "interpolation weights")
        ey = try Memory.zeros(2 * evenRows * coarseWidth, for: "interpolation weights")
        ec = try Memory.zeros(4 * evenRows * evenColumns, for: "interpolation weights")
    }

    /// Whether an `H×W` level can be coarsened (both sides ≥ 2).
    static func canCoarsen(height: Int, width: Int) -> Bool { height >= 2 && width >= 2 }

    // MARK: - Constructions

    /// 1D linear weights of even fine index `2J′` to coarse `J′−1` and `J′` on `coarse` points.
    static func linear(_ jj: Int, coarse: Int, mirrored: Bool) -> (Double, Double) {
        let left = jj >= 1, right = jj < coarse
        if left && right { return (0.5, 0.5) }
        let one = mirrored ? 1.0 : 0.5
        return (left ? one : 0, right ? one : 0)
    }

    /// Bilinear interpolation (tensor product of 1D linear interpolation).
    public static func bilinear(fineHeight H: Int, fineWidth W: Int, mirrored: Bool) throws -> Transfer2D {
        var t = try Transfer2D(fineHeight: H, fineWidth: W)
        let (Hc, Wc) = (t.coarseHeight, t.coarseWidth)
        for I in 0..<Hc {
            for jj in 0..<t.evenColumns {
                let (l, r) = linear(jj, coarse: Wc, mirrored: mirrored)
                t.ex[(I * t.evenColumns + jj) * 2] = l
                t.ex[(I * t.evenColumns + jj) * 2 + 1] = r
            }
        }
        for ii in 0..<t.evenRows {
            let (u, d) = linear(ii, coarse: Hc, mirrored: mirrored)
            for J in 0..<Wc {
                t.ey[(ii * Wc + J) * 2] = u
                t.ey[(ii * Wc + J) * 2 + 1] = d
            }
            for jj in 0..<t.evenColumns {
                let (l, r) = linear(jj, coarse: Wc, mirrored: mirrored)
                let k = (ii * t.evenColumns + jj) * 4
                (t.ec[k], t.ec[k + 1], t.ec[k + 2], t.ec[k + 3]) = (u * l, u * r, d * l, d * r)
            }
        }
        return t
    }

    /// Dendy's operator-induced interpolation for the stencil field `A` (its diagonal positive),
    /// in the zero-row-sum form for `.cell` grids (mirrored boundaries: the diagonal's surplus
    /// over the couplings is the identity term) and the classical lumped form otherwise
    /// (Dirichlet boundaries: the surplus at a boundary pixel is the coupling to the boundary
    /// value 0, and a boundary F-pixel must get weight ½, not 1). Zero-row-sum edge points: `w = (a′_lo, a′_hi) / (a′_lo + a′_hi)` with the
    /// stencil collapsed across the edge (column sums for x-edges, row sums for y-edges).
    /// Centre points: `e_p = Σ_{d≠c} a_d e_{p+d} / Σ_{d≠c} a_d` with the edge neighbours
    /// already interpolated. The diagonal's surplus (the identity of `I + τKᵀWK`) is left
    /// out, so weights sum to 1 and a region cut off by weak couplings keeps its constant —
    /// with the surplus included, a pixel coupled strongly only across the edge direction
    /// would get weights ≈ 0 and two-grid convergence stalls (measured: factor 0.997 for one
    /// edge line at an odd column). Where the off-diagonals do not sum to a clearly negative
    /// value (mixed signs), the lumped diagonal is used instead. In the zero-row-sum form each
    /// edge coupling is further scaled by its coarse pixel's connectivity `σ²`, `σ` = the
    /// pixel's off-diagonal sum over its diagonal: a coarse pixel cut off on all sides (an
    /// intersection of two edge lines, `σ ≈ 0`) otherwise takes weight ½ of a neighbour that
    /// belongs to the region next to it (measured on the 512² edge-line pattern at τ = 10⁴:
    /// two-grid factor 0.95 without, 0.06 with the scaling).
    public static func matrixDependent(_ A: StencilField2D) throws -> Transfer2D {
        let (H, W, n) = (A.height, A.width, A.count)
        var t = try Transfer2D(fineHeight: H, fineWidth: W)
        let (Hc, Wc, nEx) = (t.coarseHeight, t.coarseWidth, t.evenColumns)
        let zeroRowSum = A.grid == .cell
        A.coefficients.withUnsafeBufferPointer { cb in
            let c = cb.baseAddress!
            @inline(__always) func a(_ d: Int, _ p: Int) -> Double { c[d * n + p] }
            // Weights that sum to 1 (zero-row-sum form: the identity / lower-order part of the
            // diagonal is left out, so each strongly coupled region's constant is interpolated
            // exactly); the lumped diagonal only when the off-diagonal sum is not negative enough.
            // The coupling -a[from → to] between two pixels (0 if `to` leaves the image).
            @inline(__always) func coupling(_ y: Int, _ x: Int, _ y2: Int, _ x2: Int) -> Double {
                guard y2 >= 0, y2 < H, x2 >= 0, x2 < W else { return 0 }
                return -a(3 * (y2 - y + 1) + (x2 - x + 1), y * W + x)
            }
            // The strongest path from fine (i, j) to its coarse neighbour (i+dy, j+dx) around
            // the two cells beside the edge: through the perpendicular neighbour f and the
            // coarse pixel's neighbour g (e → f → g → C), or diagonally (e → g → C); a path's
            // strength is its weakest coupling.
            func pathStrength(_ i: Int, _ j: Int, _ dy: Int, _ dx: Int) -> Double {
                var best = 0.0
                for side in [-1, 1] {
                    let (oy, ox) = (dx != 0 ? side : 0, dy != 0 ? side : 0)
                    let (fy, fx, gy, gx) = (i + oy, j + ox, i + dy + oy, j + dx + ox)
                    guard gy >= 0, gy < H, gx >= 0, gx < W else { continue }
                    let last = coupling(gy, gx, i + dy, j + dx)
                    best = max(best, min(coupling(i, j, fy, fx), coupling(fy, fx, gy, gx), last), min(coupling(i, j, gy, gx), last))
                }
                return best
            }
            func weights(_ lo0: Double, _ mid: Double, _ hi0: Double, _ diag: Double, loOK: Bool, hiOK: Bool,
                         i: Int, j: Int, loDy: Int, loDx: Int) -> (Double, Double) {
                var (lo, hi) = (lo0, hi0)
                if zeroRowSum {   // a region's pixels are also connected around the cells beside the edge
                    if loOK { lo = min(lo, -pathStrength(i, j, loDy, loDx)) }
                    if hiOK { hi = min(hi, -pathStrength(i, j, -loDy, -loDx)) }
                }
                let off = -(lo + hi)
                let denominator = zeroRowSum && off >= 0.5 * (abs(lo) + abs(hi)) && off > 0
                    ? off : (mid > 1e-12 * diag ? mid : diag)
                return (loOK ? -lo / denominator : 0, hiOK ? -hi / denominator : 0)
            }
            for I in 0..<Hc {
                for jj in 0..<nEx {
                    let p = (2 * I + 1) * W + 2 * jj
                    let (l, r) = weights(
                        a(0, p) + a(3, p) + a(6, p), a(1, p) + a(4, p) + a(7, p), a(2, p) + a(5, p) + a(8, p), a(4, p),
                        loOK: jj >= 1, hiOK: jj < Wc, i: 2 * I + 1, j: 2 * jj, loDy: 0, loDx: -1)
                    t.ex[(I * nEx + jj) * 2] = l
                    t.ex[(I * nEx + jj) * 2 + 1] = r
                }
            }
            for ii in 0..<t.evenRows {
                for J in 0..<Wc {
                    let p = (2 * ii) * W + 2 * J + 1
                    let (u, d) = weights(
                        a(0, p) + a(1, p) + a(2, p), a(3, p) + a(4, p) + a(5, p), a(6, p) + a(7, p) + a(8, p), a(4, p),
                        loOK: ii >= 1, hiOK: ii < Hc, i: 2 * ii, j: 2 * J + 1, loDy: -1, loDx: 0)
                    t.ey[(ii * Wc + J) * 2] = u
                    t.ey[(ii * Wc + J) * 2 + 1] = d
                }
            }
            for ii in 0..<t.evenRows {
                for jj in 0..<nEx {
                    let p = (2 * ii) * W + 2 * jj
                    let up = ii >= 1, down = ii < Hc, left = jj >= 1, right = jj < Wc
                    // neighbours' interpolation weights (0 where the neighbour does not exist)
                    let nW = up ? (t.ex[((ii - 1) * nEx + jj) * 2], t.ex[((ii - 1) * nEx + jj) * 2 + 1]) : (0, 0)
                    let sW = down ? (t.ex[(ii * nEx + jj) * 2], t.ex[(ii * nEx + jj) * 2 + 1]) : (0, 0)
                    let wW = left ? (t.ey[(ii * Wc + jj - 1) * 2], t.ey[(ii * Wc + jj - 1) * 2 + 1]) : (0, 0)
                    let eW = right ? (t.ey[(ii * Wc + jj) * 2], t.ey[(ii * Wc + jj) * 2 + 1]) : (0, 0)
                    var off = 0.0, magnitude = 0.0
                    for d in [0, 1, 2, 3, 5, 6, 7, 8] {
                        off -= a(d, p)
                        magnitude += abs(a(d, p))
                    }
                    // divide (never multiply by 1/den): couplings may be subnormal, 1/den then overflows
                    let den = zeroRowSum && off >= 0.5 * magnitude && off > 0 ? -off : -a(4, p)
                    let k = (ii * nEx + jj) * 4
                    t.ec[k] = up && left ? (a(0, p) + a(1, p) * nW.0 + a(3, p) * wW.0) / den : 0
                    t.ec[k + 1] = up && right ? (a(2, p) + a(1, p) * nW.1 + a(5, p) * eW.0) / den : 0
                    t.ec[k + 2] = down && left ? (a(6, p) + a(7, p) * sW.0 + a(3, p) * wW.1) / den : 0
                    t.ec[k + 3] = down && right ? (a(8, p) + a(7, p) * sW.1 + a(5, p) * eW.1) / den : 0
                }
            }
        }
        return t
    }

    // MARK: - Column of P

    /// Column `(I, J)` of `P` on the fine 3×3 block rows `2I…2I+2`, columns `2J…2J+2`
    /// (`p[3·dy + dx]`; 0 for fine points outside the image).
    @inline(__always)
    func column(_ I: Int, _ J: Int, _ p: UnsafeMutablePointer<Double>) {
        let nEx = evenColumns, Wc = coarseWidth
        let below = I + 1 < evenRows, beyond = J + 1 < evenColumns
        p[4] = 1
        p[3] = ex[(I * nEx + J) * 2 + 1]
        p[5] = beyond ? ex[(I * nEx + J + 1) * 2] : 0
        p[1] = ey[(I * Wc + J) * 2 + 1]
        p[7] = below ? ey[((I + 1) * Wc + J) * 2] : 0
        p[0] = ec[(I * nEx + J) * 4 + 3]
        p[2] = beyond ? ec[(I * nEx + J + 1) * 4 + 2] : 0
        p[6] = below ? ec[((I + 1) * nEx + J) * 4 + 1] : 0
        p[8] = below && beyond ? ec[((I + 1) * nEx + J + 1) * 4] : 0
    }

    // MARK: - Application

    /// `fine += P coarse`.
    public func prolongAdd(_ coarse: UnsafePointer<Double>, into fine: UnsafeMutablePointer<Double>) {
        prolongAdd(coarse, into: fine, rows: 0..<fineHeight)
    }

    /// `prolongAdd` on the fine rows `rows` only (each fine row is written independently).
    func prolongAdd(_ coarse: UnsafePointer<Double>, into fine: UnsafeMutablePointer<Double>, rows: Range<Int>) {
        let (W, Wc, Hc, nEx) = (fineWidth, coarseWidth, coarseHeight, evenColumns)
        ex.withUnsafeBufferPointer { exb in
        ey.withUnsafeBufferPointer { eyb in
        ec.withUnsafeBufferPointer { ecb in
            let (ex, ey, ec) = (exb.baseAddress!, eyb.baseAddress!, ecb.baseAddress!)
            for i in rows {
                let row = fine + i * W
                if i & 1 == 1 {
                    let I = i >> 1, e = coarse + I * Wc, w = ex + I * nEx * 2
                    for J in 0..<Wc { row[2 * J + 1] += e[J] }
                    for jj in 0..<nEx {
                        var s = 0.0
                        if jj >= 1 { s += w[2 * jj] * e[jj - 1] }
                        if jj < Wc { s += w[2 * jj + 1] * e[jj] }
                        row[2 * jj] += s
                    }
                } else {
                    let ii = i >> 1
                    let up = ii >= 1, down = ii < Hc
                    let eu = coarse + (ii - 1) * Wc, ed = coarse + ii * Wc
                    let wy = ey + ii * Wc * 2, wc = ec + ii * nEx * 4
                    for J in 0..<Wc {
                        var s = 0.0
                        if up { s += wy[2 * J] * eu[J] }
                        if down { s += wy[2 * J + 1] * ed[J] }
                        row[2 * J + 1] += s
                    }
                    for jj in 0..<nEx {
                        var s = 0.0
                        let left = jj >= 1, right = jj < Wc
                        if up {
                            if left { s += wc[4 * jj] * eu[jj - 1] }
                            if right { s += wc[4 * jj + 1] * eu[jj] }
                        }
                        if down {
                            if left { s += wc[4 * jj + 2] * ed[jj - 1] }
                            if right { s += wc[4 * jj + 3] * ed[jj] }
                        }
                        row[2 * jj] += s
                    }
                }
            }
        }
        }
        }
    }

    /// `coarse = ¼ Pᵀ fine`, one coarse row at a time (`restrictRow`).
    public func restrict(_ fine: UnsafePointer<Double>, into coarse: UnsafeMutablePointer<Double>) {
        let W = fineWidth
        for I in 0..<coarseHeight {
            restrictRow(
                I, f0: fine + 2 * I * W, f1: fine + (2 * I + 1) * W, f2: 2 * I + 2 < fineHeight ? fine + (2 * I + 2) * W : nil,
                into: coarse + I * coarseWidth)
        }
    }

    /// Coarse row `I` of `¼ Pᵀ fine` from the fine rows `2I` (`f0`), `2I+1` (`f1`) and
    /// `2I+2` (`f2`, nil when it does not exist), each `fineWidth` values (the entries of
    /// `column(I, J)` read in place: no per-point column assembly). The rows may live
    /// anywhere, e.g. in a ring buffer of residual rows (`residualRestricted`).
    @inline(__always)
    func restrictRow(
        _ I: Int, f0: UnsafePointer<Double>, f1: UnsafePointer<Double>, f2: UnsafePointer<Double>?,
        into out: UnsafeMutablePointer<Double>
    ) {
        let (Wc, nEx) = (coarseWidth, evenColumns)
        guard Wc > 0 else { return }
        let beyondLast = Wc < nEx   // the last coarse column has fine column 2Wc (odd W)
        ex.withUnsafeBufferPointer { exb in
        ey.withUnsafeBufferPointer { eyb in
        ec.withUnsafeBufferPointer { ecb in
            // odd row 2I+1: injection and the x-edge points either side;
            // even row 2I: y-edge points (weight to the coarse row below them) and centre points
            let w1 = exb.baseAddress! + I * nEx * 2
            let y0 = eyb.baseAddress! + I * Wc * 2, c0 = ecb.baseAddress! + I * nEx * 4
            for J in 0..<(Wc - 1) {
                out[J] = f1[2 * J + 1] + w1[2 * J + 1] * f1[2 * J] + w1[2 * J + 2] * f1[2 * J + 2]
                    + y0[2 * J + 1] * f0[2 * J + 1] + c0[4 * J + 3] * f0[2 * J] + c0[4 * J + 6] * f0[2 * J + 2]
            }
            do {
                let J = Wc - 1
                var s = f1[2 * J + 1] + w1[2 * J + 1] * f1[2 * J] + y0[2 * J + 1] * f0[2 * J + 1] + c0[4 * J + 3] * f0[2 * J]
                if beyondLast { s += w1[2 * J + 2] * f1[2 * J + 2] + c0[4 * J + 6] * f0[2 * J + 2] }
                out[J] = s
            }
            // even row 2I+2 (when it exists): weights to the coarse row above
            if let f2 {
                let y2 = eyb.baseAddress! + (I + 1) * Wc * 2, c2 = ecb.baseAddress! + (I + 1) * nEx * 4
                for J in 0..<(Wc - 1) {
                    out[J] += y2[2 * J] * f2[2 * J + 1] + c2[4 * J + 1] * f2[2 * J] + c2[4 * J + 4] * f2[2 * J + 2]
                }
                let J = Wc - 1
                out[J] += y2[2 * J] * f2[2 * J + 1] + c2[4 * J + 1] * f2[2 * J]
                    + (beyondLast ? c2[4 * J + 4] * f2[2 * J + 2] : 0)
            }
            for J in 0..<Wc { out[J] *= 0.25 }
        }
        }
        }
    }
}
