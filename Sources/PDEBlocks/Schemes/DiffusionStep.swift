/// One evaluation of the diffusion block of Theorem 1 (paper eq. 4):
///
///     out = base − τ·Kᵀ Φ(K x)
///
/// With `base = x` this is an explicit step; with `base = u^k` it is a fixed-point
/// sweep of the implicit scheme (eq. 9).
///
/// Kernel. Away from the boundaries the three stages are fused in cache-sized chunks:
/// for output columns `[a, b)` the rows `y = Φ(Kx)` they read (`[a−o−q+1, b−o)`, a halo
/// of q−1 recomputed per chunk) are formed eight at a time with the activation applied in
/// registers and stored in a small buffer, then `out = base + Σ_j (−τw_j) y` is gathered
/// — one pass over memory, no length-N temporaries. The loop is specialised for the
/// diffusivity kind (`FluxLanes`) and the stencil width (`StencilTaps`). The `margin`
/// columns at each end, which mirrored boundary rows touch, are done exactly by the
/// general (scatter-through-the-mirror) path. Signals shorter than `4·margin + chunk`
/// take the plain three-pass path (`Stencil.apply`, `applyFlux`, `accumulateTransposed`).
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
        let scratch = interiorScratchLength
        let parts = max(1, min(threads, (n - 2 * m) / (4 * DiffusionStep.chunk), work.count / scratch))
        if parts == 1 {
            applyInterior(x.baseAddress!, base: base.baseAddress!, tau: tau, into: out.baseAddress!, scratch: work.baseAddress!, columns: m..<(n - m))
            return
        }
        applyInteriorInParallel(
            x.baseAddress!, base: base.baseAddress!, tau: tau, into: out.baseAddress!, scratch: work.baseAddress!,
            columns: m..<(n - m), parts: parts)
    }

    /// `applyInterior` over `columns` split into `parts` contiguous ranges run on the
    /// library's worker threads (`WorkerPool`: nothing allocated per call), range t with
    /// the scratch `scratch + t·interiorScratchLength`.
    @usableFromInline
    func applyInteriorInParallel(
        _ x: UnsafePointer<Double>, base: UnsafePointer<Double>, tau: Double, into out: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>, columns: Range<Int>, parts: Int
    ) {
        struct Part: ParallelJob {
            let step: DiffusionStep, x: UnsafePointer<Double>, base: UnsafePointer<Double>, tau: Double
            let out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>, columns: Range<Int>, span: Int
            func perform(_ t: Int) {
                let lo = columns.lowerBound + t * span, hi = min(columns.upperBound, lo + span)
                guard lo < hi else { return }
                step.applyInterior(x, base: base, tau: tau, into: out, scratch: scratch + t * step.interiorScratchLength,
                                   columns: lo..<hi)
            }
        }
        let span = (columns.count + parts - 1) / parts
        WorkerPool.shared.run(
            width: parts,
            Part(step: self, x: x, base: base, tau: tau, out: out, scratch: scratch, columns: columns, span: span))
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

    /// `out_c = base_c − τ(KᵀΦ(Kx))_c` for the columns in `columns`, fused chunk by chunk,
    /// with no boundary handling: every row these columns touch must be an interior row,
    /// i.e. `x[c − q + 1 ..< c + q]` must be valid for every column c (the caller's margin
    /// or halo). The row pass runs in whole vectors of 8, so it may also read up to 7
    /// samples past `x[columns.upperBound + q − 2]` (values that reach no output) — they
    /// must be addressable. `scratch` holds `chunk + q + 8` values. Pointers are indexed
    /// by column. The loop is specialised for the diffusivity kind (`withFluxLanes`) and
    /// for two- and three-tap stencils (`StencilTaps`): no switch or tap loop inside it.
    @inlinable
    public func applyInterior(
        _ x: UnsafePointer<Double>, base: UnsafePointer<Double>, tau: Double,
        into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>, columns: Range<Int>
    ) {
        stencil.weights.withUnsafeBufferPointer { w in
            let pass = FusedInteriorPass(
                x: x, base: base, out: out, scratch: scratch, weights: w, tau: tau, offset: stencil.offset,
                columns: columns)
            diffusivity.withFluxLanes(pass)
        }
    }

    /// Values `applyInterior` needs in `scratch`.
    public var interiorScratchLength: Int { DiffusionStep.chunk + stencil.count + 8 }
}

/// The fused interior loop of `DiffusionStep` for one flux kind (see `applyInterior`):
/// `y = Φ(Kx)` on a chunk's rows, then `out = base + Σ_j (−τ w_j) y` — the factor −τ is
/// folded into the transposed weights, and both passes use fused multiply–adds when the
/// library is built with them (`plusProduct`).
@usableFromInline
struct FusedInteriorPass: FluxLanesKernel {
    @usableFromInline let x: UnsafePointer<Double>, base: UnsafePointer<Double>
    @usableFromInline let out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>
    @usableFromInline let weights: UnsafeBufferPointer<Double>
    @usableFromInline let tau: Double
    @usableFromInline let offset: Int
    @usableFromInline let columns: Range<Int>

    @inlinable
    init(
        x: UnsafePointer<Double>, base: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>,
        scratch: UnsafeMutablePointer<Double>, weights: UnsafeBufferPointer<Double>, tau: Double, offset: Int,
        columns: Range<Int>
    ) {
        (self.x, self.base, self.out, self.scratch) = (x, base, out, scratch)
        (self.weights, self.tau, self.offset, self.columns) = (weights, tau, offset, columns)
    }

    @inlinable
    func run<F: FluxLanes>(_ flux: F) {
        withStencilTaps(weights, scale: -tau, Chunks(pass: self, flux: flux))
    }

    /// `chunks` once the taps are chosen.
    @usableFromInline
    struct Chunks<F: FluxLanes>: StencilTapsKernel {
        @usableFromInline let pass: FusedInteriorPass, flux: F
        @inlinable init(pass: FusedInteriorPass, flux: F) { (self.pass, self.flux) = (pass, flux) }
        @inlinable func run<T: StencilTaps>(_ taps: T) { pass.chunks(flux, taps) }
    }

    @inlinable
    func chunks<F: FluxLanes, T: StencilTaps>(_ flux: F, _ taps: T) {
        let q = weights.count, o = offset
        var a = columns.lowerBound
        while a < columns.upperBound {
            let b = min(a + DiffusionStep.chunk, columns.upperBound)
            // rows r ∈ [r0, r1) feed columns [a, b); y_r is stored at scratch[r − r0].
            let r0 = a - o - (q - 1), r1 = b - o
            let y = scratch
            let len = r1 - r0
            // y = Φ(Kx) on the chunk's rows, eight at a time, activation in registers.
            let src = x + (r0 + o)
            var i = 0
            while i < len {
                store8(flux(taps.forward(src, i)), y, i)
                i += 8
            }
            // out_c = base_c + Σ_j (−τw_j) y_{c−o−j}, eight columns at a time (+ scalar tail
            // with the same arithmetic, so no value depends on where chunks start).
            let cnt = b - a
            let dst = out + a, bs = base + a
            let yRow = UnsafePointer(y + (q - 1))  // row a − o
            i = 0
            while i + 8 <= cnt {
                store8(taps.backward(yRow, i, plus: load8(bs, i)), dst, i)
                i += 8
            }
            while i < cnt {
                dst[i] = taps.backward(yRow, i, plus: bs[i])
                i += 1
            }
            a = b
        }
    }
}
