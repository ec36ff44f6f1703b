#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension GramBand {
    /// Signals with `n·(bandwidth+1)² ≤ exactRowLimit` use the row-by-row inertia tests (as
    /// always); longer ones the n-independent reduced tests. Both are certified.
    static let exactRowLimit = Double(1 << 23)

    /// A certified bracket of `λ_max(A)`: `upper ≥ λ_max` always (never below the truth, also
    /// under rounding: a relative margin covers the backward error of every factorisation),
    /// `lower ≤ λ_max`, and `upper − lower ≤ 1e-8·upper` plus the margin (≈ 1e-12).
    ///
    /// Short signals: `rowwiseEigenvalueBracket` — bisection with LDLᵀ inertia tests of
    /// `μI − A` row by row (Sylvester: only positive pivots iff `μ > λ_max`), O(n·b²) each.
    ///
    /// Long signals (`n·(b+1)² > exactLimit`, b ≤ `ToeplitzRunReduction.maxBlock`): the same
    /// bisection, but each inertia test eliminates the Toeplitz interior by cyclic reduction
    /// (`ToeplitzRunReduction`) in O(b³·log n) and factorises only the explicit boundary rows
    /// plus two blocks: O((boundary + b)·b² + b³·log n), independent of `n`. The test is
    /// exact (an elimination order of the same matrix), so the result is as tight as the
    /// row-by-row one. The bracket starts from the Rayleigh quotient of a sine-windowed
    /// plane wave on the Toeplitz rows at the symbol's maximiser (a lower bound within
    /// O(b²/n²) of the interior's top) and tries the symbol maximum `max_θ Σ_d a_d e^{idθ}`
    /// itself as the first upper bound: without boundary eigenvalues above the interior
    /// spectrum (the usual case) the bisection then needs only a few steps.
    func certifiedLargestEigenvalue(exactLimit: Double = GramBand.exactRowLimit) -> (lower: Double, upper: Double) {
        let b = bandwidth
        let cost = Double(n) * Double(b + 1) * Double(b + 1)
        guard cost > exactLimit, b <= ToeplitzRunReduction.maxBlock, let run = reducibleRun else {
            var rows = 0
            return rowwiseEigenvalueBracket(rows: &rows)
        }
        let gershgorin = gershgorinBound()
        guard gershgorin > 0 else { return (0, 0) }
        var hi = gershgorin * (1 + 1e-12)
        let theta = ToeplitzSymbol.argmax(toeplitz)
        var lo = max(largestDiagonal(), ToeplitzSymbol.windowedRayleigh(toeplitz, theta: theta, length: toeplitzRows.count))
        var candidate = ToeplitzSymbol.value(toeplitz, theta) * (1 + 1e-10)
        // Eigenvalues above the interior spectrum live at an end: the principal blocks on the
        // explicit rows plus 8 blocks of Toeplitz rows bracket them (interlacing: their λ_max
        // is a lower bound of A's), cheaply, row by row.
        let reach = 8 * b
        for rows in [0..<min(n, headCount + reach), max(0, tailStart - reach)..<n] {
            var count = 0
            let end = PrincipalBlock(matrix: self, rows: rows).rowwiseEigenvalueBracket(rows: &count)
            lo = max(lo, end.lower)
            candidate = max(candidate, end.upper * (1 + 1e-9))
        }
        // The most pivot blocks one test factorises (each test is a separate elimination).
        var joins = 0
        func test(_ mu: Double) -> Bool {
            var count = 0
            defer { joins = max(joins, count) }
            return isUpperBoundReduced(mu, run: run, joins: &count)
        }
        if candidate > lo && candidate < hi {
            if test(candidate) { hi = candidate } else { lo = candidate }
        }
        let r = Self.bisect(lo: lo, hi: hi, test: test)
        // Backward error of the boundary LDLᵀ (as row by row) and of each join's Cholesky.
        let margin = Double(4 * b + 4) * 1e-15 * Double(2 + joins)
        return (r.lower, r.upper * (1 + margin))
    }

    /// The Toeplitz run the reduced test eliminates: rows `start ..< start + blocks·b`, an even
    /// number ≥ 4 of blocks of `b = bandwidth` rows inside `toeplitzRows` (so the run's own
    /// entries are the Toeplitz row's). Nil when there is no such run.
    var reducibleRun: (start: Int, blocks: Int)? {
        let b = bandwidth
        guard b >= 1, !toeplitzRows.isEmpty else { return nil }
        var blocks = toeplitzRows.count / b
        blocks -= blocks % 2
        return blocks >= 4 ? (toeplitzRows.lowerBound, blocks) : nil
    }

    /// Whether `μI − A` is positive definite (then `μ > λ_max`), eliminating the run's interior
    /// first (`ToeplitzRunReduction`, all pivot blocks must be positive definite), then the
    /// remaining matrix — head rows, the run's first and last block (their 2b×2b reduction),
    /// tail rows, in this order: bandwidth ≤ 2b — by banded LDLᵀ (only positive pivots).
    /// Sylvester's law of inertia holds for every elimination order, so this is exactly the
    /// row-by-row test's answer (up to rounding).
    func isUpperBoundReduced(_ mu: Double, run: (start: Int, blocks: Int), joins: inout Int) -> Bool {
        let b = bandwidth
        guard let red = ToeplitzRunReduction.reduce(toeplitz: toeplitz, mu: mu, blocks: run.blocks, joins: &joins) else {
            return false
        }
        let h = run.start
        let shift = (run.blocks - 2) * b
        let size = n - shift
        let bs = 2 * b, width = bs + 1
        var band = [Double](repeating: 0, count: size * width)
        let reduced = h..<(h + 2 * b)
        for p in 0..<size {
            let op = p < h + b ? p : p + shift
            for d in 0...min(bs, p) {
                let q = p - d
                var v = 0.0
                if reduced.contains(p) && reduced.contains(q) {
                    let pi = p - h, qi = q - h
                    if pi < b {
                        v = red.first[pi * b + qi]
                    } else if qi >= b {
                        v = red.last[(pi - b) * b + (qi - b)]
                    } else {
                        v = red.coupling[(pi - b) * b + qi]
                    }
                } else {
                    let oq = q < h + b ? q : q + shift
                    if op - oq <= b { v = (d == 0 ? mu : 0) - entry(op, oq) }
                }
                band[p * width + d] = v
            }
        }
        return BandLDLT.isPositiveDefinite(&band, size: size, bandwidth: bs)
    }
}

