import Foundation
import Synchronization
import Testing
@testable import PDEBlocksABI
import PDEBlocks

/// What the C callback saw, behind the `user_data` pointer.
final class CallbackRecord: @unchecked Sendable {
    var calls = 0
    var lastDone: Int64 = -1
    var lastTotal: Int64 = -1
    var totals: Set<Int64> = []
    var cancelAt = 0
}

/// A C function pointer: no captures, all state through `user_data`.
let recordProgress: pdb_progress_fn = { userData, done, total, _ in
    let record = Unmanaged<CallbackRecord>.fromOpaque(userData!).takeUnretainedValue()
    record.calls += 1
    record.lastDone = done
    record.lastTotal = total
    record.totals.insert(total)
    return record.calls == record.cancelAt ? 1 : 0
}

/// The `@_cdecl` progress entry point called as a C caller would. Every test installs and
/// removes its handler on its own thread (the handler is thread-local).
@Suite struct ProgressABITests {
    let w: [Double] = [-1, 1]

    func explicit(_ f: [Double], batch: Int64, n: Int64, steps: Int64, out: inout [Double]) -> Int32 {
        pdb_explicit(f, batch, n, w, 2, 0, DiffusivityKind.peronaMalik.rawValue, 0.5, 0.2, steps, 0, 0, nil, 0, &out)
    }

    @Test func reportsReachStepsTimesRowsThroughUserData() {
        let record = CallbackRecord()
        let (batch, n, steps): (Int64, Int64, Int64) = (3, 64, 40)
        let f = (0..<Int(batch * n)).map { sin(Double($0)) }
        var out = [Double](repeating: 0, count: f.count)
        var plain = out
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(record).toOpaque(), 0) == 0)
        let status = explicit(f, batch: batch, n: n, steps: steps, out: &out)
        #expect(pdb_set_progress(nil, nil, 0) == 0)
        #expect(status == 0)
        #expect(record.calls >= 1 && record.lastDone == batch * steps && record.totals == [batch * steps])
        #expect(explicit(f, batch: batch, n: n, steps: steps, out: &plain) == 0)
        #expect(out == plain)
    }

    @Test func aNonzeroReturnCancelsWithStatusMessageAndNoOutput() {
        let record = CallbackRecord()
        record.cancelAt = 1
        let (n, steps): (Int64, Int64) = (4096, 1_000_000)
        let f = (0..<Int(n)).map { Double($0 % 17) }
        var out = [Double](repeating: -3, count: f.count)
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(record).toOpaque(), 0) == 0)
        let status = explicit(f, batch: 1, n: n, steps: steps, out: &out)
        _ = pdb_set_progress(nil, nil, 0)
        #expect(status == Status.cancelled.rawValue)
        let message = String(cString: pdb_last_error())
        #expect(message.contains("cancelled by the progress callback after \(record.lastDone) of \(steps) steps·rows"))
        #expect(record.calls == 1 && record.lastDone * 1000 < steps)
        #expect(out.allSatisfy { $0 == -3 })
    }

    @Test func removingTheHandlerStopsReports() {
        let record = CallbackRecord()
        var out = [Double](repeating: 0, count: 8)
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(record).toOpaque(), 0) == 0)
        #expect(pdb_set_progress(nil, nil, .nan) == 0)  // removal ignores the interval
        #expect(explicit([1, 2, 3, 4, 5, 6, 7, 8], batch: 1, n: 8, steps: 5, out: &out) == 0)
        #expect(record.calls == 0)
    }

    @Test(arguments: [-1.0, -.infinity, .nan])
    func invalidIntervalsAreRefusedAndInstallNothing(interval: Double) {
        let record = CallbackRecord()
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(record).toOpaque(), interval)
            == Status.invalidArgument.rawValue)
        #expect(String(cString: pdb_last_error()).contains("interval_seconds"))
        var out = [Double](repeating: 0, count: 4)
        #expect(explicit([1, 2, 3, 4], batch: 1, n: 4, steps: 3, out: &out) == 0)
        #expect(record.calls == 0)
    }

    @Test func aHandlerIsSeenOnlyByCallsOnItsOwnThread() {
        let mine = CallbackRecord(), theirs = CallbackRecord()
        let f = (0..<64).map { Double($0 % 5) }
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(mine).toOpaque(), 0) == 0)
        defer { _ = pdb_set_progress(nil, nil, 0) }
        let box = UncheckedBox(theirs)
        let statuses = StatusBox()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            var out = [Double](repeating: 0, count: 64)
            // no handler on this thread: mine must not be called
            let a = pdb_explicit(f, 1, 64, [-1, 1], 2, 0, 1, 0.5, 0.2, 30, 0, 0, nil, 0, &out)
            // its own handler
            let b = pdb_set_progress(recordProgress, Unmanaged.passUnretained(box.value).toOpaque(), 0)
            let c = pdb_explicit(f, 1, 64, [-1, 1], 2, 0, 1, 0.5, 0.2, 30, 0, 0, nil, 0, &out)
            _ = pdb_set_progress(nil, nil, 0)
            statuses.values = [a, b, c]
            finished.signal()
        }
        thread.start()
        finished.wait()
        #expect(statuses.values == [0, 0, 0])
        #expect(mine.calls == 0)
        #expect(theirs.calls >= 1 && theirs.lastDone == 30)
        // and the handler still works on this thread
        var out = [Double](repeating: 0, count: 64)
        #expect(explicit(f, batch: 1, n: 64, steps: 12, out: &out) == 0)
        #expect(mine.calls >= 1 && mine.lastDone == 12)
    }

    @Test func solverEntryPointsReportAndCancelWithoutWritingX() {
        let n: Int64 = 255
        var band = [Double](repeating: 0, count: Int(n) * 3)
        #expect(pdb_poisson_1d(n, 1, &band) == 0)
        var handle: OpaquePointer? = nil
        #expect(pdb_mg_create(n, 1, 1, band, 1, 1, 0, 2, 2, 0, 0, 3, 0, &handle) == 0)
        defer { _ = pdb_mg_destroy(handle) }
        let b = [Double](repeating: 1, count: Int(n))
        var x = [Double](repeating: 5, count: Int(n))
        var cycles: Int64 = 0, iterations: Int64 = 0
        var converged: Int32 = 0
        var factor = 0.0
        let record = CallbackRecord()
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(record).toOpaque(), 0) == 0)
        defer { _ = pdb_set_progress(nil, nil, 0) }
        #expect(pdb_mg_solve(handle, b, nil, n, 1e-10, 100, &x, nil, 0, &cycles, &converged, &factor) == 0)
        #expect(converged == 1 && record.lastDone == cycles && record.lastTotal == cycles)
        let cgRecord = CallbackRecord()
        cgRecord.cancelAt = 1
        #expect(pdb_set_progress(recordProgress, Unmanaged.passUnretained(cgRecord).toOpaque(), 0) == 0)
        var y = [Double](repeating: 5, count: Int(n))
        #expect(pdb_cg(n, 1, 1, band, b, nil, nil, 1e-14, 1000, &y, nil, 0, &iterations, &converged)
            == Status.cancelled.rawValue)
        #expect(y.allSatisfy { $0 == 5 })
        #expect(String(cString: pdb_last_error()).contains("conjugate gradients: cancelled"))
    }
}

/// Statuses from another thread (read after a semaphore wait).
final class StatusBox: @unchecked Sendable { var values: [Int32] = [] }

/// Hands a non-Sendable reference to another thread in a test.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
