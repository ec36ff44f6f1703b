/// AOS's edge weights, formed where they are used instead of stored: `g[i, j] = g(s²[i, j])`
/// with `s²[i, j] = ((u[i, j+1] − u[i, j])² + (u[i+1, j] − u[i, j])²)/h²` — the isotropic
/// coupling of `gradient_2d(h)`, a zero difference in the last column and in the last row
/// (the mirror). The row pass forms them row by row, the column pass sixteen columns at a
/// time as it walks down the image; every pixel's weight is the same arithmetic in both (one
/// lane of `FluxLanes.g(ofSquare:)`, which is lane by lane), so the two directions see the
/// same `g`, bit for bit, as a stored field would give — without writing and reading back
/// eight bytes per pixel twice (an AOS step is bound by memory traffic).
struct AOSWeights<F: FluxLanes> {
    let x: UnsafePointer<Double>
    let height: Int, width: Int
    /// `1/h²`.
    let inverseH2: Double
    let flux: F

    /// `s²` of the pixels `(i, j ..< j + 8)`; lanes past the row's end are 0.
    @inline(__always)
    func squares(_ i: Int, _ j: Int) -> SIMD8<Double> {
        let W = width
        let row = x + i &* W
        let down = i < height - 1 ? row + W : row   // last row: u[i+1, j] − u[i, j] = 0
        var dx: SIMD8<Double>, dy: SIMD8<Double>
        if j &+ 9 <= W {   // every lane has a right neighbour
            let u0 = load8(row, j)
            dx = load8(row, j &+ 1) - u0
            dy = load8(down, j) - u0
        } else {
            dx = SIMD8(repeating: 0)
            dy = SIMD8(repeating: 0)
            for l in 0..<max(0, min(8, W &- j)) {   // (j ≥ W: padding lanes, all 0)
                let p = j &+ l
                if p &+ 1 < W { dx[l] = row[p &+ 1] - row[p] }
                dy[l] = down[p] - row[p]
            }
        }
        return (dx * dx + dy * dy) * inverseH2
    }

    /// `g` of the pixels `(i, j ..< j + 8)` (lanes past the row's end: `g(0)`).
    @inline(__always)
    func weights8(_ i: Int, _ j: Int) -> SIMD8<Double> { diffusivityOfSquare(flux, squares(i, j)) }

    /// Row `i`'s `g` into `out[0 ..< W]`.
    @inline(__always)
    func row(_ i: Int, into out: UnsafeMutablePointer<Double>) {
        let W = width
        var j = 0
        while j &+ 8 <= W {
            store8(weights8(i, j), out, j)
            j &+= 8
        }
        if j < W {
            let v = weights8(i, j)
            for l in 0..<(W &- j) { out[j &+ l] = v[l] }
        }
    }
}

/// The weights of sixteen adjacent columns `j0 ..< j0 + 16` of `AOSWeights`, row by row: the
/// weight source of `TridiagonalLanes.solve` for the column pass (columns past the image's
/// last are padding, weight `g(0)`).
struct ColumnWeights<F: FluxLanes>: TridiagonalWeights {
    let weights: AOSWeights<F>
    let j0: Int

    @inline(__always)
    func callAsFunction(_ i: Int) -> TridiagonalLanes.V {
        TridiagonalLanes.V(lowHalf: weights.weights8(i, j0), highHalf: weights.weights8(i, j0 &+ 8))
    }
}
