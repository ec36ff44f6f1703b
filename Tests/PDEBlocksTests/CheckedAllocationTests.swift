import Foundation
import Synchronization
import Testing
@testable import PDEBlocks

/// `Memory`: sizes that overflow or cannot be allocated throw `.outOfMemory` with the size,
/// instead of trapping or aborting; sizes that fit give the requested, zeroed storage.
@Suite struct CheckedAllocationTests {
    func outOfMemoryMessage(_ body: () throws -> Void) -> String? {
        do { try body() } catch PDEBlocksError.outOfMemory(let m) { return m } catch { return nil }
        return nil
    }

    @Test func aCountThatOverflowsIsReportedNotTrapped() {
        let m = outOfMemoryMessage { _ = try Memory.count(Int.max / 2, 3, for: "a test") }
        #expect(m?.contains("a test") == true)
        #expect(outOfMemoryMessage { _ = try Memory.sum(Int.max, 1, for: "a test") } != nil)
        #expect((try? Memory.count(6, 7, for: "x")) == 42)
    }

    @Test func anAllocationBeyondTheAddressSpaceThrowsWithItsByteCount() {
        // 2^58 doubles = 2^61 bytes: no machine maps that much
        let m = outOfMemoryMessage { _ = try Memory.zeros(1 << 58, for: "a huge test buffer") }
        #expect(m?.contains("\(1 << 61) bytes") == true)
        #expect(m?.contains("a huge test buffer") == true)
        // the byte count itself overflows
        #expect(outOfMemoryMessage { _ = try Memory.zeros(Int.max / 4, for: "x") } != nil)
    }

    @Test func anAllocationThatFitsIsZeroedAndSized() throws {
        let z = try Memory.zeros(1000, for: "x")
        #expect(z.count == 1000 && z.allSatisfy { $0 == 0 })
        let b = try Memory.buffer(0, for: "x")
        defer { b.deallocate() }
        #expect(b.baseAddress != nil)
    }

    @Test func theImplicitSchemeConsultsItsHandlerPerSweepWorkNotPerStep() throws {
        // 20 steps × 4000 sweeps × n = 8 = 640 000 samples: ≥ 640 000 / 2^16 consultations.
        let count = Atomic<Int>(0)
        let reporter = ProgressReporter(interval: 0) { _, _, _ in
            count.add(1, ordering: .relaxed)
            return false
        }
        let f = (0..<8).map { sin(Double($0)) }
        var out = [Double](repeating: 0, count: 8)
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { ob in
                _ = try Implicit.evolve(
                    fb, into: ob, batch: 1, n: 8, stencil: Stencil.differenceOperator(alphas: [0, 1], h: 1),
                    diffusivity: Diffusivity(.linear, lambda: 1), tau: 0.2, steps: 20, iterations: 4000, tolerance: 0,
                    progress: reporter)
            }
        }
        #expect(count.load(ordering: .relaxed) >= 640_000 / (2 * ProgressReporter.samplesPerFlush))
    }
}
