import PDEBlocks

/// Validated image sizes: `(batch, height, width)` all positive, with `batch·height·width`
/// and `batch·C·height·width` checked for overflow.
private func imageSizes(_ batch: Int64, _ height: Int64, _ width: Int64, channels: Int) throws
    -> (batch: Int, height: Int, width: Int, pixels: Int, stacked: Int)
{
    guard batch > 0 else { throw PDEBlocksError.invalidArgument("batch must be positive, got \(batch)") }
    guard height > 0, width > 0 else {
        throw PDEBlocksError.invalidArgument("image size must be positive, got height = \(height), width = \(width)")
    }
    let n = try Buffers.product(height, width, "height·width")
    let pixels = try Buffers.product(batch, Int64(n), "batch·height·width")
    let stacked = try Buffers.product(Int64(pixels), Int64(channels), "batch·filters·height·width")
    return (Int(batch), Int(height), Int(width), pixels, stacked)
}

/// The extents of the bank's two arrays, for the aliasing checks.
private func bankExtents(_ bank: [Stencil2D], _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?)
    -> (Extent, Extent)
{
    (Extent("filter_shapes", shapes, count: 4 * bank.count),
     Extent("filter_weights", weights, count: bank.reduce(0) { $0 + $1.weights.count }))
}

/// `out = K u` (images to stacks) or `out = Kᵀ v` (stacks to images) for a batch; the shared
/// body of `pdb_stencil2d_apply` and `pdb_stencil2d_adjoint`.
private func bankMap(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ x: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ out: UnsafeMutablePointer<Double>?,
    transposed: Bool
) -> Int32 {
    guarded {
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let s = try imageSizes(batch, height, width, channels: bank.count)
        let src = try Buffers.input(x, transposed ? s.stacked : s.pixels, transposed ? "v" : "u")
        let dst = try Buffers.output(out, transposed ? s.pixels : s.stacked, "out")
        let (es, ew) = bankExtents(bank, shapes, weights)
        // K u reads neighbours of each pixel: not in place
        try Aliasing.require(Extent("out", dst), Extent(transposed ? "v" : "u", src), es, ew)
        try Check.allFinite(src, transposed ? "v" : "u")
        if transposed {
            FilterBank2D.adjoint(bank, src, batch: s.batch, height: s.height, width: s.width, into: dst)
        } else {
            FilterBank2D.apply(bank, src, batch: s.batch, height: s.height, width: s.width, into: dst)
        }
    }
}

@_cdecl("pdb_stencil2d_apply")
public func pdb_stencil2d_apply(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ u: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    bankMap(filters, shapes, weights, u, batch, height, width, out, transposed: false)
}

@_cdecl("pdb_stencil2d_adjoint")
public func pdb_stencil2d_adjoint(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ v: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    bankMap(filters, shapes, weights, v, batch, height, width, out, transposed: true)
}

@_cdecl("pdb_stencil2d_matrix")
public func pdb_stencil2d_matrix(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ height: Int64, _ width: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let s = try imageSizes(1, height, width, channels: bank.count)
        let (entries, overflow) = s.stacked.multipliedReportingOverflow(by: s.pixels)
        guard !overflow, entries <= FilterBank2D.maxMatrixEntries else {
            throw PDEBlocksError.invalidArgument(
                "dense matrix of a \(bank.count)-filter bank on \(height)×\(width) images is too large "
                    + "(more than \(FilterBank2D.maxMatrixEntries) entries)")
        }
        let dst = try Buffers.output(out, entries, "out")  // before building
        let (es, ew) = bankExtents(bank, shapes, weights)
        try Aliasing.require(Extent("out", dst), es, ew)
        try Memory.reserve(entries, for: "the dense matrix of a filter bank")
        let m = try FilterBank2D.matrix(bank, height: s.height, width: s.width)
        _ = dst.update(fromContentsOf: m)
    }
}

@_cdecl("pdb_filter_bank_norm_squared")
public func pdb_filter_bank_norm_squared(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ height: Int64, _ width: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let s = try imageSizes(1, height, width, channels: bank.count)
        let dst = try Buffers.scalar(out, "out")
        let (es, ew) = bankExtents(bank, shapes, weights)
        try Aliasing.require(Extent(scalar: "out", dst), es, ew)
        dst.pointee = try ImageStability.lambdaMax(bank, height: s.height, width: s.width)
    }
}

@_cdecl("pdb_stable_tau_2d")
public func pdb_stable_tau_2d(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ weights: UnsafePointer<Double>?,
    _ kind: Int32, _ lambda: Double, _ height: Int64, _ width: Int64, _ tau: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let bank = try FilterBankArgument.decode(filters, shapes, weights)
        let g = try Buffers.diffusivity(kind, lambda)
        let s = try imageSizes(1, height, width, channels: bank.count)
        let dst = try Buffers.scalar(tau, "tau")
        let (es, ew) = bankExtents(bank, shapes, weights)
        try Aliasing.require(Extent(scalar: "tau", dst), es, ew)
        dst.pointee = try ImageStability.stableTau(bank, diffusivity: g, height: s.height, width: s.width)
    }
}
