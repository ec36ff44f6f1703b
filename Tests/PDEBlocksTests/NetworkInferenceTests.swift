import Testing
@testable import PDEBlocks

/// Inference (`Network.infer`, `NetworkBlock.infer`) keeps no tape: it equals the recorded
/// forward pass bit for bit in memory independent of the number of inner steps.
@Suite struct NetworkInferenceTests {
    static func step() throws -> DiffusionBlock {
        try DiffusionBlock(filters: [forwardDifference, oddStencil],
                           diffusivities: [.learnable(mixture), builtin(.weickert, 0.9)], step: .free(0.05))
    }

    @Test("infer equals forward bit for bit (FSI and implicit, L even and odd, chained)", arguments: [1, 2, 3, 4, 7])
    func inferEqualsForward(_ L: Int) throws {
        let inner = try Self.step()
        var net = Network(blocks: [try FSIBlock(step: inner, cycleLength: L), labelledBlocks[7].block,
                                   try ImplicitBlock(step: inner, iterations: L), inner,
                                   try ImplicitBlock(step: inner, iterations: L + 1)])
        var rng = LayerRNG(UInt64(L))
        let batch = 5, n = 23
        let x = rng.normals(batch * n)
        for t in [1, 2] {
            net.threads = t
            let (y, _) = try net.forward(x, batch: batch, n: n)
            #expect(try net.infer(x, batch: batch, n: n) == y)
        }
    }

    @Test("inference work memory of FSI and implicit blocks does not depend on L")
    func inferenceMemoryIsIndependentOfL() throws {
        let inner = try Self.step()
        for n in [2, 100, 1 << 20] {
            let counts = try [1, 2, 200, 10_000].flatMap { L in
                [try FSIBlock(step: inner, cycleLength: L).inferenceScratchCount(n: n),
                 try ImplicitBlock(step: inner, iterations: L).inferenceScratchCount(n: n)]
            }
            #expect(Set(counts) == [2 * n])
        }
    }

    @Test("inference is not subject to the tape limit: refused for training, same output for inference")
    func inferNeedsNoTape() throws {
        var net = Network(blocks: [try ImplicitBlock(step: try Self.step(), iterations: 500)])
        var rng = LayerRNG(9)
        let n = 64, x = rng.normals(3 * n)
        let (y, _) = try net.forward(x, batch: 3, n: n)
        net.tapeLimit = 8 * n                           // one signal: far below 3·500 signals
        #expect(throws: PDEBlocksError.self) { _ = try net.forward(x, batch: 3, n: n) }
        #expect(try net.infer(x, batch: 3, n: n) == y)
    }

    @Test("a recorded pass above the tape limit is refused before allocating, naming the bytes, out unchanged")
    func tapeLimitIsEnforced() throws {
        var net = Network(blocks: [try ImplicitBlock(step: try Self.step(), iterations: 200)])
        net.tapeLimit = 1 << 20
        let n = 1024, batch = 2
        let bytes = 8 * batch * (n + 199 * n)           // block input + 199 iterates per row
        let x = [Double](repeating: 0.5, count: batch * n)
        var out = [Double](repeating: -7, count: batch * n)
        do {
            try x.withUnsafeBufferPointer { xb in
                try out.withUnsafeMutableBufferPointer { _ = try net.forward(xb, into: $0, batch: batch, n: n) }
            }
            Issue.record("expected a refusal")
        } catch let e as PDEBlocksError {
            guard case .invalidArgument(let m) = e else { Issue.record("wrong error \(e)"); return }
            #expect(m.contains("\(bytes) bytes") && m.contains("\(1 << 20) bytes"))
        }
        #expect(out.allSatisfy { $0 == -7 })
        net.tapeLimit = bytes
        _ = try net.forward(x, batch: batch, n: n)
    }
}
