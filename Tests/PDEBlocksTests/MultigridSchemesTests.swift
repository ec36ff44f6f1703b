import Testing

@testable import PDEBlocks

@Suite("Conjugate gradients, semi-implicit diffusion and the generic two-level U-net")
struct MultigridSchemesTests {
    /// Textbook (P)CG.
    static func pcg(_ A: Dense, _ b: [Double], iterations: Int, precondition: ([Double]) throws -> [Double]) rethrows -> [Double] {
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        var x = [Double](repeating: 0, count: b.count)
        var r = b
        var z = try precondition(r)
        var p = z
        var rz = dot(r, z)
        for _ in 0..<iterations {
            let q = A.times(p)
            let alpha = rz / dot(p, q)
            x = zip(x, p).map { $0 + alpha * $1 }
            r = zip(r, q).map { $0 - alpha * $1 }
            z = try precondition(r)
            let rzNew = dot(r, z)
            p = zip(z, p).map { $0 + rzNew / rz * $1 }
            rz = rzNew
        }
        return x
    }

    @Test("CG and multigrid-preconditioned CG iterate as the textbook method")
    func cgIterates() throws {
        let A = try MultigridCycleTests.jumpySystem(n: 120, tauOverH2: 1e3, seed: 6)
        var rng = TestRandom(2)
        let b = rng.vector(120)
        let (x, report) = try ConjugateGradient.solve(A, b, tolerance: 0, maxIterations: 6)
        #expect(report.iterations == 6 && !report.converged)
        let ref = Self.pcg(Dense(A), b, iterations: 6) { $0 }
        #expect(maxDifference(x, ref) < 1e-10 * maxAbs(ref))
        let mg = try Multigrid(A)
        let (xp, _) = try ConjugateGradient.solve(A, b, tolerance: 0, maxIterations: 3, preconditioner: mg)
        let refp = try Self.pcg(Dense(A), b, iterations: 3) { try mg.cycle([Double](repeating: 0, count: 120), $0) }
        #expect(maxDifference(xp, refp) < 1e-9 * maxAbs(refp))
    }

    @Test("a multigrid preconditioner makes CG converge in a few iterations")
    func pcgConverges() throws {
        let A = try BandedMatrix.poisson1D(n: 511)
        var rng = TestRandom(9)
        let b = rng.vector(511)
        let (x, report) = try ConjugateGradient.solve(A, b, tolerance: 1e-10, preconditioner: try Multigrid(A))
        #expect(report.converged && report.iterations <= 10)
        let (_, plain) = try ConjugateGradient.solve(A, b, tolerance: 1e-10)
        #expect(plain.iterations > 5 * report.iterations)
        let r = zip(b, Dense(A).times(x)).map { $0 - $1 }
        #expect(r.reduce(0) { $0 + $1 * $1 }.squareRoot() <= 1e-9 * b.reduce(0) { $0 + $1 * $1 }.squareRoot())
    }

    @Test("CG refuses non-symmetric matrices and non-symmetric cycles")
    func cgRefuses() throws {
        let A = try BandedMatrix.poisson1D(n: 31)
        let N = try BandedMatrix(offsets: [-1, 0, 1], diagonals: [[Double](repeating: -1, count: 30), [Double](repeating: 3, count: 31), [Double](repeating: -0.5, count: 30)])
        let b = [Double](repeating: 1, count: 31)
        #expect(throws: PDEBlocksError.self) { try ConjugateGradient.solve(N, b) }
        for options in [MultigridOptions(smoother: .forwardGaussSeidel), MultigridOptions(preSmoothing: 1), MultigridOptions(cycle: .f)] {
            let mg = try Multigrid(A, options: options)
            #expect(throws: PDEBlocksError.self) { try ConjugateGradient.solve(A, b, preconditioner: mg) }
        }
    }

    static func noisySteps(_ n: Int, seed: UInt64) -> [Double] {
        var rng = TestRandom(seed)
        let levels = rng.vector(5, 0, 1)
        return (0..<n).map { levels[$0 * 5 / n] + 0.05 * rng.uniform(-1, 1) }
    }

