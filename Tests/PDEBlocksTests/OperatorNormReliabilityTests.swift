import Foundation
import Testing
@testable import PDEBlocks

/// The certified operator norm for long signals (Toeplitz interior eliminated by cyclic
/// reduction), scaled weights, and terminating bisection (issue 12, items 1 and 6).
@Suite struct OperatorNormReliabilityTests {
    @Test func reducedInertiaTestsGiveABoundInsideTheRowByRowCertifiedBracket() throws {
        // The row-by-row bracket [lower, upper] is certified on both sides (failed and passed
        // LDLᵀ tests); the reduced path (forced with exactLimit 0) must never be below its
        // lower end and at most 1e-8 above its upper end.
        var rng = TestRandom(seed: 12)
        var reduced = 0
        for trial in 0..<120 {
            let q = trial < 100 ? rng.int(2...12) : rng.int(30...64)
            let o = rng.int(-q - 3...3)
            let n = trial % 3 == 0 ? rng.int(2...60) : rng.int(60...(q > 12 ? 1_500 : 4_000))
            let K = try Stencil(weights: rng.normals(q), offset: o)
            let band = try GramBand(stencil: K, n: n)
            var rows = 0
            let exact = band.rowwiseEigenvalueBracket(rows: &rows)
            let fast = band.certifiedLargestEigenvalue(exactLimit: 0)
            if band.reducibleRun != nil { reduced += 1 }
            #expect(fast.upper >= exact.lower, "q = \(q), offset = \(o), n = \(n)")
            #expect(fast.upper <= exact.upper * (1 + 1e-8), "q = \(q), offset = \(o), n = \(n)")
            #expect(fast.lower <= exact.upper, "q = \(q), offset = \(o), n = \(n)")
        }
        #expect(reduced > 60)
    }

    @Test func stackedGramBandEqualsTheDenseWeightedSumOfGramMatrices() throws {
        // Σ_c s_c K_cᵀK_c assembled densely from the stencils' matrices, entry by entry.
        var rng = TestRandom(seed: 13)
        for _ in 0..<40 {
            let n = rng.int(1...70), count = rng.int(2...4)
            var terms: [(stencil: Stencil, coefficient: Double)] = []
            for _ in 0..<count {
                let q = rng.int(1...7)
                terms.append((try Stencil(weights: rng.normals(q), offset: rng.int(-q - 2...2)), rng.uniform(0.1, 3)))
            }
            var dense = [Double](repeating: 0, count: n * n)
            for (K, s) in terms {
                let m = try K.matrix(n: n)
                for r in 0..<n { for c in 0..<n { for i in 0..<n { dense[r * n + c] += s * m[i * n + r] * m[i * n + c] } } }
            }
            let band = try GramBand(terms: terms, n: n)
            for r in 0..<n {
                for c in 0..<n {
                    let expected = dense[r * n + c]
                    let got = abs(r - c) <= band.bandwidth ? band.entry(r, c) : 0
                    #expect(abs(got - expected) <= 1e-12 * (1 + abs(expected)), "n = \(n), r = \(r), c = \(c)")
                }
            }
        }
    }

    @Test func normScalesExactlyWithPowersOfTwoOfTheWeights() throws {
        // ‖2^k K‖² = 4^k ‖K‖² exactly: the weights are normalised by a power of two, so a
        // stencil of 1e-150-sized or 1e150-sized weights computes like one of size 1.
        var rng = TestRandom(seed: 14)
        for _ in 0..<20 {
            let q = rng.int(1...6), o = rng.int(-3...1), n = rng.int(1...300)
            let w = rng.normals(q)
            let base = try Stencil(weights: w, offset: o).normSquared(n: n)
            for k in [-500, -200, 200, 500] {
                let scaled = try Stencil(weights: w.map { $0 * pow(2.0, Double(k)) }, offset: o).normSquared(n: n)
                #expect(scaled == base * pow(2.0, Double(2 * k)), "k = \(k)")
            }
        }
    }