/// The principal submatrix of a `GramBand` on consecutive rows (its λ_max is a lower bound of
/// the whole matrix's, by Cauchy interlacing).
struct PrincipalBlock: SymmetricBandSpectrum {
    let matrix: GramBand
    let rows: Range<Int>
    var n: Int { rows.count }
    var bandwidth: Int { min(matrix.bandwidth, max(0, rows.count - 1)) }
    var toeplitzRows: Range<Int> {
        let t = matrix.toeplitzRows.clamped(to: rows)
        // Row r of the block is Toeplitz when its lower band stays inside the block.
        let lo = max(t.lowerBound, rows.lowerBound + matrix.bandwidth)
        return lo < t.upperBound ? (lo - rows.lowerBound)..<(t.upperBound - rows.lowerBound) : 0..<0
    }
    func entry(_ r: Int, _ c: Int) -> Double { matrix.entry(rows.lowerBound + r, rows.lowerBound + c) }
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

/// LDLᵀ without pivoting of a symmetric band in lower-band storage (`band[r·(bw+1) + d] =
/// M[r][r−d]`), in place.
enum BandLDLT {
    /// Whether every pivot is positive (and finite): by Sylvester's law of inertia, whether
    /// `M` is positive definite. O(size·bw²).
    static func isPositiveDefinite(_ band: inout [Double], size: Int, bandwidth bw: Int) -> Bool {
        let width = bw + 1
        var diag = [Double](repeating: 0, count: size)
        return band.withUnsafeMutableBufferPointer { m in
            diag.withUnsafeMutableBufferPointer { dg in
                for r in 0..<size {
                    let start = max(0, r - bw)
                    var pivot = m[r * width]
                    for c in start..<r {
                        // L[r][c]·D[c] = M[r][c] − Σ_k L[r][k]·D[k]·L[c][k]
                        var s = m[r * width + (r - c)]
                        for k in max(start, c - bw)..<c {
                            s -= m[r * width + (r - k)] * dg[k] * m[c * width + (c - k)]
                        }
                        let l = s / dg[c]
                        m[r * width + (r - c)] = l
                        pivot -= l * l * dg[c]
                    }
                    guard pivot > 0, pivot.isFinite else { return false }
                    dg[r] = pivot
                }
                return true
            }
        }
    }
}

/// The symbol `f(θ) = a_0 + 2 Σ_{d≥1} a_d cos(dθ)` of a symmetric Toeplitz row: the spectrum
/// of the bi-infinite Toeplitz matrix is `[min f, max f]`, every finite principal section's
/// eigenvalues lie in it. Used only to start the bisection close to the answer (never to
/// certify).
enum ToeplitzSymbol {
    static func value(_ a: [Double], _ theta: Double) -> Double {
        var s = a[0]
        for d in stride(from: 1, to: a.count, by: 1) { s += 2 * a[d] * cos(Double(d) * theta) }
        return s
    }

