#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PDEBlocks
import Synchronization

/// The lock of a stateful handle (a network): serialises calls on the handle from
/// different threads, and never traps or hangs where a plain mutex would.
///
/// - **Re-entry** (a call on the handle made from the progress callback of a call that
///   holds it — on the calling thread or on a library worker thread acting for it, see
///   `ThreadIdentity.acting`) throws `.busy` instead of deadlocking or trapping
///   ("Recursive call to lock Mutex"). Other threads wait for the holder, as before.
/// - **fork()**: a child inherits the lock's memory but only the forking thread. On first
///   use in a child the lock re-creates its pthread objects; if it was held by a thread
///   that does not exist there, it is released, and the next holder is told
///   (`Note.holderVanished`) whether that thread was in a *compute* phase (reading the
///   object's description, writing only memory the object can discard) — then the object
///   discards that memory and carries on — or in a *modify* phase (changing the object) —
///   then the handle is unusable in the child and every call throws `.busy` naming why.
///   A lock held by the forking thread itself (fork() from a progress callback) stays held
///   by it.
///
/// Costs per call: one atomic load and two pthread mutex lock/unlock pairs; no allocation.
final class HandleLock: @unchecked Sendable {
    /// What the holder is doing (for a child process whose holder vanished at fork()).
    enum Phase: UInt8 { case modify = 0, compute = 1 }

    /// What the caller of `lock` must know about the time since the previous holder.
    struct Note {
        /// The process forked since the previous holder released the lock (first holder in a child).
        var forked = false
        /// At the fork, a thread that does not exist in this child held the lock in its
        /// compute phase: memory it was writing (work buffers) must be discarded.
        var holderVanished = false
    }

    /// The object's name in messages ("network").
    let name: String

    // pthread objects need stable addresses; owned by this lock.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let released: UnsafeMutablePointer<pthread_cond_t>
    /// The fork generation the pthread objects belong to.
    private let generation: Atomic<UInt64>
    /// The holder's phase; written by the holder only.
    private let phase = Atomic<UInt8>(Phase.modify.rawValue)

    // Guarded by `mutex`.
    private var holder: UInt64 = 0
    private var note = Note()
    /// Why the handle is unusable in this (child) process, or nil.
    private var poisoned: String?

    init(name: String) {
        ForkGeneration.install()
        self.name = name
        mutex = .allocate(capacity: 1)
        released = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(released, nil)
        generation = Atomic(ForkGeneration.current.load(ordering: .acquiring))
    }

    deinit {
        pthread_cond_destroy(released)
        pthread_mutex_destroy(mutex)
        released.deallocate()
        mutex.deallocate()
    }

    /// Takes the lock for thread `me` (default: the calling thread, or the call it runs a
    /// progress callback for), waiting while another thread holds it. Throws `.busy` on
    /// re-entry and for a handle made unusable by fork(); the phase starts as `.modify`.
    func lock() throws -> Note {
        let record = ThreadIdentity.record
        guard let note = try lock(as: record.id, actingFor: record.actingFor, wait: true) else {
            throw PDEBlocksError.busy("internal error: the \(name) lock was not taken")
        }
        return note
    }

    /// Takes the lock for `id` if it is free (nil if not); for thread-exit clean-up, which
    /// must not wait.
    func tryLock(as id: UInt64) -> Note? {
        try? lock(as: id, actingFor: 0, wait: false)
    }

    private func lock(as me: UInt64, actingFor proxy: UInt64, wait: Bool) throws -> Note? {
        checkGeneration()
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let poisoned { throw PDEBlocksError.busy(poisoned) }
        while holder != 0 {
            if holder == me || (proxy != 0 && holder == proxy) {
                throw PDEBlocksError.busy(
                    "the \(name) is in use by the running call (a progress callback cannot use the \(name) it reports on; use it after the call returns)")
            }
            if !wait { return nil }
            pthread_cond_wait(released, mutex)
            if let poisoned { throw PDEBlocksError.busy(poisoned) }
        }
        holder = me
        phase.store(Phase.modify.rawValue, ordering: .relaxed)
        defer { note = Note() }
        return note
    }

    /// Marks the holder's phase (see the type's description).
    func enter(_ p: Phase) { phase.store(p.rawValue, ordering: .releasing) }

    /// Releases the lock (by its holder).
    func unlock() {
        checkGeneration()
        pthread_mutex_lock(mutex)
        holder = 0
        pthread_cond_signal(released)
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` holding the lock (see `lock()`).
    func withLock<R>(_ body: (Note) throws -> R) throws -> R {
        let note = try lock()
        defer { unlock() }
        return try body(note)
    }

    @inline(__always)
    private func checkGeneration() {
        if generation.load(ordering: .acquiring) != ForkGeneration.current.load(ordering: .acquiring) {
            fixUpAfterFork()
        }
    }

    /// First use in a child process: fresh pthread objects (the parent's may be held by, or
    /// have waiters from, threads that do not exist here), and the holder dealt with.
    private func fixUpAfterFork() {
        ForkGeneration.repairing {
            let now = ForkGeneration.current.load(ordering: .acquiring)
            guard generation.load(ordering: .acquiring) != now else { return }
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(released, nil)
            note.forked = true
            if holder != 0 && holder != ForkGeneration.survivor {
                if Phase(rawValue: phase.load(ordering: .acquiring)) == .compute {
                    note.holderVanished = true
                } else {
                    poisoned = "the \(name) was being changed by another thread when this process forked, so its state in the "
                        + "child process is undefined: destroy it here and build or load it again"
                }
                holder = 0
            }
            generation.store(now, ordering: .releasing)
        }
    }
}
