/// Certified upper bounds of `λ_max(Σ_c s_c K_cᵀ K_c)` for a stack of mirrored stencils
/// `K_c` with weights `s_c ≥ 0` — the quantity in the step-size bound of a diffusion block
/// with several filters: `u − τ Σ_c K_cᵀ G_c K_c u` has eigenvalues in `[1 − τ·λ_max, 1]`
/// whenever every `G_c ≤ s_c` (s_c = sup g_c), so Theorem 2 extends to `τ ≤ 2/λ_max`.
///
/// One filter: `s·‖K‖₂²` from `Stencil.scaledNormSquared` (certified, within 1e-8 relative).
/// Several: the same machinery on `A = Σ_c s_c K_cᵀK_c` (`GramBand` with several terms:
/// Toeplitz interior not stored, boundary rows explicit), `λ_max` bracketed by bisection with
/// inertia tests exactly as in `Stencil.normSquared` — row by row for short signals, with
/// the Toeplitz interior eliminated by cyclic reduction for long ones (cost independent of
/// n). Every filter is divided by the power of two of its largest weight and `s_c` carries
/// the factor back (exact), the largest coefficient brought near 1, so weights of any
/// magnitude compute like moderate ones; the result is `significand·2^exponent`.
/// When the filters' boundary rows do not fit in memory the cruder certified bound
/// `Σ_c s_c ‖K_c‖₂²` (triangle inequality) is used instead.
enum StackedOperatorNorm {
    /// The bound rounded up to a `Double` (`+∞` when it overflows).
    static func largestEigenvalueBound(filters: [Stencil], weights: [Double], n: Int) throws -> Double {
        try scaledLargestEigenvalueBound(filters: filters, weights: weights, n: n).roundedUp
    }

    /// The bound as `significand·2^exponent`, before rounding.
    static func scaledLargestEigenvalueBound(filters: [Stencil], weights: [Double], n: Int) throws -> BinaryScaled {
        try Stencil.checkNormLength(n)
        let active = zip(filters, weights).filter { $0.1 > 0 && $0.0.weights.contains { $0 != 0 } }
        if active.isEmpty { return BinaryScaled(0) }
        if active.count == 1 { return try active[0].0.scaledNormSquared(n: n).times(active[0].1) }
        // s_c·K_cᵀK_c = (s_c·4^{e_c})·K̃_cᵀK̃_c with K̃_c = K_c/2^{e_c}; s_c·4^{e_c} = m_c·2^{f_c}.
        var scaled: [(stencil: Stencil, exponent: Int, mantissa: Double)] = []
        for (K, s) in active {
            let (k, e) = try K.normalised()
            let se = Int(s.exponent)
            scaled.append((k, se + 2 * e, BinaryScaled.scale(s, by: -se)))
        }
        let top = scaled.map(\.exponent).max() ?? 0
        let terms = scaled.map { (stencil: $0.stencil, coefficient: BinaryScaled.scale($0.mantissa, by: $0.exponent - top)) }
        do {
            let band = try GramBand(terms: terms, n: n)
            return BinaryScaled(band.certifiedLargestEigenvalue().upper, exponent: top)
        } catch PDEBlocksError.invalidArgument {
            // Boundary rows too many to store: the triangle inequality (each term alone fits
            // at least as well as the stack, or throws itself).
            var sum = 0.0
            for t in terms { sum += t.coefficient * (try t.stencil.scaledNormSquared(n: n).roundedUp) }
            return BinaryScaled(sum * (1 + 1e-15 * Double(terms.count)), exponent: top)
        }
    }
}
