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
                // Eight partial sums (a fixed order, so results stay deterministic) let the
                // products run in vector registers instead of one dependent chain.
                let src = UnsafeRawPointer(ub + (o + j)), vr = UnsafeRawPointer(vb)
                var acc = SIMD8<Double>(repeating: 0)
                var i = interior.lowerBound
                while i + 8 <= interior.upperBound {
                    acc += vr.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Double>.self)
                        * src.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Double>.self)
                    i += 8
                }
                s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
                let tail = ub + (o + j)
                while i < interior.upperBound { s += vb[i] * tail[i]; i += 1 }
            }
            forEachBoundaryRow(n) { i in s += vb[i] * ub[Stencil.mirror(i + o + j, n)] }
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
