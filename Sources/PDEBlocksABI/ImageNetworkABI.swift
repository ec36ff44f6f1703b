import PDEBlocks

/// Validated `(batch, height, width)`: `(batch, height, width, batch·height·width)`.
func imageShape(_ batch: Int64, _ height: Int64, _ width: Int64) throws -> (Int, Int, Int, Int) {
    guard batch > 0 else { throw PDEBlocksError.invalidArgument("batch must be positive, got \(batch)") }
    guard height > 0, width > 0 else {
        throw PDEBlocksError.invalidArgument("image size must be positive, got height = \(height), width = \(width)")
    }
    let total = try Buffers.product(Int64(try Buffers.product(batch, height, "batch·height")), width, "batch·height·width")
    return (Int(batch), Int(height), Int(width), total)
}

/// Validated certificate image size.
private func certificateSize(_ height: Int64, _ width: Int64) throws -> (Int, Int) {
    guard height > 0, width > 0, height <= 1 << 20, width <= 1 << 20 else {
        throw PDEBlocksError.invalidArgument("certificate image size must be in 1...\(1 << 20), got \(height)×\(width)")
    }
    return (Int(height), Int(width))
}

@_cdecl("pdb_image_network_create")
public func pdb_image_network_create(_ net: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(net, "net")
        out.pointee = Handles.register(ImageNetworkObject(ImageNetwork()), type: ImageNetworkObject.type)
    }
}

@_cdecl("pdb_image_network_destroy")
public func pdb_image_network_destroy(_ net: OpaquePointer?) -> Int32 {
    guarded { try Handles.destroy(net, type: ImageNetworkObject.type) }
}

@_cdecl("pdb_image_network_add_diffusion")
public func pdb_image_network_add_diffusion(
    _ net: OpaquePointer?, _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32,
    _ kinds: UnsafePointer<Int32>?, _ terms: UnsafePointer<Int64>?, _ flags: Int32,
    _ params: UnsafePointer<Double>?, _ count: Int64
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        let (block, _) = try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags).block(params, count)
        try ImageNetworkObject.modify(net) { $0.append(block) }
    }
}

/// Appends an FSI block (`FSIBlock2D`): one cycle of `cycleLength` extrapolated steps of the
/// diffusion block described as for `pdb_image_network_add_diffusion`.
@_cdecl("pdb_image_network_add_fsi")
public func pdb_image_network_add_fsi(
    _ net: OpaquePointer?, _ cycleLength: Int64, _ filters: Int64, _ shapes: UnsafePointer<Int64>?, _ coupling: Int32,
    _ kinds: UnsafePointer<Int32>?, _ terms: UnsafePointer<Int64>?, _ flags: Int32,
    _ params: UnsafePointer<Double>?, _ count: Int64
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        guard (1...Int64(FSIBlock2D.maxCycleLength)).contains(cycleLength) else {
            throw PDEBlocksError.invalidArgument("cycle_length = \(cycleLength): a 2D FSI block has 1...\(FSIBlock2D.maxCycleLength)")
        }
        let (step, _) = try ImageBlockArgument(filters, shapes, coupling, kinds, terms, flags).block(params, count)
        let block = try FSIBlock2D(step: step, cycleLength: Int(cycleLength))
        try ImageNetworkObject.modify(net) { $0.append(block) }
    }
}

@_cdecl("pdb_image_network_add_residual")
public func pdb_image_network_add_residual(
    _ net: OpaquePointer?, _ channels: Int64, _ w1Shapes: UnsafePointer<Int64>?, _ w2Shapes: UnsafePointer<Int64>?,
    _ activation: Int32, _ params: UnsafePointer<Double>?, _ count: Int64
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        let c = try Buffers.count(channels, "channels")
        guard (1...DiffusionBlock2D.maxFilters).contains(c) else {
            throw PDEBlocksError.invalidArgument("channels = \(c): a 2D residual block has 1...\(DiffusionBlock2D.maxFilters)")
        }
        let s1 = try ImageBlockArgument.shapes(c, w1Shapes, "w1_shapes")
        let s2 = try ImageBlockArgument.shapes(c, w2Shapes, "w2_shapes")
        let sigma: Activation
        switch try ActivationKind.decode(activation, "activation") {
        case .identity: sigma = .identity
        case .relu: sigma = .relu
        case .tanh: sigma = .tanh
        case .flux: throw PDEBlocksError.invalidArgument("a 2D residual block takes the identity, ReLU or tanh activation, not flux")
        }
        let expected = (s1 + s2).reduce(c) { $0 + $1.rows * $1.columns }
        guard count == Int64(expected) else {
            throw PDEBlocksError.invalidArgument("count = \(count): the described residual block has \(expected) parameters")
        }
        let p = try Buffers.input(params, expected, "params")
        try Check.allFinite(p, "params")
        var k = 0
        func bank(_ shapes: [(rows: Int, columns: Int, oy: Int, ox: Int)]) throws -> [Stencil2D] {
            try shapes.map { s in
                defer { k += s.rows * s.columns }
                return try Stencil2D(weights: Array(p[k..<(k + s.rows * s.columns)]), rows: s.rows, columns: s.columns,
                                     offsetY: s.oy, offsetX: s.ox)
            }
        }
        let w1 = try bank(s1), w2 = try bank(s2)
        let block = try ResidualBlock2D(w1: w1, w2: w2, biases: Array(p[k...]), activation: sigma)
        try ImageNetworkObject.modify(net) { $0.append(block) }
    }
}

