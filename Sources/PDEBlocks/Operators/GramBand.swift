/// The banded Gram matrix `A = Σ_c s_c K_cᵀK_c` of one or more mirrored stencils `K_c` with
/// coefficients `s_c ≥ 0` (one stencil with `s = 1`: `KᵀK`, whose λ_max is ‖K‖₂²; several:
/// the matrix of a multi-filter diffusion block), on signals of length `n`.
///
/// Stored in O(boundary) memory, independent of `n`: away from the two ends every row of `A`
/// is the same *Toeplitz row* `A[r][r−d] = a_d = Σ_c s_c Σ_j w_{c,j} w_{c,j+d}` (rows
/// `toeplitzRows`); the rows before and after it are stored explicitly (lower band,
/// index d ↦ `A[r][r−d]`). A row is Toeplitz when every K-row touching its columns
/// `r − bandwidth … r` is an interior row of every stencil (no mirroring).
///
/// Throws when the explicit rows would not fit in `maxExplicitEntries` doubles (offsets of
/// the order of `n`, or stencils with very many weights on very long signals).
struct GramBand: SymmetricBandSpectrum {
    let n: Int
    /// Bandwidth of `A` (at most `max_c (q_c − 1)` and `n − 1`).
    let bandwidth: Int
    /// The Toeplitz row `a_0 … a_bandwidth`.
    let toeplitz: [Double]
    /// Rows whose lower band is the Toeplitz row; may be empty.
    let toeplitzRows: Range<Int>
    /// Explicit rows `0 ..< headCount` and `tailStart ..< n`, lower band, `bandwidth + 1` per row.
    private let head: [Double], tail: [Double]
    let headCount: Int, tailStart: Int

    /// At most this many explicitly stored band entries (128 MB).
    static let maxExplicitEntries = 1 << 24

    init(stencil: Stencil, n: Int) throws {
        try self.init(terms: [(stencil, 1)], n: n)
    }

    init(terms: [(stencil: Stencil, coefficient: Double)], n: Int) throws {
        self.n = n
        func tooLarge(_ rows: Int) -> PDEBlocksError {
            let what = terms.map { "\($0.stencil.count) weights at offset \($0.stencil.offset)" }.joined(separator: ", ")
            return PDEBlocksError.invalidArgument(
                "the operator norm of the stencil (\(what)) on signals of length n = \(n) needs \(rows) boundary rows "
                    + "of KᵀK stored explicitly, more than \(GramBand.maxExplicitEntries) band entries: the offset or "
                    + "the number of weights is too large for this n")
        }
        // Per stencil: b_c = max |col − row| over K_c's pattern (interior rows: the offset
        // range; boundary rows: through the mirror, visited one by one).
        var bs: [Int] = []
        var ba = 0
        for (K, _) in terms {
            let q = K.count, o = K.offset
            let interior = K.interiorRows(n)
            let boundary = n - interior.count
            guard boundary <= GramBand.maxExplicitEntries / max(1, q) else { throw tooLarge(boundary) }
            var b = interior.isEmpty ? 0 : max(abs(o), abs(o + q - 1))
            K.forEachBoundaryRow(n) { i in
                for j in 0..<q { b = max(b, abs(Stencil.mirror(i + o + j, n) - i)) }
            }
            bs.append(b)
            // The columns of one K-row lie within q−1 of each other (the mirror is 1-Lipschitz),
            // whatever the offset; 2b alone grows with |offset|.
            ba = max(ba, min(2 * b, q - 1, n - 1))
        }
        bandwidth = ba
        let width = ba + 1
        var auto = [Double](repeating: 0, count: width)
        for (K, s) in terms {
            let w = K.weights, q = K.count
            for d in 0..<min(width, q) {
                var sum = 0.0
                for j in 0..<(q - d) { sum += w[j] * w[j + d] }
                auto[d] += s * sum
            }
        }
        toeplitz = auto
        var first = 0, last = n
        for (k, (K, _)) in terms.enumerated() {
            let interior = K.interiorRows(n)
            if interior.isEmpty { (first, last) = (n, n); break }
            first = max(first, interior.lowerBound + bs[k] + ba)
            last = min(last, interior.upperBound - bs[k])  // exclusive
        }
        toeplitzRows = first < last ? first..<last : 0..<0
        headCount = toeplitzRows.isEmpty ? n : toeplitzRows.lowerBound
        tailStart = toeplitzRows.isEmpty ? n : toeplitzRows.upperBound
        let explicitCount = headCount + (n - tailStart)
        guard explicitCount <= GramBand.maxExplicitEntries / width else { throw tooLarge(explicitCount) }

        var head = [Double](repeating: 0, count: headCount * width)
        var tail = [Double](repeating: 0, count: (n - tailStart) * width)
        let ranges = [0..<headCount, tailStart..<n].filter { !$0.isEmpty }
        for (k, (K, s)) in terms.enumerated() {
            let q = K.count, o = K.offset, w = K.weights, b = bs[k]
            // Merged sparse row i of K.
            var entries: [(Int, Double)] = []
            func kRow(_ i: Int) {
                entries.removeAll(keepingCapacity: true)
                for j in 0..<q {
                    let c = Stencil.mirror(i + o + j, n)
                    if let x = entries.firstIndex(where: { $0.0 == c }) { entries[x].1 += w[j] } else { entries.append((c, w[j])) }
                }
            }
            // A[r][r−d] += s·K[i][r]·K[i][r−d] over the K-rows i ∈ [r−b, r+b] touching explicit row r,
            // each K-row once and in ascending order (the two ranges' neighbourhoods may overlap,
            // so a K-row adds to the explicit rows of both).
            var next = 0
            for range in ranges {
                for i in max(next, range.lowerBound - b)..<min(n, range.upperBound + b) {
                    kRow(i)
                    for (r, kr) in entries where r < headCount || r >= tailStart {
                        for (c, kc) in entries where c <= r && r - c <= ba {
                            let add = s * kr * kc
                            if r < headCount { head[r * width + (r - c)] += add } else { tail[(r - tailStart) * width + (r - c)] += add }
                        }
                    }
                }
                next = max(next, min(n, range.upperBound + b))
            }
        }
        self.head = head
        self.tail = tail
    }

    /// `A[r][c]` for |r − c| ≤ bandwidth.
    @inline(__always)
    func entry(_ r: Int, _ c: Int) -> Double {
        let (hi, lo) = r >= c ? (r, c) : (c, r)
        if hi < headCount { return head[hi * (bandwidth + 1) + (hi - lo)] }
        if hi >= tailStart { return tail[(hi - tailStart) * (bandwidth + 1) + (hi - lo)] }
        return toeplitz[hi - lo]
    }

    func gershgorinBound() -> Double {
        var best = 0.0
        for r in 0..<headCount { best = max(best, absoluteRowSum(r)) }
        for r in tailStart..<n { best = max(best, absoluteRowSum(r)) }
        if let r = toeplitzRows.first { best = max(best, absoluteRowSum(r)) }
        return best
    }

    func largestDiagonal() -> Double {
        var lo = 0.0
        for r in 0..<headCount { lo = max(lo, entry(r, r)) }
        for r in tailStart..<n { lo = max(lo, entry(r, r)) }
        if !toeplitzRows.isEmpty { lo = max(lo, toeplitz[0]) }
        return lo
    }
}
