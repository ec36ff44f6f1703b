import Synchronization

/// Progress reports and cancellation for one long-running call (an evolution, a solve,
/// a network pass). Pass it as the `progress:` argument; `nil` (the default) costs one
/// branch per step.
///
/// **Work units.** A call sets `total` when it starts and counts `done` up to it. The
/// units are the call's natural steps, summed over the rows of a batch:
///
/// | call | unit | `total` | `value` |
/// |---|---|---|---|
/// | `Explicit.evolve` | step·row | `steps·batch` | NaN |
/// | `FSI.evolve`, `FED.evolve` | inner step (block evaluation)·row | `cycles·L·batch` | NaN |
/// | `Implicit.evolve` | time step·row | `steps·batch` | the last step's final fixed-point update |
/// | `Evolve.run` | that of the scheme it runs | | |
/// | `SemiImplicit.evolve` | step·row | `steps·batch` | multigrid: the last step's relative residual; direct: NaN |
/// | `Multigrid.solve` | cycle | `maxCycles` (an upper bound) | relative residual `‖b − Ax‖/‖b‖` |
/// | `ConjugateGradient.solve` | iteration | `maxIterations` (an upper bound) | relative residual |
/// | `Network.forward`, `.infer`, `NetworkTape.backward` | block·row | `blocks·batch` | NaN |
///
/// `total` is −1 when the count does not fit an `Int64`. Iterative solves end early when
/// they converge; their last report sets `total = done`, so every completed call ends
/// with a report of `done == total`.
///
/// **Reports.** The handler is called with `(done, total, value)` at most once per
/// `interval` seconds while the call runs, and once at the end. It may be called from a
/// worker thread of the library, but never concurrently with itself (successive calls
/// are ordered: state the handler keeps needs no lock of its own). It must not call
/// back into the library on the same object (a network handle is locked while it runs).
///
/// **Cancellation.** Returning `true` from the handler, or calling `cancel()` from any
/// thread, cancels: the call stops at the next step boundary (every worker checks a flag
/// between steps; between sweeps and cycles for the iterative schemes) and throws
/// `PDEBlocksError.cancelled`, whose message says how much work was done. Outputs are
/// left unchanged: with a reporter, a call computes into scratch memory of its output's
/// size and copies the result out only when it completes. The exception is the
/// `history` buffer of the evolutions, which receives the states recorded before the
/// cancellation (slots of later states keep their contents). A `true` returned from
/// the final report also cancels. A cancelled reporter stays cancelled; use a new one
/// per call (sequential reuse of one that was not cancelled is fine: each call resets
/// the counts).
///
/// **Cost and granularity.** Workers count units in a local variable and add them to the
/// shared atomic counter once per ~32 768 samples of *work* (or at the end of a row),
/// reading the monotonic clock only then; the handler (at most once per `interval`) is
/// consulted only at these hand-overs. Work, not units, sets their pace: an implicit
/// step counts its sweeps·n, a network block its filters·taps·n (times its inner steps),
/// so a cancel asked for by the handler is honoured after a bounded amount of work
/// whatever the size of a unit (see `ProgressTicker`). The cancellation check between
/// steps is one relaxed atomic load.
///
/// (Named `ProgressReporter` rather than `Progress` so that it does not clash with
/// Foundation's `Progress` in files that import both modules.)
public final class ProgressReporter: Sendable {
    /// `(done, total, value) -> cancel?`.
    public typealias Handler = @Sendable (_ done: Int64, _ total: Int64, _ value: Double) -> Bool

    private let handler: Handler
    private let intervalNanos: UInt64
    private let doneUnits = Atomic<Int64>(0)
    private let totalUnits = Atomic<Int64>(-1)
    private let cancelFlag = Atomic<Bool>(false)
    private let reporting = Atomic<Bool>(false)
    private let deadline = Atomic<UInt64>(0)
    private let latestValue = Atomic<UInt64>(Double.nan.bitPattern)
    private let unitCostSamples = Atomic<Int>(1)

    /// The minimum time between two reports, in seconds (the final report excepted).
    public let interval: Double

    /// - Parameters:
    ///   - interval: seconds between reports, ≥ 0 (a negative or NaN value means 0; `.infinity`
    ///     gives only the final report).
    ///   - handler: called with `(done, total, value)`; returning `true` cancels.
    public init(interval: Double = 0.1, _ handler: @escaping Handler) {
        let seconds = interval >= 0 ? interval : 0  // NaN and negatives: 0
        self.interval = seconds
        self.handler = handler
        let nanos = seconds * 1e9
        intervalNanos = nanos < 1.8e19 ? UInt64(nanos) : UInt64.max
    }

