/// A symmetric positive semidefinite banded matrix seen through its entries — what the
/// certified `λ_max` bisection needs. Conformers: `GramBand` (`KᵀK` of one mirrored
/// stencil, Toeplitz interior not stored) and `BandedSymmetric` (an assembled band, e.g.
/// `Σ_c s_c K_cᵀK_c` of a multi-filter diffusion block).
protocol SymmetricBandSpectrum {
    var n: Int { get }
    /// Largest |r − c| with a nonzero entry.
    var bandwidth: Int { get }
    /// `A[r][c]` for |r − c| ≤ bandwidth.
    func entry(_ r: Int, _ c: Int) -> Double
    /// Gershgorin's bound `max_r Σ_c |A_rc|` ≥ λ_max(A).
    func gershgorinBound() -> Double
    /// `max_r A_rr` ≤ λ_max(A) (a Rayleigh quotient).
    func largestDiagonal() -> Double
}

extension SymmetricBandSpectrum {
    /// `Σ_c |A_rc|` over row r.
    func absoluteRowSum(_ r: Int) -> Double {
        var s = 0.0
        for c in max(0, r - bandwidth)...min(n - 1, r + bandwidth) { s += abs(entry(r, c)) }
        return s
    }

    /// Whether `μI − A` is positive definite — its LDLᵀ factorisation without pivoting has
    /// only positive pivots — which by Sylvester's law of inertia means `μ > λ_max(A)`.
    /// O(n·b²) time, O(b²) memory (ring buffers of the last b+1 rows of L and D).
    func isUpperBound(_ mu: Double) -> Bool {
        let ba = bandwidth
        let width = ba + 1
        var l = [Double](repeating: 0, count: width * width)
        var d = [Double](repeating: 0, count: width)
        return l.withUnsafeMutableBufferPointer { L in
            d.withUnsafeMutableBufferPointer { D in
                for r in 0..<n {
                    let slot = r % width
                    let start = max(0, r - ba)
                    var diag = mu - entry(r, r)
                    for c in start..<r {
                        let cs = c % width
                        var s = -entry(r, c)
                        for k in max(start, c - ba)..<c {
                            let ks = k % width
                            s -= L[slot * width + ks] * L[cs * width + ks] * D[ks]
                        }
                        let lrc = s / D[cs]
                        L[slot * width + cs] = lrc
                        diag -= lrc * lrc * D[cs]
                    }
                    guard diag > 0, diag.isFinite else { return false }
                    D[slot] = diag
                }
                return true
            }
        }
    }

    /// A certified upper bound of λ_max(A), at most 1e-8 relative above it: bisection
    /// between `largestDiagonal()` and Gershgorin's bound, keeping as `hi` only values that
    /// passed `isUpperBound`; the LDLᵀ backward error, ≤ (2b+1)·ε·‖A‖, is covered by a final
    /// relative margin.
    func largestEigenvalueUpperBound() -> Double {
        var hi = gershgorinBound()
        guard hi > 0 else { return 0 }
        var lo = largestDiagonal()
        // Gershgorin is proven but may coincide with λ_max; make it strictly certified.
        hi *= 1 + 1e-12
        while hi - lo > 1e-8 * hi {
            let mid = 0.5 * (lo + hi)
            if isUpperBound(mid) { hi = mid } else { lo = mid }
        }
        return hi * (1 + Double(2 * bandwidth + 2) * 1e-15)
    }
}
