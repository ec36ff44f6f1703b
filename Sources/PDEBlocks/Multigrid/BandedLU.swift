/// A direct solver for banded systems `A x = b`: an LU factorisation kept in band
/// storage, O(n·kl·(kl+ku)) to factor and O(n·(kl+ku)) per solve.
///
/// **When pivoting is skipped, and why that is safe.** Gaussian elimination without
/// pivoting is backward stable (growth factor ≤ 2, no fill outside the band) when `A`
/// is
///  - symmetric positive definite: then LU = LDLᵀ = Cholesky in disguise; we try it
///    when `A` is symmetric (to 1e-12 relative) with a positive diagonal, and fall
///    back to pivoting as soon as a pivot is not positive (then `A` is not SPD); or
///  - diagonally dominant by rows or by columns (`|a_ii| ≥ Σ_{j≠i} |a_ij|`, Wilkinson).
/// Every other matrix gets partial (row) pivoting as in LAPACK's `gbtf2`, whose
/// upper factor has bandwidth `kl + ku`. The systems of this library — 1D Poisson and
/// `I + τ Kᵀ diag(w) K` — are SPD, so they never pivot.
///
/// The tridiagonal no-pivoting case (the Thomas algorithm) avoids a division on its
/// critical path: the pivots `d_i = p_i/p_{i−1}` are ratios of the leading principal
/// minors `p_i = a_ii p_{i−1} − a_{i,i−1} a_{i−1,i} p_{i−2}` (a three-term recurrence
/// of fused multiply–adds, rescaled by exact powers of two so it never overflows).
///
/// A matrix is declared singular when a pivot is at most `16·w·ε` times the size of its
/// original row (`w = kl+ku+1`): singular to working precision. A zero diagonal is
/// allowed (pivoting handles it).
public struct BandedLU: Sendable {
    /// How the factorisation was computed.
    public enum Strategy: String, Sendable {
        /// No pivoting: `A` is symmetric with positive pivots (SPD).
        case symmetricPositiveDefinite = "symmetric positive definite (no pivoting)"
        /// No pivoting: `A` is diagonally dominant by rows or columns.
        case diagonallyDominant = "diagonally dominant (no pivoting)"
        /// Partial row pivoting (LAPACK `gbtf2`).
        case partialPivoting = "partial pivoting"
    }

    public let n: Int
    public let lower: Int
    public let upper: Int
    public private(set) var strategy: Strategy
    /// Tridiagonal, no pivoting: per row `(l_i, 1/d_i, u_i/d_i)`. Band, no pivoting: the
    /// LU factors in `A`'s band layout (multipliers below the diagonal). Pivoting:
    /// rows of width `2kl + ku + 1` covering columns `i − kl … i + kl + ku`.
    private var factors: [Double]
    /// Reciprocal pivots (band cases).
    private var inverseDiagonal: [Double]
    /// Row interchanges (pivoting only): row `k` was swapped with `pivots[k]`.
    private var pivots: [Int]

    /// Factors `A`; throws `.invalidArgument` when `A` is singular to working precision.
    public init(_ A: BandedMatrix) throws {
        n = A.n
        lower = A.lower
        upper = A.upper
        strategy = .partialPivoting
        factors = []
        inverseDiagonal = []
        pivots = []
        try factor(A)
    }

    /// Re-factors a matrix of the same shape, reusing the storage (no allocation unless
    /// the strategy changes to pivoting).
    public mutating func factor(_ A: BandedMatrix) throws {
        guard A.n == n, A.lower == lower, A.upper == upper else {
            throw PDEBlocksError.invalidArgument(
                "matrix shape (n \(A.n), kl \(A.lower), ku \(A.upper)) differs from the factorised one (n \(n), kl \(lower), ku \(upper))")
        }
        // SPD first (no allocation, the common case), then diagonal dominance, then pivoting.
        // Any failure of a no-pivoting attempt (a pivot that is not positive for a symmetric
        // matrix, or a tiny pivot) moves on; pivoting decides about singularity.
        let symmetricPositive = A.isSymmetric(relativeTolerance: 1e-12) && Self.positiveDiagonal(A)
        if try symmetricPositive && factorWithoutPivoting(A, requirePositive: true) {
            strategy = .symmetricPositiveDefinite
            return
        }
        if try Self.isDiagonallyDominant(A) && factorWithoutPivoting(A, requirePositive: false) {
            strategy = symmetricPositive ? .symmetricPositiveDefinite : .diagonallyDominant
            return
        }
        try factorWithPivoting(A)
        strategy = .partialPivoting
    }

