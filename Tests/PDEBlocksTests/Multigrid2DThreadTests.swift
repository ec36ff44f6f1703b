import Testing

@testable import PDEBlocks

/// The row-band passes of 2D cycles (`CycleBands2D`) give bitwise the serial results: each
/// banded kernel against its serial form for every band count (down to one-row bands), on
/// odd and even sizes, 5-point and exactly symmetric or not; and whole cycles and solves for
/// several thread counts on levels large enough to be split.
@Suite("2D multigrid: row bands are bitwise the serial passes")
struct Multigrid2DThreadTests {
    /// A deterministic field of jumping weights (1 and `low`).
    static func jumpWeights(_ H: Int, _ W: Int, low: Double) -> [Double] {
        (0..<(H * W)).map { p in ((p / W) / 3 + (p % W) / 2) % 2 == 0 ? 1 : low }
    }

    /// Fields on `H×W`: Poisson (exactly symmetric, Dirichlet), a jumping diffusion system,
    /// and the same with its east coefficients perturbed by 1 ulp-scale amounts (symmetric
    /// to 1e-10 but not bitwise: the general kernels).
    static func fields(_ H: Int, _ W: Int) throws -> [StencilField2D] {
        let poisson = try StencilField2D.poisson2D(height: H, width: W)
        let jumping = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: jumpWeights(H, W, low: 1e-3), height: H, width: W, tau: 50)
        var c = jumping.coefficients
        let n = H * W
        for p in stride(from: 0, to: n, by: 7) where c[5 * n + p] != 0 { c[5 * n + p] *= 1 + 1e-14 }
        let nearly = try StencilField2D(height: H, width: W, coefficients: c, grid: .cell)
        return [poisson, jumping, nearly]
    }

    static let shapes: [(Int, Int)] = [(23, 17), (24, 16), (21, 30)]

    @Test("banded red-black sweeps equal the serial sweep for every band count", arguments: shapes)
    func redBlackBandsEqualSerial(shape: (Int, Int)) throws {
        let (H, W) = shape
        var rng = TestRandom(seed: UInt64(H * W))
        let x0 = rng.vector(H * W), b = rng.vector(H * W)
        for A in try Self.fields(H, W) {
            #expect(A.isFivePoint)
            let level = try MultigridHierarchy2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 4)).levels[0]
            try A.coefficients.withUnsafeBufferPointer { c in
                try level.inverseDiagonal.withUnsafeBufferPointer { inv in
                    var s = FieldSweeper(c: c.baseAddress!, inverseDiagonal: inv.baseAddress!, height: H, width: W, fivePoint: true)
                    s.symmetric = level.exactlySymmetric
                    for reverse in [false, true] {
                        var serial = x0
                        b.withUnsafeBufferPointer { bb in
                            serial.withUnsafeMutableBufferPointer { s.redBlack(reverse: reverse, x: $0.baseAddress!, b: bb.baseAddress!) }
                        }
                        #expect(serial != x0)
                        for parts in 2...H {
                            var banded = x0
                            b.withUnsafeBufferPointer { bb in
                                banded.withUnsafeMutableBufferPointer {
                                    s.redBlackBands(reverse: reverse, x: $0.baseAddress!, b: bb.baseAddress!, parts: parts)
                                }
                            }
                            try #require(banded == serial, "H×W = \(H)×\(W), reverse \(reverse), \(parts) bands")
                        }
                    }
                }
            }
        }
    }

    @Test("banded residual-restriction, prolongation and residual norm equal the serial passes", arguments: shapes)
    func transferBandsEqualSerial(shape: (Int, Int)) throws {
        let (H, W) = shape
        var rng = TestRandom(seed: UInt64(7 * H + W))
        let x = rng.vector(H * W), b = rng.vector(H * W)
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        Parallelism.threads = 1   // the serial paths
        for A in try Self.fields(H, W) {
            let h = try MultigridHierarchy2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 4))
            let level = h.levels[0], t = level.transfer!
            let nc = t.coarseHeight * t.coarseWidth
            let e = rng.vector(nc)
            var ring = [Double](repeating: 0, count: H * W)
            var serialCoarse = [Double](repeating: 0, count: nc), serialFine = x
            var r = [Double](repeating: 0, count: H * W)
            var serialSquares = 0.0   // the serial sum: rows added in order
            x.withUnsafeBufferPointer { xb in b.withUnsafeBufferPointer { bb in
                ring.withUnsafeMutableBufferPointer { rg in serialCoarse.withUnsafeMutableBufferPointer {
                    h.residualRestricted(level, x: xb.baseAddress!, b: bb.baseAddress!, ring: rg.baseAddress!, into: $0.baseAddress!)
                } }
                A.coefficients.withUnsafeBufferPointer { c in r.withUnsafeMutableBufferPointer {
                    serialSquares = StencilField2DKernels.residual(
                        c.baseAddress!, height: H, width: W, fivePoint: true, symmetric: level.exactlySymmetric,
                        x: xb.baseAddress!, b: bb.baseAddress!, into: $0.baseAddress!)
                } }
            } }
            e.withUnsafeBufferPointer { eb in serialFine.withUnsafeMutableBufferPointer { t.prolongAdd(eb.baseAddress!, into: $0.baseAddress!) } }
            for parts in 2...(H / 3) {   // ≥ 1 coarse row a band; 3W ring values a band fit in H·W
                var coarse = [Double](repeating: .nan, count: nc), fine = x
                var squares = 0.0
                x.withUnsafeBufferPointer { xb in b.withUnsafeBufferPointer { bb in
                    ring.withUnsafeMutableBufferPointer { rg in coarse.withUnsafeMutableBufferPointer {
                        h.residualRestrictedBands(level, x: xb.baseAddress!, b: bb.baseAddress!, ring: rg.baseAddress!,
                                                  into: $0.baseAddress!, parts: parts)
                    } }
                    ring.withUnsafeMutableBufferPointer {
                        squares = h.residualSumOfSquaresBands(xb.baseAddress!, b: bb.baseAddress!, work: $0.baseAddress!, parts: parts)
                    }
                } }
                e.withUnsafeBufferPointer { eb in fine.withUnsafeMutableBufferPointer {
                    h.prolongAddBands(t, eb.baseAddress!, into: $0.baseAddress!, parts: parts)
                } }
                try #require(coarse == serialCoarse, "\(parts) bands")
                try #require(fine == serialFine, "\(parts) bands")
                try #require(squares == serialSquares, "\(parts) bands")
            }
        }
    }

    @Test("cycles and solves do not depend on the thread count", arguments: [(520, 400), (517, 403)])
    func cyclesDoNotDependOnThreads(shape: (Int, Int)) throws {
        let (H, W) = shape
        var rng = TestRandom(seed: 15)
        let x0 = rng.vector(H * W), b = rng.vector(H * W)
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        for A in try Self.fields(H, W).prefix(2) {
            var results: [[Double]] = []
            for threads in [1, 2, 3, 5] {
                Parallelism.threads = threads
                #expect(CycleBands2D.parts(height: H, count: H * W) == min(threads, 3))   // the finest level is split
                var out: [Double] = []
                for cycle in [CycleKind.v, .w] {
                    let mg = try Multigrid2D(A, options: MultigridOptions(smoother: .redBlack, cycle: cycle, coarsest: 64))
                    out += try mg.cycle(x0, b)
                    let (x, report) = try mg.solve(b, tolerance: 1e-9, maxCycles: 4)
                    out += x + report.residuals
                }
                results.append(out)
            }
            for r in results.dropFirst() { #expect(r == results[0]) }
        }
    }
}
