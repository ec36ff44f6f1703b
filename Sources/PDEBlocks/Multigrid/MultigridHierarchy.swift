/// One level of a hierarchy: its matrix, the smoother's scaled rows
/// (`SmootherKernels`), the Jacobi weight, and the transfer to the next coarser level
/// (`nil` on the coarsest level, which is solved directly).
struct MultigridLevel: Sendable {
    var A: BandedMatrix
    var scaled: [Double]
    var omega: Double
    var transfer: Transfer?
    /// The fast-kernel description of a tridiagonal level (`kl = ku = 1`, `n ≥ 3`).
    var tridiagonal: Tridiagonal?

    init(A: BandedMatrix, scaled: [Double], omega: Double, transfer: Transfer?) {
        self.A = A
        self.scaled = scaled
        self.omega = omega
        self.transfer = transfer
        self.tridiagonal = MultigridLevel.fastKernels(A, scaled)
    }

    static func fastKernels(_ A: BandedMatrix, _ scaled: [Double]) -> Tridiagonal? {
        A.lower == 1 && A.upper == 1 && A.n >= 3 && scaled.count == A.band.count ? Tridiagonal(A, scaled: scaled) : nil
    }
}

/// A multigrid hierarchy as data (levels with `A`, `P`, `R`, smoother data, and the
/// coarsest level's LU factors), built once per matrix.
///
/// Level 0 is the given matrix; level `l+1` is the Galerkin operator `R_l A_l P_l`.
/// Coarsening stops at the first level with at most `coarsest` unknowns, or after
/// `maxLevels` levels; that level is factorised (`BandedLU`).
struct MultigridHierarchy: Sendable {
    let options: MultigridOptions
    /// The transfer kind in use (`.automatic` resolved).
    let transferKind: TransferKind
    private(set) var levels: [MultigridLevel]
    private(set) var coarse: BandedLU

    init(_ A: BandedMatrix, options: MultigridOptions) throws {
        try options.validate()
        guard options.smoother.isPointSmoother else {
            throw PDEBlocksError.invalidArgument(
                "the smoother \(options.smoother.name) relaxes image lines: it needs a 2D hierarchy (a stencil field)")
        }
        guard A.n > options.coarsest else {
            throw PDEBlocksError.invalidArgument(
                "n = \(A.n) is too small for a multigrid hierarchy with coarsest = \(options.coarsest): "
                    + "need n > coarsest (solve such a system directly)")
        }
        try A.requireNonzeroDiagonal()
        self.options = options
        self.transferKind = Self.resolve(options.transfer, for: A, options: options)
        var levels: [MultigridLevel] = []
        var current = A
        while current.n > options.coarsest && levels.count + 1 < (options.maxLevels ?? Int.max) {
            let t = try Self.makeTransfer(transferKind, current)
            let next = try t.galerkin(current)
            try next.requireNonzeroDiagonal("coarse matrix A_\(levels.count + 1)")
            levels.append(try Self.level(current, options, transfer: t))
            current = next
        }
        levels.append(MultigridLevel(A: current, scaled: [], omega: 1, transfer: nil))
        do {
            coarse = try BandedLU(current)
        } catch PDEBlocksError.outOfMemory(let message) {
            throw PDEBlocksError.outOfMemory(message)
        } catch {
            throw PDEBlocksError.invalidArgument(
                "the coarsest matrix (order \(current.n), level \(levels.count - 1)) is singular to working "
                    + "precision: A is singular or nearly so")
        }
        self.levels = levels
    }

    /// `.automatic` resolved for `A` (see `TransferKind.automatic`).
    static func resolve(_ kind: TransferKind, for A: BandedMatrix, options: MultigridOptions) -> TransferKind {
        guard kind == .automatic else { return kind }
        let smooth = A.coefficientContrast() <= TransferKind.smoothContrast
        switch A.grid {
        case .vertex where smooth && uniformVertexLevels(A.n, options): return .vertex
        case .cell where smooth: return .cell
        default: return .matrixDependent
        }
    }

    /// Whether vertex coarsening keeps every level a uniform grid: each level that is
    /// coarsened has an odd number of points (e.g. `n = 2^k − 1`). After an even level the
    /// last coarse point sits one fine cell from the boundary, and linear interpolation is
    /// no longer what the Galerkin operator needs there (operator-induced weights are).
    static func uniformVertexLevels(_ n: Int, _ options: MultigridOptions) -> Bool {
        var m = n, levels = 1
        while m > options.coarsest && levels < (options.maxLevels ?? Int.max) {
            if m % 2 == 0 { return false }
            m /= 2
            levels += 1
        }
        return true
    }

