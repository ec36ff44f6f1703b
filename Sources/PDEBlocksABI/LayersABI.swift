import PDEBlocks

private func stepSize(_ tau: Double, _ mode: Int32) throws -> StepSize {
    switch try StepSize.Mode.decode(mode) {
    case .free:
        try Check.finite(tau, "tau")
        return .free(tau)
    case .bounded:
        return try .bounded(fraction: tau)
    }
}

private func activation(_ kind: Int32, _ dkind: Int32, _ lambda: Double, _ tau: Double, _ name: String) throws -> Activation {
    switch try ActivationKind.decode(kind, name) {
    case .identity: return .identity
    case .relu: return .relu
    case .tanh: return .tanh
    case .flux: return try .flux(try Buffers.diffusivity(dkind, lambda, name), tau: tau)
    }
}

/// Writes `text` into a caller buffer of `capacity` bytes (NUL-terminated, truncated) and its
/// full UTF-8 length into `length`; `buffer == NULL` with `capacity == 0` is a size query.
func writeText(_ text: String, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ length: UnsafeMutablePointer<Int64>?) throws {
    let cap = try Buffers.count(capacity, "capacity")
    let out = try Buffers.scalar(length, "length")
    let utf8 = Array(text.utf8)
    if cap > 0 {
        guard let buffer else { throw NullPointer(name: "text") }
        let m = min(utf8.count, cap - 1)
        for i in 0..<m { buffer[i] = CChar(bitPattern: utf8[i]) }
        buffer[m] = 0
    }
    out.pointee = Int64(utf8.count)
}

@_cdecl("pdb_network_create")
public func pdb_network_create(_ net: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(net, "net")
        out.pointee = Handles.register(NetworkObject(Network()), type: NetworkObject.type)
    }
}

@_cdecl("pdb_network_destroy")
public func pdb_network_destroy(_ net: OpaquePointer?) -> Int32 {
    guarded { try Handles.destroy(net, type: NetworkObject.type) }
}

@_cdecl("pdb_network_add_diffusion")
public func pdb_network_add_diffusion(_ net: OpaquePointer?, _ tau: Double, _ tauMode: Int32) -> Int32 {
    guarded {
        let block = try DiffusionBlock(filters: [], diffusivities: [], step: try stepSize(tau, tauMode))
        try NetworkObject.with(net) { $0.network.append(block); $0.dropTapes() }
    }
}

@_cdecl("pdb_network_add_fsi")
public func pdb_network_add_fsi(_ net: OpaquePointer?, _ tau: Double, _ tauMode: Int32, _ cycleLength: Int64) -> Int32 {
    guarded {
        let step = try DiffusionBlock(filters: [], diffusivities: [], step: try stepSize(tau, tauMode))
        let block = try FSIBlock(step: step, cycleLength: Int(clamping: cycleLength))
        try NetworkObject.with(net) { $0.network.append(block); $0.dropTapes() }
    }
}

@_cdecl("pdb_network_add_implicit")
public func pdb_network_add_implicit(_ net: OpaquePointer?, _ tau: Double, _ tauMode: Int32, _ iterations: Int64) -> Int32 {
    guarded {
        let step = try DiffusionBlock(filters: [], diffusivities: [], step: try stepSize(tau, tauMode))
        let block = try ImplicitBlock(step: step, iterations: Int(clamping: iterations))
        try NetworkObject.with(net) { $0.network.append(block); $0.dropTapes() }
    }
}

/// Adds a filter to the last block, which must be a diffusion, FSI or implicit block.
private func addFilter(_ net: OpaquePointer?, _ K: Stencil, _ g: ChannelDiffusivity) throws {
    try NetworkObject.with(net) { s in
        guard let last = s.network.blocks.last else {
            throw PDEBlocksError.invalidArgument("the network has no blocks: add a diffusion, FSI or implicit block first")
        }
        // Each block type says whether it takes filters (`NetworkBlock.adding(filter:diffusivity:)`).
        let updated: any NetworkBlock = try last.adding(filter: K, diffusivity: g)
        try s.network.replaceLast(updated)
        s.dropTapes()
    }
}

