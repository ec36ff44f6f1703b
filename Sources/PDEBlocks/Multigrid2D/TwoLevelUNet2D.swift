/// A block of the two-level U-net on images (`TwoLevelUNet2D`): a map from `H×W` images to
/// `H×W` images, built from this library's 2D blocks.
public enum UNetBlock2D: Sendable {
    /// `u ↦ K u`: a 2D convolution with half-sample mirrored boundaries.
    case stencil(Stencil2D)
    /// `u ↦ u − τ Σ_c K_cᵀ Φ_c(K u)`: a `DiffusionBlock2D` without reaction term (one explicit
    /// step, eq. 4). No stability check here: a U-net is a free composition.
    case diffusion(DiffusionBlock2D)

    /// Values of `work` that `apply` needs per pixel.
    var workPerPixel: Int {
        if case .diffusion(let d) = self { return d.filters.count }
        return 0
    }

    /// `out = block(u)` for one `height`×`width` image; `out` must not overlap `u` or `work`.
    func apply(
        _ u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, height: Int, width: Int,
        work: UnsafeMutableBufferPointer<Double>
    ) {
        switch self {
        case .stencil(let K): K.apply(u, height: height, width: width, into: out)
        case .diffusion(let d): d.forwardOne(u, nil, height: height, width: width, z: work, out: out)
        }
    }
}

/// The generic two-level U-net of the paper's Sec. 3.1 (Fig. 2a) on images, with additive
/// combination (as `TwoLevelUNet` for signals):
///
///     f̃ = C₁(f),   f_H = R f̃,   f̃_H = C_H(f_H),   f̃_new = f̃ + P f̃_H,   f̂ = C₂(f̃_new),
///
/// `C₁`, `C_H`, `C₂` chains of `UNetBlock2D` (empty = identity). The transfers are the tensor
/// products of the 1D U-net's along y and x, `R = R_y ⊗ R_x`, `P = P_y ⊗ P_x`: cell-centred
/// (default; averaging `⅛ ⅜ ⅜ ⅛` and mirrored linear interpolation, coarse `⌈H/2⌉×⌈W/2⌉`) or
/// vertex-centred (full weighting and linear interpolation with zero outside, coarse
/// `⌊H/2⌋×⌊W/2⌋`). The coarse chain acts on the coarse images; choose its stencils for
/// spacing `2h`.
public struct TwoLevelUNet2D: Sendable {
    public let pre: [UNetBlock2D]
    public let coarse: [UNetBlock2D]
    public let post: [UNetBlock2D]
    /// `.cell` or `.vertex`.
    public let transfer: TransferKind

    /// Throws for another transfer or a diffusion block with a reaction term (a U-net block
    /// maps one image; it has no data input).
    public init(pre: [UNetBlock2D], coarse: [UNetBlock2D], post: [UNetBlock2D], transfer: TransferKind = .cell) throws {
        guard transfer == .cell || transfer == .vertex else {
            throw PDEBlocksError.invalidArgument("a U-net needs a grid transfer: 'cell' or 'vertex', got '\(transfer.name)'")
        }
        for (k, block) in (pre + coarse + post).enumerated() {
            if case .diffusion(let d) = block, d.muParameter != nil {
                throw PDEBlocksError.invalidArgument("U-net block \(k): a diffusion block with a reaction term needs a data input")
            }
        }
        (self.pre, self.coarse, self.post, self.transfer) = (pre, coarse, post, transfer)
    }

    func makeTransfer(_ n: Int) throws -> Transfer {
        transfer == .cell ? try .cellLinear(fine: n) : try .vertexLinear(fine: n)
    }

