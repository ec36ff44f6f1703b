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
    /// (2^31 values = 16 GiB) whatever `tapeLimit` says; larger requests are refused
    /// instead of exhausting memory.
    public static let maxTapeCount = 1 << 31
    /// The default of `tapeLimit`: 4 GiB.
    public static let defaultTapeLimit = 1 << 32

    /// The most bytes the tape of a recorded (training) forward pass may take; a larger pass
    /// is refused before anything is allocated, naming the bytes it needs. Per row the tape
    /// holds n values for the input of every block plus the block's own tape: (L − 1)·n for
    /// an FSI cycle or L implicit sweeps (one signal per inner step), (2C + 1)·n for a
    /// residual block of C channels, none for a diffusion block; 8 bytes per value.
    /// Inference (`infer`) keeps no tape and needs O(n) memory per thread whatever L is.
    /// Tapes above `8·maxTapeCount` bytes are refused whatever this says.
    public var tapeLimit: Int = Network.defaultTapeLimit

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
        var start = 0
        for b in blocks {
            let count = b.parameterCount
            b.parameters(into: slice(p, start, count))
            start += count
        }
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

    /// Per-signal storage: the input of every block, then its tape (`tapeCount(n: 1)·n`
    /// values), block after block. Checked for overflow here, once per pass; the passes
    /// then walk the regions block by block (forward) or from the end (backward), so no
    /// table of offsets is built.
    struct Layout: Sendable {
        let n: Int
        let rowCount: Int
        let scratchCount: Int

        init(blocks: [any NetworkBlock], n: Int) throws {
            var offset = 0
            var scratch = 0
            func mul(_ a: Int, _ b: Int) throws -> Int {
                let (p, o) = a.multipliedReportingOverflow(by: b)
                guard !o, p <= Network.maxTapeCount else { throw Layout.tooLarge(n) }
                return p
            }
            func add(_ a: Int, _ b: Int) throws -> Int {
                let (s, o) = a.addingReportingOverflow(b)
                guard !o, s <= Network.maxTapeCount else { throw Layout.tooLarge(n) }
                return s
            }
            for b in blocks {
                // Blocks' storage is linear in n: count(n) = n·count(1).
                offset = try add(offset, n)
                offset = try add(offset, try mul(b.tapeCount(n: 1), n))
                scratch = max(scratch, try mul(b.scratchCount(n: 1), n))
            }
            self.n = n
            rowCount = offset
            scratchCount = try add(scratch, try mul(2, n))
        }

        static func tooLarge(_ n: Int) -> PDEBlocksError {
            .invalidArgument("a recorded forward pass of signal length n = \(n) needs more than \(8 * Network.maxTapeCount) bytes "
                + "of tape per row (the largest tape; inference keeps no tape)")
        }

        /// The tape length of `block` in a row (fits: checked by `init`).
        @inline(__always)
        func tapeCount(_ block: any NetworkBlock) -> Int { block.tapeCount(n: 1) * n }
    }

    func checkSignals(_ x: UnsafeBufferPointer<Double>, batch: Int, n: Int, name: String) throws {
        try Check.positive(batch, "batch")
        try Check.atLeast(n, 2, "signal length n")
        let (total, o) = batch.multipliedReportingOverflow(by: n)
        guard !o, total == x.count else {
            throw PDEBlocksError.invalidArgument("\(name) holds \(x.count) values, expected batch·n = \(batch)·\(n)")
        }
        try Check.allFinite(x, name, columns: batch > 1 ? n : nil)
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

    /// `forward`, reusing `previous` — the tape object, its memory and its workspace — when
    /// nothing else references that tape (a training loop then allocates its tape once).
    /// `previous` is set to nil (it is the returned tape when reused). `workspace` holds the
    /// per-thread scratch of this pass and of the tape's backward passes (default: the
    /// reused tape's, else a new one).
    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        reusing previous: inout NetworkTape?, workspace: NetworkWorkspace? = nil, progress: ProgressReporter? = nil
    ) throws -> NetworkTape {
        try validate()
        try checkSignals(x, batch: batch, n: n, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        let layout = try Layout(blocks: blocks, n: n)
        let (total, o) = layout.rowCount.multipliedReportingOverflow(by: batch)
        guard !o, total <= Network.maxTapeCount, total * 8 <= tapeLimit else {
            let bytes = !o && total <= Network.maxTapeCount ? "\(total * 8)" : "more than \(8 * Network.maxTapeCount)"
            let limit = min(tapeLimit, 8 * Network.maxTapeCount)
            throw PDEBlocksError.invalidArgument(
                "a recorded forward pass of batch = \(batch), n = \(n) needs \(bytes) bytes of tape "
                    + "(\(8 * layout.rowCount) per row: each block's input and every inner step of FSI/implicit blocks), "
                    + "above the tape limit of \(limit) bytes (pdb_network_set_tape_limit; inference keeps no tape)")
        }
        let reused = isKnownUniquelyReferenced(&previous) ? previous : nil
        previous = nil
        let storage: TapeStorage
        if let old = reused?.storage, old.buffer.count >= total {
            storage = old
        } else {
            storage = try TapeStorage(count: total)
        }
        let workspace = workspace ?? reused?.workspace ?? NetworkWorkspace()
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(threads, chunks: chunks)
        let tape = storage.buffer
        try NetworkWorkspace.use(workspace) { ws in
            let scratch = try ws.scratch(T * layout.scratchCount)
            try ws.stagedFinite(out, n: n, what: "network forward pass") { out in
                try run(x, out, batch: batch, layout: layout, scratch: scratch, rows: tape,
                        chunks: chunks, threads: T, progress: progress)
            }
        }
        if let reused {
            reused.update(network: self, layout: layout, batch: batch, storage: storage, workspace: workspace)
            return reused
        }
        return NetworkTape(network: self, layout: layout, batch: batch, storage: storage, workspace: workspace)
    }

    /// Runs the network without keeping a tape (inference): bit-identical to `forward`'s
    /// output, in O(n) work memory per thread (two signals and the largest block's
    /// `inferenceScratchCount`), independent of the number of inner steps of FSI and
    /// implicit blocks. `workspace` holds its work memory (default: a new one); `progress`
    /// as for `forward`.
    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        workspace: NetworkWorkspace? = nil, progress: ProgressReporter? = nil
    ) throws {
        try validate()
        try checkSignals(x, batch: batch, n: n, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        let perThread = try InferenceJob.scratchCount(blocks: blocks, n: n)
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(threads, chunks: chunks)
        let (total, o) = perThread.multipliedReportingOverflow(by: T)
        guard !o, total <= Network.maxTapeCount else {
            throw PDEBlocksError.invalidArgument("signal length n = \(n) needs too much work memory")
        }
        try NetworkWorkspace.use(workspace) { ws in
            let scratch = try ws.scratch(total)
            try ws.stagedFinite(out, n: n, what: "network inference") { out in
                progress?.begin(blocks.count, times: batch, unitCost: n)
                BatchParallel.run(chunks: chunks, threads: T, InferenceJob(
                    blocks: blocks, x: x, out: out, n: n, scratch: scratch, perThread: perThread,
                    batch: batch, chunks: chunks, progress: progress))
                try progress?.finish("network forward pass", units: "blocks·rows")
            }
        }
    }

    /// Forward over all rows: row b's signals and tapes at `b·rowCount` in `rows`, thread
    /// t's scratch at `t·scratchCount` in `scratch`. Throws `.cancelled` (after all workers stopped) when `progress` cancels.
    private func run(
        _ x: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>, batch: Int, layout: Layout,
        scratch: UnsafeMutableBufferPointer<Double>, rows: UnsafeMutableBufferPointer<Double>,
        chunks: Int, threads T: Int, progress: ProgressReporter?
    ) throws {
        progress?.begin(blocks.count, times: batch, unitCost: layout.rowCount / max(1, blocks.count) + layout.n)
        BatchParallel.run(chunks: chunks, threads: T, ForwardJob(
            blocks: blocks, x: x, out: out, layout: layout, scratch: scratch, rows: rows,
            batch: batch, chunks: chunks, progress: progress))
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
/// blocks' tapes, per signal, with a copy of the network that produced them, and the
/// workspace its backward passes use.
///
/// Sendable although its properties are `var`: they change only in
/// `Network.forward(reusing:)`, and only while that call holds the sole reference.
public final class NetworkTape: @unchecked Sendable {
    public private(set) var network: Network
    public private(set) var batch: Int
    public private(set) var n: Int
    private(set) var layout: Network.Layout
    private(set) var storage: TapeStorage
    private(set) var workspace: NetworkWorkspace

    init(network: Network, layout: Network.Layout, batch: Int, storage: TapeStorage, workspace: NetworkWorkspace) {
        (self.network, self.layout, self.batch, self.n) = (network, layout, batch, layout.n)
        (self.storage, self.workspace) = (storage, workspace)
    }

    /// Re-targets a reused tape (the caller holds the only reference).
    func update(network: Network, layout: Network.Layout, batch: Int, storage: TapeStorage, workspace: NetworkWorkspace) {
        (self.network, self.layout, self.batch, self.n) = (network, layout, batch, layout.n)
        (self.storage, self.workspace) = (storage, workspace)
    }

    /// Given `gradOut = ∂L/∂out` (batch, n), writes `gradIn = ∂L/∂x` (batch, n) and
    /// `gradParameters = ∂L/∂θ` (`parameterCount` values, summed over the batch).
    /// Work memory comes from the tape's workspace (temporary memory when another pass is
    /// using it).
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
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(network.threads, chunks: chunks)
        let layout = self.layout, n = self.n, batch = self.batch
        let (gradCount, o) = chunks.multipliedReportingOverflow(by: P)
        guard !o, gradCount <= Network.maxTapeCount else { throw PDEBlocksError.invalidArgument("too many parameters") }
        let tape = UnsafeBufferPointer(storage.buffer)
        try NetworkWorkspace.use(workspace) { ws in
            let grads = try ws.grads(gradCount)
            grads.update(repeating: 0)
            let scratchAll = try ws.scratch(T * BackwardJob.scratchCount(layout))
            progress?.begin(blocks.count, times: batch, unitCost: layout.rowCount / max(1, blocks.count) + n)
            try ProgressReporter.staged(gradIn, progress) { gradIn in
                BatchParallel.run(chunks: chunks, threads: T, BackwardJob(
                    blocks: blocks, gradOut: gradOut, gradIn: gradIn, tape: tape, grads: grads, scratch: scratchAll,
                    layout: layout, parameterCount: P, batch: batch, chunks: chunks, progress: progress))
                try progress?.finish("network backward pass", units: "blocks·rows")
                // Sum the chunks in order, then map raw gradients to the parameterisation.
                gradParameters.update(repeating: 0)
                for k in 0..<chunks {
                    for j in 0..<P { gradParameters[j] += grads[k * P + j] }
                }
                var start = 0
                for block in blocks {
                    let count = block.parameterCount
                    block.convertGradient(slice(gradParameters, start, count))
                    start += count
                }
            }
        }
    }
}

/// A forward pass over the rows of chunk k on thread t (`Network.run`).
private struct ForwardJob: BatchJob {
    let blocks: [any NetworkBlock]
    let x: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let layout: Network.Layout
    let scratch: UnsafeMutableBufferPointer<Double>
    let rows: UnsafeMutableBufferPointer<Double>
    let batch: Int
    let chunks: Int
    let progress: ProgressReporter?

    func run(thread t: Int, chunk k: Int) {
        let n = layout.n
        var ticker = ProgressTicker(progress)
        defer { ticker.flush() }
        let scratch = slice(self.scratch, t * layout.scratchCount, layout.scratchCount)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            if ticker.isCancelled { return }
            let row = slice(rows, b * layout.rowCount, layout.rowCount)
            _ = slice(row, 0, n).update(fromContentsOf: slice(x, b * n, n))
            var offset = 0   // of block i's input in `row`; its tape follows
            for (i, block) in blocks.enumerated() {
                let input = UnsafeBufferPointer(slice(row, offset, n))
                let tapeCount = layout.tapeCount(block)
                let tape = slice(row, offset + n, tapeCount)
                offset += n + tapeCount
                let dst = i + 1 < blocks.count ? slice(row, offset, n) : slice(out, b * n, n)
                block.forward(input, into: dst, tape: tape, scratch: scratch)
                if !ticker.step(1, work: BlockWork.samples(block, n: n)) { return }
            }
        }
    }
}

