import Testing
@testable import PDEBlocks

/// Several steps per sweep (`ImageDiffusionStep.applySteps`, `GradientWavefront`) against the
/// same steps one at a time (`apply`): bitwise equal, for any image shape, step count,
/// step sizes, coupling, frozen diagonals and thread count.
@Suite struct GradientWavefrontTests {
    /// `taus.count` single steps with `apply` (base = the state), ping-pong.
    func stepByStep(_ x: [Double], _ step: ImageDiffusionStep, taus: [Double], frozen: [Double]?) -> [Double] {
        var cur = x, next = x
        var work = [Double](repeating: 0, count: step.workLength(threads: 1))
        for tau in taus {
            cur.withUnsafeBufferPointer { cb in
                next.withUnsafeMutableBufferPointer { nb in
                    work.withUnsafeMutableBufferPointer { wb in
                        if let frozen {
                            frozen.withUnsafeBufferPointer { step.apply(cb, base: cb, tau: tau, into: nb, work: wb, frozen: $0) }
                        } else {
                            step.apply(cb, base: cb, tau: tau, into: nb, work: wb)
                        }
                    }
                }
            }
            swap(&cur, &next)
        }
        return cur
    }

    func sweep(_ x: [Double], _ step: ImageDiffusionStep, taus: [Double], frozen: [Double]?, threads: Int) throws -> [Double] {
        var work = [Double](repeating: .nan, count: step.workLength(threads: threads))  // NaN: unread
        return try imageRun(x) { xb, ob in
            taus.withUnsafeBufferPointer { tb in
                work.withUnsafeMutableBufferPointer { wb in
                    if let frozen {
                        frozen.withUnsafeBufferPointer {
                            step.applySteps(xb, taus: tb, into: ob, work: wb, frozen: $0, threads: threads)
                        }
                    } else {
                        step.applySteps(xb, taus: tb, into: ob, work: wb, threads: threads)
                    }
                }
            }
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func aSweepOfStepsEqualsTheStepsOneAtATimeBitwise(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 31)
        let g = try Diffusivity(kind, lambda: 0.3)
        for (h, w) in [(1, 1), (1, 9), (9, 1), (2, 2), (3, 17), (17, 3), (40, 9), (70, 33), (131, 12)] {
            for coupling in Coupling.allCases {
                let step = try ImageDiffusionStep(bank: try Stencil2D.gradient(h: 0.8), diffusivity: g, coupling: coupling,
                                                  height: h, width: w)
                #expect(step.stepsPerSweep == GradientWavefront.maxLevels)
                let x = rng.vector(h * w)
                for s in [1, 2, 3, 5, 8] {
                    let taus = (0..<s).map { 0.05 + 0.1 * Double($0 % 3) }  // FED-like varying sizes
                    let want = stepByStep(x, step, taus: taus, frozen: nil)
                    for threads in [1, 2, 3] {
                        let got = try sweep(x, step, taus: taus, frozen: nil, threads: threads)
                        #expect(got == want, "\(h)×\(w) \(coupling) s=\(s) threads=\(threads)")
                    }
                }
            }
        }
    }

    @Test func frozenDiagonalsSweepEqualsTheLinearisedStepsBitwise() throws {
        var rng = TestRandom(seed: 32)
        let g = try Diffusivity(.peronaMalik, lambda: 0.5)
        for (h, w) in [(2, 3), (33, 20), (96, 17)] {
            for coupling in Coupling.allCases {
                let step = try ImageDiffusionStep(bank: try Stencil2D.gradient(), diffusivity: g, coupling: coupling,
                                                  height: h, width: w)
                let x = rng.vector(h * w)
                let frozen = (0..<step.frozenLength).map { _ in abs(rng.uniform()) }
                let taus = [0.02, 0.2, 0.11, 0.07, 0.3, 0.01]
                let want = stepByStep(x, step, taus: taus, frozen: frozen)
                for threads in [1, 2] {
                    #expect(try sweep(x, step, taus: taus, frozen: frozen, threads: threads) == want, "\(h)×\(w) \(coupling)")
                }
            }
        }
    }

    @Test func wideImagesTakeFewerStepsPerSweepToStayInCache() {
        #expect(GradientWavefront.levels(width: 1024) == GradientWavefront.maxLevels)
        let wide = GradientWavefront.levels(width: 8192)
        #expect(wide >= 1 && wide < GradientWavefront.maxLevels)
        #expect(5 * wide * (8192 + 16) * 8 <= GradientWavefront.cacheBytes)
        #expect(GradientWavefront.levels(width: 1 << 20) == 1)
    }
}
