import Dispatch
import Synchronization

/// Work for `WorkerPool.run`: `perform(index)` is called once for every index of the pass,
/// concurrently; the implementation guarantees that distinct indices touch disjoint memory.
protocol ParallelJob {
    func perform(_ index: Int)
}

/// Persistent worker threads for fork–join passes that must not allocate per call.
///
/// `DispatchQueue.concurrentPerform` allocates on every call (4 blocks for 2 iterations,
/// measured with an interposed malloc on Linux), and so does handing a non-escaping closure
/// to another thread (`withoutActuallyEscaping` heap-allocates the closure context), which a
/// training loop would pay per pass. This pool starts its threads once (the first time a
/// pass needs them: a set-up cost, never repeated), takes its work as a `ParallelJob` value
/// that stays on the caller's stack (workers reach it through a pointer), and hands it out
/// through one mutex and two condition variables: nothing is allocated per pass.
///
/// `run(width:)` calls `perform(i)` once for each `i` in `0..<width` and returns when all
/// have finished. The calling thread and width−1 workers claim indices from an atomic
/// counter, so a worker that the system schedules late does not hold the pass up (the
/// others take its indices). Which OS thread runs an index does not matter to the callers:
/// work and per-thread memory are assigned by index only, so results stay deterministic.
/// One pass uses the pool at a time; a pass that finds it busy (another thread's pass, or a
/// nested call) runs on `concurrentPerform` instead — correct, only not allocation-free. The
/// threads live as long as the process (like Dispatch's) and sleep on a condition variable
/// between passes; a child process after fork() starts with none (`pthread_atfork`).
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    /// Largest width served by the pool's threads; wider passes use `concurrentPerform`.
    static let maxWidth = 256

    // pthread objects need stable addresses: allocated once, never freed (the pool is a
    // process-lifetime singleton).
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let wake: UnsafeMutablePointer<pthread_cond_t>
    private let finished: UnsafeMutablePointer<pthread_cond_t>

    // Guarded by `mutex`.
    private var workers = 0
    private var generation: UInt64 = 0
    private var width = 0
    /// Indices of the current pass performed so far.
    private var completed = 0
    /// Workers holding the current pass's task (the pass ends only when none does).
    private var active = 0
    /// The current pass's work: an `any PoolTask` on the caller's stack.
    private var task: UnsafeRawPointer?

    /// The next index of the current pass to claim.
    private let next = Atomic<Int>(0)

    /// Set while a pass owns the pool.
    private let busy = Atomic<Bool>(false)

    private init() {
        mutex = .allocate(capacity: 1)
        wake = .allocate(capacity: 1)
        finished = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        // fork() copies this state but not the worker threads: a condition variable that had
        // waiters in the parent blocks pthread_cond_signal in the child forever (measured:
        // a multiprocessing-style child hung). The child starts over with no workers.
        pthread_atfork(nil, nil) { WorkerPool.shared.startOverInChild() }
    }

    /// After fork(), in the child (the only thread there): fresh synchronisation objects,
    /// no workers (they are started again when a pass needs them), no pass in progress.
    private func startOverInChild() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        workers = 0
        active = 0
        completed = 0
        width = 0
        task = nil
        busy.store(false, ordering: .relaxed)
    }

    /// Calls `job.perform(i)` for every `i` in `0..<width`, concurrently, and waits for all.
    func run<J: ParallelJob>(width: Int, _ job: J) {
        if width <= 1 {
            if width == 1 { job.perform(0) }
            return
        }
        guard width <= WorkerPool.maxWidth,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            WorkerPool.concurrently(width, job)
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        pthread_mutex_lock(mutex)
        while workers < width - 1 {
            guard spawn() else { break }
            workers += 1
        }
        guard workers >= width - 1 else {
            // The system refused a thread: fall back for this pass (the started ones stay).
            pthread_mutex_unlock(mutex)
            WorkerPool.concurrently(width, job)
            return
        }
        withUnsafePointer(to: job) { pointer in
            // One word (a pointer): fits an existential's inline buffer, so no box.
            var task: any PoolTask = Pointing(job: pointer)
            withUnsafeMutablePointer(to: &task) { task in
                self.task = UnsafeRawPointer(task)
                self.width = width
                completed = 0
                next.store(0, ordering: .relaxed)
                generation &+= 1
                // Wake width − 1 sleeping workers (not all: the pool may have more).
                for _ in 1..<width { pthread_cond_signal(wake) }
                pthread_mutex_unlock(mutex)
                var ran = 0
                while true {
                    let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < width else { break }
                    job.perform(i)
                    ran += 1
                }
                pthread_mutex_lock(mutex)
                completed += ran
                while completed < width || active > 0 { pthread_cond_wait(finished, mutex) }
                self.task = nil
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// The fallback: `concurrentPerform` (allocates per call).
    private static func concurrently<J: ParallelJob>(_ width: Int, _ job: J) {
        withUnsafePointer(to: job) { pointer in
            let task = UncheckedSendable<any PoolTask>(Pointing(job: pointer))
            DispatchQueue.concurrentPerform(iterations: width) { task.value.perform($0) }
        }
    }

    /// What a new worker needs: the pool and the generation it has seen.
    private struct Start {
        let pool: Unmanaged<WorkerPool>
        let generation: UInt64
    }

    /// Starts a worker (called with `mutex` held, so the worker cannot miss the next
    /// generation: it starts from the current one). False when the system refuses.
    private func spawn() -> Bool {
        let start = UnsafeMutablePointer<Start>.allocate(capacity: 1)
        start.initialize(to: Start(pool: Unmanaged.passUnretained(self), generation: generation))
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        #if canImport(Darwin)
        var thread: pthread_t? = nil
        #else
        var thread = pthread_t()
        #endif
        let status = pthread_create(&thread, &attributes, { raw in
            guard let raw else { return nil }
            let start = raw.assumingMemoryBound(to: Start.self)
            let s = start.pointee
            start.deinitialize(count: 1)
            start.deallocate()
            s.pool.takeUnretainedValue().work(seen: s.generation)
            return nil
        }, start)
        if status != 0 {
            start.deinitialize(count: 1)
            start.deallocate()
            return false
        }
        return true
    }

    /// A worker's loop: wait for a new generation, claim and perform indices of the pass
    /// while any are left, report them. Never returns. (Workers beyond a pass's width − 1
    /// that happen to be awake take part too, which is harmless.)
    private func work(seen initial: UInt64) {
        var seen = initial
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen { pthread_cond_wait(wake, mutex) }
            seen = generation
            // No task: the pass ended before this worker woke.
            guard let task else { continue }
            let width = self.width
            active += 1
            pthread_mutex_unlock(mutex)
            var ran = 0
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < width else { break }
                task.assumingMemoryBound(to: (any PoolTask).self).pointee.perform(i)
                ran += 1
            }
            pthread_mutex_lock(mutex)
            active -= 1
            completed += ran
            if completed >= width && active == 0 { pthread_cond_signal(finished) }
        }
    }
}

/// The type-erased view of a pass's job that workers call.
private protocol PoolTask {
    func perform(_ index: Int)
}

/// A job reached through a pointer (the job stays where the caller keeps it).
private struct Pointing<J: ParallelJob>: PoolTask {
    let job: UnsafePointer<J>
    func perform(_ index: Int) { job.pointee.perform(index) }
}
