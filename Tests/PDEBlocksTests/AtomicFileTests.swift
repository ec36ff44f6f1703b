import Testing
@testable import PDEBlocks

/// A fresh directory under /tmp, removed (with its files) by `cleanUp`.
private struct ScratchDirectory {
    let path: String
    init() throws {
        var template = Array("/tmp/pdeblocks-atomic-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw PDEBlocksError.io("mkdtemp failed")
        }
        path = String(cString: template)
    }
    func names() -> [[UInt8]] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var out: [[UInt8]] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != Array(".".utf8) && name != Array("..".utf8) { out.append(name) }
        }
        return out.sorted { $0.lexicographicallyPrecedes($1) }
    }
    func cleanUp() {
        for name in names() { _ = try? FileSystemPath(bytes: Array(path.utf8) + [UInt8(ascii: "/")] + name).withCString { unlink($0) } }
        rmdir(path)
    }
}

@Suite struct AtomicFileTests {
    @Test("paths are bytes: NUL and empty refused, undecodable bytes kept and shown as \\xNN")
    func pathsAreBytes() throws {
        #expect(throws: PDEBlocksError.self) { _ = try FileSystemPath("a\u{0}b") }
        #expect(throws: PDEBlocksError.self) { _ = try FileSystemPath(bytes: []) }
        let p = try FileSystemPath(bytes: Array("/tmp/".utf8) + [0xFF, 0x2E, 0xC3, 0xA9])
        #expect(p.bytes.count == 9)
        #expect(p.description == "/tmp/\\xff.é")
        #expect(try FileSystemPath("a/b").directory.description == "a")
        #expect(try FileSystemPath("/x").directory.description == "/")
        #expect(try FileSystemPath("x").directory.description == ".")
    }

    @Test("two names that differ only in non-UTF-8 bytes are two files")
    func nonUTF8NamesStayDistinct() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanUp() }
        let a = try FileSystemPath(bytes: Array((dir.path + "/").utf8) + [0xFF])
        let b = try FileSystemPath(bytes: Array((dir.path + "/").utf8) + [0xFE])
        try AtomicFile.write([1, 2, 3], to: a)
        try AtomicFile.write([4, 5], to: b)
        #expect(try AtomicFile.read(from: a, limit: 100) == [1, 2, 3])
        #expect(try AtomicFile.read(from: b, limit: 100) == [4, 5])
        #expect(dir.names() == [[0xFE], [0xFF]])
    }

    @Test("a symbolic link is followed and stays a link; a FIFO is refused and left alone")
    func linksFollowedFIFOsRefused() throws {
        let dir = try ScratchDirectory()
        defer { dir.cleanUp() }
        let target = try FileSystemPath(dir.path + "/target"), link = try FileSystemPath(dir.path + "/link")
        try AtomicFile.write([1], to: target)
        #expect(symlink("target", dir.path + "/link") == 0)
        try AtomicFile.write([7, 7], to: link)
        var st = stat()
        #expect(lstat(dir.path + "/link", &st) == 0 && st.st_mode & S_IFMT == S_IFLNK)
        #expect(try AtomicFile.read(from: target, limit: 10) == [7, 7])
        #expect(mkfifo(dir.path + "/fifo", 0o600) == 0)
        let fifo = try FileSystemPath(dir.path + "/fifo")
        #expect(throws: PDEBlocksError.io("cannot save to '\(fifo)': it exists and is a FIFO, not a regular file")) {
            try AtomicFile.write([1], to: fifo)
        }
        #expect(throws: PDEBlocksError.self) { _ = try AtomicFile.read(from: fifo, limit: 10) }   // no blocking
        #expect(lstat(dir.path + "/fifo", &st) == 0 && st.st_mode & S_IFMT == S_IFIFO)
        #expect(dir.names() == [Array("fifo".utf8), Array("link".utf8), Array("target".utf8)])
    }
}
