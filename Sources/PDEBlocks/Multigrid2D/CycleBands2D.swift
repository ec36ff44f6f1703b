/// Row bands for the fine-grid passes of a 2D cycle on the library's threads
/// (`Parallelism.threads`, `WorkerPool`: nothing allocated per pass). A level of `H` rows is
/// split into `parts` contiguous bands; every value is computed by the same arithmetic as
/// in the serial pass, and sums are added in the serial order, so results are bitwise
/// those of one thread (tested) whatever the thread count:
///
///  - red–black sweeps of 5-point fields (`FieldSweeper.redBlackBands`): a colour's
///    updates read only the other colour, so a sweep is two Jacobi half-steps. Each band
///    first relaxes the first colour on its first and last rows (one pass, all bands), then
///    runs the serial wavefront on its rows without them (second pass): a band's last
///    second-colour row reads the next band's first row of the first colour, which the first
///    pass computed, and nothing a band writes in a pass is read by another band in that
///    pass. 9-point fields (Galerkin levels) are relaxed row by row and stay serial;
///  - `b − A x` restricted (`residualRestricted`): bands of coarse rows, each with its own
///    ring of residual rows; the fine row between two bands is computed by both;
///  - prolongation (`prolongAdd`): bands of fine rows;
///  - `‖b − A x‖₂²` on the finest level: row sums stored, then added in row order.
enum CycleBands2D {
    /// Bands worth using for a level of `height` rows and `count` unknowns: at most
    /// `Parallelism.threads`, each at least 4 rows and `4·minimumSamplesPerThread` unknowns
    /// (smaller levels stay serial: a pass costs less than waking a thread).
    static func parts(height: Int, count: Int) -> Int {
        max(1, min(Parallelism.threads, height / 4, count / (4 * Parallelism.minimumSamplesPerThread), WorkerPool.maxWidth))
    }

    /// Band `t` of `parts` over `0..<count`.
    @inline(__always)
    static func band(_ t: Int, of parts: Int, count: Int) -> Range<Int> {
        (t * count / parts)..<((t + 1) * count / parts)
    }

    /// Runs `job.perform(t)` for `t` in `0..<parts` (serially when `parts == 1`).
    @inline(__always)
    static func run<J: ParallelJob>(_ parts: Int, _ job: J) {
        if parts <= 1 { job.perform(0) } else { WorkerPool.shared.run(width: parts, job) }
    }
}

extension FieldSweeper {
    /// `redBlack(reverse:x:b:)` on a 5-point field in `parts` row bands (`CycleBands2D`):
    /// bitwise the serial result. `fivePoint` must be true.
    func redBlackBands(reverse: Bool, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, parts: Int) {
        // The first colour: red (`i + j` even, first column `i & 1`) forward, black in reverse.
        struct Edges: ParallelJob {
            let s: FieldSweeper, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, parts: Int, reverse: Bool
            func perform(_ t: Int) {
                let rows = CycleBands2D.band(t, of: parts, count: s.height)
                @inline(__always) func relax(_ i: Int) {
                    s.relaxRow(i, first: reverse ? (i + 1) & 1 : i & 1, step: 2, x: x, b: b)
                }
                relax(rows.lowerBound)
                if rows.upperBound - 1 > rows.lowerBound { relax(rows.upperBound - 1) }
            }
        }
        struct Rows: ParallelJob {
            let s: FieldSweeper, x: UnsafeMutablePointer<Double>, b: UnsafePointer<Double>, parts: Int, reverse: Bool
            func perform(_ t: Int) {
                let rows = CycleBands2D.band(t, of: parts, count: s.height)
                let (lo, hi) = (rows.lowerBound, rows.upperBound)
                @inline(__always) func edge(_ i: Int) -> Bool { i == lo || i == hi - 1 }
                if !reverse {
                    for i in lo...hi {
                        if i < hi && !edge(i) { s.relaxRow(i, first: i & 1, step: 2, x: x, b: b) }   // red row i
                        if i > lo { s.relaxRow(i - 1, first: i & 1, step: 2, x: x, b: b) }          // black row i−1
                    }
                } else {
                    var i = hi - 1
                    while i >= lo - 1 {
                        if i >= lo && !edge(i) { s.relaxRow(i, first: (i + 1) & 1, step: 2, x: x, b: b) }  // black row i
                        if i + 1 < hi { s.relaxRow(i + 1, first: (i + 1) & 1, step: 2, x: x, b: b) }      // red row i+1
                        i -= 1
                    }
                }
            }
        }
        CycleBands2D.run(parts, Edges(s: self, x: x, b: b, parts: parts, reverse: reverse))
        CycleBands2D.run(parts, Rows(s: self, x: x, b: b, parts: parts, reverse: reverse))
    }
}

