/// Keeps fork() out of the critical sections of every `ForkSafeMutex`, so that a child
/// process inherits each of them unlocked, without waiters, and with a consistent value.
///
/// Every critical section holds the gate for reading (`enter`/`leave`: one atomic
/// increment and decrement of a shared counter, no allocation); a `pthread_atfork` prepare
/// handler takes it for writing, which waits until no critical section is running in any
/// thread and keeps new ones from starting until fork() has copied the process. The parent
/// then releases it; the child, whose only thread is the forking one, re-creates it.
///
/// fork() waits as long as the critical sections running at that moment: they must be
/// short, never wait for another thread, never enter the gate twice (a writer-preferring
/// lock, as on some platforms, would then deadlock against a pending fork) and never call
/// fork() (the prepare handler would wait for its own caller).
enum ForkGate {
    /// Never freed (process lifetime); a stable address for the pthread object.
    nonisolated(unsafe) private static let gate: UnsafeMutablePointer<pthread_rwlock_t> = {
        let g = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        pthread_rwlock_init(g, nil)
        pthread_atfork(
            { pthread_rwlock_wrlock(ForkGate.gate) },
            { pthread_rwlock_unlock(ForkGate.gate) },
            { pthread_rwlock_init(ForkGate.gate, nil) })
        return g
    }()

    /// Installs the atfork handlers (idempotent; before the first critical section).
    static func install() { _ = gate }

    /// Starts a critical section (waits while a fork() is copying the process).
    @inline(__always)
    static func enter() { pthread_rwlock_rdlock(gate) }

    /// Ends a critical section.
    @inline(__always)
    static func leave() { pthread_rwlock_unlock(gate) }
}