@_cdecl("pdb_network_add_filter")
public func pdb_network_add_filter(
    _ net: OpaquePointer?, _ w: UnsafePointer<Double>?, _ length: Int64, _ offset: Int64, _ kind: Int32, _ lambda: Double
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, length, offset)
        try addFilter(net, K, try ChannelDiffusivity(try Buffers.diffusivity(kind, lambda)))
    }
}

@_cdecl("pdb_network_add_learnable_filter")
public func pdb_network_add_learnable_filter(
    _ net: OpaquePointer?, _ w: UnsafePointer<Double>?, _ length: Int64, _ offset: Int64,
    _ mixWeights: UnsafePointer<Double>?, _ contrasts: UnsafePointer<Double>?, _ terms: Int64
) -> Int32 {
    guarded {
        let K = try Buffers.stencil(w, length, offset)
        let J = try Buffers.count(terms, "terms")
        guard (1...LearnableDiffusivity.maxTerms).contains(J) else {
            throw PDEBlocksError.invalidArgument("terms must be in 1...\(LearnableDiffusivity.maxTerms), got \(J)")
        }
        let a = Array(try Buffers.input(mixWeights, J, "mix_weights"))
        let l = Array(try Buffers.input(contrasts, J, "contrasts"))
        try addFilter(net, K, .learnable(try LearnableDiffusivity(weights: a, contrasts: l)))
    }
}

@_cdecl("pdb_network_add_residual")
public func pdb_network_add_residual(
    _ net: OpaquePointer?,
    _ sigma1: Int32, _ sigma1Kind: Int32, _ sigma1Lambda: Double, _ sigma1Tau: Double,
    _ sigma2: Int32, _ sigma2Kind: Int32, _ sigma2Lambda: Double, _ sigma2Tau: Double, _ b2: Double
) -> Int32 {
    guarded {
        let s1 = try activation(sigma1, sigma1Kind, sigma1Lambda, sigma1Tau, "sigma1")
        let s2 = try activation(sigma2, sigma2Kind, sigma2Lambda, sigma2Tau, "sigma2")
        let block = try ResidualBlock(channels: [], b2: b2, sigma1: s1, sigma2: s2)
        try NetworkObject.with(net) { $0.network.append(block); $0.dropTapes() }
    }
}

@_cdecl("pdb_network_add_residual_channel")
public func pdb_network_add_residual_channel(
    _ net: OpaquePointer?, _ w1: UnsafePointer<Double>?, _ length1: Int64, _ offset1: Int64,
    _ w2: UnsafePointer<Double>?, _ length2: Int64, _ offset2: Int64, _ w2Mode: Int32, _ b1: Double
) -> Int32 {
    guarded {
        let K1 = try Buffers.stencil(w1, length1, offset1)
        let K2 = try Buffers.stencil(w2, length2, offset2)
        let mode = try OutputFilterMode.decode(w2Mode)
        let channel = try ResidualChannel(w1: K1, w2: K2, w2Mode: mode, b1: b1)
        try NetworkObject.with(net) { s in
            guard let last = s.network.blocks.last as? ResidualBlock else {
                throw PDEBlocksError.invalidArgument("the last block is not a residual block: call pdb_network_add_residual first")
            }
            try s.network.replaceLast(try last.adding(channel: channel))
            s.dropTapes()
        }
    }
}

@_cdecl("pdb_network_block_count")
public func pdb_network_block_count(_ net: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(count, "count")
        out.pointee = Int64(try NetworkObject.with(net) { $0.network.blocks.count })
    }
}

@_cdecl("pdb_network_block_info")
public func pdb_network_block_info(
    _ net: OpaquePointer?, _ index: Int64, _ kind: UnsafeMutablePointer<Int32>?,
    _ parameterOffset: UnsafeMutablePointer<Int64>?, _ parameterCount: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let outputs = try BlockInfoOutputs(kind, parameterOffset, parameterCount)
        let (bk, range) = try NetworkObject.with(net) { s -> (BlockKind, Range<Int>) in
            let i = try BlockInfoOutputs.block(index, of: s.network.blocks.count, in: "network")
            return (s.network.blocks[i].kind, s.network.parameterRanges[i])
        }
        outputs.write(bk, range)
    }
}

