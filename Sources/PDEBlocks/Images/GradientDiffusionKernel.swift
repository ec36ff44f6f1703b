/// The fused image diffusion step for `gradient_2d(h)` (forward differences, mirrored
/// boundary) and one diffusivity:
///
///     d_x = (u[i, j+1] − u[i, j])/h  (0 in the last column),
///     d_y = (u[i+1, j] − u[i, j])/h  (0 in the last row),
///     isotropic:   f_x = g(d_x² + d_y²)·d_x,  f_y = g(d_x² + d_y²)·d_y,
///     channelwise: f_x = Φ(d_x),               f_y = Φ(d_y),
///     out[i, j] = base[i, j] + (τ/h)·((f_x[i, j] − f_x[i, j−1]) + (f_y[i, j] − f_y[i−1, j])),
///
/// with `f_x[i, −1] = f_y[−1, j] = 0` — exactly `base − τ(K_xᵀ f_x + K_yᵀ f_y)` for the mirrored
/// forward differences. One streaming pass per step: for each row the fluxes are formed eight
/// columns at a time with the activation in registers (`FluxLanes`, the vectorised exp) into a
/// row buffer, the previous row's `f_y` is kept, and the output row is written. Rows are split
/// into contiguous bands on the worker pool; a band starting at row r recomputes `f_y` of row
/// r−1 with the same arithmetic, so results do not depend on the number of threads.
struct GradientDiffusionKernel {
    let height: Int, width: Int
    let inverseH: Double, tau: Double
    let isotropic: Bool
    /// The frozen diagonals (`ImageDiffusionStep.freeze`): isotropic N values, channelwise
    /// 2N (x channel, then y); nil evaluates the diffusivity at x.
    let frozen: UnsafePointer<Double>?

    /// Work values per band: `f_x` (with the slot j = −1), `f_y` of this and the previous row, padded.
    static func bandWorkLength(width: Int) -> Int { 3 * (width + 16) }

    func apply(
        _ x: UnsafePointer<Double>, base: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>,
        work: UnsafeMutablePointer<Double>, diffusivity: Diffusivity, threads: Int
    ) {
        let parts = max(1, min(threads, height / 16))
        if parts == 1 {
            diffusivity.withFluxLanes(Band(k: self, x: x, base: base, out: out, work: work, rows: 0..<height))
            return
        }
        struct Job: ParallelJob {
            let k: GradientDiffusionKernel, x: UnsafePointer<Double>, base: UnsafePointer<Double>
            let out: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>
            let diffusivity: Diffusivity, span: Int
            func perform(_ t: Int) {
                let lo = t * span, hi = min(k.height, lo + span)
                guard lo < hi else { return }
                diffusivity.withFluxLanes(Band(
                    k: k, x: x, base: base, out: out,
                    work: work + t * GradientDiffusionKernel.bandWorkLength(width: k.width), rows: lo..<hi))
            }
        }
        let span = (height + parts - 1) / parts
        WorkerPool.shared.run(
            width: parts, Job(k: self, x: x, base: base, out: out, work: work, diffusivity: diffusivity, span: span))
    }

    /// One band of rows with a concrete flux.
    struct Band: FluxLanesKernel {
        let k: GradientDiffusionKernel, x: UnsafePointer<Double>, base: UnsafePointer<Double>
        let out: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>, rows: Range<Int>

        @inline(__always)
        func run<F: FluxLanes>(_ flux: F) {
            let w = k.width, stride = w + 16
            let fx = work, fyA = work + stride, fyB = work + 2 * stride
            fx[0] = 0  // f_x[i, −1]
            var fyPrev = fyA, fyCur = fyB
            if rows.lowerBound > 0 {
                let i = rows.lowerBound - 1
                k.fluxes(i, u: x + i * w, down: x + (i + 1) * w, flux, fx: fx + 1, fy: fyPrev)
            } else {
                for j in 0..<stride { fyPrev[j] = 0 }
            }
            let c = k.tau * k.inverseH
            for i in rows {
                let row = RowCombine(fyPrevious: fyPrev, base: base + i * w, into: out + i * w, c: c)
                let done = k.fluxes(i, u: x + i * w, down: x + (i + 1) * w, flux, fx: fx + 1, fy: fyCur, combining: row)
                k.combine(fx: fx, fy: fyCur, row, from: done)
                swap(&fyPrev, &fyCur)
            }
        }
    }

