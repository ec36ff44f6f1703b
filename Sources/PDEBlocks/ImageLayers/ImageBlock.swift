/// Kinds of image block; raw values are the file format's block codes (append-only).
public enum ImageBlockKind: Int32, CaseIterable, Sendable {
    /// `DiffusionBlock2D`: `u − τ(Σ_c K_cᵀ Φ_c(K u) + μ(u − f))`.
    case diffusion = 0
    /// `ResidualBlock2D`: `u − Σ_c W2_cᵀ σ(W1_c u + b_c)` with free banks W1, W2.
    case residual = 1
    /// `FSIBlock2D`: one FSI cycle (eq. 7) of L extrapolated diffusion–reaction steps.
    case fsi = 2

    public var name: String {
        switch self {
        case .diffusion: "diffusion"
        case .residual: "residual"
        case .fsi: "fsi"
        }
    }
}

/// A layer of an `ImageNetwork`: a map of one `height`×`width` image `u` (and the network
/// input `f`, the data term) to one image, with its vector–Jacobian products.
///
/// The contract every block follows (and the tests check):
/// - the per-image passes read `u` and `f` only and write their outputs; `scratch` holds
///   `scratchCount(pixels:)` values of per-thread work memory (linear in the pixel count),
///   and nothing is allocated, so a network pass allocates nothing per call;
/// - `backwardImage` writes `gradU = ∂⟨v, out⟩/∂u`, *adds* `∂⟨v, out⟩/∂f` to `gradF` and
///   *adds* the raw parameter gradient to `grad`, which `convertGradient` maps (linearly) to
///   the parameterisation once the batch has been summed;
/// - arguments are checked by the network (`validate(height:width:)` once per pass), not
///   per image.
public protocol ImageBlock: Sendable {
    var kind: ImageBlockKind { get }
    var parameterCount: Int { get }
    /// The flat parameter vector.
    var parameters: [Double] { get }
    /// The same structure with new parameters; throws (naming the problem) on invalid values.
    func setting(parameters p: [Double]) throws -> Self
    /// Throws when the block cannot run on `height`×`width` images (e.g. a bounded τ above
    /// its certified bound).
    func validate(height: Int, width: Int) throws
    func scratchCount(pixels n: Int) -> Int
    /// `out = block(u; f)` for one image; `out` does not overlap `u`, `f` or `scratch`.
    func forwardImage(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>)
    /// The backward pass for one image (see the protocol's contract).
    func backwardImage(
        _ v: UnsafeBufferPointer<Double>, input u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>,
        height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>, gradF: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>)
    /// Maps a summed raw gradient to the gradient of the flat parameters, in place.
    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>)
    /// What Theorem 2 says about the block on `height`×`width` images, and why.
    func certificate(height: Int, width: Int) throws -> ImageBlockCertificate
    /// Writes the block's record of the network file (after its kind code).
    func encode(to writer: inout NetworkFile.Writer)
    /// Reads a record written by `encode(to:)`.
    static func decode(from reader: inout NetworkFile.Reader, index: Int) throws -> Self
    /// One line describing the block.
    var summary: String { get }
}

extension ImageBlockKind {
    /// The block type of this kind, whose `decode(from:index:)` reads its records.
    public var blockType: any ImageBlock.Type {
        switch self {
        case .diffusion: DiffusionBlock2D.self
        case .residual: ResidualBlock2D.self
        case .fsi: FSIBlock2D.self
        }
    }
}

/// What Theorem 2 says about one image block on `height`×`width` images. `certified`
/// means: the block without its data input, `u ↦ u − τ(Σ_c K_cᵀ Φ_c(K u) + μ u)`, satisfies
/// `‖·‖₂ ≤ ‖u‖₂` for every image u (it is `(I − τ(KᵀG(u)K + μI)) u` with `0 ≤ G ≤ sup g`,
/// whose eigenvalues lie in `[−1, 1]` when `τ ≤ 2/(sup g·λ_max + μ)`); the data input adds
/// `τμ f`. `tau` is the block's step size (NaN when it has none), `tauBound` the certified
/// largest τ (NaN when no bound applies); `reason` names the result or the failing condition.
public struct ImageBlockCertificate: Sendable, Equatable {
    public let kind: ImageBlockKind
    public let certified: Bool
    public let tau: Double
    public let tauBound: Double
    public let reason: String

    public init(kind: ImageBlockKind, certified: Bool, tau: Double, tauBound: Double, reason: String) {
        (self.kind, self.certified, self.tau, self.tauBound, self.reason) = (kind, certified, tau, tauBound, reason)
    }
}

/// A network is certified iff every block is.
public struct ImageNetworkCertificate: Sendable, Equatable {
    public let height: Int
    public let width: Int
    public let blocks: [ImageBlockCertificate]
    public var certified: Bool { blocks.allSatisfy(\.certified) }
    /// Index of the first uncertified block, or nil.
    public var firstFailure: Int? { blocks.firstIndex { !$0.certified } }
}
