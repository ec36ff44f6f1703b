import Dispatch

/// One evaluation of the diffusion block of Theorem 1 (paper eq. 4):
///
///     out = base − τ·Kᵀ Φ(K x)
///
/// With `base = x` this is an explicit step; with `base = u^k` it is a fixed-point
/// sweep of the implicit scheme (eq. 9).
///
/// Kernel. Away from the boundaries the three stages are fused in cache-sized chunks:
/// for output columns `[a, b)` the rows `y = Kx` they read (`[a−o−q+1, b−o)`, a halo of
/// q−1 recomputed per chunk) are formed in a small buffer, the activation is applied
/// there (vectorised `applyFlux`), and `out = base + Kᵀ y` is gathered — one pass over
/// memory, no length-N temporaries. The `margin` columns at each end, which mirrored
/// boundary rows touch, are done exactly by the general (scatter-through-the-mirror) path.
public struct DiffusionStep: Sendable {
    public let stencil: Stencil
    public let diffusivity: Diffusivity

    public init(stencil: Stencil, diffusivity: Diffusivity) {
        self.stencil = stencil
        self.diffusivity = diffusivity
    }

    /// Columns per fused chunk (x, y and out chunks stay in L1).
    @usableFromInline static let chunk = 512

    /// Columns at each end handled by the general path: every row touching a column
    /// within `margin` of an end lies within `edgeRows` of that end, and every row read
    /// by a column outside the margin is an interior row.
    @inlinable
    func margin(_ n: Int) -> Int { 2 * (stencil.count + abs(stencil.offset)) + 10 }

    /// Length of the work buffer `apply` needs for signals of length `n`: `n` itself.
    public static func workLength(n: Int) -> Int { n }

    /// `out = base − tau·Kᵀ Φ(K x)` for one signal of length n. `work` holds at least n
    /// values; `out` may alias `base` but not `x` or `work`. With `threads > 1` the
    /// interior columns are split into that many contiguous ranges computed concurrently
    /// (each thread with its own chunk buffer inside `work`); every output value is the
    /// same arithmetic whichever thread computes it, so results do not depend on `threads`.
    @inlinable
    public func apply(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>, threads: Int = 1
    ) {
        let n = x.count
        let m = margin(n)
        if n < 4 * m + DiffusionStep.chunk {
            let y = UnsafeMutableBufferPointer(rebasing: work[0..<n])
            stencil.apply(x, into: y)
            diffusivity.applyFlux(y, scale: -tau)
            stencil.accumulateTransposed(UnsafeBufferPointer(y), into: out, base: base)
            return
        }
        applyEdges(x, base: base, tau: tau, into: out, work: work, margin: m)
        let scratch = DiffusionStep.chunk + stencil.count + 8
        let parts = max(1, min(threads, (n - 2 * m) / (4 * DiffusionStep.chunk), work.count / scratch))
        if parts == 1 {
            applyFusedInterior(x, base: base, tau: tau, into: out, scratch: work.baseAddress!, columns: m..<(n - m))
            return
        }
        let shared = UncheckedSendable((x, base, out, work.baseAddress!))
        let span = (n - 2 * m + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { t in
            let (x, base, out, wk) = shared.value
            let lo = m + t * span, hi = min(n - m, lo + span)
            guard lo < hi else { return }
            applyFusedInterior(x, base: base, tau: tau, into: out, scratch: wk + t * scratch, columns: lo..<hi)
        }
    }

    /// Columns `[0, m) ∪ [n−m, n)`: rows `[0, 2m) ∪ [n−2m, n)` of `y = −τΦ(Kx)` into `work`
    /// (general mirrored formula), then `out_c = base_c + Σ_r K_rc y_r` scattered from them.
    @inlinable
    func applyEdges(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>, margin m: Int
    ) {
        let n = x.count, q = stencil.count, o = stencil.offset
        let e = 2 * m
        stencil.weights.withUnsafeBufferPointer { w in
            for range in [0..<e, (n - e)..<n] {
                for r in range {
                    var s = 0.0
                    for j in 0..<q { s += w[j] * x[Stencil.mirror(r + o + j, n)] }
                    work[r] = s
                }
                diffusivity.applyFlux(UnsafeMutableBufferPointer(rebasing: work[range]), scale: -tau)
            }
            for c in 0..<m { out[c] = base[c] }
            for c in (n - m)..<n { out[c] = base[c] }
            for range in [0..<e, (n - e)..<n] {
                for r in range {
                    let yr = work[r]
                    for j in 0..<q {
                        let c = Stencil.mirror(r + o + j, n)
                        if c < m || c >= n - m { out[c] += w[j] * yr }
                    }
                }
            }
        }
    }

    /// Columns in `columns` (all of whose rows are interior rows), fused chunk by chunk;
    /// `scratch` holds `chunk + q + 8` values (the row pass runs in whole vectors of 8, so
    /// it may read up to 7 samples past the chunk's rows — inside x, since the right margin
    /// is wider than that — and write up to 7 values past them inside scratch).
    @inlinable
    func applyFusedInterior(
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>, tau: Double,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutablePointer<Double>, columns: Range<Int>
    ) {
        let q = stencil.count, o = stencil.offset
        let xb = x.baseAddress!, bb = base.baseAddress!, ob = out.baseAddress!
        stencil.weights.withUnsafeBufferPointer { w in
            var a = columns.lowerBound
            while a < columns.upperBound {
                let b = min(a + DiffusionStep.chunk, columns.upperBound)
                // rows r ∈ [r0, r1) feed columns [a, b); y_r is stored at scratch[r − r0].
                let r0 = a - o - (q - 1), r1 = b - o
                let y = scratch
                let len = r1 - r0
                // y = −τΦ(Kx) on the chunk's rows, eight at a time, activation in registers.
                let src = xb + (r0 + o)
                var i = 0
                while i < len {
                    var acc = SIMD8<Double>(repeating: 0)
                    for j in 0..<q { acc += w[j] * load8(src + j, i) }
                    store8(diffusivity.flux8(acc, scale: -tau), y, i)
                    i += 8
                }
                // out_c = base_c + Σ_j w_j y_{c−o−j}, eight columns at a time (+ scalar tail).
                let cnt = b - a
                let dst = ob + a, bs = bb + a
                let yRow = y + (q - 1)  // row a − o
                i = 0
                while i + 8 <= cnt {
                    var acc = load8(bs, i)
                    for j in 0..<q { acc += w[j] * load8(yRow - j, i) }
                    store8(acc, dst, i)
                    i += 8
                }
                while i < cnt {
                    var acc = bs[i]
                    for j in 0..<q { acc += w[j] * yRow[i - j] }
                    dst[i] = acc
                    i += 1
                }
                a = b
            }
        }
    }
}
