import PDEBlocks

/// The library version, `major.minor.patch` (semantic versioning of the C ABI).
public enum Version {
    public static let major: Int32 = 0
    public static let minor: Int32 = 1
    public static let patch: Int32 = 0
    static let string: StaticString = "0.1.0"
}

@_cdecl("pdb_version")
public func pdb_version(_ major: UnsafeMutablePointer<Int32>?, _ minor: UnsafeMutablePointer<Int32>?, _ patch: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded {
        let (a, b, c) = (try Buffers.scalar(major, "major"), try Buffers.scalar(minor, "minor"), try Buffers.scalar(patch, "patch"))
        try Aliasing.require(outputs: [Extent(scalar: "major", a), Extent(scalar: "minor", b), Extent(scalar: "patch", c)], inputs: [])
        a.pointee = Version.major
        b.pointee = Version.minor
        c.pointee = Version.patch
    }
}

@_cdecl("pdb_version_string")
public func pdb_version_string() -> UnsafePointer<CChar> {
    UnsafeRawPointer(Version.string.utf8Start).assumingMemoryBound(to: CChar.self)
}