@_cdecl("pdb_network_parameter_count")
public func pdb_network_parameter_count(_ net: OpaquePointer?, _ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(count, "count")
        out.pointee = Int64(try NetworkObject.with(net) { $0.network.parameterCount })
    }
}

@_cdecl("pdb_network_get_parameters")
public func pdb_network_get_parameters(_ net: OpaquePointer?, _ out: UnsafeMutablePointer<Double>?, _ count: Int64) -> Int32 {
    guarded {
        let m = try Buffers.count(count, "count")
        try NetworkObject.with(net) { s in
            guard m == s.network.parameterCount else {
                throw PDEBlocksError.invalidArgument("the network has \(s.network.parameterCount) parameters, count is \(m)")
            }
            s.network.parameters(into: try Buffers.output(out, m, "out"))
        }
    }
}

@_cdecl("pdb_network_set_parameters")
public func pdb_network_set_parameters(_ net: OpaquePointer?, _ p: UnsafePointer<Double>?, _ count: Int64) -> Int32 {
    guarded {
        let m = try Buffers.count(count, "count")
        let src = try Buffers.input(p, m, "parameters")
        try NetworkObject.with(net) { s in
            try s.network.setParameters(src)
            s.dropTapes()
        }
    }
}

@_cdecl("pdb_network_set_threads")
public func pdb_network_set_threads(_ net: OpaquePointer?, _ threads: Int32) -> Int32 {
    guarded {
        guard threads >= 0, threads <= 4096 else {
            throw PDEBlocksError.invalidArgument("threads must be in 0...4096 (0 = one per processor), got \(threads)")
        }
        try NetworkObject.with(net) { $0.network.threads = Int(threads) }
    }
}

@_cdecl("pdb_network_set_tape_limit")
public func pdb_network_set_tape_limit(_ net: OpaquePointer?, _ bytes: Int64) -> Int32 {
    guarded {
        let largest = 8 * Int64(Network.maxTapeCount)
        guard bytes > 0, bytes <= largest else {
            throw PDEBlocksError.invalidArgument("the tape limit must be in 1...\(largest) bytes, got \(bytes)")
        }
        try NetworkObject.with(net) { $0.network.tapeLimit = Int(bytes) }
    }
}

@_cdecl("pdb_network_forward")
public func pdb_network_forward(
    _ net: OpaquePointer?, _ x: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try ForwardFlag.validate(flags)
        let (b, len, total) = try Buffers.signals(batch, n)
        let src = try Buffers.input(x, total, "x")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst), Extent("x", src))
        try NetworkObject.get(net).forward(
            src, into: dst, batch: b, n: len, inference: ForwardFlag.inference.isSet(in: flags),
            progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_network_backward")
public func pdb_network_backward(
    _ net: OpaquePointer?, _ gradOut: UnsafePointer<Double>?, _ batch: Int64, _ n: Int64,
    _ gradIn: UnsafeMutablePointer<Double>?, _ gradParams: UnsafeMutablePointer<Double>?, _ paramCount: Int64
) -> Int32 {
    guarded {
        let (b, len, total) = try Buffers.signals(batch, n)
        let g = try Buffers.input(gradOut, total, "grad_out")
        let gi = try Buffers.output(gradIn, total, "grad_in")
        let m = try Buffers.count(paramCount, "param_count")
        let gp = try Buffers.output(gradParams, m, "grad_params")
        try Aliasing.require(Extent("grad_in", gi), Extent("grad_out", g), Extent("grad_params", gp))
        try Aliasing.require(Extent("grad_params", gp), Extent("grad_out", g))
        try NetworkObject.get(net).backward(
            g, gradIn: gi, gradParameters: gp, batch: b, n: len, progress: ProgressHandler.reporter())
    }
}

@_cdecl("pdb_network_certificate")
public func pdb_network_certificate(
    _ net: OpaquePointer?, _ n: Int64, _ certified: UnsafeMutablePointer<Int32>?, _ firstFailure: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let (c, f) = (try Buffers.scalar(certified, "certified"), try Buffers.scalar(firstFailure, "first_failure"))
        try Aliasing.require(Extent(scalar: "certified", c), Extent(scalar: "first_failure", f))
        let len = try Buffers.count(n, "n")
        let cert = try NetworkObject.get(net).computing({ try $0.certificate(n: len) }, then: { $1 })
        c.pointee = cert.certified ? 1 : 0
        f.pointee = Int64(cert.firstFailure ?? -1)
    }
}

