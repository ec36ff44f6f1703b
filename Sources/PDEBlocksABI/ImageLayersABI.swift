import PDEBlocks

/// Validated `(batch, height, width)` and `batch·height·width`.
private func imageBatch(_ batch: Int64, _ height: Int64, _ width: Int64) throws -> (Int, Int, Int, Int) {
    guard batch > 0 else { throw PDEBlocksError.invalidArgument("batch must be positive, got \(batch)") }
    guard height > 0, width > 0 else {
        throw PDEBlocksError.invalidArgument("image size must be positive, got height = \(height), width = \(width)")
    }
    let total = try Buffers.product(Int64(try Buffers.product(batch, height, "batch·height")), width, "batch·height·width")
    return (Int(batch), Int(height), Int(width), total)
}

@_cdecl("pdb_image_block_parameter_count")
public func pdb_image_block_parameter_count(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32, _ kinds: UnsafePointer<Int32>?,
    _ terms: UnsafePointer<Int64>?, _ flags: Int32, _ count: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(count, "count")
        out.pointee = Int64(try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags).count)
    }
}

@_cdecl("pdb_image_block_tau_bound")
public func pdb_image_block_tau_bound(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32, _ kinds: UnsafePointer<Int32>?,
    _ terms: UnsafePointer<Int64>?, _ flags: Int32, _ params: UnsafePointer<Double>?, _ count: Int64,
    _ height: Int64, _ width: Int64, _ bound: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let out = try Buffers.scalar(bound, "bound")
        let (block, _) = try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags).block(params, count)
        let (_, h, w, _) = try imageBatch(1, height, width)
        out.pointee = try block.certifiedTauBound(height: h, width: w)
    }
}

@_cdecl("pdb_image_block_forward")
public func pdb_image_block_forward(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32, _ kinds: UnsafePointer<Int32>?,
    _ terms: UnsafePointer<Int64>?, _ flags: Int32, _ params: UnsafePointer<Double>?, _ count: Int64,
    _ u: UnsafePointer<Double>?, _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let arg = try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags)
        let (block, p) = try arg.block(params, count)
        let (b, h, w, total) = try imageBatch(batch, height, width)
        let ub = try Buffers.input(u, total, "u")
        let fb = block.muParameter == nil ? nil : try Buffers.input(f, total, "f")
        let ob = try Buffers.output(out, total, "out")
        try Aliasing.require(outputs: [Extent("out", ob)],
                             inputs: arg.extents + [Extent("params", p), Extent("u", ub), Extent("f", fb)])
        try block.forward(ub, data: fb, batch: b, height: h, width: w, into: ob)
    }
}

@_cdecl("pdb_image_block_backward")
public func pdb_image_block_backward(
    _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32, _ kinds: UnsafePointer<Int32>?,
    _ terms: UnsafePointer<Int64>?, _ flags: Int32, _ params: UnsafePointer<Double>?, _ count: Int64,
    _ gradOut: UnsafePointer<Double>?, _ u: UnsafePointer<Double>?, _ f: UnsafePointer<Double>?,
    _ batch: Int64, _ height: Int64, _ width: Int64,
    _ gradU: UnsafeMutablePointer<Double>?, _ gradF: UnsafeMutablePointer<Double>?,
    _ gradParams: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let arg = try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags)
        let (block, p) = try arg.block(params, count)
        let (b, h, w, total) = try imageBatch(batch, height, width)
        let vb = try Buffers.input(gradOut, total, "grad_out")
        let ub = try Buffers.input(u, total, "u")
        let fb = block.muParameter == nil ? nil : try Buffers.input(f, total, "f")
        let gu = try Buffers.output(gradU, total, "grad_u")
        let gf = gradF == nil ? nil : try Buffers.output(gradF, total, "grad_f")
        let gp = try Buffers.output(gradParams, block.parameterCount, "grad_params")
        try Aliasing.require(
            outputs: [Extent("grad_u", gu), Extent("grad_f", gf), Extent("grad_params", gp)],
            inputs: arg.extents + [Extent("params", p), Extent("grad_out", vb), Extent("u", ub), Extent("f", fb)])
        try block.backward(vb, input: ub, data: fb, batch: b, height: h, width: w, gradU: gu, gradF: gf, gradParameters: gp)
    }
}
