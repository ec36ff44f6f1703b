import PDEBlocks

/// A 2D diffusion block passed through the C ABI as `(filters, filter_shapes, coupling,
/// kinds, terms, flags)` plus a packed parameter vector (`include/pdeblocks_image_layers.h`).
/// The description is validated (every count before any pointer arithmetic) before the
/// parameters are read.
struct ImageBlockArgument {
    /// `PDB_IMAGE_BLOCK_*` bits.
    static let zeroMean: Int32 = 1, reaction: Int32 = 2, tauBounded: Int32 = 4
    /// `PDB_IMAGE_DIFFUSIVITY_RBF`: `kinds[d]` of an RBF diffusivity (with `terms[d] = J`).
    static let rbfKind: Int32 = 101

    /// One filter's shape `(rows, columns, oy, ox)`.
    let shapes: [(rows: Int, columns: Int, oy: Int, ox: Int)]
    let coupling: Coupling
    /// Per diffusivity: the built-in kind (terms 0), or the number of mixture terms or
    /// RBF basis functions (> 0).
    let diffusivities: [(kind: DiffusivityKind?, terms: Int, rbf: Bool)]
    let flags: Int32
    /// The length of the parameter vector.
    let count: Int
    /// The description's arrays, for the aliasing checks.
    let extents: [Extent]

    init(_ filters: Int64, _ shapesPointer: UnsafePointer<Int64>?, _ coupling: Int32, _ kinds: UnsafePointer<Int32>?,
         _ terms: UnsafePointer<Int64>?, _ flags: Int32) throws {
        let c = try Buffers.count(filters, "filters")
        guard (1...DiffusionBlock2D.maxFilters).contains(c) else {
            throw PDEBlocksError.invalidArgument("filters = \(c): a 2D diffusion block has 1...\(DiffusionBlock2D.maxFilters)")
        }
        shapes = try Self.shapes(c, shapesPointer, "filter_shapes")
        guard flags & ~(Self.zeroMean | Self.reaction | Self.tauBounded) == 0 else {
            throw PDEBlocksError.invalidArgument("flags = \(flags) has bits other than PDB_IMAGE_BLOCK_*")
        }
        self.coupling = try Coupling.decode(coupling, "coupling")
        let d = self.coupling == .isotropic ? 1 : c
        guard let kinds else { throw NullPointer(name: "kinds") }
        diffusivities = try (0..<d).map { k in
            let j = terms.map { $0[k] } ?? 0
            if kinds[k] == Self.rbfKind {
                guard (Int64(RBFDiffusivity.minTerms)...Int64(RBFDiffusivity.maxTerms)).contains(j) else {
                    throw PDEBlocksError.invalidArgument(
                        "terms[\(k)] = \(j): an RBF diffusivity (PDB_IMAGE_DIFFUSIVITY_RBF) has "
                            + "\(RBFDiffusivity.minTerms)...\(RBFDiffusivity.maxTerms) basis functions")
                }
                return (nil, Int(j), true)
            }
            guard (0...Int64(LearnableDiffusivity.maxTerms)).contains(j) else {
                throw PDEBlocksError.invalidArgument(
                    "terms[\(k)] = \(j): 0 (built-in) or 1...\(LearnableDiffusivity.maxTerms) mixture terms")
            }
            return j > 0 ? (nil, Int(j), false) : (try DiffusivityKind.decode(kinds[k], "diffusivity \(k)"), 0, false)
        }
        self.flags = flags
        let weights = shapes.reduce(0) { $0 + $1.rows * $1.columns }
        let dp = diffusivities.reduce(0) {
            $0 + ($1.rbf ? $1.terms + 2 : $1.terms > 0 ? 2 * $1.terms : ($1.kind == .linear ? 0 : 1))
        }
        count = weights + dp + 1 + (flags & Self.reaction != 0 ? 1 : 0)
        extents = [Extent("filter_shapes", shapesPointer, count: 4 * c), Extent("kinds", kinds, count: d),
                   Extent("terms", terms, count: terms == nil ? 0 : d)]
    }

    /// `c` filter shapes `(rows, columns, oy, ox)` from `pointer[4c]` (sides 1...maxSide,
    /// offsets below 2^40 in magnitude).
    static func shapes(_ c: Int, _ pointer: UnsafePointer<Int64>?, _ name: String) throws
        -> [(rows: Int, columns: Int, oy: Int, ox: Int)]
    {
        guard let pointer else { throw NullPointer(name: name) }
        let side = Int64(FilterBankArgument.maxSide)
        return try (0..<c).map { k in
            let (r, q, oy, ox) = (pointer[4 * k], pointer[4 * k + 1], pointer[4 * k + 2], pointer[4 * k + 3])
            guard (1...side).contains(r), (1...side).contains(q) else {
                throw PDEBlocksError.invalidArgument("\(name): filter \(k) has shape \(r)×\(q); each side must be between 1 and \(side)")
            }
            guard oy.magnitude < 1 << 40, ox.magnitude < 1 << 40 else {
                throw PDEBlocksError.invalidArgument("\(name): filter \(k) offset (\(oy), \(ox)) is out of range")
            }
            return (Int(r), Int(q), Int(oy), Int(ox))
        }
    }

    /// The block with the parameters `params[count]` (all finite; checked).
    func block(_ params: UnsafePointer<Double>?, _ count: Int64) throws -> (DiffusionBlock2D, UnsafeBufferPointer<Double>) {
        guard count == Int64(self.count) else {
            throw PDEBlocksError.invalidArgument("count = \(count): the described block has \(self.count) parameters")
        }
        let p = try Buffers.input(params, self.count, "params")
        try Check.allFinite(p, "params")
        var k = 0
        func take(_ m: Int) -> [Double] { defer { k += m }; return Array(p[k..<(k + m)]) }
        let bank = try shapes.map { s in
            try Stencil2D(weights: take(s.rows * s.columns), rows: s.rows, columns: s.columns, offsetY: s.oy, offsetX: s.ox)
        }
        let gs = try diffusivities.map { d -> ChannelDiffusivity in
            if d.rbf {
                let c = take(d.terms), tail = take(2)
                return .rbf(try RBFDiffusivity(coefficients: c, bias: tail[0], logScale: tail[1]))
            }
            if d.terms > 0 { return .learnable(try LearnableDiffusivity(logits: take(d.terms), logContrasts: take(d.terms))) }
            let kind = d.kind ?? .linear
            return try ChannelDiffusivity(kind: kind, logLambda: kind == .linear ? 0 : take(1)[0])
        }
        let tau = take(1)[0]
        let m = flags & Self.reaction != 0 ? take(1)[0] : nil
        let block = try DiffusionBlock2D(filters: bank, coupling: coupling, diffusivities: gs, tau: tau,
                                         stepMode: flags & Self.tauBounded != 0 ? .bounded : .free, muParameter: m,
                                         zeroMean: flags & Self.zeroMean != 0)
        return (block, p)
    }
}
