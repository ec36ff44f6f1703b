import Testing
@testable import PDEBlocks

private func chain() throws -> Network {
    Network(blocks: [labelledBlocks[1].block, labelledBlocks[6].block, labelledBlocks[7].block,
                     labelledBlocks[8].block, labelledBlocks[12].block, labelledBlocks[5].block])
}

private func run(_ net: Network, _ x: [Double], batch: Int, n: Int, _ w: [Double]) throws -> ([Double], [Double], [Double]) {
    let (out, tape) = try net.forward(x, batch: batch, n: n)
    let (gx, gp) = try tape.backward(w)
    return (out, gx, gp)
}

@Suite struct LayerNetworkTests {
    @Test("batch results equal per-signal results; parameter gradients are their sum")
    func batchEqualsPerSignal() throws {
        var rng = LayerRNG(1)
        let net = try chain()
        let batch = 4, n = 11
        let x = rng.normals(batch * n), w = rng.normals(batch * n)
        let (y, gx, gp) = try run(net, x, batch: batch, n: n, w)
        var sum = [Double](repeating: 0, count: gp.count)
        for b in 0..<batch {
            let r = b * n..<(b + 1) * n
            let (yb, gxb, gpb) = try run(net, Array(x[r]), batch: 1, n: n, Array(w[r]))
            #expect(yb == Array(y[r]) && gxb == Array(gx[r]))
            for j in sum.indices { sum[j] += gpb[j] }
        }
        #expect(zip(sum, gp).allSatisfy { abs($0 - $1) <= 1e-12 * max(1, abs($1)) })
    }

    @Test("results are bit-identical for 1, 2 and 3 threads")
    func threadsAreDeterministic() throws {
        var rng = LayerRNG(2)
        let batch = 70, n = 9
        let x = rng.normals(batch * n), w = rng.normals(batch * n)
        var results: [([Double], [Double], [Double])] = []
        for t in [1, 2, 3] {
            var net = try chain()
            net.threads = t
            results.append(try run(net, x, batch: batch, n: n, w))
        }
        for r in results.dropFirst() {
            #expect(r.0 == results[0].0 && r.1 == results[0].1 && r.2 == results[0].2)
        }
    }

    @Test("forward(reusing:) reuses an unshared tape's memory and never a shared one")
    func tapeMemoryIsReused() throws {
        var rng = LayerRNG(12)
        let net = try chain()
        let x = rng.normals(2 * 12)
        var out = [Double](repeating: 0, count: x.count)
        func forward(_ previous: inout NetworkTape?) throws -> NetworkTape {
            try x.withUnsafeBufferPointer { xb in
                try out.withUnsafeMutableBufferPointer { try net.forward(xb, into: $0, batch: 2, n: 12, reusing: &previous) }
            }
        }
        var none: NetworkTape? = nil
        var first: NetworkTape? = try forward(&none)
        let memory = ObjectIdentifier(first!.storage)
        let second = try forward(&first)
        #expect(first == nil && ObjectIdentifier(second.storage) == memory)
        var shared: NetworkTape? = second
        let third = try forward(&shared)
        #expect(ObjectIdentifier(third.storage) != memory)   // `second` is still alive
    }

    @Test("inference equals the recorded forward pass")
    func inferEqualsForward() throws {
        var rng = LayerRNG(3)
        let net = try chain()
        let x = rng.normals(3 * 12)
        let (y, _, _) = try run(net, x, batch: 3, n: 12, x)
        #expect(y == (try net.infer(x, batch: 3, n: 12)))
    }

    @Test("the backward pass of a network chains the blocks' VJPs (central differences, rel. 1e-6)")
    func networkGradient() throws {
        var rng = LayerRNG(4)
        var net = try chain()
        let n = 9
        let x = rng.normals(2 * n), w = rng.normals(2 * n)
        let (_, _, gp) = try run(net, x, batch: 2, n: n, w)
        let theta = net.parameters
        var fd = [Double](repeating: 0, count: theta.count)
        for i in theta.indices {
            var l = [0.0, 0.0]
            for (k, sgn) in [1.0, -1.0].enumerated() {
                var p = theta
                p[i] += sgn * 1e-6
                try net.setParameters(p)
                l[k] = dot(try run(net, x, batch: 2, n: n, w).0, w)
            }
            fd[i] = (l[0] - l[1]) / 2e-6
        }
        #expect(norm(zip(fd, gp).map { $0 - $1 }) <= 1e-6 * norm(gp))
    }