    /// `Σ_j |a_ij|` for row `i`: the scale a pivot of that row is compared with.
    private static func rowScale(_ a: UnsafeBufferPointer<Double>, _ i: Int, width w: Int) -> Double {
        var s = 0.0
        for k in 0..<w { s += abs(a[i * w + k]) }
        return s
    }

    // MARK: - Solving

    /// Right-hand sides whose largest entry lies outside `[2^-512, 2^512]` are solved scaled.
    static let safeMagnitude = 0x1p512

    /// `x = A⁻¹ b`. `x` may be the same memory as `b` (in place).
    ///
    /// Overflow-free wherever the solution is representable: the elimination's intermediate
    /// values can exceed `x` by a large factor (`Σ` of `n` entries for Poisson), so a right-hand
    /// side with entries beyond `2^±512` is solved as `2^e·A⁻¹(b·2^-e)` (an exact scaling,
    /// `2^e` the magnitude of its largest entry). Entries of a solution beyond double
    /// precision come out as ±∞ or NaN (`solveChecked` turns that into an error).
    public func solve(_ b: UnsafeBufferPointer<Double>, into x: UnsafeMutableBufferPointer<Double>) {
        guard n > 0, let bp = b.baseAddress, let xp = x.baseAddress else { return }
        let largest = ScaledNorm.largestMagnitude(UnsafeBufferPointer(start: bp, count: n))
        if largest.isFinite, largest > Self.safeMagnitude || (largest > 0 && largest < 1 / Self.safeMagnitude) {
            let e = Int(largest.exponent)
            let down = PowerOfTwo.scale(-e), up = PowerOfTwo.scale(e)
            for i in 0..<n { xp[i] = PowerOfTwo.times(bp[i], down) }
            solveInPlace(xp)
            for i in 0..<n { xp[i] = PowerOfTwo.times(xp[i], up) }
            return
        }
        if xp != UnsafeMutablePointer(mutating: bp) { xp.update(from: bp, count: n) }
        solveInPlace(xp)
    }

    /// `solve` into `x` (which may be `b`), throwing `.nonFinite` — with `x` unchanged —
    /// when the solution exceeds double precision (`A` nearly singular or `b` too large).
    public func solveChecked(_ b: UnsafeBufferPointer<Double>, into x: UnsafeMutableBufferPointer<Double>) throws {
        try SolverScratch.with(n) { tmp in
            let y = UnsafeMutableBufferPointer(start: tmp, count: n)
            solve(b, into: y)
            try Self.requireRepresentable(UnsafeBufferPointer(y), b)
            _ = x.update(fromContentsOf: y)
        }
    }

    /// `solveChecked` for `rows` right-hand sides stored row-major in `b` (`rows·n` values),
    /// all or nothing: `x` is written only when every solution is finite. `x` may be `b`.
    public func solveChecked(rows: Int, _ b: UnsafeBufferPointer<Double>, into x: UnsafeMutableBufferPointer<Double>) throws {
        guard rows > 0, n > 0 else { return }
        try SolverScratch.with(rows * n) { tmp in
            for r in 0..<rows {
                let br = UnsafeBufferPointer(rebasing: b[(r * n)..<((r + 1) * n)])
                let y = UnsafeMutableBufferPointer(start: tmp + r * n, count: n)
                solve(br, into: y)
                do { try Self.requireRepresentable(UnsafeBufferPointer(y), br) } catch let error as PDEBlocksError {
                    throw rows == 1 ? error : PDEBlocksError.nonFinite("row \(r): " + error.message)
                }
            }
            x.baseAddress!.update(from: tmp, count: rows * n)
        }
    }

    /// Throws `.nonFinite` unless the computed solution `x` of `A x = b` is finite.
    static func requireRepresentable(_ x: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) throws {
        guard VectorFiniteCheck.isAllFinite(x) else {
            let i = x.firstIndex { !$0.isFinite } ?? 0
            throw PDEBlocksError.nonFinite(
                "banded solve: the solution overflows double precision (x[\(i)] = \(x[i]); b's entries reach "
                    + "\(ScaledNorm.largestMagnitude(b)); |A⁻¹b| exceeds 1.8e308)")
        }
    }