    @Test("a semi-implicit step solves (I + τ Kᵀ G(u) K) u⁺ = u")
    func semiImplicitStep() throws {
        let n = 40
        let h = 1 / Double(n)
        let K = try Stencil(weights: [1 / (h * h), -2 / (h * h), 1 / (h * h)], offset: -1)
        let g = try Diffusivity(.peronaMalik, lambda: 30)
        let f = Self.noisySteps(n, seed: 1)
        let tau = 1e-7
        let u = try SemiImplicit.evolve(f, stencil: K, diffusivity: g, tau: tau, steps: 1)
        let Kd = denseStencil(K.weights, offset: K.offset, n: n)
        let s = Kd.times(f)
        var A = Dense(rows: n, columns: n)
        for i in 0..<n { A[i, i] = g.g(s[i] * s[i]) }
        A = Kd.transposed * A * Kd
        for i in 0..<(n * n) { A.a[i] *= tau }
        for i in 0..<n { A[i, i] += 1 }
        #expect(maxDifference(u, A.solve(f)) < 1e-12)
    }

    @Test("semi-implicit: direct and multigrid agree; max–min principle and ‖u‖ decrease at τ = 1e4·bound",
          arguments: [DiffusivityKind.peronaMalik, .charbonnier, .weickert])
    func semiImplicit(kind: DiffusivityKind) throws {
        let n = 200
        let h = 1 / Double(n)
        let K = try Stencil(weights: [-1 / h, 1 / h])
        let g = try Diffusivity(kind, lambda: 0.5 / h)
        let f = Self.noisySteps(n, seed: 3)
        let tau = 1e4 * (try stableTau(stencil: K, diffusivity: g, n: n))
        var u = f
        var norm = f.reduce(0) { $0 + $1 * $1 }.squareRoot()
        for _ in 0..<5 {
            u = try SemiImplicit.evolve(u, stencil: K, diffusivity: g, tau: tau, steps: 1)
            #expect(u.min()! >= f.min()! - 1e-12 && u.max()! <= f.max()! + 1e-12)
            let next = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(next <= norm * (1 + 1e-14))
            norm = next
        }
        let mg = try SemiImplicit.evolve(f, stencil: K, diffusivity: g, tau: tau, steps: 5, solver: .multigridDefault)
        #expect(maxDifference(mg, u) < 1e-9)
    }

    @Test("semi-implicit multigrid that cannot reach its tolerance throws notConverged")
    func semiImplicitNotConverged() throws {
        let K = try Stencil(weights: [-1, 1])
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        let f = Self.noisySteps(30, seed: 2)
        #expect(throws: PDEBlocksError.self) {
            try SemiImplicit.evolve(f, stencil: K, diffusivity: g, tau: 10, steps: 1, solver: .multigrid(MultigridOptions(), tolerance: 1e-30, maxCycles: 3))
        }
        #expect(throws: PDEBlocksError.self) { try SemiImplicit.evolve(f, stencil: K, diffusivity: g, tau: -1, steps: 1) }
    }

    @Test("the two-level U-net is C₂(C₁f + P C_H(R C₁f))", arguments: [TransferKind.cell, .vertex])
    func twoLevelUNet(transfer: TransferKind) throws {
        let D = try Stencil(weights: [-1, 1])
        let g = try Diffusivity(.peronaMalik, lambda: 0.7)
        let smoothing = try Stencil(weights: [0.25, 0.5, 0.25], offset: -1)
        let net = try TwoLevelUNet(pre: [.diffusion(D, g, tau: 0.2), .stencil(smoothing)], coarse: [.diffusion(D, g, tau: 0.3)],
                                   post: [.stencil(try Stencil(weights: [1, 0.5]))], transfer: transfer)
        var rng = TestRandom(12)
        for n in [16, 25] {
            let f = rng.vector(n)
            let t = transfer == .cell ? try Transfer.cellLinear(fine: n) : try Transfer.vertexLinear(fine: n)
            let P = Dense(rows: n, columns: t.coarse, t.prolongationMatrix())
            let R = Dense(rows: t.coarse, columns: n, t.restrictionMatrix())
            func block(_ u: [Double], _ K: Stencil, tau: Double) -> [Double] {
                let Kd = denseStencil(K.weights, offset: K.offset, n: u.count)
                let flux = Kd.times(u).map { g.flux($0) }
                return zip(u, Kd.transposed.times(flux)).map { $0 - tau * $1 }
            }
            let f1 = denseStencil(smoothing.weights, offset: -1, n: n).times(block(f, D, tau: 0.2))
            let fH = block(R.times(f1), D, tau: 0.3)
            let merged = zip(f1, P.times(fH)).map { $0 + $1 }
            let ref = denseStencil([1, 0.5], offset: 0, n: n).times(merged)
            #expect(maxDifference(try net.forward(f), ref) < 1e-12)
        }
        #expect(throws: PDEBlocksError.self) { try TwoLevelUNet(pre: [], coarse: [], post: [], transfer: .matrixDependent) }
        #expect(throws: PDEBlocksError.self) { try net.forward([1]) }
    }
}
