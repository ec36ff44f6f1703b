extension Stencil2D {
    /// Adds `scale·∂⟨y, K x⟩/∂w[a, b]` to `grad[a·columns + b]` for one `height`×`width`
    /// image: `∂⟨y, K x⟩/∂w[a, b] = Σ_{i,j} y[i, j] · x̃[i + oy + a, j + ox + b]` with `x̃`
    /// the half-sample mirror extension of `x` (the same mirror as `apply`). `grad` holds
    /// `rows·columns` values.
    func accumulateWeightGradient(
        of x: UnsafeBufferPointer<Double>, against y: UnsafeBufferPointer<Double>, height: Int, width: Int,
        scale: Double, into grad: UnsafeMutableBufferPointer<Double>
    ) {
        var columnsOf = [Int](repeating: 0, count: width)
        for a in 0..<rows {
            for b in 0..<columns {
                for j in 0..<width { columnsOf[j] = Stencil.mirror(j + offsetX + b, width) }
                var acc = 0.0
                for i in 0..<height {
                    let r = Stencil.mirror(i + offsetY + a, height) * width, row = i * width
                    for j in 0..<width { acc += y[row + j] * x[r + columnsOf[j]] }
                }
                grad[a * columns + b] += scale * acc
            }
        }
    }

    /// The same stencil with the mean of its weights subtracted (`Σ w = 0`: `K 1 = 0`).
    func zeroMeanProjection() throws -> Stencil2D {
        let mean = weights.reduce(0, +) / Double(weights.count)
        return try Stencil2D(weights: weights.map { $0 - mean }, rows: rows, columns: columns,
                             offsetY: offsetY, offsetX: offsetX)
    }
}
