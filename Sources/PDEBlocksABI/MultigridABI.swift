import PDEBlocks

// The C entry points of include/pdeblocks_multigrid.h: validate, convert, call the core.

/// A banded matrix from (n, kl, ku, band); lengths are checked before any pointer use.
private func bandedMatrix(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?, grid: GridKind = .unknown
) throws -> BandedMatrix {
    let order = try Buffers.count(n, "n")
    let lower = try Buffers.count(kl, "kl")
    let upper = try Buffers.count(ku, "ku")
    let count = try BandedMatrix.storageCount(n: order, lower: lower, upper: upper)
    return try BandedMatrix(n: order, lower: lower, upper: upper, band: try Buffers.input(band, count, "band"), grid: grid)
}

/// A typed input array (NULL is an error).
private func typedInput<T>(_ p: UnsafePointer<T>?, _ count: Int, _ name: String) throws -> UnsafeBufferPointer<T> {
    guard let p else { throw NullPointer(name: name) }
    return UnsafeBufferPointer(start: p, count: count)
}

/// The registry type tags.
private let multigridType = "multigrid hierarchy"
private let unetType = "two-level U-net"

private func multigrid(_ handle: OpaquePointer?) throws -> Multigrid {
    try Handles.get(handle, as: Multigrid.self, type: multigridType)
}

/// A 1D or a 2D hierarchy behind a `pdb_multigrid` handle (the entry points that take
/// vectors of length n = H·W serve both).
private func anyMultigrid(_ handle: OpaquePointer?) throws -> any MultigridSolverObject {
    if Handles.typeName(handle) == multigrid2DType { return try multigrid2D(handle) }
    return try multigrid(handle)
}

// MARK: - Banded matrices

/// The caller's band storage, shape and outside slots checked (finiteness is the caller's
/// next step); no copy.
private func bandView(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?
) throws -> (UnsafeBufferPointer<Double>, n: Int, lower: Int, upper: Int) {
    let order = try Buffers.count(n, "n")
    let lower = try Buffers.count(kl, "kl")
    let upper = try Buffers.count(ku, "ku")
    let count = try BandedMatrix.storageCount(n: order, lower: lower, upper: upper)
    return (try Buffers.input(band, count, "band"), order, lower, upper)
}

@_cdecl("pdb_banded_matvec")
public func pdb_banded_matvec(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?,
    _ x: UnsafePointer<Double>?, _ batch: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let (a, order, lower, upper) = try bandView(n, kl, ku, band)
        let (rows, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(x, total, "x")
        let dst = try Buffers.output(out, total, "out")
        // each row of A x reads neighbours of x_i: not in place
        try Aliasing.require(Extent("out", dst), Extent("x", src), Extent("band", a))
        try BandedMatrix.validate(a, n: order, lower: lower, upper: upper)
        try VectorFiniteCheck.require(src, "x")
        for r in 0..<rows {
            BandKernels.multiply(
                a, n: order, lower: lower, upper: upper, UnsafeBufferPointer(rebasing: src[(r * len)..<((r + 1) * len)]),
                into: UnsafeMutableBufferPointer(rebasing: dst[(r * len)..<((r + 1) * len)]))
        }
    }
}

@_cdecl("pdb_banded_solve")
public func pdb_banded_solve(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?,
    _ b: UnsafePointer<Double>?, _ batch: Int64, _ out: UnsafeMutablePointer<Double>?,
    _ strategy: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let (a, order, lower, upper) = try bandView(n, kl, ku, band)
        let (rows, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(b, total, "b")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.requireScheme(
            out: Extent("out", dst, inPlaceOf: "b"), f: Extent("b", src), weights: Extent("band", a),
            Extent(scalar: "strategy", strategy))
        let used: BandedLU.Strategy
        if rows == 1 {
            // outside slots only (O(1) for kl = ku = 1); finiteness is checked during the solve
            try BandedMatrix.validateOutsideSlots(a, n: order, lower: lower, upper: upper)
            used = try BandedLU.solve(band: a, n: order, lower: lower, upper: upper, src.baseAddress!, into: dst.baseAddress!)
        } else {
            let A = try BandedMatrix(n: order, lower: lower, upper: upper, band: a)
            try VectorFiniteCheck.require(src, "b")
            let lu = try BandedLU(A)
            _ = len
            try lu.solveChecked(rows: rows, src, into: dst)  // all rows or nothing
            used = lu.strategy
        }
        strategy?.pointee = LUStrategy(used).rawValue
    }
}

