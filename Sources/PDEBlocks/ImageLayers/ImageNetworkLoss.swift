/// The training step of an `ImageNetwork` with the mean-squared error
///
///     L(θ) = ½ · mean((network(x) − target)²) = (1/(2N)) Σ_j (out_j − target_j)²,
///
/// the mean over all N = batch·height·width values (so `∂L/∂out = (out − target)/N`).
extension ImageNetwork {
    /// Returns L and writes `∂L/∂θ` (`parameterCount` values) into `gradParameters`, in one
    /// forward and one backward pass recorded in `tape` (whose buffers are reused: a loop
    /// with one tape allocates nothing per step once shapes repeat). Throws, writing
    /// nothing, for a bad size or a non-finite `x` or `target`, or an overflow.
    public func lossAndGradient(
        _ x: UnsafeBufferPointer<Double>, target: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int,
        gradParameters: UnsafeMutableBufferPointer<Double>, tape: ImageNetworkTape
    ) throws -> Double {
        let n = try checkImages(x, batch: batch, height: height, width: width, name: "input")
        _ = try checkImages(target, batch: batch, height: height, width: width, name: "target")
        try SignalLayout.validateOutput(gradParameters, count: parameterCount, name: "grad_params")
        let N = batch * n
        let images = try tape.lossImages.reserve(try Memory.count(3, N, for: "the loss's images"), for: "the loss's images")
        let out = slice(images, 0, N), residual = slice(images, N, N), gradIn = slice(images, 2 * N, N)
        try forward(x, into: out, batch: batch, height: height, width: width, tape: tape)
        var sum = 0.0
        let scale = 1 / Double(N)
        for j in 0..<N {
            let d = out[j] - target[j]
            sum += d * d
            residual[j] = d * scale
        }
        let loss = 0.5 * sum * scale
        guard loss.isFinite else {
            throw PDEBlocksError.nonFinite("image network loss: the squared error overflows double precision (1.8e308)")
        }
        try tape.backward(UnsafeBufferPointer(residual), gradIn: gradIn, gradParameters: gradParameters)
        return loss
    }
}

extension ImageNetwork {
    /// Array convenience: the output and its tape.
    public func forward(_ x: [Double], batch: Int, height: Int, width: Int) throws -> (output: [Double], tape: ImageNetworkTape) {
        var out = try Memory.zeros(x.count, for: "the network output")
        let tape = ImageNetworkTape()
        try x.withUnsafeBufferPointer { xb in
            try out.withUnsafeMutableBufferPointer { try forward(xb, into: $0, batch: batch, height: height, width: width, tape: tape) }
        }
        return (out, tape)
    }

    /// Array convenience: the output without a tape.
    public func infer(_ x: [Double], batch: Int, height: Int, width: Int) throws -> [Double] {
        var out = try Memory.zeros(x.count, for: "the network output")
        try x.withUnsafeBufferPointer { xb in
            try out.withUnsafeMutableBufferPointer { try infer(xb, into: $0, batch: batch, height: height, width: width) }
        }
        return out
    }

    /// Array convenience: `(L, ∂L/∂θ)`.
    public func lossAndGradient(_ x: [Double], target: [Double], batch: Int, height: Int, width: Int,
                                tape: ImageNetworkTape = ImageNetworkTape()) throws -> (loss: Double, gradient: [Double]) {
        var g = [Double](repeating: 0, count: parameterCount)
        let loss = try x.withUnsafeBufferPointer { xb in
            try target.withUnsafeBufferPointer { tb in
                try g.withUnsafeMutableBufferPointer {
                    try lossAndGradient(xb, target: tb, batch: batch, height: height, width: width, gradParameters: $0, tape: tape)
                }
            }
        }
        return (loss, g)
    }
}

extension ImageNetworkTape {
    /// Array convenience: `(∂L/∂x, ∂L/∂θ)` for `gradOut = ∂L/∂out`.
    public func backward(_ gradOut: [Double]) throws -> (input: [Double], parameters: [Double]) {
        var gx = try Memory.zeros(gradOut.count, for: "the input gradient")
        var gp = [Double](repeating: 0, count: network?.parameterCount ?? 0)
        try gradOut.withUnsafeBufferPointer { g in
            try gx.withUnsafeMutableBufferPointer { gxb in
                try gp.withUnsafeMutableBufferPointer { try backward(g, gradIn: gxb, gradParameters: $0) }
            }
        }
        return (gx, gp)
    }
}
