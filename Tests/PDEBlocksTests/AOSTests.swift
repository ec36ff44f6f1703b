import Foundation
import Testing
@testable import PDEBlocks

@Suite struct AOSTests {
    @Test(arguments: DiffusivityKind.allCases)
    func aosMatchesDenseSolvesOfEachAxis(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 51)
        for (H, W) in [(1, 1), (1, 4), (3, 1), (2, 3), (4, 5), (6, 2)] {
            for (tau, h) in [(0.3, 1.0), (40.0, 0.5)] {
                let u = rng.vector(H * W)
                let g = try Diffusivity(kind, lambda: 0.4)
                let got = try AOS.evolve(u, height: H, width: W, h: h, diffusivity: g, tau: tau, steps: 2)
                var want = try EEDReference.aosStep(u, H, W, h: h, kind: kind, lambda: 0.4, tau: tau)
                want = try EEDReference.aosStep(want, H, W, h: h, kind: kind, lambda: 0.4, tau: tau)
                #expect(Reference.maxAbsDiff(got, want) < 1e-12, "\(kind) \(H)×\(W) τ=\(tau)")
            }
        }
    }

    /// Images wider and taller than the solver's sixteen lanes (full blocks of rows and
    /// columns, partial last blocks, a width of 8k + 1): one AOS step against line-by-line
    /// dense solves of `I − 2τA_l` with `g` of the isotropic gradient written out here.
    @Test(arguments: DiffusivityKind.allCases)
    func aosMatchesLineByLineDenseSolvesOnImagesLargerThanTheLanes(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 53)
        let (lambda, tau, h) = (0.3, 2.5, 0.8)
        for (H, W) in [(17, 16), (33, 47), (40, 64), (20, 33)] {
            let u = rng.vector(H * W)
            let got = try AOS.evolve(u, height: H, width: W, h: h, diffusivity: try Diffusivity(kind, lambda: lambda),
                                     tau: tau, steps: 1)
            var g = [Double](repeating: 0, count: H * W)
            for i in 0..<H {
                for j in 0..<W {
                    let dx = j + 1 < W ? u[i * W + j + 1] - u[i * W + j] : 0
                    let dy = i + 1 < H ? u[(i + 1) * W + j] - u[i * W + j] : 0
                    g[i * W + j] = Reference.g(kind, (dx * dx + dy * dy) / (h * h), lambda)
                }
            }
            let c = 2 * tau / (h * h)
            var want = [Double](repeating: 0, count: H * W)
            for i in 0..<H {
                let line = (0..<W).map { i * W + $0 }
                let v = EEDReference.solve(TridiagonalLanesTests.matrix(line.map { g[$0] }, c: c), line.map { u[$0] })
                for (k, p) in line.enumerated() { want[p] += 0.5 * v[k] }
            }
            for j in 0..<W {
                let line = (0..<H).map { $0 * W + j }
                let v = EEDReference.solve(TridiagonalLanesTests.matrix(line.map { g[$0] }, c: c), line.map { u[$0] })
                for (k, p) in line.enumerated() { want[p] += 0.5 * v[k] }
            }
            #expect(Reference.maxAbsDiff(got, want) < 1e-12, "\(kind) \(H)×\(W)")
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func maxMinPrincipleAndMeanAtHugeSteps(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 52)
        let (B, H, W) = (2, 17, 23)
        let g = try Diffusivity(kind, lambda: 0.3)
        let tau = 1e4 * (try EED.stableTau(height: H, width: W, diffusivity: g))
        let f = rng.vector(B * H * W)
        let out = try AOS.evolve(f, batch: B, height: H, width: W, diffusivity: g, tau: tau, steps: 3)
        for b in 0..<B {
            let r = (b * H * W)..<((b + 1) * H * W)
            let lo: Double = f[r].min()! - 1e-12, hi: Double = f[r].max()! + 1e-12
            let inside = out[r].allSatisfy { (v: Double) -> Bool in v >= lo && v <= hi }
            #expect(inside)
            let drift: Double = abs(out[r].reduce(0, +) - f[r].reduce(0, +))
            #expect(drift < 1e-9)
        }
    }

    @Test func badInputLeavesTheOutputUntouched() throws {
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        let f = [Double](repeating: 1, count: 12)
        var out = [Double](repeating: 42, count: 12)
        func attempt(_ f: [Double], height: Int = 3, width: Int = 4, h: Double = 1, tau: Double = 1, steps: Int = 1) throws {
            try f.withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer {
                    try AOS.evolve(fb, into: $0, batch: 1, height: height, width: width, h: h, diffusivity: g, tau: tau, steps: steps)
                }
            }
        }
        var bad = f
        bad[3] = .infinity
        #expect(throws: PDEBlocksError.self) { try attempt(bad) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, height: 0, width: 4) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, height: 2, width: 4) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, tau: 0) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, h: 1e-200, tau: 1e300) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, steps: -1) }
        #expect(out.allSatisfy { $0 == 42 })
    }
}
