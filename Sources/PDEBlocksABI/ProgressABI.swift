#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PDEBlocks

// The thread-local progress handler of `include/pdeblocks_progress.h`.

/// `pdb_progress_fn`: `(user_data, done, total, value) -> nonzero to cancel`.
public typealias pdb_progress_fn = @convention(c) (UnsafeMutableRawPointer?, Int64, Int64, Double) -> Int32

/// The handler installed on this thread by `pdb_set_progress` (a malloc'd record per
/// thread, freed when the thread exits or the handler is replaced or removed).
enum ProgressHandler {
    private struct Record {
        var fn: pdb_progress_fn
        var userData: UnsafeMutableRawPointer?
        var interval: Double
    }

    /// The C function and its user data, called from the library's worker threads (the
    /// caller promised that this is safe by installing the handler).
    private struct Callback: @unchecked Sendable {
        let fn: pdb_progress_fn
        let userData: UnsafeMutableRawPointer?
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func install(_ fn: pdb_progress_fn, _ userData: UnsafeMutableRawPointer?, interval: Double) throws {
        guard let raw = malloc(MemoryLayout<Record>.stride) else {
            throw PDEBlocksError.invalidArgument("out of memory installing the progress handler")
        }
        raw.initializeMemory(as: Record.self, repeating: Record(fn: fn, userData: userData, interval: interval), count: 1)
        let old = pthread_getspecific(key)
        pthread_setspecific(key, raw)
        free(old)
    }

    static func remove() {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, nil)
        free(old)
    }

    /// A reporter calling this thread's handler, or nil when none is installed. Entry points
    /// that report progress call this once, after converting their arguments.
    static func reporter() -> ProgressReporter? {
        guard let raw = pthread_getspecific(key) else { return nil }
        let record = raw.assumingMemoryBound(to: Record.self).pointee
        let callback = Callback(fn: record.fn, userData: record.userData)
        // The callback may run on a library worker thread: it acts for this thread's call, so
        // that a call it makes on a handle this call holds is recognised as re-entrant
        // (`HandleLock`: PDB_ERR_BUSY) instead of waiting for the call it is part of.
        let caller = ThreadIdentity.current
        return ProgressReporter(interval: record.interval) { done, total, value in
            ThreadIdentity.acting(for: caller) { suspended { callback.fn(callback.userData, done, total, value) } } != 0
        }
    }

    /// Runs `body` (a call of a handler) with no handler installed on the current thread,
    /// then reinstalls the one that was: a library call made inside the callback runs
    /// without reports (it does not inherit the outer handler, which would report it into
    /// the outer call's counts and could cancel it). A handler the callback installs for
    /// its own nested calls is removed when it returns.
    private static func suspended<R>(_ body: () -> R) -> R {
        let outer = pthread_getspecific(key)
        if outer != nil { pthread_setspecific(key, nil) }
        defer {
            let inner = pthread_getspecific(key)
            if inner != outer {
                pthread_setspecific(key, outer)
                free(inner)
            }
        }
        return body()
    }
}

@_cdecl("pdb_set_progress")
public func pdb_set_progress(_ fn: pdb_progress_fn?, _ userData: UnsafeMutableRawPointer?, _ interval: Double) -> Int32 {
    guarded {
        guard let fn else {
            ProgressHandler.remove()
            return
        }
        guard interval >= 0 else {  // also refuses NaN
            throw PDEBlocksError.invalidArgument("interval_seconds must be nonnegative (or +Inf), got \(interval)")
        }
        try ProgressHandler.install(fn, userData, interval: interval)
    }
}
