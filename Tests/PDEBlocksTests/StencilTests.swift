import Foundation
import Testing
@testable import PDEBlocks

@Suite struct StencilTests {
    @Test func adjointIdentityHoldsForRandomStencilsOffsetsAndLengths() throws {
        var rng = TestRandom(seed: 1)
        for _ in 0..<300 {
            let q = rng.int(1...7), o = rng.int(-6...3), n = rng.int(1...24)
            let K = try Stencil(weights: rng.normals(q), offset: o)
            let u = rng.normals(n), v = rng.normals(n)
            let lhs = Reference.dot(K.apply(u), v), rhs = Reference.dot(u, K.applyTransposed(v))
            let scale = Reference.norm(u) * Reference.norm(v) * (try K.normSquared(n: n)).squareRoot()
            #expect(abs(lhs - rhs) <= 1e-12 * scale)
        }
    }

    @Test func applyAndTransposeEqualIndependentDenseMatrix() throws {
        var rng = TestRandom(seed: 2)
        for _ in 0..<100 {
            let q = rng.int(1...6), o = rng.int(-5...3), n = rng.int(1...40)
            let w = rng.normals(q)
            let K = try Stencil(weights: w, offset: o)
            let m = Reference.matrix(w, o, n)
            let u = rng.normals(n)
            #expect(Reference.maxAbsDiff(K.apply(u), Reference.matvec(m, u)) <= 1e-13)
            #expect(Reference.maxAbsDiff(K.applyTransposed(u), Reference.matTvec(m, u)) <= 1e-13)
            #expect(try K.matrix(n: n) == m.flatMap { $0 })
        }
    }

    @Test func differenceOperatorFollowsBinomialWeightsAndOffsets() throws {
        let K2 = try Stencil.difference(order: 2, h: 0.5)
        #expect(K2.weights == [4, -8, 4] && K2.offset == -1)
        let K1 = try Stencil.difference(order: 1)
        #expect(K1.weights == [-1, 1] && K1.offset == 0)
        let K4 = try Stencil.difference(order: 4)
        #expect(K4.weights == [1, -4, 6, -4, 1] && K4.offset == -2)
        let D = try Stencil.differenceOperator(alphas: [1, 2, 3])  // I + 2∂x + 3∂xx
        #expect(D.offset == -1 && D.weights == [3, 1 - 2 - 6, 2 + 3])
    }

    @Test func invalidStencilsThrow() {
        #expect(throws: PDEBlocksError.self) { try Stencil(weights: []) }
        #expect(throws: PDEBlocksError.self) { try Stencil(weights: [.nan]) }
        #expect(throws: PDEBlocksError.self) { try Stencil.differenceOperator(alphas: [0, 0]) }
        #expect(throws: PDEBlocksError.self) { try Stencil.difference(order: 1, h: -1) }
        #expect(throws: PDEBlocksError.self) { try Stencil.difference(order: 40) }
    }
}

@Suite struct OperatorNormTests {
    @Test(arguments: [2, 3, 17, 1000, 65_536])
    func forwardDifferenceNormMatchesClosedForm(n: Int) throws {
        // Mirrored forward difference: KᵀK is the Neumann Laplacian, λ_max = 4cos²(π/(2n)).
        let exact = 4 * pow(cos(Double.pi / Double(2 * n)), 2)
        let got = try Stencil.difference(order: 1).normSquared(n: n)
        #expect(got >= exact && got <= exact * (1 + 1e-6))
    }

    @Test func normIsAnUpperBoundOfEveryRayleighQuotientAndTight() throws {
        var rng = TestRandom(seed: 3)
        for _ in 0..<40 {
            let q = rng.int(1...6), o = rng.int(-5...3), n = rng.int(1...30)
            let w = rng.normals(q)
            let K = try Stencil(weights: w, offset: o)
            let bound = try K.normSquared(n: n)
            // power iteration on the dense KᵀK (independent) converges from below
            let m = Reference.matrix(w, o, n)
            var x = rng.normals(n)
            var rayleigh = 0.0
            for _ in 0..<3000 {
                let y = Reference.matTvec(m, Reference.matvec(m, x))
                rayleigh = Reference.dot(x, y) / Reference.dot(x, x)
                let s = Reference.norm(y)
                if s == 0 { break }
                x = y.map { $0 / s }
            }
            #expect(bound >= rayleigh * (1 - 1e-14))
            #expect(bound <= rayleigh * (1 + 1e-6) + 1e-300)
        }
    }

    @Test func skippingTheRepeatingToeplitzInteriorGivesTheSameBoundBitForBit() throws {
        // The LDLᵀ inertia tests jump over the interior once its factor rows repeat exactly;
        // the bound must be the same double as with every row factorised, and the jump must
        // actually happen for some long signals (fewer rows factorised).
        var rng = TestRandom(seed: 4)
        var skipped = 0
        for trial in 0..<24 {
            let q = rng.int(2...6), o = rng.int(-5...2)
            let n = trial < 12 ? rng.int(2...200) : rng.int(2_000...6_000)
            let K = try Stencil(weights: rng.normals(q), offset: o)
            let band = try GramBand(stencil: K, n: n)
            var fast = 0, full = 0
            let a = band.largestEigenvalueUpperBound(skipInterior: true, rows: &fast)
            let b = band.largestEigenvalueUpperBound(skipInterior: false, rows: &full)
            #expect(a == b, "q = \(q), offset = \(o), n = \(n)")
            #expect(fast <= full)
            if fast < full { skipped += 1 }
        }
        #expect(skipped > 0)
    }
}
