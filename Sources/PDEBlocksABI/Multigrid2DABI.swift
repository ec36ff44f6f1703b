import PDEBlocks

// The C entry points of the 2D multigrid section of include/pdeblocks_multigrid.h:
// stencil fields (pdb_poisson_2d, pdb_diffusion_system_2d, pdb_stencil_field_matvec) and
// 2D hierarchies (pdb_mg2d_*). A 2D hierarchy is a pdb_multigrid handle: pdb_mg_cycle,
// pdb_mg_unet_cycle, pdb_mg_solve, pdb_mg_prolong, pdb_mg_restrict, pdb_mg_levels and
// pdb_mg_destroy accept it (vectors of length n = H·W).

let multigrid2DType = "2D multigrid hierarchy"

func multigrid2D(_ handle: OpaquePointer?) throws -> Multigrid2D {
    try Handles.get(handle, as: Multigrid2D.self, type: multigrid2DType)
}

/// What the shared pdb_mg_* entry points need of a hierarchy (1D or 2D).
protocol MultigridSolverObject: AnyObject {
    var n: Int { get }
    var sizes: [Int] { get }
    var transferKind: TransferKind { get }
    func cycle(_ x: UnsafeMutableBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) throws
    func unetCycle(x: [Double], b: [Double]) throws -> ThreeChannelSignal
    func solve(
        _ b: UnsafeBufferPointer<Double>, initialGuess x0: UnsafeBufferPointer<Double>?,
        into x: UnsafeMutableBufferPointer<Double>, tolerance: Double, maxCycles: Int, progress: ProgressReporter?
    ) throws -> SolveReport
    /// `(fine, coarse)` lengths of the transfer of `level`; throws for a level out of range.
    func transferSizes(level: Int) throws -> (Int, Int)
    func applyTransfer(level: Int, prolong: Bool, _ src: UnsafeBufferPointer<Double>, into dst: UnsafeMutableBufferPointer<Double>) throws
}

extension Multigrid: MultigridSolverObject {
    func transferSizes(level: Int) throws -> (Int, Int) {
        let t = try transfer(level: level)
        return (t.fine, t.coarse)
    }

    func applyTransfer(level: Int, prolong: Bool, _ src: UnsafeBufferPointer<Double>, into dst: UnsafeMutableBufferPointer<Double>) throws {
        let t = try transfer(level: level)
        if prolong {
            dst.update(repeating: 0)
            t.prolongAdd(src, into: dst)
        } else {
            t.restrict(src, into: dst)
        }
    }
}

extension Multigrid2D: MultigridSolverObject {
    func transferSizes(level: Int) throws -> (Int, Int) {
        let t = try transfer(level: level)
        return (t.fineHeight * t.fineWidth, t.coarseHeight * t.coarseWidth)
    }

    func applyTransfer(level: Int, prolong: Bool, _ src: UnsafeBufferPointer<Double>, into dst: UnsafeMutableBufferPointer<Double>) throws {
        let t = try transfer(level: level)
        if prolong {
            dst.update(repeating: 0)
            t.prolongAdd(src.baseAddress!, into: dst.baseAddress!)
        } else {
            t.restrict(src.baseAddress!, into: dst.baseAddress!)
        }
    }
}

/// `(H, W, 9·H·W)` from the C sides, every count checked.
private func fieldShape(_ height: Int64, _ width: Int64) throws -> (Int, Int, Int) {
    let h = try Buffers.count(height, "height"), w = try Buffers.count(width, "width")
    guard h >= 1, w >= 1 else { throw PDEBlocksError.invalidArgument("height and width must be ≥ 1, got \(h)×\(w)") }
    let n = try Buffers.product(height, width, "height·width")
    return (h, w, try Memory.count(9, n, for: "the stencil field"))
}