    @Test("invalid parameters are refused and change nothing")
    func setParametersValidates() throws {
        var net = try chain()
        let p = net.parameters
        #expect(throws: PDEBlocksError.self) { try net.setParameters(Array(p.dropLast())) }
        var bad = p
        bad[3] = .nan
        #expect(throws: PDEBlocksError.self) { try net.setParameters(bad) }
        #expect(net.parameters == p)
        #expect(throws: PDEBlocksError.self) { try Network().validate() }
    }

    @Test("a random certified network never increases ‖u‖₂ over 1000 random inputs")
    func certifiedNetworkIsStable() throws {
        var rng = LayerRNG(5)
        let n = 16
        var blocks: [any NetworkBlock] = []
        for k in 0..<5 {
            let filters = try (0..<(1 + k % 3)).map { _ in try Stencil(weights: rng.normals(3), offset: -1) }
            let gs: [ChannelDiffusivity] = filters.indices.map { c in
                c % 2 == 0 ? .learnable(mixture) : builtin(DiffusivityKind.allCases[(k + c) % DiffusivityKind.allCases.count], 0.4)
            }
            blocks.append(try DiffusionBlock(filters: filters, diffusivities: gs, step: .free(10)))
        }
        var net = Network(blocks: blocks)
        try net.projectStable(n: n, margin: 1)
        #expect(try net.certificate(n: n).certified)
        let batch = 1000
        var x = rng.normals(batch * n)
        for b in 0..<batch { for i in 0..<n { x[b * n + i] *= Double(b % 7 + 1) } }
        var y = [Double](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { xb in try y.withUnsafeMutableBufferPointer { try net.infer(xb, into: $0, batch: batch, n: n) } }
        for b in 0..<batch {
            let r = b * n..<(b + 1) * n
            #expect(norm(Array(y[r])) <= norm(Array(x[r])) * (1 + 1e-12))
        }
    }

    @Test("a generic residual block with W2 ≠ −W1ᵀ is uncertified and names the condition")
    func residualCertificateNamesTheCondition() throws {
        let block = try ResidualBlock(
            channels: [try ResidualChannel(w1: forwardDifference, w2: try Stencil(weights: [-1, 0.9], offset: 0), w2Mode: .transposed, b1: 0)],
            b2: 0, sigma1: try .flux(try Diffusivity(.peronaMalik, lambda: 0.2), tau: 0.1), sigma2: .identity)
        let c = try block.certificate(n: 10)
        #expect(!c.certified)
        #expect(c.reason.contains("W2[0] ≠ −W1[0]ᵀ"))
    }

    @Test("save → load reproduces parameters and outputs bit for bit")
    func saveLoadIsBitIdentical() throws {
        var rng = LayerRNG(6)
        var net = try chain()
        try net.setParameters(net.parameters.map { $0 + 1e-3 * rng.normal() })
        let path = "/tmp/pdeblocks-layer-test-\(rng.next()).pdbnet"
        try net.save(to: path)
        defer { unlink(path) }
        let loaded = try Network.load(from: path)
        #expect(loaded.parameters == net.parameters)
        let x = rng.normals(2 * 10)
        #expect(try run(loaded, x, batch: 2, n: 10, x).0 == (try run(net, x, batch: 2, n: 10, x).0))
    }

    @Test("corrupted and truncated files are clear errors")
    func corruptedFilesAreErrors() throws {
        let bytes = try NetworkFile.encode(try chain())
        for k in [0, 7, 23, 40, bytes.count - 1] {
            #expect(throws: PDEBlocksError.self) { _ = try NetworkFile.decode(Array(bytes[0..<k])) }
        }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 1
        do {
            _ = try NetworkFile.decode(flipped)
            Issue.record("a corrupted file loaded")
        } catch let e as PDEBlocksError {
            #expect(e.message.contains("checksum"))
        }
        #expect(try NetworkFile.decode(bytes).parameters == (try chain()).parameters)
    }
}
