/// One explicit EED step with a given tensor field (DESIGN.md "Images"):
///
///     out = x − τ·Kᵀ M K x,   K = [Kx; Ky] = gradient_2d(h),
///
/// with `M` applied per pixel to the pair `((Kx x)[i, j], (Ky x)[i, j])` — the flux
/// `(fx, fy) = M·(px, py)` — followed by the exact transpose `Kᵀ = [Kxᵀ Kyᵀ]`. The forward
/// differences `px = (x[i, j+1] − x[i, j])/h`, `py = (x[i+1, j] − x[i, j])/h` vanish in the
/// last column / row (the mirror), and those rows of `Kx` / `Ky` are zero, so `Kᵀ` drops
/// `fx` in the last column and `fy` in the last row even where `M` mixes them in:
///
///     out[i, j] = x[i, j] − (τ/h)·(fx[i, j−1] − fx[i, j] + fy[i−1, j] − fy[i, j])
///
/// with `fx[i, −1] = fx[i, W−1] = 0` and `fy[−1, j] = fy[H−1, j] = 0`.
///
/// With `0 ⪯ M ⪯ sup g·I` the step is the explicit scheme (eq. 4) with a symmetric positive
/// semidefinite `G = M`: `‖out‖₂ ≤ ‖x‖₂` for `τ ≤ 2/(sup g·λ_max(KxᵀKx + KyᵀKy))`
/// (Theorem 2), and the mean is kept (every row of `K` sums to 0).
enum EEDStep {
    /// Scratch values per band: three rows.
    static func scratchLength(width: Int) -> Int { 3 * width }

    /// `out = x − τ Kᵀ M K x` for one `height`×`width` image; `M` given by `a = M₁₁`,
    /// `b = M₁₂`, `c = M₂₂`. `out` must not overlap `x`; `scratch` holds at least
    /// `parts·3·width` values for the `parts` bands used (fewer bands when it is shorter).
    static func apply(
        _ x: UnsafePointer<Double>, height: Int, width: Int, h: Double, tau: Double,
        a: UnsafePointer<Double>, b: UnsafePointer<Double>, c: UnsafePointer<Double>,
        into out: UnsafeMutablePointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let parts = min(EEDRowBands.parts(count: height, samples: height * width), max(1, scratch.count / (3 * width)))
        EEDRowBands.run(parts, Rows(
            x: x, height: height, width: width, inverseH: 1 / h, scale: tau / h, a: a, b: b, c: c, out: out,
            scratch: scratch.baseAddress!, parts: parts))
    }

    private struct Rows: ParallelJob {
        let x: UnsafePointer<Double>, height: Int, width: Int, inverseH: Double, scale: Double
        let a: UnsafePointer<Double>, b: UnsafePointer<Double>, c: UnsafePointer<Double>
        let out: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>, parts: Int

        /// `fx`, `fy` of row `i` (zero where `Kᵀ` drops them).
        @inline(__always)
        func flux(_ i: Int, _ fx: UnsafeMutablePointer<Double>, _ fy: UnsafeMutablePointer<Double>) {
            let W = width, r = i * W
            let row = x + r, ar = a + r, br = b + r, cr = c + r
            let hInv = inverseH
            if i < height - 1 {
                let down = row + W
                for j in 0..<(W - 1) {
                    let px = (row[j + 1] - row[j]) * hInv, py = (down[j] - row[j]) * hInv
                    fx[j] = ar[j] * px + br[j] * py
                    fy[j] = br[j] * px + cr[j] * py
                }
                let py = (down[W - 1] - row[W - 1]) * hInv
                fx[W - 1] = 0
                fy[W - 1] = cr[W - 1] * py
            } else {
                for j in 0..<(W - 1) {
                    let px = (row[j + 1] - row[j]) * hInv
                    fx[j] = ar[j] * px
                    fy[j] = 0
                }
                fx[W - 1] = 0
                fy[W - 1] = 0
            }
        }

        func perform(_ t: Int) {
            let W = width
            let fx = scratch + t * 3 * W
            var fyPrev = fx + W, fy = fx + 2 * W
            let rows = EEDRowBands.band(t, of: parts, count: height)
            if rows.lowerBound > 0 {
                flux(rows.lowerBound - 1, fx, fyPrev)
            } else {
                fyPrev.update(repeating: 0, count: W)
            }
            let s = scale
            for i in rows {
                flux(i, fx, fy)
                let xr = x + i * W, o = out + i * W
                o[0] = xr[0] - s * (-fx[0] + fyPrev[0] - fy[0])
                for j in 1..<max(1, W) {
                    o[j] = xr[j] - s * ((fx[j - 1] - fx[j]) + (fyPrev[j] - fy[j]))
                }
                swap(&fyPrev, &fy)
            }
        }
    }
}
