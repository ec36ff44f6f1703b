extension Stencil2D {
    /// Adds `scale·∂⟨y, K x⟩/∂w[a, b]` to `grad[a·columns + b]` for one `height`×`width`
    /// image: `∂⟨y, K x⟩/∂w[a, b] = Σ_{i,j} y[i, j] · x̃[i + oy + a, j + ox + b]` with `x̃`
    /// the half-sample mirror extension of `x` (the same mirror as `apply`). `grad` holds
    /// `rows·columns` values.
    func accumulateWeightGradient(
        of x: UnsafeBufferPointer<Double>, against y: UnsafeBufferPointer<Double>, height: Int, width: Int,
        scale: Double, into grad: UnsafeMutableBufferPointer<Double>
    ) {
        guard let xb = x.baseAddress, let yb = y.baseAddress else { return }
        for a in 0..<rows {
            for b in 0..<columns {
                // Columns j in [lo, hi) read x[r, j + shift] directly; the others through the mirror.
                let shift = offsetX + b
                let lo = min(max(0, -shift), width), hi = max(min(width, width - shift), lo)
                var acc = 0.0
                for i in 0..<height {
                    let r = Stencil.mirror(i + offsetY + a, height) * width, row = i * width
                    acc += Self.dot(yb + row + lo, xb + r + lo + shift, hi - lo)
                    for j in 0..<lo { acc += yb[row + j] * xb[r + Stencil.mirror(j + shift, width)] }
                    for j in hi..<width { acc += yb[row + j] * xb[r + Stencil.mirror(j + shift, width)] }
                }
                grad[a * columns + b] += scale * acc
            }
        }
    }

    /// `Σ_{k<n} p[k]·q[k]`, eight lanes at a time.
    @inline(__always)
    static func dot(_ p: UnsafePointer<Double>, _ q: UnsafePointer<Double>, _ n: Int) -> Double {
        var v = SIMD8<Double>(repeating: 0), k = 0
        while k + 8 <= n {
            v += load8(p, k) * load8(q, k)
            k += 8
        }
        var s = v.sum()
        while k < n { s += p[k] * q[k]; k += 1 }
        return s
    }

    /// The same stencil with the mean of its weights subtracted (`Σ w = 0`: `K 1 = 0`).
    func zeroMeanProjection() throws -> Stencil2D {
        let mean = weights.reduce(0, +) / Double(weights.count)
        return try Stencil2D(weights: weights.map { $0 - mean }, rows: rows, columns: columns,
                             offsetY: offsetY, offsetX: offsetX)
    }
}
