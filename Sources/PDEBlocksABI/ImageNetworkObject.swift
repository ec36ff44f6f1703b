import PDEBlocks

/// The object behind a `pdb_image_network *` handle: the network, its one recorded training
/// pass (an `ImageNetworkTape`, whose memory and workspace every pass reuses) and a
/// `HandleLock` serialising calls (re-entry from a progress callback throws `.busy`; a
/// handle inherited by a fork() child works there).
///
/// Unlike `pdb_network` the recorded pass is per handle, not per thread: the last successful
/// training forward pass from any thread. Changes of the structure or the parameters
/// invalidate it (`ImageNetworkTape.invalidate`).
final class ImageNetworkObject: @unchecked Sendable {
    static let type = "image network"

    private let lock = HandleLock(name: "image network")
    /// Guarded by `lock`.
    private var network: ImageNetwork
    private var tape = ImageNetworkTape()

    init(_ network: ImageNetwork) { self.network = network }

    static func get(_ handle: OpaquePointer?) throws -> ImageNetworkObject {
        try Handles.get(handle, as: ImageNetworkObject.self, type: type)
    }

    /// Runs `body` holding the lock. A pass interrupted by fork() in another thread leaves
    /// the tape's buffers in an unknown state: they are replaced (the old ones leaked).
    func locked<R>(_ body: (inout ImageNetwork, ImageNetworkTape, HandleLock) throws -> R) throws -> R {
        try lock.withLock { note in
            if note.forked, note.holderVanished {
                _ = Unmanaged.passRetained(tape)
                tape = ImageNetworkTape()
            }
            return try body(&network, tape, lock)
        }
    }

    /// Changes the network (structure or parameters); discards the recorded pass on success.
    static func modify<R>(_ handle: OpaquePointer?, _ body: (inout ImageNetwork) throws -> R) throws -> R {
        try get(handle).locked { net, tape, _ in
            var copy = net
            let r = try body(&copy)
            net = copy
            tape.invalidate()
            return r
        }
    }

    /// Reads the network (short calls).
    static func read<R>(_ handle: OpaquePointer?, _ body: (ImageNetwork) throws -> R) throws -> R {
        try get(handle).locked { net, _, _ in try body(net) }
    }

    /// Runs a pass on the network and the tape in the lock's compute phase.
    static func compute<R>(_ handle: OpaquePointer?, _ body: (ImageNetwork, ImageNetworkTape) throws -> R) throws -> R {
        try get(handle).locked { net, tape, lock in
            lock.enter(.compute)
            defer { lock.enter(.modify) }
            return try body(net, tape)
        }
    }
}
