/// Additive operator splitting (AOS; Weickert, ter Haar Romeny, Viergever 1998) for
/// isotropic nonlinear diffusion with the gradient bank `K = [Kx; Ky] = gradient_2d(h)`:
///
///     u^{k+1} = ½ Σ_{l ∈ {x, y}} (I − 2τ A_l(u^k))⁻¹ u^k,   A_l = −K_lᵀ diag(g_l) K_l,
///
/// with `g` evaluated once per step at every pixel from the same forward differences as the
/// isotropic coupling: `s²[i, j] = (Kx u)[i, j]² + (Ky u)[i, j]²` (zero difference in the
/// last column / row, the mirror) and `g[i, j] = g(s²[i, j])`. The weight on the edge between
/// pixels `j` and `j+1` of a row (or `i` and `i+1` of a column) is that of its first pixel,
/// `g[i, j]` (resp. `g[i, j]`), the diagonal entry of `diag(g)` on the row of `K_l` that
/// holds that difference. So each `I − 2τA_l` is, per row (x) or per column (y), the
/// tridiagonal matrix
///
///     d_j = 1 + (2τ/h²)(g_{j−1} + g_j),   off-diagonals −(2τ/h²)·g_j between j and j+1
///
/// (`g_{−1} = 0`, and the last pixel's own weight unused): symmetric, strictly diagonally
/// dominant with a positive diagonal, an M-matrix whose inverse is nonnegative with unit
/// row and column sums. Hence, for every τ > 0, each step is a convex combination of the
/// values of `u^k` (max–min principle: `min f ≤ u ≤ max f`) and keeps the mean — AOS is
/// unconditionally stable. The line systems are solved by the Thomas algorithm sixteen lines
/// at a time (`TridiagonalLanes`, one line per SIMD lane): columns straight from the image,
/// rows through a transposed copy; the column solutions are combined with the row solutions.
/// Each pass forms `g` where it uses it (`AOSWeights`, the same values in both), so a step
/// streams the image three times (read by the rows, then by the columns; `y` written,
/// then read and written) and no weight field.
///
/// Work buffers are allocated once per call; images are processed one after the other, the
/// rows (then column blocks) of each split across `Parallelism.threads`.
public enum AOS {
    /// `steps` AOS steps of size `tau` on `batch` row-major `height`×`width` images.
    ///
    /// - Throws: `.invalidArgument` on a bad shape, `h`, `tau` (not positive and finite, or
    ///   `2τ/h²` not finite) or negative `steps`; `.nonFinite` on a NaN/∞ in `f`. `out` (which
    ///   may be the same memory as `f`, otherwise they must not overlap) is written only
    ///   when the call succeeds.
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        batch: Int, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity, tau: Double, steps: Int
    ) throws {
        try EED.validateImages(f, out, batch: batch, height: height, width: width)
        try Check.positiveFinite(h, "h")
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        let coupling = 2 * tau / (h * h)
        guard coupling.isFinite else {
            throw PDEBlocksError.invalidArgument("2·tau/h² = \(coupling) is not finite (tau = \(tau), h = \(h))")
        }
        let n = height * width
        let threads = max(1, min(Parallelism.threads, WorkerPool.maxWidth))
        let perThread = try AOSSweeps.scratchPerThread(height: height, width: width)
        let scratchLength = try Memory.count(threads, perThread, for: "AOS scratch")
        let length = try Memory.sum(n, scratchLength, for: "AOS work buffers")
        // (huge pages where offered: the column solves touch a new 4 KiB page at every row)
        let work = try PageBuffer(zeros: length, for: "the AOS work buffers")
        let result = try PageBuffer(zeros: f.count, for: "the AOS result")
        try withExtendedLifetime((work, result)) {
            let p = work.buffer.baseAddress!, rb = result.buffer
            let sweeps = AOSSweeps(
                height: height, width: width, inverseH2: 1 / (h * h), coupling: coupling, diffusivity: diffusivity,
                scratch: UnsafeMutableBufferPointer(start: p + n, count: scratchLength), perThread: perThread)
            for image in 0..<batch {
                let slot = rb.baseAddress! + image * n
                slot.update(from: f.baseAddress! + image * n, count: n)
                var x = slot, y = p
                for _ in 0..<steps {
                    sweeps.step(x, into: y)
                    swap(&x, &y)
                }
                if x != slot { slot.update(from: x, count: n) }
            }
            try FiniteResult.require(UnsafeBufferPointer(rb), n: n, what: "AOS", cause: { "overflow — values beyond double precision" })
            _ = out.update(fromContentsOf: rb)
        }
    }

    /// `evolve` on a row-major `(batch, height, width)` array.
    public static func evolve(
        _ f: [Double], batch: Int = 1, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity,
        tau: Double, steps: Int
    ) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the AOS result")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer {
                try evolve(fb, into: $0, batch: batch, height: height, width: width, h: h, diffusivity: diffusivity,
                           tau: tau, steps: steps)
            }
        }
        return out
    }
}