    static func makeTransfer(_ kind: TransferKind, _ A: BandedMatrix) throws -> Transfer {
        switch kind {
        case .vertex: try .vertexLinear(fine: A.n)
        case .cell: try .cellLinear(fine: A.n)
        case .matrixDependent, .automatic: try .matrixDependent(A)
        }
    }

    static func level(_ A: BandedMatrix, _ options: MultigridOptions, transfer: Transfer) throws -> MultigridLevel {
        var scaled = try Memory.zeros(A.band.count, for: "the smoother of a level of order \(A.n)")
        scaled.withUnsafeMutableBufferPointer { SmootherKernels.scaleRows(A, into: $0) }
        let omega = options.smoother != .jacobi ? 1 : options.omega ?? Smoother.defaultOmega(A)
        return MultigridLevel(A: A, scaled: scaled, omega: omega, transfer: transfer)
    }

    /// The number of unknowns on each level, finest first.
    var sizes: [Int] { levels.map { $0.A.n } }

    /// Re-assembles every level for a new matrix of the same shape (same `n` and
    /// bandwidths): new Galerkin operators, smoother data, black-box weights and coarse
    /// factors, all in the existing storage.
    mutating func update(_ A: BandedMatrix) throws {
        guard A.n == levels[0].A.n, A.lower == levels[0].A.lower, A.upper == levels[0].A.upper else {
            throw PDEBlocksError.invalidArgument("update needs a matrix of the hierarchy's shape")
        }
        try A.requireNonzeroDiagonal()
        // copy the values (assigning would share A's storage and make the caller's next
        // in-place assembly copy it)
        levels[0].A.band.withUnsafeMutableBufferPointer { dst in
            A.band.withUnsafeBufferPointer { _ = dst.update(fromContentsOf: $0) }
        }
        for l in 0..<(levels.count - 1) {
            let fineA = levels[l].A
            if transferKind == .matrixDependent { levels[l].transfer?.updateMatrixDependentWeights(fineA) }
            levels[l].scaled.withUnsafeMutableBufferPointer { SmootherKernels.scaleRows(fineA, into: $0) }
            if options.smoother == .jacobi && options.omega == nil { levels[l].omega = Smoother.defaultOmega(fineA) }
            levels[l].tridiagonal = MultigridLevel.fastKernels(fineA, levels[l].scaled)
            guard let t = levels[l].transfer else { continue }
            // move the coarse matrix out so it is uniquely referenced while we overwrite it
            var next = placeholderMatrix
            swap(&next, &levels[l + 1].A)
            try t.galerkin(fineA, into: &next)
            swap(&next, &levels[l + 1].A)
            try levels[l + 1].A.requireNonzeroDiagonal("coarse matrix A_\(l + 1)")
        }
        try coarse.factor(levels[levels.count - 1].A)
    }
}

/// A 1×1 matrix swapped into a slot while its real matrix is rewritten in place.
private let placeholderMatrix = try! BandedMatrix(zeros: 1, lower: 0, upper: 0)

/// Scratch vectors for cycles on one hierarchy, allocated once: per coarse level an
/// iterate `x_l` and right-hand side `b_l`, per level a residual `r_l` (also the Jacobi
/// work vector). The finest level's iterate and right-hand side are the caller's, so
/// `x[0]` and `b[0]` are not used. A workspace serves one call at a time (see `Multigrid`).
final class MultigridWorkspace: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Double>
    let x: [UnsafeMutablePointer<Double>]
    let b: [UnsafeMutablePointer<Double>]
    let r: [UnsafeMutablePointer<Double>]

    /// Throws `.outOfMemory` when the vectors cannot be allocated.
    init(sizes: [Int]) throws {
        let total = sizes.enumerated().reduce(0) { $0 + ($1.offset == 0 ? 1 : 3) * $1.element }
        storage = try Memory.buffer(total, for: "a multigrid workspace of \(sizes.count) levels (n = \(sizes.first ?? 0))")
        storage.initialize(repeating: 0)
        var x: [UnsafeMutablePointer<Double>] = [], b: [UnsafeMutablePointer<Double>] = []
        var r: [UnsafeMutablePointer<Double>] = []
        var offset = 0
        let base = storage.baseAddress!
        for (l, n) in sizes.enumerated() {
            r.append(base + offset)
            offset += n
            if l == 0 {
                x.append(base)
                b.append(base)
            } else {
                x.append(base + offset)
                b.append(base + offset + n)
                offset += 2 * n
            }
        }
        self.x = x
        self.b = b
        self.r = r
    }

    deinit { storage.deallocate() }
}
