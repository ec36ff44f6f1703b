/// Exact scaling by a power of two `2^k` for any `k` a double's exponent range can ask for
/// (`|k| ≤ 2100`): a single double cannot hold `2^k` beyond `2^1023` or below `2^-1074`,
/// so the factor is kept as two doubles applied one after the other. Multiplying by them is
/// exact whenever the result is a normal number, which is what makes the rescaled solves
/// (`ConjugateGradient`, `BandedLU`) bitwise equal to the unscaled ones in range.
package enum PowerOfTwo {
    /// The two factors whose product is `2^k`.
    package static func scale(_ k: Int) -> (Double, Double) {
        let first = Swift.max(-1000, Swift.min(1000, k))
        return (Double(sign: .plus, exponent: first, significand: 1),
                Double(sign: .plus, exponent: k - first, significand: 1))
    }

    /// `x·2^k` for the factors of `scale(k)`.
    @inline(__always)
    package static func times(_ x: Double, _ factor: (Double, Double)) -> Double { (x * factor.0) * factor.1 }
}
