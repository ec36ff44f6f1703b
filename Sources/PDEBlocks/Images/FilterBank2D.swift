/// A filter bank `K_1 … K_C` as the stacked operator `K = [K_1; …; K_C]`, mapping an
/// `H×W` image to `C·H·W` values (channel `c` = `K_c u`, row-major), and its adjoint
/// `Kᵀ y = Σ_c K_cᵀ y_c` (the exact transpose: `⟨K u, y⟩ = ⟨u, Kᵀ y⟩` to rounding). A
/// batch of `B` images maps to `B×C×H×W` values (image-major: all channels of image 0 first).
public enum FilterBank2D {
    /// `out[r, c] = K_c u[r]` for `batch` images; `out` holds `batch·C·height·width` values
    /// and must not overlap `u`.
    public static func apply(
        _ bank: [Stencil2D], _ u: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, channels = bank.count
        for r in 0..<batch {
            let image = UnsafeBufferPointer(rebasing: u[(r * n)..<((r + 1) * n)])
            for (c, K) in bank.enumerated() {
                let start = (r * channels + c) * n
                K.apply(image, height: height, width: width,
                        into: UnsafeMutableBufferPointer(rebasing: out[start..<(start + n)]))
            }
        }
    }

    /// `out[r] = Σ_c K_cᵀ y[r, c]` for `batch` stacks `y` of `C·height·width` values;
    /// `out` holds `batch·height·width` values and must not overlap `y`.
    public static func adjoint(
        _ bank: [Stencil2D], _ y: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, channels = bank.count
        for r in 0..<batch {
            let image = UnsafeMutableBufferPointer(rebasing: out[(r * n)..<((r + 1) * n)])
            for (c, K) in bank.enumerated() {
                let start = (r * channels + c) * n
                K.accumulateTransposed(UnsafeBufferPointer(rebasing: y[start..<(start + n)]), height: height,
                                       width: width, into: image, base: c == 0 ? nil : UnsafeBufferPointer(image))
            }
        }
    }

    /// `K u` for one image: `C·height·width` values.
    public static func apply(_ bank: [Stencil2D], _ u: [Double], height: Int, width: Int) throws -> [Double] {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Stencil2D.checkImage(u.count, height: height, width: width)
        let total = try Memory.count(bank.count, u.count, for: "the \(bank.count) channels of a \(height)×\(width) image")
        try Memory.reserve(total, for: "the \(bank.count) channels of a \(height)×\(width) image")
        var out = [Double](repeating: 0, count: total)
        u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { apply(bank, ub, batch: 1, height: height, width: width, into: $0) }
        }
        return out
    }

    /// `Σ_c K_cᵀ y_c` for one stack `y` of `C·height·width` values.
    public static func adjoint(_ bank: [Stencil2D], _ y: [Double], height: Int, width: Int) throws -> [Double] {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Stencil2D.checkImage(y.count / bank.count, height: height, width: width)
        guard y.count == bank.count * height * width else {
            throw PDEBlocksError.invalidArgument(
                "stack has \(y.count) values, expected C·height·width = \(bank.count)×\(height)×\(width)")
        }
        var out = [Double](repeating: 0, count: height * width)
        y.withUnsafeBufferPointer { yb in
            out.withUnsafeMutableBufferPointer { adjoint(bank, yb, batch: 1, height: height, width: width, into: $0) }
        }
        return out
    }

    /// The largest number of entries `matrix` builds (2^24 doubles, 128 MiB).
    public static let maxMatrixEntries = 1 << 24

    /// The dense `(C·H·W)×(H·W)` matrix of the stacked `K` (row-major; row `c·H·W + i·W + j`,
    /// column `i'·W + j'`), for tests. Throws for an empty bank, a non-positive size, or more
    /// than `maxMatrixEntries` entries.
    public static func matrix(_ bank: [Stencil2D], height: Int, width: Int) throws -> [Double] {
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("filter bank has no filters") }
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let (n, o1) = height.multipliedReportingOverflow(by: width)
        let (cn, o2) = n.multipliedReportingOverflow(by: bank.count)
        let (entries, o3) = cn.multipliedReportingOverflow(by: n)
        guard !o1, !o2, !o3, entries <= maxMatrixEntries else {
            throw PDEBlocksError.invalidArgument(
                "dense matrix of a \(bank.count)-filter bank on \(height)×\(width) images is too large "
                    + "(more than \(maxMatrixEntries) entries)")
        }
        var m: [Double] = []
        m.reserveCapacity(entries)
        for K in bank { m += try K.matrix(height: height, width: width) }
        return m
    }
}