@_cdecl("pdb_network_block_certificate")
public func pdb_network_block_certificate(
    _ net: OpaquePointer?, _ index: Int64, _ n: Int64, _ certified: UnsafeMutablePointer<Int32>?,
    _ tau: UnsafeMutablePointer<Double>?, _ tauBound: UnsafeMutablePointer<Double>?,
    _ tauBoundLipschitz: UnsafeMutablePointer<Double>?,
    _ reason: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ reasonLength: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        let c = try Buffers.scalar(certified, "certified")
        let t = try Buffers.scalar(tau, "tau"), b = try Buffers.scalar(tauBound, "tau_bound")
        let bl = try Buffers.scalar(tauBoundLipschitz, "tau_bound_lipschitz")
        _ = try Buffers.scalar(reasonLength, "reason_length")
        _ = try Buffers.count(capacity, "capacity")
        if capacity > 0, reason == nil { throw NullPointer(name: "reason") }
        try Aliasing.require(
            outputs: [Extent(scalar: "certified", c), Extent(scalar: "tau", t), Extent(scalar: "tau_bound", b),
                      Extent(scalar: "tau_bound_lipschitz", bl), Extent("reason", reason, count: Int(capacity)),
                      Extent(scalar: "reason_length", reasonLength)],
            inputs: [])
        let len = try Buffers.count(n, "n")
        let cert = try NetworkObject.get(net).computing({ network -> BlockCertificate in
            guard index >= 0, index < Int64(network.blocks.count) else {
                throw PDEBlocksError.invalidArgument("block index \(index) is out of range (the network has \(network.blocks.count) blocks)")
            }
            try Check.atLeast(len, 2, "signal length n")
            guard len <= Network.maxCertificateLength else {
                throw PDEBlocksError.invalidArgument("certificates are computed for n ≤ \(Network.maxCertificateLength), got \(len)")
            }
            return try network.blocks[Int(index)].certificate(n: len)
        }, then: { $1 })
        c.pointee = cert.certified ? 1 : 0
        t.pointee = cert.tau
        b.pointee = cert.tauBound
        bl.pointee = cert.tauBoundLipschitz
        try writeText(cert.reason, reason, capacity, reasonLength)
    }
}

@_cdecl("pdb_network_project_stable")
public func pdb_network_project_stable(_ net: OpaquePointer?, _ n: Int64, _ margin: Double, _ changed: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let out = try Buffers.scalar(changed, "changed")
        let len = try Buffers.count(n, "n")
        let k = try NetworkObject.get(net).computing({ network -> (Int, Network) in
            var projected = network
            let k = try projected.projectStable(n: len, margin: margin)
            return (k, projected)
        }, then: { s, result -> Int in
            if result.0 > 0 {
                s.network = result.1
                s.dropTapes()
            }
            return result.0
        })
        out.pointee = Int64(k)
    }
}

@_cdecl("pdb_network_describe")
public func pdb_network_describe(
    _ net: OpaquePointer?, _ text: UnsafeMutablePointer<CChar>?, _ capacity: Int64, _ length: UnsafeMutablePointer<Int64>?
) -> Int32 {
    guarded {
        _ = try Buffers.scalar(length, "length")
        try Aliasing.require(Extent("text", text, count: try Buffers.count(capacity, "capacity")), Extent(scalar: "length", length))
        let summary = try NetworkObject.with(net) { $0.network.summary }
        try writeText(summary, text, capacity, length)
    }
}

@_cdecl("pdb_network_save")
public func pdb_network_save(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let p = try Buffers.path(path, "path")
        let network = try NetworkObject.with(net) { $0.network }
        try network.validate()
        try network.save(to: p)
    }
}

@_cdecl("pdb_network_load")
public func pdb_network_load(_ path: UnsafePointer<CChar>?, _ net: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded {
        let p = try Buffers.path(path, "path")
        let out = try Buffers.scalar(net, "net")
        let network = try Network.load(from: p)
        out.pointee = Handles.register(NetworkObject(network), type: NetworkObject.type)
    }
}
