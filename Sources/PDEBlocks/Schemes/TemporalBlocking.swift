/// Temporal blocking of the explicit scheme (eq. 4) for signals larger than cache: several
/// steps per sweep over memory instead of one, in place.
///
/// One explicit step at column c reads `x_{c+i−j}` for `i, j ∈ [0, q)` only (the offset
/// cancels between K and Kᵀ), so its dependency radius is q − 1. A segment cut out of the
/// signal and stepped with the mirrored operator is wrong near a cut by more than that: the
/// rows `c − o − j` that column c gathers from lie up to |o| further out and are missing (or
/// mirrored) there, so `R = q − 1 + |o|` columns per step go wrong. A sweep advances each
/// tile `[a, b)` of `tile` columns by `s ≤ stepsPerSweep` steps on its own copy of the
/// segment `[a − s·R, b + s·R)` (clipped to the signal); after s steps the tile's own columns
/// are exact, and they are written back into the signal.
///
/// In place: before a sweep the old values within `s·R` of every tile boundary are saved
/// (a few values per tile), and a tile assembles its segment from those strips and from its
/// own columns — the only part of the signal it reads, and the only part it writes. So tiles
/// are independent (they run on threads) and no second signal-sized buffer is needed. The
/// decomposition does not depend on the thread count, so neither do the results.
///
/// Tiles whose segment lies inside the signal skip the boundary code: step t computes only
/// the columns `[(t+1)R, len − (t+1)R)` of the segment, inside the exact region
/// (`DiffusionStep.applyInterior`), the last step writing straight into the signal. Tiles at
/// an end use the ordinary mirrored `DiffusionStep` (at a true end the local mirror is the
/// global one; at a cut, wrong values enter at most R columns per step). Memory traffic drops
/// from two passes per step to about two per sweep; the redundant halo work is ~2·s·R/tile
/// (0.2 % for q = 2, o = 0). Results agree with the step-by-step path to rounding (the chunking
/// inside a step differs, ≤ 1e-15 relative per step; tested).
enum TemporalBlocking {
    static let tile = 8192
    static let stepsPerSweep = 8
    /// Signals shorter than this stay on the step-by-step path (they fit in cache).
    static let minimumLength = 1 << 17

    /// Whether `Explicit` takes this path: long signals, several steps, no history, and a
    /// stencil (width and offset) small enough that a sweep's halo stays well inside a tile.
    static func applies(n: Int, steps: Int, recording: Bool, stencil: Stencil) -> Bool {
        !recording && steps >= 2 && n >= minimumLength && stepsPerSweep * radius(stencil) <= tile / 4
    }

    /// `R = q − 1 + |o|` (at least 1): how many columns per step a cut corrupts.
    static func radius(_ stencil: Stencil) -> Int { max(1, stencil.count - 1 + abs(stencil.offset)) }

    /// Evolves the signal at `initial` (length n ≥ `minimumLength`) by `steps` ≥ 1 explicit
    /// steps into `row`, which may be the same memory (then in place from the start; else
    /// the first sweep reads `initial`, which is not written, and needs no saved strips).
    /// `tick(k)` reports k completed steps and returns false to stop early (at a sweep
    /// boundary; `row` then holds the state after the completed sweeps).
    static func evolve(
        _ row: UnsafeMutableBufferPointer<Double>, from initial: UnsafePointer<Double>, step: DiffusionStep,
        tau: Double, steps: Int, threads: Int, tick: (Int) -> Bool
    ) {
        let n = row.count
        let radius = TemporalBlocking.radius(step.stencil)
        let halo = stepsPerSweep * radius
        // Segment buffers get 16 spare values: the vector row pass may read 7 past its rows.
        let segment = tile + 2 * halo + 16
        let tiles = (n + tile - 1) / tile
        let workers = max(1, min(threads, tiles))
        // Per worker: two segment buffers (ping-pong) and the step's work buffer; then the
        // saved strips, 2·halo values around each tile boundary k·tile (k = 1 ..< tiles).
        let strips = workers * 3 * segment
        var storage = [Double](repeating: 0, count: strips + tiles * 2 * halo)
        storage.withUnsafeMutableBufferPointer { all in
            let edges = all.baseAddress! + strips
            var done = 0
            while done < steps {
                let s = min(stepsPerSweep, steps - done)
                let reach = s * radius
                // The old values come from a separate source in the first sweep, if there is
                // one; otherwise from the signal itself, with the strips saved first.
                let source = done == 0 && initial != UnsafePointer(row.baseAddress!) ? initial : nil
                if source == nil {
                    for k in 1..<tiles {
                        let lo = k * tile - reach, hi = min(n, k * tile + reach)
                        (edges + k * 2 * halo).update(from: row.baseAddress! + lo, count: hi - lo)
                    }
                }
                WorkerPool.shared.run(
                    width: workers,
                    Sweep(signal: row.baseAddress!, source: source, n: n, buffers: all.baseAddress!, edges: edges,
                          halo: halo, segment: segment, tiles: tiles, workers: workers, steps: s, radius: radius,
                          step: step, tau: tau))
                done += s
                if !tick(s) { break }
            }
        }
    }