    /// The output row `row` (`RowCombine`) from the fluxes in the row buffers, where `fx[0]`
    /// is the slot `f_x[−1] = 0` and `fx[1 …]` the row's `f_x`; columns from `start` (a
    /// multiple of 8: those a fused `fluxes` did not write).
    @inline(__always)
    func combine(fx: UnsafeMutablePointer<Double>, fy fyCur: UnsafeMutablePointer<Double>, _ row: RowCombine, from start: Int) {
        let w = width
        var j = start
        while j + 8 <= w {
            row.write(j, dfx: load8(fx + 1, j) - load8(fx, j), fy: load8(fyCur, j))
            j += 8
        }
        let (b, o, fyPrev, c) = (row.base, row.into, row.fyPrevious, row.c)
        while j < w {
            o[j] = b[j] + c * ((fx[j + 1] - fx[j]) + (fyCur[j] - fyPrev[j]))
            j += 1
        }
    }

    /// `f_x[i, ·]` into `fx[0 ..< W]`, `f_y[i, ·]` into `fy[0 ..< W]` (and up to 7 padding
    /// values) from row `i` of the current state at `u` and row `i + 1` at `down` (not read
    /// for the last row, whose `d_y` is 0). Every pixel takes the same arithmetic wherever
    /// its row is stored, so a sweep over several steps (`GradientWavefront`) reproduces
    /// the step-by-step results bit for bit.
    ///
    /// With `combining`, the columns `0 ..< j` of the output row are also written (`combine`'s
    /// formula, fused into the flux loop: the fluxes are used from registers), and the result
    /// is that `j`, from which `combine(…, from: j)` completes the row; without, 0.
    @inline(__always) @discardableResult
    func fluxes<F: FluxLanes>(
        _ i: Int, u: UnsafePointer<Double>, down below: UnsafePointer<Double>, _ flux: F,
        fx: UnsafeMutablePointer<Double>, fy: UnsafeMutablePointer<Double>, combining: RowCombine? = nil
    ) -> Int {
        let w = width, invH = inverseH
        let last = i == height - 1
        let down = last ? u : below
        let yScale = last ? 0.0 : invH
        if let frozen {
            frozenFluxes(i, frozen, u: u, down: down, yScale: yScale, fx: fx, fy: fy)
            return 0
        }
        // whole vectors whose lanes all have a right neighbour (j + 7 ≤ W − 2), in a loop
        // specialised on the coupling, on unit scales (h = 1, not the last row: the products
        // by 1 are left out, bit for bit the same values) and on the fused combine.
        let unit = invH == 1 && yScale == 1
        var j: Int
        switch (isotropic, unit, combining) {
        case (true, true, nil): j = interior(u, down, flux, fx, fy, isotropic: true, unit: true, yScale: yScale, nil)
        case (true, false, nil): j = interior(u, down, flux, fx, fy, isotropic: true, unit: false, yScale: yScale, nil)
        case (false, true, nil): j = interior(u, down, flux, fx, fy, isotropic: false, unit: true, yScale: yScale, nil)
        case (false, false, nil): j = interior(u, down, flux, fx, fy, isotropic: false, unit: false, yScale: yScale, nil)
        case (true, true, let c?): j = interior(u, down, flux, fx, fy, isotropic: true, unit: true, yScale: yScale, c)
        case (true, false, let c?): j = interior(u, down, flux, fx, fy, isotropic: true, unit: false, yScale: yScale, c)
        case (false, true, let c?): j = interior(u, down, flux, fx, fy, isotropic: false, unit: true, yScale: yScale, c)
        case (false, false, let c?): j = interior(u, down, flux, fx, fy, isotropic: false, unit: false, yScale: yScale, c)
        }
        let combined = combining == nil ? 0 : j
        if j < w, w >= 8 {
            // the last eight columns as one vector (overlapping the previous one: the same
            // values again), the right neighbours shifted in lane by lane, d_x = 0 in the last
            let (u0, dx) = lastDifferences(u, invH)
            store(flux, dx, (load8(down, w - 8) - u0) * yScale, fx, fy, w - 8, isotropic: isotropic)
            return combined
        }
        while j < w {
            var dx = SIMD8<Double>(repeating: 0), dy = SIMD8<Double>(repeating: 0)
            for l in 0..<min(8, w - j) {
                let p = j + l
                if p + 1 < w { dx[l] = (u[p + 1] - u[p]) * invH }
                dy[l] = (down[p] - u[p]) * yScale
            }
            store(flux, dx, dy, fx, fy, j, isotropic: isotropic)
            j += 8
        }
        return combined
    }

