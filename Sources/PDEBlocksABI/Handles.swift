import PDEBlocks

/// Opaque handles for stateful objects (multigrid hierarchies, networks, …).
///
/// A handle is not a pointer to the object: it is a nonzero key into a process-wide
/// registry, handed to C as `void *`-sized opaque value. Looking a handle up checks
/// that it is live and of the expected type, so a destroyed, forged or wrong-type
/// handle yields `PDB_ERR_HANDLE` instead of a dereference. Keys are never reused.
enum Handles {
    /// Objects behind handles are immutable after creation or synchronise internally,
    /// so sharing them across threads is safe.
    private struct Entry: @unchecked Sendable { let object: AnyObject; let type: String }
    private struct State { var next: UInt = 1; var entries: [UInt: Entry] = [:] }
    /// A `ForkSafeMutex`, not a `Synchronization.Mutex`: a fork() child looks handles up
    /// too, while the parent's other threads may have been doing so at the fork.
    private static let state = ForkSafeMutex(State())

    /// Registers `object` and returns its handle.
    static func register(_ object: AnyObject, type: String) -> OpaquePointer {
        let entry = Entry(object: object, type: type)
        let key = state.withLock { s -> UInt in
            let key = s.next
            s.next += 1
            s.entries[key] = entry
            return key
        }
        return OpaquePointer(bitPattern: key)!
    }

    /// The live object of type `T` behind `handle`; throws for NULL, destroyed or wrong-type handles.
    static func get<T: AnyObject>(_ handle: OpaquePointer?, as _: T.Type, type: String) throws -> T {
        guard let handle else { throw PDEBlocksError.invalidHandle("\(type) handle is NULL") }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        let entry = state.withLock { $0.entries[key] }
        guard let entry else { throw PDEBlocksError.invalidHandle("\(type) handle is not live (destroyed or never created)") }
        guard entry.type == type, let object = entry.object as? T else {
            throw PDEBlocksError.invalidHandle("handle is a \(entry.type), expected a \(type)")
        }
        return object
    }

    /// Removes a handle; throws for NULL, destroyed or wrong-type handles (nothing is freed then).
    static func destroy(_ handle: OpaquePointer?, type: String) throws {
        guard let handle else { throw PDEBlocksError.invalidHandle("\(type) handle is NULL") }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        // The entry leaves the registry under the lock; the object (possibly its last
        // reference, with locks of its own) is released after the lock.
        let removed = try state.withLock { s -> Entry in
            guard let entry = s.entries[key] else {
                throw PDEBlocksError.invalidHandle("\(type) handle is not live (destroyed or never created)")
            }
            guard entry.type == type else {
                throw PDEBlocksError.invalidHandle("handle is a \(entry.type), expected a \(type)")
            }
            return s.entries.removeValue(forKey: key)!
        }
        _ = removed
    }

    /// The type tag of a live handle (nil for NULL or a handle that is not live).
    static func typeName(_ handle: OpaquePointer?) -> String? {
        guard let handle else { return nil }
        let key = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
        return state.withLock { $0.entries[key]?.type }
    }

    /// Number of live handles (for leak tests).
    static var liveCount: Int { state.withLock { $0.entries.count } }
}

/// A value that is not a class (a U-net, …) behind a handle: the registry holds objects, and
/// this one generic box serves every such value type.
final class HandleBox<Value: Sendable>: Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

@_cdecl("pdb_live_handles")
public func pdb_live_handles(_ count: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded { try Buffers.scalar(count, "count").pointee = Int64(Handles.liveCount) }
}
