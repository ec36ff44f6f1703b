#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Something that keeps per-thread state (a network's per-thread tapes) and wants to drop
/// it when that thread exits.
protocol ThreadExitObserver: AnyObject {
    /// Called on the exiting thread, after its identity record was detached (so `id` must be
    /// used, not `ThreadIdentity.current`). Must not block on a lock held by another thread.
    func threadExited(_ id: UInt64)
}

/// The per-thread record behind `ThreadIdentity` (one per thread that used a handle).
final class ThreadRecord {
    /// Process-unique, never reused, nonzero; a fork child's surviving thread keeps it.
    let id: UInt64
    /// While this thread runs a progress callback on behalf of a call made on thread
    /// `actingFor`, that thread's id (else 0): the callback belongs to that call.
    var actingFor: UInt64 = 0
    private struct WeakObserver { weak var object: (any ThreadExitObserver)? }
    /// Objects holding state of this thread; touched only by this thread.
    private var observers: [ObjectIdentifier: WeakObserver] = [:]

    init(id: UInt64) { self.id = id }

    /// Asks `object.threadExited(id)` when this thread exits (idempotent; allocates only the
    /// first time an object is observed).
    func observe(_ object: any ThreadExitObserver) {
        let key = ObjectIdentifier(object)
        if observers[key]?.object != nil { return }
        if observers.count >= 16 { observers = observers.filter { $0.value.object != nil } }
        observers[key] = WeakObserver(object: object)
    }

    fileprivate func exited() {
        for o in observers.values { o.object?.threadExited(id) }
        observers = [:]
    }
}

/// The identity of the calling thread, for handle locks: a process-unique number (a
/// `pthread_t` can be reused by a later thread; this never is), and the thread on whose
/// behalf a progress callback is running, so that a callback running on a library worker
/// thread is recognised as part of the call that holds the handle.
enum ThreadIdentity {
    private static let counter = Atomic<UInt64>(0)

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { raw in
            guard let raw else { return }
            Unmanaged<ThreadRecord>.fromOpaque(raw).takeRetainedValue().exited()
        }
        return key
    }()

    /// This thread's record (created on the thread's first use).
    static var record: ThreadRecord {
        if let raw = pthread_getspecific(key) { return Unmanaged<ThreadRecord>.fromOpaque(raw).takeUnretainedValue() }
        let r = ThreadRecord(id: counter.add(1, ordering: .relaxed).newValue)
        pthread_setspecific(key, Unmanaged.passRetained(r).toOpaque())
        return r
    }

    /// This thread's id (nonzero).
    static var current: UInt64 { record.id }

    /// This thread's id if it has one, else 0; never allocates (usable in an atfork handler).
    static var existing: UInt64 {
        guard let raw = pthread_getspecific(key) else { return 0 }
        return Unmanaged<ThreadRecord>.fromOpaque(raw).takeUnretainedValue().id
    }

    /// Runs `body` (a progress callback) marked as acting for the call made on thread `caller`.
    static func acting<R>(for caller: UInt64, _ body: () -> R) -> R {
        let r = record
        let saved = r.actingFor
        r.actingFor = caller
        defer { r.actingFor = saved }
        return body()
    }
}