    /// A maximiser of `f` on [0, π] (f is even and 2π-periodic): the best of a grid of
    /// 32·(b+1) points, refined by Newton steps on f'.
    static func argmax(_ a: [Double]) -> Double {
        let b = a.count - 1
        guard b >= 1 else { return 0 }
        let m = max(64, 32 * (b + 1))
        var best = 0.0, bestValue = -Double.infinity
        for k in 0...m {
            let t = Double.pi * Double(k) / Double(m)
            let v = value(a, t)
            if v > bestValue { (best, bestValue) = (t, v) }
        }
        var t = best
        for _ in 0..<40 {
            var d1 = 0.0, d2 = 0.0
            for d in 1...b {
                let dd = Double(d)
                d1 -= 2 * dd * a[d] * sin(dd * t)
                d2 -= 2 * dd * dd * a[d] * cos(dd * t)
            }
            guard d2 < 0 else { break }
            let next = min(Double.pi, max(0, t - d1 / d2))
            if next == t { break }
            t = next
            let v = value(a, t)
            if v > bestValue { (best, bestValue) = (t, v) }
        }
        return best
    }

    /// The Rayleigh quotient `x*Tx / x*x` of the m×m Toeplitz section `T` with the plane wave
    /// `x_k = sin(π(k+1)/(m+1))·e^{iθk}` — a lower bound of `λ_max(T)`, hence of `λ_max` of any
    /// matrix containing `T` as a principal submatrix; `f(θ) − O(b²/m²)·max|f''|`. Closed
    /// form, O(b): `Σ_k s_k s_{k+d} = ½[(m−d)cos(dφ) + sin((d+1)φ)/sin φ]`, `φ = π/(m+1)`.
    static func windowedRayleigh(_ a: [Double], theta: Double, length m: Int) -> Double {
        guard m >= 1 else { return 0 }
        let mm = Double(m), phi = Double.pi / (mm + 1)
        let sinPhi = sin(phi)
        var s = a[0]
        for d in stride(from: 1, to: min(a.count, m), by: 1) {
            let dd = Double(d)
            let ratio = ((mm - dd) * cos(dd * phi) + sin((dd + 1) * phi) / sinPhi) / (mm + 1)
            s += 2 * a[d] * cos(dd * theta) * ratio
        }
        return s
    }
}
