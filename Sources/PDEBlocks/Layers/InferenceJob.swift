/// An inference pass over the rows of chunk k on thread t (`Network.infer`): the blocks run
/// one after the other on two signal buffers that alternate as input and output (the last
/// block writes the output row), with the work memory of `NetworkBlock.infer`. Thread t's
/// memory is `perThread` values at `t·perThread` in `scratch`: the two signals, then the
/// blocks' scratch. Nothing depends on the number of inner steps of a block.
struct InferenceJob: BatchJob {
    let blocks: [any NetworkBlock]
    let x: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let n: Int
    let scratch: UnsafeMutableBufferPointer<Double>
    let perThread: Int
    let batch: Int
    let chunks: Int
    let progress: ProgressReporter?

    /// Values of work memory per thread for signals of length n: 2n plus the largest
    /// `inferenceScratchCount(n:)` (checked for overflow against `Network.maxTapeCount`).
    static func scratchCount(blocks: [any NetworkBlock], n: Int) throws -> Int {
        var largest = 0
        for b in blocks {
            let (c, o) = b.inferenceScratchCount(n: 1).multipliedReportingOverflow(by: n)
            guard !o, c <= Network.maxTapeCount else {
                throw PDEBlocksError.invalidArgument("signal length n = \(n) needs too much work memory")
            }
            largest = max(largest, c)
        }
        let (total, o) = largest.addingReportingOverflow(2 * n)
        guard !o, total <= Network.maxTapeCount else {
            throw PDEBlocksError.invalidArgument("signal length n = \(n) needs too much work memory")
        }
        return total
    }

    func run(thread t: Int, chunk k: Int) {
        var ticker = ProgressTicker(progress)
        defer { ticker.flush() }
        let mine = slice(scratch, t * perThread, perThread)
        let even = slice(mine, 0, n), odd = slice(mine, n, n)
        let work = slice(mine, 2 * n, perThread - 2 * n)
        for b in BatchParallel.rows(k, chunks: chunks, batch: batch) {
            if ticker.isCancelled { return }
            var input = slice(x, b * n, n)
            for (i, block) in blocks.enumerated() {
                let dst = i + 1 < blocks.count ? (i % 2 == 0 ? even : odd) : slice(out, b * n, n)
                block.infer(input, into: dst, scratch: work)
                input = UnsafeBufferPointer(dst)
                if !ticker.step(1, work: BlockWork.samples(block, n: n)) { return }
            }
        }
    }
}
