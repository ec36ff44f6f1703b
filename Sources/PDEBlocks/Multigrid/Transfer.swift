/// How a multigrid hierarchy builds its transfer operators.
public enum TransferKind: Int32, Sendable, CaseIterable {
    /// Chosen from the matrix: the grid's linear transfer (`.vertex` for a `.vertex`
    /// grid, `.cell` for a `.cell` grid) when linear interpolation is right for it — the
    /// coefficients are smooth (every row's left and right couplings agree within a factor
    /// `TransferKind.smoothContrast`, `BandedMatrix.coefficientContrast`) and, for vertex
    /// grids, every coarsened level has an odd size so that all levels stay uniform
    /// (`n = 2^k − 1`) — and `.matrixDependent` otherwise: jumping coefficients, vertex
    /// grids that become non-uniform, or no grid information. Where linear interpolation is
    /// right, the operator-induced weights coincide with it.
    case automatic = 0
    /// Vertex-centred: coarse unknowns are the odd fine unknowns; linear interpolation,
    /// full weighting `R = ½Pᵀ` (stencil `[¼ ½ ¼]`). For Dirichlet problems.
    case vertex = 1
    /// Cell-centred: coarse cell `J` is fine cells `2J, 2J+1`; linear interpolation
    /// `¾, ¼` from the two nearest coarse cells (mirrored at the boundary, so constants
    /// are reproduced), `R = ½Pᵀ`. For mirrored (reflecting) boundaries.
    case cell = 2
    /// Vertex coarsening with operator-induced interpolation as in black-box multigrid
    /// (Dendy 1982): an F-unknown takes from its coarse neighbours the weights that make
    /// its own row of `A` hold exactly, `P = −(lumped a_{i,left}, a_{i,right})/a_ii`, so the
    /// interpolant follows coefficient jumps; `R = ½ Qᵀ` with `Q` built alike from `Aᵀ`.
    case matrixDependent = 3

    /// The snake_case name used by Python and C (`"auto"`, `"vertex"`, `"cell"`, `"matrix"`).
    public var name: String {
        switch self {
        case .automatic: "auto"
        case .vertex: "vertex"
        case .cell: "cell"
        case .matrixDependent: "matrix"
        }
    }

    /// The largest left/right coupling ratio for which `.automatic` still uses linear
    /// interpolation.
    public static let smoothContrast = 4.0
}

/// Which fine unknowns the coarse unknowns stand for.
public enum Coarsening: Sendable {
    /// Coarse unknown `J` is fine unknown `2J + 1` (the odd fine unknowns); `⌊n/2⌋` of them.
    case vertex
    /// Coarse cell `J` is the union of fine cells `2J` and `2J + 1`; `⌈n/2⌉` of them.
    case cell

    /// Number of coarse unknowns for `n` fine ones.
    public func coarseCount(_ n: Int) -> Int { self == .vertex ? n / 2 : (n + 1) / 2 }
}

/// The prolongation `P` (`n × n_c`) and restriction `R = s·Qᵀ` between one level and
/// the next coarser one.
///
/// Every row `i` of `P` (and of `Q`) has at most two entries, in the adjacent coarse
/// columns `lo(i) = ⌊(i − 2 + (i mod 2))/2⌋` and `lo(i) + 1`:
///
///     P[i][lo(i)] = p[2i],  P[i][lo(i)+1] = p[2i+1],
///
/// where a column outside `0 ..< n_c` has weight 0. (For vertex coarsening the odd
/// rows are the coarse unknowns themselves: `p = (1, 0)`.) Restriction is
/// `(R r)_J = s·Σ_i Q[i][J] r_i`; the scale `s = ½` makes `R A P` of the 1D Poisson
/// matrix the Poisson matrix of spacing `2h`, and cancels out of the coarse-grid
/// correction `P (R A P)⁻¹ R`.
public struct Transfer: Sendable, Equatable {
    /// Fine and coarse sizes.
    public let fine: Int
    public let coarse: Int
    public let coarsening: Coarsening
    /// The kind that built it (`.vertex`, `.cell` or `.matrixDependent`).
    public let kind: TransferKind
    /// Prolongation weights, two per fine row.
    var p: [Double]
    /// Restriction pattern weights, two per fine row (`R = scale·Qᵀ`).
    var q: [Double]
    /// The restriction scale `s`.
    public let scale: Double
    /// Interior pairs `J` (fine rows `2J, 2J+1`) whose weights all equal `uniformP`/`uniformQ`
    /// — the whole interior for linear interpolation — handled with register constants.
    var uniform: Range<Int> = 1..<1
    var uniformP = SIMD4<Double>(repeating: 0)
    var uniformQ = SIMD4<Double>(repeating: 0)

    /// The lower coarse column of fine row `i` (may be −1).
    static func lowColumn(_ i: Int) -> Int { (i - 2 + (i & 1)) >> 1 }

