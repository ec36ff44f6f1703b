import PDEBlocksIntrinsics

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
        solve(x: x, xStride: xStride, weights: StridedWeights(g: g, stride: gStride), count: m, coupling: c, into: out,
              outStride: outStride, average: average, scratch: scratch)
    }

    /// `solve` with the weights of element k (k < m − 1; the last is not used) from
    /// `weights(k)` — stored, or formed on the way (`ColumnWeights`).
    @inline(__always)
    static func solve<G: TridiagonalWeights>(
        x: UnsafePointer<Double>, xStride: Int, weights: G, count m: Int, coupling c: Double,
        into out: UnsafeMutablePointer<Double>, outStride: Int, average: Bool, scratch: UnsafeMutablePointer<Double>
    ) {
        let one = V(repeating: 1)
        // Lines far apart in memory (an image's columns: every element on another page,
        // which the hardware prefetchers do not follow) have their elements `ahead` steps
        // on requested now, so that the recursions wait on arithmetic, not on memory.
        let strided = xStride > lanes || outStride > lanes, ahead = 8, behind = 32   // (a back step is short)
        // forward elimination
        var ePrevious = V(repeating: 0), yPrevious = V(repeating: 0), rPrevious = V(repeating: 0)
        for k in 0..<m {
            if strided { prefetchLine(x + (k &+ ahead) &* xStride, write: false) }
            let gk = k + 1 < m ? weights(k) : V(repeating: 0)
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
            if strided, average { prefetchLine(out + (k &- behind) &* outStride, write: true) }
            v = load(scratch + 32 * k) - load(scratch + 32 * k + 16) * v
            let o = out + k * outStride
            store(average ? 0.5 * (load(o) + v) : v, o)
            k -= 1
        }
    }

    /// Requests the cache lines of 17 values from `p` (sixteen lanes and, for the weights'
    /// differences, the next); never faults, whatever the address.
    @inline(__always)
    static func prefetchLine(_ p: UnsafePointer<Double>, write: Bool) {
        if write {
            pdb_prefetch_write(p)
            pdb_prefetch_write(p + 8)
            pdb_prefetch_write(p + 16)
        } else {
            pdb_prefetch(p)
            pdb_prefetch(p + 8)
            pdb_prefetch(p + 16)
        }
    }

    @inline(__always)
    static func prefetchLine(_ p: UnsafeMutablePointer<Double>, write: Bool) { prefetchLine(UnsafePointer(p), write: write) }

    @inline(__always)
    static func load(_ p: UnsafePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func load(_ p: UnsafeMutablePointer<Double>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Double>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
}

/// The weights of the sixteen lines of `TridiagonalLanes.solve`, element by element.
protocol TridiagonalWeights {
    /// Lane `l`: the weight `g_k` of line `l` (the edge between its elements k and k + 1).
    func callAsFunction(_ k: Int) -> TridiagonalLanes.V
}

/// Stored weights: lane `l` of element k at `g + k·stride + l`.
struct StridedWeights: TridiagonalWeights {
    let g: UnsafePointer<Double>, stride: Int
    @inline(__always)
    func callAsFunction(_ k: Int) -> TridiagonalLanes.V { TridiagonalLanes.load(g + k &* stride) }
}