    /// The triangular solves on `x` (holding `b`), in place.
    private func solveInPlace(_ xp: UnsafeMutablePointer<Double>) {
        factors.withUnsafeBufferPointer { f in
            guard let fp = f.baseAddress else { return }
            switch strategy {
            case .partialPivoting: solvePivoted(fp, xp)
            default:
                if lower == 1 && upper == 1 {
                    solveTridiagonal(fp, xp)
                } else {
                    inverseDiagonal.withUnsafeBufferPointer { solveBand(fp, $0.baseAddress!, xp) }
                }
            }
        }
    }

    /// `A⁻¹ b` for one vector; throws on a wrong length or a non-finite entry, or when the
    /// solution exceeds double precision.
    public func solve(_ b: [Double]) throws -> [Double] {
        guard b.count == n else { throw PDEBlocksError.invalidArgument("b has length \(b.count), expected n = \(n)") }
        try b.withUnsafeBufferPointer { try VectorFiniteCheck.require($0, "b") }
        var x = b
        try b.withUnsafeBufferPointer { bb in
            try x.withUnsafeMutableBufferPointer { xb in
                solve(bb, into: xb)
                try Self.requireRepresentable(UnsafeBufferPointer(xb), bb)
            }
        }
        return x
    }

    // MARK: - Safety tests

    static func positiveDiagonal(_ A: BandedMatrix) -> Bool {
        let w = A.width, kl = A.lower
        return A.band.withUnsafeBufferPointer { a in (0..<A.n).allSatisfy { a[$0 * w + kl] > 0 } }
    }

    /// Weak diagonal dominance by rows or by columns.
    static func isDiagonallyDominant(_ A: BandedMatrix) throws -> Bool {
        let w = A.width, kl = A.lower, n = A.n
        var columnOff = try Memory.zeros(n, for: "the column sums of a matrix of order \(n)")
        return A.band.withUnsafeBufferPointer { a in
            var rows = true
            for i in 0..<n {
                var off = 0.0
                for d in -kl...A.upper where d != 0 && i + d >= 0 && i + d < n {
                    let v = abs(a[i * w + d + kl])
                    off += v
                    columnOff[i + d] += v
                }
                if abs(a[i * w + kl]) < off { rows = false }
            }
            if rows { return true }
            return (0..<n).allSatisfy { abs(a[$0 * w + kl]) >= columnOff[$0] }
        }
    }

    static func tiny(_ scale: Double, width: Int) -> Double {
        16 * Double(width) * Double.ulpOfOne * scale
    }

    // MARK: - Factorisations

    /// LU without pivoting; returns false when a pivot is tiny, or not positive while
    /// `requirePositive` (then `A` is not SPD), so that the caller pivots instead.
    private mutating func factorWithoutPivoting(_ A: BandedMatrix, requirePositive: Bool) throws -> Bool {
        if lower == 1 && upper == 1 && n >= 2 {
            return try factorTridiagonal(A, requirePositive: requirePositive)
        }
        let w = A.width, kl = lower, ku = upper
        if factors.count == A.band.count {
            factors.withUnsafeMutableBufferPointer { _ = $0.update(fromContentsOf: A.band) }
        } else {
            try Memory.reserve(A.band.count, for: "the LU factors of a matrix of order \(n)")  // copied on write below
            factors = A.band
        }
        if inverseDiagonal.count != n { inverseDiagonal = try Memory.zeros(n, for: "the LU factors of a matrix of order \(n)") }
        var ok = true
        A.band.withUnsafeBufferPointer { a in
        factors.withUnsafeMutableBufferPointer { f in
            inverseDiagonal.withUnsafeMutableBufferPointer { inv in
                for k in 0..<n {
                    let pivot = f[k * w + kl]
                    if (requirePositive && !(pivot > 0)) || !(abs(pivot) > Self.tiny(Self.rowScale(a, k, width: w), width: w))
                        || !pivot.isFinite
                    {
                        ok = false
                        return
                    }
                    inv[k] = 1 / pivot
                    for i in (k + 1)..<min(k + kl + 1, n) {
                        // A[i][k] sits at offset k − i of row i
                        let m = f[i * w + (k - i) + kl] * inv[k]
                        f[i * w + (k - i) + kl] = m
                        if m == 0 { continue }
                        for j in (k + 1)..<min(k + ku + 1, n) {
                            f[i * w + (j - i) + kl] -= m * f[k * w + (j - k) + kl]
                        }
                    }
                }
            }
        }
        }
        return ok
    }

