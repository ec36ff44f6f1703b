import Testing
@testable import PDEBlocks

@Suite struct LayerCertificateTests {
    private func linear(_ K: Stencil, _ tau: Double) throws -> DiffusionBlock {
        try DiffusionBlock(filters: [K], diffusivities: [builtin(.linear, 1)], step: .free(tau))
    }

    @Test("one filter: the bounds are Theorem 2's 2/(sup g‖K‖²) and 2/(L‖K‖²)", arguments: DiffusivityKind.allCases)
    func oneFilterBoundsAreTheoremTwo(_ kind: DiffusivityKind) throws {
        let g = try Diffusivity(kind, lambda: 0.5)
        let c = try DiffusionBlock(stencil: oddStencil, diffusivity: g, tau: 0.01).certificate(n: 24)
        #expect(abs(c.tauBound - (try stableTau(stencil: oddStencil, diffusivity: g, n: 24))) <= 1e-14 * c.tauBound)
        #expect(abs(c.tauBoundLipschitz - (try stableTau(stencil: oddStencil, diffusivity: g, n: 24, bound: .lipschitz)))
                <= 1e-14 * c.tauBound)
        #expect(c.certified && c.reason.contains("Theorem 2"))
    }

    @Test("τ above the bound, or negative, is uncertified")
    func tauOutsideTheBoundIsUncertified() throws {
        let bound = try stableTau(stencil: forwardDifference, diffusivity: try Diffusivity(.linear), n: 12)
        let over = try linear(forwardDifference, 1.01 * bound).certificate(n: 12)
        #expect(!over.certified && over.reason.contains("exceeds"))
        let negative = try linear(forwardDifference, -0.1).certificate(n: 12)
        #expect(!negative.certified && negative.reason.contains("negative"))
    }

    @Test("FSI: certified for linear g (FED cycle) and L = 1; nonlinear cycles are uncertified with a reason")
    func fsiCertificates() throws {
        let bound = try stableTau(stencil: centredSecond, diffusivity: try Diffusivity(.linear), n: 20)
        #expect(try FSIBlock(step: try linear(centredSecond, bound), cycleLength: 7).certificate(n: 20).certified)
        #expect(!(try FSIBlock(step: try linear(centredSecond, 1.01 * bound), cycleLength: 7).certificate(n: 20).certified))
        let pm = try DiffusionBlock(stencil: centredSecond, diffusivity: try Diffusivity(.peronaMalik, lambda: 0.3), tau: 0.01)
        let c = try FSIBlock(step: pm, cycleLength: 3).certificate(n: 20)
        #expect(!c.certified && c.reason.contains("extrapolation") && c.tauBound.isNaN)
        // L = 1 is an explicit step of size 2τ/3: certified up to 3/2 of the bound.
        let one = try FSIBlock(step: try DiffusionBlock(stencil: centredSecond, diffusivity: try Diffusivity(.peronaMalik, lambda: 0.3),
                                                          tau: 1.4 * bound), cycleLength: 1).certificate(n: 20)
        #expect(one.certified && abs(one.tauBound - 1.5 * bound) <= 1e-12 * bound)
    }

    @Test("implicit: L = 1 is Theorem 2; linear L ≥ 2 needs τ ≤ bound/2; nonlinear L ≥ 2 is uncertified")
    func implicitCertificates() throws {
        let bound = try stableTau(stencil: forwardDifference, diffusivity: try Diffusivity(.linear), n: 20)
        #expect(try ImplicitBlock(step: try linear(forwardDifference, 0.99 * bound), iterations: 1).certificate(n: 20).certified)
        #expect(try ImplicitBlock(step: try linear(forwardDifference, 0.5 * bound), iterations: 3).certificate(n: 20).certified)
        #expect(!(try ImplicitBlock(step: try linear(forwardDifference, 0.51 * bound), iterations: 3).certificate(n: 20).certified))
        let pm = try DiffusionBlock(stencil: forwardDifference, diffusivity: try Diffusivity(.peronaMalik, lambda: 0.3), tau: 0.01)
        let c = try ImplicitBlock(step: pm, iterations: 2).certificate(n: 20)
        #expect(!c.certified && c.reason.contains("fixed-point"))
    }

    @Test("projectStable clamps free step sizes into [0, margin·bound] and leaves the rest")
    func projectStableClamps() throws {
        var net = Network(blocks: [
            try linear(forwardDifference, 5), try linear(forwardDifference, -1), try linear(forwardDifference, 0.1),
            try DiffusionBlock(filters: [forwardDifference], diffusivities: [builtin(.linear, 1)], step: .bounded(fraction: 0.5)),
        ])
        #expect(!(try net.certificate(n: 16).certified))
        #expect(try net.projectStable(n: 16, margin: 0.9) == 2)
        let c = try net.certificate(n: 16)
        #expect(c.certified)
        #expect(abs(c.blocks[0].tau - 0.9 * c.blocks[0].tauBound) <= 1e-15 && c.blocks[1].tau == 0 && c.blocks[2].tau == 0.1)
        #expect(throws: PDEBlocksError.self) { try net.projectStable(n: 16, margin: 0) }
    }

    @Test("the diffusion structure of a residual block is detected; each failing condition is named")
    func residualStructureDetection() throws {
        let certified = try ResidualBlock.diffusion(filters: [oddStencil], diffusivity: try Diffusivity(.charbonnier, lambda: 1), tau: 0.05)
        #expect(try certified.certificate(n: 14).certified)
        let generic = try ResidualBlock(
            channels: [try ResidualChannel(w1: oddStencil, w2: oddStencil, w2Mode: .convolution, b1: 0.5)],
            b2: 0.25, sigma1: .tanh, sigma2: .relu)
        let reason = try generic.certificate(n: 14).reason
        for part in ["σ2 = relu is not the identity", "b1[0] = 0.5", "b2 = 0.25", "σ1 = tanh is not a flux", "W2[0] ≠ −W1[0]ᵀ"] {
            #expect(reason.contains(part), "\(part)")
        }
    }
}
