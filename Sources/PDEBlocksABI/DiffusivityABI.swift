import PDEBlocks

@_cdecl("pdb_diffusivity_from_name")
public func pdb_diffusivity_from_name(_ name: UnsafePointer<CChar>?, _ kind: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded {
        let k = try DiffusivityKind(name: try Buffers.string(name, "name"))
        try Buffers.scalar(kind, "kind").pointee = k.rawValue
    }
}

/// The kind's name: `pdb_enum_name(PDB_ENUM_DIFFUSIVITY, kind)` (the same static string).
@_cdecl("pdb_diffusivity_name")
public func pdb_diffusivity_name(_ kind: Int32) -> UnsafePointer<CChar>? {
    pdb_enum_name(ABIEnumFamily.diffusivity.rawValue, kind)
}

/// Elementwise evaluation shared by `pdb_diffusivity_g/_flux/_flux_derivative`.
private func evaluate(
    _ kind: Int32, _ lambda: Double, _ x: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?,
    _ name: StaticString, nonnegative: Bool = false, _ f: (Diffusivity, Double) -> Double
) -> Int32 {
    guarded {
        let g = try Buffers.diffusivity(kind, lambda)
        let m = try Buffers.count(count, "count")
        let src = try Buffers.input(x, m, "\(name)")
        let dst = try Buffers.output(out, m, "out")
        // elementwise, each input read before its output is written: out may be the input
        try Aliasing.require(Extent("out", dst, inPlaceOf: name), Extent(name, src))
        for i in 0..<m where src[i].isNaN {
            throw PDEBlocksError.nonFinite("\(name) contains NaN at index \(i)")
        }
        if nonnegative {
            for i in 0..<m where src[i] < 0 {
                throw PDEBlocksError.invalidArgument("s2 must be nonnegative, got \(src[i]) at index \(i)")
            }
        }
        for i in 0..<m { dst[i] = f(g, src[i]) }
    }
}

@_cdecl("pdb_diffusivity_g")
public func pdb_diffusivity_g(
    _ kind: Int32, _ lambda: Double, _ s2: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    evaluate(kind, lambda, s2, count, out, "s2", nonnegative: true) { $0.g($1) }
}

@_cdecl("pdb_diffusivity_flux")
public func pdb_diffusivity_flux(
    _ kind: Int32, _ lambda: Double, _ s: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    evaluate(kind, lambda, s, count, out, "s") { $0.flux($1) }
}

@_cdecl("pdb_diffusivity_flux_derivative")
public func pdb_diffusivity_flux_derivative(
    _ kind: Int32, _ lambda: Double, _ s: UnsafePointer<Double>?, _ count: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    evaluate(kind, lambda, s, count, out, "s") { $0.fluxDerivative($1) }
}

@_cdecl("pdb_diffusivity_constants")
public func pdb_diffusivity_constants(
    _ kind: Int32, _ lambda: Double, _ supG: UnsafeMutablePointer<Double>?, _ lipschitz: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let g = try Buffers.diffusivity(kind, lambda)
        let (a, b) = (try Buffers.scalar(supG, "sup_g"), try Buffers.scalar(lipschitz, "lipschitz"))
        try Aliasing.require(Extent(scalar: "sup_g", a), Extent(scalar: "lipschitz", b))
        a.pointee = g.supG
        b.pointee = g.lipschitz
    }
}
