/// Kinds of block; raw values are the C ABI's and the file format's block codes.
public enum BlockKind: Int32, CaseIterable, Sendable {
    /// Generic residual block, paper eq. 2.
    case residual = 0
    /// Diffusion block `u − τ Σ_c K_cᵀ Φ_c(K_c u)` (eq. 4 for one filter).
    case diffusion = 1
    /// FSI cycle of extrapolated diffusion steps, eq. 7.
    case fsi = 2
    /// Fixed-point sweeps of the implicit scheme, eq. 9.
    case implicit = 3

    public var name: String {
        switch self {
        case .residual: "residual"
        case .diffusion: "diffusion"
        case .fsi: "fsi"
        case .implicit: "implicit"
        }
    }
}

/// A layer of a `Network`: a map of one signal of length n to one of length n with a
/// forward pass and its vector–Jacobian products for the input and every parameter.
///
/// The contract every block follows (and the tests check):
/// - `forward` writes `out` and stores in `tape` (`tapeCount(n:)` values, one region per
///   signal; linear in n) what `backward` needs besides the block input `x`, which the
///   network keeps; it reads `x` only. (Diffusion blocks store nothing and recompute `K_c x`
///   and the flux: memory traffic, not arithmetic, bounds a recorded pass on long signals.)
/// - `scratchCount(n:)` is linear in n as well.
/// - `backward(v, input: x, tape:)` writes `gradIn = J(x)ᵀ v` and *adds* `∂⟨v, out⟩/∂θ` to
///   `grad`, in a "raw" form that `convertGradient` maps (linearly) to the parameterisation:
///   the network sums raw gradients over a batch, then converts once.
/// - `scratch` holds `scratchCount(n:)` values of per-thread work memory.
/// - Buffers never overlap, except as stated.
public protocol NetworkBlock: Sendable {
    var kind: BlockKind { get }
    /// Number of values in the flat parameter vector.
    var parameterCount: Int { get }
    /// Writes the `parameterCount` parameters.
    func parameters(into p: UnsafeMutableBufferPointer<Double>)
    /// The same block with new parameters; throws (naming the parameter) on invalid values.
    func setting(parameters p: UnsafeBufferPointer<Double>) throws -> Self
    /// Throws when the block cannot run (e.g. a diffusion block without filters).
    func validate() throws
    func tapeCount(n: Int) -> Int
    func scratchCount(n: Int) -> Int
    func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        tape: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>)
    func backward(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        tape: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>)
    /// Maps a summed raw gradient to the gradient of the flat parameters, in place.
    func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>)
    /// Work memory of `infer` per signal (linear in n). Blocks whose tape grows with their
    /// number of inner steps (FSI, implicit) need O(n) here, independent of that number.
    func inferenceScratchCount(n: Int) -> Int
    /// `out` exactly as `forward` computes it (bit-identical), keeping no tape; `scratch` holds
    /// `inferenceScratchCount(n:)` values.
    func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>)
    /// Whether Theorem 2 guarantees `‖out‖₂ ≤ ‖x‖₂` on signals of length n, and why (not).
    func certificate(n: Int) throws -> BlockCertificate
    /// The block with a free τ reduced to `[0, margin·bound]` when it lies outside, or nil
    /// when nothing changes (or the block has no such τ).
    func projectedStable(n: Int, margin: Double) throws -> Self?
    /// One line describing the block and its current parameters.
    var summary: String { get }
    /// Writes the block's record of the network file, after its kind code (`NetworkFile`):
    /// a block type that cannot be saved does not compile.
    func encode(to writer: inout NetworkFile.Writer)
    /// Reads a record written by `encode(to:)` (the decoder that `BlockKind.blockType`
    /// selects); `index` names the block in errors, which are `PDEBlocksError.io` or the
    /// constructors' errors.
    static func decode(from reader: inout NetworkFile.Reader, index: Int) throws -> Self
    /// The block with one more filter `K` and its diffusivity; throws for a block type
    /// without filters (residual blocks take channels).
    func adding(filter: Stencil, diffusivity: ChannelDiffusivity) throws -> Self
    /// The work of the block on one signal, in samples per signal sample (`BlockWork`): the
    /// pace of progress reports, an estimate of the arithmetic, saturating.
    var workPerSample: Int { get }
}

