/// Scratch memory reused across calls, so that repeated one-shot solves do not pay for
/// fresh pages (allocating and first-touching 16 MB costs about as much as the solve
/// itself). At most `keep` buffers of at most `maxRetained` doubles in total are retained;
/// larger or surplus buffers are freed on return. Thread-safe: a buffer is used by one
/// caller at a time.
enum SolverScratch {
    private struct Buffer: @unchecked Sendable { let pointer: UnsafeMutableBufferPointer<Double> }
    /// Fork-safe: a fork() child solves too, whatever the parent's threads were doing.
    private static let buffers = ForkSafeMutex<[Buffer]>([])
    static let keep = 2
    /// 8 Mi doubles (64 MiB) in total.
    static let maxRetained = 1 << 23

    /// Runs `body` with `count` doubles of uninitialised scratch memory.
    /// Throws `.outOfMemory` when a new buffer cannot be allocated.
    static func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Double>) throws -> R) throws -> R {
        let taken: Buffer? = buffers.withLock { list in
            guard let k = list.firstIndex(where: { $0.pointer.count >= count }) else { return nil }
            return list.remove(at: k)
        }
        let buffer = try taken ?? Buffer(pointer: Memory.buffer(count, for: "solver scratch memory"))
        defer {
            let freed: Buffer? = buffers.withLock { list in
                let retained = list.reduce(0) { $0 + $1.pointer.count }
                guard list.count < keep, retained + buffer.pointer.count <= maxRetained else { return buffer }
                list.append(buffer)
                return nil
            }
            freed?.pointer.deallocate()
        }
        return try body(buffer.pointer.baseAddress!)
    }
}
