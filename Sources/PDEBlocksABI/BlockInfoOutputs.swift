import PDEBlocks

/// The outputs of `pdb_network_block_info` and `pdb_image_network_block_info`: checked
/// (non-NULL, disjoint) before the network is read, written only once the call has succeeded.
struct BlockInfoOutputs {
    let kind: UnsafeMutablePointer<Int32>
    let offset: UnsafeMutablePointer<Int64>
    let count: UnsafeMutablePointer<Int64>

    init(_ kind: UnsafeMutablePointer<Int32>?, _ offset: UnsafeMutablePointer<Int64>?, _ count: UnsafeMutablePointer<Int64>?) throws {
        (self.kind, self.offset, self.count) = (try Buffers.scalar(kind, "kind"), try Buffers.scalar(offset, "parameter_offset"),
                                                try Buffers.scalar(count, "parameter_count"))
        try Aliasing.require(outputs: [Extent(scalar: "kind", self.kind), Extent(scalar: "parameter_offset", self.offset),
                                       Extent(scalar: "parameter_count", self.count)], inputs: [])
    }

    /// Throws unless `0 ≤ index < blocks` (`what`: "network" or "image network").
    static func block(_ index: Int64, of blocks: Int, in what: String) throws -> Int {
        guard index >= 0, index < Int64(blocks) else {
            throw PDEBlocksError.invalidArgument("block index \(index) is out of range (the \(what) has \(blocks) blocks)")
        }
        return Int(index)
    }

    func write(_ blockKind: BlockKind, _ range: Range<Int>) {
        kind.pointee = blockKind.rawValue
        offset.pointee = Int64(range.lowerBound)
        count.pointee = Int64(range.count)
    }
}
