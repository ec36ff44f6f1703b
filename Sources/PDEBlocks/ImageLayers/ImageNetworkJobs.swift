/// The per-chunk work of `ImageNetwork`'s passes (`BatchParallel`): chunk k's images on
/// thread t, which owns `scratch[t·perThread ..< (t+1)·perThread]`. Images are independent
/// and processed by the same per-image block functions in every pass, so `infer` equals
/// `forward` bit for bit and no result depends on the thread count.

/// Forward with a tape: image b's block inputs at `tape[(b·L + i)·n ..< …]` (block 0's is
/// a copy of the network input, which is also every block's data term).
struct ImageForwardJob: BatchJob {
    let blocks: [any ImageBlock]
    let x: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let tape: UnsafeMutableBufferPointer<Double>
    let height: Int
    let width: Int
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int
    let batch: Int
    let chunks: Int

    func run(thread t: Int, chunk k: Int) {
        let n = height * width, L = blocks.count
        let scratch = slice(self.scratch, t * perThread, perThread)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            let f = slice(x, b * n, n)
            _ = slice(tape, b * L * n, n).update(fromContentsOf: f)
            for (i, block) in blocks.enumerated() {
                let input = UnsafeBufferPointer(slice(tape, (b * L + i) * n, n))
                let dst = i + 1 < L ? slice(tape, (b * L + i + 1) * n, n) : slice(out, b * n, n)
                block.forwardImage(input, data: f, height: height, width: width, into: dst, scratch: scratch)
            }
        }
    }
}

/// Inference: two images per thread, alternating (after the block scratch).
struct ImageInferenceJob: BatchJob {
    let blocks: [any ImageBlock]
    let x: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let height: Int
    let width: Int
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int
    let batch: Int
    let chunks: Int

    func run(thread t: Int, chunk k: Int) {
        let n = height * width, L = blocks.count
        let mine = slice(scratch, t * perThread, perThread)
        let blockScratch = slice(mine, 0, perThread - 2 * n)
        var a = slice(mine, perThread - 2 * n, n), c = slice(mine, perThread - n, n)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            let f = slice(x, b * n, n)
            var input = f
            for (i, block) in blocks.enumerated() {
                let dst = i + 1 < L ? a : slice(out, b * n, n)
                block.forwardImage(input, data: f, height: height, width: width, into: dst, scratch: blockScratch)
                input = UnsafeBufferPointer(dst)
                swap(&a, &c)
            }
        }
    }
}

/// Backward: raw parameter gradients of chunk k into `grads[k·P ..< (k+1)·P]` (added;
/// zeroed by the caller); per thread the block scratch and three images (the adjoint, its
/// successor and the sum of the data terms' gradients).
struct ImageBackwardJob: BatchJob {
    let blocks: [any ImageBlock]
    let gradOut: UnsafeBufferPointer<Double>
    let gradIn: UnsafeMutableBufferPointer<Double>
    let tape: UnsafeBufferPointer<Double>
    let grads: UnsafeMutableBufferPointer<Double>
    let parameterCount: Int
    let height: Int
    let width: Int
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int
    let batch: Int
    let chunks: Int

    func run(thread t: Int, chunk k: Int) {
        let n = height * width, L = blocks.count, P = parameterCount
        let mine = slice(scratch, t * perThread, perThread)
        let blockScratch = slice(mine, 0, perThread - 3 * n)
        var v = slice(mine, perThread - 3 * n, n), w = slice(mine, perThread - 2 * n, n)
        let gf = slice(mine, perThread - n, n)
        let grad = slice(grads, k * P, P)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            _ = v.update(fromContentsOf: slice(gradOut, b * n, n))
            gf.update(repeating: 0)
            let f = slice(tape, b * L * n, n)
            var parameterEnd = P   // block i's parameters end where block i+1's start
            for i in stride(from: L - 1, through: 0, by: -1) {
                let count = blocks[i].parameterCount
                parameterEnd -= count
                blocks[i].backwardImage(
                    UnsafeBufferPointer(v), input: slice(tape, (b * L + i) * n, n), data: f, height: height, width: width,
                    gradU: w, gradF: gf, grad: slice(grad, parameterEnd, count), scratch: blockScratch)
                swap(&v, &w)
            }
            let gi = slice(gradIn, b * n, n)
            for j in 0..<n { gi[j] = v[j] + gf[j] }
        }
    }
}
