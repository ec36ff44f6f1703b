import Foundation
import Testing
@testable import PDEBlocksABI
import PDEBlocks

/// `pdb_explicit_packed` called directly with a `pdb_explicit_args` struct laid out by hand
/// (the C layout on LP64: fields at byte offsets 0, 8, …, 112, with `kind` and `flags`
/// followed by 4 bytes of padding), at an odd address to check the unaligned reads.
@Suite struct PackedABITests {
    let w: [Double] = [-1, 1]

    func lastError() -> String { String(cString: pdb_last_error()) }

    /// The struct's bytes, starting `shift` bytes into the returned buffer.
    struct Args {
        var f: UnsafePointer<Double>?
        var batch: Int64
        var n: Int64
        var w: UnsafePointer<Double>?
        var q: Int64
        var offset: Int64 = 0
        var kind: Int32 = DiffusivityKind.peronaMalik.rawValue
        var lambda: Double = 0.5
        var tau: Double
        var steps: Int64
        var flags: Int32 = 0
        var recordEvery: Int64 = 0
        var history: UnsafeMutablePointer<Double>? = nil
        var historyLength: Int64 = 0
        var out: UnsafeMutablePointer<Double>?

        func bytes(shift: Int) -> [UInt8] {
            var b = [UInt8](repeating: 0xA5, count: shift + 120)
            func put<T>(_ value: T, _ at: Int) {
                withUnsafeBytes(of: value) { for (i, x) in $0.enumerated() { b[shift + at + i] = x } }
            }
            put(UInt(bitPattern: f), 0); put(batch, 8); put(n, 16); put(UInt(bitPattern: w), 24)
            put(q, 32); put(offset, 40); put(kind, 48); put(lambda, 56); put(tau, 64); put(steps, 72)
            put(flags, 80); put(recordEvery, 88); put(UInt(bitPattern: history), 96); put(historyLength, 104)
            put(UInt(bitPattern: out), 112)
            return b
        }

        /// Calls `pdb_explicit_packed` on the struct placed `shift` bytes into a buffer.
        func callPacked(shift: Int = 1) -> Int32 {
            bytes(shift: shift).withUnsafeBytes { pdb_explicit_packed($0.baseAddress! + shift) }
        }

        func callUnpacked() -> Int32 {
            pdb_explicit(f, batch, n, w, q, offset, kind, lambda, tau, steps, flags, recordEvery, history, historyLength, out)
        }
    }

    @Test(arguments: [0, 1, 3])
    func packedCallEqualsTheUnpackedCallBitForBit(shift: Int) {
        let n = 40, batch = 3
        let f = (0..<(batch * n)).map { sin(Double($0) * 0.61) + ($0 % n > n / 3 ? 0.7 : 0) }
        var packed = [Double](repeating: 0, count: f.count), plain = packed
        var packedHistory = [Double](repeating: 0, count: 4 * f.count), plainHistory = packedHistory
        f.withUnsafeBufferPointer { fp in
            w.withUnsafeBufferPointer { wp in
                var args = Args(f: fp.baseAddress, batch: Int64(batch), n: Int64(n), w: wp.baseAddress, q: 2,
                                tau: 0.24, steps: 7, recordEvery: 2, historyLength: Int64(packedHistory.count))
                packed.withUnsafeMutableBufferPointer { o in
                    packedHistory.withUnsafeMutableBufferPointer { h in
                        args.out = o.baseAddress; args.history = h.baseAddress
                        #expect(args.callPacked(shift: shift) == 0)
                    }
                }
                plain.withUnsafeMutableBufferPointer { o in
                    plainHistory.withUnsafeMutableBufferPointer { h in
                        args.out = o.baseAddress; args.history = h.baseAddress
                        #expect(args.callUnpacked() == 0)
                    }
                }
            }
        }
        #expect(packed.map(\.bitPattern) == plain.map(\.bitPattern))
        #expect(packedHistory.map(\.bitPattern) == plainHistory.map(\.bitPattern))
        #expect(packed != f)  // the step did something
    }

    @Test func nullArgumentsPointerIsAStatusNotATrap() {
        #expect(pdb_explicit_packed(nil) == Status.nullPointer.rawValue)
        #expect(lastError() == "args is NULL")
    }

    /// Each bad field gives pdb_explicit's status and message, and leaves `out` alone.
    @Test func badFieldsGiveTheUnpackedStatusAndMessage() {
        let f: [Double] = [1, 2, .nan, 4]
        let good: [Double] = [1, 2, 3, 4]
        var out = [Double](repeating: 9, count: 4)
        var history = [Double](repeating: 9, count: 8)
        f.withUnsafeBufferPointer { bad in
            good.withUnsafeBufferPointer { fp in
                w.withUnsafeBufferPointer { wp in
                    out.withUnsafeMutableBufferPointer { o in
                        history.withUnsafeMutableBufferPointer { h in
                            let base = Args(f: fp.baseAddress, batch: 1, n: 4, w: wp.baseAddress, q: 2, tau: 0.1, steps: 1,
                                            out: o.baseAddress)
                            var cases: [Args] = []
                            var a = base; a.f = nil; cases.append(a)
                            a = base; a.f = bad.baseAddress; cases.append(a)
                            a = base; a.out = nil; cases.append(a)
                            a = base; a.w = nil; cases.append(a)
                            a = base; a.q = 0; cases.append(a)
                            a = base; a.batch = Int64.max; cases.append(a)
                            a = base; a.n = -4; cases.append(a)
                            a = base; a.kind = 99; cases.append(a)
                            a = base; a.lambda = -1; cases.append(a)
                            a = base; a.tau = 5; cases.append(a)
                            a = base; a.steps = -1; cases.append(a)
                            a = base; a.flags = 8; cases.append(a)
                            a = base; a.recordEvery = 1; a.history = h.baseAddress; a.historyLength = 7; cases.append(a)
                            a = base; a.recordEvery = 1; cases.append(a)
                            for c in cases {
                                let s = c.callPacked()
                                let m = lastError()
                                #expect(s < 0)
                                #expect(c.callUnpacked() == s)
                                #expect(lastError() == m)
                            }
                        }
                    }
                }
            }
        }
        #expect(out == [9, 9, 9, 9])
        #expect(history.allSatisfy { $0 == 9 })
    }
}
