import PDEBlocks

/// Conversions from C (pointer, length) pairs to Swift buffers, validating both.
/// Lengths are checked before any pointer arithmetic, so hostile sizes never reach memory.
enum Buffers {
    /// The largest element count accepted for one array (2^40 doubles = 8 TiB).
    static let maxCount: Int64 = 1 << 40

    static func count(_ value: Int64, _ name: String) throws -> Int {
        guard value >= 0, value <= maxCount else {
            throw PDEBlocksError.invalidArgument("\(name) = \(value) is out of range")
        }
        return Int(value)
    }

    /// `a·b` as a checked element count.
    static func product(_ a: Int64, _ b: Int64, _ name: String) throws -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow else { throw PDEBlocksError.invalidArgument("\(name) = \(a)·\(b) overflows") }
        return try count(p, name)
    }

    static func input(_ p: UnsafePointer<Double>?, _ count: Int, _ name: String) throws -> UnsafeBufferPointer<Double> {
        guard let p else { throw NullPointer(name: name) }
        return UnsafeBufferPointer(start: p, count: count)
    }

    static func output(_ p: UnsafeMutablePointer<Double>?, _ count: Int, _ name: String) throws -> UnsafeMutableBufferPointer<Double> {
        guard let p else { throw NullPointer(name: name) }
        return UnsafeMutableBufferPointer(start: p, count: count)
    }

    static func scalar<T>(_ p: UnsafeMutablePointer<T>?, _ name: String) throws -> UnsafeMutablePointer<T> {
        guard let p else { throw NullPointer(name: name) }
        return p
    }

    static func string(_ p: UnsafePointer<CChar>?, _ name: String) throws -> String {
        guard let p else { throw NullPointer(name: name) }
        return String(cString: p)
    }

    /// A file path: the caller's bytes up to the NUL, unchanged (not decoded as UTF-8).
    static func path(_ p: UnsafePointer<CChar>?, _ name: String) throws -> FileSystemPath {
        guard let p else { throw NullPointer(name: name) }
        return try FileSystemPath(cString: p)
    }

    /// A stencil from (weights, length, offset).
    static func stencil(_ w: UnsafePointer<Double>?, _ length: Int64, _ offset: Int64) throws -> Stencil {
        let q = try count(length, "stencil length")
        guard q > 0 else { throw PDEBlocksError.invalidArgument("stencil has no weights (length 0)") }
        guard q <= 1 << 20 else { throw PDEBlocksError.invalidArgument("stencil length \(q) is too large") }
        let weights = try input(w, q, "stencil weights")
        try Memory.reserve(q, for: "a copy of a stencil of \(q) weights")
        return try Stencil(weights: Array(weights), offset: Int(offset))
    }

    /// A diffusivity from (kind, lambda).
    static func diffusivity(_ kind: Int32, _ lambda: Double, _ context: String? = nil) throws -> Diffusivity {
        try Diffusivity(try DiffusivityKind.decode(kind, context), lambda: lambda)
    }

    /// Validates (batch, n) and returns batch·n.
    static func signals(_ batch: Int64, _ n: Int64) throws -> (batch: Int, n: Int, total: Int) {
        guard batch > 0 else { throw PDEBlocksError.invalidArgument("batch must be positive, got \(batch)") }
        guard n > 0 else { throw PDEBlocksError.invalidArgument("signal length n must be positive, got \(n)") }
        let total = try product(batch, n, "batch·n")
        return (Int(batch), Int(n), total)
    }
}
