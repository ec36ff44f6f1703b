/// Row bands for the image kernels of EED, its Gaussian presmoothing and AOS: an image's
/// rows (or a range of column blocks) are split into `parts` contiguous bands computed
/// concurrently on the library's worker threads (`WorkerPool`: nothing allocated per pass).
/// Every output value is the same arithmetic whichever band computes it, so results do not
/// depend on the thread count.
enum EEDRowBands {
    /// Bands worth using for `count` rows (or blocks) of `samples` values in all: at most
    /// `Parallelism.threads`, at most `count`, at least `minimumSamplesPerThread` each.
    static func parts(count: Int, samples: Int) -> Int {
        max(1, min(Parallelism.threads, count, samples / Parallelism.minimumSamplesPerThread, WorkerPool.maxWidth))
    }

    /// Band `t` of `parts` over `0..<count`.
    @inline(__always)
    static func band(_ t: Int, of parts: Int, count: Int) -> Range<Int> {
        (t * count / parts)..<((t + 1) * count / parts)
    }

    /// Runs `job.perform(t)` for `t` in `0..<parts` (serially when `parts == 1`).
    @inline(__always)
    static func run<J: ParallelJob>(_ parts: Int, _ job: J) {
        if parts <= 1 { job.perform(0) } else { WorkerPool.shared.run(width: parts, job) }
    }
}
