/// Reads the fields of a C struct passed by pointer (the `pdb_*_args` structs of the
/// packed entry points), in declaration order, at the offsets C gives them: each field
/// at the next multiple of its alignment. Loads are unaligned, so the struct may sit in
/// any byte buffer (e.g. a Python `bytes` object filled by `struct.pack`).
///
/// Reading never fails: the packed entry points hand every field to their unpacked
/// counterpart, which validates them.
struct PackedFields {
    private let base: UnsafeRawPointer
    private var offset = 0

    init(_ base: UnsafeRawPointer) { self.base = base }

    /// The next field, of C type `T` (`int32_t`, `int64_t`, `double`).
    mutating func next<T: BitwiseCopyable>(_: T.Type = T.self) -> T {
        let align = MemoryLayout<T>.alignment
        offset = (offset + align - 1) / align * align
        defer { offset += MemoryLayout<T>.size }
        return base.loadUnaligned(fromByteOffset: offset, as: T.self)
    }

    /// The next field, a C pointer (`double *`); nil for NULL.
    mutating func pointer<T>(_: T.Type = T.self) -> UnsafeMutablePointer<T>? {
        UnsafeMutablePointer(bitPattern: next(UInt.self))
    }
}