    init(fine: Int, coarsening: Coarsening, kind: TransferKind) throws {
        try Check.atLeast(fine, 2, "number of unknowns to coarsen")
        self.fine = fine
        self.coarse = coarsening.coarseCount(fine)
        self.coarsening = coarsening
        self.kind = kind
        try Memory.reserve(4 * fine, for: "the transfer operators of \(fine) unknowns")  // p, and q once written
        self.p = try Memory.zeros(2 * fine, for: "the transfer operators of \(fine) unknowns")
        self.q = p
        self.scale = 0.5
    }

    /// Vertex-centred linear interpolation and full weighting (Dirichlet boundaries).
    public static func vertexLinear(fine n: Int) throws -> Transfer {
        var t = try Transfer(fine: n, coarsening: .vertex, kind: .vertex)
        let nc = t.coarse
        t.p.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                if i & 1 == 1 {
                    p[2 * i] = 1
                } else {
                    let lo = lowColumn(i)
                    p[2 * i] = lo >= 0 ? 0.5 : 0
                    p[2 * i + 1] = lo + 1 < nc ? 0.5 : 0
                }
            }
        }
        t.q = t.p
        t.findUniformRun()
        return t
    }

    /// Cell-centred linear interpolation (mirrored boundaries) and `R = ½Pᵀ`.
    public static func cellLinear(fine n: Int) throws -> Transfer {
        var t = try Transfer(fine: n, coarsening: .cell, kind: .cell)
        let nc = t.coarse
        t.p.withUnsafeMutableBufferPointer { p in
            for i in 0..<n {
                let lo = lowColumn(i)
                // even rows lean on the right column (their own cell), odd rows on the left
                var (wLo, wHi) = i & 1 == 0 ? (0.25, 0.75) : (0.75, 0.25)
                if lo < 0 { (wLo, wHi) = (0, 1) }  // mirrored: e_{−1} = e_0
                if lo + 1 >= nc { (wLo, wHi) = (1, 0) }  // mirrored: e_{nc} = e_{nc−1}
                p[2 * i] = wLo
                p[2 * i + 1] = wHi
            }
        }
        t.q = t.p
        t.findUniformRun()
        return t
    }

    /// Finds the longest run of interior pairs with the weights of the middle pair.
    mutating func findUniformRun() {
        let pairs = coarse - 1  // pairs J = 1 ..< coarse−1 have both coarse neighbours
        guard pairs > 1 else {
            uniform = 1..<1
            return
        }
        let (lo, hi, pm, qm) = p.withUnsafeBufferPointer { p in
            q.withUnsafeBufferPointer { q in
                func weights(_ J: Int) -> (SIMD4<Double>, SIMD4<Double>) {
                    (SIMD4(p[4 * J], p[4 * J + 1], p[4 * J + 2], p[4 * J + 3]), SIMD4(q[4 * J], q[4 * J + 1], q[4 * J + 2], q[4 * J + 3]))
                }
                let mid = (1 + pairs) / 2
                let (pm, qm) = weights(mid)
                var lo = mid, hi = mid + 1
                while lo > 1 && weights(lo - 1) == (pm, qm) { lo -= 1 }
                while hi < pairs && weights(hi) == (pm, qm) { hi += 1 }
                return (lo, hi, pm, qm)
            }
        }
        uniform = lo..<hi
        uniformP = pm
        uniformQ = qm
    }

    // MARK: - Applying

    /// `x += P e` (`e` of length `coarse`, `x` of length `fine`).
    public func prolongAdd(_ e: UnsafeBufferPointer<Double>, into x: UnsafeMutableBufferPointer<Double>) {
        p.withUnsafeBufferPointer { pw in
            Transfer.prolongAdd(
                pw.baseAddress!, fine: fine, coarse: coarse, uniform: uniform, uniformP, e.baseAddress!, into: x.baseAddress!)
        }
    }

    static func prolongAdd(
        _ p: UnsafePointer<Double>, fine n: Int, coarse nc: Int, uniform: Range<Int>, _ w: SIMD4<Double>,
        _ e: UnsafePointer<Double>, into x: UnsafeMutablePointer<Double>
    ) {
        @inline(__always) func checked(_ i: Int) {
            let lo = Transfer.lowColumn(i)
            var s = 0.0
            if lo >= 0 { s += p[2 * i] * e[lo] }
            if lo + 1 < nc { s += p[2 * i + 1] * e[lo + 1] }
            x[i] += s
        }
        // rows 2J, 2J+1 for J = 1 ..< nc−1 read e[J−1 … J+1], all in range
        let pairs = max(1, nc - 1)
        for i in 0..<min(n, 2) { checked(i) }
        @inline(__always) func interior(_ range: Range<Int>) {
            for J in range {
                let i = 2 &* J
                let em = e[J &- 1], e0 = e[J], ep = e[J &+ 1]
                x[i] += (p[2 &* i] * em).plusProduct(p[2 &* i &+ 1], e0)
                x[i &+ 1] += (p[2 &* i &+ 2] * e0).plusProduct(p[2 &* i &+ 3], ep)
            }
        }
        if pairs > 1 {
            let lo = min(max(1, uniform.lowerBound), pairs), hi = max(lo, min(pairs, uniform.upperBound))
            interior(1..<lo)
            let (w0, w1, w2, w3) = (w[0], w[1], w[2], w[3])
            for J in lo..<hi {
                let i = 2 &* J
                let em = e[J &- 1], e0 = e[J], ep = e[J &+ 1]
                x[i] += (w0 * em).plusProduct(w1, e0)
                x[i &+ 1] += (w2 * e0).plusProduct(w3, ep)
            }
            interior(hi..<pairs)
        }
        for i in max(2, 2 * pairs)..<n { checked(i) }
    }

    /// `c = R r` (`r` of length `fine`, `c` of length `coarse`).
    public func restrict(_ r: UnsafeBufferPointer<Double>, into c: UnsafeMutableBufferPointer<Double>) {
        q.withUnsafeBufferPointer { qw in
            Transfer.restrict(
                qw.baseAddress!, scale: scale, fine: fine, coarse: coarse, uniform: uniform, uniformQ, r.baseAddress!,
                into: c.baseAddress!)
        }
    }

    static func restrict(
        _ q: UnsafePointer<Double>, scale s: Double, fine n: Int, coarse nc: Int, uniform: Range<Int>, _ w: SIMD4<Double>,
        _ r: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>
    ) {
        // (R r)_J = s·(Q[2J−1][J] r_{2J−1} + Q[2J][J] r_{2J} + Q[2J+1][J] r_{2J+1} + Q[2J+2][J] r_{2J+2}),
        // where rows 2J−1, 2J have J as their upper column and rows 2J+1, 2J+2 as their lower one.
        @inline(__always) func checked(_ J: Int) {
            var t = 0.0
            for i in (2 * J - 1)...(2 * J + 2) where i >= 0 && i < n {
                t += i <= 2 * J ? q[2 * i + 1] * r[i] : q[2 * i] * r[i]
            }
            c[J] = s * t
        }
        let last = (n - 3) / 2  // largest J with 2J + 2 ≤ n − 1
        if last < 1 {
            for J in 0..<nc { checked(J) }
            return
        }
        checked(0)
        @inline(__always) func interior(_ range: Range<Int>) {
            for J in range {
                let i = 2 &* J
                c[J] = s * ((q[2 &* i &- 1] * r[i &- 1]).plusProduct(q[2 &* i &+ 1], r[i])
                    + (q[2 &* i &+ 2] * r[i &+ 1]).plusProduct(q[2 &* i &+ 4], r[i &+ 2]))
            }
        }
        // J uses the weights of pairs J−1, J and J+1: constants need all three uniform
        let lo = min(max(1, uniform.lowerBound + 1), last + 1)
        let hi = max(lo, min(last + 1, uniform.upperBound - 1))
        interior(1..<lo)
        let (v0, v1, v2, v3) = (s * w[0], s * w[1], s * w[2], s * w[3])
        for J in lo..<hi {
            let i = 2 &* J
            c[J] = (v3 * r[i &- 1]).plusProduct(v1, r[i]) + (v2 * r[i &+ 1]).plusProduct(v0, r[i &+ 2])
        }
        interior(hi..<(last + 1))
        for J in (last + 1)..<nc { checked(J) }
    }

    // MARK: - Dense forms (for inspection and tests)

    /// The dense prolongation `P`, row-major `fine × coarse`.
    public func prolongationMatrix() -> [Double] { denseForm(p, scale: 1, transpose: false) }

    /// The dense restriction `R = s·Qᵀ`, row-major `coarse × fine`.
    public func restrictionMatrix() -> [Double] { denseForm(q, scale: scale, transpose: true) }

    private func denseForm(_ weights: [Double], scale: Double, transpose: Bool) -> [Double] {
        var m = [Double](repeating: 0, count: fine * coarse)
        for i in 0..<fine {
            let lo = Transfer.lowColumn(i)
            for (k, J) in [lo, lo + 1].enumerated() where J >= 0 && J < coarse {
                let v = scale * weights[2 * i + k]
                if transpose { m[J * fine + i] += v } else { m[i * coarse + J] += v }
            }
        }
        return m
    }

    /// The coarse columns row `i` of `P`/`Q` can use (pattern, independent of values):
    /// vertex coarsening gives coarse unknowns (odd rows) a single column.
    func pattern(_ i: Int) -> (lo: Int, useLo: Bool, useHi: Bool) {
        let lo = Transfer.lowColumn(i)
        if coarsening == .vertex && i & 1 == 1 { return (lo, true, false) }
        return (lo, lo >= 0, lo + 1 < coarse)
    }
}
