/// The errors of the library. Every public entry point that can fail on its
/// input throws one of these *before* writing any output, so a failed call
/// changes nothing. The C layer maps each case to a negative status code
/// (`include/pdeblocks.h`, `PDB_ERR_*`).
public enum PDEBlocksError: Error, Equatable, Sendable, CustomStringConvertible {
    /// An argument is out of its domain (a length of 0, λ ≤ 0, an empty stencil…).
    case invalidArgument(String)
    /// A value in an input array is NaN or ±∞.
    case nonFinite(String)
    /// A step size exceeds the stability (or contraction) bound; the message names the bound.
    case unstable(String)
    /// An iterative method stopped at its iteration limit before reaching its tolerance.
    case notConverged(String)
    /// A handle is null, destroyed, or of the wrong type.
    case invalidHandle(String)
    /// A file could not be read or written, or is corrupted.
    case io(String)
    /// The operation was cancelled by the caller's progress callback.
    case cancelled(String)
    /// The object is in use by a call that is still running and owns it: a re-entrant call
    /// (e.g. from that call's progress callback), or a handle left held in a child process by
    /// a thread that did not survive fork().
    case busy(String)
    /// Memory for a buffer sized by the input could not be allocated (or its size does
    /// not fit an `Int`); the message names the byte count and what it was for.
    case outOfMemory(String)

    public var message: String {
        switch self {
        case .invalidArgument(let m), .nonFinite(let m), .unstable(let m),
             .notConverged(let m), .invalidHandle(let m), .io(let m), .cancelled(let m),
             .outOfMemory(let m), .busy(let m):
            return m
        }
    }

    public var description: String { message }
}

/// Validation helpers shared by every entry point (one place for the wording).
package enum Check {
    package static func positive(_ value: Int, _ name: String) throws {
        guard value > 0 else { throw PDEBlocksError.invalidArgument("\(name) must be positive, got \(value)") }
    }

    package static func atLeast(_ value: Int, _ minimum: Int, _ name: String) throws {
        guard value >= minimum else {
            throw PDEBlocksError.invalidArgument("\(name) must be at least \(minimum), got \(value)")
        }
    }

    package static func positiveFinite(_ value: Double, _ name: String) throws {
        guard value.isFinite, value > 0 else {
            throw PDEBlocksError.invalidArgument("\(name) must be positive and finite, got \(value)")
        }
    }

    package static func finite(_ value: Double, _ name: String) throws {
        guard value.isFinite else { throw PDEBlocksError.invalidArgument("\(name) must be finite, got \(value)") }
    }

    /// Throws `.nonFinite` naming the first NaN/∞ entry of `values`: by its index, or — for
    /// a row-major block with `columns` per row — by row and column
    /// ("f contains a non-finite value (nan) at row 3, column 17").
    package static func allFinite(_ values: UnsafeBufferPointer<Double>, _ name: String, columns: Int? = nil) throws {
        // Sum-of-zero trick is not safe (∞ − ∞); scan with an early exit instead.
        for i in values.indices where !values[i].isFinite {
            let position = columns.map { $0 > 0 ? "row \(i / $0), column \(i % $0)" : "index \(i)" } ?? "index \(i)"
            throw PDEBlocksError.nonFinite("\(name) contains a non-finite value (\(values[i])) at \(position)")
        }
    }
}
