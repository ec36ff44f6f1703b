/// The recorded forward pass of an `ImageNetwork`: the input of every block for every image
/// (the first is the network input, every block's data term), a copy of the network that
/// made it, and reusable memory (the tape, the loss helper's images, a `NetworkWorkspace`),
/// so a training loop that keeps one tape allocates nothing per step once shapes repeat.
///
/// A tape serves one pass at a time (not thread-safe; the C handle serialises its calls).
/// `ImageNetwork.forward` invalidates it first, so after a failed pass `backward` refuses.
public final class ImageNetworkTape: @unchecked Sendable {
    public private(set) var network: ImageNetwork?
    public private(set) var batch = 0
    public private(set) var height = 0
    public private(set) var width = 0
    var storage = GrowableBuffer()
    /// `out`, `∂L/∂out` and `∂L/∂x` of `ImageNetwork.lossAndGradient`.
    var lossImages = GrowableBuffer()
    var parameterStage = GrowableBuffer()
    public let workspace = NetworkWorkspace()

    public init() {}

    deinit {
        storage.release()
        lossImages.release()
        parameterStage.release()
    }

    /// Whether the tape holds a pass that `backward` can use.
    public var isValid: Bool { network != nil }

    /// Discards the recorded pass (its memory is kept).
    public func invalidate() { network = nil }

    func record(network: ImageNetwork, batch: Int, height: Int, width: Int) {
        (self.network, self.batch, self.height, self.width) = (network, batch, height, width)
    }

    /// Given `gradOut = ∂L/∂out` (batch, height, width), writes `gradIn = ∂L/∂x` (same shape;
    /// the chain and the data terms of every block) and `gradParameters = ∂L/∂θ`
    /// (`parameterCount` values, summed over the batch). Throws, writing nothing, without a
    /// valid pass, for a size mismatch, a non-finite `gradOut` or an overflowing result.
    public func backward(
        _ gradOut: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        gradParameters: UnsafeMutableBufferPointer<Double>
    ) throws {
        guard let network else {
            throw PDEBlocksError.invalidArgument("no recorded forward pass: run forward (with a tape) first, after the last change of the network")
        }
        let n = try network.checkImages(gradOut, batch: batch, height: height, width: width, name: "grad_out")
        try SignalLayout.validateOutput(gradIn, count: gradOut.count, name: "grad_in")
        let P = network.parameterCount
        try SignalLayout.validateOutput(gradParameters, count: P, name: "grad_params")
        let chunks = BatchParallel.chunkCount(batch)
        let T = BatchParallel.threads(network.threads, chunks: chunks)
        let perThread = try network.scratchPerThread(pixels: n, extra: 3)
        let gradCount = try Memory.count(chunks, P, for: "per-chunk parameter gradients")
        let stage = try parameterStage.reserve(P, for: "the staged parameter gradient")
        let blocks = network.blocks
        let (batch, height, width) = (self.batch, self.height, self.width)
        let tape = UnsafeBufferPointer(try storage.reserve(blocks.count * n * batch, for: "a network tape"))
        try NetworkWorkspace.use(workspace) { ws in
            let grads = try ws.grads(gradCount)
            grads.update(repeating: 0)
            let scratch = try ws.scratch(try Memory.count(T, perThread, for: "network scratch"))
            try ws.stagedFinite(gradIn, n: width, what: "image network backward pass") { gradIn in
                BatchParallel.run(chunks: chunks, threads: T, ImageBackwardJob(
                    blocks: blocks, gradOut: gradOut, gradIn: gradIn, tape: tape, grads: grads,
                    parameterCount: P, height: height, width: width, scratch: scratch, perThread: perThread,
                    batch: batch, chunks: chunks))
                // Sum the chunks in order, then map raw gradients to the parameterisation.
                stage.update(repeating: 0)
                for k in 0..<chunks {
                    for j in 0..<P { stage[j] += grads[k * P + j] }
                }
                var start = 0
                for block in blocks {
                    let count = block.parameterCount
                    block.convertGradient(slice(stage, start, count))
                    start += count
                }
                try FiniteResult.require(UnsafeBufferPointer(stage), n: max(P, 1), what: "image network parameter gradient") {
                    "overflow — the gradient exceeds double precision (1.8e308); scale the loss or the input down"
                }
            }
        }
        _ = gradParameters.update(fromContentsOf: stage)
    }
}