    /// Applies the network to each of `batch` row-major `height`×`width` images of `f`
    /// (height, width ≥ 2); `out` may be the same memory as `f`.
    public func forward(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int, height: Int, width: Int
    ) throws {
        try Check.positive(batch, "batch")
        guard height >= 2, width >= 2 else {
            throw PDEBlocksError.invalidArgument("a U-net on images needs height, width ≥ 2, got \(height)×\(width)")
        }
        let n = try Memory.count(height, width, for: "an image")
        guard f.count == (try Memory.count(batch, n, for: "a batch of images")) else {
            throw PDEBlocksError.invalidArgument("f holds \(f.count) values, expected batch·height·width = \(batch)×\(height)×\(width)")
        }
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.allFinite(f, "f", columns: width)
        let ty = try makeTransfer(height), tx = try makeTransfer(width)
        let (hc, wc) = (ty.coarse, tx.coarse), nc = hc * wc
        var channels = 1
        for block in pre + coarse + post { channels = max(channels, block.workPerPixel) }
        // fine: two images + work; coarse: two images + work; the transfers: an H×Wc image and two columns.
        let size = try Memory.count(2 + channels, n + nc, for: "the U-net work images")
        var storage = try Memory.zeros(size + height * wc + 2 * height, for: "the U-net work images")
        storage.withUnsafeMutableBufferPointer { s in
            let fineA = slice(s, 0, n), fineB = slice(s, n, n), fineWork = slice(s, 2 * n, channels * n)
            let c0 = (2 + channels) * n
            let coarseA = slice(s, c0, nc), coarseB = slice(s, c0 + nc, nc), coarseWork = slice(s, c0 + 2 * nc, channels * nc)
            let half = slice(s, size, height * wc), columns = slice(s, size + height * wc, 2 * height)
            for b in 0..<batch {
                _ = fineA.update(fromContentsOf: slice(f, b * n, n))
                let fTilde = Self.chain(pre, fineA, fineB, fineWork, height, width)
                Self.restrict(UnsafeBufferPointer(fTilde), into: coarseA, ty, tx, half: half, columns: columns)
                let fHTilde = Self.chain(coarse, coarseA, coarseB, coarseWork, hc, wc)
                Self.prolongAdd(UnsafeBufferPointer(fHTilde), into: fTilde, ty, tx, half: half, columns: columns)
                let other = fTilde.baseAddress == fineA.baseAddress ? fineB : fineA
                let result = Self.chain(post, fTilde, other, fineWork, height, width)
                _ = slice(out, b * n, n).update(fromContentsOf: result)
            }
        }
    }

    /// Arrays: `batch` images.
    public func forward(_ f: [Double], batch: Int, height: Int, width: Int) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the U-net output")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer { try forward(fb, into: $0, batch: batch, height: height, width: width) }
        }
        return out
    }

    /// Applies `blocks` starting in `a`, ping-ponging with `b`; returns the buffer holding the result.
    static func chain(
        _ blocks: [UNetBlock2D], _ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>,
        _ work: UnsafeMutableBufferPointer<Double>, _ height: Int, _ width: Int
    ) -> UnsafeMutableBufferPointer<Double> {
        var (src, dst) = (a, b)
        for block in blocks {
            block.apply(UnsafeBufferPointer(src), into: dst, height: height, width: width,
                        work: slice(work, 0, block.workPerPixel * height * width))
            swap(&src, &dst)
        }
        return src
    }

    /// `coarse = (R_y ⊗ R_x) fine`: every row by `R_x` into `half` (H×Wc), then every column by `R_y`.
    static func restrict(
        _ fine: UnsafeBufferPointer<Double>, into coarse: UnsafeMutableBufferPointer<Double>, _ ty: Transfer, _ tx: Transfer,
        half: UnsafeMutableBufferPointer<Double>, columns: UnsafeMutableBufferPointer<Double>
    ) {
        let (h, w, wc, hc) = (ty.fine, tx.fine, tx.coarse, ty.coarse)
        for i in 0..<h { tx.restrict(slice(fine, i * w, w), into: slice(half, i * wc, wc)) }
        let column = slice(columns, 0, h), coarseColumn = slice(columns, h, hc)
        for j in 0..<wc {
            for i in 0..<h { column[i] = half[i * wc + j] }
            ty.restrict(UnsafeBufferPointer(column), into: coarseColumn)
            for i in 0..<hc { coarse[i * wc + j] = coarseColumn[i] }
        }
    }

    /// `fine += (P_y ⊗ P_x) coarse`: every column by `P_y` into `half` (H×Wc), then every row
    /// by `P_x`, added to the fine image.
    static func prolongAdd(
        _ coarse: UnsafeBufferPointer<Double>, into fine: UnsafeMutableBufferPointer<Double>, _ ty: Transfer, _ tx: Transfer,
        half: UnsafeMutableBufferPointer<Double>, columns: UnsafeMutableBufferPointer<Double>
    ) {
        let (h, w, wc, hc) = (ty.fine, tx.fine, tx.coarse, ty.coarse)
        let column = slice(columns, 0, h), coarseColumn = slice(columns, h, hc)
        for j in 0..<wc {
            for i in 0..<hc { coarseColumn[i] = coarse[i * wc + j] }
            column.update(repeating: 0)
            ty.prolongAdd(UnsafeBufferPointer(coarseColumn), into: column)
            for i in 0..<h { half[i * wc + j] = column[i] }
        }
        for i in 0..<h { tx.prolongAdd(UnsafeBufferPointer(slice(half, i * wc, wc)), into: slice(fine, i * w, w)) }
    }
}
