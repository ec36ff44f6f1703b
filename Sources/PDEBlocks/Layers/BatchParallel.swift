/// Deterministic parallelism over the rows of a batch.
///
/// Rows are grouped into `chunkCount(batch)` chunks that depend on the batch size only;
/// thread t handles chunks t, t+T, t+2T, … . Per-chunk results (parameter gradients) are
/// summed in chunk order afterwards, so every result is bit-identical for any thread count.
enum BatchParallel {
    static let maxChunks = 64

    static func chunkCount(_ batch: Int) -> Int { min(batch, maxChunks) }

    /// Rows of chunk k.
    static func rows(_ k: Int, chunks: Int, batch: Int) -> Range<Int> {
        (k * batch / chunks)..<((k + 1) * batch / chunks)
    }

    /// Number of threads to use: `requested` (0 = the number of online processors),
    /// at most `chunks`.
    static func threads(_ requested: Int, chunks: Int) -> Int {
        max(1, min(requested > 0 ? requested : Parallelism.available, chunks))
    }

    /// Runs `job.run(thread:chunk:)` for every chunk, on `threads` threads of the
    /// `WorkerPool` (which allocates nothing per pass once its threads exist; a job is a
    /// value, not a closure, because handing a closure to other threads allocates).
    static func run<J: BatchJob>(chunks: Int, threads: Int, _ job: J) {
        if threads <= 1 {
            for k in 0..<chunks { job.run(thread: 0, chunk: k) }
            return
        }
        WorkerPool.shared.run(width: threads, Strided(job: job, chunks: chunks, threads: threads))
    }

    /// Thread t's share of the chunks: t, t+T, t+2T, … .
    private struct Strided<J: BatchJob>: ParallelJob {
        let job: J
        let chunks: Int
        let threads: Int
        func perform(_ t: Int) {
            for k in stride(from: t, to: chunks, by: threads) { job.run(thread: t, chunk: k) }
        }
    }
}

/// The work of a batch pass for `BatchParallel.run`: chunk k on thread t (which owns
/// per-thread memory t). Called concurrently for distinct chunks and threads.
protocol BatchJob {
    func run(thread t: Int, chunk k: Int)
}
