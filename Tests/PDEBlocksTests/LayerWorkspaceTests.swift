import Dispatch
import Synchronization
import Testing
@testable import PDEBlocks

// Reused memory (tapes, workspaces) and the worker pool must not change any result: every
// comparison here is bitwise, against passes on fresh memory.

private func chain(threads: Int) -> Network {
    // Perona–Malik diffusion, learnable diffusivities, FSI, implicit, a residual block.
    Network(blocks: [labelledBlocks[1].block, labelledBlocks[5].block, labelledBlocks[7].block,
                     labelledBlocks[8].block, labelledBlocks[10].block], threads: threads)
}

/// Forward (recording, reusing `previous` and `workspace`) and backward on raw buffers.
private func pass(
    _ net: Network, _ x: [Double], _ w: [Double], batch: Int, n: Int,
    previous: inout NetworkTape?, workspace: NetworkWorkspace?
) throws -> (y: [Double], gx: [Double], gp: [Double], tape: NetworkTape) {
    var y = [Double](repeating: 0, count: x.count)
    var gx = [Double](repeating: 0, count: x.count)
    var gp = [Double](repeating: 0, count: net.parameterCount)
    let tape = try x.withUnsafeBufferPointer { xb in
        try y.withUnsafeMutableBufferPointer {
            try net.forward(xb, into: $0, batch: batch, n: n, reusing: &previous, workspace: workspace)
        }
    }
    try w.withUnsafeBufferPointer { wb in
        try gx.withUnsafeMutableBufferPointer { gxb in
            try gp.withUnsafeMutableBufferPointer { try tape.backward(wb, gradIn: gxb, gradParameters: $0) }
        }
    }
    return (y, gx, gp, tape)
}

private func fresh(_ net: Network, _ x: [Double], _ w: [Double], batch: Int, n: Int) throws -> ([Double], [Double], [Double]) {
    let (y, tape) = try net.forward(x, batch: batch, n: n)
    let (gx, gp) = try tape.backward(w)
    return (y, gx, gp)
}

@Suite struct LayerWorkspaceTests {
    @Test("a reused tape and workspace give the results of fresh memory when batch, n and threads change")
    func reuseAcrossShapes() throws {
        var rng = LayerRNG(21)
        let workspace = NetworkWorkspace()
        var previous: NetworkTape? = nil
        var first: ObjectIdentifier? = nil
        for (batch, n, threads) in [(3, 10, 1), (3, 10, 2), (70, 6, 2), (1, 14, 3), (3, 10, 1), (2, 5, 2)] {
            let net = chain(threads: threads)
            let x = rng.normals(batch * n), w = rng.normals(batch * n)
            let r = try pass(net, x, w, batch: batch, n: n, previous: &previous, workspace: workspace)
            let (y, gx, gp) = try fresh(net, x, w, batch: batch, n: n)
            #expect(r.y == y && r.gx == gx && r.gp == gp)
            // The same tape object every time: nothing else holds it between passes.
            #expect(previous == nil)
            if first == nil { first = ObjectIdentifier(r.tape) }
            #expect(ObjectIdentifier(r.tape) == first)
            #expect(r.tape.batch == batch && r.tape.n == n)
            // Inference on the same workspace equals the recorded output.
            var z = [Double](repeating: 0, count: x.count)
            try x.withUnsafeBufferPointer { xb in
                try z.withUnsafeMutableBufferPointer { try net.infer(xb, into: $0, batch: batch, n: n, workspace: workspace) }
            }
            #expect(z == y)
            previous = r.tape
        }
    }

    @Test("a tape's second backward pass, after its workspace served other passes, repeats the first")
    func backwardAfterOtherPasses() throws {
        var rng = LayerRNG(22)
        let net = chain(threads: 2)
        let workspace = NetworkWorkspace()
        let x = rng.normals(4 * 9), w = rng.normals(4 * 9)
        var none: NetworkTape? = nil
        let r = try pass(net, x, w, batch: 4, n: 9, previous: &none, workspace: workspace)
        // Another pass of another shape on the same workspace, then the tape again.
        var other: NetworkTape? = nil
        _ = try pass(net, rng.normals(2 * 17), rng.normals(2 * 17), batch: 2, n: 17, previous: &other, workspace: workspace)
        let (gx, gp) = try r.tape.backward(w)
        #expect(gx == r.gx && gp == r.gp)
    }

    @Test("concurrent passes sharing one workspace and the worker pool give the serial results")
    func concurrentPassesShareSafely() throws {
        var rng = LayerRNG(23)
        let batch = 5, n = 8
        let net = chain(threads: 2)
        let inputs = (0..<6).map { _ in (rng.normals(batch * n), rng.normals(batch * n)) }
        let serial = try inputs.map { try fresh(net, $0.0, $0.1, batch: batch, n: n) }
        let workspace = NetworkWorkspace()
        let results = Mutex<[Int: ([Double], [Double], [Double])]>([:])
        let shared = UncheckedSendable((inputs, net, workspace))
        DispatchQueue.concurrentPerform(iterations: inputs.count) { i in
            let (inputs, net, workspace) = shared.value
            var previous: NetworkTape? = nil
            for _ in 0..<3 {
                guard let r = try? pass(net, inputs[i].0, inputs[i].1, batch: batch, n: n, previous: &previous, workspace: workspace)
                else { return }
                results.withLock { $0[i] = (r.y, r.gx, r.gp) }
                previous = r.tape
            }
        }
        let got = results.withLock { $0 }
        for i in inputs.indices {
            #expect(got[i]?.0 == serial[i].0 && got[i]?.1 == serial[i].1 && got[i]?.2 == serial[i].2)
        }
    }

    /// Counts how often each index of a pass is performed (each index writes its own slot).
    private struct Tally: ParallelJob {
        let counts: UnsafeMutableBufferPointer<Int>
        let nested: Int
        func perform(_ index: Int) {
            if nested > 0 {
                WorkerPool.shared.run(width: nested, Tally(counts: slice(counts, index * nested, nested), nested: 0))
            } else {
                counts[index] += 1
            }
        }
    }

    @Test("the worker pool performs every index once per pass: any width, nested, from several threads",
          arguments: [1, 2, 3, 5])
    func poolPerformsEveryIndexOnce(width: Int) {
        let passes = 4
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: width)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0)
        for _ in 0..<passes { WorkerPool.shared.run(width: width, Tally(counts: counts, nested: 0)) }
        #expect(counts.allSatisfy { $0 == passes })

        // Nested: the inner passes find the pool busy and run on Dispatch.
        let inner = UnsafeMutableBufferPointer<Int>.allocate(capacity: width * 3)
        defer { inner.deallocate() }
        inner.initialize(repeating: 0)
        WorkerPool.shared.run(width: width, Tally(counts: inner, nested: 3))
        #expect(inner.allSatisfy { $0 == 1 })

        // Several threads at once, each with its own counters.
        let many = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4 * width)
        defer { many.deallocate() }
        many.initialize(repeating: 0)
        let shared = UncheckedSendable(many)
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for _ in 0..<passes {
                WorkerPool.shared.run(width: width, Tally(counts: slice(shared.value, t * width, width), nested: 0))
            }
        }
        #expect(many.allSatisfy { $0 == passes })
    }
}

private func slice(_ p: UnsafeMutableBufferPointer<Int>, _ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Int> {
    UnsafeMutableBufferPointer(rebasing: p[start..<(start + count)])
}
