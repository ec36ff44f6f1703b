import PDEBlocks

/// `out = K u` (or `Kᵀ u`) for each row of a (batch, n) block; the shared body of
/// `pdb_stencil_apply` and `pdb_stencil_adjoint`.
private func stencilMap(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ u: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ out: UnsafeMutablePointer<Double>?, transposed: Bool
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let (b, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(u, total, "u")
        let dst = try Buffers.output(out, total, "out")
        // K u reads neighbours of each sample: not in place
        try Aliasing.require(Extent("out", dst), Extent(transposed ? "v" : "u", src), Extent("weights", w, count: K.count))
        try Check.allFinite(src, "u")
        for r in 0..<b {
            let x = UnsafeBufferPointer(rebasing: src[(r * len)..<((r + 1) * len)])
            let y = UnsafeMutableBufferPointer(rebasing: dst[(r * len)..<((r + 1) * len)])
            if transposed { K.applyTransposed(x, into: y) } else { K.apply(x, into: y) }
        }
    }
}

@_cdecl("pdb_stencil_apply")
public func pdb_stencil_apply(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ u: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    stencilMap(w, q, offset, u, batch, n, out, transposed: false)
}

@_cdecl("pdb_stencil_adjoint")
public func pdb_stencil_adjoint(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ v: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    stencilMap(w, q, offset, v, batch, n, out, transposed: true)
}

@_cdecl("pdb_stencil_matrix")
public func pdb_stencil_matrix(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ n: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let len = try Buffers.count(n, "n")
        // before building: the n·n matrix may take gigabytes
        guard out != nil else { throw NullPointer(name: "out") }
        let m = try K.matrix(n: len)
        let dst = try Buffers.output(out, m.count, "out")
        try Aliasing.require(Extent("out", dst), Extent("weights", w, count: K.count))
        _ = dst.update(fromContentsOf: m)
    }
}

@_cdecl("pdb_stencil_norm_squared")
public func pdb_stencil_norm_squared(
    _ w: UnsafePointer<Double>?, _ q: Int64, _ offset: Int64, _ n: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, q, offset)
        let dst = try Buffers.scalar(out, "out")
        dst.pointee = try K.normSquared(n: try Buffers.count(n, "n"))
    }
}

@_cdecl("pdb_difference_operator")
public func pdb_difference_operator(
    _ alphas: UnsafePointer<Double>?, _ count: Int64, _ h: Double,
    _ weights: UnsafeMutablePointer<Double>?, _ capacity: Int64,
    _ length: UnsafeMutablePointer<Int64>?, _ offset: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let m = try Buffers.count(count, "count")
        let a = try Buffers.input(alphas, m, "alphas")
        let lengthOut = try Buffers.scalar(length, "length")
        let offsetOut = try Buffers.scalar(offset, "offset")
        let cap = try Buffers.count(capacity, "capacity")
        try Aliasing.require(
            outputs: [Extent("weights", weights, count: cap), Extent(scalar: "length", lengthOut), Extent(scalar: "offset", offsetOut)],
            inputs: [Extent("alphas", a)])
        let K = try Stencil.differenceOperator(alphas: Array(a), h: h)
        if weights == nil && cap == 0 {  // size query
            lengthOut.pointee = Int64(K.count)
            offsetOut.pointee = Int64(K.offset)
            return
        }
        guard cap >= K.count else {
            throw PDEBlocksError.invalidArgument("capacity \(cap) is below the stencil length \(K.count)")
        }
        let dst = try Buffers.output(weights, K.count, "weights")
        _ = dst.update(fromContentsOf: K.weights)
        lengthOut.pointee = Int64(K.count)
        offsetOut.pointee = Int64(K.offset)
    }
}
