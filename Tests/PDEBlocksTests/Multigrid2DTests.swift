import Testing

@testable import PDEBlocks

/// 2D multigrid on stencil fields against dense references built in the test: the
/// prolongation of `Transfer2D` against the tensor product of 1D linear interpolation, the
/// restriction against `¼ Pᵀ`, Galerkin coarse operators against the dense `R A P`, the
/// V-cycle's error reduction on Poisson, subnormal couplings, and bad input.
@Suite("2D multigrid: transfers, Galerkin operators, cycles")
struct Multigrid2DTests {
    /// 1D linear interpolation from `n` fine to `n/2` coarse points (coarse `J` = fine
    /// `2J+1`); one-sided boundary points get `boundary` (½ Dirichlet, 1 mirrored).
    static func linear1D(_ n: Int, boundary: Double) -> Dense {
        let nc = n / 2
        var P = Dense(rows: n, columns: nc)
        for i in 0..<n {
            if i % 2 == 1 { P[i, (i - 1) / 2] = 1; continue }
            let (lo, hi) = (i / 2 - 1, i / 2)
            let both = lo >= 0 && hi < nc
            if lo >= 0 { P[i, lo] = both ? 0.5 : boundary }
            if hi < nc { P[i, hi] = both ? 0.5 : boundary }
        }
        return P
    }

    /// The Kronecker product `Py ⊗ Px` (row-major pixels `p = i·W + j`).
    static func kron(_ Py: Dense, _ Px: Dense) -> Dense {
        var P = Dense(rows: Py.n * Px.n, columns: Py.m * Px.m)
        for i in 0..<Py.n { for I in 0..<Py.m where Py[i, I] != 0 {
            for j in 0..<Px.n { for J in 0..<Px.m where Px[j, J] != 0 {
                P[i * Px.n + j, I * Px.m + J] = Py[i, I] * Px[j, J]
            } }
        } }
        return P
    }

    /// `P` column by column through `prolongAdd` on unit vectors.
    static func prolongation(_ t: Transfer2D) -> Dense {
        let (n, nc) = (t.fineHeight * t.fineWidth, t.coarseHeight * t.coarseWidth)
        var P = Dense(rows: n, columns: nc)
        for k in 0..<nc {
            var e = [Double](repeating: 0, count: nc), out = [Double](repeating: 0, count: n)
            e[k] = 1
            e.withUnsafeBufferPointer { eb in out.withUnsafeMutableBufferPointer { t.prolongAdd(eb.baseAddress!, into: $0.baseAddress!) } }
            for i in 0..<n { P[i, k] = out[i] }
        }
        return P
    }

