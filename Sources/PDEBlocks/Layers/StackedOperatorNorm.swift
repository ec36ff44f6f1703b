/// Certified upper bounds of `λ_max(Σ_c s_c K_cᵀ K_c)` for a stack of mirrored stencils
/// `K_c` with weights `s_c ≥ 0` — the quantity in the step-size bound of a diffusion block
/// with several filters: `u − τ Σ_c K_cᵀ G_c K_c u` has eigenvalues in `[1 − τ·λ_max, 1]`
/// whenever every `G_c ≤ s_c` (s_c = sup g_c), so Theorem 2 extends to `τ ≤ 2/λ_max`.
///
/// One filter: `s·‖K‖₂²` from `Stencil.normSquared` (certified, within 1e-8 relative).
/// Several: the banded matrix `A = Σ_c s_c K_cᵀK_c` is assembled (O(n·b) memory, b its
/// bandwidth) and `λ_max` bracketed by bisection with LDLᵀ inertia tests exactly as in
/// `Stencil.normSquared` (Sylvester: `μI − A` has only positive pivots iff `μ > λ_max`).
/// When the band would exceed `maxBandEntries`, the cruder certified bound
/// `Σ_c s_c ‖K_c‖₂²` (triangle inequality) is returned instead.
enum StackedOperatorNorm {
    static let maxBandEntries = 1 << 24

    static func largestEigenvalueBound(filters: [Stencil], weights: [Double], n: Int) throws -> Double {
        try Check.positive(n, "n")
        let active = zip(filters, weights).filter { $0.1 > 0 && $0.0.weights.contains { $0 != 0 } }
        if active.isEmpty { return 0 }
        if active.count == 1 { return active[0].1 * (try active[0].0.normSquared(n: n)) }
        // Bandwidth of A: max over K rows of (max column − min column).
        var b = 0
        for (K, _) in active {
            for i in 0..<n {
                var lo = Int.max, hi = Int.min
                for j in 0..<K.count {
                    let c = Stencil.mirror(i + K.offset + j, n)
                    lo = min(lo, c)
                    hi = max(hi, c)
                }
                b = max(b, hi - lo)
            }
        }
        b = min(b, n - 1)
        let width = b + 1
        let (entries, overflow) = n.multipliedReportingOverflow(by: width)
        guard !overflow, entries <= maxBandEntries else {
            var sum = 0.0
            for (K, s) in active { sum += s * (try K.normSquared(n: n)) }
            return sum
        }
        // Lower band: band[r*width + d] = A[r][r−d].
        var band = try Memory.zeros(entries, for: "the band of Σ KᵀK (n = \(n))")
        var cols = [Int](), vals = [Double]()
        for (K, s) in active {
            for i in 0..<n {
                cols.removeAll(keepingCapacity: true)
                vals.removeAll(keepingCapacity: true)
                for j in 0..<K.count {
                    let c = Stencil.mirror(i + K.offset + j, n)
                    if let k = cols.firstIndex(of: c) { vals[k] += K.weights[j] } else { cols.append(c); vals.append(K.weights[j]) }
                }
                for x in cols.indices {
                    for y in cols.indices where cols[x] >= cols[y] {
                        band[cols[x] * width + (cols[x] - cols[y])] += s * vals[x] * vals[y]
                    }
                }
            }
        }
        return BandedSymmetric(n: n, bandwidth: b, band: band).largestEigenvalueUpperBound()
    }
}

/// A symmetric banded matrix in lower-band storage (certified λ_max: `SymmetricBandSpectrum`).
struct BandedSymmetric: SymmetricBandSpectrum {
    let n: Int
    let bandwidth: Int
    let band: [Double]

    func entry(_ r: Int, _ c: Int) -> Double {
        let (hi, lo) = r >= c ? (r, c) : (c, r)
        return band[hi * (bandwidth + 1) + (hi - lo)]
    }

    func gershgorinBound() -> Double {
        var best = 0.0
        for r in 0..<n { best = max(best, absoluteRowSum(r)) }
        return best
    }

    func largestDiagonal() -> Double {
        var lo = 0.0
        for r in 0..<n { lo = max(lo, entry(r, r)) }
        return lo
    }
}
