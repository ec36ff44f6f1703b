/// A sequence of image blocks acting on row-major `(batch, height, width)` float64 images;
/// every block receives the network input `f = x` as its data term (the reaction term of
/// `DiffusionBlock2D`): `u_0 = x`, `u_{i+1} = block_i(u_i; x)`, output `u_L`.
///
/// - Parameters form one flat vector: the blocks' parameter vectors in order
///   (`parameterRanges`).
/// - `forward` records the input of every block in an `ImageNetworkTape`, whose `backward`
///   gives `∂L/∂x` (through the chain and every data term) and `∂L/∂θ` summed over the batch;
///   `infer` keeps no tape and gives bit-identical outputs.
/// - Images run on `threads` threads (0 = all processors), bit-identical for every thread
///   count (`BatchParallel`: fixed chunks, per-chunk gradients summed in chunk order;
///   `infer` of fewer images than threads: row bands of each image, `ImageRowBands`).
/// - Work memory comes from a `NetworkWorkspace` and the tape's own buffers, which grow to
///   the largest shape seen: repeated passes of one shape allocate nothing (except the
///   certified-bound check of blocks with a bounded τ).
public struct ImageNetwork: Sendable {
    public private(set) var blocks: [any ImageBlock]
    /// Threads for the images of a batch; 0 means one per online processor.
    public var threads: Int

    public init(blocks: [any ImageBlock] = [], threads: Int = 0) {
        self.blocks = blocks
        self.threads = threads
    }

    public mutating func append(_ block: any ImageBlock) { blocks.append(block) }

    public var parameterCount: Int { blocks.reduce(0) { $0 + $1.parameterCount } }

    /// Each block's slice of the flat parameter vector.
    public var parameterRanges: [Range<Int>] {
        var start = 0
        return blocks.map { b in
            defer { start += b.parameterCount }
            return start..<(start + b.parameterCount)
        }
    }

    public var parameters: [Double] { blocks.flatMap(\.parameters) }

    /// Sets all parameters; throws without changing anything when the length is wrong or a
    /// value is invalid (not finite, or rejected by a block), naming the block.
    public mutating func setParameters(_ p: [Double]) throws {
        guard p.count == parameterCount else {
            throw PDEBlocksError.invalidArgument("the image network has \(parameterCount) parameters, got \(p.count)")
        }
        try p.withUnsafeBufferPointer { try Check.allFinite($0, "parameters") }
        var updated = blocks
        for (k, r) in parameterRanges.enumerated() {
            do { updated[k] = try blocks[k].setting(parameters: Array(p[r])) }
            catch let e as PDEBlocksError { throw PDEBlocksError.invalidArgument("block \(k): \(e.message)") }
        }
        blocks = updated
    }

    /// Throws when the network is empty or a block cannot run on `height`×`width` images.
    public func validate(height: Int, width: Int) throws {
        guard !blocks.isEmpty else { throw PDEBlocksError.invalidArgument("the image network has no blocks") }
        for (k, b) in blocks.enumerated() {
            do { try b.validate(height: height, width: width) }
            catch let e as PDEBlocksError { throw PDEBlocksError.invalidArgument("block \(k): \(e.message)") }
        }
    }

    /// Checks `(batch, height, width)` against `x` (finite) and returns the pixel count.
    func checkImages(_ x: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int, name: String) throws -> Int {
        try Check.positive(batch, "batch")
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let n = try Memory.count(height, width, for: "an image")
        let total = try Memory.count(batch, n, for: "a batch of images")
        guard x.count == total else {
            throw PDEBlocksError.invalidArgument("\(name) holds \(x.count) values, expected batch·height·width = \(batch)×\(height)×\(width)")
        }
        try Check.allFinite(x, name, columns: width)
        return n
    }

    /// Per-thread scratch of the passes: the largest block scratch plus `extra` images.
    func scratchPerThread(pixels n: Int, extra: Int) throws -> Int {
        var largest = 0   // a loop, not map/max: no array per pass
        for b in blocks { largest = max(largest, b.scratchCount(pixels: 1)) }
        return try Memory.count(largest + extra, n, for: "per-thread network scratch")
    }

