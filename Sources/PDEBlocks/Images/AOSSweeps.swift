/// The three passes of one AOS step (see `AOS`) on one image, over preallocated buffers:
/// the diffusivity field `g`, the row solves (x), then the column solves (y) combined with
/// the row solutions into `y = ½(v_x + v_y)`.
struct AOSSweeps {
    /// Columns gathered per block of the y pass (one cache line of a row).
    static let columnBlock = 8

    let height: Int, width: Int, inverseH2: Double
    /// `2τ/h²`.
    let coupling: Double
    let diffusivity: Diffusivity
    /// `g` per pixel (`height·width`).
    let g: UnsafeMutablePointer<Double>
    /// Per-thread scratch, `perThread` values each.
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int

    /// `y = ½ Σ_l (I − 2τA_l(x))⁻¹ x`; `y` must not overlap `x`. A system the solver refuses
    /// (only when values overflow) leaves NaN in its row or column of `y`, which the caller's
    /// finiteness check reports.
    func step(_ x: UnsafeMutablePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        let n = height * width
        let maxParts = max(1, scratch.count / perThread)
        let rowParts = min(EEDRowBands.parts(count: height, samples: n), maxParts)
        EEDRowBands.run(rowParts, Diffusivities(sweeps: self, x: x, parts: rowParts))
        EEDRowBands.run(rowParts, Rows(sweeps: self, x: x, y: y, parts: rowParts))
        let blocks = (width + Self.columnBlock - 1) / Self.columnBlock
        let columnParts = min(EEDRowBands.parts(count: blocks, samples: n), maxParts)
        EEDRowBands.run(columnParts, Columns(sweeps: self, x: x, y: y, blocks: blocks, parts: columnParts))
    }

    /// Band storage (3 per row: `a_{j,j−1}, a_jj, a_{j,j+1}`) of `I − 2τA` for a line of `m`
    /// pixels with weights `w[k·stride]`; the slots outside the matrix are 0.
    @inline(__always)
    static func system(_ w: UnsafePointer<Double>, count m: Int, coupling c: Double, into a: UnsafeMutablePointer<Double>) {
        var previous = 0.0
        for j in 0..<(m - 1) {
            let off = -c * w[j]
            a[3 * j] = previous
            a[3 * j + 1] = 1 - previous - off
            a[3 * j + 2] = off
            previous = off
        }
        a[3 * (m - 1)] = previous
        a[3 * (m - 1) + 1] = 1 - previous
        a[3 * (m - 1) + 2] = 0
    }

    /// Solves one line in place (`m ≥ 2`), or fills it with NaN when the solver refuses.
    @inline(__always)
    static func solve(_ a: UnsafePointer<Double>, count m: Int, _ v: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>) {
        if BandedLU.solveTridiagonalOnce(a: a, n: m, b: v, x: v, work: work) == nil {
            v.update(repeating: .nan, count: m)
        }
    }

    /// `g(s²)` per pixel, `s² = (Kx x)² + (Ky x)²` (forward differences, mirrored).
    private struct Diffusivities: ParallelJob {
        let sweeps: AOSSweeps, x: UnsafeMutablePointer<Double>, parts: Int
        func perform(_ t: Int) {
            let H = sweeps.height, W = sweeps.width, s = sweeps.inverseH2
            for i in EEDRowBands.band(t, of: parts, count: H) {
                let row = x + i * W, gr = sweeps.g + i * W
                let down = i < H - 1 ? row + W : row  // last row: Ky x = 0
                for j in 0..<(W - 1) {
                    let dx = row[j + 1] - row[j], dy = down[j] - row[j]
                    gr[j] = (dx * dx + dy * dy) * s
                }
                let dy = down[W - 1] - row[W - 1]
                gr[W - 1] = dy * dy * s
                sweeps.diffusivity.withFluxLanes(DiffusivityOfSquares(y: gr, n: W))
            }
        }
    }

    /// `y_row = (I − 2τA_x)⁻¹ x_row` for a band of rows.
    private struct Rows: ParallelJob {
        let sweeps: AOSSweeps, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, parts: Int
        func perform(_ t: Int) {
            let W = sweeps.width
            let a = sweeps.scratch.baseAddress! + t * sweeps.perThread, work = a + 3 * W
            for i in EEDRowBands.band(t, of: parts, count: sweeps.height) {
                let v = y + i * W
                v.update(from: x + i * W, count: W)
                guard W > 1 else { continue }
                AOSSweeps.system(sweeps.g + i * W, count: W, coupling: sweeps.coupling, into: a)
                AOSSweeps.solve(a, count: W, v, work: work)
            }
        }
    }

    /// For a band of blocks of eight columns: gather the columns of `x` and `g`, solve
    /// `(I − 2τA_y)`, and set `y = ½(y + v_y)`.
    private struct Columns: ParallelJob {
        let sweeps: AOSSweeps, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, blocks: Int, parts: Int
        func perform(_ t: Int) {
            let H = sweeps.height, W = sweeps.width, B = AOSSweeps.columnBlock
            let values = sweeps.scratch.baseAddress! + t * sweeps.perThread
            let weights = values + B * H, a = weights + B * H, work = a + 3 * H
            for block in EEDRowBands.band(t, of: parts, count: blocks) {
                let j0 = block * B, count = min(B, W - j0)
                for i in 0..<H {
                    let xr = x + i * W + j0, gr = sweeps.g + i * W + j0
                    for c in 0..<count {
                        values[c * H + i] = xr[c]
                        weights[c * H + i] = gr[c]
                    }
                }
                if H > 1 {
                    for c in 0..<count {
                        AOSSweeps.system(weights + c * H, count: H, coupling: sweeps.coupling, into: a)
                        AOSSweeps.solve(a, count: H, values + c * H, work: work)
                    }
                }
                for i in 0..<H {
                    let yr = y + i * W + j0
                    for c in 0..<count { yr[c] = 0.5 * (yr[c] + values[c * H + i]) }
                }
            }
        }
    }
}
