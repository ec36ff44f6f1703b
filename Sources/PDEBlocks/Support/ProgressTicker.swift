/// A worker's view of a `ProgressReporter`: counts finished units locally and hands them
/// to the shared counter in batches (so threads do not contend on it), and answers
/// whether to go on. Without a reporter every method is a single branch.
///
/// **Batches are measured in work, not in units.** A unit (a step, a sweep-filled
/// implicit step, a block of a network) may cost anything from a few samples to
/// millions, so the ticker also counts the *samples of work* done since the last
/// hand-over and hands over (which reads the clock and may consult the handler, whose
/// answer can cancel) once `ProgressReporter.samplesPerFlush` samples have been done —
/// whatever the number of units. A unit costs the `unitCost` given to `begin` unless the
/// caller says otherwise (`step(_:work:value:)`), and work done inside a unit is counted
/// with `work(_:)` (the implicit scheme: one call per fixed-point sweep). So the handler
/// is consulted at least every ~32 768 samples of work on each worker (subject to its
/// interval), and a cancel it asks for is honoured within that much more work (or at
/// the end of the current unit, when a unit cannot be split).
struct ProgressTicker {
    let progress: ProgressReporter?
    private var pending: Int64 = 0
    private var pendingWork = 0
    private var latest: Double = .nan
    private let unitCost: Int

    init(_ progress: ProgressReporter?) {
        self.progress = progress
        unitCost = progress?.unitCost ?? 1
    }

    /// Records `units` finished units of the `begin` cost each (with the latest `value`,
    /// NaN for none); returns false when the call has been cancelled (stop at this step
    /// boundary).
    @inline(__always)
    mutating func step(_ units: Int64 = 1, value: Double = .nan) -> Bool {
        guard progress != nil else { return true }
        let (w, overflow) = Int(truncatingIfNeeded: units).multipliedReportingOverflow(by: unitCost)
        return step(units, work: overflow ? Int.max : w, value: value)
    }

    /// Records `units` finished units that cost `samples` samples of work in all.
    @inline(__always)
    mutating func step(_ units: Int64, work samples: Int, value: Double = .nan) -> Bool {
        guard let progress else { return true }
        pending &+= units
        if !value.isNaN { latest = value }
        return add(samples, progress)
    }

    /// Records `samples` samples of work done inside the current unit (no unit finished);
    /// returns false when the call has been cancelled (stop at this point).
    @inline(__always)
    mutating func work(_ samples: Int) -> Bool {
        guard let progress else { return true }
        return add(samples, progress)
    }

    @inline(__always)
    private mutating func add(_ samples: Int, _ progress: ProgressReporter) -> Bool {
        let (w, overflow) = pendingWork.addingReportingOverflow(max(0, samples))
        pendingWork = overflow ? Int.max : w
        if pendingWork >= ProgressReporter.samplesPerFlush {
            progress.advance(pending, value: latest)
            pending = 0
            pendingWork = 0
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
        pendingWork = 0
        latest = .nan
    }
}
