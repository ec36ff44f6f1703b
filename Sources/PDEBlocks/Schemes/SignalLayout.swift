/// Validation of a row-major `(batch, n)` block of signals, shared by every scheme.
enum SignalLayout {
    /// Throws unless `batch ≥ 1`, `n ≥ 2`, the buffer holds exactly `batch·n` values and
    /// all are finite (a non-finite one is named by row and column). Returns `max |u_i|`,
    /// found in the same pass (schemes use it to decide whether overflow is possible:
    /// `FiniteResult`).
    @discardableResult
    static func validate(_ u: UnsafeBufferPointer<Double>, batch: Int, n: Int, name: String = "f") throws -> Double {
        try Check.positive(batch, "batch")
        try Check.atLeast(n, 2, "signal length n")
        guard batch.multipliedReportingOverflow(by: n).partialValue == u.count, batch <= u.count else {
            throw PDEBlocksError.invalidArgument("\(name) holds \(u.count) values, expected batch·n = \(batch)·\(n)")
        }
        let magnitude = ScaledNorm.largestMagnitude(u)  // NaN or ∞ exactly when some entry is
        if !magnitude.isFinite { try Check.allFinite(u, name, columns: batch > 1 ? n : nil) }
        return magnitude
    }

    /// Rows of `(batch, n)` storage.
    @inlinable
    static func row(_ p: UnsafeMutableBufferPointer<Double>, _ b: Int, _ n: Int) -> UnsafeMutableBufferPointer<Double> {
        UnsafeMutableBufferPointer(rebasing: p[(b * n)..<((b + 1) * n)])
    }
}

extension SignalLayout {
    /// Throws unless the output buffer holds exactly `count` values.
    static func validateOutput(_ out: UnsafeMutableBufferPointer<Double>, count: Int, name: String = "output") throws {
        guard out.count == count else {
            throw PDEBlocksError.invalidArgument("\(name) holds \(out.count) values, expected \(count)")
        }
    }

    /// Copies row `b` of `f` into `row` (no-op when they are the same memory).
    @inlinable
    static func copy(_ f: UnsafeBufferPointer<Double>, row b: Int, n: Int, into row: UnsafeMutableBufferPointer<Double>) {
        let src = f.baseAddress! + b * n
        if UnsafeMutablePointer(mutating: src) != row.baseAddress { row.baseAddress!.update(from: src, count: n) }
    }
}