    /// Thomas algorithm through the minors recurrence (see the type's documentation).
    private mutating func factorTridiagonal(_ A: BandedMatrix, requirePositive: Bool) throws -> Bool {
        if factors.count != 3 * n { factors = try Memory.zeros(3 * n, for: "the LU factors of a matrix of order \(n)") }
        var ok = true
        A.band.withUnsafeBufferPointer { a in
            factors.withUnsafeMutableBufferPointer { f in
                let ap = a.baseAddress!, fp = f.baseAddress!
                // A pivot d is acceptable when |d| > tiny (and d > 0 if required); tested
                // on 1/d, which the loop computes anyway: |1/d| < 1/tiny.
                @inline(__always) func acceptable(_ inv: Double, _ row: Int) -> Bool {
                    (!requirePositive || inv > 0) && abs(inv) * Self.tiny(Self.rowScale(a, row, width: 3), width: 3) < 1
                }
                // p_{i-2}, p_{i-1}: leading principal minors in a common (power-of-two) scale
                var pPrev2 = 1.0
                var pPrev = ap[1]
                var invPrev = 1 / pPrev
                guard pPrev != 0, acceptable(invPrev, 0) else { ok = false; return }
                fp[0] = 0
                fp[1] = invPrev
                fp[2] = ap[2] * invPrev
                var good = true
                for i in 1..<n {
                    let c = ap[3 * i] * ap[3 * (i - 1) + 2]  // a_{i,i-1} a_{i-1,i}
                    let p = ap[3 * i + 1] * pPrev - c * pPrev2  // p_i (one fma on the chain)
                    let inv = pPrev / p  // 1/d_i, off the chain
                    fp[3 * i] = ap[3 * i] * invPrev  // l_i = a_{i,i-1}/d_{i-1}
                    fp[3 * i + 1] = inv
                    fp[3 * i + 2] = ap[3 * i + 2] * inv
                    good = good && acceptable(inv, i)
                    invPrev = inv
                    pPrev2 = pPrev
                    pPrev = p
                    guard p != 0, p.isFinite else { good = false; break }
                    let e = p.exponent
                    if e > 600 || e < -600 {  // rarely taken: exact rescaling of both minors
                        let s = Double(sign: .plus, exponent: -e, significand: 1)
                        pPrev *= s
                        pPrev2 *= s
                    }
                }
                ok = good
            }
        }
        return ok
    }

    /// Banded LU with partial pivoting (LAPACK `gbtf2` layout, rows of width 2kl+ku+1).
    private mutating func factorWithPivoting(_ A: BandedMatrix) throws {
        let kl = lower, ku = upper
        let W = 2 * kl + ku + 1
        let (count, overflow) = n.multipliedReportingOverflow(by: W)
        guard !overflow, count <= BandedMatrix.maxStorage else {
            throw PDEBlocksError.invalidArgument("pivoted band storage n·(2kl+ku+1) is too large")
        }
        factors = try Memory.zeros(count, for: "the pivoted LU factors of a matrix of order \(n)")
        inverseDiagonal = []
        pivots = try Memory.array(repeating: 0, count: n, for: "the pivots of a matrix of order \(n)")
        let w = A.width
        let scale = A.band.withUnsafeBufferPointer { a in (0..<n).reduce(0.0) { Swift.max($0, Self.rowScale(a, $1, width: w)) } }
        var singularColumn = -1
        factors.withUnsafeMutableBufferPointer { f in
            for i in 0..<n {
                for d in -kl...ku where i + d >= 0 && i + d < n { f[i * W + d + kl] = A.band[i * w + d + kl] }
            }
            @inline(__always) func slot(_ i: Int, _ j: Int) -> Int { i * W + (j - i) + kl }
            for k in 0..<n {
                let last = min(k + kl, n - 1)
                var p = k
                var best = abs(f[slot(k, k)])
                if last > k {
                    for i in (k + 1)...last where abs(f[slot(i, k)]) > best {
                        best = abs(f[slot(i, k)])
                        p = i
                    }
                }
                pivots[k] = p
                if !(best > Self.tiny(scale, width: w)) { singularColumn = k; return }
                let right = min(k + kl + ku, n - 1)
                if p != k {
                    for j in k...right { f.swapAt(slot(k, j), slot(p, j)) }
                }
                let inv = 1 / f[slot(k, k)]
                if last > k {
                    for i in (k + 1)...last {
                        let m = f[slot(i, k)] * inv
                        f[slot(i, k)] = m
                        if m == 0 || right <= k { continue }
                        for j in (k + 1)...right { f[slot(i, j)] -= m * f[slot(k, j)] }
                    }
                }
            }
        }
        if singularColumn >= 0 { throw Self.singular(singularColumn) }
    }

