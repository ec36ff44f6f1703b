/// One level of a 2D hierarchy: its operator, the smoother's data and the transfer to the
/// next coarser level (nil on the coarsest).
struct MultigridLevel2D: Sendable {
    let A: StencilField2D
    let inverseDiagonal: [Double]
    let omega: Double
    let transfer: Transfer2D?
    /// The line factorisations (`.alternatingLine` only).
    let lines: LineSmoother2D?
    /// `A` is exactly (bitwise) symmetric: the kernels then read only the couplings to the
    /// west and the row above (Galerkin levels always; `A` itself when assembled so, as
    /// `poisson2D` and `diffusionSystem` are).
    var exactlySymmetric = false
}

/// The coarsest level's direct solver: banded LU of `A` in the ordering with the smaller
/// bandwidth (row-major when `W ≤ H`, bandwidth `W + 1`; else column-major).
struct CoarseSolver2D: Sendable {
    let lu: BandedLU
    let height: Int, width: Int
    let columnMajor: Bool

    /// The largest `n·(bandwidth + 1)` factorised (the coarsest level must be small).
    static let maxStorage = 1 << 24

    init(_ A: StencilField2D) throws {
        height = A.height
        width = A.width
        columnMajor = A.width > A.height
        let n = A.count
        let k = min((columnMajor ? A.height : A.width) + 1, n - 1)
        guard n <= Self.maxStorage / (2 * k + 1) else {
            throw PDEBlocksError.invalidArgument(
                "the coarsest level (\(A.height)×\(A.width)) is too large for the direct solver; lower `coarsest`")
        }
        var band = try Memory.zeros(n * (2 * k + 1), for: "the coarsest matrix")
        for d in StencilField2D.Direction.allCases {
            let (dy, dx) = d.step
            for i in 0..<height {
                for j in 0..<width {
                    let (y, x) = (i + dy, j + dx)
                    guard y >= 0, y < height, x >= 0, x < width else { continue }
                    let v = A.coefficients[d.rawValue * n + i * width + j]
                    let (r, c) = columnMajor ? (j * height + i, x * height + y) : (i * width + j, y * width + x)
                    band[r * (2 * k + 1) + c - r + k] += v
                }
            }
        }
        let matrix = try BandedMatrix(n: n, lower: k, upper: k, band: band)
        do {
            lu = try BandedLU(matrix)
        } catch PDEBlocksError.outOfMemory(let m) {
            throw PDEBlocksError.outOfMemory(m)
        } catch {
            throw PDEBlocksError.invalidArgument(
                "the coarsest matrix (\(height)×\(width)) is singular to working precision: A is singular or nearly so "
                    + "(e.g. a pure Neumann problem without an identity term)")
        }
    }

    /// `x = A⁻¹ b`; `scratch` holds `2n` values (used for column-major orderings).
    func solve(_ b: UnsafePointer<Double>, into x: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        let n = height * width
        if !columnMajor {
            lu.solve(UnsafeBufferPointer(start: b, count: n), into: UnsafeMutableBufferPointer(start: x, count: n))
            return
        }
        let (s, t) = (scratch, scratch + n)
        for i in 0..<height { for j in 0..<width { s[j * height + i] = b[i * width + j] } }
        lu.solve(UnsafeBufferPointer(start: s, count: n), into: UnsafeMutableBufferPointer(start: t, count: n))
        for i in 0..<height { for j in 0..<width { x[i * width + j] = t[j * height + i] } }
    }
}

/// The levels of a 2D multigrid solver, built once: transfers (bilinear or
/// matrix-dependent), Galerkin operators `A_{l+1} = R_l A_l P_l` (9-point), the inverse
/// diagonals and Jacobi weights, and the coarsest LU. Coarsening halves both sides
/// (`⌊H/2⌋ × ⌊W/2⌋`) until a level has at most `coarsest` unknowns, a side below 2, or
/// `maxLevels` levels.
struct MultigridHierarchy2D: Sendable {
    let options: MultigridOptions
    let transferKind: TransferKind
    let levels: [MultigridLevel2D]
    let coarse: CoarseSolver2D

