/// The diffusion tensor field `M(u)` of edge-enhancing diffusion (Weickert), per pixel
///
///     M = g(|∇u_σ|²)·v₁v₁ᵀ + v₂v₂ᵀ,   v₁ = ∇u_σ/|∇u_σ|,  v₂ ⊥ v₁,
///
/// i.e. `g` across the edge (along the smoothed gradient) and 1 along it. Written without
/// eigenvectors as `M = I + (g − 1)·v₁v₁ᵀ`; where `∇u_σ = 0` (v₁ undefined) `M = I`, which
/// is `g(0)·I` and the limit of `M` as the gradient tends to 0 (every built-in kind has
/// `g(0) = sup g = 1`). `M` is symmetric positive semidefinite with eigenvalues `g ∈ [0, 1]`
/// and `1`, so `0 ⪯ M ⪯ sup g·I` and Theorem 2's bound holds for `Kᵀ M K` as for a
/// diagonal `G` (ImageStability).
///
/// **Gradient of u_σ.** Central differences on `u_σ` with the half-sample mirror:
///
///     ∂x u_σ[i, j] = (u_σ[i, j̃+1] − u_σ[i, j̃−1]) / (2h),   ∂y u_σ[i, j] = (u_σ[ĩ+1, j] − u_σ[ĩ−1, j]) / (2h)
///
/// where `j̃±1`, `ĩ±1` are mirrored (so at the first column `(u_σ[i, 1] − u_σ[i, 0])/(2h)`,
/// and a width-1 image has `∂x = 0`).
///
/// The field is stored as three `height·width` arrays `a = M₁₁` (xx), `b = M₁₂ = M₂₁`,
/// `c = M₂₂` (yy).
public enum EEDTensor {
    /// `(M₁₁, M₁₂, M₂₂)` for the smoothed gradient `(gx, gy)` and `g = g(gx² + gy²)`. The
    /// direction is formed from `(gx, gy)/max(|gx|, |gy|)`, so it is exact for tiny and huge
    /// gradients alike.
    @inlinable @inline(__always)
    public static func entries(gx: Double, gy: Double, g: Double) -> (Double, Double, Double) {
        let m = max(abs(gx), abs(gy))
        guard m > 0 else { return (1, 0, 1) }
        let ex = gx / m, ey = gy / m
        let q = (g - 1) / (ex * ex + ey * ey)
        return (1 + q * (ex * ex), q * (ex * ey), 1 + q * (ey * ey))
    }

    /// Fills `a`, `b`, `c` (each `height·width`) with `M` computed from the smoothed image
    /// `us`, rows in parallel. `g` is evaluated eight pixels at a time through the kind's
    /// vector flux (`g(s²) = Φ(s)/s`, `s` clamped to `[1e-150, 1e150]`, where every kind's `g`
    /// equals its limits to double precision). Allocates nothing; the outputs must not
    /// overlap `us`.
    static func compute(
        _ us: UnsafePointer<Double>, height: Int, width: Int, h: Double, diffusivity: Diffusivity,
        a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>
    ) {
        let parts = EEDRowBands.parts(count: height, samples: height * width)
        EEDRowBands.run(parts, Rows(
            us: us, height: height, width: width, half: 0.5 / h, diffusivity: diffusivity, a: a, b: b, c: c, parts: parts))
    }

    private struct Rows: ParallelJob {
        let us: UnsafePointer<Double>, height: Int, width: Int, half: Double, diffusivity: Diffusivity
        let a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>
        let parts: Int

        func perform(_ t: Int) {
            let W = width
            for i in EEDRowBands.band(t, of: parts, count: height) {
                let row = us + i * W
                let up = us + Stencil.mirror(i - 1, height) * W, down = us + Stencil.mirror(i + 1, height) * W
                let gx = a + i * W, s2 = b + i * W, gy = c + i * W
                // ∂x: mirrored ends, interior central differences
                if W == 1 {
                    gx[0] = 0
                } else {
                    gx[0] = (row[1] - row[0]) * half
                    for j in 1..<(W - 1) { gx[j] = (row[j + 1] - row[j - 1]) * half }
                    gx[W - 1] = (row[W - 1] - row[W - 2]) * half
                }
                for j in 0..<W {
                    let y = (down[j] - up[j]) * half
                    gy[j] = y
                    s2[j] = gx[j] * gx[j] + y * y
                }
                diffusivity.withFluxLanes(DiffusivityOfSquareInPlace(v: UnsafeMutableBufferPointer(start: s2, count: W)))
                for j in 0..<W {
                    let (m11, m12, m22) = EEDTensor.entries(gx: gx[j], gy: gy[j], g: s2[j])
                    gx[j] = m11
                    s2[j] = m12
                    gy[j] = m22
                }
            }
        }
    }
}
