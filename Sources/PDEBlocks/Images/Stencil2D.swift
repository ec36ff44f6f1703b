/// A 2D convolution operator `K` on images with mirrored (reflecting) boundaries.
///
/// For an image `u` of `height` H × `width` W (row-major, i = row/y, j = column/x),
/// weights `w[a, b]` (`rows` × `columns`, row-major) and offset `(oy, ox)`,
///
///     (K u)[i, j] = Σ_a Σ_b w[a, b] · ũ[i + oy + a, j + ox + b],
///
/// where `ũ` is the half-sample mirror extension applied to the row index and the column
/// index independently (`Stencil.mirror`). `K` is an (H·W)×(H·W) matrix; the transposed
/// operations apply its exact matrix transpose `Kᵀ`, boundary included, so
/// `⟨K u, v⟩ = ⟨u, Kᵀ v⟩` holds to rounding error. Because the mirror acts on each axis
/// separately, `K = Σ_{a,b} w[a,b] · (S_{oy+a} ⊗ S_{ox+b})` with `S_k` the 1D mirrored
/// shift: a separable stencil is exactly a Kronecker product of 1D `Stencil`s. A `1×q`
/// stencil acts along rows (x), a `q×1` stencil along columns (y).
///
/// The kernels here are the reference loops (every sample through the mirror); `apply` and
/// `accumulateTransposed` are the fast kernels (`Stencil2DKernels.swift`), tested against them.
public struct Stencil2D: Hashable, Sendable {
    /// The weights `w[a, b]`, row-major, `rows·columns` finite values.
    public let weights: [Double]
    /// Number of weight rows (the stencil's height, along y).
    public let rows: Int
    /// Number of weight columns (the stencil's width, along x).
    public let columns: Int
    /// Row offset `oy` of weight row 0 relative to the output pixel.
    public let offsetY: Int
    /// Column offset `ox` of weight column 0 relative to the output pixel.
    public let offsetX: Int

    /// Creates a stencil from row-major weights. Throws when the shape is empty, does not
    /// match the weight count, a weight is not finite, or an offset is out of range.
    public init(weights: [Double], rows: Int, columns: Int, offsetY: Int = 0, offsetX: Int = 0) throws {
        guard rows > 0, columns > 0 else {
            throw PDEBlocksError.invalidArgument("2D stencil shape must be positive, got \(rows)×\(columns)")
        }
        guard rows.multipliedReportingOverflow(by: columns) == (weights.count, false) else {
            throw PDEBlocksError.invalidArgument(
                "2D stencil has \(weights.count) weights, expected rows·columns = \(rows)×\(columns)")
        }
        for (k, w) in weights.enumerated() where !w.isFinite {
            throw PDEBlocksError.nonFinite("2D stencil weight [\(k / columns), \(k % columns)] is not finite (\(w))")
        }
        guard offsetY.magnitude < 1 << 40, offsetX.magnitude < 1 << 40 else {
            throw PDEBlocksError.invalidArgument("2D stencil offset (\(offsetY), \(offsetX)) is out of range")
        }
        (self.weights, self.rows, self.columns, self.offsetY, self.offsetX) = (weights, rows, columns, offsetY, offsetX)
        separable = try SeparableFactors(weights: weights, rows: rows, columns: columns, offsetX: offsetX)
    }

    /// `w = p qᵀ` to rounding (every `|w[a,b] − p_a q_b| ≤ 4ε|w[a,b]|`) for stencils of at
    /// least 3×3: the fast kernels then run a column pass and a row pass (`rows + columns`
    /// taps per pixel instead of `rows·columns`). Derived from the weights.
    @usableFromInline let separable: SeparableFactors?

    /// Creates a stencil from a list of weight rows (all of the same length).
    public init(_ weightRows: [[Double]], offsetY: Int = 0, offsetX: Int = 0) throws {
        let width = weightRows.first?.count ?? 0
        guard weightRows.allSatisfy({ $0.count == width }) else {
            throw PDEBlocksError.invalidArgument("2D stencil rows have different lengths")
        }
        try self.init(weights: weightRows.flatMap { $0 }, rows: weightRows.count, columns: width,
                      offsetY: offsetY, offsetX: offsetX)
    }

    /// The forward differences of `gradient_2d(h)`: `[Kx, Ky]` with `Kx = [[−1, 1]]/h`
    /// (along x) and `Ky = [[−1], [1]]/h` (along y), offsets (0, 0). The mirror makes `Kx`
    /// zero in the last column and `Ky` zero in the last row. Throws unless `h` is positive
    /// and finite.
    public static func gradient(h: Double = 1) throws -> [Stencil2D] {
        try Check.positiveFinite(h, "h")
        return [try Stencil2D(weights: [-1 / h, 1 / h], rows: 1, columns: 2),
                try Stencil2D(weights: [-1 / h, 1 / h], rows: 2, columns: 1)]
    }

