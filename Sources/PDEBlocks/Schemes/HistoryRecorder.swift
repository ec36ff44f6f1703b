/// Records every k-th state of an evolution into a caller's `(R, batch, n)` buffer,
/// `R = steps / every + 1` (states 0, every, 2·every, …). `every = 0` records nothing.
struct HistoryRecorder {
    let buffer: UnsafeMutableBufferPointer<Double>?
    let every: Int
    let batch: Int
    let n: Int

    /// Validates the buffer's size; throws before anything is written.
    init(_ buffer: UnsafeMutableBufferPointer<Double>?, every: Int, steps: Int, batch: Int, n: Int) throws {
        try Check.atLeast(every, 0, "record_every")
        self.every = every
        self.batch = batch
        self.n = n
        if every > 0 {
            // Overflow-checked: hostile `steps`/sizes must throw, not trap.
            let (records, o0) = (steps / every).addingReportingOverflow(1)
            let (rows, o1) = records.multipliedReportingOverflow(by: batch)
            let (expected, o2) = rows.multipliedReportingOverflow(by: n)
            guard !o0, !o1, !o2 else {
                throw PDEBlocksError.invalidArgument("history of (steps/record_every + 1)·batch·n values overflows")
            }
            guard let buffer, buffer.count == expected else {
                throw PDEBlocksError.invalidArgument(
                    "history must hold (steps/record_every + 1)·batch·n = \(expected) values, got \(buffer?.count ?? 0)")
            }
            self.buffer = buffer
        } else {
            self.buffer = nil
        }
    }

    private init(buffer: UnsafeMutableBufferPointer<Double>?, every: Int, batch: Int, n: Int) {
        (self.buffer, self.every, self.batch, self.n) = (buffer, every, batch, n)
    }

    /// Runs `body` with this recorder, or — when `staging` and recording — with one that
    /// records into scratch memory, copied to the caller's buffer only when `body` returns
    /// (so a call that throws, e.g. on a non-finite result, leaves the history unchanged).
    func staged<R>(_ staging: Bool, _ body: (HistoryRecorder) throws -> R) rethrows -> R {
        guard staging, let buffer, !buffer.isEmpty else { return try body(self) }
        let scratch = UnsafeMutableBufferPointer<Double>.allocate(capacity: buffer.count)
        defer { scratch.deallocate() }
        scratch.initialize(repeating: 0)
        let result = try body(HistoryRecorder(buffer: scratch, every: every, batch: batch, n: n))
        _ = buffer.update(fromContentsOf: scratch)
        return result
    }

    /// Whether states are recorded at all.
    var isRecording: Bool { buffer != nil }

    /// Number of recorded states.
    static func records(steps: Int, every: Int) -> Int { every > 0 ? steps / every + 1 : 0 }

    @inline(__always)
    func record(_ state: UnsafeMutableBufferPointer<Double>, step: Int, signal b: Int) {
        record(UnsafeBufferPointer(state), step: step, signal: b)
    }

    @inline(__always)
    func record(_ state: UnsafeBufferPointer<Double>, step: Int, signal b: Int) {
        guard let buffer, step % every == 0 else { return }
        (buffer.baseAddress! + ((step / every) * batch + b) * n).update(from: state.baseAddress!, count: n)
    }
}