    private static func singular(_ row: Int) -> PDEBlocksError {
        .invalidArgument("the matrix is singular to working precision (zero pivot at row \(row))")
    }

    // MARK: - Triangular solves (x holds b on entry)

    private func solveTridiagonal(_ f: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
        var y = x[0]
        for i in 1..<n {
            y = x[i] - f[3 * i] * y
            x[i] = y
        }
        var xi = x[n - 1] * f[3 * (n - 1) + 1]
        x[n - 1] = xi
        var i = n - 2
        while i >= 0 {
            xi = x[i] * f[3 * i + 1] - f[3 * i + 2] * xi
            x[i] = xi
            i -= 1
        }
    }

    private func solveBand(_ f: UnsafePointer<Double>, _ inv: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
        let kl = lower, ku = upper, w = kl + ku + 1
        for i in 0..<n {
            var s = x[i]
            for k in max(0, i - kl)..<i { s -= f[i * w + (k - i) + kl] * x[k] }
            x[i] = s
        }
        var i = n - 1
        while i >= 0 {
            var s = x[i]
            for j in (i + 1)..<min(i + ku + 1, n) { s -= f[i * w + (j - i) + kl] * x[j] }
            x[i] = s * inv[i]
            i -= 1
        }
    }

    private func solvePivoted(_ f: UnsafePointer<Double>, _ x: UnsafeMutablePointer<Double>) {
        let kl = lower, ku = upper, W = 2 * kl + ku + 1
        for k in 0..<n {
            let p = pivots[k]
            if p != k { swap(&x[k], &x[p]) }
            let xk = x[k]
            for i in (k + 1)..<min(k + kl + 1, n) { x[i] -= f[i * W + (k - i) + kl] * xk }
        }
        var i = n - 1
        while i >= 0 {
            var s = x[i]
            for j in (i + 1)..<min(i + kl + ku + 1, n) { s -= f[i * W + (j - i) + kl] * x[j] }
            x[i] = s / f[i * W + kl]
            i -= 1
        }
    }
}

extension BandedMatrix {
    /// Solves `A x = b` directly: the two-pass tridiagonal path when it is safe, otherwise
    /// factor (`BandedLU`) and solve.
    public func solve(_ b: [Double]) throws -> [Double] {
        try requireVector(b, "b")
        var x = try Memory.zeros(n, for: "the solution of a banded system")
        _ = try band.withUnsafeBufferPointer { a in
            try b.withUnsafeBufferPointer { bb in
                try x.withUnsafeMutableBufferPointer { xb in
                    try BandedLU.solve(band: a, n: n, lower: lower, upper: upper, bb.baseAddress!, into: xb.baseAddress!)
                }
            }
        }
        return x
    }
}

extension BandedLU {
    /// Solves `A x = b` for one right-hand side, given `A`'s band storage (whose shape and
    /// zero outside slots the caller has checked; finiteness is checked here, as is `b`'s).
    /// Tridiagonal systems that are safe without pivoting take the two-pass path; all others
    /// are factorised. `x` may be `b`. Nothing is written to `x` when this throws.
    @discardableResult
    package static func solve(
        band: UnsafeBufferPointer<Double>, n: Int, lower: Int, upper: Int, _ b: UnsafePointer<Double>,
        into x: UnsafeMutablePointer<Double>
    ) throws -> Strategy {
        if lower == 1 && upper == 1 && n >= 2 {
            let done = try SolverScratch.with(2 * n) { work in
                solveTridiagonalOnce(a: band.baseAddress!, n: n, b: b, x: x, work: work)
            }
            if let done { return done }
        }
        let A = try BandedMatrix(n: n, lower: lower, upper: upper, band: band)
        try VectorFiniteCheck.require(UnsafeBufferPointer(start: b, count: n), "b")
        let lu = try BandedLU(A)
        try lu.solveChecked(UnsafeBufferPointer(start: b, count: n), into: UnsafeMutableBufferPointer(start: x, count: n))
        return lu.strategy
    }
}

