import Dispatch

/// Temporal blocking of the explicit scheme (eq. 4) for signals larger than cache: several
/// steps per sweep over memory instead of one.
///
/// One explicit step at column c reads `x_{c+i−j}` for `i, j ∈ [0, q)` only (the offset
/// cancels between K and Kᵀ), so its dependency radius is `R = q − 1`. A sweep advances each
/// tile `[a, b)` of `tile` columns by `s ≤ stepsPerSweep` steps on its own copy of the
/// segment `[a − s·R, b + s·R)` (clipped to the signal), with the library's ordinary
/// `DiffusionStep` and mirrored ends: at a true end of the signal the local mirror is the
/// global one; at a cut, wrong values enter at most R columns per step, so after s steps the
/// tile itself is exact. Tiles are independent, so they run on threads; the decomposition
/// does not depend on the thread count, so neither do the results. Memory traffic drops from
/// two passes per step to about two per sweep; the redundant halo work is ~2·s·R/tile (0.4 %).
/// Tiles away from both ends skip the copies and the boundary code: their first step reads
/// the source signal, their last writes the destination, and step t computes only the
/// columns still exact, `[(t+1)R, len − (t+1)R)` of the segment (`DiffusionStep.applyInterior`).
/// Results agree with the step-by-step path to rounding (the chunking inside a step differs,
/// ≤ 1e-15 relative per step; tested).
enum TemporalBlocking {
    static let tile = 8192
    static let stepsPerSweep = 8
    /// Signals shorter than this stay on the step-by-step path (they fit in cache).
    static let minimumLength = 1 << 17

    static func applies(n: Int, steps: Int, recording: Bool) -> Bool {
        !recording && steps >= 2 && n >= minimumLength
    }

    /// Evolves `row` (length n) by `steps` explicit steps; `spare` is a second length-n
    /// buffer. `tick(k)` reports k completed steps and returns false to stop early (at a
    /// sweep boundary; `row` then holds the state after the completed sweeps).
    static func evolve(
        _ row: UnsafeMutableBufferPointer<Double>, spare: UnsafeMutableBufferPointer<Double>,
        step: DiffusionStep, tau: Double, steps: Int, threads: Int, tick: (Int) -> Bool
    ) {
        let n = row.count
        let radius = max(1, step.stencil.count - 1)
        let halo = stepsPerSweep * radius
        // Segment buffers get 16 spare values: the vector row pass may read 7 past its rows.
        let segment = tile + 2 * halo + 16
        let tiles = (n + tile - 1) / tile
        let workers = max(1, min(threads, tiles))
        // Per worker: two segment buffers (ping-pong) and the step's work buffer.
        var storage = [Double](repeating: 0, count: workers * 3 * segment)
        storage.withUnsafeMutableBufferPointer { all in
            var (src, dst) = (row, spare)
            var done = 0
            while done < steps {
                let s = min(stepsPerSweep, steps - done)
                let shared = UncheckedSendable((UnsafeBufferPointer(src), dst, all.baseAddress!))
                let sweep: @Sendable (Int) -> Void = { t in
                    let (src, dst, base) = shared.value
                    let mine = base + t * 3 * segment
                    var k = t
                    while k < tiles {
                        let a = k * tile, b = min(n, a + tile)
                        let lo = a - s * radius, hi = b + s * radius
                        if lo >= 0 && hi + 8 <= n {
                            advanceInteriorTile(
                                src: src.baseAddress! + lo, dst: dst.baseAddress! + lo, length: hi - lo,
                                buffers: mine, segment: segment, step: step, tau: tau, steps: s, radius: radius)
                        } else {
                            advanceEndTile(
                                src: src, dst: dst, columns: a..<b, segment: (max(0, lo), min(n, hi)),
                                buffers: mine, capacity: segment, step: step, tau: tau, steps: s)
                        }
                        k += workers
                    }
                }
                if workers == 1 { sweep(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: sweep) }
                swap(&src, &dst)
                done += s
                if !tick(s) { break }
            }
            if src.baseAddress != row.baseAddress { _ = row.update(fromContentsOf: src) }
        }
    }

    /// A tile whose segment (`length` columns from `src`/`dst`) lies inside the signal with
    /// room to spare: `steps` fused interior passes over the shrinking exact region, the
    /// first reading `src`, the last writing the tile's columns of `dst`.
    private static func advanceInteriorTile(
        src: UnsafePointer<Double>, dst: UnsafeMutablePointer<Double>, length: Int,
        buffers: UnsafeMutablePointer<Double>, segment: Int, step: DiffusionStep, tau: Double, steps: Int, radius: Int
    ) {
        var (cur, nxt) = (buffers, buffers + segment)
        let scratch = buffers + 2 * segment
        for t in 0..<steps {
            let x = t == 0 ? UnsafePointer(src) : UnsafePointer(cur)
            let out = t == steps - 1 ? dst : nxt
            step.applyInterior(x, base: x, tau: tau, into: out, scratch: scratch,
                               columns: ((t + 1) * radius)..<(length - (t + 1) * radius))
            swap(&cur, &nxt)
        }
    }

    /// A tile at an end of the signal: its segment `[lo, hi)` (clipped to the signal) is
    /// copied and advanced with the ordinary mirrored `DiffusionStep`, then the tile's
    /// columns are copied to `dst`.
    private static func advanceEndTile(
        src: UnsafeBufferPointer<Double>, dst: UnsafeMutableBufferPointer<Double>, columns: Range<Int>,
        segment: (lo: Int, hi: Int), buffers: UnsafeMutablePointer<Double>, capacity: Int,
        step: DiffusionStep, tau: Double, steps: Int
    ) {
        let (lo, hi) = segment
        let len = hi - lo
        var x = UnsafeMutableBufferPointer(start: buffers, count: len)
        var y = UnsafeMutableBufferPointer(start: buffers + capacity, count: len)
        let work = UnsafeMutableBufferPointer(start: buffers + 2 * capacity, count: capacity)
        _ = x.update(fromContentsOf: UnsafeBufferPointer(rebasing: src[lo..<hi]))
        for _ in 0..<steps {
            step.apply(UnsafeBufferPointer(x), base: UnsafeBufferPointer(x), tau: tau, into: y, work: work)
            swap(&x, &y)
        }
        (dst.baseAddress! + columns.lowerBound).update(from: x.baseAddress! + (columns.lowerBound - lo), count: columns.count)
    }
}
