import Foundation
import Testing
@testable import PDEBlocks

/// A network of every image block kind: an isotropic Perona–Malik diffusion block with
/// reaction and zero mean, a free tanh residual block, a channelwise mixture diffusion
/// block without reaction, a ReLU residual block.
func imageTestNetwork(threads: Int = 1) -> ImageNetwork {
    let K = imageTestFilters()
    let d1 = try! DiffusionBlock2D(filters: K, coupling: .isotropic, diffusivities: [builtin(.peronaMalik, 0.8)],
                                   tau: 0.12, muParameter: -0.5, zeroMean: true)
    let mix = ChannelDiffusivity.learnable(try! LearnableDiffusivity(weights: [0.3, 0.5], contrasts: [0.4, 1.3]))
    let d2 = try! DiffusionBlock2D(filters: K, coupling: .channelwise,
                                   diffusivities: [mix, builtin(.charbonnier, 0.6), builtin(.peronaMalikRational, 0.9)], tau: 0.1)
    let r1 = try! ResidualBlock2D(w1: [K[0], K[1]], w2: [K[2], K[0]], biases: [0.1, -0.2], activation: .tanh)
    let r2 = try! ResidualBlock2D(w1: [K[1]], w2: [K[1]], biases: [0.05], activation: .relu)
    return ImageNetwork(blocks: [d1, r1, d2, r2], threads: threads)
}

/// The residual block by dense matrices: `u − Σ_c W2_cᵀ σ(W1_c u + b_c)`.
private func denseResidual(_ b: ResidualBlock2D, _ u: [Double], _ H: Int, _ W: Int) throws -> [Double] {
    let n = H * W
    var out = u
    for c in 0..<b.w1.count {
        let A = try b.w1[c].matrix(height: H, width: W), B = try b.w2[c].matrix(height: H, width: W)
        let z = (0..<n).map { i in b.activation.value((0..<n).reduce(0) { $0 + A[i * n + $1] * u[$1] } + b.biases[c]) }
        for j in 0..<n { out[j] -= (0..<n).reduce(0) { $0 + B[$1 * n + j] * z[$1] } }
    }
    return out
}

@Suite struct ImageNetworkTests {
    static let (batch, height, width) = (3, 4, 9)

    func data(_ seed: UInt64) -> [Double] {
        var rng = LayerRNG(seed)
        return rng.normals(Self.batch * Self.height * Self.width)
    }

    @Test func forwardIsTheCompositionOfTheBlocksWithTheInputAsEveryDataTerm() throws {
        let net = imageTestNetwork(), x = data(1), (B, H, W) = (Self.batch, Self.height, Self.width), n = H * W
        let out = try net.forward(x, batch: B, height: H, width: W).output
        for b in 0..<B {
            let f = Array(x[(b * n)..<((b + 1) * n)])
            var u = f
            for block in net.blocks {
                if let d = block as? DiffusionBlock2D {
                    u = try d.forward(u, data: d.muParameter == nil ? [] : f, batch: 1, height: H, width: W)
                } else {
                    u = try denseResidual(block as! ResidualBlock2D, u, H, W)
                }
            }
            let got = Array(out[(b * n)..<((b + 1) * n)])
            #expect(norm(zip(got, u).map { $0 - $1 }) <= 1e-12 * max(1, norm(u)), "image \(b)")
        }
    }

    @Test func inferIsBitwiseEqualToForward() throws {
        let net = imageTestNetwork(), x = data(2)
        let a = try net.forward(x, batch: Self.batch, height: Self.height, width: Self.width).output
        let b = try net.infer(x, batch: Self.batch, height: Self.height, width: Self.width)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
    }