@_cdecl("pdb_image_network_block_count")
public func pdb_image_network_block_count(_ net: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(count, "count")
        out.pointee = Int64(try ImageNetworkObject.read(net) { $0.blocks.count })
    }
}

/// Block `index`'s kind (`PDB_BLOCK_DIFFUSION` for a DiffusionBlock2D, `PDB_BLOCK_RESIDUAL` for
/// a ResidualBlock2D, `PDB_BLOCK_FSI` for an FSIBlock2D) and its slice of the flat parameter vector.
@_cdecl("pdb_image_network_block_info")
public func pdb_image_network_block_info(
    _ net: OpaquePointer?, _ index: Int64, _ kind: UnsafeMutablePointer<Int32>?,
    _ parameterOffset: UnsafeMutablePointer<Int64>?, _ parameterCount: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let outputs = try BlockInfoOutputs(kind, parameterOffset, parameterCount)
        let (bk, range) = try ImageNetworkObject.read(net) { n -> (BlockKind, Range<Int>) in
            let i = try BlockInfoOutputs.block(index, of: n.blocks.count, in: "image network")
            let kind: BlockKind
            switch n.blocks[i].kind {
            case .diffusion: kind = .diffusion
            case .residual: kind = .residual
            case .fsi: kind = .fsi
            }
            return (kind, n.parameterRanges[i])
        }
        outputs.write(bk, range)
    }
}

@_cdecl("pdb_image_network_parameter_count")
public func pdb_image_network_parameter_count(_ net: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(count, "count")
        out.pointee = Int64(try ImageNetworkObject.read(net) { $0.parameterCount })
    }
}

@_cdecl("pdb_image_network_get_parameters")
public func pdb_image_network_get_parameters(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?, _ count: Int64) -> Int32 {
    guarded {
        let m = try Buffers.count(count, "count")
        let p = try ImageNetworkObject.read(net) { n -> [Double] in
            guard m == n.parameterCount else {
                throw PDEBlocksError.invalidArgument("the image network has \(n.parameterCount) parameters, count is \(m)")
            }
            return n.parameters
        }
        _ = try Buffers.output(out, m, "out").update(fromContentsOf: p)
    }
}

@_cdecl("pdb_image_network_set_parameters")
public func pdb_image_network_set_parameters(_ net: OpaquePointer?, _ params: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        let m = try Buffers.count(count, "count")
        let p = Array(try Buffers.input(params, m, "params"))
        try ImageNetworkObject.modify(net) { try $0.setParameters(p) }
    }
}

@_cdecl("pdb_image_network_set_threads")
public func pdb_image_network_set_threads(_ net: OpaquePointer?, _ threads: Int32) -> Int32 {
    guarded {
        guard threads >= 0, threads <= 4096 else {
            throw PDEBlocksError.invalidArgument("threads must be in 0...4096 (0 = one per processor), got \(threads)")
        }
        try ImageNetworkObject.get(net).locked { n, _, _ in n.threads = Int(threads) }
    }
}

@_cdecl("pdb_image_network_forward")
public func pdb_image_network_forward(
    _ net: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ flags: Int32, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        try ForwardFlag.validate(flags)
        let (b, h, w, total) = try imageShape(batch, height, width)
        let src = try Buffers.input(x, total, "x")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst), Extent("x", src))
        let inference = ForwardFlag.inference.isSet(in: flags)
        try ImageNetworkObject.compute(net) { n, tape in
            if inference {
                try n.infer(src, into: dst, batch: b, height: h, width: w, workspace: tape.workspace)
            } else {
                try n.forward(src, into: dst, batch: b, height: h, width: w, tape: tape)
            }
        }
    }
}

@_cdecl("pdb_image_network_backward")
public func pdb_image_network_backward(
    _ net: OpaquePointer?, _ gradOut: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64,
    _ gradIn: UnsafeMutablePointer<Double>?, _ gradParams: UnsafeMutablePointer<Double>?, _ paramCount: Int64
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        let (b, h, w, total) = try imageShape(batch, height, width)
        let g = try Buffers.input(gradOut, total, "grad_out")
        let gi = try Buffers.output(gradIn, total, "grad_in")
        let m = try Buffers.count(paramCount, "param_count")
        let gp = try Buffers.output(gradParams, m, "grad_params")
        try Aliasing.require(outputs: [Extent("grad_in", gi), Extent("grad_params", gp)], inputs: [Extent("grad_out", g)])
        try ImageNetworkObject.compute(net) { n, tape in
            guard tape.isValid else {
                throw PDEBlocksError.invalidArgument(
                    "no recorded forward pass: call pdb_image_network_forward (without PDB_FORWARD_INFERENCE) after the "
                        + "last change of the network or its parameters")
            }
            guard tape.batch == b, tape.height == h, tape.width == w else {
                throw PDEBlocksError.invalidArgument(
                    "grad_out is (\(b), \(h), \(w)) but the recorded pass was (\(tape.batch), \(tape.height), \(tape.width))")
            }
            try tape.backward(g, gradIn: gi, gradParameters: gp)
        }
    }
}

