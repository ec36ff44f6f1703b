extension Stencil {
    /// The order-`m` finite difference on a grid of spacing `h`:
    /// weights `(−1)^{m−j}·C(m, j)/h^m` for `j = 0 … m`, offset `−⌊m/2⌋`
    /// (m = 0: identity; m = 1: forward difference; m = 2: centred second difference).
    public static func difference(order m: Int, h: Double = 1) throws -> Stencil {
        try Check.positiveFinite(h, "h")
        guard (0...maxDifferenceOrder).contains(m) else {
            throw PDEBlocksError.invalidArgument("difference order must be in 0...\(maxDifferenceOrder), got \(m)")
        }
        var binomial = 1.0  // C(m, j), exact in Double for m ≤ 16
        var weights = [Double](repeating: 0, count: m + 1)
        let power = pow(h, m), scale = 1 / power
        // h^m and 1/h^m must both be normal doubles: otherwise the weights overflow (tiny h),
        // vanish (huge h), or lose their digits in the subnormal range.
        guard m == 0 || (power.isNormal && scale.isNormal) else {
            throw PDEBlocksError.invalidArgument(
                "h = \(h) is too \(h < 1 ? "small" : "large") for a difference of order \(m): its weights "
                    + "C(m, j)/h^\(m) \(h < 1 ? "overflow" : "underflow") a Double (h^\(m) = \(power))")
        }
        for j in 0...m {
            weights[j] = ((m - j) % 2 == 0 ? 1 : -1) * binomial * scale
            binomial = binomial * Double(m - j) / Double(j + 1)
        }
        return try Stencil(weights: weights, offset: -(m / 2))
    }

    /// The highest derivative order `difference(order:h:)` accepts.
    public static let maxDifferenceOrder = 16

    /// The discretisation of `D = Σ_{m=0..M} α_m ∂x^m` (paper Sec. 2.1) as one stencil
    /// `Σ_m α_m·(order-m difference)`; mirrored convolution is linear in the stencil,
    /// so this single stencil applies `Σ_m α_m K_m` exactly. `alphas[m]` is `α_m`;
    /// orders with `α_m = 0` contribute nothing. Throws when all `α_m` are zero, a value
    /// is not finite, or `M` exceeds `maxDifferenceOrder`.
    public static func differenceOperator(alphas: [Double], h: Double = 1) throws -> Stencil {
        try Check.positiveFinite(h, "h")
        guard !alphas.isEmpty else { throw PDEBlocksError.invalidArgument("alphas is empty") }
        guard alphas.count - 1 <= maxDifferenceOrder else {
            throw PDEBlocksError.invalidArgument("highest order \(alphas.count - 1) exceeds \(maxDifferenceOrder)")
        }
        for (m, a) in alphas.enumerated() where !a.isFinite {
            throw PDEBlocksError.nonFinite("alpha[\(m)] is not finite (\(a))")
        }
        let parts = try alphas.enumerated().filter { $0.element != 0 }.map { (a: $0.element, s: try difference(order: $0.offset, h: h)) }
        guard !parts.isEmpty else { throw PDEBlocksError.invalidArgument("all alphas are zero: D would be the zero operator") }
        let start = parts.map { $0.s.offset }.min()!
        let end = parts.map { $0.s.offset + $0.s.count }.max()!
        var weights = [Double](repeating: 0, count: end - start)
        for (a, s) in parts {
            for (j, w) in s.weights.enumerated() { weights[s.offset - start + j] += a * w }
        }
        for (j, w) in weights.enumerated() where !w.isFinite {
            throw PDEBlocksError.invalidArgument(
                "the weights α_m·C(m, j)/h^m overflow a Double (weight \(j) is \(w)) with h = \(h) and "
                    + "alphas = \(alphas): use a larger h or smaller alphas")
        }
        return try Stencil(weights: weights, offset: start)
    }
}

@usableFromInline
func pow(_ x: Double, _ m: Int) -> Double {
    var r = 1.0
    for _ in 0..<m { r *= x }
    return r
}
