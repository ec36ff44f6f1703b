import PDEBlocks

@_cdecl("pdb_set_threads")
public func pdb_set_threads(_ threads: Int32) -> Int32 {
    guarded {
        guard threads >= 0, threads <= 4096 else {
            throw PDEBlocksError.invalidArgument("threads must be in 0...4096 (0 = one per processor), got \(threads)")
        }
        Parallelism.threads = Int(threads)
    }
}

@_cdecl("pdb_get_threads")
public func pdb_get_threads(_ threads: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded { try Buffers.scalar(threads, "threads").pointee = Int32(clamping: Parallelism.threads) }
}
