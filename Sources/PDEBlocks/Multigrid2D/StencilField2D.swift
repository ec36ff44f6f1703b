/// A 9-point stencil field: the (H·W)×(H·W) matrix of an operator on H×W images (row-major,
/// pixel p = i·W + j) that couples each pixel only to its 3×3 neighbourhood.
///
/// Storage is structure-of-arrays: `coefficients[d·n + p] = A[p, p + dy·W + dx]` for the
/// direction `d = 3·(dy+1) + (dx+1)` (`Direction`), `n = H·W`; so `d = 4` is the diagonal.
/// A coefficient that points outside the image must be 0 (boundaries are in the
/// coefficients: Dirichlet or Neumann is a property of the values, not of the storage).
/// The C layout is the same: a `(9, H, W)` array.
///
/// `isFivePoint` is true when the four diagonal directions are all zero; the kernels
/// then skip them (the fine level of Poisson and of `gradient_2d` diffusion systems).
public struct StencilField2D: Sendable, Equatable {
    /// The nine directions `(dy, dx)`, in storage order.
    public enum Direction: Int, CaseIterable, Sendable {
        case northWest = 0, north, northEast, west, centre, east, southWest, south, southEast
        /// The row and column steps `(dy, dx)` (north = row above).
        public var step: (dy: Int, dx: Int) { (rawValue / 3 - 1, rawValue % 3 - 1) }
    }

    public let height: Int
    public let width: Int
    /// `9·height·width` values, direction-major (see the type's documentation).
    public let coefficients: [Double]
    /// The grid kind the operator came from: `.vertex` (Dirichlet, `poisson2D`),
    /// `.cell` (mirrored, `diffusionSystem`) or `.unknown`; chooses the bilinear transfer's
    /// boundary rule.
    public let grid: GridKind
    /// Whether the diagonal directions are all zero.
    public let isFivePoint: Bool

    /// The number of unknowns `H·W`.
    public var count: Int { height * width }

    /// Wraps coefficients after checking them: `height, width ≥ 1`, `9·H·W` finite values,
    /// zero wherever a direction points outside the image. Throws otherwise.
    public init(height: Int, width: Int, coefficients: [Double], grid: GridKind = .unknown) throws {
        let n = try Self.unknowns(height: height, width: width)
        let total = try Memory.count(9, n, for: "the stencil field")
        guard coefficients.count == total else {
            throw PDEBlocksError.invalidArgument(
                "a \(height)×\(width) stencil field has 9·H·W = \(total) coefficients, got \(coefficients.count)")
        }
        try coefficients.withUnsafeBufferPointer { try Self.validate($0, height: height, width: width) }
        self.init(unchecked: height, width, coefficients, grid: grid)
    }

    /// No checks (internal constructions that hold the invariants by construction).
    init(unchecked height: Int, _ width: Int, _ coefficients: [Double], grid: GridKind) {
        self.height = height
        self.width = width
        self.coefficients = coefficients
        self.grid = grid
        let n = height * width
        var five = true
        coefficients.withUnsafeBufferPointer { c in
            for d in [0, 2, 6, 8] where five {
                for p in 0..<n where c[d * n + p] != 0 { five = false; break }
            }
        }
        isFivePoint = five
    }

    /// `H·W` with both sides ≥ 1 and no overflow.
    static func unknowns(height: Int, width: Int) throws -> Int {
        guard height >= 1, width >= 1 else {
            throw PDEBlocksError.invalidArgument("an image operator needs height, width ≥ 1, got \(height)×\(width)")
        }
        return try Memory.count(height, width, for: "a \(height)×\(width) image")
    }

    /// Finite values, and zero in every direction that leaves the image.
    package static func validate(_ c: UnsafeBufferPointer<Double>, height: Int, width: Int) throws {
        let n = height * width
        for d in Direction.allCases {
            let (dy, dx) = d.step
            for i in 0..<height {
                for j in 0..<width {
                    let v = c[d.rawValue * n + i * width + j]
                    guard v.isFinite else {
                        throw PDEBlocksError.nonFinite("coefficient \(d) at pixel (\(i), \(j)) is not finite (\(v))")
                    }
                    let (y, x) = (i + dy, j + dx)
                    if v != 0, y < 0 || y >= height || x < 0 || x >= width {
                        throw PDEBlocksError.invalidArgument(
                            "coefficient \(d) at pixel (\(i), \(j)) points outside the image but is \(v) (must be 0)")
                    }
                }
            }
        }
    }

    /// The diagonal `A[p, p]` (a copy of the centre coefficients).
    public var diagonal: [Double] { Array(coefficients[(4 * count)..<(5 * count)]) }

    /// Whether `A[p, q] = A[q, p]` for every coupling, to `tolerance` relative to the larger
    /// diagonal entry of the two pixels.
    public func isSymmetric(relativeTolerance tolerance: Double = 1e-12) -> Bool {
        let n = count, W = width
        return coefficients.withUnsafeBufferPointer { c in
            for d in 5..<9 {   // east, south-west, south, south-east against their mirrors
                let (dy, dx) = Direction(rawValue: d)!.step
                let m = 8 - d
                for i in 0..<height where i + dy < height {
                    for j in 0..<width where j + dx >= 0 && j + dx < width {
                        let p = i * W + j, q = p + dy * W + dx
                        let scale = max(abs(c[4 * n + p]), abs(c[4 * n + q]))
                        if abs(c[d * n + p] - c[m * n + q]) > tolerance * scale { return false }
                    }
                }
            }
            return true
        }
    }

    /// The dense matrix (tests and small references): row-major `n×n`.
    public func dense() throws -> [Double] {
        let n = count
        var a = try Memory.zeros(Memory.count(n, n, for: "a dense matrix"), for: "a dense matrix")
        for d in Direction.allCases {
            let (dy, dx) = d.step
            for i in 0..<height {
                for j in 0..<width {
                    let (y, x) = (i + dy, j + dx)
                    guard y >= 0, y < height, x >= 0, x < width else { continue }
                    a[(i * width + j) * n + y * width + x] += coefficients[d.rawValue * n + i * width + j]
                }
            }
        }
        return a
    }

    /// `A x` on arrays.
    public func multiply(_ x: [Double]) throws -> [Double] {
        guard x.count == count else {
            throw PDEBlocksError.invalidArgument("x has length \(x.count), expected H·W = \(count)")
        }
        var out = [Double](repeating: 0, count: count)
        coefficients.withUnsafeBufferPointer { c in
            x.withUnsafeBufferPointer { xb in
                out.withUnsafeMutableBufferPointer { o in
                    _ = StencilField2DKernels.residual(
                        c.baseAddress!, height: height, width: width, fivePoint: isFivePoint, x: xb.baseAddress!,
                        b: nil, into: o.baseAddress!)
                }
            }
        }
        return out
    }
}

extension StencilField2D {
    /// Whether the diagonal directions of raw storage are all zero.
    package static func isFivePoint(_ c: UnsafeBufferPointer<Double>, count n: Int) -> Bool {
        for d in [0, 2, 6, 8] { for p in 0..<n where c[d * n + p] != 0 { return false } }
        return true
    }

    /// `out = A x` on raw, validated storage (`out` must not overlap `x`).
    package static func multiply(
        _ c: UnsafePointer<Double>, height: Int, width: Int, fivePoint: Bool, x: UnsafePointer<Double>,
        into out: UnsafeMutablePointer<Double>
    ) -> Double {
        StencilField2DKernels.residual(c, height: height, width: width, fivePoint: fivePoint, x: x, b: nil, into: out)
    }
}