    init(_ A: StencilField2D, options: MultigridOptions) throws {
        try options.validate()
        guard A.count > options.coarsest else {
            throw PDEBlocksError.invalidArgument(
                "the operator has \(A.count) unknowns, not more than coarsest = \(options.coarsest): nothing to coarsen")
        }
        guard Transfer2D.canCoarsen(height: A.height, width: A.width) else {
            throw PDEBlocksError.invalidArgument("a \(A.height)×\(A.width) image cannot be coarsened (both sides must be ≥ 2)")
        }
        let exactlySymmetric = A.isSymmetric(relativeTolerance: 0)
        guard exactlySymmetric || A.isSymmetric(relativeTolerance: 1e-10) else {
            throw PDEBlocksError.invalidArgument("2D multigrid needs a symmetric operator (Galerkin R = ¼Pᵀ); A is not symmetric")
        }
        self.options = options
        transferKind = options.transfer == .automatic ? .matrixDependent : options.transfer
        var levels: [MultigridLevel2D] = []
        var current = A
        while true {
            try Self.requirePositiveDiagonal(current, level: levels.count)
            let last = current.count <= options.coarsest
                || !Transfer2D.canCoarsen(height: current.height, width: current.width)
                || levels.count + 1 == (options.maxLevels ?? Int.max)
            let t: Transfer2D? = last ? nil : try Self.makeTransfer(transferKind, current)
            // Galerkin operators are exactly symmetric by construction
            levels.append(try Self.level(current, options, transfer: t, exactlySymmetric: levels.isEmpty ? exactlySymmetric : true))
            guard let t else { break }
            current = try t.galerkin(current)
        }
        self.levels = levels
        coarse = try CoarseSolver2D(current)
    }

    static func requirePositiveDiagonal(_ A: StencilField2D, level: Int) throws {
        let n = A.count
        for p in 0..<n where !(A.coefficients[4 * n + p] > 0) {
            throw PDEBlocksError.invalidArgument(
                "the diagonal of \(level == 0 ? "A" : "the level-\(level) Galerkin operator") is not positive at pixel "
                    + "(\(p / A.width), \(p % A.width)): \(A.coefficients[4 * n + p]) (A must be symmetric positive definite)")
        }
    }

    static func makeTransfer(_ kind: TransferKind, _ A: StencilField2D) throws -> Transfer2D {
        switch kind {
        case .vertex: try .bilinear(fineHeight: A.height, fineWidth: A.width, mirrored: false)
        case .cell: try .bilinear(fineHeight: A.height, fineWidth: A.width, mirrored: true)
        case .matrixDependent, .automatic: try .matrixDependent(A)
        }
    }

    static func level(
        _ A: StencilField2D, _ options: MultigridOptions, transfer: Transfer2D?, exactlySymmetric: Bool
    ) throws -> MultigridLevel2D {
        let n = A.count
        var inverse = try Memory.zeros(n, for: "the inverse diagonal")
        var rho = 0.0
        for p in 0..<n {
            let d = A.coefficients[4 * n + p]
            inverse[p] = 1 / d
            var s = 0.0
            for k in 0..<9 { s += abs(A.coefficients[k * n + p]) }
            rho = max(rho, s / d)
        }
        let omega = options.smoother != .jacobi ? 1 : options.omega ?? 4 / (3 * rho)
        let lines = options.smoother == .alternatingLine ? try LineSmoother2D(A) : nil
        var level = MultigridLevel2D(A: A, inverseDiagonal: inverse, omega: omega, transfer: transfer,
                                     lines: lines)
        level.exactlySymmetric = exactlySymmetric
        return level
    }

    /// `(height, width)` per level, finest first.
    var shapes: [(height: Int, width: Int)] { levels.map { ($0.A.height, $0.A.width) } }
}

/// Per-call vectors of every level (`x`, `b`, `r`) and the coarse solver's scratch:
/// allocated once, reused by every cycle. Level 0 has no `x` and `b` of its own (the
/// caller's vectors are used): those are one value each, so no page of them is touched.
final class MultigridWorkspace2D: @unchecked Sendable {
    let x: [UnsafeMutablePointer<Double>]
    let b: [UnsafeMutablePointer<Double>]
    let r: [UnsafeMutablePointer<Double>]
    let scratch: UnsafeMutablePointer<Double>
    private let sizes: [Int]

    init(sizes: [Int]) throws {
        self.sizes = sizes
        func make(_ n: Int) throws -> UnsafeMutablePointer<Double> {
            let p = try Memory.buffer(max(n, 1), for: "multigrid work vectors").baseAddress!
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        x = try sizes.enumerated().map { try make($0.offset == 0 ? 1 : $0.element) }
        b = try sizes.enumerated().map { try make($0.offset == 0 ? 1 : $0.element) }
        r = try sizes.map(make)
        scratch = try make(2 * sizes.last!)
    }

    deinit {
        for p in x + b + r { p.deallocate() }
        scratch.deallocate()
    }
}
