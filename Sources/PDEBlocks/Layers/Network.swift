/// A sequence of blocks (a "network" in the paper's sense: e.g. a chain of diffusion
/// blocks is the ResNet of Theorem 1) acting on row-major `(batch, n)` arrays of signals.
///
/// - Parameters form one flat float64 vector: the blocks' parameter vectors in order
///   (`parameterRanges` gives each block's slice), for any optimiser.
/// - `forward` returns the output and a `NetworkTape` holding what `backward` needs; the
///   tape keeps a copy of the network, so later parameter changes do not affect it.
/// - Batch rows run on `threads` threads (0 = all processors) with results that are
///   bit-identical for every thread count (see `BatchParallel`).
public struct Network: Sendable {
    public private(set) var blocks: [any NetworkBlock]
    /// Threads for batch rows; 0 means one per online processor.
    public var threads: Int = 0

    /// The largest signal length a certificate is computed for.
    public static let maxCertificateLength = 1 << 26
    /// The largest number of float64 values a tape (batch × per-signal storage) may hold
    /// (2^31 values = 16 GiB); larger requests are refused instead of exhausting memory.
    public static let maxTapeCount = 1 << 31

    public init(blocks: [any NetworkBlock] = [], threads: Int = 0) {
        self.blocks = blocks
        self.threads = threads
    }

    public mutating func append(_ block: any NetworkBlock) { blocks.append(block) }

    /// Replaces the last block (used to build blocks channel by channel).
    public mutating func replaceLast(_ block: any NetworkBlock) throws {
        guard !blocks.isEmpty else { throw PDEBlocksError.invalidArgument("the network has no blocks") }
        blocks[blocks.count - 1] = block
    }

    public var parameterCount: Int { blocks.reduce(0) { $0 + $1.parameterCount } }

    /// Each block's slice of the flat parameter vector.
    public var parameterRanges: [Range<Int>] {
        var start = 0
        return blocks.map { b in
            defer { start += b.parameterCount }
            return start..<(start + b.parameterCount)
        }
    }

    public var parameters: [Double] {
        var p = [Double](repeating: 0, count: parameterCount)
        p.withUnsafeMutableBufferPointer { parameters(into: $0) }
        return p
    }

    /// Writes the flat parameter vector (`parameterCount` values).
    public func parameters(into p: UnsafeMutableBufferPointer<Double>) {
        for (b, r) in zip(blocks, parameterRanges) { b.parameters(into: slice(p, r.lowerBound, r.count)) }
    }

    /// Sets all parameters; throws without changing anything when the length is wrong or a
    /// value is invalid (not finite, or a contrast outside the usable range).
    public mutating func setParameters(_ p: UnsafeBufferPointer<Double>) throws {
        guard p.count == parameterCount else {
            throw PDEBlocksError.invalidArgument("the network has \(parameterCount) parameters, got \(p.count)")
        }
        try Check.allFinite(p, "parameters")
        var updated = blocks
        for (k, r) in parameterRanges.enumerated() {
            do { updated[k] = try blocks[k].setting(parameters: slice(p, r.lowerBound, r.count)) }
            catch let e as PDEBlocksError { throw PDEBlocksError.invalidArgument("block \(k): \(e.message)") }
        }
        blocks = updated
    }

    public mutating func setParameters(_ p: [Double]) throws {
        try p.withUnsafeBufferPointer { try setParameters($0) }
    }

    /// Throws when the network is empty or a block is incomplete.
    public func validate() throws {
        guard !blocks.isEmpty else { throw PDEBlocksError.invalidArgument("the network has no blocks") }
        for (k, b) in blocks.enumerated() {
            do { try b.validate() } catch let e as PDEBlocksError { throw PDEBlocksError.invalidArgument("block \(k): \(e.message)") }
        }
    }

    /// Per-signal storage: the input of every block, then its tape. Overflow-checked.
    struct Layout {
        let n: Int
        let inputOffsets: [Int]
        let tapeOffsets: [Int]
        let tapeCounts: [Int]
        let rowCount: Int
        let scratchCount: Int

