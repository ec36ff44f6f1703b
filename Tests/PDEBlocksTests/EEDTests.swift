import Foundation
import Testing
@testable import PDEBlocks

@Suite struct EEDTests {
    static let shapes = [(1, 1), (1, 5), (2, 1), (2, 3), (5, 7), (7, 4)]

    @Test func gaussianMatchesTheDirectDoubleSum() throws {
        var rng = TestRandom(seed: 41)
        for (H, W) in Self.shapes {
            for sigma in [0.0, 0.4, 1.3, 3.0] {
                let u = rng.vector(H * W)
                let got = try GaussianSmoothing(sigma: sigma).smooth(u, height: H, width: W)
                let want = EEDReference.smooth(u, H, W, sigma)
                #expect(Reference.maxAbsDiff(got, want) < 1e-14, "\(H)×\(W) σ=\(sigma)")
            }
        }
    }

    @Test func gaussianOfSigmaZeroIsTheIdentityAndRadiusIsCeilThreeSigma() throws {
        #expect(try GaussianSmoothing(sigma: 0).radius == 0)
        #expect(try GaussianSmoothing(sigma: 1).radius == 3)
        #expect(try GaussianSmoothing(sigma: 1.01).radius == 4)
        let g = try GaussianSmoothing(sigma: 1.7)
        #expect(abs(g.weights.dropFirst().reduce(0, +) * 2 + g.weights[0] - 1) < 1e-15)
        let u = [1.0, -2, 3, 4, 5, 6]
        #expect(try GaussianSmoothing(sigma: 0).smooth(u, height: 2, width: 3) == u)
        #expect(throws: PDEBlocksError.self) { try GaussianSmoothing(sigma: -1) }
        #expect(throws: PDEBlocksError.self) { try GaussianSmoothing(sigma: .nan) }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func eedStepMatchesTheDenseTranscription(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 42)
        for (H, W) in Self.shapes {
            for (sigma, h) in [(0.0, 1.0), (0.8, 0.5), (2.0, 1.0)] {
                let u = rng.vector(H * W)
                let g = try Diffusivity(kind, lambda: 0.3)
                // +∞ for a 1×1 image (K = 0): any step; take 1
                let tau = min(0.9 * (try EED.stableTau(height: H, width: W, h: h, diffusivity: g)), 1)
                let got = try EED.evolve(u, height: H, width: W, h: h, diffusivity: g, sigma: sigma, tau: tau, steps: 2)
                var want = try EEDReference.eedStep(u, H, W, h: h, sigma: sigma, kind: kind, lambda: 0.3, tau: tau)
                want = try EEDReference.eedStep(want, H, W, h: h, sigma: sigma, kind: kind, lambda: 0.3, tau: tau)
                #expect(Reference.maxAbsDiff(got, want) < 1e-12, "\(kind) \(H)×\(W) σ=\(sigma) h=\(h)")
            }
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func tensorEigenvaluesLieInZeroToSupG(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 43)
        let d = try Diffusivity(kind, lambda: 0.7)
        for _ in 0..<2000 {
            let scale = pow(10, rng.uniform(-200, 200))
            let gx = rng.normal() * scale, gy = rng.normal() * scale
            let (a, b, c) = EEDTensor.entries(gx: gx, gy: gy, g: d.g(min(gx * gx + gy * gy, .greatestFiniteMagnitude)))
            let mean = (a + c) / 2, radius = ((a - c) * (a - c) / 4 + b * b).squareRoot()
            #expect(mean - radius >= -1e-15 && mean + radius <= d.supG + 1e-15)
        }
        #expect(EEDTensor.entries(gx: 0, gy: 0, g: 0.3) == (1, 0, 1))
    }

    @Test(arguments: DiffusivityKind.allCases)
    func normNonincreasingAndMeanKeptAtTheBound(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 44)
        let (B, H, W) = (2, 9, 13)
        let g = try Diffusivity(kind, lambda: 0.2)
        let tau = try EED.stableTau(height: H, width: W, diffusivity: g)
        var u = rng.vector(B * H * W)
        let means = (0..<B).map { b in u[(b * H * W)..<((b + 1) * H * W)].reduce(0, +) }
        for _ in 0..<15 {
            let next = try EED.evolve(u, batch: B, height: H, width: W, diffusivity: g, sigma: 1, tau: tau, steps: 1)
            for b in 0..<B {
                let r = (b * H * W)..<((b + 1) * H * W)
                #expect(Reference.norm(Array(next[r])) <= Reference.norm(Array(u[r])) * (1 + 1e-14))
                #expect(abs(next[r].reduce(0, +) - means[b]) < 1e-11)
            }
            u = next
        }
    }