extension NetworkBlock {
    /// Default: the tape lives in the scratch (blocks whose tape is small).
    public func inferenceScratchCount(n: Int) -> Int { tapeCount(n: n) + scratchCount(n: n) }

    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let t = tapeCount(n: x.count)
        forward(x, into: out, tape: slice(scratch, 0, t), scratch: slice(scratch, t, scratch.count - t))
    }

    /// The parameters as an array.
    public var parameterArray: [Double] {
        var p = [Double](repeating: 0, count: parameterCount)
        p.withUnsafeMutableBufferPointer { parameters(into: $0) }
        return p
    }

    /// Array convenience: the block's output for one signal.
    public func forward(_ x: [Double]) throws -> [Double] {
        try validate()
        guard x.count >= 2 else { throw PDEBlocksError.invalidArgument("signal length must be at least 2, got \(x.count)") }
        let n = x.count
        var out = try Memory.zeros(n, for: "the block output")
        var tape = try Memory.zeros(tapeCount(n: n), for: "the block's tape")
        var scratch = try Memory.zeros(scratchCount(n: n), for: "the block's scratch memory")
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer { ob in
                tape.withUnsafeMutableBufferPointer { tb in
                    scratch.withUnsafeMutableBufferPointer { forward(xb, into: ob, tape: tb, scratch: $0) }
                }
            }
        }
        return out
    }

    /// Array convenience: `(J(x)ᵀ v, ∂⟨v, block(x)⟩/∂θ)` for one signal.
    public func vjp(_ x: [Double], _ v: [Double]) throws -> (input: [Double], parameters: [Double]) {
        try validate()
        guard x.count >= 2, v.count == x.count else {
            throw PDEBlocksError.invalidArgument("x and v must have the same length ≥ 2")
        }
        let n = x.count
        var out = try Memory.zeros(n, for: "the block output")
        var tape = try Memory.zeros(tapeCount(n: n), for: "the block's tape")
        var scratch = try Memory.zeros(scratchCount(n: n), for: "the block's scratch memory")
        var gx = try Memory.zeros(n, for: "the input gradient")
        var gp = try Memory.zeros(parameterCount, for: "the parameter gradient")
        x.withUnsafeBufferPointer { xb in
            tape.withUnsafeMutableBufferPointer { tb in
                scratch.withUnsafeMutableBufferPointer { sb in
                    out.withUnsafeMutableBufferPointer { forward(xb, into: $0, tape: tb, scratch: sb) }
                    v.withUnsafeBufferPointer { vb in
                        gx.withUnsafeMutableBufferPointer { gxb in
                            gp.withUnsafeMutableBufferPointer { gpb in
                                backward(vb, input: xb, tape: UnsafeBufferPointer(tb), gradIn: gxb, grad: gpb, scratch: sb)
                                convertGradient(gpb)
                            }
                        }
                    }
                }
            }
        }
        return (gx, gp)
    }
}

/// Checks a parameter vector's length for `setting(parameters:)`.
func checkParameterCount(_ p: UnsafeBufferPointer<Double>, _ expected: Int, _ what: String) throws {
    guard p.count == expected else {
        throw PDEBlocksError.invalidArgument("\(what) has \(expected) parameters, got \(p.count)")
    }
    try Check.allFinite(p, "\(what) parameters")
}

/// `UnsafeMutableBufferPointer` slice helper.
@inline(__always)
func slice(_ p: UnsafeMutableBufferPointer<Double>, _ start: Int, _ count: Int) -> UnsafeMutableBufferPointer<Double> {
    UnsafeMutableBufferPointer(rebasing: p[start..<(start + count)])
}

@inline(__always)
func slice(_ p: UnsafeBufferPointer<Double>, _ start: Int, _ count: Int) -> UnsafeBufferPointer<Double> {
    UnsafeBufferPointer(rebasing: p[start..<(start + count)])
}

/// A block that runs one `DiffusionBlock` several times (an FSI cycle, implicit sweeps):
/// its parameters, their gradient conversion and its validity are the step's.
public protocol RepeatedStepBlock: NetworkBlock {
    var step: DiffusionBlock { get }
}

extension RepeatedStepBlock {
    public var parameterCount: Int { step.parameterCount }
    public func parameters(into p: UnsafeMutableBufferPointer<Double>) { step.parameters(into: p) }
    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) { step.convertGradient(grad) }
    public func validate() throws {
        guard !step.filters.isEmpty else {
            throw PDEBlocksError.invalidArgument("\(kind.name) block has no filters (add at least one)")
        }
    }
}