@_cdecl("pdb_poisson_1d")
public func pdb_poisson_1d(_ n: Int64, _ h: Double, _ band: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded {
        let order = try Buffers.count(n, "n")
        // band has no length argument: refuse NULL before building (n may be huge)
        guard band != nil else { throw NullPointer(name: "band") }
        let A = try BandedMatrix.poisson1D(n: order, h: h)
        _ = try Buffers.output(band, A.band.count, "band").update(fromContentsOf: A.band)
    }
}

@_cdecl("pdb_diffusion_system_bandwidth")
public func pdb_diffusion_system_bandwidth(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ n: Int64, _ bandwidth: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let out = try Buffers.scalar(bandwidth, "bandwidth")
        out.pointee = Int64(try BandedMatrix.diffusionSystemBandwidth(stencil: K, n: try Buffers.count(n, "n")))
    }
}

@_cdecl("pdb_diffusion_system")
public func pdb_diffusion_system(
    _ sw: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ w: UnsafePointer<Double>?, _ n: Int64,
    _ tau: Double, _ band: UnsafeMutablePointer<Double>?, _ bandLength: Int64
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(sw, q, offset)
        let len = try Buffers.count(n, "n")
        try Check.positive(len, "n")
        let weights = try Buffers.input(w, len, "w")
        // the band's size from the bandwidth (O(q)) and the caller's buffer first: the assembly
        // is O(n·q²) work and n·(2k+1) doubles (k ≤ min(q, n) − 1, so the product cannot overflow)
        let k = try BandedMatrix.diffusionSystemBandwidth(stencil: K, n: len)
        let capacity = try Buffers.count(bandLength, "band_length")
        guard capacity == len * (2 * k + 1) else {
            throw PDEBlocksError.invalidArgument(
                "band_length = \(capacity), expected n·(2k+1) = \(len * (2 * k + 1)) (k = \(k))")
        }
        let dst = try Buffers.output(band, capacity, "band")
        try Memory.reserve(weights.count, for: "a copy of the weights")
        try Aliasing.require(Extent("band", dst), Extent("weights", sw, count: K.count), Extent("w", weights))
        let A = try BandedMatrix.diffusionSystem(stencil: K, weights: Array(weights), tau: tau)
        guard A.band.count == capacity else {  // the two bandwidth computations agree (tested)
            throw PDEBlocksError.invalidArgument("internal error: the system has bandwidth \(A.lower), expected \(k)")
        }
        _ = dst.update(fromContentsOf: A.band)
    }
}

// MARK: - Multigrid hierarchies

@_cdecl("pdb_mg_create")
public func pdb_mg_create(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?, _ grid: Int32,
    _ smoother: Int32, _ omega: Double, _ pre: Int64, _ post: Int64, _ cycle: Int32,
    _ transfer: Int32, _ coarsest: Int64, _ maxLevels: Int64, _ handle: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(handle, "handle")
        let A = try bandedMatrix(n, kl, ku, band, grid: try GridKind.decode(grid))
        let s = try Smoother.decode(smoother)
        let c = try CycleKind.decode(cycle)
        guard !omega.isNaN else { throw PDEBlocksError.invalidArgument("omega is NaN") }
        let options = MultigridOptions(
            smoother: s, omega: omega > 0 ? omega : nil,
            preSmoothing: Int(clamping: pre), postSmoothing: Int(clamping: post), cycle: c,
            transfer: try TransferKind.decode(transfer), coarsest: Int(clamping: coarsest),
            maxLevels: maxLevels > 0 ? Int(clamping: maxLevels) : nil)
        let mg = try Multigrid(A, options: options)
        out.pointee = Handles.register(mg, type: multigridType)
    }
}

@_cdecl("pdb_mg_destroy")
public func pdb_mg_destroy(_ handle: OpaquePointer?) -> Int32 {
    guarded { try Handles.destroy(handle, type: Handles.typeName(handle) == multigrid2DType ? multigrid2DType : multigridType) }
}

