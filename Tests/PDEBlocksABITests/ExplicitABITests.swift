import Foundation
import Testing
@testable import PDEBlocksABI
import PDEBlocks

/// The `@_cdecl` entry points called directly, as a C caller would.
@Suite struct ExplicitABITests {
    let w: [Double] = [-1, 1]

    func lastError() -> String { String(cString: pdb_last_error()) }

    @Test func explicitEntryPointEqualsSwiftAPI() throws {
        let n = 50
        let f = (0..<(2 * n)).map { Foundation.sin(Double($0) * 0.37) + ($0 % n > n / 2 ? 1 : 0) }
        var out = [Double](repeating: 0, count: f.count)
        let tau = 0.2
        let status = pdb_explicit(f, 2, Int64(n), w, 2, 0, PDEBlocks.DiffusivityKind.peronaMalik.rawValue, 0.5, tau, 20, 0, 0, nil, 0, &out)
        #expect(status == 0)
        let K = try Stencil(weights: w, offset: 0)
        let g = try Diffusivity(.peronaMalik, lambda: 0.5)
        var want = [Double](repeating: 0, count: f.count)
        try f.withUnsafeBufferPointer { fb in
            try want.withUnsafeMutableBufferPointer {
                try Explicit.evolve(fb, into: $0, batch: 2, n: n, stencil: K, diffusivity: g, tau: tau, steps: 20)
            }
        }
        #expect(out == want)
    }

    @Test func historyHoldsEveryRecordedState() {
        let n = 8
        let f = (0..<n).map { Double($0 % 3) }
        var out = [Double](repeating: 0, count: n)
        var history = [Double](repeating: 0, count: 3 * n)
        #expect(pdb_explicit(f, 1, Int64(n), w, 2, 0, 0, 1, 0.3, 5, 0, 2, &history, Int64(history.count), &out) == 0)
        #expect(Array(history[0..<n]) == f)
        var two = [Double](repeating: 0, count: n)
        #expect(pdb_explicit(f, 1, Int64(n), w, 2, 0, 0, 1, 0.3, 2, 0, 0, nil, 0, &two) == 0)
        #expect(Array(history[n..<(2 * n)]) == two)
        // wrong history length: an error, nothing written
        var short = [Double](repeating: -1, count: 2 * n)
        #expect(pdb_explicit(f, 1, Int64(n), w, 2, 0, 0, 1, 0.3, 5, 0, 2, &short, Int64(short.count), &out) == Status.invalidArgument.rawValue)
        #expect(short.allSatisfy { $0 == -1 })
    }

    @Test func badArgumentsGiveStatusCodesAndMessagesNotCrashes() {
        let f = [Double](repeating: 1, count: 4)
        var out = [Double](repeating: 9, count: 4)
        func call(_ f: [Double]?, _ batch: Int64, _ n: Int64, _ w: [Double]?, _ q: Int64, kind: Int32 = 1, lambda: Double = 1,
                  tau: Double = 0.1, steps: Int64 = 1, flags: Int32 = 0, out: inout [Double]) -> Int32 {
            pdb_explicit(f, batch, n, w, q, 0, kind, lambda, tau, steps, flags, 0, nil, 0, &out)
        }
        #expect(call(nil, 1, 4, w, 2, out: &out) == Status.nullPointer.rawValue)
        #expect(lastError().contains("f is NULL"))
        #expect(call(f, 1, 4, nil, 2, out: &out) == Status.nullPointer.rawValue)
        #expect(call(f, 1, 0, w, 2, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 4, 1, w, 2, out: &out) == Status.invalidArgument.rawValue)
        #expect(lastError().contains("at least 2"))
        #expect(call(f, 0, 4, w, 2, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, -1, -4, w, 2, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, Int64.max, 2, w, 2, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 0, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 2, kind: 99, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 2, lambda: -1, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 2, lambda: .nan, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 2, tau: -1, out: &out) == Status.invalidArgument.rawValue)
        #expect(call(f, 1, 4, w, 2, tau: 5, out: &out) == Status.unstable.rawValue)
        #expect(lastError().contains("stability bound"))
        #expect(call(f, 1, 4, w, 2, flags: 8, out: &out) == Status.invalidArgument.rawValue)
        #expect(call([1, .infinity, 1, 1], 1, 4, w, 2, out: &out) == Status.nonFinite.rawValue)
        #expect(out == [9, 9, 9, 9])
        #expect(call(f, 1, 4, w, 2, tau: 5, flags: 1, out: &out) == 0)  // opt-out runs
    }

    @Test func versionAndNamesAreReported() {
        var a: Int32 = -1, b: Int32 = -1, c: Int32 = -1
        #expect(pdb_version(&a, &b, &c) == 0)
        #expect(String(cString: pdb_version_string()) == "\(a).\(b).\(c)")
        var kind: Int32 = -1
        #expect(pdb_diffusivity_from_name("charbonnier", &kind) == 0 && kind == 3)
        #expect(pdb_diffusivity_from_name("nope", &kind) == Status.invalidArgument.rawValue)
        #expect(pdb_diffusivity_name(4).map { String(cString: $0) } == "weickert")
        #expect(pdb_diffusivity_name(42) == nil)
    }

    @Test func lastErrorIsPerThread() {
        var out = [Double](repeating: 0, count: 4)
        _ = pdb_explicit(nil, 1, 4, w, 2, 0, 1, 1, 0.1, 1, 0, 0, nil, 0, &out)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var otherMessage = ""
        let thread = Thread {
            var kind: Int32 = 0
            _ = pdb_diffusivity_from_name("no-such-kind", &kind)
            otherMessage = String(cString: pdb_last_error())
            done.signal()
        }
        thread.start()
        done.wait()
        #expect(otherMessage.contains("no-such-kind"))
        #expect(lastError().contains("f is NULL"))  // this thread's message is untouched
    }
}
