import Testing
@testable import PDEBlocks

@Suite struct LayerBlockTests {
    @Test("diffusion block forward equals one explicit step (1e-14)", arguments: DiffusivityKind.allCases)
    func diffusionBlockIsOneExplicitStep(_ kind: DiffusivityKind) throws {
        var rng = LayerRNG(3)
        let n = 20
        let x = rng.normals(n)
        let g = try Diffusivity(kind, lambda: 0.6)
        for K in [forwardDifference, centredSecond, oddStencil] {
            let tau = 0.9 * (try stableTau(stencil: K, diffusivity: g, n: n))
            let block = try DiffusionBlock(stencil: K, diffusivity: g, tau: tau)
            var reference = [Double](repeating: 0, count: n)
            try x.withUnsafeBufferPointer { xb in
                try reference.withUnsafeMutableBufferPointer {
                    try Explicit.evolve(xb, into: $0, batch: 1, n: n, stencil: K, diffusivity: g, tau: tau, steps: 1)
                }
            }
            let out = try block.forward(x)
            #expect(zip(out, reference).allSatisfy { abs($0 - $1) <= 1e-14 })
        }
    }

    /// Reference: the spine's `DiffusionStep` (eq. 4) composed by eq. 7 / eq. 9 directly.
    private func step(_ K: Stencil, _ g: Diffusivity, _ tau: Double, _ x: [Double], base: [Double]) -> [Double] {
        let s = DiffusionStep(stencil: K, diffusivity: g)
        var out = [Double](repeating: 0, count: x.count), work = out
        x.withUnsafeBufferPointer { xb in
            base.withUnsafeBufferPointer { bb in
                out.withUnsafeMutableBufferPointer { ob in
                    work.withUnsafeMutableBufferPointer { s.apply(xb, base: bb, tau: tau, into: ob, work: $0) }
                }
            }
        }
        return out
    }

    @Test("FSI block equals eq. 7 with the spine's diffusion step", arguments: [1, 2, 5])
    func fsiBlockIsEquationSeven(_ L: Int) throws {
        var rng = LayerRNG(4)
        let x = rng.normals(17)
        let g = try Diffusivity(.peronaMalik, lambda: 0.5)
        let block = try FSIBlock(step: try DiffusionBlock(stencil: oddStencil, diffusivity: g, tau: 0.05), cycleLength: L)
        var prev = x, cur = x
        for l in 0..<L {
            let a = Double(4 * l + 2) / Double(2 * l + 3)
            let t = step(oddStencil, g, 0.05, cur, base: cur)
            (prev, cur) = (cur, zip(t, prev).map { a * $0 + (1 - a) * $1 })
        }
        let out = try block.forward(x)
        #expect(zip(out, cur).allSatisfy { abs($0 - $1) <= 1e-13 })
    }

    @Test("implicit block equals eq. 9 with the spine's diffusion step, and converges to eq. 8")
    func implicitBlockIsEquationNine() throws {
        var rng = LayerRNG(6)
        let x = rng.normals(15)
        let g = try Diffusivity(.charbonnier, lambda: 0.5)
        var u = x
        for _ in 0..<6 { u = step(forwardDifference, g, 0.1, u, base: x) }
        let block = try ImplicitBlock(step: try DiffusionBlock(stencil: forwardDifference, diffusivity: g, tau: 0.1), iterations: 6)
        let out = try block.forward(x)
        #expect(zip(out, u).allSatisfy { abs($0 - $1) <= 1e-14 })
        // Many sweeps: a fixed point of u = x − τKᵀΦ(Ku) (contraction since τ·L·‖K‖² < 1).
        let many = try ImplicitBlock(step: try DiffusionBlock(stencil: forwardDifference, diffusivity: g, tau: 0.1), iterations: 80).forward(x)
        let residual = zip(step(forwardDifference, g, 0.1, many, base: x), many).map { $0 - $1 }
        #expect(norm(residual) <= 1e-12 * norm(x))
    }

    @Test("the residual form of Theorem 1 equals the diffusion block")
    func residualDiffusionStructureEqualsDiffusionBlock() throws {
        var rng = LayerRNG(8)
        let x = rng.normals(19)
        let g = try Diffusivity(.weickert, lambda: 0.7)
        let r = try ResidualBlock.diffusion(filters: [forwardDifference, oddStencil], diffusivity: g, tau: 0.1)
        let d = try DiffusionBlock(filters: [forwardDifference, oddStencil], diffusivities: [try ChannelDiffusivity(g), try ChannelDiffusivity(g)], step: .free(0.1))
        #expect(zip(try r.forward(x), try d.forward(x)).allSatisfy { abs($0 - $1) <= 1e-14 })
        let c = try r.certificate(n: 19)
        #expect(c.certified)
        #expect(abs(c.tauBound - (try d.certificate(n: 19)).tauBound) <= 1e-12 * c.tauBound)
    }

