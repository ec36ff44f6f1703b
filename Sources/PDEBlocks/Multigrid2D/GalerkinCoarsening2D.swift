extension Transfer2D {
    /// The Galerkin coarse operator `A_H = R A P = ¼ Pᵀ A P` as a 9-point stencil field
    /// (`P` couples a coarse point to fine points at most one coarse step away, so
    /// `Pᵀ A P` couples coarse points at most one step apart per axis).
    ///
    /// Column by column: for coarse `(I, J)`, `v = A P e_{IJ}` on the fine 7×7 block
    /// around it, then `A_H[(I+di, J+dj), (I, J)] = ¼ (P e_{I+di, J+dj})ᵀ v` for the nine
    /// coarse neighbours. Symmetric `A` gives symmetric `A_H` (to rounding). Grid kind and
    /// boundaries are inherited (outward coefficients are exactly 0).
    func galerkin(_ A: StencilField2D) throws -> StencilField2D {
        let (H, W, n) = (A.height, A.width, A.count)
        let (Hc, Wc) = (coarseHeight, coarseWidth)
        let nc = Hc * Wc
        var out = try Memory.zeros(Memory.count(9, nc, for: "a coarse operator"), for: "a coarse operator")
        let five = A.isFivePoint
        A.coefficients.withUnsafeBufferPointer { cb in
        out.withUnsafeMutableBufferPointer { ob in
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 9 + 9 + 49) { scratch in
            let c = cb.baseAddress!, o = ob.baseAddress!
            let p = scratch.baseAddress!, q = p + 9, v = p + 18   // v: 7×7, fine rows 2I−2…2I+4
            for I in 0..<Hc {
                for J in 0..<Wc {
                    column(I, J, p)
                    v.update(repeating: 0, count: 49)
                    let (y0, x0) = (2 * I - 2, 2 * J - 2)
                    for dy in 0..<3 {
                        let fy = 2 * I + dy
                        if fy >= H { continue }
                        for dx in 0..<3 {
                            let fx = 2 * J + dx
                            let weight = p[3 * dy + dx]
                            if fx >= W || weight == 0 { continue }
                            // rows r = (fy, fx) − step_d reach (fy, fx) through direction d
                            for d in 0..<9 {
                                if five && (d == 0 || d == 2 || d == 6 || d == 8) { continue }
                                let (sy, sx) = (d / 3 - 1, d % 3 - 1)
                                let (ry, rx) = (fy - sy, fx - sx)
                                guard ry >= 0, ry < H, rx >= 0, rx < W else { continue }
                                v[(ry - y0) * 7 + rx - x0] += c[d * n + ry * W + rx] * weight
                            }
                        }
                    }
                    for di in -1...1 {
                        let K = I + di
                        guard K >= 0, K < Hc else { continue }
                        for dj in -1...1 {
                            let L = J + dj
                            guard L >= 0, L < Wc else { continue }
                            column(K, L, q)
                            var s = 0.0
                            for dy in 0..<3 {
                                let fy = 2 * K + dy
                                if fy >= H { continue }
                                for dx in 0..<3 where 2 * L + dx < W {
                                    s += q[3 * dy + dx] * v[(fy - y0) * 7 + 2 * L + dx - x0]
                                }
                            }
                            // entry (K, L) → (I, J): direction (−di, −dj) of row (K, L)
                            o[(3 * (1 - di) + 1 - dj) * nc + K * Wc + L] = 0.25 * s
                        }
                    }
                }
            }
        }
        }
        }
        return StencilField2D(unchecked: Hc, Wc, out, grid: A.grid)
    }
}
