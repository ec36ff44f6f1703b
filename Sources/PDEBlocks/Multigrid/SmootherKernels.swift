/// The sweeps of the smoothers over raw buffers.
///
/// All of them work on the *scaled rows* of `A`: `S[i][i] = 1/a_ii` and
/// `S[i][j] = −a_ij/a_ii` (`j ≠ i`), stored like `A` (row-major band), so that the
/// Gauss–Seidel update of unknown `i` is the single dot product
///
///     x_i ← S[i][i]·b_i + Σ_{j≠i} S[i][j]·x_j.
///
/// These are the general-bandwidth sweeps; tridiagonal levels use `TridiagonalKernels`.
enum SmootherKernels {
    /// The scaled rows of `A` into `s` (same layout). Requires a nonzero diagonal.
    static func scaleRows(_ A: BandedMatrix, into s: UnsafeMutableBufferPointer<Double>) {
        let w = A.width, kl = A.lower
        A.band.withUnsafeBufferPointer { a in
            for i in 0..<A.n {
                let inv = 1 / a[i * w + kl]
                for k in 0..<w { s[i * w + k] = -a[i * w + k] * inv }
                s[i * w + kl] = inv
            }
        }
    }

    /// One sweep of kind `sweep` on `A x = b` (`work` has length `n`, used by Jacobi).
    static func sweep(
        _ sweep: SmootherSweep, s: UnsafePointer<Double>, n: Int, lower kl: Int, upper ku: Int, omega: Double,
        b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>
    ) {
        switch sweep {
        case .forward: forward(s, n, kl, ku, b, x)
        case .backward: backward(s, n, kl, ku, b, x)
        case .redBlack:
            colour(s, n, kl, ku, b, x, first: 1)
            colour(s, n, kl, ku, b, x, first: 0)
        case .blackRed:
            colour(s, n, kl, ku, b, x, first: 0)
            colour(s, n, kl, ku, b, x, first: 1)
        case .jacobi: jacobi(s, n, kl, ku, omega, b, x, work)
        }
    }

    /// `x_i ← S_ii b_i + Σ_{j≠i} S_ij x_j` for one row, bounds-checked.
    @inline(__always)
    static func relax(
        _ s: UnsafePointer<Double>, _ n: Int, _ kl: Int, _ ku: Int, _ i: Int,
        _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>
    ) {
        let w = kl + ku + 1
        let si = s + i * w + kl
        var t = si[0] * b[i]
        for d in max(-kl, -i)...min(ku, n - 1 - i) where d != 0 { t += si[d] * x[i + d] }
        x[i] = t
    }

    static func forward(
        _ s: UnsafePointer<Double>, _ n: Int, _ kl: Int, _ ku: Int,
        _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>
    ) {
        for i in 0..<n { relax(s, n, kl, ku, i, b, x) }
    }

    static func backward(
        _ s: UnsafePointer<Double>, _ n: Int, _ kl: Int, _ ku: Int,
        _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>
    ) {
        var i = n - 1
        while i >= 0 {
            relax(s, n, kl, ku, i, b, x)
            i -= 1
        }
    }

    /// Relaxes the unknowns `i ≡ first (mod 2)` in increasing order.
    static func colour(
        _ s: UnsafePointer<Double>, _ n: Int, _ kl: Int, _ ku: Int,
        _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>, first: Int
    ) {
        var i = first
        while i < n {
            relax(s, n, kl, ku, i, b, x)
            i += 2
        }
    }

    /// `x ← (1−ω) x + ω (S_ii b_i + Σ_{j≠i} S_ij x_j)` with all `x_j` old (`work` holds them).
    static func jacobi(
        _ s: UnsafePointer<Double>, _ n: Int, _ kl: Int, _ ku: Int, _ omega: Double,
        _ b: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>, _ work: UnsafeMutablePointer<Double>
    ) {
        work.update(from: x, count: n)
        let old = UnsafePointer(work)
        let w = kl + ku + 1
        let keep = 1 - omega
        for i in 0..<n {
            let si = s + i * w + kl
            var t = si[0] * b[i]
            for d in max(-kl, -i)...min(ku, n - 1 - i) where d != 0 { t += si[d] * old[i + d] }
            x[i] = keep * old[i] + omega * t
        }
    }
}
