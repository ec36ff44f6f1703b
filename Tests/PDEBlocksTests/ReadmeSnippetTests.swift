import Foundation
import Testing
import PDEBlocks

/// The README's Swift snippet, verbatim (the test checks that README.md holds exactly these
/// lines, so the two cannot drift), compiled and run.
@Suite struct ReadmeSnippetTests {
    static let snippet = """
        let f = (0..<512).map { i in i < 256 ? 0.0 : 100.0 }   // one signal: a step
        var out = [Double](repeating: 0, count: f.count)
        let K = try Stencil.differenceOperator(alphas: [0, 1], h: 1.0 / 512)
        let g = try Diffusivity(.peronaMalik, lambda: 70)
        let tau = try stableTau(stencil: K, diffusivity: g, n: 512)
        try Explicit.evolve(f, into: &out, batch: 1, n: 512, stencil: K, diffusivity: g, tau: tau, steps: 500)
        """

    @Test func readmeHoldsTheSnippet() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains("```swift\nimport PDEBlocks\n" + Self.snippet + "\n```"))
    }

    @Test func snippetRuns() throws {
        // --- the snippet (after `import PDEBlocks`) ---
        let f = (0..<512).map { i in i < 256 ? 0.0 : 100.0 }   // one signal: a step
        var out = [Double](repeating: 0, count: f.count)
        let K = try Stencil.differenceOperator(alphas: [0, 1], h: 1.0 / 512)
        let g = try Diffusivity(.peronaMalik, lambda: 70)
        let tau = try stableTau(stencil: K, diffusivity: g, n: 512)
        try Explicit.evolve(f, into: &out, batch: 1, n: 512, stencil: K, diffusivity: g, tau: tau, steps: 500)
        // --- end ---
        // the array form equals the buffer form bit for bit, and diffusion kept the step's mean and range
        var viaBuffers = [Double](repeating: 0, count: f.count)
        try f.withUnsafeBufferPointer { fb in
            try viaBuffers.withUnsafeMutableBufferPointer {
                try Explicit.evolve(fb, into: $0, batch: 1, n: 512, stencil: K, diffusivity: g, tau: tau, steps: 500)
            }
        }
        #expect(out.map(\.bitPattern) == viaBuffers.map(\.bitPattern))
        let massOut: Double = out.reduce(0, +), massIn: Double = f.reduce(0, +)
        #expect(abs(massOut - massIn) <= 1e-9 * massIn)
        #expect(out.allSatisfy { $0 >= -1e-9 && $0 <= 100 + 1e-9 })
        #expect(out != f)
    }

    @Test func everySchemeTakesArrays() throws {
        let f = (0..<64).map { Double($0 % 7) }, K = try Stencil(weights: [-1, 1])
        let g = try Diffusivity(.charbonnier, lambda: 1)
        let tau = try stableTau(stencil: K, diffusivity: g, n: 32)
        var a = [Double](repeating: 0, count: 64), b = a
        func viaBuffers(_ body: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void) rethrows {
            try f.withUnsafeBufferPointer { fb in try b.withUnsafeMutableBufferPointer { try body(fb, $0) } }
        }
        try FSI.evolve(f, into: &a, batch: 2, n: 32, stencil: K, diffusivity: g, tau: tau, cycleLength: 3, cycles: 2)
        try viaBuffers { try FSI.evolve($0, into: $1, batch: 2, n: 32, stencil: K, diffusivity: g, tau: tau, cycleLength: 3, cycles: 2) }
        #expect(a == b)
        try FED.evolve(f, into: &a, batch: 2, n: 32, stencil: K, diffusivity: g, tauMax: tau, cycleLength: 3, cycles: 2)
        try viaBuffers { try FED.evolve($0, into: $1, batch: 2, n: 32, stencil: K, diffusivity: g, tauMax: tau, cycleLength: 3, cycles: 2) }
        #expect(a == b)
        try Implicit.evolve(f, into: &a, batch: 2, n: 32, stencil: K, diffusivity: g, tau: 0.1, steps: 2, iterations: 5)
        try viaBuffers { _ = try Implicit.evolve($0, into: $1, batch: 2, n: 32, stencil: K, diffusivity: g, tau: 0.1, steps: 2, iterations: 5) }
        #expect(a == b)
    }
}
