/// The order in which a FED cycle takes its step sizes. Raw values are the C ABI's
/// `PDB_FED_ORDER_*` constants.
///
/// In exact arithmetic the order does not matter in the linear case (the cycle is
/// the product `Π(I − τ_i A)`), but in floating point it does: a rounding error made
/// after step `k` is amplified by the product of the *remaining* factors
/// `Π_{i>k} (1 − τ_i z)` over the spectrum `z ∈ [0, 2/τ_max]`. The plain order
/// takes the steps from smallest to largest, so the last steps are all large and
/// their product reaches ≈ 5·10³ for L = 10, 3·10⁸ for L = 20 and 2·10²³ for L = 50:
/// a linear FED cycle of length 40 already differs from the equivalent FSI cycle in
/// the first digit. The κ-cycle order interleaves large and small steps and keeps
/// that amplification below ≈ 20 for all L up to 100 (measured on a 20001-point grid
/// of the spectrum); a Leja ordering of the roots, tried too, reaches ≈ 40–80.
public enum FEDOrdering: Int32, CaseIterable, Sendable {
    /// `τ_0 ≤ τ_1 ≤ … ≤ τ_{L−1}` as the formula gives them.
    case plain = 0
    /// The κ-cycle permutation of Gentzsch and Schlüter (1978), as used by Grewenig,
    /// Weickert and Bruhn (2010): with κ = ⌊L/2⌋ and `p` the smallest prime above `L`,
    /// step `j = 1, 2, …, p−1` takes index `(j·κ mod p) − 1`, skipping indices `≥ L`.
    /// Since `gcd(κ, p) = 1`, `j ↦ j·κ mod p` permutes `1 … p−1`, so every index
    /// `0 … L−1` occurs exactly once. `L ≤ 2` gives the identity.
    case kappaCycle = 1

    /// Throws for an unknown raw value (from C or Python).
    public init(code: Int32) throws {
        guard let value = Self(rawValue: code) else {
            throw PDEBlocksError.invalidArgument(
                "unknown FED ordering \(code) (PDB_FED_ORDER_PLAIN = 0, PDB_FED_ORDER_KAPPA = 1)")
        }
        self = value
    }

    /// The permutation of `0 ..< L` (index of the step size taken at each position).
    public func permutation(_ L: Int) -> [Int] {
        guard self == .kappaCycle, L > 2 else { return Array(0..<max(L, 0)) }
        let kappa = L / 2
        var p = L + 1
        while !Self.isPrime(p) { p += 1 }
        var order: [Int] = []
        order.reserveCapacity(L)
        for j in 1..<p {
            let index = (j * kappa) % p - 1
            if index < L { order.append(index) }
        }
        return order
    }

    /// Trial division (p ≤ 2^20 + a prime gap here).
    static func isPrime(_ p: Int) -> Bool {
        guard p >= 2 else { return false }
        var d = 2
        while d * d <= p {
            if p % d == 0 { return false }
            d += 1
        }
        return true
    }
}
