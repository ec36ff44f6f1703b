/// The grid a banded matrix lives on, which decides the transfer operators a
/// multigrid hierarchy uses by default (see `TransferKind.automatic`).
public enum GridKind: Int32, Sendable, CaseIterable {
    /// No grid information: the hierarchy uses matrix-dependent interpolation.
    case unknown = 0
    /// Vertex-centred unknowns with Dirichlet boundaries (the `n` interior points of
    /// `n + 2` grid points, e.g. `poisson1D`): linear interpolation / full weighting.
    case vertex = 1
    /// Cell-centred unknowns with mirrored (reflecting) boundaries, e.g. `diffusionSystem`:
    /// cell-centred linear interpolation.
    case cell = 2

    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .vertex: "vertex"
        case .cell: "cell"
        }
    }
}

/// A square `n×n` matrix with lower bandwidth `kl` and upper bandwidth `ku`:
/// `A[i][j] = 0` unless `−kl ≤ j − i ≤ ku`.
///
/// Storage is row-major band storage of width `w = kl + ku + 1`:
///
///     band[i·w + (j − i + kl)] = A[i][j],
///
/// so row `i` is the contiguous slice `band[i·w ..< (i+1)·w]` (the layout the
/// smoothers sweep through). Slots that fall outside the matrix (`j < 0` or `j ≥ n`,
/// in the first `kl` and last `ku` rows) hold 0 — every initialiser checks or ensures it,
/// so kernels may read them. Every stored value is finite.
public struct BandedMatrix: Sendable, Equatable {
    /// The order `n ≥ 1`.
    public let n: Int
    /// The lower bandwidth `kl ≥ 0` (number of subdiagonals).
    public let lower: Int
    /// The upper bandwidth `ku ≥ 0` (number of superdiagonals).
    public let upper: Int
    /// Row-major band storage (see the type's documentation).
    public internal(set) var band: [Double]
    /// The grid the unknowns live on (only a hint for multigrid transfer operators).
    public var grid: GridKind

    /// The band width `kl + ku + 1`.
    @inlinable public var width: Int { lower + upper + 1 }

    /// The largest `n·(kl+ku+1)` accepted (2^36 values = 512 GiB).
    public static let maxStorage = 1 << 36

    /// Validates `(n, kl, ku)` and returns `n·(kl+ku+1)`, checking for overflow.
    public static func storageCount(n: Int, lower: Int, upper: Int) throws -> Int {
        try Check.positive(n, "matrix order n")
        guard lower >= 0, upper >= 0 else {
            throw PDEBlocksError.invalidArgument("bandwidths must be nonnegative, got lower = \(lower), upper = \(upper)")
        }
        guard lower < n, upper < n else {
            throw PDEBlocksError.invalidArgument(
                "bandwidths must be below n = \(n), got lower = \(lower), upper = \(upper)")
        }
        let (w, o1) = lower.addingReportingOverflow(upper + 1)
        let (count, o2) = n.multipliedReportingOverflow(by: w)
        guard !o1, !o2, count <= maxStorage else {
            throw PDEBlocksError.invalidArgument("band storage n·(kl+ku+1) = \(n)·(\(lower)+\(upper)+1) is too large")
        }
        return count
    }

    /// A matrix from row-major band storage (see the type's documentation). Slots
    /// outside the matrix must hold 0; all values must be finite.
    public init(n: Int, lower: Int, upper: Int, band: some Collection<Double>, grid: GridKind = .unknown) throws {
        let count = try Self.storageCount(n: n, lower: lower, upper: upper)
        guard band.count == count else {
            throw PDEBlocksError.invalidArgument(
                "band storage holds \(band.count) values, expected n·(kl+ku+1) = \(count)")
        }
        try Memory.reserve(count, for: "a banded matrix of order \(n)")
        let storage = Array(band)
        try storage.withUnsafeBufferPointer { try Self.validate($0, n: n, lower: lower, upper: upper) }
        self.n = n
        self.lower = lower
        self.upper = upper
        self.band = storage
        self.grid = grid
    }

    /// Validates band storage in place: the `O((kl+ku)²)` slots outside the matrix are 0 and
    /// every value is finite (one vectorised pass). Shape already checked.
    package static func validate(_ band: UnsafeBufferPointer<Double>, n: Int, lower kl: Int, upper ku: Int) throws {
        try validateOutsideSlots(band, n: n, lower: kl, upper: ku)
        let w = kl + ku + 1
        if !VectorFiniteCheck.isAllFinite(band) {
            for i in 0..<n {
                for k in 0..<w where !band[i * w + k].isFinite {
                    throw PDEBlocksError.nonFinite("matrix entry A[\(i)][\(i + k - kl)] is not finite (\(band[i * w + k]))")
                }
            }
        }
    }