    /// λ_max(KxᵀKx + KyᵀKy) < 8/h² for gradient_2d: the step is Euclidean stable up to
    /// τ = 2/8·h² whatever bound `stableTau` certifies (the check is switched off here).
    @Test(arguments: DiffusivityKind.allCases)
    func normNonincreasingAtTheExactGradientBound(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 47)
        let (H, W, h) = (12, 7, 0.5)
        let g = try Diffusivity(kind, lambda: 0.3)
        var u = rng.vector(H * W)
        for _ in 0..<30 {
            let next = try EED.evolve(u, height: H, width: W, h: h, diffusivity: g, sigma: 0.7, tau: 0.25 * h * h, steps: 1,
                                      checkStability: false)
            #expect(Reference.norm(next) <= Reference.norm(u) * (1 + 1e-14))
            u = next
        }
    }

    @Test func fedReachesTheStoppingTimeAndKeepsNormAndMean() throws {
        var rng = TestRandom(seed: 45)
        let (H, W) = (16, 11)
        let g = try Diffusivity(.weickert, lambda: 0.1)
        let f = rng.vector(H * W)
        var out = [Double](repeating: 0, count: f.count)
        let plan = try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer {
                try EED.evolveFED(fb, into: $0, batch: 1, height: H, width: W, diffusivity: g, sigma: 1, time: 7.5)
            }
        }
        let bound = try EED.stableTau(height: H, width: W, diffusivity: g)
        #expect(plan.tauMax <= bound)
        let reached = Double(plan.cycles) * CycleLength.cycleTime(tau: plan.tauMax, cycleLength: plan.cycleLength)
        #expect(abs(reached - 7.5) < 1e-12)
        #expect(Reference.norm(out) <= Reference.norm(f))
        #expect(abs(out.reduce(0, +) - f.reduce(0, +)) < 1e-11)
        // one FED cycle of length 1 (cycle time 2τ_max/3) is an explicit step of size 2τ_max/3
        let one = try EED.evolveFED(f, height: H, width: W, diffusivity: g, sigma: 1, time: 0.1, tauMax: 0.15, cycles: 1)
        let step = try EED.evolve(f, height: H, width: W, diffusivity: g, sigma: 1, tau: 0.1, steps: 1)
        #expect(Reference.maxAbsDiff(one, step) < 1e-14)
    }

    @Test func refusalAboveTheBoundAndBadInputLeaveTheOutputUntouched() throws {
        let (H, W) = (4, 5)
        let g = try Diffusivity(.weickert, lambda: 1)
        let bound = try EED.stableTau(height: H, width: W, diffusivity: g)
        let f = (0..<(H * W)).map { Double($0 % 7) }
        var out = [Double](repeating: 42, count: H * W)
        func attempt(_ f: [Double], batch: Int = 1, height: Int = H, width: Int = W, sigma: Double = 1,
                     tau: Double = bound, check: Bool = true) throws {
            try f.withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer {
                    try EED.evolve(fb, into: $0, batch: batch, height: height, width: width, diffusivity: g, sigma: sigma,
                                   tau: tau, steps: 3, checkStability: check)
                }
            }
        }
        #expect(throws: PDEBlocksError.self) { try attempt(f, tau: bound * 1.01) }
        var bad = f
        bad[7] = .nan
        #expect(throws: PDEBlocksError.self) { try attempt(bad) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, sigma: -0.5) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, height: 0, width: 5) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, height: 5, width: 5) }
        #expect(throws: PDEBlocksError.self) { try attempt(f, tau: .infinity) }
        #expect(out.allSatisfy { $0 == 42 })
        try attempt(f, tau: bound * 1.01, check: false)  // unchecked runs
        #expect(!out.allSatisfy { $0 == 42 })
    }

    @Test func resultsDoNotDependOnTheThreadCount() throws {
        var rng = TestRandom(seed: 46)
        let (H, W) = (300, 200)
        let f = rng.vector(H * W)
        let g = try Diffusivity(.weickert, lambda: 0.05)
        let saved = Parallelism.threads
        defer { Parallelism.threads = saved }
        var results: [[Double]] = []
        for t in [1, 3] {
            Parallelism.threads = t
            let e = try EED.evolve(f, height: H, width: W, diffusivity: g, sigma: 1.5, tau: 0.16, steps: 2)
            let a = try AOS.evolve(f, height: H, width: W, diffusivity: g, tau: 5, steps: 2)
            results.append(e + a)
        }
        #expect(results[0] == results[1])
    }
}
