/// A large zero-filled work array mapped straight from the kernel, on transparent huge pages
/// (2 MiB) where the system offers them (`madvise(MADV_HUGEPAGE)` on Linux; elsewhere, and
/// when the kernel declines, ordinary pages with the same contents).
///
/// Why: kernels that walk an image down its columns (AOS's column solves, multigrid's
/// line and transfer sweeps) touch a new 4 KiB page at every row, so on 4 KiB pages a
/// 1024² image costs a TLB miss per row per sixteen columns; and a fresh multi-megabyte
/// array costs a page fault per 4 KiB on first touch. One 2 MiB page covers 256 rows of a
/// 1024-wide image and is faulted in once.
///
/// The buffer is unmapped when the object is released; `buffer` must not be used after
/// that. Allocation failure throws `.outOfMemory` (as `Memory`), never traps.
package final class PageBuffer: @unchecked Sendable {
    /// The `count` values, zero on creation.
    package let buffer: UnsafeMutableBufferPointer<Double>
    private let mapping: UnsafeMutableRawPointer
    private let length: Int

    /// The huge-page size the mapping is aligned to.
    static let hugePage = 2 << 20

    /// `count` zeros (at least one value is mapped, so that the buffer has a base address).
    package init(zeros count: Int, for what: @autoclosure () -> String) throws {
        let values = try Memory.count(Swift.max(count, 1), MemoryLayout<Double>.stride, for: what())
        let length = try Memory.sum(values, Self.hugePage, for: what())   // room to align to a huge page
        let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let p, p != MAP_FAILED else {
            throw PDEBlocksError.outOfMemory("out of memory: could not map \(values) bytes (\(count) values) for \(what())")
        }
        let aligned = UnsafeMutableRawPointer(
            bitPattern: (Int(bitPattern: p) + Self.hugePage - 1) & ~(Self.hugePage - 1))!
        #if os(Linux)
        _ = madvise(aligned, values, MADV_HUGEPAGE)   // advice only: declined, the pages are ordinary
        #endif
        (mapping, self.length) = (p, length)
        buffer = UnsafeMutableBufferPointer(start: aligned.bindMemory(to: Double.self, capacity: count), count: count)
    }

    deinit { munmap(mapping, length) }
}
