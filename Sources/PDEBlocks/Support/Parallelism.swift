import Dispatch
import Synchronization

/// How many threads the schemes use: rows of a (batch, N) array are split across
/// threads, and a single long signal is split into column ranges per step. Results
/// never depend on the thread count: every output value is computed by the same
/// arithmetic in the same order whichever thread computes it.
public enum Parallelism {
    private static let configured = Atomic<Int>(0)

    /// The number of online processors (read once: `sysconf` reads a file each call).
    public static let available: Int = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// Threads used by the schemes (default: `available`). Setting 0 restores the default.
    public static var threads: Int {
        get {
            let t = configured.load(ordering: .relaxed)
            return t > 0 ? t : available
        }
        set { configured.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Work (in samples) below which a pass is not worth splitting across threads.
    public static let minimumSamplesPerThread = 1 << 14

    /// Runs `body(row, work)` for every row `0..<batch`, rows spread over up to `threads`
    /// workers, each with its own `work` buffer of `workLength` values (allocated here,
    /// once per call). Serial when the batch is small or the rows are short. Throws
    /// `.outOfMemory` (before running any row) when the work buffers cannot be allocated.
    static func forEachRow(
        batch: Int, n: Int, workLength: Int, _ body: (Int, UnsafeMutableBufferPointer<Double>) -> Void
    ) throws {
        let workers = min(threads, batch, max(1, (batch * n) / minimumSamplesPerThread))
        let count = try Memory.count(workers, workLength, for: "per-thread work buffers")
        var storage = try Memory.zeros(max(1, count), for: "the work buffers of \(workers) thread(s) (\(workLength) values each)")  // (never empty: a base address)
        storage.withUnsafeMutableBufferPointer { all in
            if workers == 1 {
                for b in 0..<batch { body(b, all) }
                return
            }
            withoutActuallyEscaping(body) { body in
                // Each worker writes only its own rows and its own work buffer.
                let shared = UncheckedSendable((all.baseAddress!, body))
                DispatchQueue.concurrentPerform(iterations: workers) { t in
                    let (base, body) = shared.value
                    let work = UnsafeMutableBufferPointer(start: base + t * workLength, count: workLength)
                    var b = t
                    while b < batch {
                        body(b, work)
                        b += workers
                    }
                }
            }
        }
    }

    /// Threads to split one signal of length `n` into column ranges (1 when not worth it).
    static func threadsForSignal(n: Int, batch: Int) -> Int {
        guard batch == 1 else { return 1 }
        return min(threads, max(1, n / (8 * minimumSamplesPerThread)))
    }
}

/// Hands values that are used race-free by construction (disjoint rows, disjoint work
/// buffers, read-only inputs) to `concurrentPerform`.
@usableFromInline
struct UncheckedSendable<T>: @unchecked Sendable {
    @usableFromInline let value: T
    @usableFromInline init(_ value: T) { self.value = value }
}
