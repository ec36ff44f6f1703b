import Synchronization

/// Allocation whose size comes from the caller's input, checked so that running out of
/// memory throws `PDEBlocksError.outOfMemory` instead of aborting the process.
///
/// The Swift runtime ends the process ("failed to allocate … bytes") when `malloc`
/// fails for an array or a buffer. Every allocation whose size derives from user input
/// (a signal length, a batch, a filter count or length, a level count) goes through
/// this type instead:
///
/// - the element count is computed with overflow checks (`count(_:_:for:)`): a product
///   that does not fit an `Int` is reported, not trapped on;
/// - `reserve` asks `malloc` for the block first and frees it at once: when that fails,
///   it throws with the byte count and what the memory was for; when it succeeds, the
///   Swift allocation that follows (same allocator, same size) succeeds too, unless
///   another thread takes the memory in between (a race the check narrows but cannot
///   close; under `RLIMIT_AS`, the usual limit in tests and notebooks, it is exact for
///   single-threaded construction).
///
/// Cost: one `malloc`/`free` pair per checked allocation (no page is touched), i.e. O(1)
/// per call or handle; never use it inside a hot loop.
package enum Memory {
    /// `a · b` elements, or `.outOfMemory` naming `what` when the product overflows `Int`
    /// (negative factors are the caller's bug and are reported the same way).
    package static func count(_ a: Int, _ b: Int, for what: @autoclosure () -> String) throws -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow, a >= 0, b >= 0 else {
            throw PDEBlocksError.outOfMemory("out of memory: \(what()) would need \(a) × \(b) values, more than can be addressed")
        }
        return p
    }

    /// `a + b` elements, checked as `count(_:_:for:)`.
    package static func sum(_ a: Int, _ b: Int, for what: @autoclosure () -> String) throws -> Int {
        let (s, overflow) = a.addingReportingOverflow(b)
        guard !overflow, a >= 0, b >= 0 else {
            throw PDEBlocksError.outOfMemory("out of memory: \(what()) would need \(a) + \(b) values, more than can be addressed")
        }
        return s
    }

    /// Throws `.outOfMemory` (with the byte count and `what`) unless `count` values of `T`
    /// can be allocated now. `count ≤ 0` always passes.
    package static func reserve<T>(_ count: Int, of type: T.Type = Double.self, for what: @autoclosure () -> String) throws {
        guard count > 0 else { return }
        let stride = MemoryLayout<T>.stride
        let (bytes, overflow) = count.multipliedReportingOverflow(by: stride)
        guard !overflow else {
            throw PDEBlocksError.outOfMemory(
                "out of memory: \(what()) would need \(count) values of \(stride) bytes, more than can be addressed")
        }
        // 32 bytes for a Swift array's header.
        guard let probe = malloc(bytes &+ 32) else {
            throw PDEBlocksError.outOfMemory(
                "out of memory: could not allocate \(bytes) bytes (\(count) values) for \(what())")
        }
        // The address escapes to a global first: without that, the optimiser removes the
        // malloc/free pair as dead code and the check tests nothing.
        probeAddress.store(Int(bitPattern: probe), ordering: .relaxed)
        free(probe)
    }

    /// `count` zeros, checked.
    package static func zeros(_ count: Int, for what: @autoclosure () -> String) throws -> [Double] {
        try reserve(count, of: Double.self, for: what())
        return [Double](repeating: 0, count: count)
    }

    /// `Array(repeating:count:)`, checked.
    package static func array<T>(repeating value: T, count: Int, for what: @autoclosure () -> String) throws -> [T] {
        try reserve(count, of: T.self, for: what())
        return [T](repeating: value, count: count)
    }

    /// An uninitialised buffer of `count` values (at least one, so that it has a base
    /// address), checked; release it with `deallocate()`.
    package static func buffer<T>(_ count: Int, of type: T.Type = Double.self,
                                  for what: @autoclosure () -> String) throws -> UnsafeMutableBufferPointer<T> {
        try reserve(count, of: T.self, for: what())
        return .allocate(capacity: Swift.max(count, 1))
    }

    /// `array.reserveCapacity(count)`, checked.
    package static func reserveCapacity<T>(_ array: inout [T], _ count: Int, for what: @autoclosure () -> String) throws {
        try reserve(count, of: T.self, for: what())
        array.reserveCapacity(count)
    }
}

/// Where `Memory.reserve` publishes its probe's address (keeps the probe from being optimised away).
private let probeAddress = Atomic<Int>(0)
