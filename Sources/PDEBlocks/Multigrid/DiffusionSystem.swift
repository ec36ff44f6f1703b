/// The rows of the N×N matrix of a stencil with mirrored boundaries (`Stencil`), in
/// compressed form: row `i` holds `K[i][columns[k]] = values[k]` for
/// `k ∈ rowStart[i] ..< rowStart[i+1]`, with taps that mirror onto the same column
/// merged. Built once per (stencil, n) and reused for every assembly.
struct StencilRows: Sendable {
    let n: Int
    let rowStart: [Int]
    let columns: [Int]
    let values: [Double]
    /// The largest `max col − min col` over the rows: the bandwidth of `Kᵀ W K`.
    let spread: Int

    init(_ K: Stencil, n: Int) throws {
        try Check.positive(n, "n")
        let (total, overflow) = n.multipliedReportingOverflow(by: K.count)
        guard !overflow, total <= BandedMatrix.maxStorage else {
            throw PDEBlocksError.invalidArgument("stencil length \(K.count) times n = \(n) is too large")
        }
        var rowStart = [0]
        var columns: [Int] = []
        var values: [Double] = []
        try Memory.reserveCapacity(&rowStart, n + 1, for: "the rows of the diffusion system")
        try Memory.reserveCapacity(&columns, total, for: "the rows of the diffusion system")
        try Memory.reserveCapacity(&values, total, for: "the rows of the diffusion system")
        var spread = 0
        for i in 0..<n {
            let start = columns.count
            for (j, wj) in K.weights.enumerated() {
                let c = Stencil.mirror(i + K.offset + j, n)
                if let k = columns[start...].firstIndex(of: c) {
                    values[k] += wj
                } else {
                    columns.append(c)
                    values.append(wj)
                }
            }
            let row = columns[start...]
            spread = max(spread, (row.max() ?? 0) - (row.min() ?? 0))
            rowStart.append(columns.count)
        }
        self.n = n
        self.rowStart = rowStart
        self.columns = columns
        self.values = values
        self.spread = spread
    }
}

extension BandedMatrix {
    /// The matrix of one implicit diffusion step (paper eq. 8 with the diffusivity lagged):
    ///
    ///     A = I + τ Kᵀ diag(w) K,
    ///
    /// for a stencil `K` with mirrored boundaries (its exact N×N matrix, `N = w.count`,
    /// as `Stencil.matrix(n:)` gives it) and weights `w_i ≥ 0` — typically
    /// `w = g(|K u|²)` from a diffusivity. `A` is symmetric positive definite (eigenvalues
    /// ≥ 1), banded with bandwidth `max_i (max col − min col of row i of K)`, assembled
    /// exactly symmetric in O(N·q²). Its grid is `.cell` (mirrored boundaries).
    public static func diffusionSystem(stencil K: Stencil, weights w: [Double], tau: Double) throws -> BandedMatrix {
        try Check.positive(w.count, "number of weights n")
        let rows = try StencilRows(K, n: w.count)
        var A = try BandedMatrix(zeros: w.count, lower: rows.spread, upper: rows.spread, grid: .cell)
        try w.withUnsafeBufferPointer { try A.assembleDiffusionSystem(rows, weights: $0, tau: tau) }
        return A
    }

    /// The bandwidth (lower = upper) of `diffusionSystem(stencil: K, …)` on `n` unknowns.
    /// Computed from the row windows (`Stencil.mirroredRowSpread`), without building the
    /// rows: O(q) time and no storage, so a size query for a huge `n` is cheap.
    public static func diffusionSystemBandwidth(stencil K: Stencil, n: Int) throws -> Int {
        try Check.positive(n, "n")
        let (total, overflow) = n.multipliedReportingOverflow(by: K.count)
        guard !overflow, total <= BandedMatrix.maxStorage else {
            throw PDEBlocksError.invalidArgument("stencil length \(K.count) times n = \(n) is too large")
        }
        return K.mirroredRowSpread(n: n)
    }