/// Writes a field's coefficients to a caller buffer of exactly 9·H·W values.
private func writeField(_ A: StencilField2D, _ out: UnsafeMutablePointer<Double>?, _ capacity: Int64) throws {
    let cap = try Buffers.count(capacity, "capacity")
    guard cap == A.coefficients.count else {
        throw PDEBlocksError.invalidArgument("coefficients must hold 9·H·W = \(A.coefficients.count) values, capacity is \(cap)")
    }
    _ = try Buffers.output(out, cap, "coefficients").update(fromContentsOf: A.coefficients)
}

@_cdecl("pdb_poisson_2d")
public func pdb_poisson_2d(
    _ height: Int64, _ width: Int64, _ h: Double, _ coefficients: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> Int32 {
    guarded {
        let (hh, ww, total) = try fieldShape(height, width)
        guard try Buffers.count(capacity, "capacity") == total else {
            throw PDEBlocksError.invalidArgument("coefficients must hold 9·H·W = \(total) values, capacity is \(capacity)")
        }
        _ = try Buffers.output(coefficients, total, "coefficients")
        try writeField(try StencilField2D.poisson2D(height: hh, width: ww, h: h), coefficients, capacity)
    }
}

@_cdecl("pdb_diffusion_system_2d")
public func pdb_diffusion_system_2d(
    _ height: Int64, _ width: Int64, _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ w: UnsafePointer<Double>?, _ wCount: Int64, _ tau: Double,
    _ coefficients: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> Int32 {
    guarded {
        let (hh, ww, total) = try fieldShape(height, width)
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let count = try Buffers.count(wCount, "w_count")
        let n = hh * ww
        guard count == n || (count == bank.count * n && bank.count > 1) else {
            throw PDEBlocksError.invalidArgument(
                "w_count must be H·W = \(n) (isotropic) or filters·H·W = \(bank.count * n), got \(count)")
        }
        let wb = try Buffers.input(w, count, "w")
        guard try Buffers.count(capacity, "capacity") == total else {
            throw PDEBlocksError.invalidArgument("coefficients must hold 9·H·W = \(total) values, capacity is \(capacity)")
        }
        let dst = try Buffers.output(coefficients, total, "coefficients")
        try Aliasing.require(Extent("coefficients", dst), Extent("w", wb))
        let A = try StencilField2D.diffusionSystem(bank: bank, weights: wb, height: hh, width: ww, tau: tau)
        _ = dst.update(fromContentsOf: A.coefficients)
    }
}

/// A caller's stencil field, checked (copied).
private func field(_ height: Int64, _ width: Int64, _ coefficients: UnsafePointer<Double>?, grid: GridKind = .unknown) throws -> StencilField2D {
    let (hh, ww, total) = try fieldShape(height, width)
    let c = try Buffers.input(coefficients, total, "coefficients")
    try Memory.reserve(total, for: "a copy of the stencil field")
    return try StencilField2D(height: hh, width: ww, coefficients: Array(c), grid: grid)
}

@_cdecl("pdb_stencil_field_matvec")
public func pdb_stencil_field_matvec(
    _ height: Int64, _ width: Int64, _ coefficients: UnsafePointer<Double>?, _ x: UnsafePointer<Double>?,
    _ batch: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let (hh, ww, total) = try fieldShape(height, width)
        let c = try Buffers.input(coefficients, total, "coefficients")
        let (rows, len, all) = try Buffers.signals(batch, Int64(hh * ww))
        let src = try Buffers.input(x, all, "x")
        let dst = try Buffers.output(out, all, "out")
        try Aliasing.require(Extent("out", dst), Extent("x", src), Extent("coefficients", c))
        try StencilField2D.validate(c, height: hh, width: ww)
        try VectorFiniteCheck.require(src, "x")
        let five = StencilField2D.isFivePoint(c, count: len)
        for r in 0..<rows {
            _ = StencilField2D.multiply(
                c.baseAddress!, height: hh, width: ww, fivePoint: five, x: src.baseAddress! + r * len,
                into: dst.baseAddress! + r * len)
        }
    }
}

@_cdecl("pdb_mg2d_create")
public func pdb_mg2d_create(
    _ height: Int64, _ width: Int64, _ coefficients: UnsafePointer<Double>?, _ grid: Int32,
    _ smoother: Int32, _ omega: Double, _ pre: Int64, _ post: Int64, _ cycle: Int32,
    _ transfer: Int32, _ coarsest: Int64, _ maxLevels: Int64, _ handle: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(handle, "handle")
        let g = try GridKind.decode(grid)
        let s = try Smoother.decode(smoother)
        let c = try CycleKind.decode(cycle)
        let t = try TransferKind.decode(transfer)
        guard !omega.isNaN else { throw PDEBlocksError.invalidArgument("omega is NaN") }
        let A = try field(height, width, coefficients, grid: g)
        let options = MultigridOptions(
            smoother: s, omega: omega > 0 ? omega : nil,
            preSmoothing: Int(clamping: pre), postSmoothing: Int(clamping: post), cycle: c,
            transfer: t, coarsest: Int(clamping: coarsest), maxLevels: maxLevels > 0 ? Int(clamping: maxLevels) : nil)
        let mg = try Multigrid2D(A, options: options)
        out.pointee = Handles.register(mg, type: multigrid2DType)
    }
}

