import PDEBlocks

/// How this copy of the library was built (`pdb_build_info`): one string of space-separated
/// `key=value` pairs, `version=0.1.0 variant=v4 cpu=haswell+avx512 fma=1 arch=x86_64`.
///
/// The variant comes from the compilation condition the build passes (`PDB_VARIANT_*`, from
/// the variant table in `python/pdeblocks/_variants.py`, which also names the LLVM CPU); a
/// build without one (e.g. a Swift package depending on PDEBlocks with its own flags)
/// reports `variant=unspecified cpu=unknown`. `fma=1` when kernels use fused multiply-adds
/// (`PDB_FMA`).
enum BuildInfo {
    #if PDB_VARIANT_V4
    static let variant = "v4", cpu = "haswell+avx512"
    #elseif PDB_VARIANT_V3
    static let variant = "v3", cpu = "haswell"
    #elseif PDB_VARIANT_NATIVE
    static let variant = "native", cpu = "native"
    #elseif PDB_VARIANT_BASELINE
    static let variant = "baseline", cpu = "generic"
    #else
    static let variant = "unspecified", cpu = "unknown"
    #endif

    #if PDB_FMA
    static let fma = 1
    #else
    static let fma = 0
    #endif

    #if arch(x86_64)
    static let arch = "x86_64"
    #elseif arch(arm64)
    static let arch = "aarch64"
    #else
    static let arch = "other"
    #endif

    static var text: String {
        "version=\(Version.string) variant=\(variant) cpu=\(cpu) fma=\(fma) arch=\(arch)"
    }

    /// The text as a NUL-terminated C string, made once (thread-safe global initialisation)
    /// and kept for the life of the process; immutable after initialisation, so `nonisolated(unsafe)` is sound.
    nonisolated(unsafe) static let cString: UnsafePointer<CChar> = {
        let bytes = Array(text.utf8CString)
        let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
        copy.initialize(from: bytes, count: bytes.count)
        return UnsafePointer(copy)
    }()
}

@_cdecl("pdb_build_info")
public func pdb_build_info() -> UnsafePointer<CChar> {
    BuildInfo.cString
}