    /// `w[a, b]`.
    @inlinable public subscript(a: Int, b: Int) -> Double { weights[a * columns + b] }

    // MARK: - Reference kernels (one H×W image)

    /// `out = K u` for one `height`×`width` image, every sample through the mirror (the
    /// reference for `apply`). `u` and `out` hold `height·width` values and must not overlap.
    public func applyReference(
        _ u: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>
    ) {
        for i in 0..<height {
            for j in 0..<width {
                var s = 0.0
                for a in 0..<rows {
                    let r = Stencil.mirror(i + offsetY + a, height) * width
                    for b in 0..<columns { s += self[a, b] * u[r + Stencil.mirror(j + offsetX + b, width)] }
                }
                out[i * width + j] = s
            }
        }
    }

    /// `out = base + Kᵀ v` (`base = nil` means 0), the exact transpose of `applyReference`,
    /// scattered through the mirror (the reference for `accumulateTransposed`). `out` may
    /// alias `base`; neither may alias `v`.
    public func accumulateTransposedReference(
        _ v: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>,
        base: UnsafeBufferPointer<Double>?
    ) {
        let n = height * width
        if let base { for k in 0..<n { out[k] = base[k] } } else { for k in 0..<n { out[k] = 0 } }
        for i in 0..<height {
            for j in 0..<width {
                let vij = v[i * width + j]
                for a in 0..<rows {
                    let r = Stencil.mirror(i + offsetY + a, height) * width
                    for b in 0..<columns { out[r + Stencil.mirror(j + offsetX + b, width)] += self[a, b] * vij }
                }
            }
        }
    }

    /// `K u` for one row-major image.
    public func apply(_ u: [Double], height: Int, width: Int) throws -> [Double] {
        try Stencil2D.checkImage(u.count, height: height, width: width)
        var out = [Double](repeating: 0, count: u.count)
        u.withUnsafeBufferPointer { ub in out.withUnsafeMutableBufferPointer { apply(ub, height: height, width: width, into: $0) } }
        return out
    }

    /// `Kᵀ v` for one row-major image.
    public func applyTransposed(_ v: [Double], height: Int, width: Int) throws -> [Double] {
        try Stencil2D.checkImage(v.count, height: height, width: width)
        var out = [Double](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer {
                accumulateTransposed(vb, height: height, width: width, into: $0, base: nil)
            }
        }
        return out
    }

    /// The dense (H·W)×(H·W) matrix of `K` (row-major; pixel index i·W + j), for tests.
    public func matrix(height: Int, width: Int) throws -> [Double] {
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let n = height * width
        guard height <= 1 << 12, width <= 1 << 12, n <= 1 << 12 else {
            throw PDEBlocksError.invalidArgument("dense matrix of a \(height)×\(width) image is too large")
        }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<height {
            for j in 0..<width {
                for a in 0..<rows {
                    let r = Stencil.mirror(i + offsetY + a, height) * width
                    for b in 0..<columns { m[(i * width + j) * n + r + Stencil.mirror(j + offsetX + b, width)] += self[a, b] }
                }
            }
        }
        return m
    }

    /// Throws unless `count == height·width` with both positive.
    package static func checkImage(_ count: Int, height: Int, width: Int) throws {
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        guard height.multipliedReportingOverflow(by: width) == (count, false) else {
            throw PDEBlocksError.invalidArgument("image has \(count) values, expected height·width = \(height)×\(width)")
        }
    }
}

/// The factors of a separable 2D stencil `w = p qᵀ`: `p` along y (per weight row), `q` the
/// 1D stencil along x with the 2D stencil's column offset.
@usableFromInline
struct SeparableFactors: Hashable, Sendable {
    @usableFromInline let p: [Double]
    @usableFromInline let q: Stencil

    /// `nil` unless `rows, columns ≥ 3` and the weights are `p qᵀ` to rounding, with `p`
    /// read off the largest weight's column (divided by it) and `q` off its row.
    init?(weights: [Double], rows: Int, columns: Int, offsetX: Int) throws {
        guard rows >= 3, columns >= 3,
              let k = weights.indices.max(by: { weights[$0].magnitude < weights[$1].magnitude }),
              weights[k] != 0 else { return nil }
        let (a0, b0) = (k / columns, k % columns)
        let p = (0..<rows).map { weights[$0 * columns + b0] / weights[k] }
        let q = Array(weights[(a0 * columns)..<((a0 + 1) * columns)])
        for a in 0..<rows {
            for b in 0..<columns {
                let w = weights[a * columns + b]
                guard (w - p[a] * q[b]).magnitude <= 4 * Double.ulpOfOne * w.magnitude else { return nil }
            }
        }
        self.p = p
        self.q = try Stencil(weights: q, offset: offsetX)
    }
}