@_cdecl("pdb_image_network_loss_and_gradient")
public func pdb_image_network_loss_and_gradient(
    _ net: OpaquePointer?, _ x: UnsafePointer<Double>?, _ target: UnsafePointer<Double>?, _ batch: Int64,
    _ height: Int64, _ width: Int64, _ loss: UnsafeMutablePointer<Double>?, _ gradParams: UnsafeMutablePointer<Double>?,
    _ paramCount: Int64
) -> Int32 {
    guarded {
        _ = try ImageNetworkObject.get(net)
        let (b, h, w, total) = try imageShape(batch, height, width)
        let xs = try Buffers.input(x, total, "x"), ts = try Buffers.input(target, total, "target")
        let l = try Buffers.scalar(loss, "loss")
        let m = try Buffers.count(paramCount, "param_count")
        let gp = try Buffers.output(gradParams, m, "grad_params")
        try Aliasing.require(outputs: [Extent(scalar: "loss", l), Extent("grad_params", gp)],
                             inputs: [Extent("x", xs), Extent("target", ts)])
        let value = try ImageNetworkObject.compute(net) { n, tape in
            try n.lossAndGradient(xs, target: ts, batch: b, height: h, width: w, gradParameters: gp, tape: tape)
        }
        l.pointee = value
    }
}

@_cdecl("pdb_image_network_certificate")
public func pdb_image_network_certificate(
    _ net: OpaquePointer?, _ height: Int64, _ width: Int64, _ certified: UnsafeMutablePointer<Int32>?,
    _ firstFailure: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let (c, f) = (try Buffers.scalar(certified, "certified"), try Buffers.scalar(firstFailure, "first_failure"))
        try Aliasing.require(Extent(scalar: "certified", c), Extent(scalar: "first_failure", f))
        let (h, w) = try certificateSize(height, width)
        let cert = try ImageNetworkObject.compute(net) { n, _ in try n.certificate(height: h, width: w) }
        c.pointee = cert.certified ? 1 : 0
        f.pointee = Int64(cert.firstFailure ?? -1)
    }
}

@_cdecl("pdb_image_network_block_certificate")
public func pdb_image_network_block_certificate(
    _ net: OpaquePointer?, _ index: Int64, _ height: Int64, _ width: Int64, _ certified: UnsafeMutablePointer<Int32>?,
    _ tau: UnsafeMutablePointer<Double>?, _ tauBound: UnsafeMutablePointer<Double>?,
    _ reason: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ reasonLength: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let c = try Buffers.scalar(certified, "certified")
        let t = try Buffers.scalar(tau, "tau"), b = try Buffers.scalar(tauBound, "tau_bound")
        _ = try Buffers.scalar(reasonLength, "reason_length")
        let cap = try Buffers.count(capacity, "capacity")
        if cap > 0, reason == nil { throw NullPointer(name: "reason") }
        try Aliasing.require(
            outputs: [Extent(scalar: "certified", c), Extent(scalar: "tau", t), Extent(scalar: "tau_bound", b),
                      Extent("reason", reason, count: cap), Extent(scalar: "reason_length", reasonLength)],
            inputs: [])
        let (h, w) = try certificateSize(height, width)
        let cert = try ImageNetworkObject.compute(net) { n, _ -> ImageBlockCertificate in
            guard index >= 0, index < Int64(n.blocks.count) else {
                throw PDEBlocksError.invalidArgument("block index \(index) is out of range (the network has \(n.blocks.count) blocks)")
            }
            return try n.blocks[Int(index)].certificate(height: h, width: w)
        }
        c.pointee = cert.certified ? 1 : 0
        t.pointee = cert.tau
        b.pointee = cert.tauBound
        try writeText(cert.reason, reason, capacity, reasonLength)
    }
}

@_cdecl("pdb_image_network_save")
public func pdb_image_network_save(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let p = try Buffers.path(path, "path")
        let network = try ImageNetworkObject.read(net) { $0 }
        guard !network.blocks.isEmpty else { throw PDEBlocksError.invalidArgument("the image network has no blocks") }
        try network.save(to: p)
    }
}

@_cdecl("pdb_image_network_load")
public func pdb_image_network_load(_ path: UnsafePointer<CChar>?, _ net: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let p = try Buffers.path(path, "path")
        let out = try Buffers.scalar(net, "net")
        let network = try ImageNetwork.load(from: p)
        out.pointee = Handles.register(ImageNetworkObject(network), type: ImageNetworkObject.type)
    }
}
