import Synchronization

extension Stencil {
    /// `‖K‖₂²`, the squared spectral norm of `K` acting on signals of length `n`
    /// (the largest eigenvalue of `A = KᵀK`), as a *certified upper bound*:
    /// the returned value is never below the true value and exceeds it by at most
    /// 1e-8 relative (plus a rounding margin of order 1e-13).
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
    /// ~30 steps, O(b²) memory (the interior of `A` is Toeplitz and is not stored).
    ///
    /// Edge cases: `n = 1` gives `(Σ w_j)²`; a stencil of zeros gives 0. Results are
    /// cached per (stencil, n) for the life of the process.
    public func normSquared(n: Int) throws -> Double {
        try Check.positive(n, "n")
        return cachedNorm(NormCacheKey(stencil: self, n: n, exact: true)) {
            GramBand(stencil: self, n: n).largestEigenvalueUpperBound()
        }
    }

    /// A cheap upper bound of `‖K‖₂²` (Gershgorin on `KᵀK`); never below the true value,
    /// usually within a factor 2. Used to accept step sizes without the exact norm.
    public func normSquaredUpperBound(n: Int) throws -> Double {
        try Check.positive(n, "n")
        return cachedNorm(NormCacheKey(stencil: self, n: n, exact: false)) {
            GramBand(stencil: self, n: n).gershgorinBound()
        }
    }
}

/// Norms are cached per (stencil, n, kind) for the life of the process (at most 256
/// entries; the cache is emptied when full), so repeated calls skip the O(n) work.
private struct NormCacheKey: Hashable { let stencil: Stencil; let n: Int; let exact: Bool }
private let normCache = Mutex<[NormCacheKey: Double]>([:])

private func cachedNorm(_ key: NormCacheKey, _ compute: () -> Double) -> Double {
    if let cached = normCache.withLock({ $0[key] }) { return cached }
    let value = compute()
    normCache.withLock { cache in
        if cache.count >= 256 { cache.removeAll(keepingCapacity: true) }
        cache[key] = value
    }
    return value
}

/// The banded Gram matrix `A = KᵀK` of a mirrored stencil, stored as one Toeplitz
/// row for the interior plus explicit lower-band rows near the two boundaries.
struct GramBand: SymmetricBandSpectrum {
    let n: Int
    /// Bandwidth of `A`.
    let bandwidth: Int
    /// Autocorrelation `a_d = Σ_j w_j w_{j+d}`: interior entries `A[r][r−d]`.
    private let toeplitz: [Double]
    /// Explicit lower-band rows (index d ↦ A[r][r−d]) for rows that touch a boundary.
    private let explicitRows: [Int: [Double]]
    /// Rows `r` with `toeplitzRows.contains(r)` use `toeplitz`.
    let toeplitzRows: Range<Int>

    init(stencil: Stencil, n: Int) {
        self.n = n
        let q = stencil.count, o = stencil.offset, w = stencil.weights
        let interior = stencil.interiorRows(n)
        // b: max |col − row| over the nonzero pattern of K.
        var b = interior.isEmpty ? 0 : max(abs(o), abs(o + q - 1))
        stencil.forEachBoundaryRow(n) { i in
            for j in 0..<q { b = max(b, abs(Stencil.mirror(i + o + j, n) - i)) }
        }
        // A's bandwidth: the columns of one K-row lie within q−1 of each other (the mirror is
        // 1-Lipschitz), whatever the offset; 2b alone grows with |offset| (O(n·offset²) LDLᵀ).
        let ba = min(2 * b, q - 1, n - 1)
        bandwidth = ba
        var auto = [Double](repeating: 0, count: ba + 1)
        for d in 0...ba where d < q {
            var s = 0.0
            for j in 0..<(q - d) { s += w[j] * w[j + d] }
            auto[d] = s
        }
        toeplitz = auto
        // A row r is Toeplitz when every K-row touching columns r−ba … r is an interior row.
        let first = interior.lowerBound + b + ba
        let last = interior.upperBound - b  // exclusive
        toeplitzRows = (interior.isEmpty || first >= last) ? 0..<0 : first..<last

        // Merged sparse rows of K, on demand.
        func kRow(_ i: Int) -> [(Int, Double)] {
            var entries: [(Int, Double)] = []
            for j in 0..<q {
                let c = Stencil.mirror(i + o + j, n)
                if let k = entries.firstIndex(where: { $0.0 == c }) { entries[k].1 += w[j] } else { entries.append((c, w[j])) }
            }
            return entries
        }
        // Explicit rows A[r][r−d] = Σ_i K[i][r]·K[i][r−d], accumulated over the K-rows i that
        // touch them (i ∈ [r−b, r+b]), each K-row once and in ascending order: O((n_explicit + b)·q²),
        // not O(n_explicit·b·q²) (each slot still sums its terms in ascending i).
        var rows: [Int: [Double]] = [:]
        let tr = toeplitzRows
        let explicitRanges = [0..<tr.lowerBound, max(tr.lowerBound, tr.upperBound)..<n].filter { !$0.isEmpty }
        for range in explicitRanges {
            for r in range { rows[r] = [Double](repeating: 0, count: ba + 1) }
        }
        var next = 0  // K-rows below `next` are done (the two ranges' neighbourhoods may overlap)
        for range in explicitRanges {
            for i in max(next, range.lowerBound - b)..<min(n, range.upperBound + b) {
                let row = kRow(i)
                for (r, kr) in row where rows[r] != nil {
                    for (c, kc) in row where c <= r && r - c <= ba { rows[r]![r - c] += kr * kc }
                }
            }
            next = max(next, min(n, range.upperBound + b))
        }
        explicitRows = rows
    }

    /// `A[r][c]` for |r − c| ≤ bandwidth.
    @inline(__always)
    func entry(_ r: Int, _ c: Int) -> Double {
        let (hi, lo) = r >= c ? (r, c) : (c, r)
        if toeplitzRows.contains(hi) { return toeplitz[hi - lo] }
        return explicitRows[hi]![hi - lo]
    }

    func gershgorinBound() -> Double {
        var best = 0.0
        for r in explicitRows.keys { best = max(best, absoluteRowSum(r)) }
        if let r = toeplitzRows.first { best = max(best, absoluteRowSum(r)) }
        return best
    }

    func largestDiagonal() -> Double {
        var lo = 0.0
        for r in explicitRows.keys { lo = max(lo, entry(r, r)) }
        if !toeplitzRows.isEmpty { lo = max(lo, toeplitz[0]) }
        return lo
    }
}
