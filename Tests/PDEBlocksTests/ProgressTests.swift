import Foundation
import Synchronization
import Testing
@testable import PDEBlocks

/// The reports a handler received, in order, with the time of each.
final class ReportLog: Sendable {
    struct Report: Sendable { let done: Int64, total: Int64, value: Double, time: UInt64 }
    private let reports = Mutex<[Report]>([])
    /// Cancel at the k-th report (1-based); 0 never.
    let cancelAt: Int
    init(cancelAt: Int = 0) { self.cancelAt = cancelAt }

    func reporter(interval: Double = 0) -> ProgressReporter {
        ProgressReporter(interval: interval) { done, total, value in
            let count = self.reports.withLock { r -> Int in
                r.append(Report(done: done, total: total, value: value, time: ProgressReporter.now()))
                return r.count
            }
            return count == self.cancelAt
        }
    }

    var all: [Report] { reports.withLock { $0 } }
}

/// Runs `Explicit.evolve` on arrays with a reporter; `out` starts as `initial`.
func explicitWithProgress(
    _ f: [Double], batch: Int, n: Int, steps: Int, tau: Double = 0.2, progress: ProgressReporter?,
    initial: Double = 0
) -> (out: [Double], error: Error?) {
    let K = try! Stencil(weights: [-1, 1], offset: 0)
    let g = try! Diffusivity(.peronaMalik, lambda: 0.5)
    var out = [Double](repeating: initial, count: f.count)
    let failure = thrown {
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try Explicit.evolve(fb, into: ob, batch: batch, n: n, stencil: K, diffusivity: g, tau: tau, steps: steps,
                                    progress: progress)
            }
        }
    }
    return (out, failure)
}

/// The error `body` throws, or nil.
func thrown(_ body: () throws -> Void) -> Error? {
    do { try body() } catch { return error }
    return nil
}

func isCancellation(_ error: Error?) -> Bool {
    if case .cancelled(let message)? = error as? PDEBlocksError { return message.contains("cancelled by the progress callback") }
    return false
}

@Suite struct ProgressTests {
    @Test func explicitReportsCountStepsTimesRowsUpToTotalAndDoNotChangeTheResult() {
        var rng = TestRandom(seed: 41)
        let (batch, n, steps) = (3, 40, 50)
        let f = rng.normals(batch * n)
        let log = ReportLog()
        let with = explicitWithProgress(f, batch: batch, n: n, steps: steps, progress: log.reporter())
        let without = explicitWithProgress(f, batch: batch, n: n, steps: steps, progress: nil)
        #expect(with.error == nil)
        #expect(with.out == without.out)
        let reports = log.all
        #expect(reports.last?.done == Int64(batch * steps))
        #expect(reports.allSatisfy { $0.total == Int64(batch * steps) && $0.value.isNaN })
        #expect(zip(reports, reports.dropFirst()).allSatisfy { $0.done <= $1.done })
    }

    @Test func intervalInfinityGivesExactlyTheFinalReport() {
        let log = ReportLog()
        let f = [Double](repeating: 0.5, count: 2 * 64)
        _ = explicitWithProgress(f, batch: 2, n: 64, steps: 300, progress: log.reporter(interval: .infinity))
        #expect(log.all.map(\.done) == [600])
    }

