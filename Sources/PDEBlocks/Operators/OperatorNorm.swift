extension Stencil {
    /// `‖K‖₂²`, the squared spectral norm of `K` acting on signals of length `n`
    /// (the largest eigenvalue of `A = KᵀK`), as a *certified upper bound*:
    /// the returned value is never below the true value and exceeds it by at most
    /// 1e-8 relative (plus a rounding margin of order 1e-12).
    ///
    /// How this is guaranteed. `A` is symmetric positive semidefinite and banded
    /// (bandwidth `2b`, where `b` bounds |column − row| of `K`). By Sylvester's law of
    /// inertia, `μI − A` is positive definite — equivalently its LDLᵀ factorisation
    /// without pivoting has only positive pivots — iff `μ > λ_max(A)`. We bracket
    /// `λ_max` between `max_r A_rr` (a Rayleigh quotient, hence a lower bound) and
    /// Gershgorin's bound `max_r Σ_c |A_rc|` (an upper bound), then bisect: each
    /// midpoint that passes the LDLᵀ test is a proven upper bound. LDLᵀ of a banded
    /// PD matrix is backward stable with error ≤ (2b+1)·ε·‖A‖, which the returned
    /// value covers by an extra relative margin. Cost: O(n·b²) per bisection step,
    /// ~30 steps, O(b²) memory (the interior of `A` is Toeplitz and is not stored); for
    /// long signals (`n·(b+1)² > 2^23`) each test eliminates the Toeplitz interior by
    /// cyclic reduction instead, O(boundary·b² + b³·log n): any `n` answers in
    /// milliseconds for short stencils (`GramBand.certifiedLargestEigenvalue`).
    ///
    /// Scaling. The weights are divided by the power of two nearest below their largest
    /// magnitude (exact), the bound computed for the scaled stencil and multiplied back
    /// in the exponent (`BinaryScaled`), so tiny weights (1e-160: ‖K‖² subnormal) and huge
    /// ones compute exactly like moderate ones. The final rounding to a `Double` is upward;
    /// in the subnormal range the 1e-8 relative tightness is limited by the format.
    ///
    /// Throws when `n` is not positive or exceeds `maxNormLength`, when `‖K‖₂²` overflows a
    /// `Double` (weights beyond ~1e154; the message names the largest weight), or when the
    /// boundary rows of `KᵀK` do not fit in memory (`GramBand`). Edge cases: `n = 1` gives
    /// `(Σ w_j)²`; a stencil of zeros gives 0. Results are cached per (stencil, n) for the
    /// life of the process.
    public func normSquared(n: Int) throws -> Double {
        let value = try scaledNormSquared(n: n)
        let rounded = value.roundedUp
        guard rounded.isFinite else {
            throw PDEBlocksError.invalidArgument(
                "‖K‖₂² overflows a Double (it is \(value.magnitudeDescription)): the stencil weights are too large "
                    + "(largest |w| = \(largestWeightMagnitude))")
        }
        return rounded
    }

    /// `normSquared(n:)` before its final rounding: the certified bound as `significand·2^exponent`.
    func scaledNormSquared(n: Int) throws -> BinaryScaled {
        try Stencil.checkNormLength(n)
        return try cachedNorm(NormCacheKey(stencil: self, n: n, exact: true)) {
            let (scaled, e) = try normalised()
            let bound = try GramBand(stencil: scaled, n: n).certifiedLargestEigenvalue().upper
            return BinaryScaled(bound, exponent: 2 * e)
        }
    }

    /// A cheap upper bound of `‖K‖₂²` (Gershgorin on `KᵀK`); never below the true value,
    /// usually within a factor 2; `+∞` when it overflows a `Double`. Used to accept step
    /// sizes without the exact norm.
    public func normSquaredUpperBound(n: Int) throws -> Double {
        try Stencil.checkNormLength(n)
        return try cachedNorm(NormCacheKey(stencil: self, n: n, exact: false)) {
            let (scaled, e) = try normalised()
            let g = try GramBand(stencil: scaled, n: n).gershgorinBound()
            // Gershgorin's sum rounds; one relative ulp-scale margin keeps it above the exact sum.
            return BinaryScaled(g * (1 + Double(2 * scaled.count + 2) * 1e-16), exponent: 2 * e)
        }.roundedUp
    }

    /// The longest signal the norms accept: `2^53` (exact as a `Double`; index arithmetic with
    /// offsets below 2^40 cannot overflow).
    public static let maxNormLength = 1 << 53

    static func checkNormLength(_ n: Int) throws {
        try Check.positive(n, "n")
        guard n <= maxNormLength else {
            throw PDEBlocksError.invalidArgument("n = \(n) exceeds the largest signal length \(maxNormLength) (2^53) of the operator norm")
        }
    }

    /// The stencil divided by `2^e`, `e` the binary exponent of its largest weight (exact:
    /// the largest magnitude lands in [1, 2); weights more than 2^1074 below it may round,
    /// far inside the norm's margin), and `e`.
    func normalised() throws -> (Stencil, Int) {
        let e = BinaryScaled.exponentOfLargest(weights)
        return (try Stencil(weights: weights.map { BinaryScaled.scale($0, by: -e) }, offset: offset), e)
    }

    /// The largest |weight|, for messages.
    var largestWeightMagnitude: Double { weights.reduce(0.0) { max($0, abs($1)) } }
}

/// Norms are cached per (stencil, n, kind) for the life of the process (at most 256
/// entries; the cache is emptied when full), so repeated calls skip the work.
private struct NormCacheKey: Hashable { let stencil: Stencil; let n: Int; let exact: Bool }
/// (Fork-safe: a fork() child reads it too.)
private let normCache = ForkSafeMutex<[NormCacheKey: BinaryScaled]>([:])

private func cachedNorm(_ key: NormCacheKey, _ compute: () throws -> BinaryScaled) throws -> BinaryScaled {
    if let cached = normCache.withLock({ $0[key] }) { return cached }
    let value = try compute()
    normCache.withLock { cache in
        if cache.count >= 256 { cache.removeAll(keepingCapacity: true) }
        cache[key] = value
    }
    return value
}
