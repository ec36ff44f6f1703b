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