    /// `R` row by row through `restrict` on unit vectors (column `i` of `R` = `R e_i`).
    static func restriction(_ t: Transfer2D) -> Dense {
        let (n, nc) = (t.fineHeight * t.fineWidth, t.coarseHeight * t.coarseWidth)
        var R = Dense(rows: nc, columns: n)
        for i in 0..<n {
            var e = [Double](repeating: 0, count: n), out = [Double](repeating: 0, count: nc)
            e[i] = 1
            e.withUnsafeBufferPointer { eb in out.withUnsafeMutableBufferPointer { t.restrict(eb.baseAddress!, into: $0.baseAddress!) } }
            for k in 0..<nc { R[k, i] = out[k] }
        }
        return R
    }

    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0.0) { max($0, abs($1.0 - $1.1)) }
    }

    /// A deterministic field of jumping weights (1 and `low`) on an `H×W` image.
    static func jumpWeights(_ H: Int, _ W: Int, low: Double) -> [Double] {
        (0..<(H * W)).map { p in ((p / W) / 3 + (p % W) / 2) % 2 == 0 ? 1 : low }
    }

    static let shapes: [(Int, Int)] = [(9, 7), (10, 8), (11, 6), (6, 13)]

    @Test("bilinear prolongation is the tensor product of 1D linear interpolation", arguments: shapes)
    func bilinearIsTensorProduct(shape: (Int, Int)) throws {
        let (H, W) = shape
        for (mirrored, boundary) in [(false, 0.5), (true, 1.0)] {
            let t = try Transfer2D.bilinear(fineHeight: H, fineWidth: W, mirrored: mirrored)
            let expected = Self.kron(Self.linear1D(H, boundary: boundary), Self.linear1D(W, boundary: boundary))
            #expect(Self.prolongation(t).a == expected.a)
        }
    }

    @Test("restriction is a quarter of the prolongation's transpose", arguments: shapes)
    func restrictionIsQuarterTranspose(shape: (Int, Int)) throws {
        let (H, W) = shape
        let A = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: Self.jumpWeights(H, W, low: 1e-3), height: H, width: W, tau: 5)
        for t in [try Transfer2D.bilinear(fineHeight: H, fineWidth: W, mirrored: false), try Transfer2D.matrixDependent(A)] {
            let PT = Self.prolongation(t).transposed
            #expect(Self.maxDifference(Self.restriction(t).a, PT.a.map { 0.25 * $0 }) <= 1e-15)
        }
    }

    @Test("Galerkin coarse operator equals the dense R A P", arguments: shapes)
    func galerkinEqualsDenseRAP(shape: (Int, Int)) throws {
        let (H, W) = shape
        let poisson = try StencilField2D.poisson2D(height: H, width: W)
        let jumping = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: Self.jumpWeights(H, W, low: 1e-4), height: H, width: W, tau: 20)
        for (A, t) in [(poisson, try Transfer2D.bilinear(fineHeight: H, fineWidth: W, mirrored: false)),
                       (jumping, try Transfer2D.matrixDependent(jumping)),
                       (try t9(jumping), try Transfer2D.bilinear(fineHeight: H, fineWidth: W, mirrored: true))] {
            let P = Self.prolongation(t)
            let dense = Dense(rows: A.count, columns: A.count, try A.dense())
            let expected = P.transposed * dense * P
            let coarse = try t.galerkin(A)
            #expect(coarse.height == H / 2 && coarse.width == W / 2)
            let scale = expected.a.reduce(0.0) { max($0, abs($1)) }
            #expect(Self.maxDifference(try coarse.dense(), expected.a.map { 0.25 * $0 }) <= 1e-14 * scale)
            #expect(coarse.isSymmetric(relativeTolerance: 1e-13))
        }
    }

    /// A 9-point symmetric positive definite field: `A` plus a weak symmetric coupling along
    /// one diagonal (weight 0.1 moved from the diagonal to the north-west/south-east pair).
    func t9(_ A: StencilField2D) throws -> StencilField2D {
        let (H, W, n) = (A.height, A.width, A.count)
        var c = A.coefficients
        for i in 0..<(H - 1) {
            for j in 0..<(W - 1) {
                let (p, q) = (i * W + j, (i + 1) * W + j + 1)
                c[8 * n + p] -= 0.1
                c[0 * n + q] -= 0.1
                c[4 * n + p] += 0.1
                c[4 * n + q] += 0.1
            }
        }
        return try StencilField2D(height: H, width: W, coefficients: c, grid: .cell)
    }

    @Test("a V(2,2) cycle reduces the Poisson error at least tenfold", arguments: [(63, 63), (64, 48), (50, 97)])
    func vCycleReducesPoissonErrorTenfold(shape: (Int, Int)) throws {
        let (H, W) = shape
        let A = try StencilField2D.poisson2D(height: H, width: W)
        let mg = try Multigrid2D(A)
        var g = TestRandom(seed: UInt64(H * W))
        var x = (0..<A.count).map { _ in g.uniform(-0.5, 0.5) }   // b = 0: the iterate is the error
        let b = [Double](repeating: 0, count: A.count)
        func energy(_ e: [Double]) throws -> Double { zip(e, try A.multiply(e)).reduce(0.0) { $0 + $1.0 * $1.1 }.squareRoot() }
        var before = try energy(x)
        for _ in 0..<5 {
            x = try mg.cycle(x, b)
            let after = try energy(x)
            #expect(after <= 0.1 * before)
            before = after
        }
    }

    /// (Before the fix, `1/off` of a subnormal coupling sum overflowed and `inf·0` made the
    /// level-1 diagonal NaN. Pixels cut off this way make plain V-cycles slow — factor ~0.94
    /// here — so only monotone, finite progress is asserted.)
    @Test("subnormal couplings give finite transfers and a monotonically converging solver")
    func subnormalCouplingsStayFinite() throws {
        let (H, W) = (24, 20)
        let weights = (0..<(H * W)).map { p in p % 7 == 0 ? 4e-320 : (p % 5 == 0 ? 1e-300 : 1.0) }
        let A = try StencilField2D.diffusionSystem(bank: try Stencil2D.gradient(), weights: weights, height: H, width: W, tau: 1e3)
        let mg = try Multigrid2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 4))
        for l in 0..<(mg.sizes.count - 1) {
            let t = try mg.transfer(level: l)
            #expect((t.ex + t.ey + t.ec).allSatisfy { $0.isFinite })
            #expect(try mg.matrix(level: l + 1).coefficients.allSatisfy { $0.isFinite })
        }
        let b = (0..<A.count).map { Double($0 % 11) }
        let (x, report) = try mg.solve(b, tolerance: 1e-10, maxCycles: 200)
        #expect(x.allSatisfy { $0.isFinite })
        #expect(zip(report.residuals.dropFirst(), report.residuals).allSatisfy { $0 < $1 })
        let r = zip(b, try A.multiply(x)).map { $0 - $1 }
        #expect(r.reduce(0.0) { $0 + $1 * $1 }.squareRoot() <= 1e-4 * b.reduce(0.0) { $0 + $1 * $1 }.squareRoot())
    }

    @Test("the half-coefficient kernels of exactly symmetric fields equal the general ones", arguments: shapes)
    func symmetricKernelsEqualGeneral(shape: (Int, Int)) throws {
        let (H, W) = shape
        let jumping = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: Self.jumpWeights(H, W, low: 1e-3), height: H, width: W, tau: 7)
        let mg = try Multigrid2D(jumping, options: MultigridOptions(smoother: .redBlack, coarsest: 4))
        #expect(mg.hierarchy.levels.allSatisfy { $0.exactlySymmetric })   // A as assembled, Galerkin by construction
        for l in 0..<mg.sizes.count { #expect(try mg.matrix(level: l).isSymmetric(relativeTolerance: 0)) }
        var g = TestRandom(seed: 7)
        for A in [jumping, try t9(jumping), try mg.matrix(level: 1)] {
            let x = (0..<A.count).map { _ in g.uniform(-1, 1) }, b = (0..<A.count).map { _ in g.uniform(-1, 1) }
            let inverse = A.diagonal.map { 1 / $0 }
            /// (b − A x, x after a forward and a reverse red–black sweep) with the chosen kernels
            func run(symmetric: Bool) -> (residual: [Double], swept: [Double]) {
                var r = [Double](repeating: 0, count: A.count), swept = x
                A.coefficients.withUnsafeBufferPointer { c in
                    b.withUnsafeBufferPointer { bb in
                        inverse.withUnsafeBufferPointer { inv in
                            _ = x.withUnsafeBufferPointer { xb in
                                r.withUnsafeMutableBufferPointer {
                                    StencilField2DKernels.residual(
                                        c.baseAddress!, height: A.height, width: A.width, fivePoint: A.isFivePoint,
                                        symmetric: symmetric, x: xb.baseAddress!, b: bb.baseAddress!, into: $0.baseAddress!)
                                }
                            }
                            var s = FieldSweeper(c: c.baseAddress!, inverseDiagonal: inv.baseAddress!, height: A.height,
                                                 width: A.width, fivePoint: A.isFivePoint)
                            s.symmetric = symmetric
                            swept.withUnsafeMutableBufferPointer {
                                s.redBlack(reverse: false, x: $0.baseAddress!, b: bb.baseAddress!)
                                s.redBlack(reverse: true, x: $0.baseAddress!, b: bb.baseAddress!)
                            }
                        }
                    }
                }
                return (r, swept)
            }
            let (general, halved) = (run(symmetric: false), run(symmetric: true))
            let dense = zip(b, Dense(rows: A.count, columns: A.count, try A.dense()).times(x)).map { $0 - $1 }
            #expect(Self.maxDifference(general.residual, dense) <= 1e-13)
            #expect(Self.maxDifference(halved.residual, dense) <= 1e-13)
            #expect(Self.maxDifference(general.swept, halved.swept) <= 1e-13)
            #expect(Self.maxDifference(general.swept, x) > 1e-3)   // the sweeps did change x
        }
    }

    @Test("a red–black sweep is two-colour Gauss–Seidel on the dense matrix (vector rows, tails, 5 and 9 points)",
          arguments: [(5, 10), (6, 17), (7, 26), (4, 31), (3, 9)])
    func redBlackSweepIsDenseTwoColourGaussSeidel(shape: (Int, Int)) throws {
        let (H, W) = shape
        let five = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: Self.jumpWeights(H, W, low: 1e-2), height: H, width: W, tau: 3)
        var g = TestRandom(seed: 11)
        for A in [five, try t9(five)] {
            let n = A.count
            let dense = try A.dense()
            let x0 = (0..<n).map { _ in g.uniform(-1, 1) }, b = (0..<n).map { _ in g.uniform(-1, 1) }
            /// Colour by colour (red: i + j even), each colour's pixels in increasing (forward) or
            /// decreasing (reverse, black first) order, `x_p ← (b_p − Σ_{q≠p} a_pq x_q) / a_pp`.
            func reference(reverse: Bool) -> [Double] {
                var x = x0
                for colour in reverse ? [1, 0] : [0, 1] {
                    for p in reverse ? Array((0..<n).reversed()) : Array(0..<n) where (p / W + p % W) % 2 == colour {
                        var s = b[p]
                        for q in 0..<n where q != p { s -= dense[p * n + q] * x[q] }
                        x[p] = s / dense[p * n + p]
                    }
                }
                return x
            }
            for symmetric in [false, true] {
                for reverse in [false, true] {
                    var x = x0
                    let inverse = A.diagonal.map { 1 / $0 }
                    A.coefficients.withUnsafeBufferPointer { c in
                        inverse.withUnsafeBufferPointer { inv in
                            var s = FieldSweeper(c: c.baseAddress!, inverseDiagonal: inv.baseAddress!, height: H, width: W,
                                                 fivePoint: A.isFivePoint)
                            s.symmetric = symmetric
                            b.withUnsafeBufferPointer { bb in
                                x.withUnsafeMutableBufferPointer { s.redBlack(reverse: reverse, x: $0.baseAddress!, b: bb.baseAddress!) }
                            }
                        }
                    }
                    let want = reference(reverse: reverse)
                    #expect(Self.maxDifference(x, want) <= 1e-12, "\(H)×\(W) five \(A.isFivePoint) sym \(symmetric) rev \(reverse)")
                    #expect(Self.maxDifference(x, x0) > 1e-3)
                }
            }
        }
    }

    @Test("the fused residual restriction equals R (b - A x) computed densely",
          arguments: [(2, 9), (3, 5), (9, 7), (10, 8), (6, 13)])
    func fusedResidualRestrictionEqualsDense(shape: (Int, Int)) throws {
        let (H, W) = shape
        let A = try StencilField2D.diffusionSystem(
            bank: try Stencil2D.gradient(), weights: Self.jumpWeights(H, W, low: 1e-2), height: H, width: W, tau: 3)
        let mg = try Multigrid2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 1, maxLevels: 2))
        let level = mg.hierarchy.levels[0]
        var g = TestRandom(seed: UInt64(H * 31 + W))
        let x = (0..<A.count).map { _ in g.uniform(-1, 1) }, b = (0..<A.count).map { _ in g.uniform(-1, 1) }
        let dense = Dense(rows: A.count, columns: A.count, try A.dense())
        let P = Self.prolongation(level.transfer!)
        let expected = P.transposed.times(zip(b, dense.times(x)).map { $0 - $1 }).map { 0.25 * $0 }
        var ring = [Double](repeating: .nan, count: A.count), coarse = [Double](repeating: .nan, count: expected.count)
        x.withUnsafeBufferPointer { xb in b.withUnsafeBufferPointer { bb in ring.withUnsafeMutableBufferPointer { rb in
            coarse.withUnsafeMutableBufferPointer {
                mg.hierarchy.residualRestricted(level, x: xb.baseAddress!, b: bb.baseAddress!, ring: rb.baseAddress!,
                                                into: $0.baseAddress!)
            }
        } } }
        #expect(Self.maxDifference(coarse, expected) <= 1e-13)
    }

    @Test("bad input is refused with a clear error")
    func badInputIsRefused() throws {
        let A = try StencilField2D.poisson2D(height: 9, width: 9)
        var c = A.coefficients
        c[5 * A.count] -= 0.5   // east coupling of pixel 0 without its mirror
        let unsymmetric = try StencilField2D(height: 9, width: 9, coefficients: c)
        #expect(throws: PDEBlocksError.self) { try Multigrid2D(unsymmetric) }
        #expect(throws: PDEBlocksError.self) { try Multigrid2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 81)) }
        #expect(throws: PDEBlocksError.self) { try Multigrid2D(try .poisson2D(height: 1, width: 200)) }
        var negative = A.coefficients
        negative[4 * A.count + 40] = -1
        #expect(throws: PDEBlocksError.self) { try Multigrid2D(try StencilField2D(height: 9, width: 9, coefficients: negative)) }
        var outward = A.coefficients
        outward[1 * A.count + 3] = -1   // north of row 0 leaves the image
        #expect(throws: PDEBlocksError.self) { try StencilField2D(height: 9, width: 9, coefficients: outward) }
        let mg = try Multigrid2D(A, options: MultigridOptions(smoother: .redBlack, coarsest: 4))
        let x = [Double](repeating: 1, count: 81)
        #expect(throws: PDEBlocksError.self) { try mg.cycle(x, [Double](repeating: 0, count: 80)) }
        var bad = [Double](repeating: 0, count: 81)
        bad[7] = .nan
        #expect(throws: PDEBlocksError.self) { try mg.cycle(x, bad) }
        #expect(throws: PDEBlocksError.self) { try mg.solve(bad) }
        #expect(throws: PDEBlocksError.self) { try mg.matrix(level: mg.sizes.count) }
        #expect(throws: PDEBlocksError.self) { try mg.transfer(level: -1) }
    }
}
