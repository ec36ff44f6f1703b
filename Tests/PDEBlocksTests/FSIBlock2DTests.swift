import Foundation
import Testing
@testable import PDEBlocks

/// `FSIBlock2D`: eq. 7 on images against a transcription through `DiffusionBlock2D.forward`,
/// its backward pass against central differences, its certificate and its file record.
@Suite struct FSIBlock2DTests {
    static let (batch, height, width) = (2, 5, 7)

    func data(_ seed: UInt64) -> [Double] {
        var rng = LayerRNG(seed)
        return rng.normals(Self.batch * Self.height * Self.width)
    }

    /// A channelwise mixture step with reaction and zero mean, and an isotropic Perona–Malik one.
    func steps() -> [DiffusionBlock2D] {
        let K = imageTestFilters()
        let mix = ChannelDiffusivity.learnable(try! LearnableDiffusivity(weights: [0.3, 0.5], contrasts: [0.4, 1.3]))
        return [try! DiffusionBlock2D(filters: K, coupling: .channelwise,
                                      diffusivities: [mix, builtin(.charbonnier, 0.6), builtin(.peronaMalikRational, 0.9)],
                                      tau: 0.06, muParameter: -0.4, zeroMean: true),
                try! DiffusionBlock2D(filters: K, coupling: .isotropic, diffusivities: [builtin(.peronaMalik, 0.8)], tau: 0.05)]
    }

    @Test func forwardIsEquation7WithTheStepsOfTheDiffusionBlock() throws {
        let x = data(1), (B, H, W) = (Self.batch, Self.height, Self.width), n = H * W
        for step in steps() {
            for L in [1, 2, 5] {
                let net = ImageNetwork(blocks: [try FSIBlock2D(step: step, cycleLength: L)], threads: 1)
                let out = try net.infer(x, batch: B, height: H, width: W)
                for b in 0..<B {
                    let f = Array(x[(b * n)..<((b + 1) * n)])
                    var (prev, cur) = (f, f)
                    for l in 0..<L {
                        let a = Double(4 * l + 2) / Double(2 * l + 3)
                        let s = try step.forward(cur, data: step.muParameter == nil ? [] : f, batch: 1, height: H, width: W)
                        (prev, cur) = (cur, zip(s, prev).map { a * $0 + (1 - a) * $1 })
                    }
                    let got = Array(out[(b * n)..<((b + 1) * n)])
                    #expect(norm(zip(got, cur).map { $0 - $1 }) <= 1e-13 * norm(cur), "L = \(L), image \(b)")
                }
            }
        }
    }

    @Test("backward matches central differences for every parameter and the input (rel. error ≤ 1e-6)")
    func backwardMatchesCentralDifferences() throws {
        let x = data(3), w = data(4), (B, H, W) = (Self.batch, Self.height, Self.width)
        for step in steps() {
            // The FSI block between diffusion blocks: gradients flow through it to the input and to f.
            let net = ImageNetwork(blocks: [step, try FSIBlock2D(step: step, cycleLength: 3), step], threads: 1)
            func loss(_ n: ImageNetwork, _ x: [Double]) throws -> Double { dot(try n.infer(x, batch: B, height: H, width: W), w) }
            let (_, tape) = try net.forward(x, batch: B, height: H, width: W)
            let (gx, gp) = try tape.backward(w)
            let theta = net.parameters, h = 1e-6
            let fsi = net.parameterRanges[1]
            var fd = [Double]()
            for i in fsi {
                var plus = net, minus = net
                var tp = theta, tm = theta
                tp[i] += h
                tm[i] -= h
                try plus.setParameters(tp)
                try minus.setParameters(tm)
                fd.append((try loss(plus, x) - (try loss(minus, x))) / (2 * h))
            }
            let g = Array(gp[fsi])
            #expect(norm(zip(fd, g).map { $0 - $1 }) / norm(g) <= 1e-6, "\(step.coupling.name)")
            let tau = step.tauIndex   // τ (and m) alone, not drowned in the norm
            for i in [tau] + (step.muParameter == nil ? [] : [tau + 1]) {
                #expect(abs(fd[i] - g[i]) <= 1e-6 * max(abs(g[i]), 1e-3), "\(step.coupling.name): parameter \(i)")
            }
            var fdx = [Double](repeating: 0, count: x.count)
            for i in x.indices {
                var plus = x, minus = x
                plus[i] += h
                minus[i] -= h
                fdx[i] = (try loss(net, plus) - (try loss(net, minus))) / (2 * h)
            }
            #expect(norm(zip(fdx, gx).map { $0 - $1 }) / norm(gx) <= 1e-6, "\(step.coupling.name): input")
        }
    }