extension BandedLU {
    /// Solves a symmetric positive definite tridiagonal `A x = b` (row-major band `a`, 3 per
    /// row, `n ≥ 2`) in two passes without keeping the factors: a forward pass that factors
    /// (minors recurrence), eliminates, and checks — in the same pass — that `A` is
    /// symmetric (1e-12 relative) with positive pivots (so no pivoting is needed), that no
    /// pivot is tiny and that every input is finite; then, only if all holds, a backward
    /// pass writing `x`. `work` holds `2n` values; the band's slots outside the matrix must
    /// be 0. Returns the strategy used, or nil when the checks fail (nothing written to `x`;
    /// the caller decides: pivoting or an error). `x` may be `b`.
    static func solveTridiagonalOnce(
        a: UnsafePointer<Double>, n: Int, b: UnsafePointer<Double>, x: UnsafeMutablePointer<Double>,
        work: UnsafeMutablePointer<Double>
    ) -> Strategy? {
        // Branch-free accumulators, decided after the pass:
        //   asymmetry = max |a_{i,i−1} − a_{i−1,i}| against scale = max |a_{i,i−1}|
        //   minInverse, maxInverse = min, max 1/d_i: every pivot positive, and none tiny
        //     against the largest row (maxDiagonal + 2·scale)
        //   check = Σ (z_i + g_i): finite iff every input and result is (NaN and ∞ propagate
        //     into z or g; an overflowing sum of finite values only sends us to the general path)
        @inline(__always) func larger(_ u: Double, _ v: Double) -> Double { u > v ? u : v }
        @inline(__always) func smaller(_ u: Double, _ v: Double) -> Double { u < v ? u : v }
        var pPrev2 = 1.0, pPrev = a[1]
        var invPrev = 1 / pPrev
        var y = b[0]
        work[0] = y * invPrev
        work[1] = a[2] * invPrev
        var check = work[0] + work[1]
        var asymmetry = 0.0, scale = 0.0
        var minInverse = invPrev, maxInverse = invPrev, maxDiagonal = a[1]
        for i in 1..<n {
            // (the slot a[3(n−1)+2] lies outside the matrix and holds 0)
            let al = a[3 &* i], ad = a[3 &* i &+ 1], au = a[3 &* i &+ 2]
            let up = a[3 &* i &- 1]  // a_{i−1,i}, just before a_{i,i−1} in memory
            let p = (-(al * up) * pPrev2).plusProduct(ad, pPrev)  // one fma on the chain
            let inv = pPrev / p
            y = b[i].plusProduct(-(al * invPrev), y)
            let z = y * inv, g = au * inv
            work[2 &* i] = z
            work[2 &* i &+ 1] = g
            check += z + g
            asymmetry = larger(asymmetry, abs(al - up))
            scale = larger(scale, abs(al))
            minInverse = smaller(minInverse, inv)
            maxInverse = larger(maxInverse, inv)
            maxDiagonal = larger(maxDiagonal, ad)
            invPrev = inv
            pPrev2 = pPrev
            pPrev = p
            let m = abs(p)
            if !(m < 0x1p600 && m > 0x1p-600) {  // rarely taken: exact rescaling of both minors
                guard p != 0, p.isFinite else { return nil }
                let e = p.exponent
                let factor = Double(sign: .plus, exponent: -e, significand: 1)
                pPrev *= factor
                pPrev2 *= factor
            }
        }
        // symmetric positive definite is the only case taken here; others are factorised
        guard check.isFinite, minInverse > 0, maxInverse * tiny(maxDiagonal + 2 * scale, width: 3) < 1,
              asymmetry <= 1e-12 * scale
        else { return nil }
        var next = work[2 * (n - 1)]
        x[n - 1] = next
        var i = n - 2
        while i >= 0 {
            next = work[2 &* i].plusProduct(-work[2 &* i &+ 1], next)
            x[i] = next
            i &-= 1
        }
        return .symmetricPositiveDefinite
    }
}
