import Testing
@testable import PDEBlocks

/// The network file format is fixed (`NetworkFile`): a file holding every block kind, every
/// activation and every diffusivity kind round-trips bit-exactly, and its bytes are those the
/// format had before blocks encoded themselves (the FNV-1a hash below was taken from a file
/// written by the earlier, switch-based encoder).
@Suite struct NetworkFileFormatTests {
    let network = Network(blocks: labelledBlocks.map(\.block))

    @Test func coversEveryBlockKind() {
        #expect(Set(network.blocks.map(\.kind)) == Set(BlockKind.allCases))
    }

    @Test func encodingIsUnchanged() throws {
        let bytes = try NetworkFile.encode(network)
        let hash = NetworkFile.fnv1a(bytes[...])
        #expect(bytes.count == 3172)
        #expect(hash == 0xed66_8935_7981_a6f2)
    }

    @Test func roundTripsBitExactly() throws {
        let bytes = try NetworkFile.encode(network)
        let loaded = try NetworkFile.decode(bytes)
        #expect(try NetworkFile.encode(loaded) == bytes)
        #expect(loaded.blocks.count == network.blocks.count)
        for (a, b) in zip(network.blocks, loaded.blocks) {
            #expect(a.kind == b.kind)
            #expect(a.parameterArray.map(\.bitPattern) == b.parameterArray.map(\.bitPattern))
            #expect(a.summary == b.summary)
        }
    }

    /// Saving and adding filters go through the block protocol: every kind's `blockType` is
    /// the type of its blocks, and every block answers `adding(filter:diffusivity:)`.
    @Test func everyBlockKindDecodesToItsTypeAndTakesFiltersThroughTheProtocol() throws {
        for lb in labelledBlocks {
            let b = lb.block
            #expect(ObjectIdentifier(b.kind.blockType) == ObjectIdentifier(type(of: b)), "\(lb.name)")
            if b.kind == .residual {
                #expect(throws: PDEBlocksError.self) { try b.adding(filter: forwardDifference, diffusivity: builtin(.peronaMalik, 0.5)) }
            } else {
                let c = try b.adding(filter: forwardDifference, diffusivity: builtin(.peronaMalik, 0.5))
                #expect(c.kind == b.kind && c.parameterCount > b.parameterCount, "\(lb.name)")
            }
        }
    }
}
