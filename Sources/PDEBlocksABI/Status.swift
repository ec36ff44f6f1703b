#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PDEBlocks

/// Status codes of the C ABI (`include/pdeblocks.h`, `PDB_OK` / `PDB_ERR_*`).
public enum Status: Int32, Sendable, CaseIterable {
    case ok = 0
    case nullPointer = -1
    case invalidArgument = -2
    case nonFinite = -3
    case unstable = -4
    case notConverged = -5
    case invalidHandle = -6
    case io = -7
    case cancelled = -8
    case outOfMemory = -9
    case busy = -10
    case internalError = -99
}

/// A NULL pointer where the ABI requires memory.
struct NullPointer: Error { let name: String }

/// Runs `body`, translating every thrown error into a status code and recording its
/// message as this thread's last error. Nothing thrown crosses the C boundary.
@inline(__always)
func guarded(_ body: () throws -> Void) -> Int32 {
    do {
        try body()
        return Status.ok.rawValue
    } catch let error as PDEBlocksError {
        LastError.set(error.message)
        return code(of: error).rawValue
    } catch let error as NullPointer {
        LastError.set("\(error.name) is NULL")
        return Status.nullPointer.rawValue
    } catch {
        LastError.set("internal error: \(error)")
        return Status.internalError.rawValue
    }
}

func code(of error: PDEBlocksError) -> Status {
    switch error {
    case .invalidArgument: .invalidArgument
    case .nonFinite: .nonFinite
    case .unstable: .unstable
    case .notConverged: .notConverged
    case .invalidHandle: .invalidHandle
    case .io: .io
    case .cancelled: .cancelled
    case .outOfMemory: .outOfMemory
    case .busy: .busy
    }
}

/// The thread-local message of the most recent failed call (a malloc'd C string per
/// thread, freed when the thread exits or the message is replaced).
enum LastError {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        let old = pthread_getspecific(key)
        let copy = strdup(message)
        pthread_setspecific(key, copy)
        free(old)
    }

    static func get() -> UnsafePointer<CChar>? {
        pthread_getspecific(key).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) }
    }
}

/// The empty string returned when no call on this thread has failed yet.
nonisolated(unsafe) private let emptyMessage: UnsafePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p.initialize(to: 0)
    return UnsafePointer(p)
}()

@_cdecl("pdb_last_error")
public func pdb_last_error() -> UnsafePointer<CChar> {
    LastError.get() ?? emptyMessage
}
