import Foundation
import Testing
@testable import PDEBlocks

/// The array forms of the image schemes (ImageArrays.swift): bit for bit the buffer forms,
/// and the dense transcriptions of eqs. 4, 7, 8–9 and FED on small images.
@Suite struct ImageArraysTests {
    /// Perona–Malik (λ = 0.3) with `gradient_2d` on `h`×`w` images (5×4: not square).
    static func step(_ coupling: Coupling, _ kind: DiffusivityKind = .peronaMalik, h: Int = 5, w: Int = 4) throws -> ImageDiffusionStep {
        try ImageDiffusionStep(bank: Stencil2D.gradient(), diffusivity: try Diffusivity(kind, lambda: 0.3),
                               coupling: coupling, height: h, width: w)
    }

    /// One dense explicit step `x − τ Σ_c K_cᵀ G_c(x) K_c x` (`ImageReference`).
    static func dense(_ x: [Double], _ step: ImageDiffusionStep, tau: Double, base: [Double]? = nil) -> [Double] {
        ImageReference.step(x, base: base ?? x, bank: step.bank, g: step.diffusivities, coupling: step.coupling,
                            tau: tau, h: step.height, w: step.width)
    }

    static func maxDifference(_ a: [Double], _ b: ArraySlice<Double>) -> Double {
        zip(a, b).map { abs($0 - $1) }.max()!
    }

