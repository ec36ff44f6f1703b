/// Computes `L = sup_{x ≥ 0} |φ(x)|` for the flux derivative `φ(x) = Φ′(λx)` of each
/// diffusivity kind (independent of λ), once per process.
///
/// Method: a grid of spacing `δ = 1e-3` on [0, 16] brackets every local maximum of |φ|
/// (a maximum strictly between two grid points makes its larger neighbour a discrete local
/// maximum, since |φ″| ≤ 21 on [0, 16] for every kind — measured by the test-suite — keeps
/// |φ| unimodal across a cell at such a peak); each bracket is refined by golden-section
/// search to ~1e-15. The tail x ≥ 16 cannot hold the supremum, which is ≥ φ(0) = 1:
/// there |φ| ≤ x²e^{−x²/2} (Perona–Malik), ≤ 1/x² (rational), ≤ x^{−3} (Charbonnier),
/// ≤ 9C/x⁸ (Weickert), all below 0.004. The result is rounded up by 1e-12 relative.
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