@_cdecl("pdb_mg_levels")
public func pdb_mg_levels(
    _ handle: OpaquePointer?, _ sizes: UnsafeMutablePointer<Int64>?, _ capacity: Int64,
    _ count: UnsafeMutablePointer<Int64>?, _ transfer: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let mg = try anyMultigrid(handle)
        let countOut = try Buffers.scalar(count, "count")
        let cap = try Buffers.count(capacity, "capacity")
        try Aliasing.require(
            outputs: [Extent("sizes", sizes, count: cap), Extent(scalar: "count", countOut), Extent(scalar: "transfer", transfer)],
            inputs: [])
        let levels = mg.sizes
        if cap > 0 || sizes != nil {
            guard cap >= levels.count, let sizes else {
                throw PDEBlocksError.invalidArgument("sizes must hold \(levels.count) values, capacity is \(cap)")
            }
            for (l, s) in levels.enumerated() { sizes[l] = Int64(s) }
        }
        countOut.pointee = Int64(levels.count)
        transfer?.pointee = mg.transferKind.rawValue
    }
}

@_cdecl("pdb_mg_level_matrix")
public func pdb_mg_level_matrix(
    _ handle: OpaquePointer?, _ level: Int64, _ kl: UnsafeMutablePointer<Int64>?, _ ku: UnsafeMutablePointer<Int64>?,
    _ band: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> Int32 {
    guarded {
        let mg = try multigrid(handle)
        let (klOut, kuOut) = (try Buffers.scalar(kl, "kl"), try Buffers.scalar(ku, "ku"))
        let cap = try Buffers.count(capacity, "capacity")
        try Aliasing.require(
            outputs: [Extent(scalar: "kl", klOut), Extent(scalar: "ku", kuOut), Extent("band", band, count: cap)], inputs: [])
        let A = try mg.matrix(level: Int(clamping: level))
        if cap > 0 || band != nil {
            guard cap >= A.band.count else {
                throw PDEBlocksError.invalidArgument("band must hold \(A.band.count) values, capacity is \(cap)")
            }
            _ = try Buffers.output(band, A.band.count, "band").update(fromContentsOf: A.band)
        }
        klOut.pointee = Int64(A.lower)
        kuOut.pointee = Int64(A.upper)
    }
}

/// Shared body of pdb_mg_prolong / pdb_mg_restrict.
private func transferMap(
    _ handle: OpaquePointer?, _ level: Int64, _ input: UnsafePointer<Double>?, _ inputCount: Int64,
    _ output: UnsafeMutablePointer<Double>?, _ outputCount: Int64, prolong: Bool
) -> Int32 {
    guarded {
        let mg = try anyMultigrid(handle)
        let (fineN, coarseN) = try mg.transferSizes(level: Int(clamping: level))
        let (inN, outN) = prolong ? (coarseN, fineN) : (fineN, coarseN)
        guard inputCount == inN, outputCount == outN else {
            throw PDEBlocksError.invalidArgument(
                "level \(level) \(prolong ? "prolongation" : "restriction") maps \(inN) to \(outN) values, "
                    + "got \(inputCount) and \(outputCount)")
        }
        let src = try Buffers.input(input, inN, prolong ? "coarse" : "fine")
        let dst = try Buffers.output(output, outN, prolong ? "fine" : "coarse")
        try Aliasing.require(Extent(prolong ? "fine" : "coarse", dst), Extent(prolong ? "coarse" : "fine", src))
        try VectorFiniteCheck.require(src, prolong ? "coarse" : "fine")
        try mg.applyTransfer(level: Int(clamping: level), prolong: prolong, src, into: dst)
    }
}

@_cdecl("pdb_mg_prolong")
public func pdb_mg_prolong(
    _ handle: OpaquePointer?, _ level: Int64, _ coarse: UnsafePointer<Double>?, _ coarseN: Int64,
    _ fine: UnsafeMutablePointer<Double>?, _ fineN: Int64
) -> Int32 {
    transferMap(handle, level, coarse, coarseN, fine, fineN, prolong: true)
}

@_cdecl("pdb_mg_restrict")
public func pdb_mg_restrict(
    _ handle: OpaquePointer?, _ level: Int64, _ fine: UnsafePointer<Double>?, _ fineN: Int64,
    _ coarse: UnsafeMutablePointer<Double>?, _ coarseN: Int64
) -> Int32 {
    transferMap(handle, level, fine, fineN, coarse, coarseN, prolong: false)
}

@_cdecl("pdb_mg_cycle")
public func pdb_mg_cycle(
    _ handle: OpaquePointer?, _ x: UnsafePointer<Double>?, _ b: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let mg = try anyMultigrid(handle)
        let (rows, len, total) = try Buffers.signals(batch, n)
        guard len == mg.n else { throw PDEBlocksError.invalidArgument("n = \(len), the hierarchy has n = \(mg.n)") }
        let xs = try Buffers.input(x, total, "x")
        let bs = try Buffers.input(b, total, "b")
        let dst = try Buffers.output(out, total, "out")
        // out is x's memory or its own (the cycle runs on out); never b's
        try Aliasing.require(Extent("out", dst, inPlaceOf: "x"), Extent("x", xs), Extent("b", bs))
        try VectorFiniteCheck.require(xs, "x")
        try VectorFiniteCheck.require(bs, "b")
        if UnsafeRawPointer(dst.baseAddress!) != UnsafeRawPointer(xs.baseAddress!) {
            dst.baseAddress!.update(from: xs.baseAddress!, count: total)
        }
        for r in 0..<rows {
            try mg.cycle(UnsafeMutableBufferPointer(rebasing: dst[(r * len)..<((r + 1) * len)]),
                         UnsafeBufferPointer(rebasing: bs[(r * len)..<((r + 1) * len)]))
        }
    }
}