    /// The fluxes of the columns `0 ..< j` of a row for the largest multiple of eight `j` with
    /// `j + 9 ≤ W` (every lane has its right neighbour); returns `j`. `isotropic` and `unit`
    /// are constants at each call, so each call site is its own loop without branches.
    /// With `combining`, also the output columns `0 ..< j` (`RowCombine`), `f_x[j − 1]` kept
    /// from the previous vector (0 before the first: the slot `f_x[−1]`).
    @inline(__always)
    func interior<F: FluxLanes>(
        _ u: UnsafePointer<Double>, _ down: UnsafePointer<Double>, _ flux: F,
        _ fx: UnsafeMutablePointer<Double>, _ fy: UnsafeMutablePointer<Double>,
        isotropic iso: Bool, unit: Bool, yScale: Double, _ combining: RowCombine?
    ) -> Int {
        let w = width, invH = inverseH
        var j = 0
        var before = SIMD8<Double>(repeating: 0)   // lane 7: f_x[j − 1]
        while j + 9 <= w {
            let u0 = load8(u, j)
            var dx = load8(u, j + 1) - u0, dy = load8(down, j) - u0
            if !unit {
                dx *= invH
                dy *= yScale
            }
            let (fxv, fyv) = store(flux, dx, dy, fx, fy, j, isotropic: iso)
            if let c = combining {
                let left = SIMD8(before[7], fxv[0], fxv[1], fxv[2], fxv[3], fxv[4], fxv[5], fxv[6])
                c.write(j, dfx: fxv - left, fy: fyv)
                before = fxv
            }
            j += 8
        }
        return j
    }

    /// `f_x = G_x d_x`, `f_y = G_y d_y` with the frozen diagonals (same differences as `fluxes`).
    @inline(__always)
    func frozenFluxes(
        _ i: Int, _ frozen: UnsafePointer<Double>, u: UnsafePointer<Double>, down: UnsafePointer<Double>,
        yScale: Double, fx: UnsafeMutablePointer<Double>, fy: UnsafeMutablePointer<Double>
    ) {
        let w = width, invH = inverseH, n = height * width
        let gx = frozen + i * w, gy = isotropic ? gx : frozen + n + i * w
        if w >= 8 {
            var j = 0
            while j + 9 <= w {
                let u0 = load8(u, j)
                store8(load8(gx, j) * ((load8(u, j + 1) - u0) * invH), fx, j)
                store8(load8(gy, j) * ((load8(down, j) - u0) * yScale), fy, j)
                j += 8
            }
            let (u0, dx) = lastDifferences(u, invH)
            store8(load8(gx, w - 8) * dx, fx, w - 8)
            store8(load8(gy, w - 8) * ((load8(down, w - 8) - u0) * yScale), fy, w - 8)
            return
        }
        for j in 0..<w {
            let dx = j + 1 < w ? (u[j + 1] - u[j]) * invH : 0
            fx[j] = gx[j] * dx
            fy[j] = gy[j] * ((down[j] - u[j]) * yScale)
        }
    }

    /// The last eight columns of a row (`W ≥ 8`) and their forward differences
    /// `(u[j+1] − u[j])/h`, 0 in the last column (the mirror), without reading past the row.
    @inline(__always)
    func lastDifferences(_ u: UnsafePointer<Double>, _ invH: Double) -> (SIMD8<Double>, SIMD8<Double>) {
        let u0 = load8(u, width - 8)
        let u1 = SIMD8(u0[1], u0[2], u0[3], u0[4], u0[5], u0[6], u0[7], u0[7])
        return (u0, (u1 - u0) * invH)
    }

    /// Stores and returns the fluxes `(f_x, f_y)` of eight columns from their differences.
    @inline(__always) @discardableResult
    func store<F: FluxLanes>(
        _ flux: F, _ dx: SIMD8<Double>, _ dy: SIMD8<Double>,
        _ fx: UnsafeMutablePointer<Double>, _ fy: UnsafeMutablePointer<Double>, _ j: Int,
        isotropic iso: Bool
    ) -> (SIMD8<Double>, SIMD8<Double>) {
        let fxv: SIMD8<Double>, fyv: SIMD8<Double>
        if iso {
            let g = diffusivityOfSquare(flux, dx * dx + dy * dy)
            (fxv, fyv) = (g * dx, g * dy)
        } else {
            (fxv, fyv) = (flux(dx), flux(dy))
        }
        store8(fxv, fx, j)
        store8(fyv, fy, j)
        return (fxv, fyv)
    }
}

/// The output side of one row, `out[j] = base[j] + c·((f_x[j] − f_x[j−1]) + (f_y[j] − f_y^{prev}[j]))`,
/// eight columns at a time: shared by `combine` and the fused flux loop, so both take exactly
/// the same arithmetic.
struct RowCombine {
    let fyPrevious: UnsafePointer<Double>, base: UnsafePointer<Double>
    let into: UnsafeMutablePointer<Double>, c: Double

    @inline(__always)
    func write(_ j: Int, dfx: SIMD8<Double>, fy: SIMD8<Double>) {
        store8(load8(base, j) + c * (dfx + (fy - load8(fyPrevious, j))), into, j)
    }
}
