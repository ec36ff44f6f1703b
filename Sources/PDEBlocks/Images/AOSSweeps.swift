/// The two passes of one AOS step (see `AOS`) on one image, over preallocated buffers: the
/// row solves (x), then the column solves (y) combined with the row solutions into
/// `y = ½(v_x + v_y)`. Both form the weights `g` on the way (`AOSWeights`). The solves run
/// sixteen lines at a time (`TridiagonalLanes`): columns straight from the image, rows
/// through a transposed copy.
struct AOSSweeps {
    let height: Int, width: Int, inverseH2: Double
    /// `2τ/h²`.
    let coupling: Double
    let diffusivity: Diffusivity
    /// Per-thread scratch, `perThread` values each.
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int

    /// `y = ½ Σ_l (I − 2τA_l(x))⁻¹ x`; `y` must not overlap `x`. A system whose weights
    /// overflow leaves NaN in its line of `y`, which the caller's finiteness check reports.
    func step(_ x: UnsafeMutablePointer<Double>, into y: UnsafeMutablePointer<Double>) {
        let n = height * width, B = Self.lanes
        let maxParts = max(1, scratch.count / perThread)
        let rowBlocks = (height + B - 1) / B
        let rowBlockParts = min(EEDRowBands.parts(count: rowBlocks, samples: n), maxParts)
        EEDRowBands.run(rowBlockParts, Rows(sweeps: self, x: x, y: y, blocks: rowBlocks, parts: rowBlockParts))
        let blocks = (width + B - 1) / B
        let columnParts = min(EEDRowBands.parts(count: blocks, samples: n), maxParts)
        EEDRowBands.run(columnParts, Columns(sweeps: self, x: x, y: y, blocks: blocks, parts: columnParts))
    }

    /// Between a block of `count ≤ lanes` image rows (element (l, j) at `l·width + j`) and the
    /// solver's interleaved layout (at `j·lanes + l`): `toLanes` copies rows → lanes, else
    /// lanes → rows. Full blocks go by 4×4 tiles.
    @inline(__always)
    static func transpose(_ src: UnsafePointer<Double>, into dst: UnsafeMutablePointer<Double>, rows count: Int,
                          width W: Int, toLanes: Bool) {
        let B = lanes
        let (sL, sJ, dL, dJ) = toLanes ? (W, 1, 1, B) : (1, B, W, 1)
        guard count == B else {
            for l in 0..<count { for j in 0..<W { dst[l &* dL &+ j &* dJ] = src[l &* sL &+ j &* sJ] } }
            return
        }
        // a tile's rows run along the source's strided index, its four contiguous values along the other
        let (sTile, dTile) = (sL &+ sJ &- 1, dL &+ dJ &- 1)
        let W4 = W & ~3
        for l in stride(from: 0, to: B, by: 4) {
            var j = 0
            while j < W4 {
                transpose4(src + (l &* sL &+ j &* sJ), stride: sTile, into: dst + (l &* dL &+ j &* dJ), stride: dTile)
                j &+= 4
            }
            for j in W4..<W { for r in l..<(l + 4) { dst[r &* dL &+ j &* dJ] = src[r &* sL &+ j &* sJ] } }
        }
    }

    /// A 4×4 tile: `dst[c·dstStride + r] = src[r·srcStride + c]`.
    @inline(__always)
    static func transpose4(_ src: UnsafePointer<Double>, stride s: Int, into dst: UnsafeMutablePointer<Double>, stride d: Int) {
        typealias V4 = SIMD4<Double>
        let r0 = UnsafeRawPointer(src).loadUnaligned(as: V4.self)
        let r1 = UnsafeRawPointer(src + s).loadUnaligned(as: V4.self)
        let r2 = UnsafeRawPointer(src + 2 &* s).loadUnaligned(as: V4.self)
        let r3 = UnsafeRawPointer(src + 3 &* s).loadUnaligned(as: V4.self)
        UnsafeMutableRawPointer(dst).storeBytes(of: V4(r0[0], r1[0], r2[0], r3[0]), as: V4.self)
        UnsafeMutableRawPointer(dst + d).storeBytes(of: V4(r0[1], r1[1], r2[1], r3[1]), as: V4.self)
        UnsafeMutableRawPointer(dst + 2 &* d).storeBytes(of: V4(r0[2], r1[2], r2[2], r3[2]), as: V4.self)
        UnsafeMutableRawPointer(dst + 3 &* d).storeBytes(of: V4(r0[3], r1[3], r2[3], r3[3]), as: V4.self)
    }

