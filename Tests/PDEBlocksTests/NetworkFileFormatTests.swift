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

    /// The version-1 bytes (what earlier releases wrote) are unchanged.
    @Test func versionOneEncodingIsUnchanged() throws {
        let bytes = try NetworkFile.encode(network, version: 1)
        let hash = NetworkFile.fnv1a(bytes[...])
        #expect(bytes.count == 3172)
        #expect(hash == 0xed66_8935_7981_a6f2)
    }

    /// Version 2 frames the version-1 payload behind the network type 0 (signal network):
    /// 4 more bytes, version field 2, a fresh checksum.
    @Test func versionTwoIsTheVersionOnePayloadBehindTheNetworkType() throws {
        let v1 = try NetworkFile.encode(network, version: 1), v2 = try NetworkFile.encode(network)
        #expect(NetworkFile.version == 2)
        #expect(v2.count == v1.count + 4)
        #expect(Array(v2[0..<8]) == NetworkFile.magic && Array(v2[8..<12]) == [2, 0, 0, 0])
        #expect(Array(v2[24..<28]) == [0, 0, 0, 0])
        #expect(Array(v2[28..<(v2.count - 8)]) == Array(v1[24..<(v1.count - 8)]))
    }

    /// A version-1 file (written by the version-1 path) still loads, to the same network.
    @Test func versionOneFilesStillLoad() throws {
        let loaded = try NetworkFile.decode(try NetworkFile.encode(network, version: 1))
        #expect(try NetworkFile.encode(loaded) == (try NetworkFile.encode(network)))
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