    /// One sweep: worker t advances tiles t, t + workers, … by `steps` steps (in place; see
    /// the type's documentation). A value job for `WorkerPool` (nothing allocated per sweep).
    private struct Sweep: ParallelJob {
        let signal: UnsafeMutablePointer<Double>, source: UnsafePointer<Double>?, n: Int
        let buffers: UnsafeMutablePointer<Double>, edges: UnsafePointer<Double>
        let halo: Int, segment: Int, tiles: Int, workers: Int, steps: Int, radius: Int
        let step: DiffusionStep, tau: Double

        func perform(_ t: Int) {
            let s = steps, reach = steps * radius
            let mine = buffers + t * 3 * segment
            var k = t
            while k < tiles {
                let a = k * tile, b = min(n, a + tile)
                let lo = max(0, a - reach), hi = min(n, b + reach)
                // The segment's old values: from the separate source, or the saved strips
                // around the tile's boundaries and its own columns between them.
                var c = lo
                if let source {
                    mine.update(from: source + lo, count: hi - lo)
                    c = hi
                } else if k > 0 {
                    let e = min(hi, a + reach)
                    mine.update(from: edges + k * 2 * halo + (c - (a - reach)), count: e - c)
                    c = e
                }
                let mid = k + 1 < tiles ? b - reach : hi
                if c < mid {
                    (mine + (c - lo)).update(from: signal + c, count: mid - c)
                    c = mid
                }
                if c < hi {
                    (mine + (c - lo)).update(from: edges + (k + 1) * 2 * halo + (c - (b - reach)), count: hi - c)
                }
                if lo == a - reach && hi == b + reach {
                    advanceInteriorTile(
                        mine, length: hi - lo, into: signal + lo, segment: segment, step: step, tau: tau,
                        steps: s, radius: radius)
                } else {
                    advanceEndTile(
                        mine, length: hi - lo, tile: (a - lo)..<(b - lo), into: signal + lo, segment: segment,
                        step: step, tau: tau, steps: s)
                }
                k += workers
            }
        }
    }

    /// A tile whose segment (`length` values in `buffers`) lies inside the signal: `steps`
    /// fused interior passes over the shrinking exact region, the last writing the tile's
    /// columns `[steps·R, length − steps·R)` of `out` (the signal at the segment's start).
    fileprivate static func advanceInteriorTile(
        _ buffers: UnsafeMutablePointer<Double>, length: Int, into out: UnsafeMutablePointer<Double>, segment: Int,
        step: DiffusionStep, tau: Double, steps: Int, radius: Int
    ) {
        var (cur, nxt) = (buffers, buffers + segment)
        let scratch = buffers + 2 * segment
        for t in 0..<steps {
            let dst = t == steps - 1 ? out : nxt
            step.applyInterior(cur, base: cur, tau: tau, into: dst, scratch: scratch,
                               columns: ((t + 1) * radius)..<(length - (t + 1) * radius))
            swap(&cur, &nxt)
        }
    }

    /// A tile at an end of the signal: its segment (`length` values in `buffers`, clipped
    /// to the signal) advanced with the ordinary mirrored `DiffusionStep`, then the tile's
    /// columns `tile` (segment coordinates) copied to `out` (the signal at the segment's start).
    fileprivate static func advanceEndTile(
        _ buffers: UnsafeMutablePointer<Double>, length: Int, tile: Range<Int>, into out: UnsafeMutablePointer<Double>,
        segment: Int, step: DiffusionStep, tau: Double, steps: Int
    ) {
        var x = UnsafeMutableBufferPointer(start: buffers, count: length)
        var y = UnsafeMutableBufferPointer(start: buffers + segment, count: length)
        let work = UnsafeMutableBufferPointer(start: buffers + 2 * segment, count: segment)
        for _ in 0..<steps {
            step.apply(UnsafeBufferPointer(x), base: UnsafeBufferPointer(x), tau: tau, into: y, work: work)
            swap(&x, &y)
        }
        (out + tile.lowerBound).update(from: x.baseAddress! + tile.lowerBound, count: tile.count)
    }
}