    @Test func reportsBeforeTheFinalOneAreAtLeastTheIntervalApart() {
        let interval = 0.01
        let log = ReportLog()
        var rng = TestRandom(seed: 42)
        let n = 1024
        let reporter = log.reporter(interval: interval)
        let start = ProgressReporter.now()
        _ = explicitWithProgress(rng.normals(n), batch: 1, n: n, steps: 150, progress: reporter)
        let reports = log.all
        let gap = UInt64(interval * 1e9)
        // the first report comes no sooner than one interval after the start
        #expect(reports.count >= 1)
        if reports.count > 1 { #expect(reports[0].time - start >= gap) }
        let regular = reports.dropLast()
        #expect(zip(regular, regular.dropFirst()).allSatisfy { $1.time - $0.time >= gap })
    }

    @Test func cancellingAtTheFirstReportStopsWithinAFlushAndLeavesTheOutputUnchanged() {
        var rng = TestRandom(seed: 43)
        let (n, steps) = (4096, 100_000)
        let f = rng.normals(n)
        let log = ReportLog(cancelAt: 1)
        let reporter = log.reporter()
        let run = explicitWithProgress(f, batch: 1, n: n, steps: steps, progress: reporter, initial: -7)
        #expect(isCancellation(run.error))
        #expect(run.out.allSatisfy { $0 == -7 })
        let first = log.all.first!.done
        // one row: the worker stops at the step boundary right after the report
        #expect(reporter.done == first)
        #expect(reporter.done * 1000 < Int64(steps))
        #expect(log.all.count == 1)  // no report after cancelling, no final report
        #expect((run.error as? PDEBlocksError)?.message.contains("after \(first) of \(steps) steps·rows") == true)
    }

    @Test func cancellingABatchStopsEveryWorkerAndLeavesInPlaceInputUnchanged() throws {
        var rng = TestRandom(seed: 44)
        let (batch, n, steps) = (8, 2048, 20_000)
        var u = rng.normals(batch * n)
        let original = u
        let log = ReportLog(cancelAt: 1)
        let reporter = log.reporter()
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.charbonnier, lambda: 1)
        let failure = thrown {
            try u.withUnsafeMutableBufferPointer { ub in
                try Explicit.evolve(UnsafeBufferPointer(ub), into: ub, batch: batch, n: n, stencil: K, diffusivity: g,
                                    tau: 0.2, steps: steps, progress: reporter)
            }
        }
        #expect(isCancellation(failure))
        #expect(u == original)  // out == f: nothing written
        #expect(reporter.done * 100 < Int64(batch * steps))
    }

    @Test func aReporterCancelledBeforeTheCallStopsBeforeTheFirstStep() {
        let log = ReportLog()
        let reporter = log.reporter()
        reporter.cancel()
        let run = explicitWithProgress([1, 2, 3, 4], batch: 1, n: 4, steps: 10, progress: reporter, initial: 5)
        #expect(isCancellation(run.error))
        #expect(reporter.done == 0 && log.all.isEmpty)
        #expect(run.out == [5, 5, 5, 5])
    }

