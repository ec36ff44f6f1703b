import Foundation
import Testing
@testable import PDEBlocks

@Suite struct ImageSchemesTests {
    static func pm(_ coupling: Coupling, _ kind: DiffusivityKind = .peronaMalik, lambda: Double = 0.3, h: Int, w: Int,
                   bank: [Stencil2D]? = nil) throws -> ImageDiffusionStep {
        try ImageDiffusionStep(bank: bank ?? Stencil2D.gradient(), diffusivity: try Diffusivity(kind, lambda: lambda),
                               coupling: coupling, height: h, width: w)
    }

    static func norm(_ v: ArraySlice<Double>) -> Double { sqrt(v.reduce(0) { $0 + $1 * $1 }) }

    @Test func explicitMatchesRepeatedDenseStepsWithHistory() throws {
        var rng = TestRandom(seed: 21)
        let bank = [try Stencil2D([[1.0, -1.0]], offsetY: 0, offsetX: -1), try Stencil2D([[1.0], [-1.0]], offsetY: -1, offsetX: 0)]
        for (h, w) in [(3, 5), (2, 1), (6, 4)] {
            for coupling in Coupling.allCases {
                let step = try Self.pm(coupling, .charbonnier, h: h, w: w, bank: bank)
                let f = rng.vector(2 * h * w)
                var history = [Double](repeating: 0, count: 3 * f.count)
                let got = try imageRun(f) { fb, ob in
                    try history.withUnsafeMutableBufferPointer { hb in
                        try ImageExplicit.evolve(fb, into: ob, batch: 2, step: step, tau: 0.1, steps: 4, recordEvery: 2, history: hb)
                    }
                }
                for b in 0..<2 {
                    var x = Array(f[(b * h * w)..<((b + 1) * h * w)])
                    for k in 1...4 {
                        x = ImageReference.step(x, base: x, bank: bank, g: step.diffusivities, coupling: coupling, tau: 0.1, h: h, w: w)
                        if k % 2 == 0 {
                            let rec = history[((k / 2) * 2 + b) * h * w ..< ((k / 2) * 2 + b + 1) * h * w]
                            for (p, v) in zip(x, rec) { #expect(abs(p - v) <= 1e-12) }
                        }
                    }
                    for p in 0..<(h * w) { #expect(abs(got[b * h * w + p] - x[p]) <= 1e-12) }
                }
            }
        }
    }

    /// The explicit scheme reads `f` in its first sweep and alternates buffers so the last
    /// sweep lands in `out`: in place (`out` is `f`'s memory) and out of place must agree bit
    /// for bit, for odd and even numbers of sweeps (8 steps per sweep), with and without
    /// history, and `f` must stay unchanged out of place.
    @Test func explicitInPlaceEqualsOutOfPlaceForOddAndEvenSweepCounts() throws {
        var rng = TestRandom(seed: 24)
        for (h, w) in [(9, 11), (1, 9)] {
            let step = try Self.pm(.isotropic, h: h, w: w)
            for steps in [0, 1, 8, 9, 17] {
                for every in [0, 3] {
                    let f = rng.vector(2 * h * w)
                    let records = every > 0 ? steps / every + 1 : 0
                    var h1 = [Double](repeating: 0, count: records * f.count), h2 = h1
                    var out = [Double](repeating: .nan, count: f.count)
                    try f.withUnsafeBufferPointer { fb in
                        try out.withUnsafeMutableBufferPointer { ob in
                            try h1.withUnsafeMutableBufferPointer { hb in
                                try ImageExplicit.evolve(fb, into: ob, batch: 2, step: step, tau: 0.2, steps: steps,
                                                         recordEvery: every, history: every > 0 ? hb : nil)
                            }
                        }
                    }
                    var inPlace = f
                    try inPlace.withUnsafeMutableBufferPointer { ib in
                        try h2.withUnsafeMutableBufferPointer { hb in
                            try ImageExplicit.evolve(UnsafeBufferPointer(ib), into: ib, batch: 2, step: step, tau: 0.2,
                                                     steps: steps, recordEvery: every, history: every > 0 ? hb : nil)
                        }
                    }
                    #expect(inPlace == out, "steps \(steps), every \(every), \(h)×\(w)")
                    #expect(h1 == h2)
                    var x = Array(f[0..<(h * w)])
                    for _ in 0..<steps {
                        x = ImageReference.step(x, base: x, bank: step.bank, g: step.diffusivities, coupling: .isotropic,
                                                tau: 0.2, h: h, w: w)
                    }
                    #expect(zip(x, out[0..<(h * w)]).allSatisfy { abs($0 - $1) <= 1e-12 })
                }
            }
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func normIsNonincreasingAtTheStabilityBound(kind: DiffusivityKind) throws {
        var rng = TestRandom(seed: 22)
        for coupling in Coupling.allCases {
            for (h, w) in [(7, 5), (16, 16), (1, 9)] {
                let step = try Self.pm(coupling, kind, lambda: 0.2, h: h, w: w)
                let tau = try step.stableTau()
                let f = rng.vector(h * w)
                var history = [Double](repeating: 0, count: 21 * h * w)
                _ = try imageRun(f) { fb, ob in
                    try history.withUnsafeMutableBufferPointer {
                        try ImageExplicit.evolve(fb, into: ob, batch: 1, step: step, tau: tau, steps: 20, recordEvery: 1, history: $0)
                    }
                }
                for k in 0..<20 {
                    let a = Self.norm(history[(k * h * w)..<((k + 1) * h * w)])
                    let b = Self.norm(history[((k + 1) * h * w)..<((k + 2) * h * w)])
                    #expect(b <= a * (1 + 1e-13))
                }
            }
        }
    }

    @Test func explicitConservesTheMeanAndObeysTheMaxMinPrinciple() throws {
        var rng = TestRandom(seed: 23)
        for coupling in Coupling.allCases {
            let (h, w) = (13, 10)
            let step = try Self.pm(coupling, h: h, w: w)
            let f = rng.vector(h * w)
            let u = try imageRun(f) { try ImageExplicit.evolve($0, into: $1, batch: 1, step: step, tau: 0.25, steps: 40, checkStability: false) }
            #expect(abs(u.reduce(0, +) - f.reduce(0, +)) <= 1e-12 * Double(h * w))
            #expect(u.min()! >= f.min()! - 1e-15)
            #expect(u.max()! <= f.max()! + 1e-15)
        }
    }

    @Test func fsiEqualsFedAndAgreesWithExplicitInTheLinearCase() throws {
        var rng = TestRandom(seed: 24)
        let (h, w) = (12, 9)
        for coupling in Coupling.allCases {
            let step = try Self.pm(coupling, .linear, h: h, w: w)
            let noise = rng.vector(h * w)
            let f: [Double] = (0..<(h * w)).map { (p: Int) -> Double in
                let y = Double(p / w), x = Double(p % w)
                return sin(0.7 * y) * cos(0.5 * x) + 0.05 * noise[p]
            }
            let tau = 0.15, L = 3, M = 10
            let fsi = try imageRun(f) { try ImageFSI.evolve($0, into: $1, batch: 1, step: step, tau: tau, cycleLength: L, cycles: M) }
            let fed = try imageRun(f) {
                try ImageFED.evolve($0, into: $1, batch: 1, step: step, tauMax: tau, cycleLength: L, cycles: M, ordering: .plain)
            }
            for p in f.indices { #expect(abs(fsi[p] - fed[p]) <= 1e-11) }
            let T = Double(M) * tau * Double(L * (L + 1)) / 3
            let steps = 2800
            let ex = try imageRun(f) { try ImageExplicit.evolve($0, into: $1, batch: 1, step: step, tau: T / Double(steps), steps: steps) }
            let diff = zip(ex, fsi).map { abs($0 - $1) }.max()!
            // FSI/FED cycles are first-order accurate in the cycle time θ = τL(L+1)/3 = 0.6
            #expect(diff < 2e-2, "explicit vs FSI at T = \(T): \(diff)")
        }
    }

    @Test func implicitSolvesEquation8() throws {
        var rng = TestRandom(seed: 25)
        let (h, w) = (6, 8)
        for coupling in Coupling.allCases {
            let step = try Self.pm(coupling, h: h, w: w)
            let tau = 0.5 * (try ImageImplicit.contractionTau(step))
            let f = rng.vector(h * w)
            var report = Implicit.Report(sweeps: 0, residual: 0, tolerance: 0)
            let u = try imageRun(f) {
                report = try ImageImplicit.evolve($0, into: $1, batch: 1, step: step, tau: tau, steps: 1, iterations: 200, tolerance: 1e-14)
            }
            #expect(report.converged)
            let back = ImageReference.step(u, base: f, bank: step.bank, g: step.diffusivities, coupling: coupling, tau: tau, h: h, w: w)
            for p in u.indices { #expect(abs(back[p] - u[p]) <= 1e-12) }
        }
    }

    @Test(arguments: Scheme.allCases)
    func evolveReachesTheStoppingTimeNearTheExplicitResult(scheme: Scheme) throws {
        var rng = TestRandom(seed: 26)
        let (h, w) = (10, 11)
        let step = try Self.pm(.isotropic, .linear, h: h, w: w)
        let f = rng.vector(2 * h * w)
        let T = 3.0
        var report: EvolveReport?
        let u = try imageRun(f) { report = try ImageEvolve.run($0, into: $1, batch: 2, step: step, time: T, scheme: scheme) }
        #expect(abs(report!.timeReached - T) <= 1e-9)
        let ex = try imageRun(f) { try ImageExplicit.evolve($0, into: $1, batch: 2, step: step, tau: T / 600, steps: 600) }
        // first order in the step: the explicit scheme runs at the sharp bound (≈ 1/4 here)
        #expect(zip(u, ex).map { abs($0 - $1) }.max()! < 0.12)
    }

    @Test func badInputIsRefusedAndLeavesTheOutputUntouched() throws {
        let step = try Self.pm(.isotropic, h: 4, w: 3)
        var f = [Double](repeating: 0.5, count: 12)
        var out = [Double](repeating: 7, count: 12)
        func attempt(_ body: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void) {
            #expect(throws: PDEBlocksError.self) {
                try f.withUnsafeBufferPointer { fb in try out.withUnsafeMutableBufferPointer { try body(fb, $0) } }
            }
            #expect(out == [Double](repeating: 7, count: 12))
        }
        attempt { try ImageExplicit.evolve($0, into: $1, batch: 1, step: step, tau: 0.4, steps: 3) }  // above 2/λ_max ≈ 0.312 (4×3)
        attempt { try ImageExplicit.evolve($0, into: $1, batch: 2, step: step, tau: 0.1, steps: 3) }  // wrong count
        attempt { try ImageFSI.evolve($0, into: $1, batch: 1, step: step, tau: 0.1, cycleLength: 0, cycles: 3) }
        attempt { try ImageFED.evolve($0, into: $1, batch: 1, step: step, tauMax: 0.4, cycleLength: 3, cycles: 3) }  // above the bound
        attempt { try ImageImplicit.evolve($0, into: $1, batch: 1, step: step, tau: 0.2, steps: 3, iterations: 5) }
        attempt { _ = try ImageEvolve.run($0, into: $1, batch: 1, step: step, time: -1, scheme: .fed) }
        f[5] = .nan
        attempt { try ImageExplicit.evolve($0, into: $1, batch: 1, step: step, tau: 0.1, steps: 3) }
    }

    @Test func unstableTauNamesTheBound() throws {
        let step = try Self.pm(.channelwise, h: 8, w: 8)
        let f = [Double](repeating: 0, count: 64)
        do {
            _ = try imageRun(f) { try ImageExplicit.evolve($0, into: $1, batch: 1, step: step, tau: 0.26, steps: 1) }
            Issue.record("no error")
        } catch let error as PDEBlocksError {
            #expect("\(error)".contains("\(try step.stableTau())"))
        }
    }
}