/// The backward pass over the rows of chunk k on thread t (`NetworkTape.backward`): raw
/// parameter gradients of chunk k into `grads[k·P ..< (k+1)·P]` (added; zeroed by the caller).
private struct BackwardJob: BatchJob {
    let blocks: [any NetworkBlock]
    let gradOut: UnsafeBufferPointer<Double>
    let gradIn: UnsafeMutableBufferPointer<Double>
    let tape: UnsafeBufferPointer<Double>
    let grads: UnsafeMutableBufferPointer<Double>
    let scratch: UnsafeMutableBufferPointer<Double>
    let layout: Network.Layout
    let parameterCount: Int
    let batch: Int
    let chunks: Int
    let progress: ProgressReporter?

    /// Per-thread scratch: the blocks' scratch and two adjoint signals.
    static func scratchCount(_ layout: Network.Layout) -> Int { layout.scratchCount + 2 * layout.n }

    func run(thread t: Int, chunk k: Int) {
        let n = layout.n, P = parameterCount
        var ticker = ProgressTicker(progress)
        defer { ticker.flush() }
        let base = t * BackwardJob.scratchCount(layout)
        let scratch = slice(self.scratch, base, layout.scratchCount)
        var v = slice(self.scratch, base + layout.scratchCount, n)
        var w = slice(self.scratch, base + layout.scratchCount + n, n)
        let grad = slice(grads, k * P, P)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            if ticker.isCancelled { return }
            let row = slice(tape, b * layout.rowCount, layout.rowCount)
            _ = v.update(fromContentsOf: slice(gradOut, b * n, n))
            // Block i's input and tape end where block i+1's input starts; its parameters
            // end where block i+1's start.
            var end = layout.rowCount, parameterEnd = P
            for i in stride(from: blocks.count - 1, through: 0, by: -1) {
                let block = blocks[i]
                let tapeCount = layout.tapeCount(block)
                let tapeOffset = end - tapeCount, inputOffset = tapeOffset - n
                end = inputOffset
                let count = block.parameterCount
                parameterEnd -= count
                let dst = i == 0 ? slice(gradIn, b * n, n) : w
                block.backward(
                    UnsafeBufferPointer(v), input: slice(row, inputOffset, n),
                    tape: slice(row, tapeOffset, tapeCount), gradIn: dst,
                    grad: slice(grad, parameterEnd, count), scratch: scratch)
                swap(&v, &w)
                if !ticker.step(1, work: BlockWork.samples(block, n: 2 * n)) { return }
            }
        }
    }
}

