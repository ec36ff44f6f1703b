import Testing
@testable import PDEBlocks

/// Loss ⟨w, block(x)⟩ evaluated through `forward`.
private func loss(_ block: any NetworkBlock, _ x: [Double], _ w: [Double]) throws -> Double {
    dot(try block.forward(x), w)
}

@Suite struct LayerGradientTests {
    @Test("backward matches central differences for every parameter kind and the input (rel. error ≤ 1e-6)",
          arguments: labelledBlocks)
    func backwardMatchesCentralDifferences(_ item: LabelledBlock) throws {
        var rng = LayerRNG(17)
        let n = 10
        let x = rng.normals(n), w = rng.normals(n)
        let block = item.block
        let (gx, gp) = try block.vjp(x, w)
        let theta = block.parameterArray
        let h = 1e-6
        var fd = [Double](repeating: 0, count: theta.count)
        for i in theta.indices {
            var plus = theta, minus = theta
            plus[i] += h
            minus[i] -= h
            let bp = try plus.withUnsafeBufferPointer { try block.setting(parameters: $0) }
            let bm = try minus.withUnsafeBufferPointer { try block.setting(parameters: $0) }
            fd[i] = (try loss(bp, x, w) - (try loss(bm, x, w))) / (2 * h)
        }
        let groups = item.groups
        #expect(groups.values.flatMap { $0 }.sorted() == Array(theta.indices))
        for (kind, idx) in groups {
            let err = norm(idx.map { fd[$0] - gp[$0] }) / max(norm(idx.map { gp[$0] }), 1e-300)
            #expect(err <= 1e-6, "\(kind): relative error \(err)")
        }
        var fdx = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var plus = x, minus = x
            plus[i] += h
            minus[i] -= h
            fdx[i] = (try loss(block, plus, w) - (try loss(block, minus, w))) / (2 * h)
        }
        #expect(norm(zip(fdx, gx).map { $0 - $1 }) / norm(gx) <= 1e-6)
    }

    /// For linear blocks (linear diffusivity, identity activations, no biases) `block(v) = J v`
    /// exactly, so `⟨J v, w⟩ = ⟨v, Jᵀ w⟩` must hold to rounding error.
    @Test("adjoint identity ⟨Jv, w⟩ = ⟨v, Jᵀw⟩ to 1e-10 for linear blocks of every kind",
          arguments: [
            try! DiffusionBlock(filters: [forwardDifference, oddStencil], diffusivities: [builtin(.linear, 1), builtin(.linear, 1)], step: .free(0.2)),
          ] as [any NetworkBlock] + [
            try! FSIBlock(step: try! DiffusionBlock(filters: [centredSecond], diffusivities: [builtin(.linear, 1)], step: .free(0.05)), cycleLength: 5),
            try! ImplicitBlock(step: try! DiffusionBlock(filters: [oddStencil], diffusivities: [builtin(.linear, 1)], step: .free(0.1)), iterations: 4),
            try! ResidualBlock(channels: [
                try! ResidualChannel(w1: oddStencil, w2: centredSecond, w2Mode: .convolution, b1: 0),
                try! ResidualChannel(w1: forwardDifference, w2: oddStencil, w2Mode: .transposed, b1: 0),
            ], b2: 0, sigma1: .identity, sigma2: .identity),
          ] as [any NetworkBlock])
    func adjointIdentityForLinearBlocks(_ block: any NetworkBlock) throws {
        var rng = LayerRNG(5)
        let n = 13
        let v = rng.normals(n), w = rng.normals(n)
        let jv = try block.forward(v)
        let (jtw, _) = try block.vjp(rng.normals(n), w)   // J does not depend on the point
        #expect(abs(dot(jv, w) - dot(v, jtw)) <= 1e-10 * abs(dot(v, jtw)))
    }

    @Test("activation derivatives match central differences", arguments: [
        Activation.identity, .relu, .tanh, .flux(.learnable(mixture), tau: 0.7),
    ] + DiffusivityKind.allCases.map { Activation.flux(builtin($0, 0.8), tau: 0.5) })
    func activationDerivatives(_ a: Activation) {
        for s in stride(from: -3.05, through: 3.0, by: 0.1) {
            let h = 1e-6
            let fd = (a.value(s + h) - a.value(s - h)) / (2 * h)
            #expect(abs(fd - a.derivative(s)) <= 1e-7 * max(1, abs(fd)), "s = \(s)")
        }
    }

    @Test("flux activation equals τ·Φ of the spine's diffusivity", arguments: DiffusivityKind.allCases)
    func fluxActivationIsTauPhi(_ kind: DiffusivityKind) throws {
        let d = try Diffusivity(kind, lambda: 0.6)
        let a = try Activation.flux(d, tau: 0.3)
        for s in stride(from: -2.0, through: 2.0, by: 0.125) {
            #expect(abs(a.value(s) - 0.3 * d.flux(s)) <= 1e-15)
            #expect(abs(a.derivative(s) - 0.3 * d.fluxDerivative(s)) <= 1e-14)
        }
    }
}