    @Test("learnable diffusivity: 0 < g ≤ sup g = Σa < 1, nonincreasing, for any parameters")
    func learnableDiffusivityIsBounded() throws {
        var rng = LayerRNG(9)
        for _ in 0..<100 {
            let m = try LearnableDiffusivity(logits: rng.normals(3).map { 4 * $0 }, logContrasts: rng.normals(3).map { 2 * $0 })
            #expect(m.supG < 1 && abs(m.g(0) - m.supG) <= 1e-15)
            var previous = m.g(0)
            for s2 in stride(from: 0.01, through: 50, by: 0.37) {
                let v = m.g(s2)
                #expect(v > 0 && v <= previous)
                previous = v
            }
            #expect(abs(ChannelDiffusivity.learnable(m).fluxDerivative(0) - m.lipschitz) <= 1e-15)
        }
        let m = try LearnableDiffusivity(weights: [0.2, 0.5], contrasts: [0.1, 3])
        #expect(zip(m.weights, [0.2, 0.5]).allSatisfy { abs($0 - $1) <= 1e-15 })
        #expect(zip(m.contrasts, [0.1, 3]).allSatisfy { abs($0 - $1) <= 1e-15 })
    }

    @Test("invalid block descriptions throw", arguments: [
        { _ = try LearnableDiffusivity(weights: [0.6, 0.5], contrasts: [1, 1]) },
        { _ = try LearnableDiffusivity(weights: [0.5], contrasts: [0]) },
        { _ = try LearnableDiffusivity(weights: [], contrasts: []) },
        { _ = try LearnableDiffusivity(logits: [1], logContrasts: [1000]) },
        { _ = try StepSize.bounded(fraction: 1) },
        { _ = try DiffusionBlock(filters: [forwardDifference], diffusivities: [], step: .free(0.1)) },
        { _ = try DiffusionBlock(filters: [forwardDifference], diffusivities: [builtin(.linear, 1)], step: .free(.nan)) },
        { _ = try FSIBlock(step: try DiffusionBlock(filters: [], diffusivities: [], step: .free(0.1)), cycleLength: 0) },
        { _ = try ImplicitBlock(step: try DiffusionBlock(filters: [], diffusivities: [], step: .free(0.1)), iterations: 20_000) },
        { try DiffusionBlock(filters: [], diffusivities: [], step: .free(0.1)).validate() },
        { _ = try ResidualChannel(w1: forwardDifference, w2: forwardDifference, w2Mode: .convolution, b1: .infinity) },
    ] as [@Sendable () throws -> Void])
    func invalidDescriptionsThrow(_ make: @Sendable () throws -> Void) {
        #expect(throws: PDEBlocksError.self) { try make() }
    }

    @Test("bounded τ keeps every block certified for any parameters")
    func boundedTauIsAlwaysCertified() throws {
        var rng = LayerRNG(10)
        let block = try DiffusionBlock(filters: [oddStencil, forwardDifference],
                                       diffusivities: [.learnable(mixture), builtin(.weickert, 0.3)], step: .bounded(fraction: 0.5))
        for _ in 0..<30 {
            let p = rng.normals(block.parameterCount).map { 3 * $0 }
            let b = try p.withUnsafeBufferPointer { try block.setting(parameters: $0) }
            let c = try b.certificate(n: 16)
            #expect(c.certified && c.tau <= c.tauBound)
        }
    }

    @Test("certified λ_max of a filter stack: C = 1 is Stencil.normSquared; C > 1 bounds the power method")
    func stackedNormIsCertified() throws {
        let n = 16
        let one = try StackedOperatorNorm.largestEigenvalueBound(filters: [oddStencil], weights: [0.7], n: n)
        #expect(abs(one - 0.7 * (try oddStencil.normSquared(n: n))) <= 1e-15 * one)
        let filters = [forwardDifference, oddStencil, centredSecond], s = [1.0, 0.5, 0.25]
        let bound = try StackedOperatorNorm.largestEigenvalueBound(filters: filters, weights: s, n: n)
        // Power iteration on A = Σ s_c K_cᵀ K_c (a lower bound of λ_max that converges to it).
        var v = [Double](repeating: 1, count: n)
        v[0] = 2
        var rayleigh = 0.0
        for _ in 0..<3000 {
            var av = [Double](repeating: 0, count: n)
            for (K, sc) in zip(filters, s) {
                let kv = K.applyTransposed(K.apply(v))
                for i in 0..<n { av[i] += sc * kv[i] }
            }
            rayleigh = dot(v, av) / dot(v, v)
            let len = norm(av)
            v = av.map { $0 / len }
        }
        #expect(rayleigh <= bound && bound <= rayleigh * (1 + 1e-7))
        let sum = try zip(filters, s).reduce(0.0) { $0 + $1.1 * (try $1.0.normSquared(n: n)) }
        #expect(bound <= sum * (1 + 1e-12))
    }
}

@Suite struct LayerVectorExpTests {
    @Test("VectorExp agrees with the C library's exp to 2 ulp on [−708, 709.3], and clamps outside")
    func vectorExpIsAccurate() {
        var xs: [Double] = stride(from: -708.0, through: 709.3, by: 0.0137).map { $0 }
        xs += [0, -0.0, 1e-300, -1e-20, 0.5 * 0.6931471805599453, -0.5 * 0.6931471805599453, 1, -1]
        while xs.count % 8 != 3 { xs.append(0.25) }            // leave a scalar tail
        var ys = xs
        ys.withUnsafeMutableBufferPointer { VectorExp.apply($0) }
        for (x, y) in zip(xs, ys) {
            let e = exp(x)
            #expect(abs(y - e) <= 2 * e.ulp, "x = \(x)")
        }
        var extreme = [Double](repeating: -1e4, count: 8) + [Double](repeating: 1e4, count: 8)
        extreme.withUnsafeMutableBufferPointer { VectorExp.apply($0) }
        #expect(extreme[0] < 1e-300 && extreme[0] >= 0 && extreme[8].isFinite && extreme[8] > 1e307)
    }
}