    @Test func tinyWeightsGiveACertifiedSubnormalNormAndClearStepSizeErrors() throws {
        // w = ±1e-160: ‖K‖² = 4cos²(π/2n)·1e-320 (subnormal). Used to loop forever.
        let K = try Stencil(weights: [1e-160, -1e-160])
        let got = try K.normSquared(n: 64)
        let unit = try Stencil(weights: [1, -1]).normSquared(n: 64)  // ≥ 4cos²(π/128)
        #expect(got > 0 && got.isFinite)
        // got ≥ the exact value: compare in the scaled representation (1e-160 = m·2^e exactly).
        let e = Int((1e-160).exponent), m = BinaryScaled.scale(1e-160, by: -e)
        let exactScaled = 4 * pow(cos(Double.pi / 128), 2) * m * m
        #expect(BinaryScaled.scale(got, by: -2 * e) >= exactScaled * (1 - 1e-15))
        #expect(BinaryScaled.scale(got, by: -2 * e) <= unit * m * m * (1 + 1e-8) + 1e-3)
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        #expect(throws: PDEBlocksError.self) { try stableTau(stencil: K, diffusivity: g, n: 64) }
        do {
            _ = try stableTau(stencil: K, diffusivity: g, n: 64)
        } catch {
            #expect("\(error)".contains("1e-160"))
        }
    }

    @Test func hugeWeightsThrowNamingTheWeightsInsteadOfAZeroStepSize() throws {
        let K = try Stencil(weights: [1e200, -1e200])
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        for call in [{ try stableTau(stencil: K, diffusivity: g, n: 64) },
                     { try contractionTau(stencil: K, diffusivity: g, n: 64) },
                     { try K.normSquared(n: 64) }] {
            do {
                let v = try call()
                Issue.record("expected an error, got \(v)")
            } catch {
                #expect("\(error)".contains("1e+200"))
            }
        }
        // Representable bounds stay exact through the scaled path: weights 1e150 → τ ≈ 1e-300.
        let big = try Stencil(weights: [1e150, -1e150])
        let tau = try stableTau(stencil: big, diffusivity: g, n: 64)
        let unitTau = try stableTau(stencil: try Stencil(weights: [1, -1]), diffusivity: g, n: 64)
        #expect(abs(tau / (unitTau * 1e-300) - 1) < 1e-12)
    }

    @Test func bisectionStopsWhenNoDoubleLiesBetweenItsEnds() {
        var calls = 0
        let tiny = Double.leastNonzeroMagnitude * 2000
        let r = GramBand.bisect(lo: tiny, hi: tiny.nextUp) { _ in calls += 1; return false }
        #expect(calls == 0 && r.upper == tiny.nextUp)
        // Subnormal brackets (where 1e-8·hi underflows to 0) end when the midpoint meets an end.
        let edge = Double.leastNonzeroMagnitude * 3
        let s = GramBand.bisect(lo: 0, hi: .leastNonzeroMagnitude * 64) { $0 > edge }
        #expect(s.upper == edge.nextUp && s.lower == edge)
    }

    @Test func differenceOperatorNamesAnUnrepresentableSpacing() {
        for (h, m) in [(1e-160, 2), (1e-110, 3), (1e200, 2)] {
            do {
                _ = try Stencil.difference(order: m, h: h)
                Issue.record("h = \(h), order \(m) accepted")
            } catch {
                #expect("\(error)".contains("h = \(h)"), "\(error)")
            }
        }
    }
}

@Suite struct OperatorNormLengthLimitTests {
    @Test func lengthsBeyondTwoToThe53AndFarOffsetsOnHugeSignalsThrowInsteadOfTrapping() throws {
        let K = try Stencil(weights: [1, -2, 1], offset: -1)
        #expect(throws: PDEBlocksError.self) { try K.normSquared(n: Int.max) }
        #expect(throws: PDEBlocksError.self) { try K.normSquaredUpperBound(n: (1 << 53) + 1) }
        // An offset of the order of n needs O(n) boundary rows: a clear error naming the offset.
        let far = try Stencil(weights: [1, -1], offset: -(1 << 39))
        do {
            _ = try far.normSquared(n: 1 << 40)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("offset \(-(1 << 39))"))
        }
        // A huge n with a short stencil is fine (and matches the closed form of the Neumann Laplacian).
        let d = try Stencil.difference(order: 1)
        let n = 1 << 40
        let exact = 4 * pow(cos(Double.pi / Double(2 * n)), 2)
        let got = try d.normSquared(n: n)
        #expect(got >= exact && got <= exact * (1 + 1e-8))
    }
}
