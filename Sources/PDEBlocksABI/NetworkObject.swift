import PDEBlocks

/// The object behind a `pdb_network *` handle: a network being built or trained, the
/// recorded forward pass of every thread that ran one (its *tape*), and the work memory the
/// passes reuse (so repeated passes with the same shapes allocate nothing).
///
/// - Calls on one handle are serialised by its `HandleLock`; a re-entrant call (from a
///   progress callback of a running call on the handle) throws `.busy`, and a handle
///   inherited by a fork() child works there (see `HandleLock`).
/// - Tapes are per thread: `pdb_network_backward` uses the tape of the last training
///   forward pass made *on the calling thread* (a progress callback counts as the thread of
///   the call it reports on), so forward/backward pairs of different threads on one handle
///   never mix. Any change of the structure or the parameters (by any thread) invalidates
///   every thread's tape (its memory is kept for that thread's next forward pass). A
///   thread's tape is freed when the thread exits (unless the handle is busy at that
///   moment; then when the handle is destroyed).
final class NetworkObject: @unchecked Sendable, ThreadExitObserver {
    /// A thread's tape and the network version it was recorded for (nil: not valid).
    struct RecordedPass {
        let tape: NetworkTape
        let version: UInt64?
    }

    struct State {
        var network: Network
        /// Per-thread tapes, by `ThreadIdentity` id.
        var tapes: [UInt64: RecordedPass] = [:]
        /// Incremented by every change of the structure or the parameters.
        private(set) var version: UInt64 = 0
        /// Work memory of every pass on this handle (one pass at a time: the lock).
        var workspace = NetworkWorkspace()

        init(network: Network) { self.network = network }

        /// Invalidates every thread's recorded pass (structure or parameters changed),
        /// keeping the tapes' memory.
        mutating func dropTapes() { version &+= 1 }
    }

    private let lock = HandleLock(name: "network")
    /// Guarded by `lock`.
    private var state: State

    init(_ network: Network) { state = State(network: network) }

    static let type = "network"

    static func get(_ handle: OpaquePointer?) throws -> NetworkObject {
        try Handles.get(handle, as: NetworkObject.self, type: type)
    }

    /// Runs `body` on the state (a short call: building, parameters, inspection).
    static func with<R>(_ handle: OpaquePointer?, _ body: (inout State) throws -> R) throws -> R {
        try get(handle).locked { s, _ in try body(&s) }
    }

    /// Runs `body` holding the lock; `body` marks its long, read-only part with
    /// `lock.enter(.compute)` (see `HandleLock`).
    func locked<R>(_ body: (inout State, HandleLock) throws -> R) throws -> R {
        try lock.withLock { note in
            if note.forked { recoverAfterFork(holderVanished: note.holderVanished) }
            return try body(&state, lock)
        }
    }

    /// First use in a fork() child: only the forking thread exists here, so the other
    /// threads' tapes go; a pass interrupted by the fork leaves the workspace in an unknown
    /// state, so it is replaced (and the old one leaked, never freed: its buffers may be
    /// half-replaced).
    private func recoverAfterFork(holderVanished: Bool) {
        if holderVanished {
            _ = Unmanaged.passRetained(state.workspace)
            state.workspace = NetworkWorkspace()
        }
        let survivor = ForkGeneration.survivor
        state.tapes = state.tapes.filter { $0.key == survivor }
    }

    func threadExited(_ id: UInt64) {
        guard let note = lock.tryLock(as: id) else { return }
        defer { lock.unlock() }
        if note.forked { recoverAfterFork(holderVanished: note.holderVanished) }
        state.tapes[id] = nil
    }

    /// `out = network(x)`; records the calling thread's tape unless `inference`.
    func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int,
        inference: Bool, progress: ProgressReporter?
    ) throws {
        try locked { s, lock in
            if inference {
                lock.enter(.compute)
                defer { lock.enter(.modify) }
                try s.network.infer(x, into: out, batch: batch, n: n, workspace: s.workspace, progress: progress)
                return
            }
            let record = ThreadIdentity.record
            let me = record.actingFor != 0 ? record.actingFor : record.id
            // Reuse this thread's previous tape (valid or not); a failed pass leaves no valid
            // tape (the old one's memory stays for the next pass unless the pass consumed it).
            var previous = s.tapes.removeValue(forKey: me)?.tape
            if previous == nil, me == record.id { record.observe(self) }
            lock.enter(.compute)
            do {
                let tape = try s.network.forward(
                    x, into: out, batch: batch, n: n, reusing: &previous, workspace: s.workspace, progress: progress)
                lock.enter(.modify)
                s.tapes[me] = RecordedPass(tape: tape, version: s.version)
            } catch {
                lock.enter(.modify)
                if let previous { s.tapes[me] = RecordedPass(tape: previous, version: nil) }
                throw error
            }
        }
    }

    /// The backward pass of the calling thread's recorded forward pass.
    func backward(
        _ gradOut: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        gradParameters: UnsafeMutableBufferPointer<Double>, batch: Int, n: Int, progress: ProgressReporter?
    ) throws {
        try locked { s, lock in
            let record = ThreadIdentity.record
            let me = record.actingFor != 0 ? record.actingFor : record.id
            guard let recorded = s.tapes[me], recorded.version == s.version else {
                throw PDEBlocksError.invalidArgument(
                    "no recorded forward pass on this thread: call pdb_network_forward (without PDB_FORWARD_INFERENCE) "
                        + "on this thread after the last change of the network or its parameters")
            }
            let tape = recorded.tape
            guard tape.batch == batch, tape.n == n else {
                throw PDEBlocksError.invalidArgument(
                    "grad_out is (\(batch), \(n)) but this thread's last forward pass was (\(tape.batch), \(tape.n))")
            }
            lock.enter(.compute)
            defer { lock.enter(.modify) }
            try tape.backward(gradOut, gradIn: gradIn, gradParameters: gradParameters, progress: progress)
        }
    }

    /// Runs `body` on a copy of the network in the compute phase (long read-only work such
    /// as certificates), then lets `apply` store results in the modify phase.
    func computing<T, R>(_ body: (Network) throws -> T, then apply: (inout State, T) throws -> R) throws -> R {
        try locked { s, lock in
            lock.enter(.compute)
            let t: T
            do {
                t = try body(s.network)
            } catch {
                lock.enter(.modify)
                throw error
            }
            lock.enter(.modify)
            return try apply(&s, t)
        }
    }
}
