import Foundation
import Testing
@testable import PDEBlocks

/// The documented formula of `RBFDiffusivity`, transcribed directly:
/// `g = 1/(1 + exp(−h))`, `h = b + Σ_j c_j exp(−(x − x_j)²/(2γ²))`, `x = |s|/exp(ρ)`.
private func referenceG(_ c: [Double], _ b: Double, _ rho: Double, s: Double) -> Double {
    let J = c.count, gamma = 3 / Double(J - 1), x = abs(s) / exp(rho)
    var h = b
    for j in 0..<J {
        let xj = 3 * Double(j) / Double(J - 1)
        h += c[j] * exp(-(x - xj) * (x - xj) / (2 * gamma * gamma))
    }
    return 1 / (1 + exp(-h))
}

@Suite struct RBFDiffusivityTests {
    static let cases: [([Double], Double, Double)] = [
        ([1.5, -2.0, 1.2, 0.4, -0.7], -0.5, log(0.8)),
        ([3, -3], 0.2, 0),
        ((0..<64).map { sin(Double($0)) * 2 }, 1.0, -1.5),
    ]

    @Test("g and Φ′ equal the transcribed formula and the central difference of Φ(s) = g s")
    func gMatchesTheFormula() throws {
        for (c, b, rho) in Self.cases {
            let r = try RBFDiffusivity(coefficients: c, bias: b, logScale: rho)
            let lambda = exp(rho)
            for t in stride(from: -5.0, through: 5.0, by: 0.173) + [0, 1e-9, -1e-9] {
                let s = t * lambda
                let want = referenceG(c, b, rho, s: s)
                #expect(abs(r.g(s * s) - want) <= 1e-14, "s = \(s)")
                // Φ is C¹ but not C² at the kink s = 0: there Φ′ → g(0), away from it central differences
                guard abs(t) > 0.01 else {
                    #expect(abs(r.fluxDerivative(s) - r.g(0)) <= 1e-6 * max(1, abs(c.reduce(0) { $0 + abs($1) })))
                    continue
                }
                let e = 1e-6 * abs(s)
                let fd = (r.g((s + e) * (s + e)) * (s + e) - r.g((s - e) * (s - e)) * (s - e)) / (2 * e)
                #expect(abs(r.fluxDerivative(s) - fd) <= 1e-7 * max(1, abs(fd)), "s = \(s)")
            }
            #expect(r.fluxDerivative(0) == r.g(0))
        }
    }

    @Test("g is not monotone in general: the flux of the test RBF rises, falls and rises again")
    func fluxCanBeNonmonotone() throws {
        let r = try RBFDiffusivity(coefficients: [1.5, -2.0, 1.2, 0.4, -0.7], bias: -0.5, logScale: log(0.8))
        let d = stride(from: 0.0, through: 3.0, by: 0.01).map { r.fluxDerivative($0) }
        #expect(d.contains { $0 < 0 } && d.contains { $0 > 0 })
        let g = stride(from: 0.0, through: 3.0, by: 0.01).map { r.g($0 * $0) }
        #expect(zip(g, g.dropFirst()).contains { $1 > $0 } && zip(g, g.dropFirst()).contains { $1 < $0 })
    }

    static let extremes: [([Double], Double, Double)] = [
        ([1e6, -1e6, 1e6], 1e300, 700), ([1e6, -1e6, 1e6], -1e300, -700), ([-1e6, -1e6], 1e300, -700),
        ([1e6, 1e6], -1e300, 700), (Array(repeating: 1e6, count: 64), 0, 0),
        (Array(repeating: -1e6, count: 64), 0, -700), ([1e300, -1e300, 1e300, -1e300], 1e300, 3),
        ([1.7e308, 1.7e308, -1.7e308, -1.7e308], -1.7e308, 0),
    ]

    @Test("computed g lies in [0, 1] and Φ′ is finite for extreme parameters (no NaN)", arguments: extremes)
    func gStaysInTheUnitInterval(_ p: ([Double], Double, Double)) throws {
        let r = try RBFDiffusivity(coefficients: p.0, bias: p.1, logScale: p.2)
        let samples = [0, 1e-320, 1e-300, 1e-10, 0.5, 1, 3, 1e10, 1e150, 1e300, 1.7e308]
        for s in samples + samples.map({ -$0 }) {
            let g = r.g(s * s), d = r.fluxDerivative(s)
            #expect(g >= 0 && g <= 1, "s = \(s): g = \(g)")
            #expect(d.isFinite, "s = \(s): Φ′ = \(d)")
            let (gi, slope) = ChannelDiffusivity.rbf(r).gAndSlope(s * s)
            #expect(gi >= 0 && gi <= 1 && !slope.isNaN)
        }
        #expect(r.supG >= 0 && r.supG <= 1 && r.lipschitz >= 1)
    }

