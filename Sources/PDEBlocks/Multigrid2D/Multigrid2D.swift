import Synchronization

/// Geometric multigrid for a symmetric positive definite 9-point stencil field on `H×W`
/// images (`StencilField2D`: `poisson2D`, `diffusionSystem`): the 1D API (`cycle`,
/// `solve`, `sizes`, `unetCycle`) over a hierarchy built once (`MultigridHierarchy2D`).
///
/// Smoothers: `.redBlack` (the usual choice; pass it in the options), `.gaussSeidel`
/// (lexicographic, forward before and backward after the correction), `.forwardGaussSeidel`,
/// `.symmetricGaussSeidel`, `.jacobi`, `.alternatingLine` (`LineSmoother2D`: zebra line
/// Gauss–Seidel with exact line solves, for strongly jumping or anisotropic couplings such
/// as Perona–Malik systems at large τ; best with W-cycles). Transfers: `.automatic` / `.matrixDependent`
/// (Dendy's black-box interpolation: robust for jumping coefficients), `.vertex`
/// (bilinear, Dirichlet boundary weights), `.cell` (bilinear, mirrored boundary weights);
/// restriction `R = ¼ Pᵀ`, coarse operators `R A P`. Cycles V, W, F.
///
/// Thread safety as `Multigrid`: the hierarchy is immutable and each call borrows a
/// workspace from a pool, so a cycle allocates nothing once a workspace exists. Large
/// levels run their passes in row bands on `Parallelism.threads` threads (`CycleBands2D`);
/// results are bitwise the same for every thread count.
public final class Multigrid2D: Sendable {
    let hierarchy: MultigridHierarchy2D
    private let pool = Mutex<[MultigridWorkspace2D]>([])

    /// The options with red–black Gauss–Seidel, V(2,2), automatic transfer, coarsest 64.
    public static let defaultOptions = MultigridOptions(smoother: .redBlack, coarsest: 64)

    /// Builds the hierarchy. Throws when the options are invalid, `A` is not symmetric,
    /// a level's diagonal is not positive, `A` has at most `coarsest` unknowns or cannot be
    /// coarsened, or the coarsest operator is singular (e.g. a pure Neumann Laplacian).
    public init(_ A: StencilField2D, options: MultigridOptions = Multigrid2D.defaultOptions) throws {
        hierarchy = try MultigridHierarchy2D(A, options: options)
    }

    public var options: MultigridOptions { hierarchy.options }
    public var transferKind: TransferKind { hierarchy.transferKind }
    /// `H·W` of the finest level.
    public var n: Int { hierarchy.levels[0].A.count }
    /// `(height, width)` per level, finest first.
    public var shapes: [(height: Int, width: Int)] { hierarchy.shapes }
    /// Unknowns per level, finest first.
    public var sizes: [Int] { hierarchy.levels.map { $0.A.count } }

    /// The operator of level `l` (0 = `A`).
    public func matrix(level l: Int) throws -> StencilField2D {
        guard l >= 0, l < hierarchy.levels.count else {
            throw PDEBlocksError.invalidArgument("level \(l) is out of range 0..<\(hierarchy.levels.count)")
        }
        return hierarchy.levels[l].A
    }

    /// The transfer between level `l` and `l + 1`.
    public func transfer(level l: Int) throws -> Transfer2D {
        guard l >= 0, l < hierarchy.levels.count - 1 else {
            throw PDEBlocksError.invalidArgument("transfer level \(l) is out of range 0..<\(hierarchy.levels.count - 1)")
        }
        return hierarchy.levels[l].transfer!
    }

    func withWorkspace<R>(_ body: (MultigridWorkspace2D) throws -> R) throws -> R {
        let ws = try pool.withLock { $0.popLast() } ?? MultigridWorkspace2D(sizes: sizes)
        defer { pool.withLock { if $0.count < 4 { $0.append(ws) } } }
        return try body(ws)
    }

    func validateVector(_ v: UnsafeBufferPointer<Double>, _ name: String) throws {
        guard v.count == n else {
            throw PDEBlocksError.invalidArgument("\(name) has length \(v.count), expected H·W = \(n)")
        }
        try VectorFiniteCheck.require(v, name)
    }

    /// One cycle on `A x = b`, in place on `x` (`x`, `b` must not overlap). Throws on wrong
    /// lengths or non-finite entries before touching `x`.
    public func cycle(_ x: UnsafeMutableBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) throws {
        try validateVector(UnsafeBufferPointer(x), "x")
        try validateVector(b, "b")
        try withWorkspace { ws in hierarchy.cycle(options.cycle, level: 0, x: x.baseAddress!, b: b.baseAddress!, ws: ws) }
    }

    /// One cycle from `x`, returned as a new array.
    public func cycle(_ x: [Double], _ b: [Double]) throws -> [Double] {
        var out = x
        try b.withUnsafeBufferPointer { bb in try out.withUnsafeMutableBufferPointer { try cycle($0, bb) } }
        return out
    }

    /// Solves `A x = b` by cycles from `x0` (zero when nil) until `‖b − A x‖₂ ≤ tol·‖b‖₂`
    /// or `maxCycles` cycles; same contract, scaling and report as `Multigrid.solve`.
    public func solve(
        _ b: UnsafeBufferPointer<Double>, initialGuess x0: UnsafeBufferPointer<Double>?,
        into x: UnsafeMutableBufferPointer<Double>, tolerance: Double = 1e-10, maxCycles: Int = 100,
        progress: ProgressReporter? = nil
    ) throws -> SolveReport {
        try validateVector(b, "b")
        if let x0 { try validateVector(x0, "x0") }
        guard x.count == n else { throw PDEBlocksError.invalidArgument("x has length \(x.count), expected H·W = \(n)") }
        try Multigrid.validateStopping(tolerance: tolerance, maxIterations: maxCycles, name: "max_cycles")
        progress?.begin(total: Int64(maxCycles), unitCost: 64 * n)
        return try ProgressReporter.staged(x, progress) { x in
            let report = try ScaledSolve.run(b, initialGuess: x0, into: x, what: "multigrid solve") { b, x in
                try withWorkspace { ws in
                    hierarchy.solve(b, x, ws: ws, tolerance: tolerance, maxCycles: maxCycles, progress: progress)
                }
            }
            let relative = report.reference > 0 ? report.residuals.last! / report.reference : 0
            try progress?.finish("multigrid solve", units: "cycles", value: relative, completeTotal: true)
            return report
        }
    }

    /// `solve` on arrays.
    public func solve(
        _ b: [Double], initialGuess x0: [Double]? = nil, tolerance: Double = 1e-10, maxCycles: Int = 100
    ) throws -> (x: [Double], report: SolveReport) {
        var x = try Memory.zeros(n, for: "the solution")
        let report = try b.withUnsafeBufferPointer { bb in
            try x.withUnsafeMutableBufferPointer { xb in
                if let x0 {
                    return try x0.withUnsafeBufferPointer {
                        try solve(bb, initialGuess: $0, into: xb, tolerance: tolerance, maxCycles: maxCycles)
                    }
                }
                return try solve(bb, initialGuess: nil, into: xb, tolerance: tolerance, maxCycles: maxCycles)
            }
        }
        return (x, report)
    }
}