    @Test("backward matches central differences for every parameter of every block and the input (rel. error ≤ 1e-6)")
    func backwardMatchesCentralDifferences() throws {
        let net = imageTestNetwork(), x = data(3), w = data(4), (B, H, W) = (Self.batch, Self.height, Self.width)
        func loss(_ n: ImageNetwork, _ x: [Double]) throws -> Double { dot(try n.infer(x, batch: B, height: H, width: W), w) }
        let (_, tape) = try net.forward(x, batch: B, height: H, width: W)
        let (gx, gp) = try tape.backward(w)
        let theta = net.parameters, step = 1e-6
        var fd = [Double](repeating: 0, count: theta.count)
        for i in theta.indices {
            var plus = net, minus = net
            var tp = theta, tm = theta
            tp[i] += step
            tm[i] -= step
            try plus.setParameters(tp)
            try minus.setParameters(tm)
            fd[i] = (try loss(plus, x) - (try loss(minus, x))) / (2 * step)
        }
        for (k, r) in net.parameterRanges.enumerated() {
            let err = norm(r.map { fd[$0] - gp[$0] }) / norm(r.map { gp[$0] })
            #expect(err <= 1e-6, "block \(k) (\(net.blocks[k].kind.name)): relative error \(err)")
        }
        // τ and μ of the first block separately (single parameters, easily drowned in a norm).
        let d1 = net.blocks[0] as! DiffusionBlock2D
        for i in [d1.tauIndex, d1.tauIndex + 1] {
            #expect(abs(fd[i] - gp[i]) <= 1e-6 * max(abs(gp[i]), 1e-3), "parameter \(i)")
        }
        var fdx = [Double](repeating: 0, count: x.count)
        for i in x.indices {
            var plus = x, minus = x
            plus[i] += step
            minus[i] -= step
            fdx[i] = (try loss(net, plus) - (try loss(net, minus))) / (2 * step)
        }
        #expect(norm(zip(fdx, gx).map { $0 - $1 }) / norm(gx) <= 1e-6)
    }

    @Test func lossAndGradientIsHalfTheMeanSquaredErrorAndItsBackward() throws {
        let net = imageTestNetwork(), x = data(5), t = data(6), (B, H, W) = (Self.batch, Self.height, Self.width)
        let (out, tape) = try net.forward(x, batch: B, height: H, width: W)
        let N = Double(x.count)
        let expected = 0.5 * zip(out, t).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / N
        let (_, g) = try tape.backward(zip(out, t).map { ($0 - $1) / N })
        let (loss, grad) = try net.lossAndGradient(x, target: t, batch: B, height: H, width: W)
        #expect(abs(loss - expected) <= 1e-14 * expected)
        #expect(norm(zip(grad, g).map { $0 - $1 }) <= 1e-13 * norm(g))
    }

    @Test func resultsAreBitIdenticalForEveryThreadCount() throws {
        let x = data(7), t = data(8), (H, W) = (Self.height, Self.width), B = Self.batch
        var reference: ([UInt64], Double, [UInt64])? = nil
        for threads in [1, 2, 3, 0] {
            let net = imageTestNetwork(threads: threads)
            let out = try net.infer(x, batch: B, height: H, width: W).map(\.bitPattern)
            let (loss, g) = try net.lossAndGradient(x, target: t, batch: B, height: H, width: W)
            if let r = reference {
                #expect(out == r.0 && loss.bitPattern == r.1.bitPattern && g.map(\.bitPattern) == r.2, "threads \(threads)")
            } else {
                reference = (out, loss, g.map(\.bitPattern))
            }
        }
    }

    @Test func aResidualBlockWithW2EqualTauW1AndIdentityIsTheLinearDiffusionBlock() throws {
        let K = imageTestFilters(), tau = 0.2, (H, W) = (Self.height, Self.width)
        let r = try ResidualBlock2D(w1: K, w2: try K.map { try Stencil2D(weights: $0.weights.map { tau * $0 }, rows: $0.rows,
                                                                         columns: $0.columns, offsetY: $0.offsetY, offsetX: $0.offsetX) },
                                    biases: [0, 0, 0], activation: .identity)
        let d = try DiffusionBlock2D(filters: K, coupling: .channelwise, diffusivities: Array(repeating: builtin(.linear, 1), count: 3), tau: tau)
        let x = data(9)
        let a = try ImageNetwork(blocks: [r]).infer(x, batch: Self.batch, height: H, width: W)
        let b = try d.forward(x, data: [], batch: Self.batch, height: H, width: W)
        #expect(norm(zip(a, b).map { $0 - $1 }) <= 1e-13 * norm(b))
    }