    /// Overwrites `self` (shape from `diffusionSystem`) with `I + τ Kᵀ diag(w) K`;
    /// validates `w` and `τ` first. No allocation.
    mutating func assembleDiffusionSystem(_ rows: StencilRows, weights w: UnsafeBufferPointer<Double>, tau: Double) throws {
        guard w.count == n, rows.n == n, lower == rows.spread, upper == rows.spread else {
            throw PDEBlocksError.invalidArgument("weights have length \(w.count), expected n = \(n)")
        }
        try Check.positiveFinite(tau, "tau")
        for i in w.indices where !(w[i] >= 0 && w[i].isFinite) {
            if w[i].isNaN || w[i].isInfinite {
                throw PDEBlocksError.nonFinite("weights contain a non-finite value (\(w[i])) at index \(i)")
            }
            throw PDEBlocksError.invalidArgument("weights must be nonnegative, got \(w[i]) at index \(i)")
        }
        let kl = lower, width = self.width
        band.withUnsafeMutableBufferPointer { a in
            a.update(repeating: 0)
            rows.columns.withUnsafeBufferPointer { cols in
                rows.values.withUnsafeBufferPointer { vals in
                    for i in 0..<n {
                        let wi = w[i]
                        if wi == 0 { continue }
                        let lo = rows.rowStart[i], hi = rows.rowStart[i + 1]
                        for p in lo..<hi {
                            let a1 = cols[p]
                            let s = wi * vals[p]
                            // diagonal term, then each unordered pair once (exact symmetry)
                            a[a1 * width + kl] += s * vals[p]
                            for q in (p + 1)..<hi {
                                let b1 = cols[q]
                                let t = s * vals[q]
                                a[a1 * width + (b1 - a1) + kl] += t
                                a[b1 * width + (a1 - b1) + kl] += t
                            }
                        }
                    }
                }
            }
            for i in 0..<n {
                for d in -kl...kl { a[i * width + d + kl] *= tau }
                a[i * width + kl] += 1
            }
        }
    }
}

extension Stencil {
    /// `StencilRows(self, n: n).spread` without building the rows: the largest
    /// `max column − min column` over the rows of the n×n matrix of `K`.
    ///
    /// Row `i` reads the window of extended positions `a = i+o … a+q−1`, and its columns are
    /// `mirror(p)`, a triangle wave of period 2n that climbs `0…n−1` on `[0, n)` and falls back
    /// on `[n, 2n)`: it folds between positions `kn−1` and `kn` — at a peak (value n−1) for odd
    /// `k`, a trough (value 0) for even `k` — and changes by exactly 1 elsewhere. A window
    /// without a fold therefore spans `q−1` columns, and such a row exists iff `q ≤ n`; a
    /// window with folds spans `[0 or min(m(a), m(e)), n−1 or max(m(a), m(e))]`. Only rows
    /// whose window contains a fold are visited: O(q) of them (O(1) each), whatever `n` and `o`.
    func mirroredRowSpread(n: Int) -> Int {
        let q = count, o = offset
        guard q > 1, n > 1 else { return 0 }
        func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }
        func ceilDiv(_ a: Int, _ b: Int) -> Int { -floorDiv(-a, b) }
        func rowSpread(_ a: Int) -> Int {
            let e = a + q - 1
            let k0 = ceilDiv(a + 1, n), k1 = floorDiv(e, n)  // folds k·n ∈ [a+1, e]
            if k0 > k1 { return q - 1 }
            let peak = k1 > k0 || k0 & 1 == 1, trough = k1 > k0 || k0 & 1 == 0
            let (ma, me) = (Stencil.mirror(a, n), Stencil.mirror(e, n))
            return (peak ? n - 1 : max(ma, me)) - (trough ? 0 : min(ma, me))
        }
        var best = q <= n ? q - 1 : 0
        // rows i ∈ [0, n) whose window [i+o+1, i+o+q−1] contains the fold k·n
        let kMin = ceilDiv(o + 1, n), kMax = floorDiv(n - 1 + o + q - 1, n)
        var k = kMin
        while k <= kMax {
            let lo = max(0, k * n - o - q + 1), hi = min(n - 1, k * n - o - 1)
            var i = lo
            while i <= hi {
                best = max(best, rowSpread(i + o))
                i += 1
            }
            if best == n - 1 { break }
            k += 1
        }
        return best
    }
}