    /// Runs the network on `x` (batch images), writing `out` (must not overlap `x`) and
    /// recording the pass in `tape` (its memory is reused; `workspace` defaults to the tape's). Throws, writing nothing and
    /// leaving the tape without a valid pass, for a bad size, a non-finite input, a block
    /// that cannot run, or an overflowing result (`.nonFinite`).
    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, height: Int,
        width: Int, tape: ImageNetworkTape, workspace: NetworkWorkspace? = nil
    ) throws {
        tape.invalidate()
        let n = try checkImages(x, batch: batch, height: height, width: width, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        try validate(height: height, width: width)
        let perImage = try Memory.count(blocks.count, n, for: "the tape of one image")
        let total = try Memory.count(perImage, batch, for: "a network tape")
        guard total <= Network.maxTapeCount else {
            throw PDEBlocksError.invalidArgument("a recorded pass of \(batch) images of \(height)×\(width) through "
                + "\(blocks.count) blocks needs \(8 * total) bytes of tape, above \(8 * Network.maxTapeCount)")
        }
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(threads, chunks: chunks)
        let perThread = try scratchPerThread(pixels: n, extra: 0)
        let images = try tape.storage.reserve(total, for: "a network tape")
        try NetworkWorkspace.use(workspace ?? tape.workspace) { ws in
            let scratch = try ws.scratch(try Memory.count(T, perThread, for: "network scratch"))
            try ws.stagedFinite(out, n: width, what: "image network forward pass") { out in
                BatchParallel.run(chunks: chunks, threads: T, ImageForwardJob(
                    blocks: blocks, x: x, out: out, tape: images, height: height, width: width, scratch: scratch,
                    perThread: perThread, batch: batch, chunks: chunks))
            }
        }
        tape.record(network: self, batch: batch, height: height, width: width)
    }

    /// The network's output without a tape: bit-identical to `forward`'s, in two images and
    /// the largest block scratch per thread. A batch smaller than the thread count runs each
    /// image on all threads, by row bands, when every block is a `DiffusionBlock2D`
    /// (`ImageRowBands`; bit-identical too).
    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, height: Int,
        width: Int, workspace: NetworkWorkspace? = nil
    ) throws {
        let n = try checkImages(x, batch: batch, height: height, width: width, name: "input")
        try SignalLayout.validateOutput(out, count: x.count)
        try validate(height: height, width: width)
        let chunks = BatchParallel.chunkCount(batch)
        let parts = ImageRowBands.parts(blocks: blocks, batch: batch, height: height, width: width, requested: threads)
        let T = parts > 1 ? 1 : BatchParallel.threads(threads, chunks: chunks)
        let perThread = try scratchPerThread(pixels: n, extra: 2)
        try NetworkWorkspace.use(workspace) { ws in
            let scratch = try ws.scratch(try Memory.count(T, perThread, for: "network scratch"))
            try ws.stagedFinite(out, n: width, what: "image network inference") { out in
                if parts > 1 {
                    ImageRowBandInference(blocks: blocks, x: x, out: out, height: height, width: width,
                                          scratch: slice(scratch, 0, perThread), batch: batch, parts: parts).run()
                } else {
                    BatchParallel.run(chunks: chunks, threads: T, ImageInferenceJob(
                        blocks: blocks, x: x, out: out, height: height, width: width, scratch: scratch,
                        perThread: perThread, batch: batch, chunks: chunks))
                }
            }
        }
    }

    /// The certificate of every block on `height`×`width` images.
    public func certificate(height: Int, width: Int) throws -> ImageNetworkCertificate {
        guard !blocks.isEmpty else { throw PDEBlocksError.invalidArgument("the image network has no blocks") }
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        _ = try Memory.count(height, width, for: "an image")
        return ImageNetworkCertificate(height: height, width: width,
                                       blocks: try blocks.map { try $0.certificate(height: height, width: width) })
    }

    /// One line per block.
    public var summary: String {
        blocks.enumerated().map { "[\($0.offset)] \($0.element.summary)" }.joined(separator: "\n")
    }
}