    @Test func certificateIsTheDiffusionBlocksTauBoundAndNeverCertifiesAResidualBlock() throws {
        let net = imageTestNetwork(), (H, W) = (Self.height, Self.width)
        let cert = try net.certificate(height: H, width: W)
        for (k, (block, c)) in zip(net.blocks, cert.blocks).enumerated() {
            if let d = block as? DiffusionBlock2D {
                let bound = try d.certifiedTauBound(height: H, width: W)
                // Within 1e-14, not ==: ImageStability's bound for general 2D filters varies by an
                // ulp between calls (ImageOperatorNorm sums over an unsorted Set).
                #expect(abs(c.tauBound - bound) <= 1e-14 * bound && c.tau == d.tau, "block \(k)")
                #expect(c.certified == (d.tau >= 0 && d.tau <= c.tauBound), "block \(k)")
            } else {
                #expect(!c.certified && c.reason.contains("Theorem 2"), "block \(k)")
            }
        }
        #expect(cert.firstFailure == 1 && !cert.certified)
        // Above the bound: not certified.
        let d = net.blocks[0] as! DiffusionBlock2D
        var p = d.parameters
        p[d.tauIndex] = 2 * (try d.certifiedTauBound(height: H, width: W))
        #expect(try !d.setting(parameters: p).certificate(height: H, width: W).certified)
    }

    @Test func saveLoadRoundTripsBitExactlyAndFilesKeepTheirNetworkType() throws {
        let net = imageTestNetwork()
        let bytes = try NetworkFile.encode(net)
        let loaded = try NetworkFile.decodeImage(bytes)
        #expect(try NetworkFile.encode(loaded) == bytes)
        #expect(loaded.parameters.map(\.bitPattern) == net.parameters.map(\.bitPattern))
        #expect(loaded.summary == net.summary)
        #expect(throws: PDEBlocksError.self) { try NetworkFile.decode(bytes) }
        #expect(throws: PDEBlocksError.self) { try NetworkFile.decodeImage(try NetworkFile.encode(Network(blocks: [labelledBlocks[0].block]))) }
        let path = "/tmp/pdeblocks-image-network-\(getpid())-\(UInt64.random(in: 0..<UInt64.max)).pdbnet"
        defer { unlink(path) }
        try net.save(to: path)
        let x = data(10)
        let a = try net.infer(x, batch: Self.batch, height: Self.height, width: Self.width)
        let b = try ImageNetwork.load(from: path).infer(x, batch: Self.batch, height: Self.height, width: Self.width)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
        var corrupted = bytes
        corrupted[40] ^= 1
        #expect(throws: PDEBlocksError.self) { try NetworkFile.decodeImage(corrupted) }
    }

    @Test func badParametersAndImagesThrowAndChangeNothing() throws {
        var net = imageTestNetwork()
        let before = net.parameters
        #expect(throws: PDEBlocksError.self) { try net.setParameters(Array(before.dropLast())) }
        var bad = before
        bad[3] = .nan
        #expect(throws: PDEBlocksError.self) { try net.setParameters(bad) }
        #expect(net.parameters.map(\.bitPattern) == before.map(\.bitPattern))
        var x = data(11)
        #expect(throws: PDEBlocksError.self) { try net.infer(Array(x.dropLast()), batch: Self.batch, height: Self.height, width: Self.width) }
        x[5] = .infinity
        #expect(throws: PDEBlocksError.self) { try net.infer(x, batch: Self.batch, height: Self.height, width: Self.width) }
        let tape = ImageNetworkTape()
        #expect(throws: PDEBlocksError.self) { try tape.backward(data(12)) }
        #expect(throws: PDEBlocksError.self) { try ImageNetwork().infer(data(12), batch: Self.batch, height: Self.height, width: Self.width) }
    }
}