/// The memory of a tape: allocated (and zeroed) once, reused by `Network.forward(reusing:)`
/// together with its tape object.
/// Written only by the forward pass that owns it, read only by backward passes.
final class TapeStorage: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    /// Throws `.outOfMemory` when the tape cannot be allocated.
    init(count: Int) throws {
        buffer = try Memory.buffer(count, for: "a network tape of \(count) values")
        buffer.initialize(repeating: 0)
    }
    deinit { buffer.deallocate() }
}

extension Network {
    /// Array convenience: the output for a row-major `(batch, n)` array, and its tape.
    public func forward(_ x: [Double], batch: Int, n: Int) throws -> (output: [Double], tape: NetworkTape) {
        var out = try Memory.zeros(x.count, for: "the network output")
        let tape = try x.withUnsafeBufferPointer { xb in
            try out.withUnsafeMutableBufferPointer { try forward(xb, into: $0, batch: batch, n: n) }
        }
        return (out, tape)
    }

    /// Array convenience: the output without a tape.
    public func infer(_ x: [Double], batch: Int, n: Int) throws -> [Double] {
        var out = try Memory.zeros(x.count, for: "the network output")
        try x.withUnsafeBufferPointer { xb in try out.withUnsafeMutableBufferPointer { try infer(xb, into: $0, batch: batch, n: n) } }
        return out
    }
}

extension NetworkTape {
    /// Array convenience: `(∂L/∂x, ∂L/∂θ)` for `gradOut = ∂L/∂out`.
    public func backward(_ gradOut: [Double]) throws -> (input: [Double], parameters: [Double]) {
        var gx = try Memory.zeros(gradOut.count, for: "the input gradient")
        var gp = try Memory.zeros(network.parameterCount, for: "the parameter gradient")
        try gradOut.withUnsafeBufferPointer { g in
            try gx.withUnsafeMutableBufferPointer { gxb in
                try gp.withUnsafeMutableBufferPointer { try backward(g, gradIn: gxb, gradParameters: $0) }
            }
        }
        return (gx, gp)
    }
}
