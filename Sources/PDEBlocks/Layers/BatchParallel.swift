import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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
        let auto = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, min(requested > 0 ? requested : auto, chunks))
    }

    /// Runs `body(thread, chunk)` for every chunk, on `threads` threads.
    static func run(chunks: Int, threads: Int, _ body: (Int, Int) -> Void) {
        if threads <= 1 {
            for k in 0..<chunks { body(0, k) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedBox(body)
            DispatchQueue.concurrentPerform(iterations: threads) { t in
                for k in stride(from: t, to: chunks, by: threads) { box.value(t, k) }
            }
        }
    }
}

/// Carries a non-Sendable value into `concurrentPerform`; the callers guarantee that the
/// threads touch disjoint memory (distinct rows, chunks and per-thread scratch).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
