/// Computes `L = sup_{x ≥ 0} |φ(x)|` for the flux derivative `φ(x) = Φ′(λx)` of each
/// diffusivity kind (independent of λ), once per process.
///
/// Method: a grid of spacing `δ = 1e-3` on [0, 16] locates every local maximum of |φ|;
/// each is refined by golden-section search to ~1e-15. On [0, 16] the grid cannot
/// miss a maximum: |φ′| ≤ 40 there for all kinds, so between grid points |φ| deviates
/// from its refined neighbourhood maxima by less than the refinement covers. For x ≥ 16
/// |φ(x)| ≤ 1e-6 for every kind except `.linear` (φ ≡ 1) and `.charbonnier`
/// (φ = (1+x²)^{−3/2} ≤ 2.5e-4), all far below φ(0) = 1, so the tail cannot hold the
/// supremum. The result is rounded up by 1e-12 relative so it is never an underestimate.
enum LipschitzSearch {
    static func constant(_ kind: DiffusivityKind) -> Double { table[Int(kind.rawValue)] }

    private static let table: [Double] = DiffusivityKind.allCases.map { compute($0) }

    static func compute(_ kind: DiffusivityKind) -> Double {
        guard kind != .linear else { return 1 }
        let g = try! Diffusivity(kind, lambda: 1)  // λ = 1 is valid by construction
        let phi = { (x: Double) in abs(g.fluxDerivative(x)) }
        let delta = 1e-3, count = 16_000
        var best = phi(0)
        var previous = phi(0), current = phi(delta)
        for i in 1..<count {
            let next = phi(Double(i + 1) * delta)
            if current >= previous && current >= next {
                best = max(best, goldenMax(phi, Double(i - 1) * delta, Double(i + 1) * delta))
            }
            previous = current
            current = next
        }
        return best * (1 + 1e-12)
    }

    /// Maximum of a unimodal `f` on [a, b] by golden-section search.
    static func goldenMax(_ f: (Double) -> Double, _ a0: Double, _ b0: Double) -> Double {
        let r = (5.0.squareRoot() - 1) / 2
        var a = a0, b = b0
        var c = b - r * (b - a), d = a + r * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<100 where b - a > 1e-15 {
            if fc > fd { b = d; d = c; fd = fc; c = b - r * (b - a); fc = f(c) }
            else { a = c; c = d; fc = fd; d = a + r * (b - a); fd = f(d) }
        }
        return max(fc, fd, f(a0), f(b0))
    }
}
