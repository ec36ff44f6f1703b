/// A worker's view of a `ProgressReporter`: counts finished units locally and hands them
/// to the shared counter in batches (so threads do not contend on it), and answers
/// whether to go on. Without a reporter every method is a single branch.
struct ProgressTicker {
    let progress: ProgressReporter?
    private var pending: Int64 = 0
    private var latest: Double = .nan
    private let batch: Int64

    init(_ progress: ProgressReporter?) {
        self.progress = progress
        batch = progress?.flushUnits ?? 1
    }

    /// Records `units` finished units (with the latest `value`, NaN for none); returns
    /// false when the call has been cancelled (stop at this step boundary).
    @inline(__always)
    mutating func step(_ units: Int64 = 1, value: Double = .nan) -> Bool {
        guard let progress else { return true }
        pending &+= units
        if !value.isNaN { latest = value }
        if pending >= batch {
            progress.advance(pending, value: latest)
            pending = 0
            latest = .nan
        }
        return !progress.isCancelled
    }

    /// Whether the call has been cancelled (for checks inside a step, e.g. between sweeps).
    @inline(__always)
    var isCancelled: Bool { progress?.isCancelled ?? false }

    /// Hands over the units (and the value) not yet flushed; call when the worker stops.
    mutating func flush() {
        guard let progress, pending > 0 || !latest.isNaN else { return }
        progress.advance(pending, value: latest)
        pending = 0
        latest = .nan
    }
}