    /// Throws unless the slots outside the matrix hold 0.
    package static func validateOutsideSlots(_ band: UnsafeBufferPointer<Double>, n: Int, lower kl: Int, upper ku: Int) throws {
        let w = kl + ku + 1
        for i in 0..<min(kl, n) {
            for d in -kl..<(-i) where band[i * w + d + kl] != 0 {
                throw PDEBlocksError.invalidArgument(
                    "band slot (row \(i), offset \(d)) lies outside the matrix and must be 0, got \(band[i * w + d + kl])")
            }
        }
        for i in max(0, n - ku)..<n {
            for d in (n - i)...ku where band[i * w + d + kl] != 0 {
                throw PDEBlocksError.invalidArgument(
                    "band slot (row \(i), offset \(d)) lies outside the matrix and must be 0, got \(band[i * w + d + kl])")
            }
        }
    }

    /// The zero matrix with the given shape (storage allocated once; fill it in place).
    init(zeros n: Int, lower: Int, upper: Int, grid: GridKind = .unknown) throws {
        let count = try Self.storageCount(n: n, lower: lower, upper: upper)
        self.n = n
        self.lower = lower
        self.upper = upper
        self.band = try Memory.zeros(count, for: "a banded matrix of order \(n)")
        self.grid = grid
    }

    /// A matrix from its diagonals, in the convention of `scipy.sparse.diags`:
    /// `diagonals[k]` is the diagonal with offset `offsets[k]` (0 = main, > 0 above,
    /// < 0 below), of length `n − |offsets[k]|`, holding `A[m][m + d]` for `d ≥ 0` and
    /// `A[m − d][m]` for `d < 0`. Offsets must be distinct; `n` is inferred.
    public init(offsets: [Int], diagonals: [[Double]], grid: GridKind = .unknown) throws {
        guard !offsets.isEmpty else { throw PDEBlocksError.invalidArgument("no diagonals given") }
        guard offsets.count == diagonals.count else {
            throw PDEBlocksError.invalidArgument(
                "\(offsets.count) offsets but \(diagonals.count) diagonals")
        }
        guard Set(offsets).count == offsets.count else {
            throw PDEBlocksError.invalidArgument("offsets must be distinct, got \(offsets)")
        }
        for d in offsets where d.magnitude > UInt(Self.maxStorage) {
            throw PDEBlocksError.invalidArgument("offset \(d) is out of range")
        }
        let n = diagonals[0].count + abs(offsets[0])
        for (d, diag) in zip(offsets, diagonals) where diag.count + abs(d) != n {
            throw PDEBlocksError.invalidArgument(
                "diagonal with offset \(d) has length \(diag.count), expected n − |offset| = \(n - abs(d)) (n = \(n))")
        }
        let lower = max(0, -(offsets.min() ?? 0))
        let upper = max(0, offsets.max() ?? 0)
        try self.init(zeros: n, lower: lower, upper: upper, grid: grid)
        let w = width
        for (d, diag) in zip(offsets, diagonals) {
            for (m, value) in diag.enumerated() {
                guard value.isFinite else {
                    throw PDEBlocksError.nonFinite("diagonal \(d) holds a non-finite value (\(value)) at index \(m)")
                }
                let i = d >= 0 ? m : m - d
                band[i * w + d + lower] = value
            }
        }
    }

    /// `A[i][j]` (0 outside the band). Requires `0 ≤ i, j < n`.
    @inlinable
    public subscript(i: Int, j: Int) -> Double {
        let d = j - i
        guard d >= -lower, d <= upper else { return 0 }
        return band[i * width + d + lower]
    }

    /// The diagonal with offset `d` (`A[m][m+d]` or `A[m−d][m]`), length `n − |d|`.
    public func diagonal(_ d: Int) -> [Double] {
        guard d >= -lower, d <= upper else { return [Double](repeating: 0, count: max(0, n - abs(d))) }
        let w = width
        return (0..<(n - abs(d))).map { m in band[(d >= 0 ? m : m - d) * w + d + lower] }
    }

