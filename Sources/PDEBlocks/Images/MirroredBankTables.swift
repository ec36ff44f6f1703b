/// The mirrored sample indices of every filter of a bank on one image size, computed once
/// (`ImageDiffusionStep.init`), so the generic path applies `K_c` and `K_cᵀ` without a
/// mirror computation per sample: row `i` with weight row `a` reads image row
/// `rows[c][i·R + a]`, column `j` with weight column `b` reads `columns[c][j·Q + b]`.
/// Same operators as `Stencil2D.apply`/`accumulateTransposed`, term by term in the same order.
struct MirroredBankTables: Sendable {
    let rows: [[Int]]
    let columns: [[Int]]

    init(_ bank: [Stencil2D], height: Int, width: Int) throws {
        var rows: [[Int]] = [], columns: [[Int]] = []
        for k in bank {
            let r = try Memory.count(height, k.rows, for: "the mirrored row table of a filter")
            let q = try Memory.count(width, k.columns, for: "the mirrored column table of a filter")
            try Memory.reserve(r + q, of: Int.self, for: "the mirrored index tables of a filter bank")
            rows.append((0..<r).map { Stencil.mirror($0 / k.rows + k.offsetY + $0 % k.rows, height) })
            columns.append((0..<q).map { Stencil.mirror($0 / k.columns + k.offsetX + $0 % k.columns, width) })
        }
        (self.rows, self.columns) = (rows, columns)
    }

    /// `out = K_c x` (overwrites `out`).
    func apply(_ c: Int, _ k: Stencil2D, _ x: UnsafeBufferPointer<Double>, height: Int, width: Int,
               into out: UnsafeMutableBufferPointer<Double>) {
        let (nr, nc) = (k.rows, k.columns)
        rows[c].withUnsafeBufferPointer { rt in
            columns[c].withUnsafeBufferPointer { ct in
                k.weights.withUnsafeBufferPointer { w in
                    for i in 0..<height {
                        let o = out.baseAddress! + i * width
                        for j in 0..<width { o[j] = 0 }
                        for a in 0..<nr {
                            let src = x.baseAddress! + rt[i * nr + a] * width
                            for b in 0..<nc {
                                let wab = w[a * nc + b]
                                for j in 0..<width { o[j] += wab * src[ct[j * nc + b]] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `out += K_cᵀ y`.
    func accumulateTransposed(_ c: Int, _ k: Stencil2D, _ y: UnsafeBufferPointer<Double>, height: Int, width: Int,
                              into out: UnsafeMutableBufferPointer<Double>) {
        let (nr, nc) = (k.rows, k.columns)
        rows[c].withUnsafeBufferPointer { rt in
            columns[c].withUnsafeBufferPointer { ct in
                k.weights.withUnsafeBufferPointer { w in
                    for i in 0..<height {
                        let v = y.baseAddress! + i * width
                        for a in 0..<nr {
                            let dst = out.baseAddress! + rt[i * nr + a] * width
                            for b in 0..<nc {
                                let wab = w[a * nc + b]
                                for j in 0..<width { dst[ct[j * nc + b]] += wab * v[j] }
                            }
                        }
                    }
                }
            }
        }
    }
}