    @Test func theHandlerIsNeverCalledConcurrently() {
        let inside = Atomic<Bool>(false)
        let overlaps = Atomic<Int>(0)
        let calls = Atomic<Int>(0)
        let reporter = ProgressReporter(interval: 0) { _, _, _ in
            if !inside.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
                overlaps.add(1, ordering: .relaxed)
            }
            calls.add(1, ordering: .relaxed)
            usleep(200)  // widen the window in which a second worker could enter
            inside.store(false, ordering: .releasing)
            return false
        }
        var rng = TestRandom(seed: 45)
        // large enough for two workers (Parallelism.forEachRow) on a machine with two processors
        let (batch, n, steps) = (16, 2048, 10)
        let run = explicitWithProgress(rng.normals(batch * n), batch: batch, n: n, steps: steps, progress: reporter)
        #expect(run.error == nil)
        #expect(calls.load(ordering: .relaxed) > 1)
        #expect(overlaps.load(ordering: .relaxed) == 0)
        #expect(reporter.done == Int64(batch * steps))
    }

    @Test func fsiAndFedCountInnerStepsAndMatchTheirResultsWithout() throws {
        var rng = TestRandom(seed: 46)
        let (batch, n, L, cycles) = (2, 30, 6, 4)
        let f = rng.normals(batch * n)
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.peronaMalik, lambda: 0.7)
        for scheme in [Scheme.fsi, .fed] {
            var results: [[Double]] = []
            let log = ReportLog()
            for progress in [nil, log.reporter()] {
                var out = [Double](repeating: 0, count: f.count)
                try f.withUnsafeBufferPointer { fb in
                    try out.withUnsafeMutableBufferPointer { ob in
                        if scheme == .fsi {
                            try FSI.evolve(fb, into: ob, batch: batch, n: n, stencil: K, diffusivity: g, tau: 0.2,
                                           cycleLength: L, cycles: cycles, progress: progress)
                        } else {
                            try FED.evolve(fb, into: ob, batch: batch, n: n, stencil: K, diffusivity: g, tauMax: 0.2,
                                           cycleLength: L, cycles: cycles, progress: progress)
                        }
                    }
                }
                results.append(out)
            }
            #expect(results[0] == results[1])
            let units = Int64(batch * L * cycles)
            let last = try #require(log.all.last)
            #expect(last.done == units && last.total == units)
        }
    }

    @Test func implicitReportsTheLastStepsFinalUpdate() throws {
        let n = 50
        let f = (0..<n).map { $0 < n / 2 ? 0.0 : 1.0 }
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.linear, lambda: 1)
        let log = ReportLog()
        var out = [Double](repeating: 0, count: n)
        let report = try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                try Implicit.evolve(fb, into: ob, batch: 1, n: n, stencil: K, diffusivity: g, tau: 0.1, steps: 7,
                                    iterations: 60, tolerance: 1e-12, progress: log.reporter())
            }
        }
        let last = try #require(log.all.last)
        #expect(last.done == 7 && last.total == 7)
        // the update of the last step's last sweep: within tolerance, at most the largest one
        #expect(last.value > 0 && last.value <= 1e-12 && last.value <= report.residual)
    }

    @Test func evolveToTimeZeroMakesOneFinalReportOfZeroUnits() throws {
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.linear, lambda: 1)
        let log = ReportLog()
        let (u, _) = try Evolve.run([1, 2, 3], stencil: K, diffusivity: g, time: 0, scheme: .explicit,
                                    progress: log.reporter())
        #expect(u == [1, 2, 3])
        #expect(log.all.map { [$0.done, $0.total] } == [[0, 0]])
    }

    @Test func multigridSolveReportsCyclesWithTheRelativeResidualAndCompletesTheTotal() throws {
        let A = try BandedMatrix.poisson1D(n: 1023)
        let mg = try Multigrid(A)
        let b = (0..<A.n).map { sin(Double($0)) }
        let log = ReportLog()
        let (x, report) = try mg.solve(b, tolerance: 1e-9, maxCycles: 50, progress: log.reporter())
        let (plain, _) = try mg.solve(b, tolerance: 1e-9, maxCycles: 50)
        #expect(x == plain)
        let reports = log.all
        let final = try #require(reports.last)
        #expect(final.done == Int64(report.iterations) && final.total == final.done)
        #expect(reports.count > 2)
        for r in reports.dropLast() {
            #expect(r.total == 50)
            // the value is ‖r_k‖/‖b‖ of the cycle counted last
            #expect(abs(r.value - report.residuals[Int(r.done)] / report.reference) <= 1e-15 * r.value)
        }
        #expect(abs(final.value - report.residuals.last! / report.reference) <= 1e-15 * final.value)
    }

    @Test func cancelledSolvesLeaveXUnchanged() throws {
        let A = try BandedMatrix.poisson1D(n: 127)
        let b = [Double](repeating: 1, count: A.n)
        let mg = try Multigrid(A)
        var x = [Double](repeating: 3, count: A.n)
        for solver in ["multigrid", "cg"] {
            let log = ReportLog(cancelAt: 1)
            let failure = thrown {
                try b.withUnsafeBufferPointer { bb in
                    try x.withUnsafeMutableBufferPointer { xb in
                        if solver == "multigrid" {
                            _ = try mg.solve(bb, initialGuess: UnsafeBufferPointer(xb), into: xb, tolerance: 1e-12,
                                             maxCycles: 100, progress: log.reporter())
                        } else {
                            _ = try ConjugateGradient.solve(A, bb, initialGuess: nil, into: xb, tolerance: 1e-14,
                                                            maxIterations: 200, progress: log.reporter())
                        }
                    }
                }
            }
            #expect(isCancellation(failure), "\(solver)")
            #expect(x.allSatisfy { $0 == 3 }, "\(solver)")
            #expect(log.all.count == 1, "\(solver)")
        }
    }

    @Test func conjugateGradientsCompleteTheTotalAtTheIterationsDone() throws {
        let A = try BandedMatrix.poisson1D(n: 63)
        let log = ReportLog()
        let (_, report) = try ConjugateGradient.solve(A, [Double](repeating: 1, count: 63), tolerance: 1e-10,
                                                     maxIterations: 500, progress: log.reporter())
        let final = try #require(log.all.last)
        #expect(report.converged && final.done == Int64(report.iterations) && final.total == final.done)
    }

    @Test func semiImplicitCountsStepsAndCancelsWithoutWriting() throws {
        let n = 64
        let f = (0..<n).map { Double($0 % 7) }
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.peronaMalik, lambda: 1)
        let log = ReportLog()
        _ = try SemiImplicit.evolve(f + f, stencil: K, diffusivity: g, tau: 5, steps: 4, progress: log.reporter())
        #expect(log.all.last.map { [$0.done, $0.total] } == [4, 4])
        var out = [Double](repeating: -1, count: 2 * n)
        let stopping = ReportLog(cancelAt: 1)
        let reporter = stopping.reporter()
        let failure = thrown {
            try (f + f).withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer { ob in
                    _ = try SemiImplicit.evolve(fb, into: ob, batch: 2, n: n, stencil: K, diffusivity: g, tau: 5,
                                                steps: 1000, progress: reporter)
                }
            }
        }
        #expect(isCancellation(failure))
        #expect(out.allSatisfy { $0 == -1 })
        #expect(reporter.done < 2000)
    }

    @Test func networkPassesCountBlocksTimesRowsAndCancelWithoutWriting() throws {
        let K = try Stencil(weights: [-1, 1], offset: 0)
        let g = try Diffusivity(.peronaMalik, lambda: 0.5)
        let net = Network(blocks: try (0..<3).map { _ in try DiffusionBlock(stencil: K, diffusivity: g, tau: 0.1) })
        var rng = TestRandom(seed: 47)
        let (batch, n) = (5, 32)
        let x = rng.normals(batch * n)
        let log = ReportLog()
        var out = [Double](repeating: 0, count: x.count)
        let tape = try x.withUnsafeBufferPointer { xb in
            try out.withUnsafeMutableBufferPointer { try net.forward(xb, into: $0, batch: batch, n: n, progress: log.reporter()) }
        }
        #expect(out == (try net.forward(x, batch: batch, n: n)).output)
        #expect(log.all.last.map { [$0.done, $0.total] } == [15, 15])
        var gradIn = [Double](repeating: 9, count: x.count)
        var gradP = [Double](repeating: 9, count: net.parameterCount)
        let stopping = ReportLog(cancelAt: 1)
        let failure = thrown {
            try x.withUnsafeBufferPointer { v in
                try gradIn.withUnsafeMutableBufferPointer { gi in
                    try gradP.withUnsafeMutableBufferPointer {
                        try tape.backward(v, gradIn: gi, gradParameters: $0, progress: stopping.reporter())
                    }
                }
            }
        }
        #expect(isCancellation(failure))
        #expect(gradIn.allSatisfy { $0 == 9 } && gradP.allSatisfy { $0 == 9 })
        // the tape is still usable
        let (gx, _) = try tape.backward(x)
        #expect(gx.count == x.count)
        var inferred = [Double](repeating: 4, count: x.count)
        let stoppingAgain = ReportLog(cancelAt: 1)
        let inferFailure = thrown {
            try x.withUnsafeBufferPointer { xb in
                try inferred.withUnsafeMutableBufferPointer {
                    try net.infer(xb, into: $0, batch: batch, n: n, progress: stoppingAgain.reporter())
                }
            }
        }
        #expect(isCancellation(inferFailure))
        #expect(inferred.allSatisfy { $0 == 4 })
    }
}
