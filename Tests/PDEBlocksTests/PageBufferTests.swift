import Testing
@testable import PDEBlocks

/// `PageBuffer`: zero-filled, writable, aligned to a huge page, and refusals instead of traps.
@Suite struct PageBufferTests {
    @Test func freshBuffersAreZeroWritableAndHugePageAligned() throws {
        for count in [0, 1, 7, 300_001] {
            let b = try PageBuffer(zeros: count, for: "a test")
            #expect(b.buffer.count == count)
            #expect(Int(bitPattern: b.buffer.baseAddress!) % PageBuffer.hugePage == 0)
            #expect(b.buffer.allSatisfy { $0 == 0 })
            for i in 0..<count { b.buffer[i] = Double(i) }
            #expect(b.buffer.enumerated().allSatisfy { $0.element == Double($0.offset) })
        }
    }

    @Test func impossibleSizesThrowOutOfMemory() {
        for count in [Int.max / 4, 1 << 52] {   // overflows the byte count; beyond any address space
            #expect(throws: PDEBlocksError.self) { _ = try PageBuffer(zeros: count, for: "an impossible test") }
        }
    }
}
