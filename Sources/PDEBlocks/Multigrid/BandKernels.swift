/// Hot loops over row-major band storage (`BandedMatrix`): products and residuals.
///
/// `a` holds `n` rows of width `w = kl + ku + 1`, `a[i·w + d + kl] = A[i][i+d]`,
/// with zeros in the slots outside the matrix. Rows `kl ..< n − ku` need no bounds
/// checks and run branch-free; the tridiagonal case (`kl = ku = 1`) has its own loop.
/// Callers guarantee the buffer lengths (these are internal kernels, no validation).
public enum BandKernels {
    /// `out = A x`.
    @inlinable
    public static func multiply(
        _ a: UnsafeBufferPointer<Double>, n: Int, lower kl: Int, upper ku: Int,
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>
    ) {
        _ = apply(a, n: n, lower: kl, upper: ku, x, base: nil, into: out)
    }

    /// `r = b − A x` (`r` may alias `b`, not `x`); returns `‖r‖₂²`.
    @inlinable @discardableResult
    public static func residual(
        _ a: UnsafeBufferPointer<Double>, n: Int, lower kl: Int, upper ku: Int,
        _ x: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, into r: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        apply(a, n: n, lower: kl, upper: ku, x, base: b, into: r)
    }

    /// `out = base − A x` (or `A x` when `base` is nil); returns `‖out‖₂²`.
    @inlinable
    static func apply(
        _ a: UnsafeBufferPointer<Double>, n: Int, lower kl: Int, upper ku: Int,
        _ x: UnsafeBufferPointer<Double>, base: UnsafeBufferPointer<Double>?, into out: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        guard n > 0, let ap = a.baseAddress, let xp = x.baseAddress, let op = out.baseAddress else { return 0 }
        let bp = base?.baseAddress
        let sign: Double = bp == nil ? 1 : -1
        let w = kl + ku + 1
        var sumSquares = 0.0
        @inline(__always) func row(_ i: Int, _ lo: Int, _ hi: Int) {
            var s = 0.0
            let ai = ap + i * w + kl
            for d in lo...hi { s += ai[d] * xp[i + d] }
            let v = (bp?[i] ?? 0) + sign * s
            op[i] = v
            sumSquares += v * v
        }
        if kl == 1 && ku == 1 && n >= 3 {
            row(0, 0, 1)
            var s0 = 0.0, s1 = 0.0
            if let bp {
                var i = 1
                while i + 1 < n - 1 {
                    let v0 = bp[i] - (ap[3 * i] * xp[i - 1] + ap[3 * i + 1] * xp[i] + ap[3 * i + 2] * xp[i + 1])
                    let j = i + 1
                    let v1 = bp[j] - (ap[3 * j] * xp[j - 1] + ap[3 * j + 1] * xp[j] + ap[3 * j + 2] * xp[j + 1])
                    op[i] = v0
                    op[j] = v1
                    s0 += v0 * v0
                    s1 += v1 * v1
                    i += 2
                }
                while i < n - 1 {
                    let v0 = bp[i] - (ap[3 * i] * xp[i - 1] + ap[3 * i + 1] * xp[i] + ap[3 * i + 2] * xp[i + 1])
                    op[i] = v0
                    s0 += v0 * v0
                    i += 1
                }
            } else {
                for i in 1..<(n - 1) {
                    let v = ap[3 * i] * xp[i - 1] + ap[3 * i + 1] * xp[i] + ap[3 * i + 2] * xp[i + 1]
                    op[i] = v
                    s0 += v * v
                }
            }
            sumSquares += s0 + s1
            row(n - 1, -1, 0)
            return sumSquares
        }
        let interior = kl..<max(kl, n - ku)
        for i in 0..<min(kl, n) { row(i, -i, min(ku, n - 1 - i)) }
        for i in interior { row(i, -kl, ku) }
        for i in max(kl, interior.upperBound)..<n { row(i, max(-kl, -i), n - 1 - i) }
        return sumSquares
    }

    /// `‖v‖₂² = Σ_i v_i²` (four partial sums).
    @inlinable
    public static func normSquared(_ v: UnsafeBufferPointer<Double>) -> Double {
        var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
        var i = 0
        let n = v.count
        while i + 3 < n {
            s0 += v[i] * v[i]
            s1 += v[i + 1] * v[i + 1]
            s2 += v[i + 2] * v[i + 2]
            s3 += v[i + 3] * v[i + 3]
            i += 4
        }
        while i < n {
            s0 += v[i] * v[i]
            i += 1
        }
        return (s0 + s1) + (s2 + s3)
    }
}
