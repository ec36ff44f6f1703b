import Synchronization

/// Reusable work memory of network passes (`Network.forward`, `.infer`,
/// `NetworkTape.backward`): per-thread scratch (of an inference pass: its signals too) and
/// the per-chunk parameter gradients of a backward pass.
///
/// Buffers grow to the largest shape seen (batch, n, thread count, parameter count) and are
/// then reused, so repeated passes with the same shapes allocate nothing. A workspace serves
/// one pass at a time: a pass that finds it in use (a concurrent call from another thread)
/// runs on temporary memory instead, so sharing one is always safe. Contents between passes
/// are unspecified; the passes write every value before reading it.
public final class NetworkWorkspace: @unchecked Sendable {
    // Mutated only by the pass that holds `busy`.
    private var scratch = GrowableBuffer()
    private var grads = GrowableBuffer()
    private var staging = GrowableBuffer()
    private let busy = Atomic<Bool>(false)

    public init() {}

    /// Runs `body` on `workspace` when given and free, otherwise on a new temporary one.
    static func use<R>(_ workspace: NetworkWorkspace?, _ body: (NetworkWorkspace) throws -> R) rethrows -> R {
        if let workspace, workspace.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            defer { workspace.busy.store(false, ordering: .releasing) }
            return try body(workspace)
        }
        return try body(NetworkWorkspace())
    }

    /// `count` values of per-thread scratch (valid until the next request of this kind).
    /// Each request throws `.outOfMemory` when the buffer must grow and cannot.
    func scratch(_ count: Int) throws -> UnsafeMutableBufferPointer<Double> { try scratch.reserve(count, for: "network scratch memory") }
    /// `count` values for per-chunk parameter gradients.
    func grads(_ count: Int) throws -> UnsafeMutableBufferPointer<Double> { try grads.reserve(count, for: "per-chunk parameter gradients") }

    /// Runs `body` (a pass writing every value of its output) on a staging buffer of
    /// `out`'s size and commits the result to `out` only when every value is finite: a pass
    /// over finite input whose values overflow (e.g. a ReLU block on ±1e308) throws
    /// `.nonFinite` naming `what` and the first non-finite (row, column), with `out`
    /// unchanged. Cancellation likewise leaves `out` unchanged. The staging buffer is kept,
    /// so steady-state passes still allocate nothing; the cost is one copy and one scan.
    func stagedFinite(
        _ out: UnsafeMutableBufferPointer<Double>, n: Int, what: String,
        _ body: (UnsafeMutableBufferPointer<Double>) throws -> Void
    ) throws {
        guard !out.isEmpty else { return try body(out) }
        let stage = try staging.reserve(out.count, for: "the staged network output")
        try body(stage)
        try FiniteResult.require(UnsafeBufferPointer(stage), n: n, what: what) {
            "overflow — a block's values exceed double precision (1.8e308); scale the input down "
                + "or check the block's weights"
        }
        _ = out.update(fromContentsOf: stage)
    }

    deinit {
        scratch.release()
        grads.release()
        staging.release()
    }
}

/// A zero-initialised float64 buffer that is reallocated only when a larger one is needed.
struct GrowableBuffer {
    private var buffer = UnsafeMutableBufferPointer<Double>(start: nil, count: 0)

    /// The first `count` values (count ≥ 0), growing the buffer if it is smaller.
    /// Throws `.outOfMemory` (keeping no buffer) when a larger one cannot be allocated.
    mutating func reserve(_ count: Int, for what: @autoclosure () -> String) throws -> UnsafeMutableBufferPointer<Double> {
        if buffer.count < count {
            release()
            buffer = try Memory.buffer(count, for: what())
            buffer.initialize(repeating: 0)
        }
        return UnsafeMutableBufferPointer(rebasing: buffer[0..<count])
    }

    mutating func release() {
        buffer.deallocate()
        buffer = UnsafeMutableBufferPointer(start: nil, count: 0)
    }
}
