import Foundation
import Testing
@testable import PDEBlocks

@Suite struct ImageDiffusionStepTests {
    static let sizes = [(1, 1), (1, 5), (5, 1), (2, 3), (3, 2), (4, 7), (9, 6), (2, 19), (19, 2)]

    /// Banks: gradient (fast path), gradient with h, and a general bank with offsets.
    static func banks() throws -> [[Stencil2D]] {
        [try Stencil2D.gradient(), try Stencil2D.gradient(h: 0.5),
         [try Stencil2D([[0.5, -1.0, 0.25], [0.0, 1.0, -0.75]], offsetY: -1, offsetX: -1),
          try Stencil2D([[1.0], [-2.0], [1.0]], offsetY: -1, offsetX: 0),
          try Stencil2D([[-1.0, 1.0]], offsetY: 1, offsetX: 2)]]
    }

    func explicitStep(_ x: [Double], _ step: ImageDiffusionStep, tau: Double, threads: Int) throws -> [Double] {
        var work = [Double](repeating: 0, count: step.workLength(threads: threads))
        return try imageRun(x) { xb, ob in
            work.withUnsafeMutableBufferPointer { step.apply(xb, base: xb, tau: tau, into: ob, work: $0, threads: threads) }
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func stepMatchesDenseTranscriptionForBothCouplings(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 11)
        for bank in try Self.banks() {
            for (h, w) in Self.sizes {
                for coupling in Coupling.allCases {
                    let gs = coupling == .channelwise && bank.count == 3
                        ? [try Diffusivity(kind, lambda: 0.3), try Diffusivity(.peronaMalik, lambda: 0.7), try Diffusivity(kind, lambda: 1.1)]
                        : [try Diffusivity(kind, lambda: 0.4)]
                    let step = try ImageDiffusionStep(bank: bank, diffusivities: gs, coupling: coupling, height: h, width: w)
                    let x = rng.vector(h * w)
                    let got = try explicitStep(x, step, tau: 0.07, threads: 1)
                    let want = ImageReference.step(x, base: x, bank: bank, g: gs, coupling: coupling, tau: 0.07, h: h, w: w)
                    for p in want.indices { #expect(abs(got[p] - want[p]) <= 1e-12, "\(h)×\(w) \(coupling) p=\(p)") }
                }
            }
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func fastGradientKernelMatchesGenericPathAndIgnoresThreadCount(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 12)
        for (h, w) in [(1, 1), (2, 2), (3, 17), (40, 9), (64, 33), (67, 130)] {
            for coupling in Coupling.allCases {
                let g = try Diffusivity(kind, lambda: 0.3)
                let step = try ImageDiffusionStep(bank: try Stencil2D.gradient(h: 0.8), diffusivity: g, coupling: coupling,
                                                  height: h, width: w)
                #expect(step.usesGradientKernel)
                let x = rng.vector(h * w)
                let one = try explicitStep(x, step, tau: 0.1, threads: 1)
                // the generic path, through a frozen G computed at x (the same step at x)
                var frozen = [Double](repeating: 0, count: step.frozenLength)
                var work = [Double](repeating: 0, count: (3) * h * w)
                let generic = try imageRun(x) { xb, ob in
                    work.withUnsafeMutableBufferPointer { wb in
                        frozen.withUnsafeMutableBufferPointer { fb in
                            step.freeze(xb, into: fb, work: wb)
                            step.applyGeneric(xb, base: xb, tau: 0.1, into: ob, work: wb, frozen: UnsafeBufferPointer(fb))
                        }
                    }
                }
                for p in one.indices { #expect(abs(one[p] - generic[p]) <= 1e-13) }
                for threads in [2, 3, 5] { #expect(try explicitStep(x, step, tau: 0.1, threads: threads) == one) }
                // the fused kernel with the same frozen G: the linearised step at x is the step at x
                var work2 = [Double](repeating: 0, count: step.workLength(threads: 2, lagged: true))
                let fusedFrozen = try imageRun(x) { xb, ob in
                    work2.withUnsafeMutableBufferPointer { wb in
                        frozen.withUnsafeBufferPointer { step.apply(xb, base: xb, tau: 0.1, into: ob, work: wb, frozen: $0, threads: 2) }
                    }
                }
                for p in one.indices { #expect(abs(fusedFrozen[p] - generic[p]) <= 1e-13) }
            }
        }
    }

    @Test func mismatchedDiffusivityCountsAreRefused() throws {
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        #expect(throws: PDEBlocksError.self) {
            try ImageDiffusionStep(bank: try Stencil2D.gradient(), diffusivities: [g, g], coupling: .isotropic, height: 3, width: 3)
        }
        #expect(throws: PDEBlocksError.self) {
            try ImageDiffusionStep(bank: try Stencil2D.gradient(), diffusivities: [g, g, g], coupling: .channelwise, height: 3, width: 3)
        }
        #expect(throws: PDEBlocksError.self) {
            try ImageDiffusionStep(bank: [], diffusivities: [g], coupling: .channelwise, height: 3, width: 3)
        }
        #expect(throws: PDEBlocksError.self) {
            try ImageDiffusionStep(bank: try Stencil2D.gradient(), diffusivities: [g], coupling: .channelwise, height: 0, width: 3)
        }
    }
}