@_cdecl("pdb_mg_unet_cycle")
public func pdb_mg_unet_cycle(
    _ handle: OpaquePointer?, _ x: UnsafePointer<Double>?, _ b: UnsafePointer<Double>?, _ n: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let mg = try anyMultigrid(handle)
        let len = try Buffers.count(n, "n")
        guard len == mg.n else { throw PDEBlocksError.invalidArgument("n = \(len), the hierarchy has n = \(mg.n)") }
        let xs = try Buffers.input(x, len, "x")
        let bs = try Buffers.input(b, len, "b")
        let dst = try Buffers.output(out, 3 * len, "out")
        try Memory.reserve(Memory.count(2, xs.count, for: "copies of x and b"), for: "copies of x and b")
        try Aliasing.require(Extent("out", dst), Extent("x", xs), Extent("b", bs))
        let result = try mg.unetCycle(x: Array(xs), b: Array(bs))
        (dst.baseAddress!).update(from: result.x, count: len)
        (dst.baseAddress! + len).update(from: result.b, count: len)
        (dst.baseAddress! + 2 * len).update(from: result.r, count: len)
    }
}

/// Writes a report's outputs (history checked for capacity by the caller).
private func writeReport(
    _ report: SolveReport, _ residuals: UnsafeMutablePointer<Double>?, _ iterations: UnsafeMutablePointer<Int64>,
    _ converged: UnsafeMutablePointer<Int32>
) {
    if let residuals { residuals.update(from: report.residuals, count: report.residuals.count) }
    iterations.pointee = Int64(report.iterations)
    converged.pointee = report.converged ? 1 : 0
}

@_cdecl("pdb_mg_solve")
public func pdb_mg_solve(
    _ handle: OpaquePointer?, _ b: UnsafePointer<Double>?, _ x0: UnsafePointer<Double>?, _ n: Int64, _ tol: Double,
    _ maxCycles: Int64, _ x: UnsafeMutablePointer<Double>?, _ residuals: UnsafeMutablePointer<Double>?,
    _ capacity: Int64, _ cycles: UnsafeMutablePointer<Int64>?, _ converged: UnsafeMutablePointer<Int32>?,
    _ factor: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let mg = try anyMultigrid(handle)
        let len = try Buffers.count(n, "n")
        guard len == mg.n else { throw PDEBlocksError.invalidArgument("n = \(len), the hierarchy has n = \(mg.n)") }
        let bs = try Buffers.input(b, len, "b")
        let guess = try x0.map { try Buffers.input($0, len, "x0") }
        let dst = try Buffers.output(x, len, "x")
        let (cyclesOut, convergedOut, factorOut) =
            (try Buffers.scalar(cycles, "cycles"), try Buffers.scalar(converged, "converged"), try Buffers.scalar(factor, "factor"))
        let limit = try Buffers.count(maxCycles, "max_cycles")
        let residualCount = residuals == nil ? 0 : try Buffers.count(capacity, "capacity")
        if residuals != nil {
            let cap = residualCount
            guard cap > limit else {
                throw PDEBlocksError.invalidArgument("residuals must hold max_cycles + 1 = \(limit + 1) values, capacity is \(cap)")
            }
        }
        try Aliasing.require(
            outputs: [Extent("x", dst, inPlaceOf: "x0"), Extent("residuals", residuals, count: residualCount),
                      Extent(scalar: "cycles", cyclesOut), Extent(scalar: "converged", convergedOut), Extent(scalar: "factor", factorOut)],
            inputs: [Extent("b", bs), Extent("x0", guess)])
        let report = try mg.solve(
            bs, initialGuess: guess, into: dst, tolerance: tol, maxCycles: limit, progress: ProgressHandler.reporter())
        writeReport(report, residuals, cyclesOut, convergedOut)
        factorOut.pointee = report.convergenceFactor
    }
}