    /// Lines solved at once (`TridiagonalLanes`).
    static let lanes = TridiagonalLanes.lanes

    /// Scratch values per thread: interleaved right-hand sides and weights of `lanes` lines
    /// plus the solver's `2·lanes·m`, for lines of up to `max(height, width)` pixels.
    static func scratchPerThread(height: Int, width: Int) throws -> Int {
        try Memory.count(4 * lanes, max(height, width), for: "AOS scratch")
    }

    /// `y_row = (I − 2τA_x)⁻¹ x_row` for a band of blocks of `lanes` rows: the rows and their
    /// weights (formed row by row in the solver's scratch) are transposed into interleaved
    /// scratch, solved `lanes` at a time, transposed back. A last block of fewer rows pads its
    /// lanes with zeros (solution 0, not stored).
    private struct Rows: ParallelJob {
        let sweeps: AOSSweeps, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, blocks: Int, parts: Int
        func perform(_ t: Int) { sweeps.diffusivity.withFluxLanes(Band(job: self, t: t)) }

        struct Band: FluxLanesKernel {
            let job: Rows, t: Int
            func run<F: FluxLanes>(_ flux: F) {
                let s = job.sweeps, W = s.width, H = s.height, B = AOSSweeps.lanes
                let g = AOSWeights(x: UnsafePointer(job.x), height: H, width: W, inverseH2: s.inverseH2, flux: flux)
                let values = s.scratch.baseAddress! + t * s.perThread
                let weights = values + B * W, solver = weights + B * W
                for block in EEDRowBands.band(t, of: job.parts, count: job.blocks) {
                    let i0 = block * B, count = min(B, H - i0)
                    if count < B {
                        values.update(repeating: 0, count: B * W)
                        weights.update(repeating: 0, count: B * W)
                    }
                    for l in 0..<count { g.row(i0 + l, into: solver + l * W) }   // (the solver's scratch, free until it runs)
                    AOSSweeps.transpose(job.x + i0 * W, into: values, rows: count, width: W, toLanes: true)
                    AOSSweeps.transpose(solver, into: weights, rows: count, width: W, toLanes: true)
                    TridiagonalLanes.solve(x: values, xStride: B, g: weights, gStride: B, count: W, coupling: s.coupling,
                                           into: values, outStride: B, average: false, scratch: solver)
                    AOSSweeps.transpose(values, into: job.y + i0 * W, rows: count, width: W, toLanes: false)
                }
            }
        }
    }

    /// For a band of blocks of `lanes` columns: solve `(I − 2τA_y)` for those columns at
    /// once, straight from the image (lanes = adjacent columns, weights formed on the way
    /// down: `ColumnWeights`), and set `y = ½(y + v_y)`. A last block of fewer columns takes
    /// its values through zero-padded scratch.
    private struct Columns: ParallelJob {
        let sweeps: AOSSweeps, x: UnsafeMutablePointer<Double>, y: UnsafeMutablePointer<Double>, blocks: Int, parts: Int
        func perform(_ t: Int) { sweeps.diffusivity.withFluxLanes(Band(job: self, t: t)) }

        struct Band: FluxLanesKernel {
            let job: Columns, t: Int
            func run<F: FluxLanes>(_ flux: F) {
                let s = job.sweeps, H = s.height, W = s.width, B = AOSSweeps.lanes
                let (x, y) = (job.x, job.y)
                let g = AOSWeights(x: UnsafePointer(x), height: H, width: W, inverseH2: s.inverseH2, flux: flux)
                let values = s.scratch.baseAddress! + t * s.perThread
                let solver = values + 2 * B * H
                for block in EEDRowBands.band(t, of: job.parts, count: job.blocks) {
                    let j0 = block * B, count = min(B, W - j0)
                    let weights = ColumnWeights(weights: g, j0: j0)
                    if count == B {
                        TridiagonalLanes.solve(x: x + j0, xStride: W, weights: weights, count: H, coupling: s.coupling,
                                               into: y + j0, outStride: W, average: true, scratch: solver)
                        continue
                    }
                    values.update(repeating: 0, count: B * H)
                    for i in 0..<H { for c in 0..<count { values[i * B + c] = x[i * W + j0 + c] } }
                    TridiagonalLanes.solve(x: values, xStride: B, weights: weights, count: H, coupling: s.coupling,
                                           into: values, outStride: B, average: false, scratch: solver)
                    for i in 0..<H {
                        let yr = y + i * W + j0
                        for c in 0..<count { yr[c] = 0.5 * (yr[c] + values[i * B + c]) }
                    }
                }
            }
        }
    }
}