    @Test func arrayFormsEqualTheBufferFormsBitwise() throws {
        var rng = TestRandom(seed: 31)
        for coupling in Coupling.allCases {
            let step = try Self.step(coupling, h: 9, w: 7)
            let f = rng.vector(3 * step.pixels)
            let tau = 0.9 * (try step.stableTau())
            #expect(try ImageExplicit.evolve(f, batch: 3, step: step, tau: tau, steps: 6)
                    == imageRun(f) { try ImageExplicit.evolve($0, into: $1, batch: 3, step: step, tau: tau, steps: 6) })
            #expect(try ImageFSI.evolve(f, batch: 3, step: step, tau: tau, cycleLength: 4, cycles: 2)
                    == imageRun(f) { try ImageFSI.evolve($0, into: $1, batch: 3, step: step, tau: tau, cycleLength: 4, cycles: 2) })
            for update in [NonlinearityUpdate.perStep, .perCycle] {
                #expect(try ImageFED.evolve(f, batch: 3, step: step, tauMax: tau, cycleLength: 5, cycles: 2, update: update)
                        == imageRun(f) {
                    try ImageFED.evolve($0, into: $1, batch: 3, step: step, tauMax: tau, cycleLength: 5, cycles: 2, update: update)
                })
            }
            let q = 0.5 * (try ImageImplicit.contractionTau(step))
            var report = Implicit.Report(sweeps: 0, residual: 0, tolerance: 0)
            let buffer = try imageRun(f) {
                report = try ImageImplicit.evolve($0, into: $1, batch: 3, step: step, tau: q, steps: 2, iterations: 50, tolerance: 1e-10)
            }
            let implicit = try ImageImplicit.evolve(f, batch: 3, step: step, tau: q, steps: 2, iterations: 50, tolerance: 1e-10)
            #expect(implicit.u == buffer && implicit.report == report)
            for scheme in Scheme.allCases {
                var planned: EvolveReport?
                let buffer = try imageRun(f) { planned = try ImageEvolve.run($0, into: $1, batch: 3, step: step, time: 4, scheme: scheme) }
                let evolved = try ImageEvolve.run(f, batch: 3, step: step, time: 4, scheme: scheme)
                #expect(evolved.u == buffer && evolved.report == planned)
            }
        }
    }

    @Test func explicitArrayFormIsTheDenseEquation4() throws {
        var rng = TestRandom(seed: 32)
        for coupling in Coupling.allCases {
            let step = try Self.step(coupling)
            let f = rng.vector(2 * step.pixels)
            let tau = try step.stableTau()
            let u = try ImageExplicit.evolve(f, batch: 2, step: step, tau: tau, steps: 5)
            for b in 0..<2 {
                var x = Array(f[(b * step.pixels)..<((b + 1) * step.pixels)])
                for _ in 0..<5 { x = Self.dense(x, step, tau: tau) }
                #expect(Self.maxDifference(x, u[(b * step.pixels)..<((b + 1) * step.pixels)]) <= 1e-12)
            }
        }
    }

    @Test func fsiArrayFormIsTheDenseEquation7() throws {
        // u^{ℓ+1} = α_ℓ (u^ℓ − τ A(u^ℓ) u^ℓ) + (1 − α_ℓ) u^{ℓ−1}, α_ℓ = (4ℓ+2)/(2ℓ+3), u^{−1} = u^0 per cycle.
        var rng = TestRandom(seed: 33)
        for coupling in Coupling.allCases {
            let step = try Self.step(coupling)
            let f = rng.vector(step.pixels)
            let tau = try step.stableTau()
            let (L, M) = (4, 3)
            var cur = f
            for _ in 0..<M {
                var previous = cur
                for l in 0..<L {
                    let a = Double(4 * l + 2) / Double(2 * l + 3)
                    let explicit = Self.dense(cur, step, tau: tau)
                    let next = zip(explicit, previous).map { a * $0 + (1 - a) * $1 }
                    (previous, cur) = (cur, next)
                }
            }
            let u = try ImageFSI.evolve(f, step: step, tau: tau, cycleLength: L, cycles: M)
            #expect(Self.maxDifference(cur, u[...]) <= 1e-12)
        }
    }

    @Test func fedArrayFormIsDenseStepsWithTheFedStepSizes() throws {
        // Plain order: τ_i = τ_max / (2 cos²(π(2i+1)/(4L+2))), increasing; each a full explicit step (.perStep).
        var rng = TestRandom(seed: 34)
        for coupling in Coupling.allCases {
            let step = try Self.step(coupling)
            let f = rng.vector(step.pixels)
            let tauMax = try step.stableTau()
            let (L, M) = (5, 2)
            let taus = (0..<L).map { i -> Double in
                let c = cos(Double.pi * Double(2 * i + 1) / Double(4 * L + 2))
                return tauMax / (2 * c * c)
            }
            var x = f
            for _ in 0..<M { for t in taus { x = Self.dense(x, step, tau: t) } }
            let u = try ImageFED.evolve(f, step: step, tauMax: tauMax, cycleLength: L, cycles: M, ordering: .plain,
                                        update: .perStep)
            #expect(Self.maxDifference(x, u[...]) <= 1e-11)
        }
    }

    @Test func implicitArrayFormRunsTheDenseFixedPointSweeps() throws {
        // x_{ℓ+1} = u^k − τ Σ_c K_cᵀ G_c(x_ℓ) K_c x_ℓ from x_0 = u^k (eq. 9), a fixed number of sweeps (tolerance 0).
        var rng = TestRandom(seed: 35)
        for coupling in Coupling.allCases {
            let step = try Self.step(coupling)
            let f = rng.vector(step.pixels)
            let tau = 0.5 * (try ImageImplicit.contractionTau(step))
            var u = f
            for _ in 0..<3 {
                var x = u
                for _ in 0..<7 { x = Self.dense(x, step, tau: tau, base: u) }
                u = x
            }
            let got = try ImageImplicit.evolve(f, step: step, tau: tau, steps: 3, iterations: 7)
            #expect(Self.maxDifference(u, got.u[...]) <= 1e-12)
            #expect(got.report.sweeps == 21)
        }
    }

    @Test func evolveArrayFormIsTheDenseExplicitSchemeOfItsPlan() throws {
        var rng = TestRandom(seed: 36)
        let step = try Self.step(.isotropic)
        let f = rng.vector(step.pixels)
        let (u, report) = try ImageEvolve.run(f, step: step, time: 2.5, scheme: .explicit)
        #expect(report.tau <= (try step.stableTau()) && abs(Double(report.steps) * report.tau - 2.5) <= 1e-12)
        var x = f
        for _ in 0..<report.steps { x = Self.dense(x, step, tau: report.tau) }
        #expect(Self.maxDifference(x, u[...]) <= 1e-12)
    }

    @Test func badArraysThrowAndLeaveTheInputUnchanged() throws {
        let step = try Self.step(.isotropic)
        let f = [Double](repeating: 0.5, count: step.pixels)
        #expect(throws: PDEBlocksError.self) { try ImageExplicit.evolve(f, batch: 2, step: step, tau: 0.1, steps: 1) }
        #expect(throws: PDEBlocksError.self) { try ImageFSI.evolve(Array(f.dropLast()), step: step, tau: 0.1, cycleLength: 2, cycles: 1) }
        #expect(throws: PDEBlocksError.self) { try ImageFED.evolve(f, step: step, tauMax: 1, cycleLength: 2, cycles: 1) }  // above the bound
        #expect(throws: PDEBlocksError.self) { try ImageImplicit.evolve(f, step: step, tau: 0.1, steps: 1, iterations: 0) }
        #expect(throws: PDEBlocksError.self) { try ImageEvolve.run([], step: step, time: 1) }
        var bad = f
        bad[3] = .infinity
        #expect(throws: PDEBlocksError.self) { try ImageEvolve.run(bad, step: step, time: 1, scheme: .fed) }
        #expect(bad[3] == .infinity && f.allSatisfy { $0 == 0.5 })
    }
}