@_cdecl("pdb_cg")
public func pdb_cg(
    _ n: Int64, _ kl: Int64, _ ku: Int64, _ band: UnsafePointer<Double>?, _ b: UnsafePointer<Double>?,
    _ x0: UnsafePointer<Double>?, _ preconditioner: OpaquePointer?, _ tol: Double, _ maxIter: Int64,
    _ x: UnsafeMutablePointer<Double>?, _ residuals: UnsafeMutablePointer<Double>?, _ capacity: Int64,
    _ iterations: UnsafeMutablePointer<Int64>?, _ converged: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let A = try bandedMatrix(n, kl, ku, band)
        let M = try preconditioner.map { try multigrid($0) }
        let bs = try Buffers.input(b, A.n, "b")
        let guess = try x0.map { try Buffers.input($0, A.n, "x0") }
        let dst = try Buffers.output(x, A.n, "x")
        let (itOut, convOut) = (try Buffers.scalar(iterations, "iterations"), try Buffers.scalar(converged, "converged"))
        let limit = try Buffers.count(maxIter, "max_iter")
        let residualCount = residuals == nil ? 0 : try Buffers.count(capacity, "capacity")
        if residuals != nil {
            let cap = residualCount
            guard cap > limit else {
                throw PDEBlocksError.invalidArgument("residuals must hold max_iter + 1 = \(limit + 1) values, capacity is \(cap)")
            }
        }
        try Aliasing.require(
            outputs: [Extent("x", dst, inPlaceOf: "x0"), Extent("residuals", residuals, count: residualCount),
                      Extent(scalar: "iterations", itOut), Extent(scalar: "converged", convOut)],
            inputs: [Extent("band", band, count: A.band.count), Extent("b", bs), Extent("x0", guess)])
        let report = try ConjugateGradient.solve(
            A, bs, initialGuess: guess, into: dst, tolerance: tol, maxIterations: limit, preconditioner: M,
            progress: ProgressHandler.reporter())
        writeReport(report, residuals, itOut, convOut)
    }
}

// MARK: - Semi-implicit diffusion

@_cdecl("pdb_semi_implicit")
public func pdb_semi_implicit(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double,
    _ tau: Double, _ steps: Int64, _ solver: Int32, _ tol: Double, _ maxCycles: Int64,
    _ cycles: UnsafeMutablePointer<Int64>?, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let g = try Buffers.diffusivity(kind, lambda)
        let (rows, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.requireScheme(
            out: Extent("out", dst, inPlaceOf: "f"), f: Extent("f", src), weights: Extent("weights", w, count: K.count),
            Extent(scalar: "cycles", cycles))
        let method: SemiImplicit.Solver
        switch try SemiSolverKind.decode(solver) {
        case .direct: method = .direct
        case .multigrid: method = .multigrid(MultigridOptions(), tolerance: tol, maxCycles: Int(clamping: maxCycles))
        }
        let report = try SemiImplicit.evolve(
            src, into: dst, batch: rows, n: len, stencil: K, diffusivity: g, tau: tau,
            steps: try Buffers.count(steps, "steps"), solver: method, progress: ProgressHandler.reporter())
        cycles?.pointee = Int64(report.cycles)
    }
}

// MARK: - Generic two-level U-net

