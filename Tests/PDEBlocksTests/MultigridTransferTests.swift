import Testing

@testable import PDEBlocks

@Suite("Transfer operators and Galerkin coarse operators")
struct MultigridTransferTests {
    /// Vertex-centred linear interpolation from its formula.
    static func vertexP(_ n: Int) -> Dense {
        let nc = n / 2
        var P = Dense(rows: n, columns: nc)
        for i in 0..<n {
            if i % 2 == 1 {
                P[i, (i - 1) / 2] = 1
            } else {
                if i / 2 - 1 >= 0 { P[i, i / 2 - 1] = 0.5 }
                if i / 2 < nc { P[i, i / 2] = 0.5 }
            }
        }
        return P
    }

    /// Cell-centred linear interpolation, mirrored at the boundary.
    static func cellP(_ n: Int) -> Dense {
        let nc = (n + 1) / 2
        var P = Dense(rows: n, columns: nc)
        for i in 0..<n {
            let J = i / 2
            let far = min(max(i % 2 == 0 ? J - 1 : J + 1, 0), nc - 1)
            P[i, J] += 0.75
            P[i, far] += 0.25
        }
        return P
    }

    /// Operator-induced interpolation: each side of an F-row lumped onto its coarse neighbour.
    static func blackBoxP(_ A: Dense) -> Dense {
        let n = A.n, nc = n / 2
        var P = Dense(rows: n, columns: nc)
        for i in 0..<n {
            if i % 2 == 1 { P[i, (i - 1) / 2] = 1; continue }
            let lo = i / 2 - 1
            let left = (0..<i).reduce(0.0) { $0 + A[i, $1] }
            let right = ((i + 1)..<n).reduce(0.0) { $0 + A[i, $1] }
            if lo >= 0 { P[i, lo] = -left / A[i, i] }
            if lo + 1 < nc { P[i, lo + 1] = -right / A[i, i] }
        }
        return P
    }

    static func scaled(_ M: Dense, _ s: Double) -> Dense { Dense(rows: M.n, columns: M.m, M.a.map { s * $0 }) }

    @Test("vertex transfer: linear interpolation and full weighting", arguments: [2, 7, 8, 31, 40])
    func vertex(n: Int) throws {
        let t = try Transfer.vertexLinear(fine: n)
        #expect(t.coarse == n / 2)
        #expect(t.prolongationMatrix() == Self.vertexP(n).a)
        #expect(t.restrictionMatrix() == Self.scaled(Self.vertexP(n).transposed, 0.5).a)
    }

    @Test("cell transfer: mirrored cell-centred interpolation reproducing constants", arguments: [2, 5, 6, 17, 32])
    func cell(n: Int) throws {
        let t = try Transfer.cellLinear(fine: n)
        #expect(t.coarse == (n + 1) / 2)
        #expect(t.prolongationMatrix() == Self.cellP(n).a)
        var ones = [Double](repeating: 0, count: n)
        [Double](repeating: 1, count: t.coarse).withUnsafeBufferPointer { e in
            ones.withUnsafeMutableBufferPointer { t.prolongAdd(e, into: $0) }
        }
        #expect(ones.allSatisfy { abs($0 - 1) < 1e-15 })
    }

