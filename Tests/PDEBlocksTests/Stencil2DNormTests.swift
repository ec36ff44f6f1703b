import Foundation
import Testing
@testable import PDEBlocks

/// `ImageStability.lambdaMax`: a certified upper bound of λ_max(Σ_c K_cᵀK_c), exact for
/// the structured banks (1D filters along the axes, one separable filter).
@Suite struct Stencil2DNormTests {
    /// The largest Rayleigh quotient found by power iteration on the dense Gram: a lower
    /// bound of λ_max (so a certified bound must be at least this).
    private func rayleighLowerBound(_ bank: [Stencil2D], _ h: Int, _ w: Int, iterations: Int = 400) throws -> Double {
        var rng = TestRandom(seed: 99)
        var x = rng.normals(h * w)
        var best = 0.0
        for _ in 0..<iterations {
            let nx = Reference.norm(x)
            guard nx > 0 else { return 0 }
            x = x.map { $0 / nx }
            let y = try FilterBank2D.adjoint(bank, try FilterBank2D.apply(bank, x, height: h, width: w), height: h, width: w)
            best = max(best, Reference.dot(x, y))
            x = y
        }
        return best
    }

    @Test func gradientBoundEqualsClosedForm() throws {
        for (h, w) in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 5), (17, 4), (64, 64), (4096, 4096), (1000, 3)] {
            for step in [1.0, 0.5, 3.0] {
                // λ_max of the mirrored forward difference's Gram on n samples: 4cos²(π/2n) (0 for n = 1).
                func term(_ n: Int) -> Double { n == 1 ? 0 : 4 * pow(cos(Double.pi / Double(2 * n)), 2) }
                let exact = (term(h) + term(w)) / (step * step)
                let bound = try ImageStability.lambdaMax(try Stencil2D.gradient(h: step), height: h, width: w)
                #expect(bound >= exact * (1 - 1e-15) && bound <= exact * (1 + 1e-6) + 1e-300, "\(h)×\(w) h=\(step)")
            }
        }
    }

    @Test func boundIsNeverBelowARayleighQuotientForRandomBanks() throws {
        var rng = TestRandom(seed: 31)
        for _ in 0..<40 {
            let bank = try (0..<rng.int(1...3)).map { _ -> Stencil2D in
                let r = rng.int(1...3), c = rng.int(1...3)
                return try Stencil2D(weights: rng.normals(r * c), rows: r, columns: c,
                                     offsetY: rng.int(-3...1), offsetX: rng.int(-3...1))
            }
            let h = rng.int(1...8), w = rng.int(1...8)
            let lower = try rayleighLowerBound(bank, h, w)
            #expect(try ImageStability.lambdaMax(bank, height: h, width: w) >= lower * (1 - 1e-13))
        }
    }

    @Test func separableFilterBoundIsTheProductOfTheOneDimensionalNorms() throws {
        let p = [1.0, 2, 1], q = [-1.0, 0, 1]
        let sobel = try Stencil2D(weights: p.flatMap { a in q.map { a * $0 } }, rows: 3, columns: 3, offsetY: -1, offsetX: -1)
        for (h, w) in [(5, 7), (32, 9), (1, 4)] {
            let product = try Stencil(weights: p, offset: -1).normSquared(n: h) * Stencil(weights: q, offset: -1).normSquared(n: w)
            let bound = try ImageStability.lambdaMax([sobel], height: h, width: w)
            #expect(bound >= product * (1 - 1e-8) && bound <= product * (1 + 1e-6))
            #expect(bound >= (try rayleighLowerBound([sobel], h, w)) * (1 - 1e-13))
        }
    }

    @Test func explicitLinearStepAtTheBoundDoesNotIncreaseTheNorm() throws {
        // Theorem 2, linear case: ‖u − τ KᵀK u‖ ≤ ‖u‖ for τ = 2/λ_max.
        var rng = TestRandom(seed: 32)
        let laplacian = try Stencil2D([[0, 1, 0], [1, -4, 1], [0, 1, 0]], offsetY: -1, offsetX: -1)
        let banks = [try Stencil2D.gradient(), [laplacian],
                     [try Stencil2D([[1, -2, 1]], offsetX: -1), try Stencil2D([[1], [-1]])]]
        for bank in banks {
            for (h, w) in [(6, 9), (2, 5), (1, 8)] {
                let tau = 2 / (try ImageStability.lambdaMax(bank, height: h, width: w))
                var u = rng.normals(h * w)
                for _ in 0..<50 {
                    let ktk = try FilterBank2D.adjoint(bank, try FilterBank2D.apply(bank, u, height: h, width: w), height: h, width: w)
                    let next = zip(u, ktk).map { $0 - tau * $1 }
                    #expect(Reference.norm(next) <= Reference.norm(u) * (1 + 1e-12))
                    u = next
                }
            }
        }
    }

    @Test func stableTauUsesSupGAndRejectsBadInput() throws {
        let g = try Stencil2D.gradient()
        let lambda = try ImageStability.lambdaMax(g, height: 10, width: 12)
        let tau = try ImageStability.stableTau(g, diffusivity: try Diffusivity(.linear, lambda: 1), height: 10, width: 12)
        #expect(tau <= 2 / lambda && tau >= (2 / lambda).nextDown.nextDown)
        let zero = try Stencil2D([[0, 0], [0, 0]])
        #expect(try ImageStability.lambdaMax([zero], height: 4, width: 4) == 0)
        #expect(try ImageStability.stableTau([zero], diffusivity: try Diffusivity(.linear, lambda: 1), height: 4, width: 4) == .infinity)
        #expect(throws: PDEBlocksError.self) { try ImageStability.lambdaMax([], height: 4, width: 4) }
        #expect(throws: PDEBlocksError.self) { try ImageStability.lambdaMax(g, height: 0, width: 4) }
        let huge = try Stencil2D([[1e200, -1e200]])
        #expect(throws: PDEBlocksError.self) { try ImageStability.lambdaMax([huge, try Stencil2D([[1.0, 2], [3, 4]])], height: 4, width: 4) }
    }
}
