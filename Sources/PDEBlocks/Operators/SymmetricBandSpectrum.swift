/// A symmetric positive semidefinite banded matrix seen through its entries — what the
/// certified `λ_max` bisection needs. Conformer: `GramBand` (`Σ_c s_c K_cᵀK_c` of mirrored
/// stencils, Toeplitz interior not stored), which adds an n-independent test for long
/// signals (`GramBand.certifiedLargestEigenvalue`).
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
    /// Rows r whose lower band `A[r][r−d]`, d = 0…bandwidth, depends on d only (the
    /// Toeplitz interior); may be empty.
    var toeplitzRows: Range<Int> { get }
}

extension SymmetricBandSpectrum {
    /// No Toeplitz rows unless a conformer knows them.
    var toeplitzRows: Range<Int> { 0..<0 }

    /// `Σ_c |A_rc|` over row r.
    func absoluteRowSum(_ r: Int) -> Double {
        var s = 0.0
        for c in max(0, r - bandwidth)...min(n - 1, r + bandwidth) { s += abs(entry(r, c)) }
        return s
    }

    /// Whether `μI − A` is positive definite — its LDLᵀ factorisation without pivoting has
    /// only positive pivots — which by Sylvester's law of inertia means `μ > λ_max(A)`.
    /// O(n·b²) time at most, O(b²) memory (ring buffers of the last b+1 rows of L and D).
    ///
    /// Toeplitz interior skipped exactly: on Toeplitz rows one row of (L, D) is a fixed
    /// function of the previous b rows, so once b+2 consecutive rows are bitwise equal
    /// (relative to their diagonals) every later Toeplitz row repeats them, and the loop
    /// jumps to the end of the interior with the ring re-laid — the same floating-point
    /// values the full loop computes. The factors of a Toeplitz band converge
    /// geometrically when μ lies above the interior's spectrum (and a pivot turns negative
    /// early when it does not), so long signals cost O(boundary + convergence length).
    /// `skipInterior: false` runs every row (for tests); `rows` counts the rows factorised.
    func isUpperBound(_ mu: Double, skipInterior: Bool = true, rows: inout Int) -> Bool {
        let ba = bandwidth
        let width = ba + 1
        let interior = toeplitzRows
        var l = [Double](repeating: 0, count: width * width)
        var d = [Double](repeating: 0, count: width)
        return l.withUnsafeMutableBufferPointer { L in
            d.withUnsafeMutableBufferPointer { D in
                // Whether row r equals row r−1 relative to the diagonal (needs r ≥ ba + 1).
                func repeatsPrevious(_ r: Int) -> Bool {
                    let s = r % width, p = (r - 1) % width
                    guard D[s] == D[p] else { return false }
                    for k in stride(from: 1, through: ba, by: 1)
                    where L[s * width + (r - k) % width] != L[p * width + (r - 1 - k) % width] { return false }
                    return true
                }
                var repeats = 0
                var r = 0
                while r < n {
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
                    rows += 1
                    guard diag > 0, diag.isFinite else { return false }
                    D[slot] = diag
                    if skipInterior && interior.contains(r) && r >= ba + 1 && interior.contains(r - ba - 1) {
                        repeats = repeatsPrevious(r) ? repeats + 1 : 0
                        let last = interior.upperBound - 1
                        if repeats > ba && r < last {
                            // Rows r−ba … r are equal: lay that row out as rows last−ba … last.
                            let row = (0...ba).map { k in k == 0 ? D[slot] : L[slot * width + (r - k) % width] }
                            for rho in (last - ba)...last {
                                let rs = rho % width
                                D[rs] = row[0]
                                for k in stride(from: 1, through: ba, by: 1) { L[rs * width + (rho - k) % width] = row[k] }
                            }
                            r = last
                        }
                    }
                    r += 1
                }
                return true
            }
        }
    }

    /// Bisection for λ_max between a lower bound `lo` and a proven upper bound `hi`: each
    /// midpoint for which `test` proves `μ ≥ λ_max` becomes `hi`, every other one `lo`. Stops
    /// when `hi − lo ≤ 1e-8·hi`, or when the midpoint equals an end (no double lies strictly
    /// between), or after `maxBisectionSteps` halvings (on doubles ~2100 suffice from any
    /// bracket) — it terminates for every input. Returns the final (lo, hi).
    static func bisect(lo: Double, hi: Double, test: (Double) -> Bool) -> (lower: Double, upper: Double) {
        var lo = lo, hi = hi
        for _ in 0..<maxBisectionSteps {
            guard hi - lo > 1e-8 * hi else { break }
            let mid = lo + 0.5 * (hi - lo)
            guard mid > lo, mid < hi else { break }
            if test(mid) { hi = mid } else { lo = mid }
        }
        return (lo, hi)
    }

    /// More halvings than any bracket of finite doubles needs.
    static var maxBisectionSteps: Int { 2200 }

    /// The row-by-row certified bound: bisection between `largestDiagonal()` and Gershgorin's
    /// bound with `isUpperBound` (every row factorised, the Toeplitz interior skipped once it
    /// repeats); the LDLᵀ backward error, ≤ (2b+1)·ε·‖A‖, is covered by a final relative
    /// margin. Returns the certified bracket: `upper ≥ λ_max` (with the margin) and
    /// `lower ≤ λ_max` (a diagonal entry or a failed test).
    func rowwiseEigenvalueBracket(skipInterior: Bool = true, rows: inout Int) -> (lower: Double, upper: Double) {
        let hi = gershgorinBound()
        guard hi > 0 else { return (0, 0) }
        // Gershgorin is proven but may coincide with λ_max; make it strictly certified.
        let r = Self.bisect(lo: largestDiagonal(), hi: hi * (1 + 1e-12)) {
            isUpperBound($0, skipInterior: skipInterior, rows: &rows)
        }
        return (r.lower, r.upper * (1 + Double(2 * bandwidth + 2) * 1e-15))
    }

    func largestEigenvalueUpperBound(skipInterior: Bool = true, rows: inout Int) -> Double {
        rowwiseEigenvalueBracket(skipInterior: skipInterior, rows: &rows).upper
    }
}