    @Test("prolongation and restriction kernels equal their dense matrices", arguments: [2, 3, 9, 20, 33])
    func kernelsMatchDense(n: Int) throws {
        var rng = TestRandom(UInt64(n))
        let A = try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: [-1, 1]), weights: rng.vector(n, 0.1, 1), tau: 3)
        for t in [try Transfer.vertexLinear(fine: n), try Transfer.cellLinear(fine: n), try Transfer.matrixDependent(A)] {
            let e = rng.vector(t.coarse), r = rng.vector(n)
            var x = [Double](repeating: 0, count: n), c = [Double](repeating: 0, count: t.coarse)
            e.withUnsafeBufferPointer { eb in x.withUnsafeMutableBufferPointer { t.prolongAdd(eb, into: $0) } }
            r.withUnsafeBufferPointer { rb in c.withUnsafeMutableBufferPointer { t.restrict(rb, into: $0) } }
            #expect(maxDifference(x, Dense(rows: n, columns: t.coarse, t.prolongationMatrix()).times(e)) < 1e-14)
            #expect(maxDifference(c, Dense(rows: t.coarse, columns: n, t.restrictionMatrix()).times(r)) < 1e-14)
        }
    }

    @Test("matrix-dependent weights are operator-induced, restriction from Aᵀ")
    func matrixDependent() throws {
        var rng = TestRandom(17)
        let n = 15
        let A = try BandedMatrix(offsets: [-2, -1, 0, 1], diagonals: [rng.vector(n - 2), rng.vector(n - 1), rng.vector(n, 4, 5), rng.vector(n - 1)])
        let t = try Transfer.matrixDependent(A)
        #expect(maxDifference(t.prolongationMatrix(), Self.blackBoxP(Dense(A)).a) < 1e-15)
        #expect(maxDifference(t.restrictionMatrix(), Self.scaled(Self.blackBoxP(Dense(A).transposed).transposed, 0.5).a) < 1e-15)
    }

    @Test("Galerkin coarse operators equal R A P computed densely", arguments: [TransferKind.vertex, .cell, .matrixDependent])
    func galerkin(kind: TransferKind) throws {
        var rng = TestRandom(23)
        for n in [6, 13, 32] {
            let matrices = [
                try BandedMatrix.poisson1D(n: n),
                try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: [1, -2, 1], offset: -1), weights: rng.vector(n, 0, 1), tau: 2),
                try BandedMatrix(offsets: [-1, 0, 2], diagonals: [rng.vector(n - 1), rng.vector(n, 5, 6), rng.vector(n - 2)]),
            ]
            for A in matrices {
                let t = try MultigridHierarchy.makeTransfer(kind, A)
                let P = Dense(rows: n, columns: t.coarse, t.prolongationMatrix())
                let R = Dense(rows: t.coarse, columns: n, t.restrictionMatrix())
                let ref = R * Dense(A) * P
                let AH = try t.galerkin(A)
                #expect(maxDifference(Dense(AH).a, ref.a) < 1e-12 * maxAbs(ref.a))
            }
        }
    }

    @Test("Galerkin of Poisson with vertex transfer is Poisson with spacing 2h")
    func galerkinPoisson() throws {
        let A = try BandedMatrix.poisson1D(n: 31)
        let AH = try Transfer.vertexLinear(fine: 31).galerkin(A)
        let ref = try BandedMatrix.poisson1D(n: 15)
        #expect(maxDifference(AH.band, ref.band) < 1e-9)
    }

    @Test("automatic transfer: linear where it suits the grid, operator-induced otherwise")
    func automatic() throws {
        let options = MultigridOptions()
        #expect(MultigridHierarchy.resolve(.automatic, for: try .poisson1D(n: 63), options: options) == .vertex)
        #expect(MultigridHierarchy.resolve(.automatic, for: try .poisson1D(n: 100), options: options) == .matrixDependent)
        let smooth = try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: [-1, 1]), weights: [Double](repeating: 1, count: 20), tau: 1)
        #expect(MultigridHierarchy.resolve(.automatic, for: smooth, options: options) == .cell)
        var w = [Double](repeating: 1, count: 20)
        w[9] = 1e-8
        let jumpy = try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: [-1, 1]), weights: w, tau: 1)
        #expect(jumpy.coefficientContrast() > 1e7)
        #expect(MultigridHierarchy.resolve(.automatic, for: jumpy, options: options) == .matrixDependent)
        var unknown = smooth
        unknown.grid = .unknown
        #expect(MultigridHierarchy.resolve(.automatic, for: unknown, options: options) == .matrixDependent)
    }
}
