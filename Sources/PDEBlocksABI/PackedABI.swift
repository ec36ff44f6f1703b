// Packed-argument forms of small, frequently called entry points (include/pdeblocks_packed.h):
// each reads its `pdb_*_args` struct and calls the unpacked entry point, so there is one
// implementation and one validation path per function.

/// `pdb_explicit` with its arguments in one `pdb_explicit_args` struct (see
/// `include/pdeblocks_packed.h`): the fields, read in declaration order, are passed on
/// unchanged, so validation and results are those of `pdb_explicit`.
@_cdecl("pdb_explicit_packed")
public func pdb_explicit_packed(_ args: UnsafeRawPointer?) -> Int32 {
    guard let args else { return guarded { throw NullPointer(name: "args") } }
    var a = PackedFields(args)
    let f = a.pointer(Double.self), batch = a.next(Int64.self), n = a.next(Int64.self)
    let w = a.pointer(Double.self), q = a.next(Int64.self), offset = a.next(Int64.self)
    let kind = a.next(Int32.self), lambda = a.next(Double.self)
    let tau = a.next(Double.self), steps = a.next(Int64.self), flags = a.next(Int32.self)
    let recordEvery = a.next(Int64.self), history = a.pointer(Double.self), historyLength = a.next(Int64.self)
    let out = a.pointer(Double.self)
    return pdb_explicit(
        f, batch, n, w, q, offset, kind, lambda, tau, steps, flags, recordEvery, history, historyLength, out)
}
