/// A file-system path as the bytes the operating system sees, not as text.
///
/// POSIX paths are byte strings: `b"\xff.pdbnet"` and `b"\xfe.pdbnet"` are two different
/// files, though neither is valid UTF-8. Round-tripping such a path through `String`
/// would replace both invalid bytes by U+FFFD and make the names collide, so the C ABI
/// hands the caller's bytes through unchanged and only messages decode them
/// (`description`: UTF-8 where valid, `\xNN` for any other byte).
///
/// A path is never empty and never contains a NUL byte (the C string terminator: a path
/// with an embedded NUL would silently name a shorter one).
public struct FileSystemPath: Sendable, Hashable, CustomStringConvertible {
    /// The path's bytes, without a terminating NUL.
    public let bytes: [UInt8]

    /// The longest path accepted (Linux `PATH_MAX`, terminator included).
    public static let maxLength = 4096

    /// A path from its raw bytes; refuses an empty path, a NUL byte, or more than
    /// `maxLength - 1` bytes.
    public init(bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw PDEBlocksError.invalidArgument("path is empty") }
        if let i = bytes.firstIndex(of: 0) {
            throw PDEBlocksError.invalidArgument("path contains a NUL byte at offset \(i)")
        }
        guard bytes.count < Self.maxLength else {
            throw PDEBlocksError.invalidArgument("path is \(bytes.count) bytes long, the limit is \(Self.maxLength - 1)")
        }
        self.bytes = bytes
    }

    /// A path from text (its UTF-8 bytes).
    public init(_ string: String) throws { try self.init(bytes: Array(string.utf8)) }

    /// The bytes of a NUL-terminated C string, read up to its terminator (at most
    /// `maxLength` bytes are examined: a longer string is refused, not scanned further).
    public init(cString p: UnsafePointer<CChar>) throws {
        var count = 0
        while count < Self.maxLength, p[count] != 0 { count += 1 }
        guard count < Self.maxLength else {
            throw PDEBlocksError.invalidArgument("path is longer than \(Self.maxLength - 1) bytes")
        }
        try self.init(bytes: UnsafeRawBufferPointer(start: p, count: count).map { $0 })
    }

    /// Calls `body` with the path as a NUL-terminated C string.
    public func withCString<R>(_ body: (UnsafePointer<CChar>) throws -> R) rethrows -> R {
        var c = bytes.map { CChar(bitPattern: $0) }
        c.append(0)
        return try c.withUnsafeBufferPointer { try body($0.baseAddress!) }
    }

    /// Everything up to and including the last `/` (empty when there is none).
    var directoryPrefix: ArraySlice<UInt8> {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return [] }
        return bytes[...slash]
    }

    /// The directory holding the path's last component (`.` when the path has no `/`).
    var directory: FileSystemPath {
        // "a/b" → "a", "/x" → "/", "x" → "."
        var prefix = Array(directoryPrefix)
        while prefix.count > 1, prefix.last == UInt8(ascii: "/") { prefix.removeLast() }
        return (try? FileSystemPath(bytes: prefix.isEmpty ? [UInt8(ascii: ".")] : prefix)) ?? self
    }

    /// The last component (after the last `/`).
    var lastComponent: ArraySlice<UInt8> { bytes[directoryPrefix.endIndex...] }

    /// What a symbolic link at this path with content `target` points to: `target` itself
    /// when absolute, else `target` relative to this path's directory.
    func resolvingLink(_ target: [UInt8]) throws -> FileSystemPath {
        if target.first == UInt8(ascii: "/") { return try FileSystemPath(bytes: target) }
        return try FileSystemPath(bytes: Array(directoryPrefix) + target)
    }

    /// A path in the same directory whose last component is `name`.
    func sibling(_ name: [UInt8]) throws -> FileSystemPath {
        try FileSystemPath(bytes: Array(directoryPrefix) + name)
    }

    /// The path for messages: valid UTF-8 as text, every other byte as `\xNN`.
    public var description: String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = Self.utf8SequenceLength(bytes, at: i)
            if n > 0 {
                out += String(decoding: bytes[i..<(i + n)], as: UTF8.self)
                i += n
            } else {
                let hex = String(bytes[i], radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                i += 1
            }
        }
        return out
    }

    /// The length of the well-formed UTF-8 sequence starting at `i`, or 0.
    private static func utf8SequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let lead = b[i]
        let (n, low, high): (Int, UInt8, UInt8)
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: (n, low, high) = (2, 0x80, 0xBF)
        case 0xE0: (n, low, high) = (3, 0xA0, 0xBF)
        case 0xED: (n, low, high) = (3, 0x80, 0x9F)
        case 0xE1...0xEF: (n, low, high) = (3, 0x80, 0xBF)
        case 0xF0: (n, low, high) = (4, 0x90, 0xBF)
        case 0xF4: (n, low, high) = (4, 0x80, 0x8F)
        case 0xF1...0xF3: (n, low, high) = (4, 0x80, 0xBF)
        default: return 0
        }
        guard i + n <= b.count, (low...high).contains(b[i + 1]) else { return 0 }
        for k in 2..<max(n, 2) where !(0x80...0xBF).contains(b[i + k]) { return 0 }
        return n
    }
}