        init(blocks: [any NetworkBlock], n: Int) throws {
            var offset = 0
            var inputs = [Int](), tapes = [Int](), counts = [Int]()
            var scratch = 0
            func mul(_ a: Int, _ b: Int) throws -> Int {
                let (p, o) = a.multipliedReportingOverflow(by: b)
                guard !o, p <= Network.maxTapeCount else {
                    throw PDEBlocksError.invalidArgument("signal length n = \(n) needs more than \(Network.maxTapeCount) values of storage")
                }
                return p
            }
            func add(_ a: Int, _ b: Int) throws -> Int {
                let (s, o) = a.addingReportingOverflow(b)
                guard !o, s <= Network.maxTapeCount else {
                    throw PDEBlocksError.invalidArgument("signal length n = \(n) needs more than \(Network.maxTapeCount) values of storage")
                }
                return s
            }
            for b in blocks {
                // Blocks' storage is linear in n: count(n) = n·count(1).
                inputs.append(offset)
                offset = try add(offset, n)
                tapes.append(offset)
                let t = try mul(b.tapeCount(n: 1), n)
                counts.append(t)
                offset = try add(offset, t)
                scratch = max(scratch, try mul(b.scratchCount(n: 1), n))
            }
            self.n = n
            inputOffsets = inputs
            tapeOffsets = tapes
            tapeCounts = counts
            rowCount = offset
            scratchCount = try add(scratch, try mul(2, n))
        }
    }

    func checkSignals(_ x: UnsafeBufferPointer<Double>, batch: Int, n: Int, name: String) throws {
        try Check.positive(batch, "batch")
        try Check.atLeast(n, 2, "signal length n")
        let (total, o) = batch.multipliedReportingOverflow(by: n)
        guard !o, total == x.count else {
            throw PDEBlocksError.invalidArgument("\(name) holds \(x.count) values, expected batch·n = \(batch)·\(n)")
        }
        try Check.allFinite(x, name)
    }

