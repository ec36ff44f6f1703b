#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Counts the fork()s this process descends from, so that a handle lock can tell that it
/// was inherited from a parent process: fork() copies a lock's memory (possibly held, or
/// with waiters) but only the forking thread. Each `HandleLock` remembers the generation
/// its pthread objects belong to and repairs itself on first use in a child
/// (`HandleLock.fixUpAfterFork`), under `fixUp`, which the child re-creates.
enum ForkGeneration {
    /// Incremented in every child process, before fork() returns there.
    static let current = Atomic<UInt64>(0)

    /// The identity (`ThreadIdentity`) of the thread that called fork(), the only thread
    /// of the child at its start; 0 if it never used a handle. Written only by the child's
    /// atfork handler, before any other thread of the child exists.
    nonisolated(unsafe) private(set) static var survivor: UInt64 = 0

    /// Serialises the repairs after a fork (never held across other locks' waits).
    nonisolated(unsafe) private static let fixUp: UnsafeMutablePointer<pthread_mutex_t> = {
        let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(m, nil)
        pthread_atfork(nil, nil) { ForkGeneration.childAfterFork() }
        return m
    }()

    /// Installs the atfork handler (call before the first lock is used; idempotent).
    static func install() { _ = fixUp }

    /// Runs `body` holding the repair mutex.
    static func repairing(_ body: () -> Void) {
        pthread_mutex_lock(fixUp)
        defer { pthread_mutex_unlock(fixUp) }
        body()
    }

    private static func childAfterFork() {
        pthread_mutex_init(fixUp, nil)
        survivor = ThreadIdentity.existing
        current.add(1, ordering: .releasing)
    }
}
