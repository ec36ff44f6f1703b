import Testing

@testable import PDEBlocks

@Suite("Multigrid cycles, the U-net form and solves")
struct MultigridCycleTests {
    /// A diffusion system with weights 1e-8 across a few edges and 1 elsewhere (Perona–Malik-like).
    static func jumpySystem(n: Int, tauOverH2: Double, seed: UInt64) throws -> BandedMatrix {
        var rng = TestRandom(seed)
        var w = (0..<n).map { _ in 0.5 + 0.5 * rng.uniform() }
        for _ in 0..<4 { w[Int(rng.uniform(1, Double(n - 2)))] = 1e-8 }
        let h = 1 / Double(n)
        return try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: [-1 / h, 1 / h]), weights: w, tau: tauOverH2 * h * h)
    }

    /// One dense two-grid cycle with an exact coarse solve.
    static func twoGrid(_ A: BandedMatrix, _ t: Transfer, _ options: MultigridOptions, x: [Double], b: [Double]) -> [Double] {
        let D = Dense(A)
        let omega = options.omega ?? Smoother.defaultOmega(A)
        var x = x
        for _ in 0..<options.preSmoothing { DenseSmoother.apply(options.smoother, post: false, D, b, &x, omega: omega) }
        let P = Dense(rows: A.n, columns: t.coarse, t.prolongationMatrix())
        let R = Dense(rows: t.coarse, columns: A.n, t.restrictionMatrix())
        let r = zip(b, D.times(x)).map { $0 - $1 }
        let e = (R * D * P).solve(R.times(r))
        x = zip(x, P.times(e)).map { $0 + $1 }
        for _ in 0..<options.postSmoothing { DenseSmoother.apply(options.smoother, post: true, D, b, &x, omega: omega) }
        return x
    }

    @Test("a two-level cycle with exact coarse solve equals the dense two-grid formula", arguments: Smoother.allCases.filter(\.isPointSmoother))
    func twoLevel(smoother: Smoother) throws {
        var rng = TestRandom(31)
        for (A, kind) in [(try BandedMatrix.poisson1D(n: 31), TransferKind.vertex), (try BandedMatrix.poisson1D(n: 20), .vertex),
                          (try Self.jumpySystem(n: 27, tauOverH2: 100, seed: 2), .matrixDependent),
                          (try Self.jumpySystem(n: 18, tauOverH2: 10, seed: 3), .cell)] {
            for (pre, post) in [(2, 2), (1, 0), (0, 1)] {
                let options = MultigridOptions(smoother: smoother, preSmoothing: pre, postSmoothing: post, transfer: kind, maxLevels: 2)
                let mg = try Multigrid(A, options: options)
                #expect(mg.sizes.count == 2)
                let x = rng.vector(A.n), b = rng.vector(A.n)
                let ref = Self.twoGrid(A, try mg.transfer(level: 0), options, x: x, b: b)
                #expect(maxDifference(try mg.cycle(x, b), ref) < 1e-12 * maxAbs(ref))
            }
        }
    }

    @Test("the U-net form computes the classical cycle's iterate", arguments: CycleKind.allCases)
    func unetEqualsClassical(cycle: CycleKind) throws {
        var rng = TestRandom(41)
        for A in [try BandedMatrix.poisson1D(n: 63), try Self.jumpySystem(n: 50, tauOverH2: 1e3, seed: 4)] {
            for smoother in Smoother.allCases where smoother.isPointSmoother {
                let mg = try Multigrid(A, options: MultigridOptions(smoother: smoother, preSmoothing: 2, postSmoothing: 1, cycle: cycle))
                #expect(mg.sizes.count >= 4)
                let x = rng.vector(A.n), b = rng.vector(A.n)
                let net = try mg.unetCycle(x: x, b: b)
                let classical = try mg.cycle(x, b)
                #expect(maxDifference(net.x, classical) <= 1e-12 * maxAbs(classical))
                #expect(net.b == b)
                let r = zip(b, Dense(A).times(net.x)).map { $0 - $1 }
                #expect(maxDifference(net.r, r) <= 1e-10 * maxAbs(b))
            }
        }
    }

    @Test("the U-net's channel operators act only on the channels the paper names")
    func channelOperators() throws {
        let t = try Transfer.vertexLinear(fine: 7)
        var rng = TestRandom(5)
        let s = try ThreeChannelSignal(x: rng.vector(7), b: rng.vector(7), r: rng.vector(7))
        let down = ChannelOperator.downsampling(t).apply(s)
        var Rr = [Double](repeating: 0, count: 3)
        s.r.withUnsafeBufferPointer { r in Rr.withUnsafeMutableBufferPointer { t.restrict(r, into: $0) } }
        #expect(down.x == [0, 0, 0] && down.b == Rr && down.r == [0, 0, 0])
        let coarse = try ThreeChannelSignal(x: [1, 2, 3], b: [4, 5, 6], r: [7, 8, 9])
        let up = ChannelOperator.upsampling(t).apply(coarse)
        #expect(up.x == Dense(rows: 7, columns: 3, t.prolongationMatrix()).times([1, 2, 3]))
        #expect(up.b == [Double](repeating: 0, count: 7) && up.r == [Double](repeating: 0, count: 7))
    }

    @Test("Poisson: V(2,2) Gauss–Seidel ≤ 0.1, V(1,1) Jacobi ≤ 0.35, W and F at least as good",
          arguments: [63, 64, 100, 127, 255, 300, 511])
    func poissonFactors(n: Int) throws {
        let A = try BandedMatrix.poisson1D(n: n)
        let v = try asymptoticFactor(try Multigrid(A))
        #expect(v <= 0.1)
        #expect(try asymptoticFactor(try Multigrid(A, options: MultigridOptions(cycle: .w))) <= v * (1 + 1e-6))
        #expect(try asymptoticFactor(try Multigrid(A, options: MultigridOptions(cycle: .f))) <= v * (1 + 1e-6))
        let jacobi = MultigridOptions(smoother: .jacobi, preSmoothing: 1, postSmoothing: 1)
        let vj = try asymptoticFactor(try Multigrid(A, options: jacobi))
        #expect(vj <= 0.35)
        var wj = jacobi
        wj.cycle = .w
        #expect(try asymptoticFactor(try Multigrid(A, options: wj)) <= vj * (1 + 1e-6))
    }

    @Test("jumping diffusion weights (1e-8 … 1), τ up to 1e4·h²: V-cycle factor ≤ 0.3",
          arguments: [1.0, 1e2, 1e4])
    func jumpyDiffusion(tauOverH2: Double) throws {
        for n in [128, 200, 255] {
            let mg = try Multigrid(try Self.jumpySystem(n: n, tauOverH2: tauOverH2, seed: UInt64(n)))
            #expect(mg.transferKind == .matrixDependent)
            #expect(try asymptoticFactor(mg) <= 0.3)
        }
    }

    @Test("solve reports its residual history and factor")
    func solveReport() throws {
        let A = try BandedMatrix.poisson1D(n: 255)
        var rng = TestRandom(8)
        let b = try A.multiply(rng.vector(255))
        let mg = try Multigrid(A)
        let (x, report) = try mg.solve(b, tolerance: 1e-9)
        #expect(report.converged)
        let r = zip(b, Dense(A).times(x)).map { $0 - $1 }
        let norm = r.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(abs(norm - report.residuals.last!) <= 1e-6 * norm)
        #expect(report.residuals.last! <= 1e-9 * report.reference)
        let m = Double(report.iterations)
        #expect(abs(report.convergenceFactor - pow(report.residuals.last! / report.residuals[0], 1 / m)) < 1e-12)
        #expect(report.convergenceFactor <= 0.1)
    }

    @Test("non-convergence stops at max_cycles and is reported")
    func nonConvergence() throws {
        let n = 63
        let h = 1 / Double(n + 1)
        // an indefinite Helmholtz-like system: Gauss–Seidel multigrid does not converge
        let A = try BandedMatrix(
            offsets: [-1, 0, 1],
            diagonals: [[Double](repeating: -1 / (h * h), count: n - 1), [Double](repeating: (2 - 300 * h * h) / (h * h), count: n),
                        [Double](repeating: -1 / (h * h), count: n - 1)], grid: .vertex)
        let mg = try Multigrid(A)
        var rng = TestRandom(3)
        let (_, report) = try mg.solve(rng.vector(n), tolerance: 1e-10, maxCycles: 20)
        #expect(!report.converged)
        #expect(report.iterations <= 20)
        // a tolerance below the rounding floor
        let p = try Multigrid(try BandedMatrix.poisson1D(n: 127))
        let (_, floor) = try p.solve(rng.vector(127, 0, 1), tolerance: 1e-18, maxCycles: 12)
        #expect(!floor.converged && floor.iterations == 12 && floor.message.contains("not converged"))
    }

    @Test("one hierarchy serves concurrent solves with the results of sequential ones")
    func concurrentSolves() async throws {
        let mg = try Multigrid(try BandedMatrix.poisson1D(n: 255))
        var rng = TestRandom(77)
        let rhs = (0..<8).map { _ in rng.vector(255) }
        let sequential = try rhs.map { try mg.solve($0, tolerance: 1e-10).x }
        let concurrent = try await withThrowingTaskGroup(of: (Int, [Double]).self) { group in
            for (k, b) in rhs.enumerated() { group.addTask { (k, try mg.solve(b, tolerance: 1e-10).x) } }
            var out = [[Double]](repeating: [], count: rhs.count)
            for try await (k, x) in group { out[k] = x }
            return out
        }
        #expect(concurrent == sequential)
    }

    @Test("bad options and inputs are refused before anything runs")
    func badInput() throws {
        let A = try BandedMatrix.poisson1D(n: 31)
        #expect(throws: PDEBlocksError.self) { try Multigrid(try .poisson1D(n: 3)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid(A, options: MultigridOptions(coarsest: 31)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid(A, options: MultigridOptions(omega: 0.5)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid(A, options: MultigridOptions(smoother: .jacobi, omega: 2)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid(A, options: MultigridOptions(preSmoothing: 0, postSmoothing: 0)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid(A, options: MultigridOptions(maxLevels: 1)) }
        let singular = try BandedMatrix(offsets: [-1, 0, 1], diagonals: [[Double](repeating: -1, count: 15), [1] + [Double](repeating: 2, count: 14) + [1], [Double](repeating: -1, count: 15)])
        #expect(throws: PDEBlocksError.self) { try Multigrid(singular) }
        let mg = try Multigrid(A)
        var b = [Double](repeating: 1, count: 31)
        b[3] = .nan
        #expect(throws: PDEBlocksError.self) { try mg.solve(b) }
        #expect(throws: PDEBlocksError.self) { try mg.solve([1, 2]) }
        #expect(throws: PDEBlocksError.self) { try mg.cycle([Double](repeating: 0, count: 31), b) }
        #expect(throws: PDEBlocksError.self) { try mg.solve([Double](repeating: 1, count: 31), tolerance: .nan) }
        #expect(throws: PDEBlocksError.self) { try mg.solve([Double](repeating: 1, count: 31), maxCycles: -1) }
        #expect(throws: PDEBlocksError.self) { try mg.matrix(level: 9) }
    }
}