    /// Runs the network on a `(batch, n)` array, writing `out` (same size, must not overlap
    /// `x`), and returns the tape for `NetworkTape.backward`.
    ///
    /// `progress` counts blocks·rows (`blocks·batch` in all); when it cancels, the pass
    /// stops after the current block of each worker's row and throws `.cancelled` with
    /// `out` unchanged (and no tape).
    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        progress: ProgressReporter? = nil
    ) throws -> NetworkTape {
        var none: NetworkTape? = nil
        return try forward(x, into: out, batch: batch, n: n, reusing: &none, progress: progress)
    }

    /// `forward`, reusing the memory of `previous` when nothing else references that tape
    /// (a training loop then allocates its tape once). `previous` is set to nil.
    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        reusing previous: inout NetworkTape?, progress: ProgressReporter? = nil
    ) throws -> NetworkTape {
        try validate()
        try checkSignals(x, batch: batch, n: n, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        let layout = try Layout(blocks: blocks, n: n)
        let (total, o) = layout.rowCount.multipliedReportingOverflow(by: batch)
        guard !o, total <= Network.maxTapeCount else {
            throw PDEBlocksError.invalidArgument("a tape for batch = \(batch), n = \(n) would exceed \(Network.maxTapeCount) values")
        }
        var candidate = previous?.storage
        previous = nil
        let storage: TapeStorage
        if let c = candidate, c.buffer.count >= total, isKnownUniquelyReferenced(&candidate) {
            storage = c
        } else {
            candidate = nil
            storage = TapeStorage(count: total)
        }
        let tape = storage.buffer
        try ProgressReporter.staged(out, progress) { out in
            try run(x, out, batch: batch, layout: layout, progress: progress) { b in
                slice(tape, b * layout.rowCount, layout.rowCount)
            }
        }
        return NetworkTape(network: self, layout: layout, batch: batch, storage: storage)
    }

    /// Runs the network without keeping a tape (inference). `progress` as for `forward`.
    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        progress: ProgressReporter? = nil
    ) throws {
        try validate()
        try checkSignals(x, batch: batch, n: n, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        let layout = try Layout(blocks: blocks, n: n)
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(threads, chunks: chunks)
        let (total, o) = layout.rowCount.multipliedReportingOverflow(by: T)
        guard !o, total <= Network.maxTapeCount else {
            throw PDEBlocksError.invalidArgument("signal length n = \(n) needs too much work memory")
        }
        var storage = [Double](repeating: 0, count: total)
        try ProgressReporter.staged(out, progress) { out in
            try storage.withUnsafeMutableBufferPointer { tape in
                try run(x, out, batch: batch, layout: layout, threadTape: true, progress: progress) { t in
                    slice(tape, t * layout.rowCount, layout.rowCount)
                }
            }
        }
    }

    /// Forward over all rows; `rowTape(i)` gives the storage of row i (or of thread i when
    /// `threadTape`). Throws `.cancelled` (after all workers stopped) when `progress` cancels.
    private func run(
        _ x: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>, batch: Int, layout: Layout,
        threadTape: Bool = false, progress: ProgressReporter?, rowTape: (Int) -> UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = layout.n
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(threads, chunks: chunks)
        var scratchStore = [Double](repeating: 0, count: T * layout.scratchCount)
        progress?.begin(blocks.count, times: batch, unitCost: layout.rowCount / max(1, blocks.count) + n)
        scratchStore.withUnsafeMutableBufferPointer { scratchAll in
            BatchParallel.run(chunks: chunks, threads: T) { t, k in
                var ticker = ProgressTicker(progress)
                defer { ticker.flush() }
                let scratch = slice(scratchAll, t * layout.scratchCount, layout.scratchCount)
                for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
                    if ticker.isCancelled { return }
                    let row = rowTape(threadTape ? t : b)
                    _ = slice(row, 0, n).update(fromContentsOf: slice(x, b * n, n))
                    for (i, block) in blocks.enumerated() {
                        let input = UnsafeBufferPointer(slice(row, layout.inputOffsets[i], n))
                        let dst = i + 1 < blocks.count ? slice(row, layout.inputOffsets[i + 1], n) : slice(out, b * n, n)
                        block.forward(input, into: dst, tape: slice(row, layout.tapeOffsets[i], layout.tapeCounts[i]), scratch: scratch)
                        if !ticker.step() { return }
                    }
                }
            }
        }
        try progress?.finish("network forward pass", units: "blocks·rows")
    }

    /// The certificate of every block on signals of length n (2 ≤ n ≤ `maxCertificateLength`).
    public func certificate(n: Int) throws -> NetworkCertificate {
        try validate()
        try Check.atLeast(n, 2, "signal length n")
        guard n <= Network.maxCertificateLength else {
            throw PDEBlocksError.invalidArgument("certificates are computed for n ≤ \(Network.maxCertificateLength), got \(n)")
        }
        return NetworkCertificate(n: n, blocks: try blocks.map { try $0.certificate(n: n) })
    }

    /// Projects every free step size onto `[0, margin·bound]` of its block's certificate
    /// (0 < margin ≤ 1): after a gradient step this restores Theorem 2's guarantee for the
    /// blocks that have a bound. Returns the number of blocks changed.
    @discardableResult
    public mutating func projectStable(n: Int, margin: Double = 1) throws -> Int {
        guard margin.isFinite, margin > 0, margin <= 1 else {
            throw PDEBlocksError.invalidArgument("margin must lie in (0, 1], got \(margin)")
        }
        try validate()
        try Check.atLeast(n, 2, "signal length n")
        guard n <= Network.maxCertificateLength else {
            throw PDEBlocksError.invalidArgument("certificates are computed for n ≤ \(Network.maxCertificateLength), got \(n)")
        }
        var updated = blocks
        var changed = 0
        for (k, b) in blocks.enumerated() {
            if let p = try b.projectedStable(n: n, margin: margin) {
                updated[k] = p
                changed += 1
            }
        }
        blocks = updated
        return changed
    }

    /// One line per block.
    public var summary: String {
        blocks.enumerated().map { "[\($0.offset)] \($0.element.summary)" }.joined(separator: "\n")
    }
}

/// What a forward pass keeps for the backward pass: the input of every block and the
/// blocks' tapes, per signal, with a copy of the network that produced them.
public final class NetworkTape: Sendable {
    public let network: Network
    public let batch: Int
    public let n: Int
    let layout: Network.Layout
    let storage: TapeStorage

    init(network: Network, layout: Network.Layout, batch: Int, storage: TapeStorage) {
        self.network = network
        self.layout = layout
        self.batch = batch
        self.n = layout.n
        self.storage = storage
    }

