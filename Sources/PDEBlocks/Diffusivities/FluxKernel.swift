extension Diffusivity {
    /// `y_i ← scale·Φ(y_i)` in place over a buffer: the activation σ₁ = τΦ of Theorem 1
    /// applied to a whole layer (with `scale = ±τ`).
    ///
    /// Eight lanes at a time with `VectorExp.exp8` for Perona–Malik and Weickert (tails
    /// through the same vector code), straight-line loops that LLVM vectorises for the
    /// rational kinds. Agrees
    /// with the scalar `flux` to ≤ 1e-14 relative (tested).
    @inlinable
    public func applyFlux(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        guard let p = y.baseAddress else { return }
        let n = y.count
        let inv = inverseLambda2
        switch kind {
        case .linear:
            for i in 0..<n { p[i] *= scale }
        case .peronaMalik:
            let vInv = SIMD8<Double>(repeating: inv)
            var i = 0
            while i + 8 <= n {
                let v = load8(p, i)
                store8(scale * (v * VectorExp.exp8(-0.5 * ((v * v) * vInv))), p, i)
                i += 8
            }
            for i in i..<n {
                let v = p[i]
                p[i] = scale * (v * VectorExp.exp1(-0.5 * ((v * v) * inv)))
            }
        case .peronaMalikRational:
            for i in 0..<n {
                let v = p[i]
                p[i] = scale * (v * (1 / (1 + (v * v) * inv)))
            }
        case .charbonnier:
            for i in 0..<n {
                let v = p[i]
                let root = (1 + (v * v) * inv).squareRoot()
                p[i] = scale * (v * (1 / root))
            }
        case .weickert:
            let c = Diffusivity.weickertConstant
            let vInv = SIMD8<Double>(repeating: inv)
            var i = 0
            while i + 8 <= n {
                let v = load8(p, i)
                let x2 = (v * v) * vInv
                let t = c / ((x2 * x2) * (x2 * x2))  // C/x⁸ (∞ at v = 0: g = 1)
                store8(scale * (v * Diffusivity.oneMinusExpNeg(t)), p, i)
                i += 8
            }
            for i in i..<n {
                let v = p[i]
                let x2 = (v * v) * inv
                let t = c / ((x2 * x2) * (x2 * x2))
                p[i] = scale * (v * Diffusivity.oneMinusExpNeg(SIMD8(repeating: t))[0])
            }
        }
    }

    /// `1 − e^{−t}` for `t ≥ 0` (or +∞) without cancellation, eight lanes, branch-free: its
    /// Taylor series to t⁹ for t < 0.05 (truncation ≤ 1e-16 relative), else `1 − e^{−t}`
    /// (cancellation costs at most a factor 1/t ≤ 20 in relative error, i.e. ≤ 5e-15).
    @inlinable @inline(__always)
    static func oneMinusExpNeg(_ t: SIMD8<Double>) -> SIMD8<Double> {
        let one = SIMD8<Double>(repeating: 1)
        var s = one - t / 9
        s = one - t / 8 * s
        s = one - t / 7 * s
        s = one - t / 6 * s
        s = one - t / 5 * s
        s = one - t / 4 * s
        s = one - t / 3 * s
        s = one - t / 2 * s
        let series = t * s
        let direct = one - VectorExp.exp8(-t)
        return direct.replacing(with: series, where: t .< 0.05)
    }

    /// The scalar reference of `applyFlux` (libm `exp`), kept for tests.
    public func applyFluxScalar(_ y: UnsafeMutableBufferPointer<Double>, scale: Double) {
        for i in y.indices { y[i] = scale * flux(y[i]) }
    }
}