    /// Units of work completed so far in the current (or last) call.
    public var done: Int64 { doneUnits.load(ordering: .relaxed) }
    /// The current (or last) call's total units (−1: unknown).
    public var total: Int64 { totalUnits.load(ordering: .relaxed) }
    /// Whether the handler asked to cancel, or `cancel()` was called.
    public var isCancelled: Bool { cancelFlag.load(ordering: .relaxed) }

    /// Cancels the call this reporter is passed to (safe from any thread, also before the
    /// call starts: it then stops before its first step).
    public func cancel() { cancelFlag.store(true, ordering: .relaxed) }

    // MARK: - Used by the library's loops

    /// Starts a call: `total` units (−1 unknown), each worth about `unitCost` samples of
    /// work (sets how often workers flush their local counts).
    package func begin(total: Int64, unitCost: Int) {
        doneUnits.store(0, ordering: .relaxed)
        totalUnits.store(total, ordering: .relaxed)
        latestValue.store(Double.nan.bitPattern, ordering: .relaxed)
        unitCostSamples.store(max(1, unitCost), ordering: .relaxed)
        deadline.store(ProgressReporter.now().addingSaturated(intervalNanos), ordering: .relaxed)
    }

    /// `begin` with `total = a·b`, or −1 when that overflows.
    package func begin(_ a: Int, times b: Int, unitCost: Int) {
        let (t, overflow) = a.multipliedReportingOverflow(by: b)
        begin(total: overflow || t < 0 ? -1 : Int64(t), unitCost: unitCost)
    }

    /// Work (in samples) a worker does between two flushes of its local count (each of
    /// which may consult the handler): the bound on the work between two consultations.
    static let samplesPerFlush = 1 << 15

    /// The samples of work one unit costs, as given to `begin` (`ProgressTicker`).
    var unitCost: Int { unitCostSamples.load(ordering: .relaxed) }

    /// Adds `units` to `done` (and `value`, unless NaN, as the latest figure) and reports
    /// if the interval has passed and no other thread is reporting.
    package func advance(_ units: Int64, value: Double = .nan) {
        doneUnits.wrappingAdd(units, ordering: .relaxed)
        if !value.isNaN { latestValue.store(value.bitPattern, ordering: .relaxed) }
        let now = ProgressReporter.now()
        guard now >= deadline.load(ordering: .relaxed) else { return }
        guard reporting.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { reporting.store(false, ordering: .releasing) }
        guard now >= deadline.load(ordering: .relaxed), !isCancelled else { return }
        let stop = handler(done, total, Double(bitPattern: latestValue.load(ordering: .relaxed)))
        deadline.store(ProgressReporter.now().addingSaturated(intervalNanos), ordering: .relaxed)
        if stop { cancel() }
    }

    /// Ends a call after all workers have stopped: throws `.cancelled` (naming `operation`
    /// and how many `units` were done) if the call was cancelled; otherwise makes the
    /// final report (with `total = done` when `completeTotal`, for solves that stop
    /// early), which may itself cancel.
    package func finish(_ operation: String, units: String, value: Double = .nan, completeTotal: Bool = false) throws {
        if !value.isNaN { latestValue.store(value.bitPattern, ordering: .relaxed) }
        if !isCancelled {
            if completeTotal { totalUnits.store(done, ordering: .relaxed) }
            while !reporting.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {}
            let stop = handler(done, total, Double(bitPattern: latestValue.load(ordering: .relaxed)))
            reporting.store(false, ordering: .releasing)
            if stop { cancel() }
        }
        if isCancelled {
            let of = total >= 0 ? " of \(total)" : ""
            throw PDEBlocksError.cancelled("\(operation): cancelled by the progress callback after \(done)\(of) \(units)")
        }
    }

    /// Runs `body` on `out` itself when there is no reporter; with one, on scratch memory
    /// of the same size that is copied into `out` only when `body` returns, so that a
    /// cancelled call leaves `out` unchanged. One allocation per call, none without a reporter
    /// (`.outOfMemory` when it fails).
    static func staged<R>(
        _ out: UnsafeMutableBufferPointer<Double>, _ progress: ProgressReporter?,
        _ body: (UnsafeMutableBufferPointer<Double>) throws -> R
    ) throws -> R {
        guard progress != nil, !out.isEmpty else { return try body(out) }
        // Doubles are trivial: the callers write every element before it is read or copied.
        let scratch = try Memory.buffer(out.count, for: "the staged output (progress reporting)")
        defer { scratch.deallocate() }
        let result = try body(scratch)
        _ = out.update(fromContentsOf: scratch)
        return result
    }

    /// Monotonic time in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

extension UInt64 {
    fileprivate func addingSaturated(_ other: UInt64) -> UInt64 {
        let (s, o) = addingReportingOverflow(other)
        return o ? .max : s
    }
}