@_cdecl("pdb_mg2d_levels")
public func pdb_mg2d_levels(
    _ handle: OpaquePointer?, _ heights: UnsafeMutablePointer<Int64>?, _ widths: UnsafeMutablePointer<Int64>?,
    _ capacity: Int64, _ count: UnsafeMutablePointer<Int64>?, _ transfer: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        let mg = try multigrid2D(handle)
        let countOut = try Buffers.scalar(count, "count")
        let cap = try Buffers.count(capacity, "capacity")
        try Aliasing.require(
            outputs: [Extent("heights", heights, count: cap), Extent("widths", widths, count: cap),
                      Extent(scalar: "count", countOut), Extent(scalar: "transfer", transfer)],
            inputs: [])
        let shapes = mg.shapes
        if cap > 0 || heights != nil || widths != nil {
            guard cap >= shapes.count, let heights, let widths else {
                throw PDEBlocksError.invalidArgument(
                    "heights and widths must hold \(shapes.count) values each, capacity is \(cap)")
            }
            for (l, s) in shapes.enumerated() {
                heights[l] = Int64(s.height)
                widths[l] = Int64(s.width)
            }
        }
        countOut.pointee = Int64(shapes.count)
        transfer?.pointee = mg.transferKind.rawValue
    }
}

@_cdecl("pdb_mg2d_level_operator")
public func pdb_mg2d_level_operator(
    _ handle: OpaquePointer?, _ level: Int64, _ height: UnsafeMutablePointer<Int64>?, _ width: UnsafeMutablePointer<Int64>?,
    _ coefficients: UnsafeMutablePointer<Double>?, _ capacity: Int64
) -> Int32 {
    guarded {
        let mg = try multigrid2D(handle)
        let (hOut, wOut) = (try Buffers.scalar(height, "height"), try Buffers.scalar(width, "width"))
        let cap = try Buffers.count(capacity, "capacity")
        try Aliasing.require(
            outputs: [Extent(scalar: "height", hOut), Extent(scalar: "width", wOut),
                      Extent("coefficients", coefficients, count: cap)], inputs: [])
        let A = try mg.matrix(level: Int(clamping: level))
        if cap > 0 || coefficients != nil {
            guard cap >= A.coefficients.count else {
                throw PDEBlocksError.invalidArgument("coefficients must hold \(A.coefficients.count) values, capacity is \(cap)")
            }
            _ = try Buffers.output(coefficients, A.coefficients.count, "coefficients").update(fromContentsOf: A.coefficients)
        }
        hOut.pointee = Int64(A.height)
        wOut.pointee = Int64(A.width)
    }
}
