import Foundation
import Testing
@testable import PDEBlocks

/// Issue 12, items 7–9 at the Swift level: scaled norms, CG's true residual, and the
/// post-condition that a scheme's result is finite or the call throws with `out` unchanged.
@Suite struct FiniteResultTests {
    @Test func scaledNormIsFiniteAndExactForHugeAndTinyVectors() {
        for scale in [1e300, 1e200, 1e-170, 1e-300, 1e-320] {
            let v = (0..<37).map { scale * Double($0 % 5 + 1) }
            let unit = (0..<37).map { Double($0 % 5 + 1) }
            let reference = unit.reduce(0) { $0 + $1 * $1 }.squareRoot()   // ‖v‖ = scale·‖unit‖
            let got = v.withUnsafeBufferPointer { ScaledNorm.norm($0) }
            #expect(got.isFinite && got > 0)
            #expect(abs(got / scale - reference) <= (scale < 1e-307 ? 1e-2 : 1e-14) * reference)
        }
    }

    @Test func conjugateGradientLastResidualIsTheTrueOneAndDecidesConvergence() throws {
        let n = 2047
        let A = try BandedMatrix.poisson1D(n: n)
        var rng = TestRandom(seed: 4)
        let b = rng.normals(n)
        for tol in [1e-14, 1e-8] {
            let (x, report) = try ConjugateGradient.solve(A, b, tolerance: tol, maxIterations: 6000)
            let Ax = try A.multiply(x)
            let trueResidual = zip(b, Ax).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            #expect(abs(report.residuals.last! - trueResidual) <= 1e-6 * trueResidual)
            #expect(report.converged == (trueResidual <= tol * report.reference))
        }
    }

    @Test func explicitOverflowThrowsNonFiniteAndLeavesOutUnchanged() throws {
        let n = 64
        let K = try Stencil.differenceOperator(alphas: [0, 1])
        let g = try Diffusivity(.linear)
        let f = (0..<n).map { $0 % 2 == 0 ? 1e308 : -1e308 }
        var out = [Double](repeating: 7, count: n)
        #expect {
            try f.withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer { ob in
                    try Explicit.evolve(fb, into: ob, batch: 1, n: n, stencil: K, diffusivity: g, tau: 0.2, steps: 3)
                }
            }
        } throws: { error in
            guard case PDEBlocksError.nonFinite(let m) = error else { return false }
            return m.contains("explicit scheme") && m.contains("overflow") && m.contains("row 0, column")
        }
        #expect(out.allSatisfy { $0 == 7 })
    }

    @Test func implicitWithContractionCheckOffNeverReportsConvergedWithNaN() throws {
        let n = 32
        let K = try Stencil.differenceOperator(alphas: [0, 1])
        let g = try Diffusivity(.linear)
        let f = (0..<n).map { Double($0 % 2) }
        var out = [Double](repeating: 7, count: n)
        #expect(throws: PDEBlocksError.self) {
            try f.withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer { ob in
                    try Implicit.evolve(fb, into: ob, batch: 1, n: n, stencil: K, diffusivity: g, tau: 100, steps: 40,
                                        iterations: 40, checkContraction: false)
                }
            }
        }
        #expect(out.allSatisfy { $0 == 7 })
        #expect(!Implicit.Report(sweeps: 1, residual: .nan, tolerance: 0).converged)
    }
}
