/// The order in which a FED cycle takes its step sizes. Raw values are the C ABI's
/// `PDB_FED_ORDER_*` constants.
///
/// In exact arithmetic the order does not matter in the linear case (the cycle is
/// the product `Π(I − τ_i A)`), but in floating point it does: a rounding error made
/// after step `k` is amplified by the product of the *remaining* factors
/// `Π_{i>k} (1 − τ_i z)` over the spectrum `z ∈ [0, 2/τ_max]`. Measured worst cases
/// of that amplification (max over k and a grid of max(20001, 40L) points z):
///
/// | L | plain | κ-cycle | Leja |
/// |---|---|---|---|
/// | 10 | 5·10³ | 1.2 | 2.2 |
/// | 20 | 3·10⁸ | 7 | 2.6 |
/// | 50 | 2·10²³ | 14 | 3.2 |
/// | 109 | 7·10⁵² | 8·10² | 2.2 |
/// | 200 | 4·10⁹⁸ | 6·10⁷ | 15 |
/// | 1000 | overflow | 2·10³ | 9 |
///
/// (Leja: at most 76, at L = 270, over all L ≤ 300.) So a plain linear FED
/// cycle of length 40 already differs from the equivalent FSI cycle in the first digit,
/// and the κ-cycle, though usually good, fails for some L. `leja` is the recommended
/// order (`reorder=True` in Python).
public enum FEDOrdering: Int32, CaseIterable, Sendable {
    /// `τ_0 ≤ τ_1 ≤ … ≤ τ_{L−1}` as the formula gives them.
    case plain = 0
    /// The κ-cycle permutation of Gentzsch and Schlüter (1978), with the heuristic
    /// κ = ⌊L/2⌋ of common FED implementations: with `p` the smallest prime above `L`,
    /// position `j = 1, 2, …, p−1` takes index `(j·κ mod p) − 1`, skipping indices `≥ L`.
    /// Since `gcd(κ, p) = 1`, `j ↦ j·κ mod p` permutes `1 … p−1`, so every index
    /// `0 … L−1` occurs exactly once. `L ≤ 3` gives the identity (κ = 1).
    case kappaCycle = 1
    /// A Leja ordering of the roots `z_i = 1/τ_i` of the cycle polynomial (as for
    /// Richardson iteration, Reichel 1990): start with the largest step (smallest
    /// root), then repeatedly take the root that maximises the product of distances
    /// to the roots already taken (ties: lowest index). Interleaves large and small
    /// steps so that every tail of the cycle is a well-conditioned polynomial.
    /// Costs O(L²) once per call, hence limited to `L ≤ lejaMaximum`.
    case leja = 2

    /// The longest cycle for which the Leja order is computed (O(L²) work).
    public static let lejaMaximum = 1 << 13

    /// `"plain"`, `"kappa"` or `"leja"`.
    public var name: String {
        switch self {
        case .plain: "plain"
        case .kappaCycle: "kappa"
        case .leja: "leja"
        }
    }

    /// Throws for an unknown raw value (from C or Python).
    public init(code: Int32) throws {
        guard let value = Self(rawValue: code) else {
            throw PDEBlocksError.invalidArgument(
                "unknown FED ordering \(code) (PDB_FED_ORDER_PLAIN = 0, _KAPPA = 1, _LEJA = 2)")
        }
        self = value
    }

    /// Throws when this order cannot be built for cycles of length `L`.
    package func validate(_ L: Int) throws {
        if self == .leja && L > Self.lejaMaximum {
            throw PDEBlocksError.invalidArgument(
                "the Leja ordering is limited to cycle_length ≤ \(Self.lejaMaximum) (O(L²) construction), got \(L); "
                    + "use more cycles or the kappa ordering")
        }
    }

    /// The permutation of `0 ..< L` (index of the step size taken at each position).
    public func permutation(_ L: Int) -> [Int] {
        guard L > 1 else { return Array(0..<max(L, 0)) }
        switch self {
        case .plain: return Array(0..<L)
        case .kappaCycle: return Self.kappaCycle(L)
        case .leja: return Self.leja(L)
        }
    }

    static func kappaCycle(_ L: Int) -> [Int] {
        let kappa = L / 2
        var p = L + 1
        while !isPrime(p) { p += 1 }
        var order: [Int] = []
        order.reserveCapacity(L)
        for j in 1..<p {
            let index = (j * kappa) % p - 1
            if index < L { order.append(index) }
        }
        return order
    }

    static func leja(_ L: Int) -> [Int] {
        // Roots up to the common factor 1/τ_max: z_i = 2 sin²(π(L−i)/(2L+1)).
        let d = Double(2 * L + 1)
        let z = (0..<L).map { i -> Double in
            let s = sin(Double.pi * Double(L - i) / d)
            return 2 * s * s
        }
        var order = [L - 1]
        order.reserveCapacity(L)
        var used = [Bool](repeating: false, count: L)
        used[L - 1] = true
        // score_i = Σ_{chosen j} log|z_i − z_j| (the roots are distinct).
        var score = z.map { log(abs($0 - z[L - 1])) }
        for _ in 1..<L {
            var best = -1
            for i in 0..<L where !used[i] && (best < 0 || score[i] > score[best]) { best = i }
            used[best] = true
            order.append(best)
            let zb = z[best]
            for i in 0..<L where !used[i] { score[i] += log(abs(z[i] - zb)) }
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
