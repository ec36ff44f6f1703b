import Foundation
import Testing
@testable import PDEBlocks

@Suite struct DiffusivityTests {
    @Test(arguments: DiffusivityKind.allCases)
    func gAndFluxMatchTheFormulas(kind: DiffusivityKind) throws {
        let lambda = 0.7
        let g = try Diffusivity(kind, lambda: lambda)
        for i in 0...400 {
            let s = -6 + 0.03 * Double(i)
            let want = Reference.g(kind, s * s, lambda)
            #expect(abs(g.g(s * s) - want) <= 1e-15 * max(1, want))
            #expect(abs(g.flux(s) - want * s) <= 1e-14 * max(1, abs(want * s)))
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func fluxDerivativeMatchesCentralDifferences(kind: DiffusivityKind) throws {
        let g = try Diffusivity(kind, lambda: 1.3)
        let h = 1e-6
        for i in 0...300 {
            let s = 0.001 + 0.02 * Double(i)
            let fd = (g.flux(s + h) - g.flux(s - h)) / (2 * h)
            #expect(abs(g.fluxDerivative(s) - fd) <= 1e-6)
        }
    }

    @Test(arguments: DiffusivityKind.allCases)
    func lipschitzConstantBoundsDifferenceQuotientsAndIsAttained(kind: DiffusivityKind) throws {
        let g = try Diffusivity(kind, lambda: 1)
        let h = 1.0 / 8192  // exact steps s = i·h
        var best = 0.0, largest = 0.0
        var previous = g.flux(0)
        for i in 1...163_840 {
            let value = g.flux(Double(i) * h)
            best = max(best, abs(value - previous) / h)
            largest = max(largest, abs(value))
            previous = value
        }
        // a difference quotient carries a rounding error of at most 2ε·max|Φ|/h
        #expect(best <= g.lipschitz + 2 * Double.ulpOfOne * largest / h)
        #expect(best >= g.lipschitz * (1 - 1e-6))
        #expect(g.supG == 1 && g.g(0) == 1)
    }

    @Test(arguments: DiffusivityKind.allCases)
    func vectorisedFluxAgreesWithScalarReference(kind: DiffusivityKind) throws {
        let g = try Diffusivity(kind, lambda: 0.4)
        var rng = TestRandom(seed: 5)
        var a = (0..<1003).map { _ in 3 * rng.normal() }
        a[7] = 0
        var b = a
        a.withUnsafeMutableBufferPointer { g.applyFlux($0, scale: -0.3) }
        b.withUnsafeMutableBufferPointer { g.applyFluxScalar($0, scale: -0.3) }
        for (x, y) in zip(a, b) { #expect(abs(x - y) <= 1e-14 * abs(y) + 1e-300) }
    }

    @Test func referenceTableCoversEveryKind() {
        #expect(ReferenceDiffusivity.all.map(\.kind) == DiffusivityKind.allCases)
    }

    @Test(arguments: ReferenceDiffusivity.all.map(\.kind))
    func fluxDerivativeSupGAndLipschitzMatchTheReferenceTable(kind: DiffusivityKind) throws {
        let ref = ReferenceDiffusivity.of(kind)
        let lambda = 0.7
        let g = try Diffusivity(kind, lambda: lambda)
        for i in 0...400 {
            let s = -6 + 0.03 * Double(i)
            let want = ref.fluxDerivative(s, lambda: lambda)
            #expect(abs(g.fluxDerivative(s) - want) <= 1e-14 * max(1, abs(want)))
        }
        #expect(g.supG == ref.supG)
        #expect(abs(g.lipschitz - ref.lipschitz) <= 1e-11 * ref.lipschitz)
        #expect(g.lipschitz >= ref.lipschitz)
    }

    @Test func invalidContrastOrNameThrows() throws {
        #expect(throws: PDEBlocksError.self) { try Diffusivity(.peronaMalik, lambda: 0) }
        #expect(throws: PDEBlocksError.self) { try Diffusivity(.peronaMalik, lambda: .nan) }
        #expect(throws: PDEBlocksError.self) { try DiffusivityKind(name: "tukey") }
        #expect(try DiffusivityKind(name: "weickert") == .weickert)
    }
}
