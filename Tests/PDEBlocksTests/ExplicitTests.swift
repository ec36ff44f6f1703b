import Foundation
import Testing
@testable import PDEBlocks

/// Runs the explicit scheme through the Swift API on a (batch, n) array.
func runExplicit(_ f: [Double], batch: Int, n: Int, _ K: Stencil, _ g: Diffusivity, tau: Double, steps: Int,
                 check: Bool = true) throws -> [Double] {
    var out = [Double](repeating: 0, count: f.count)
    try f.withUnsafeBufferPointer { fb in
        try out.withUnsafeMutableBufferPointer { ob in
            try Explicit.evolve(fb, into: ob, batch: batch, n: n, stencil: K, diffusivity: g, tau: tau, steps: steps,
                                checkStability: check)
        }
    }
    return out
}

@Suite struct ExplicitTests {
    @Test(arguments: DiffusivityKind.allCases)
    func explicitMatchesDenseTranscriptionOfEq4(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 6)
        let n = 24, steps = 30, lambda = 0.4
        for alphas in [[0.0, 1.0], [0.0, 0.0, 1.0], [0.2, 1.0, 0.5]] {
            let K = try Stencil.differenceOperator(alphas: alphas)
            let g = try Diffusivity(kind, lambda: lambda)
            let tau = 0.9 * (try stableTau(stencil: K, diffusivity: g, n: n))
            let f = rng.normals(2 * n)
            let got = try runExplicit(f, batch: 2, n: n, K, g, tau: tau, steps: steps)
            let m = Reference.matrix(K.weights, K.offset, n)
            for b in 0..<2 {
                let want = Reference.explicit(Array(f[(b * n)..<((b + 1) * n)]), m, kind, lambda, tau, steps)
                #expect(Reference.maxAbsDiff(Array(got[(b * n)..<((b + 1) * n)]), want) <= 1e-12)
            }
        }
    }

    /// Long signals take the fused, chunked kernel; it must equal the plain three-pass step.
    @Test(arguments: [(0, [-1.0, 1.0]), (-1, [1.0, -2.0, 1.0]), (-4, [0.3, -1.2, 2.0, 0.1, -0.7, 0.5]), (2, [1.0, -1.0])])
    func fusedKernelEqualsThreePassStep(offset: Int, weights: [Double]) throws {
        var rng = TestRandom(seed: 7)
        let n = 3001
        let K = try Stencil(weights: weights, offset: offset)
        for kind in DiffusivityKind.allCases {
            let g = try Diffusivity(kind, lambda: 0.8)
            let x = rng.normals(n), base = rng.normals(n)
            var fused = [Double](repeating: 0, count: n), work = fused
            x.withUnsafeBufferPointer { xb in base.withUnsafeBufferPointer { bb in
                fused.withUnsafeMutableBufferPointer { ob in work.withUnsafeMutableBufferPointer { wb in
                    DiffusionStep(stencil: K, diffusivity: g).apply(xb, base: bb, tau: 0.1, into: ob, work: wb)
                } }
            } }
            var y = K.apply(x)
            y.withUnsafeMutableBufferPointer { g.applyFluxScalar($0, scale: -0.1) }
            let want = zip(base, K.applyTransposed(y)).map { $0 + $1 }
            #expect(Reference.maxAbsDiff(fused, want) <= 1e-13)
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func theorem2NormNeverIncreasesAtTheBound(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 8)
        let n = 64
        for alphas in [[0.0, 1.0], [0.0, 0.0, 1.0]] {
            let K = try Stencil.differenceOperator(alphas: alphas)
            let g = try Diffusivity(kind, lambda: 0.1)
            let tau = try stableTau(stencil: K, diffusivity: g, n: n)
            var u = rng.normals(n)
            for _ in 0..<300 {
                let next = try runExplicit(u, batch: 1, n: n, K, g, tau: tau, steps: 1)
                #expect(Reference.norm(next) <= Reference.norm(u) * (1 + 1e-12))
                u = next
            }
        }
    }

    @Test func inPlaceEvolutionOfALongSignalEqualsEvolutionIntoASeparateBuffer() throws {
        // N ≥ 2^17 takes the temporally blocked path: into a separate buffer its first sweep
        // reads f directly; in place (out = f) every sweep saves the strips at tile boundaries.
        var rng = TestRandom(seed: 17)
        let n = (1 << 17) + 77
        var f = [Double](repeating: 0, count: n)
        var acc = 0.0
        for i in 0..<n { acc += 0.01 * rng.normal(); f[i] = acc }
        let K = try Stencil(weights: [0.5, -1.5, 1.0], offset: 1)
        let g = try Diffusivity(.peronaMalik, lambda: 0.3)
        let tau = 0.9 * (try stableTau(stencil: K, diffusivity: g, n: n))
        let separate = try runExplicit(f, batch: 1, n: n, K, g, tau: tau, steps: 11)
        var inPlace = f
        try inPlace.withUnsafeMutableBufferPointer { u in
            try Explicit.evolve(UnsafeBufferPointer(u), into: u, batch: 1, n: n, stencil: K, diffusivity: g,
                                tau: tau, steps: 11)
        }
        #expect(inPlace == separate)
        #expect(separate != f)
    }

    @Test func unstableStepIsRefusedNamingTheBoundAndBlowsUpWhenAllowed() throws {
        let n = 64
        let K = try Stencil.difference(order: 2)
        let g = try Diffusivity(.linear)
        let bound = try stableTau(stencil: K, diffusivity: g, n: n)
        var rng = TestRandom(seed: 9)
        let f = rng.normals(n)
        #expect(throws: PDEBlocksError.self) { try runExplicit(f, batch: 1, n: n, K, g, tau: 1.5 * bound, steps: 1) }
        do {
            _ = try runExplicit(f, batch: 1, n: n, K, g, tau: 1.5 * bound, steps: 1)
        } catch let PDEBlocksError.unstable(message) {
            #expect(message.contains("\(bound)"))
        }
        let u = try runExplicit(f, batch: 1, n: n, K, g, tau: 1.5 * bound, steps: 200, check: false)
        #expect(Reference.norm(u) > 1e6 * Reference.norm(f))
    }

    @Test func badInputThrowsAndWritesNothing() throws {
        let K = try Stencil.difference(order: 1)
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        var out = [Double](repeating: 7, count: 4)
        func run(_ f: [Double], batch: Int, n: Int, tau: Double = 0.1, steps: Int = 1) {
            #expect(throws: PDEBlocksError.self) {
                try f.withUnsafeBufferPointer { fb in
                    try out.withUnsafeMutableBufferPointer { ob in
                        try Explicit.evolve(fb, into: ob, batch: batch, n: n, stencil: K, diffusivity: g, tau: tau, steps: steps)
                    }
                }
            }
        }
        run([1, 2, 3, 4], batch: 1, n: 1)
        run([1, 2, 3, 4], batch: 0, n: 4)
        run([1, .nan, 3, 4], batch: 1, n: 4)
        run([1, 2, 3, 4], batch: 1, n: 4, tau: 0)
        run([1, 2, 3, 4], batch: 1, n: 4, tau: .infinity)
        run([1, 2, 3, 4], batch: 1, n: 4, steps: -1)
        run([1, 2, 3, 4], batch: 1, n: 4, tau: 10)
        run([1, 2, 3], batch: 1, n: 4)
        #expect(out == [7, 7, 7, 7])
    }
}
