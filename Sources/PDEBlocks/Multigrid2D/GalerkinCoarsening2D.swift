extension Transfer2D {
    /// The Galerkin coarse operator `A_H = R A P = ¼ Pᵀ A P` as a 9-point stencil field
    /// (`P` couples a coarse point to fine points at most one coarse step away, so
    /// `Pᵀ A P` couples coarse points at most one step apart per axis).
    ///
    /// Column by column: for coarse `(I, J)`, `v = A P e_{IJ}` on the fine 7×7 block
    /// around it, then `A_H[(I+di, J+dj), (I, J)] = ¼ (P e_{I+di, J+dj})ᵀ v` for the coarse
    /// point itself and its four "later" neighbours (east, south-west, south, south-east);
    /// each value is stored for both `A_H[K, IJ]` and `A_H[IJ, K]`, so `A_H` is exactly
    /// symmetric (for a symmetric `A` the two are equal; the hierarchy admits `A` symmetric to
    /// 1e-10 relative). Columns of `P` are computed once per coarse row (a rolling pair of
    /// rows). Grid kind and boundaries are inherited (outward coefficients are exactly 0).
    func galerkin(_ A: StencilField2D) throws -> StencilField2D {
        let (H, W, n) = (A.height, A.width, A.count)
        let (Hc, Wc) = (coarseHeight, coarseWidth)
        let nc = Hc * Wc
        var out = try Memory.zeros(Memory.count(9, nc, for: "a coarse operator"), for: "a coarse operator")
        let five = A.isFivePoint
        let directions = five ? [1, 3, 4, 5, 7] : Array(0..<9)
        // the later neighbours (di, dj) of a coarse point, the point itself first
        let later: [(Int, Int)] = [(0, 0), (0, 1), (1, -1), (1, 0), (1, 1)]
        // per direction: the offset of the reaching row's coefficient from the fine point
        // (d·n − step), and of its entry in the 7×7 block (−step in block coordinates)
        let coefficientOffset = directions.map { d in d * n - (d / 3 - 1) * W - (d % 3 - 1) }
        let blockOffset = directions.map { d in -(d / 3 - 1) * 7 - (d % 3 - 1) }
        A.coefficients.withUnsafeBufferPointer { cb in
        out.withUnsafeMutableBufferPointer { ob in
        directions.withUnsafeBufferPointer { db in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 49 + 2 * 9 * Wc) { scratch in
            let c = cb.baseAddress!, o = ob.baseAddress!
            let v = scratch.baseAddress!   // 7×7, fine rows 2I−2…2I+4
            var rowI = v + 49, rowNext = rowI + 9 * Wc   // P columns of coarse rows I and I+1
            for J in 0..<Wc { column(0, J, rowI + 9 * J) }
            for I in 0..<Hc {
                if I + 1 < Hc { for J in 0..<Wc { column(I + 1, J, rowNext + 9 * J) } }
                for J in 0..<Wc {
                    let p = rowI + 9 * J
                    v.update(repeating: 0, count: 49)
                    if I >= 1 && I + 2 < Hc && J >= 1 && J + 2 < Wc {
                        // interior: every fine point of the block and every neighbour exists
                        for dy in 0..<3 {
                            for dx in 0..<3 {
                                let weight = p[3 * dy + dx]
                                if weight == 0 { continue }
                                let (q, vi) = ((2 * I + dy) * W + 2 * J + dx, (dy + 2) * 7 + dx + 2)
                                for k in 0..<coefficientOffset.count {
                                    v[vi + blockOffset[k]] += c[q + coefficientOffset[k]] * weight
                                }
                            }
                        }
                        for (di, dj) in later {
                            let q = (di == 0 ? rowI : rowNext) + 9 * (J + dj)
                            let block = v + (2 * di + 2) * 7 + 2 * dj + 2
                            var s = 0.0
                            for dy in 0..<3 { for dx in 0..<3 { s += q[3 * dy + dx] * block[dy * 7 + dx] } }
                            o[(3 * (1 - di) + 1 - dj) * nc + (I + di) * Wc + J + dj] = 0.25 * s
                            o[(3 * (1 + di) + 1 + dj) * nc + I * Wc + J] = 0.25 * s
                        }
                        continue
                    }
                    let (y0, x0) = (2 * I - 2, 2 * J - 2)
                    for dy in 0..<3 {
                        let fy = 2 * I + dy
                        if fy >= H { continue }
                        for dx in 0..<3 {
                            let fx = 2 * J + dx
                            let weight = p[3 * dy + dx]
                            if fx >= W || weight == 0 { continue }
                            // rows r = (fy, fx) − step_d reach (fy, fx) through direction d
                            for d in db {
                                let (sy, sx) = (d / 3 - 1, d % 3 - 1)
                                let (ry, rx) = (fy - sy, fx - sx)
                                guard ry >= 0, ry < H, rx >= 0, rx < W else { continue }
                                v[(ry - y0) * 7 + rx - x0] += c[d * n + ry * W + rx] * weight
                            }
                        }
                    }
                    for (di, dj) in later {
                        let (K, L) = (I + di, J + dj)
                        guard K < Hc, L >= 0, L < Wc else { continue }
                        let q = (di == 0 ? rowI : rowNext) + 9 * L
                        var s = 0.0
                        for dy in 0..<3 {
                            let fy = 2 * K + dy
                            if fy >= H { continue }
                            for dx in 0..<3 where 2 * L + dx < W {
                                s += q[3 * dy + dx] * v[(fy - y0) * 7 + 2 * L + dx - x0]
                            }
                        }
                        // row (K, L) → (I, J): direction (−di, −dj); row (I, J) → (K, L): (di, dj)
                        o[(3 * (1 - di) + 1 - dj) * nc + K * Wc + L] = 0.25 * s
                        o[(3 * (1 + di) + 1 + dj) * nc + I * Wc + J] = 0.25 * s
                    }
                }
                swap(&rowI, &rowNext)
            }
        }
        }
        }
        }
        return StencilField2D(unchecked: Hc, Wc, out, grid: A.grid)
    }
}
