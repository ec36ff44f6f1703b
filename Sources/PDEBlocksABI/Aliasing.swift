import PDEBlocks

/// The memory one pointer argument covers in a call: the byte range
/// `[start, start + count·stride)` of its declared extent, named as in the header.
/// A NULL pointer or a zero count covers nothing.
struct Extent {
    let name: StaticString
    let start: UInt
    let end: UInt
    /// For an output: the input it may be exactly (the header's "out may equal f").
    let inPlaceOf: StaticString?

    /// Covers nothing (an absent optional output).
    static var empty: Extent { Extent("", nil, bytes: 0, inPlaceOf: nil) }  // computed: no lazy-global check

    @inline(__always)
    private init(_ name: StaticString, _ address: UnsafeRawPointer?, bytes: Int, inPlaceOf: StaticString?) {
        self.name = name
        self.inPlaceOf = inPlaceOf
        let s = UInt(bitPattern: address)
        start = s
        // counts are at most Buffers.maxCount elements; a pointer near the top of the
        // address space is clamped instead of wrapping around
        let (e, overflow) = s.addingReportingOverflow(UInt(max(bytes, 0)))
        end = address == nil ? s : (overflow ? UInt.max : e)
    }

    @inline(__always)
    init<T>(_ name: StaticString, _ p: UnsafePointer<T>?, count: Int, inPlaceOf: StaticString? = nil) {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        self.init(name, UnsafeRawPointer(p), bytes: overflow ? Int.max : bytes, inPlaceOf: inPlaceOf)
    }

    @inline(__always)
    init<T>(_ name: StaticString, _ p: UnsafeMutablePointer<T>?, count: Int, inPlaceOf: StaticString? = nil) {
        self.init(name, UnsafePointer(p), count: count, inPlaceOf: inPlaceOf)
    }

    @inline(__always)
    init<T>(_ name: StaticString, _ b: UnsafeBufferPointer<T>?, inPlaceOf: StaticString? = nil) {
        self.init(name, b?.baseAddress, count: b?.count ?? 0, inPlaceOf: inPlaceOf)
    }

    @inline(__always)
    init<T>(_ name: StaticString, _ b: UnsafeMutableBufferPointer<T>?, inPlaceOf: StaticString? = nil) {
        self.init(name, UnsafePointer(b?.baseAddress), count: b?.count ?? 0, inPlaceOf: inPlaceOf)
    }

    /// A scalar output (`T *`), one element.
    @inline(__always)
    init<T>(scalar name: StaticString, _ p: UnsafeMutablePointer<T>?) {
        self.init(name, UnsafePointer(p), count: 1)
    }

    @inline(__always)
    var isEmpty: Bool { start >= end }

    /// Whether the two ranges share at least one byte (partial overlap included).
    @inline(__always)
    func overlaps(_ other: Extent) -> Bool {
        !isEmpty && !other.isEmpty && start < other.end && other.start < end
    }

    func isIdentical(to other: Extent) -> Bool { start == other.start && end == other.end }

    var description: String { "\(name): \(end - start) bytes at 0x\(String(start, radix: 16))" }
}

/// The aliasing rule of the C ABI (`include/pdeblocks.h`, "Aliasing"): an output never
/// shares a byte with an input or with another output, except that an output documented
/// as "may equal" an input may be exactly that input's memory (same start, same extent:
/// computed in place). Every entry point with an output array checks its arguments with
/// `Aliasing.require` after their sizes are validated and before anything is written, so a
/// refused call (`PDB_ERR_INVALID`, naming both arguments) changes nothing.
enum Aliasing {
    /// Refuses any overlap between `output` and `other` (an input, or another output),
    /// unless `output` may be computed in place of `other` and the two are identical.
    /// (Two comparisons when they are disjoint: cheap enough for the smallest calls.)
    @inline(__always)
    static func require(_ output: Extent, _ other: Extent) throws {
        if output.overlaps(other) { try overlapping(output, other) }
    }

    /// `output` and `other` overlap: allowed only as the exact in-place case.
    @inline(never)
    private static func overlapping(_ output: Extent, _ other: Extent) throws {
        if let input = output.inPlaceOf, equal(input, other.name) {
            if output.isIdentical(to: other) { return }
            throw PDEBlocksError.invalidArgument(
                "\(output.name) partially overlaps \(other.name) (\(output.description); \(other.description)): "
                    + "\(output.name) may be exactly \(other.name) (in place) but must not overlap it otherwise")
        }
        throw PDEBlocksError.invalidArgument(
            "\(output.name) overlaps \(other.name) (\(output.description); \(other.description)): "
                + "\(output.name) must not share memory with \(other.name)")
    }

    /// `require(output, x)` for `x` = `a`, `b`, `c`.
    @inline(__always)
    static func require(_ output: Extent, _ a: Extent, _ b: Extent, _ c: Extent = .empty) throws {
        try require(output, a)
        try require(output, b)
        try require(output, c)
    }

    /// The rule of the scheme entry points (and of others of their shape, e.g. a banded solve
    /// with its band as `weights`), without arrays: they run for the smallest calls.
    /// `out` disjoint from `weights` and disjoint from `f` or exactly it (as `out` carries);
    /// `extra` and `extra2` (history, report, counters; `.empty` when absent) disjoint from
    /// everything.
    @inline(__always)
    static func requireScheme(out: Extent, f: Extent, weights: Extent, _ extra: Extent = .empty,
                              _ extra2: Extent = .empty) throws {
        try require(out, f, weights, extra)
        if !extra.isEmpty { try require(extra, f, weights) }
        if !extra2.isEmpty {
            try require(out, extra2)
            try require(extra2, f, weights, extra)
        }
    }

    /// Every pair of `outputs` disjoint, and each output disjoint from every input (up to
    /// the in-place exceptions the outputs carry).
    static func require(outputs: [Extent], inputs: [Extent]) throws {
        for (i, o) in outputs.enumerated() {
            for x in inputs { try require(o, x) }
            for x in outputs[(i + 1)...] { try require(o, x) }
        }
    }

    private static func equal(_ a: StaticString, _ b: StaticString) -> Bool {
        a.withUTF8Buffer { x in b.withUTF8Buffer { y in x.elementsEqual(y) } }
    }
}