    @Test("a block with extreme RBF parameters has finite outputs and gradients; clamped ones have gradient 0")
    func extremeBlocksStayFinite() throws {
        var rng = LayerRNG(9)
        let u = rng.normals(24), v = rng.normals(24)
        for coupling in Coupling.allCases {
            for (c, b, rho) in Self.extremes + [([2e300, 0.5], -3e300, 0)] {
                let g = ChannelDiffusivity.rbf(try RBFDiffusivity(coefficients: c, bias: b, logScale: rho))
                let block = try DiffusionBlock2D(filters: imageTestFilters(), coupling: coupling,
                                                 diffusivities: Array(repeating: g, count: coupling == .isotropic ? 1 : 3),
                                                 tau: 0.1)
                #expect(try block.forward(u, data: [], batch: 2, height: 3, width: 4).allSatisfy(\.isFinite))
                let (gu, _, gp) = try block.backward(v, input: u, data: [], batch: 2, height: 3, width: 4)
                #expect(gu.allSatisfy(\.isFinite) && gp.allSatisfy(\.isFinite))
                if c == [2e300, 0.5] { #expect(gp[block.weightCount] == 0 && gp[block.weightCount + 2] == 0) }
            }
        }
    }

    @Test("sup g bounds g from above and is attained within rounding when the Gaussians align")
    func supGBoundsG() throws {
        for (c, b, rho) in Self.cases + [([0.5, 0.0, 0.0], 0.3, 0.0)] {
            let r = try RBFDiffusivity(coefficients: c, bias: b, logScale: rho)
            let peak = stride(from: 0.0, through: 20.0, by: 0.001).map { r.g($0 * $0 * exp(2 * rho)) }.max()!
            #expect(peak <= r.supG)
            #expect(r.supG <= 1 / (1 + exp(-(b + c.reduce(0) { $0 + max($1, 0) }))) * (1 + 1e-14))
        }
        // one positive coefficient at x = 0: sup g = g(0) = σ(b + c_0) exactly
        let one = try RBFDiffusivity(coefficients: [0.5, 0, 0], bias: 0.3, logScale: 0)
        #expect(abs(one.supG - one.g(0)) <= 1e-14)
    }

    @Test("the Lipschitz bound exceeds |Φ′| everywhere sampled")
    func lipschitzBoundsTheFluxDerivative() throws {
        for (c, b, rho) in Self.cases {
            let r = try RBFDiffusivity(coefficients: c, bias: b, logScale: rho)
            let top = stride(from: 0.0, through: 20.0, by: 0.001).map { abs(r.fluxDerivative($0 * exp(rho))) }.max()!
            #expect(top <= r.lipschitz)
        }
    }

    @Test("signal blocks (diffusion, FSI, implicit) holding an RBF: vjp matches central differences (rel. ≤ 1e-6)")
    func signalBlocksDifferentiateTheRBF() throws {
        let g = ChannelDiffusivity.rbf(try RBFDiffusivity(coefficients: [1.5, -2.0, 1.2, 0.4, -0.7], bias: -0.5,
                                                          logScale: log(0.8)))
        let step = try DiffusionBlock(filters: [forwardDifference], diffusivities: [g], step: .free(0.2))
        let blocks: [any NetworkBlock] = [step, try FSIBlock(step: step, cycleLength: 3),
                                          try ImplicitBlock(step: step, iterations: 4)]
        var rng = LayerRNG(21)
        let x = rng.normals(12), v = rng.normals(12)
        for block in blocks {
            let (gx, gp) = try block.vjp(x, v)
            let theta = block.parameterArray, e = 1e-6
            func loss(_ b: any NetworkBlock, _ y: [Double]) throws -> Double { dot(try b.forward(y), v) }
            func at(_ p: [Double]) throws -> any NetworkBlock {
                try p.withUnsafeBufferPointer { try block.setting(parameters: $0) }
            }
            let fdp = try theta.indices.map { i -> Double in
                var plus = theta, minus = theta
                plus[i] += e
                minus[i] -= e
                return (try loss(try at(plus), x) - (try loss(try at(minus), x))) / (2 * e)
            }
            let fdx = try x.indices.map { i -> Double in
                var plus = x, minus = x
                plus[i] += e
                minus[i] -= e
                return (try loss(block, plus) - (try loss(block, minus))) / (2 * e)
            }
            #expect(norm(zip(fdp, gp).map { $0 - $1 }) <= 1e-6 * norm(gp), "\(block.kind) parameters")
            #expect(norm(zip(fdx, gx).map { $0 - $1 }) <= 1e-6 * norm(gx), "\(block.kind) input")
        }
    }

    @Test("at the certified τ bound the block does not increase the norm (Theorem 2), both couplings")
    func certificateHoldsAtTheBound() throws {
        var rng = LayerRNG(17)
        let (H, W) = (5, 6)
        let r = ChannelDiffusivity.rbf(try RBFDiffusivity(coefficients: [1.5, -2.0, 1.2, 0.4, -0.7], bias: -0.5,
                                                          logScale: log(0.8)))
        #expect(r.supG < 0.94)  // σ(−0.5 + 1.5 + 1.2 + 0.4) = σ(2.6): the bound is tighter than with sup g = 1
        for coupling in Coupling.allCases {
            let gs = Array(repeating: r, count: coupling == .isotropic ? 1 : 3)
            let probe = try DiffusionBlock2D(filters: imageTestFilters(), coupling: coupling, diffusivities: gs, tau: 0,
                                             muParameter: -1)
            let bound = try probe.certifiedTauBound(height: H, width: W)
            let lambda = try ImageStability.lambdaMax(probe.filters, height: H, width: W)
            #expect(abs(bound - 2 / (r.supG * lambda + probe.mu)) <= 1e-12 * bound)
            let at = try probe.setting(parameters: Array(probe.parameters.dropLast(2)) + [bound, -1])
            let bounded = try DiffusionBlock2D(filters: imageTestFilters(), coupling: coupling, diffusivities: gs,
                                               tau: bound, stepMode: .bounded, muParameter: -1)
            let over = try DiffusionBlock2D(filters: imageTestFilters(), coupling: coupling, diffusivities: gs,
                                            tau: bound * 1.01, stepMode: .bounded, muParameter: -1)
            let zero = [Double](repeating: 0, count: H * W)
            #expect(throws: PDEBlocksError.self) { try over.forward(zero, data: zero, batch: 1, height: H, width: W) }
            for amplitude in [0.01, 0.3, 1, 3, 30] {
                for _ in 0..<10 {
                    let u = rng.normals(H * W).map { $0 * amplitude }
                    let out = try at.forward(u, data: zero, batch: 1, height: H, width: W)
                    #expect(norm(out) <= norm(u) * (1 + 1e-12))
                    #expect(try bounded.forward(u, data: zero, batch: 1, height: H, width: W) == out)
                }
            }
        }
    }

    @Test("bad parameters are refused: J outside 2...64, non-finite values, unusable λ")
    func badParametersThrow() {
        #expect(throws: PDEBlocksError.self) { try RBFDiffusivity(coefficients: [1], bias: 0, logScale: 0) }
        #expect(throws: PDEBlocksError.self) {
            try RBFDiffusivity(coefficients: Array(repeating: 0, count: 65), bias: 0, logScale: 0)
        }
        #expect(throws: PDEBlocksError.self) { try RBFDiffusivity(coefficients: [1, .nan], bias: 0, logScale: 0) }
        #expect(throws: PDEBlocksError.self) { try RBFDiffusivity(coefficients: [1, 2], bias: .infinity, logScale: 0) }
        #expect(throws: PDEBlocksError.self) { try RBFDiffusivity(coefficients: [1, 2], bias: 0, logScale: 710) }
        #expect(throws: PDEBlocksError.self) { try RBFDiffusivity(coefficients: [1, 2], bias: 0, logScale: -710) }
    }

    @Test("an image network with RBF blocks of both couplings round-trips its file bit for bit")
    func imageNetworkFileRoundTrips() throws {
        let rbf = { (k: Double) in
            ChannelDiffusivity.rbf(try! RBFDiffusivity(coefficients: [1.5, -2.0 * k, 1.2, 0.1], bias: -0.5, logScale: -0.3 * k))
        }
        let net = ImageNetwork(blocks: [
            try DiffusionBlock2D(filters: imageTestFilters(), coupling: .isotropic, diffusivities: [rbf(1)], tau: 0.1,
                                 muParameter: 0.2, zeroMean: true),
            try DiffusionBlock2D(filters: imageTestFilters(), coupling: .channelwise,
                                 diffusivities: [rbf(2), .learnable(try LearnableDiffusivity(weights: [0.4], contrasts: [0.3])), rbf(3)],
                                 tau: 0.05),
        ])
        let bytes = try NetworkFile.encode(net)
        let loaded = try NetworkFile.decodeImage(bytes)
        #expect(loaded.parameters.map(\.bitPattern) == net.parameters.map(\.bitPattern))
        #expect(try NetworkFile.encode(loaded) == bytes)
        #expect(loaded.summary == net.summary)
    }
}
