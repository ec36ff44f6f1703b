extension Stencil {
    /// The weight gradient of `y = K u`: adds `scale · Σ_i v_i ũ_{i+o+j}` to `grad[j]` for
    /// every weight j (ũ the mirror extension of u), i.e. `∂⟨v, K u⟩/∂w_j`.
    /// `u` and `v` have the signal's length; `grad` has `count` entries.
    @inlinable
    public func accumulateWeightGradient(
        of u: UnsafeBufferPointer<Double>, against v: UnsafeBufferPointer<Double>, scale: Double,
        into grad: UnsafeMutableBufferPointer<Double>
    ) {
        let n = u.count
        let q = count, o = offset
        let interior = interiorRows(n)
        guard let ub = u.baseAddress, let vb = v.baseAddress else { return }
        for j in 0..<q {
            var s = 0.0
            if !interior.isEmpty {
                let src = ub + (o + j)
                for i in interior { s += vb[i] * src[i] }
            }
            for i in 0..<n where !interior.contains(i) {
                s += vb[i] * ub[Stencil.mirror(i + o + j, n)]
            }
            grad[j] += scale * s
        }
    }

    /// `out = base + K u` (`out` may alias `base`; neither may alias `u`).
    @inlinable
    func accumulate(
        _ u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        base: UnsafeBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        apply(u, into: scratch)
        for i in out.indices { out[i] = base[i] + scratch[i] }
    }

    /// The same offset with new weights (validated).
    func withWeights(_ w: UnsafeBufferPointer<Double>) throws -> Stencil {
        try Stencil(weights: Array(w), offset: offset)
    }

    /// `Σ_j |w_j|`.
    var absoluteSum: Double { weights.reduce(0) { $0 + abs($1) } }
}