    @Test func aCycleOfLengthOneIsAnExplicitStepOfTwoThirdsTau() throws {
        let x = data(5), (B, H, W) = (Self.batch, Self.height, Self.width)
        for step in steps() {
            var p = step.parameters
            p[step.tauIndex] *= 2.0 / 3.0
            let a = try ImageNetwork(blocks: [FSIBlock2D(step: step, cycleLength: 1)]).infer(x, batch: B, height: H, width: W)
            let b = try ImageNetwork(blocks: [step.setting(parameters: p)]).infer(x, batch: B, height: H, width: W)
            #expect(norm(zip(a, b).map { $0 - $1 }) <= 1e-14 * norm(b))
        }
    }

    @Test func certificateCoversLengthOneAndLinearCyclesAndTheLinearCycleIsNonexpansive() throws {
        let (H, W) = (Self.height, Self.width), n = H * W
        let K = imageTestFilters()
        let linear = try DiffusionBlock2D(filters: K, coupling: .channelwise,
                                          diffusivities: K.map { _ in try ChannelDiffusivity(kind: .linear, logLambda: 0) },
                                          tau: 1, muParameter: 0.3)
        let bound = try linear.certifiedTauBound(height: H, width: W)
        var p = linear.parameters
        p[linear.tauIndex] = bound
        let atBound = try linear.setting(parameters: p)
        let cycle = try FSIBlock2D(step: atBound, cycleLength: 6)
        let c = try cycle.certificate(height: H, width: W)
        #expect(c.certified && c.tauBound == bound && c.reason.contains("FED"))
        // Theorem: the certified cycle (without its data input) does not increase the norm.
        var scratch = [Double](repeating: 0, count: cycle.scratchCount(pixels: n))
        let zero = [Double](repeating: 0, count: n)
        for seed in 0..<20 {
            var rng = LayerRNG(UInt64(100 + seed))
            let u = rng.normals(n)
            var out = zero
            u.withUnsafeBufferPointer { ub in
                zero.withUnsafeBufferPointer { fb in
                    out.withUnsafeMutableBufferPointer { ob in
                        scratch.withUnsafeMutableBufferPointer { cycle.forwardImage(ub, data: fb, height: H, width: W, into: ob, scratch: $0) }
                    }
                }
            }
            #expect(norm(out) <= norm(u) * (1 + 1e-12), "seed \(seed)")
        }
        p[linear.tauIndex] = 1.01 * bound
        #expect(try !FSIBlock2D(step: linear.setting(parameters: p), cycleLength: 6).certificate(height: H, width: W).certified)
        // L = 1: the bound of a step of 2τ/3.
        for step in steps() {
            let b = try step.certifiedTauBound(height: H, width: W)
            let one = try FSIBlock2D(step: step, cycleLength: 1).certificate(height: H, width: W)
            #expect(one.tauBound == b / FSI.alpha(0) && one.certified == (step.tau <= one.tauBound))
            let long = try FSIBlock2D(step: step, cycleLength: 2).certificate(height: H, width: W)
            #expect(!long.certified && long.tauBound.isNaN && long.reason.contains("Theorem 2"))
        }
    }

    @Test func saveLoadRoundTripsAndBadCycleLengthsThrow() throws {
        let net = ImageNetwork(blocks: [try FSIBlock2D(step: steps()[0], cycleLength: 4), steps()[1]])
        let bytes = try NetworkFile.encode(net)
        let loaded = try NetworkFile.decodeImage(bytes)
        #expect(try NetworkFile.encode(loaded) == bytes && loaded.summary == net.summary)
        #expect(loaded.blocks[0].kind == .fsi && (loaded.blocks[0] as? FSIBlock2D)?.cycleLength == 4)
        for L in [0, -1, FSIBlock2D.maxCycleLength + 1] {
            #expect(throws: PDEBlocksError.self) { try FSIBlock2D(step: steps()[0], cycleLength: L) }
        }
        // Records with cycle length 0 or above the maximum are refused.
        for L: UInt32 in [0, UInt32(FSIBlock2D.maxCycleLength + 1)] {
            var w = NetworkFile.Writer()
            w.u32(L)
            steps()[0].encode(to: &w)
            var r = NetworkFile.Reader(bytes: w.bytes[...])
            #expect(throws: PDEBlocksError.self) { try FSIBlock2D.decode(from: &r, index: 0) }
        }
        var w = NetworkFile.Writer()
        w.u32(3)
        steps()[0].encode(to: &w)
        var r = NetworkFile.Reader(bytes: w.bytes[...])
        #expect(try FSIBlock2D.decode(from: &r, index: 0).cycleLength == 3)
    }
}