    /// Given `gradOut = ∂L/∂out` (batch, n), writes `gradIn = ∂L/∂x` (batch, n) and
    /// `gradParameters = ∂L/∂θ` (`parameterCount` values, summed over the batch).
    ///
    /// `progress` counts blocks·rows (`blocks·batch` in all); when it cancels, the pass
    /// stops after the current block of each worker's row and throws `.cancelled` with
    /// `gradIn` and `gradParameters` unchanged (the tape stays usable).
    public func backward(
        _ gradOut: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        gradParameters: UnsafeMutableBufferPointer<Double>, progress: ProgressReporter? = nil
    ) throws {
        try network.checkSignals(gradOut, batch: batch, n: n, name: "grad_out")
        try SignalLayout.validateOutput(gradIn, count: gradOut.count, name: "grad_in")
        let P = network.parameterCount
        try SignalLayout.validateOutput(gradParameters, count: P, name: "grad_params")
        let blocks = network.blocks
        let ranges = network.parameterRanges
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(network.threads, chunks: chunks)
        let layout = self.layout, n = self.n, batch = self.batch
        let (gradCount, o) = chunks.multipliedReportingOverflow(by: P)
        guard !o, gradCount <= Network.maxTapeCount else { throw PDEBlocksError.invalidArgument("too many parameters") }
        var chunkGrads = [Double](repeating: 0, count: gradCount)
        var scratchStore = [Double](repeating: 0, count: T * (layout.scratchCount + 2 * n))
        let tape = UnsafeBufferPointer(storage.buffer)
        progress?.begin(blocks.count, times: batch, unitCost: layout.rowCount / max(1, blocks.count) + n)
        try ProgressReporter.staged(gradIn, progress) { gradIn in
            try chunkGrads.withUnsafeMutableBufferPointer { grads in
                scratchStore.withUnsafeMutableBufferPointer { scratchAll in
                    BatchParallel.run(chunks: chunks, threads: T) { t, k in
                        var ticker = ProgressTicker(progress)
                        defer { ticker.flush() }
                        let base = t * (layout.scratchCount + 2 * n)
                        let scratch = slice(scratchAll, base, layout.scratchCount)
                        var v = slice(scratchAll, base + layout.scratchCount, n)
                        var w = slice(scratchAll, base + layout.scratchCount + n, n)
                        let grad = slice(grads, k * P, P)
                        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
                            if ticker.isCancelled { return }
                            let row = slice(tape, b * layout.rowCount, layout.rowCount)
                            _ = v.update(fromContentsOf: slice(gradOut, b * n, n))
                            for i in stride(from: blocks.count - 1, through: 0, by: -1) {
                                let dst = i == 0 ? slice(gradIn, b * n, n) : w
                                blocks[i].backward(
                                    UnsafeBufferPointer(v), input: slice(row, layout.inputOffsets[i], n),
                                    tape: slice(row, layout.tapeOffsets[i], layout.tapeCounts[i]), gradIn: dst,
                                    grad: slice(grad, ranges[i].lowerBound, ranges[i].count), scratch: scratch)
                                swap(&v, &w)
                                if !ticker.step() { return }
                            }
                        }
                    }
                }
                try progress?.finish("network backward pass", units: "blocks·rows")
                // Sum the chunks in order, then map raw gradients to the parameterisation.
                gradParameters.update(repeating: 0)
                for k in 0..<chunks {
                    for j in 0..<P { gradParameters[j] += grads[k * P + j] }
                }
                for (i, r) in ranges.enumerated() {
                    blocks[i].convertGradient(slice(gradParameters, r.lowerBound, r.count))
                }
            }
        }
    }
}

/// The memory of a tape: allocated (and zeroed) once, reused by `Network.forward(reusing:)`.
/// Written only by the forward pass that owns it, read only by backward passes.
final class TapeStorage: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: 0)
    }
    deinit { buffer.deallocate() }
}

extension Network {
    /// Array convenience: the output for a row-major `(batch, n)` array, and its tape.
    public func forward(_ x: [Double], batch: Int, n: Int) throws -> (output: [Double], tape: NetworkTape) {
        var out = [Double](repeating: 0, count: x.count)
        let tape = try x.withUnsafeBufferPointer { xb in
            try out.withUnsafeMutableBufferPointer { try forward(xb, into: $0, batch: batch, n: n) }
        }
        return (out, tape)
    }

    /// Array convenience: the output without a tape.
    public func infer(_ x: [Double], batch: Int, n: Int) throws -> [Double] {
        var out = [Double](repeating: 0, count: x.count)
        try x.withUnsafeBufferPointer { xb in try out.withUnsafeMutableBufferPointer { try infer(xb, into: $0, batch: batch, n: n) } }
        return out
    }
}

extension NetworkTape {
    /// Array convenience: `(∂L/∂x, ∂L/∂θ)` for `gradOut = ∂L/∂out`.
    public func backward(_ gradOut: [Double]) throws -> (input: [Double], parameters: [Double]) {
        var gx = [Double](repeating: 0, count: gradOut.count)
        var gp = [Double](repeating: 0, count: network.parameterCount)
        try gradOut.withUnsafeBufferPointer { g in
            try gx.withUnsafeMutableBufferPointer { gxb in
                try gp.withUnsafeMutableBufferPointer { try backward(g, gradIn: gxb, gradParameters: $0) }
            }
        }
        return (gx, gp)
    }
}