extension MultigridHierarchy2D {
    /// `residualRestricted` in bands of coarse rows; `ring` holds `3·W` values per band.
    func residualRestrictedBands(
        _ level: MultigridLevel2D, x: UnsafePointer<Double>, b: UnsafePointer<Double>,
        ring: UnsafeMutablePointer<Double>, into coarse: UnsafeMutablePointer<Double>, parts: Int
    ) {
        struct Job: ParallelJob {
            let t: Transfer2D, c: UnsafePointer<Double>, height: Int, width: Int, fivePoint: Bool, symmetric: Bool
            let x: UnsafePointer<Double>, b: UnsafePointer<Double>, ring: UnsafeMutablePointer<Double>
            let coarse: UnsafeMutablePointer<Double>, parts: Int
            func perform(_ band: Int) {
                let (H, W) = (height, width)
                let own = ring + band * 3 * W
                @inline(__always) func slot(_ i: Int) -> UnsafeMutablePointer<Double> { own + (i % 3) * W }
                let rows = CycleBands2D.band(band, of: parts, count: t.coarseHeight)
                var next = 2 * rows.lowerBound
                for I in rows {
                    while next <= min(2 * I + 2, H - 1) {
                        _ = StencilField2DKernels.residualRow(
                            next, c, height: H, width: W, fivePoint: fivePoint, symmetric: symmetric, x: x, b: b,
                            into: slot(next))
                        next += 1
                    }
                    t.restrictRow(
                        I, f0: slot(2 * I), f1: slot(2 * I + 1), f2: 2 * I + 2 < H ? UnsafePointer(slot(2 * I + 2)) : nil,
                        into: coarse + I * t.coarseWidth)
                }
            }
        }
        level.A.coefficients.withUnsafeBufferPointer { cb in
            CycleBands2D.run(parts, Job(
                t: level.transfer!, c: cb.baseAddress!, height: level.A.height, width: level.A.width,
                fivePoint: level.A.isFivePoint, symmetric: level.exactlySymmetric, x: x, b: b, ring: ring, coarse: coarse,
                parts: parts))
        }
    }

    /// `x += P e` in bands of fine rows.
    func prolongAddBands(_ t: Transfer2D, _ e: UnsafePointer<Double>, into x: UnsafeMutablePointer<Double>, parts: Int) {
        struct Job: ParallelJob {
            let t: Transfer2D, e: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>, parts: Int
            func perform(_ band: Int) {
                t.prolongAdd(e, into: x, rows: CycleBands2D.band(band, of: parts, count: t.fineHeight))
            }
        }
        CycleBands2D.run(parts, Job(t: t, e: e, x: x, parts: parts))
    }

    /// `Σ_i ‖row i of b − A x‖²` on the finest level, the row sums added in row order (as
    /// the serial loop). `work` holds `parts·W + H` values (rows, then the row sums).
    func residualSumOfSquaresBands(
        _ x: UnsafePointer<Double>, b: UnsafePointer<Double>, work: UnsafeMutablePointer<Double>, parts: Int
    ) -> Double {
        let level = levels[0]
        let (H, W) = (level.A.height, level.A.width)
        let sums = work + parts * W
        struct Job: ParallelJob {
            let c: UnsafePointer<Double>, height: Int, width: Int, fivePoint: Bool, symmetric: Bool
            let x: UnsafePointer<Double>, b: UnsafePointer<Double>, work: UnsafeMutablePointer<Double>
            let sums: UnsafeMutablePointer<Double>, parts: Int
            func perform(_ band: Int) {
                for i in CycleBands2D.band(band, of: parts, count: height) {
                    sums[i] = StencilField2DKernels.residualRow(
                        i, c, height: height, width: width, fivePoint: fivePoint, symmetric: symmetric, x: x, b: b,
                        into: work + band * width)
                }
            }
        }
        level.A.coefficients.withUnsafeBufferPointer { cb in
            CycleBands2D.run(parts, Job(
                c: cb.baseAddress!, height: H, width: W, fivePoint: level.A.isFivePoint, symmetric: level.exactlySymmetric,
                x: x, b: b, work: work, sums: sums, parts: parts))
        }
        var sum = 0.0
        for i in 0..<H { sum += sums[i] }
        return sum
    }
}