/// `(count, n_pre, n_coarse)` of a U-net's block list (`pdb_unet2_create`,
/// `pdb_unet2d_create`): at most 2^16 blocks, `n_pre + n_coarse ≤ count`.
private func unetChainLengths(_ count: Int64, _ nPre: Int64, _ nCoarse: Int64) throws -> (Int, Int, Int) {
    let m = try Buffers.count(count, "count")
    guard m <= 1 << 16 else { throw PDEBlocksError.invalidArgument("count = \(m) blocks is too many") }
    let pre = try Buffers.count(nPre, "n_pre"), coarse = try Buffers.count(nCoarse, "n_coarse")
    guard pre <= m, coarse <= m - pre else {
        throw PDEBlocksError.invalidArgument("n_pre + n_coarse = \(pre) + \(coarse) exceeds count = \(m)")
    }
    return (m, pre, coarse)
}

/// The chains C₁, C_H, C₂ of a U-net's block list.
private func unetChains<B>(_ blocks: [B], _ pre: Int, _ coarse: Int) -> ([B], [B], [B]) {
    (Array(blocks[0..<pre]), Array(blocks[pre..<(pre + coarse)]), Array(blocks[(pre + coarse)...]))
}

@_cdecl("pdb_unet2_create")
public func pdb_unet2_create(
    _ count: Int64, _ kinds: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int64>?, _ offsets: UnsafePointer<Int64>?,
    _ weights: UnsafePointer<Double>?, _ diffusivities: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ taus: UnsafePointer<Double>?, _ nPre: Int64, _ nCoarse: Int64, _ transfer: Int32,
    _ handle: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(handle, "handle")
        let (m, pre, coarse) = try unetChainLengths(count, nPre, nCoarse)
        var blocks: [UNetBlock] = []
        if m > 0 {
            let kindList = try typedInput(kinds, m, "kinds")
            let lengthList = try typedInput(lengths, m, "lengths")
            let offsetList = try typedInput(offsets, m, "offsets")
            var total: Int64 = 0
            for k in 0..<m {
                guard lengthList[k] > 0, lengthList[k] <= 1 << 20 else {
                    throw PDEBlocksError.invalidArgument("block \(k): stencil length \(lengthList[k]) is out of range 1…2^20")
                }
                total += lengthList[k]
            }
            let allWeights = try Buffers.input(weights, Int(total), "weights")
            let hasDiffusion = kindList.contains(UNetBlockKind.diffusion.rawValue)
            let gList = hasDiffusion ? try typedInput(diffusivities, m, "diffusivities") : nil
            let lambdaList = hasDiffusion ? try Buffers.input(lambdas, m, "lambdas") : nil
            let tauList = hasDiffusion ? try Buffers.input(taus, m, "taus") : nil
            var start = 0
            for k in 0..<m {
                let len = Int(lengthList[k])
                try Memory.reserve(len, for: "a copy of block \(k)'s stencil")
                let K = try Stencil(weights: Array(allWeights[start..<(start + len)]), offset: Int(offsetList[k]))
                start += len
                switch try UNetBlockKind.decode(kindList[k], "block \(k)") {
                case .stencil: blocks.append(.stencil(K))
                case .diffusion:
                    let g = try Buffers.diffusivity(gList![k], lambdaList![k], "block \(k)")
                    blocks.append(.diffusion(K, g, tau: tauList![k]))
                }
            }
        }
        let (c1, cH, c2) = unetChains(blocks, pre, coarse)
        let net = try TwoLevelUNet(pre: c1, coarse: cH, post: c2, transfer: try TransferKind.decode(transfer))
        out.pointee = Handles.register(HandleBox(net), type: unetType)
    }
}

@_cdecl("pdb_unet2_destroy")
public func pdb_unet2_destroy(_ handle: OpaquePointer?) -> Int32 {
    guarded { try Handles.destroy(handle, type: unetType) }
}

@_cdecl("pdb_unet2_forward")
public func pdb_unet2_forward(
    _ handle: OpaquePointer?, _ f: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let net = try Handles.get(handle, as: HandleBox<TwoLevelUNet>.self, type: unetType).value
        let (rows, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst, inPlaceOf: "f"), Extent("f", src))
        try net.forward(src, into: dst, batch: rows, n: len)
    }
}

// MARK: - Two-level U-net on images

private let unet2DType = "two-level U-net on images"

