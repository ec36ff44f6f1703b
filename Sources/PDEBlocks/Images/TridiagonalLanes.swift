/// Sixteen of AOS's line systems solved at once, one per SIMD lane (the Thomas algorithm,
/// vectorised across lines instead of along them; sixteen lanes are four independent AVX2
/// dependency chains, which hides the latency of the recursions).
///
/// For a line of `m` pixels with edge weights `g_k ≥ 0` (the edge between pixels k and
/// k + 1, k < m − 1) and `c = 2τ/h²`, the system `(I − 2τA) v = x` of `AOS` is tridiagonal
/// with off-diagonals `e_k = −c·g_k` and diagonal `d_k = 1 + c(g_{k−1} + g_k)`, where
/// `g_{−1} = 0` and the last pixel's own weight is not used. It is a diagonally dominant
/// M-matrix, so elimination without pivoting is stable and every pivot
/// `p_k = d_k − e_{k−1}²/p_{k−1} ≥ 1 + c·g_k ≥ 1` (by induction): one division per pixel,
/// no failure for finite weights (an overflowing `c·g` gives ∞ pivots and NaN values, which
/// the caller's finiteness check reports).
///
///     forward:  r_k = 1/p_k = 1/(d_k − e_{k−1}² r_{k−1}),  y_k = x_k − (e_{k−1} r_{k−1}) y_{k−1}
///     back:     v_{m−1} = y_{m−1} r_{m−1},  v_k = y_k r_k − (e_k r_k) v_{k+1}
///
/// (the forward pass stores `y_k r_k` and `e_k r_k`, so the backward recursion is one
/// multiply–add). Lane `l` of element k of each operand is at `base + k·stride + l`
/// (adjacent columns of an image: stride = width; rows transposed into interleaved
/// scratch: stride = 16).
enum TridiagonalLanes {
    typealias V = SIMD16<Double>
    static let lanes = 16

    /// Solves the sixteen systems with right-hand sides at `x` and weights at `g` (m ≥ 1
    /// elements) and writes `v` to `out` (`average`: `out ← ½(out + v)`, AOS's combination
    /// of the two directions). `scratch` holds `32·m` values. `out` may be `x` (x is read
    /// only by the forward pass).
    @inline(__always)
    static func solve(
        x: UnsafePointer<Double>, xStride: Int, g: UnsafePointer<Double>, gStride: Int, count m: Int, coupling c: Double,
        into out: UnsafeMutablePointer<Double>, outStride: Int, average: Bool, scratch: UnsafeMutablePointer<Double>
    ) {
        let one = V(repeating: 1)
        // forward elimination
        var ePrevious = V(repeating: 0), yPrevious = V(repeating: 0), rPrevious = V(repeating: 0)
        for k in 0..<m {
            let gk = k + 1 < m ? load(g + k * gStride) : V(repeating: 0)
            let e = -c * gk
            let d = one - ePrevious - e  // 1 + c(g_{k−1} + g_k)
            let r = one / (d - (ePrevious * ePrevious) * rPrevious)
            let y = load(x + k * xStride) - (ePrevious * rPrevious) * yPrevious
            store(y * r, scratch + 32 * k)
            store(e * r, scratch + 32 * k + 16)
            (ePrevious, yPrevious, rPrevious) = (e, y, r)
        }
        // back substitution
        var v = V(repeating: 0)  // v_{k+1}
        var k = m - 1
        while k >= 0 {
            v = load(scratch + 32 * k) - load(scratch + 32 * k + 16) * v
            let o = out + k * outStride
            store(average ? 0.5 * (load(o) + v) : v, o)
            k -= 1
        }
    }

    @inline(__always)
    static func load(_ p: UnsafePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
}
