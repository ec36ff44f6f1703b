/// Whole-file writes that readers never see half done, and reads that never block.
///
/// `write(_:to:)` replaces a regular file atomically:
///   - a symbolic link (or a chain of them, up to 40) is followed and its final target is
///     replaced; the links stay links. A dangling link creates its target.
///   - a path that exists and is not a regular file (a directory, FIFO, device, socket)
///     is refused with an error naming what it is; nothing is created or changed.
///   - the bytes go to a new temporary file with a unique name in the target's directory
///     (created with `O_CREAT | O_EXCL`, so it is never someone else's file, and never a
///     fixed name that concurrent writers would share), are flushed with `fsync`, and the
///     file is renamed over the target: every reader sees the old complete file or the
///     new complete one. An existing target's permission bits are kept.
///   - on any failure the temporary file is removed and the target is untouched.
///
/// `read(from:limit:)` opens without blocking (a FIFO does not hang the caller) and
/// refuses anything but a regular file.
public enum AtomicFile {
    /// The most symbolic links followed from one path (Linux's `MAXSYMLINKS`).
    static let maxLinks = 40

    /// Atomically replaces the file at `path` (or at the end of its symbolic links) by `bytes`.
    public static func write(_ bytes: [UInt8], to path: FileSystemPath) throws {
        let (target, mode) = try resolveRegularFile(path)
        let (fd, temporary) = try createTemporary(besides: target, for: path)
        var renamed = false
        defer {
            if !renamed { _ = temporary.withCString { unlink($0) } }
        }
        do {
            if let mode { _ = fchmod(fd, mode & 0o777) }
            try writeAll(fd, bytes, path)
            // EINVAL: the file system cannot sync this file; the data is written nonetheless
            guard fsync(fd) == 0 || errno == EINVAL else { throw failure(errno, "cannot write '\(path)'") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure(errno, "cannot write '\(path)'") }
        let moved = temporary.withCString { t in target.withCString { rename(t, $0) } }
        guard moved == 0 else { throw failure(errno, "cannot move the new file into '\(target)'") }
        renamed = true
        syncDirectory(target.directory)
    }

    /// The whole content of the regular file at `path`; more than `limit` bytes is an error.
    public static func read(from path: FileSystemPath, limit: Int) throws -> [UInt8] {
        let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC | O_NONBLOCK) }
        guard fd >= 0 else { throw failure(errno, "cannot open '\(path)'") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw failure(errno, "cannot read '\(path)'") }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw PDEBlocksError.io("cannot read '\(path)': it is \(kindName(st.st_mode)), not a regular file")
        }
        var bytes = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw failure(errno, "cannot read '\(path)'")
            }
            if got == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<got])
            guard bytes.count <= limit else { throw PDEBlocksError.io("'\(path)' is larger than \(limit) bytes") }
        }
    }

    // MARK: Steps of `write`

    /// The regular file `path` leads to (following symbolic links) and its mode (nil when
    /// it does not exist yet).
    static func resolveRegularFile(_ path: FileSystemPath) throws -> (FileSystemPath, mode_t?) {
        var current = path
        for _ in 0...maxLinks {
            var st = stat()
            guard current.withCString({ lstat($0, &st) }) == 0 else {
                if errno == ENOENT { return (current, nil) }  // a new file (also: a dangling link's target)
                throw failure(errno, "cannot save to '\(path)'")
            }
            switch st.st_mode & S_IFMT {
            case S_IFREG: return (current, st.st_mode)
            case S_IFLNK: current = try current.resolvingLink(try readLink(current, size: Int(st.st_size)))
            default:
                let via = current == path ? "" : " (the symbolic link leads to '\(current)')"
                throw PDEBlocksError.io(
                    "cannot save to '\(path)'\(via): it exists and is \(kindName(st.st_mode)), not a regular file")
            }
        }
        throw PDEBlocksError.io("cannot save to '\(path)': more than \(maxLinks) levels of symbolic links")
    }

    /// The content of the symbolic link at `path` (`size` from `lstat`, a hint only).
    static func readLink(_ path: FileSystemPath, size: Int) throws -> [UInt8] {
        var capacity = max(size, 255) + 1
        while capacity <= FileSystemPath.maxLength + 1 {
            var buffer = [UInt8](repeating: 0, count: capacity)
            let got = path.withCString { p in buffer.withUnsafeMutableBytes { readlink(p, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) } }
            guard got >= 0 else { throw failure(errno, "cannot read the symbolic link '\(path)'") }
            if got < capacity { return Array(buffer[0..<got]) }
            capacity *= 2
        }
        throw PDEBlocksError.io("the symbolic link '\(path)' is longer than \(FileSystemPath.maxLength) bytes")
    }

    /// A new, empty file `.<name>.<random>.tmp` in `target`'s directory, created exclusively.
    static func createTemporary(besides target: FileSystemPath, for path: FileSystemPath) throws -> (Int32, FileSystemPath) {
        // at most 200 bytes of the name: the temporary name stays within NAME_MAX (255)
        let stem = [UInt8(ascii: ".")] + target.lastComponent.prefix(200) + Array(".".utf8)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        for _ in 0..<100 {
            let unique = (0..<12).map { _ in alphabet.randomElement()! }
            let temporary = try target.sibling(stem + unique + Array(".tmp".utf8))
            let fd = temporary.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o666) }
            if fd >= 0 { return (fd, temporary) }
            if errno != EEXIST {
                throw failure(errno, "cannot save to '\(path)': cannot open a new temporary file in '\(target.directory)' for writing")
            }
        }
        throw PDEBlocksError.io("cannot save to '\(path)': no unused temporary file name in '\(target.directory)'")
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: FileSystemPath) throws {
        try bytes.withUnsafeBytes { all in
            var done = 0
            while done < all.count {
                let wrote = systemWrite(fd, all.baseAddress! + done, all.count - done)
                if wrote < 0 {
                    if errno == EINTR { continue }
                    throw failure(errno, "cannot write '\(path)'")
                }
                done += wrote
            }
        }
    }

    /// Makes a rename in `directory` durable (best effort: some file systems refuse).
    static func syncDirectory(_ directory: FileSystemPath) {
        let fd = directory.withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    /// An I/O error: `context` and the C library's explanation of the error code (pass
    /// `errno` first, before building the context: building a string may change it).
    static func failure(_ code: Int32, _ context: String) -> PDEBlocksError {
        PDEBlocksError.io("\(context): \(String(cString: strerror(code)))")
    }

    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a directory"
        case S_IFIFO: "a FIFO"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        case S_IFLNK: "a symbolic link"
        default: "not a regular file"
        }
    }
}

// The system calls under names the members of `AtomicFile` do not shadow.
private func systemRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, p, count) }
private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, p, count) }