@_cdecl("pdb_unet2d_create")
public func pdb_unet2d_create(
    _ count: Int64, _ kinds: UnsafePointer<Int32>?, _ filters: UnsafePointer<Int64>?, _ shapes: UnsafePointer<Int64>?,
    _ weights: UnsafePointer<Double>?, _ diffusivities: UnsafePointer<Int32>?, _ lambdas: UnsafePointer<Double>?,
    _ taus: UnsafePointer<Double>?, _ nPre: Int64, _ nCoarse: Int64, _ transfer: Int32,
    _ handle: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(handle, "handle")
        let (m, pre, coarse) = try unetChainLengths(count, nPre, nCoarse)
        var blocks: [UNetBlock2D] = []
        if m > 0 {
            let kindList = try typedInput(kinds, m, "kinds")
            let filterList = try typedInput(filters, m, "filters")
            var filterCount = 0
            for k in 0..<m {
                let stencil = kindList[k] == UNetBlockKind.stencil.rawValue
                guard (1...Int64(stencil ? 1 : DiffusionBlock2D.maxFilters)).contains(filterList[k]) else {
                    throw PDEBlocksError.invalidArgument(
                        "block \(k): filters = \(filterList[k]); a stencil block has 1 filter, a diffusion block "
                            + "1...\(DiffusionBlock2D.maxFilters)")
                }
                filterCount += Int(filterList[k])
            }
            guard filterCount <= 1 << 16 else {
                throw PDEBlocksError.invalidArgument("\(filterCount) filters in all: a U-net has at most \(1 << 16)")
            }
            let shapeList = try ImageBlockArgument.shapes(filterCount, shapes, "filter_shapes")
            let weightCount = shapeList.reduce(0) { $0 + $1.rows * $1.columns }   // ≤ 2^16·2^20: no overflow
            try Memory.reserve(weightCount, for: "a copy of the U-net's weights")
            let allWeights = try Buffers.input(weights, weightCount, "weights")
            try Check.allFinite(allWeights, "weights")
            let hasDiffusion = kindList.contains(UNetBlockKind.diffusion.rawValue)
            let gList = hasDiffusion ? try typedInput(diffusivities, m, "diffusivities") : nil
            let lambdaList = hasDiffusion ? try Buffers.input(lambdas, m, "lambdas") : nil
            let tauList = hasDiffusion ? try Buffers.input(taus, m, "taus") : nil
            var (filter, start) = (0, 0)
            for k in 0..<m {
                let bank = try (0..<Int(filterList[k])).map { _ -> Stencil2D in
                    let s = shapeList[filter]
                    defer { filter += 1; start += s.rows * s.columns }
                    return try Stencil2D(weights: Array(allWeights[start..<(start + s.rows * s.columns)]), rows: s.rows,
                                         columns: s.columns, offsetY: s.oy, offsetX: s.ox)
                }
                switch try UNetBlockKind.decode(kindList[k], "block \(k)") {
                case .stencil: blocks.append(.stencil(bank[0]))
                case .diffusion:
                    let tau = tauList![k]
                    guard tau.isFinite, tau >= 0 else {
                        throw PDEBlocksError.invalidArgument("block \(k): tau must be finite and nonnegative, got \(tau)")
                    }
                    let g = try ChannelDiffusivity(try Buffers.diffusivity(gList![k], lambdaList![k], "block \(k)"))
                    blocks.append(.diffusion(try DiffusionBlock2D(filters: bank, coupling: .isotropic, diffusivities: [g], tau: tau)))
                }
            }
        }
        let (c1, cH, c2) = unetChains(blocks, pre, coarse)
        let net = try TwoLevelUNet2D(pre: c1, coarse: cH, post: c2, transfer: try TransferKind.decode(transfer))
        out.pointee = Handles.register(HandleBox(net), type: unet2DType)
    }
}

@_cdecl("pdb_unet2d_destroy")
public func pdb_unet2d_destroy(_ handle: OpaquePointer?) -> Int32 {
    guarded { try Handles.destroy(handle, type: unet2DType) }
}

@_cdecl("pdb_unet2d_forward")
public func pdb_unet2d_forward(
    _ handle: OpaquePointer?, _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let net = try Handles.get(handle, as: HandleBox<TwoLevelUNet2D>.self, type: unet2DType).value
        let (b, h, w, total) = try imageShape(batch, height, width)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst, inPlaceOf: "f"), Extent("f", src))
        try net.forward(src, into: dst, batch: b, height: h, width: w)
    }
}