    /// The dense matrix, row-major `n·n` (for inspection and tests; `n ≤ 2^15`).
    public func dense() throws -> [Double] {
        guard n <= 1 << 15 else { throw PDEBlocksError.invalidArgument("dense matrix of order \(n) is too large") }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for d in -lower...upper where i + d >= 0 && i + d < n { m[i * n + i + d] = band[i * width + d + lower] }
        }
        return m
    }

    /// `Aᵀ` (bandwidths swapped).
    public func transposed() -> BandedMatrix {
        var t = try! BandedMatrix(zeros: n, lower: upper, upper: lower, grid: grid)  // shape already validated
        let w = width
        for i in 0..<n {
            for d in -lower...upper where i + d >= 0 && i + d < n {
                // A[i][i+d] = Aᵀ[i+d][i]: row i+d, offset −d of the transpose
                t.band[(i + d) * w + (-d) + upper] = band[i * w + d + lower]
            }
        }
        return t
    }

    /// Whether `|A[i][j] − A[j][i]| ≤ tolerance·max|A|` for all `i, j`.
    public func isSymmetric(relativeTolerance tolerance: Double = 0) -> Bool {
        if lower == 1 && upper == 1 {
            // A[i][i−1] = band[3i] and A[i−1][i] = band[3i−1] are neighbours in memory
            return band.withUnsafeBufferPointer { a in
                let p = a.baseAddress!
                // max |a_ij| in eight lanes
                var lanes = SIMD8<Double>(repeating: 0)
                var k = 0
                while k + 8 <= a.count {
                    let v = UnsafeRawPointer(p + k).loadUnaligned(as: SIMD8<Double>.self)
                    // (`LaneSelect`: compare and blend; `pointwiseMax` is a call)
                    let magnitude = LaneSelect.below(v, 0, -v, else: v)
                    lanes = LaneSelect.max(magnitude, lanes)
                    k += 8
                }
                var scale = lanes.max()
                while k < a.count {
                    scale = Swift.max(scale, abs(p[k]))
                    k += 1
                }
                // max |A[i][i−1] − A[i−1][i]| (band slots 3i and 3i−1), two independent chains
                var d0 = 0.0, d1 = 0.0
                var i = 1
                while i + 1 < n {
                    d0 = Swift.max(d0, abs(p[3 &* i] - p[3 &* i &- 1]))
                    d1 = Swift.max(d1, abs(p[3 &* i &+ 3] - p[3 &* i &+ 2]))
                    i += 2
                }
                if i < n { d0 = Swift.max(d0, abs(p[3 &* i] - p[3 &* i &- 1])) }
                return Swift.max(d0, d1) <= tolerance * scale
            }
        }
        return band.withUnsafeBufferPointer { a in
            var scale = 0.0
            for v in a { scale = max(scale, abs(v)) }
            let reach = min(lower, upper)
            let w = width, kl = lower
            // entries beyond min(kl, ku) on the wider side must vanish
            for i in 0..<n {
                for d in -kl...upper where abs(d) > reach && i + d >= 0 && i + d < n && abs(a[i * w + d + kl]) > tolerance * scale {
                    return false
                }
            }
            guard reach > 0 else { return true }
            for i in 0..<n {
                for d in 1...reach where i + d < n {
                    // A[i][i+d] vs A[i+d][i]
                    if abs(a[i * w + d + kl] - a[(i + d) * w - d + kl]) > tolerance * scale { return false }
                }
            }
            return true
        }
    }

    /// Throws unless every diagonal entry is nonzero (smoothers divide by them).
    func requireNonzeroDiagonal(_ what: @autoclosure () -> String = "A") throws {
        let w = width, kl = lower
        let bad: Int? = band.withUnsafeBufferPointer { a in
            for i in 0..<n where a[i * w + kl] == 0 { return i }
            return nil
        }
        if let i = bad {
            throw PDEBlocksError.invalidArgument(
                "\(what())[\(i)][\(i)] = 0: the smoothers need a nonzero diagonal (the matrix may be singular)")
        }
    }

    // MARK: - Products

    /// `out = A x`. `x` and `out` have length `n` and must not overlap.
    @inlinable
    public func multiply(_ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        band.withUnsafeBufferPointer { a in
            BandKernels.multiply(a, n: n, lower: lower, upper: upper, x, into: out)
        }
    }

    /// `r = b − A x`; returns `‖r‖₂²`. `r` must not overlap `x` (it may alias `b`).
    @inlinable @discardableResult
    public func residual(
        _ x: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>, into r: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        band.withUnsafeBufferPointer { a in
            BandKernels.residual(a, n: n, lower: lower, upper: upper, x, b, into: r)
        }
    }

    /// `A x` for one vector; throws on a length mismatch or a non-finite entry.
    public func multiply(_ x: [Double]) throws -> [Double] {
        try requireVector(x, "x")
        var out = try Memory.zeros(n, for: "the product A x")
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { multiply(xb, into: $0) } }
        return out
    }

    /// Throws unless `v` has length `n` and finite entries.
    func requireVector(_ v: [Double], _ name: String) throws {
        guard v.count == n else {
            throw PDEBlocksError.invalidArgument("\(name) has length \(v.count), expected n = \(n)")
        }
        try v.withUnsafeBufferPointer { try VectorFiniteCheck.require($0, name) }
    }

    /// Throws unless `v` has length `n` and finite entries.
    func requireVector(_ v: UnsafeBufferPointer<Double>, _ name: String) throws {
        guard v.count == n else {
            throw PDEBlocksError.invalidArgument("\(name) has length \(v.count), expected n = \(n)")
        }
        try VectorFiniteCheck.require(v, name)
    }
}
