/// A free residual block on `H×W` images, the unconstrained counterpart of
/// `DiffusionBlock2D` (for the "symmetric vs free" comparison):
///
///     u_out = u − Σ_c W2_cᵀ σ(W1_c u + b_c),
///
/// with two independent banks of C `Stencil2D` filters (half-sample mirror boundaries), a
/// bias per channel and an activation σ (identity, ReLU or tanh). With `W2_c = τ W1_c`,
/// σ = identity and b = 0 it is the linear channelwise diffusion block; in general
/// `W2 ≠ τ W1` and Theorem 2 does not apply (the block is never certified).
///
/// Parameters (flat vector): the weights of `W1_1 … W1_C`, then of `W2_1 … W2_C` (row-major
/// each), then `b_1 … b_C`.
///
/// Backward (`v = ∂L/∂u_out`, `z_c = W1_c u + b_c`, `q_c = σ′(z_c) ⊙ W2_c v`):
/// `∂L/∂u = v − Σ_c W1_cᵀ q_c`, `∂L/∂W2_c = −∂⟨σ(z_c), W2_c v⟩/∂W2_c`,
/// `∂L/∂W1_c = −∂⟨q_c, W1_c u⟩/∂W1_c`, `∂L/∂b_c = −Σ q_c`. The block ignores the data input f.
public struct ResidualBlock2D: Sendable {
    public let w1: [Stencil2D]
    public let w2: [Stencil2D]
    public let biases: [Double]
    public let activation: Activation
    /// The number of weights of W1 and of W2 (the parameter layout).
    let w1Count: Int, w2Count: Int

    /// Throws for an empty or too large bank, banks of different sizes, a bias count that is
    /// not C, a non-finite bias, or a flux activation (identity, ReLU and tanh only).
    public init(w1: [Stencil2D], w2: [Stencil2D], biases: [Double], activation: Activation) throws {
        guard (1...DiffusionBlock2D.maxFilters).contains(w1.count) else {
            throw PDEBlocksError.invalidArgument("a 2D residual block needs 1...\(DiffusionBlock2D.maxFilters) channels, got \(w1.count)")
        }
        guard w2.count == w1.count, biases.count == w1.count else {
            throw PDEBlocksError.invalidArgument(
                "a 2D residual block with \(w1.count) W1 filters needs as many W2 filters and biases, got \(w2.count) and \(biases.count)")
        }
        if case .flux = activation {
            throw PDEBlocksError.invalidArgument("a 2D residual block takes the identity, ReLU or tanh activation, not flux")
        }
        for (c, b) in biases.enumerated() { try Check.finite(b, "bias \(c)") }
        (self.w1, self.w2, self.biases, self.activation) = (w1, w2, biases, activation)
        w1Count = w1.reduce(0) { $0 + $1.weights.count }
        w2Count = w2.reduce(0) { $0 + $1.weights.count }
    }

    public var parameterCount: Int { w1Count + w2Count + biases.count }

    public var parameters: [Double] { w1.flatMap(\.weights) + w2.flatMap(\.weights) + biases }

    /// The same structure with new parameters (validated like `init`).
    public func setting(parameters p: [Double]) throws -> ResidualBlock2D {
        guard p.count == parameterCount else {
            throw PDEBlocksError.invalidArgument("2D residual block has \(parameterCount) parameters, got \(p.count)")
        }
        var k = 0
        func bank(_ old: [Stencil2D]) throws -> [Stencil2D] {
            try old.map { K in
                defer { k += K.weights.count }
                return try Stencil2D(weights: Array(p[k..<(k + K.weights.count)]), rows: K.rows, columns: K.columns,
                                     offsetY: K.offsetY, offsetX: K.offsetX)
            }
        }
        let a = try bank(w1), b = try bank(w2)
        return try ResidualBlock2D(w1: a, w2: b, biases: Array(p[k...]), activation: activation)
    }
}

extension ResidualBlock2D: ImageBlock {
    public var kind: ImageBlockKind { .residual }

    public func validate(height: Int, width: Int) throws {}

    public func scratchCount(pixels n: Int) -> Int { 3 * n }

    public func forwardImage(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, z = slice(scratch, 0, n)
        for c in 0..<w1.count {
            w1[c].apply(u, height: height, width: width, into: z)
            for i in 0..<n { z[i] = activation.value(z[i] + biases[c]) }
            w2[c].accumulateTransposed(UnsafeBufferPointer(z), height: height, width: width, into: out,
                                       base: c == 0 ? nil : UnsafeBufferPointer(out))
        }
        for i in 0..<n { out[i] = u[i] - out[i] }
    }

    public func backwardImage(
        _ v: UnsafeBufferPointer<Double>, input u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>,
        height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>, gradF: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, C = w1.count
        let z = slice(scratch, 0, n), a = slice(scratch, n, n), q = slice(scratch, 2 * n, n)
        var k1 = 0, k2 = w1Count
        let kb = w1Count + w2Count
        for c in 0..<C {
            w1[c].apply(u, height: height, width: width, into: z)
            for i in 0..<n {
                z[i] += biases[c]
                a[i] = activation.value(z[i])
            }
            w2[c].apply(v, height: height, width: width, into: q)
            w2[c].accumulateWeightGradient(of: v, against: UnsafeBufferPointer(a), height: height, width: width, scale: -1,
                                           into: slice(grad, k2, w2[c].weights.count))
            var db = 0.0
            for i in 0..<n {
                q[i] *= activation.derivative(z[i])
                db += q[i]
            }
            grad[kb + c] -= db
            w1[c].accumulateWeightGradient(of: u, against: UnsafeBufferPointer(q), height: height, width: width, scale: -1,
                                           into: slice(grad, k1, w1[c].weights.count))
            w1[c].accumulateTransposed(UnsafeBufferPointer(q), height: height, width: width, into: gradU,
                                       base: c == 0 ? nil : UnsafeBufferPointer(gradU))
            k1 += w1[c].weights.count
            k2 += w2[c].weights.count
        }
        for i in 0..<n { gradU[i] = v[i] - gradU[i] }
    }

    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {}

    public func certificate(height: Int, width: Int) throws -> ImageBlockCertificate {
        ImageBlockCertificate(
            kind: .residual, certified: false, tau: .nan, tauBound: .nan,
            reason: "not certified: a free residual block u − W2ᵀσ(W1 u + b) has independent banks W1, W2; Theorem 2 "
                + "needs the symmetric form u − τ Kᵀ Φ(K u) with a monotone flux (use a diffusion block)")
    }

    /// Record: `u32 activation kind · u32 C · C × stencil2D W1 · C × stencil2D W2 · C × f64 b`.
    public func encode(to w: inout NetworkFile.Writer) {
        w.u32(UInt32(activation.kind.rawValue))
        w.u32(UInt32(w1.count))
        for K in w1 + w2 { NetworkFile.encode(K, &w) }
        for b in biases { w.f64(b) }
    }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> ResidualBlock2D {
        let code = try r.u32()
        let activation: Activation
        switch code {
        case UInt32(ActivationKind.identity.rawValue): activation = .identity
        case UInt32(ActivationKind.relu.rawValue): activation = .relu
        case UInt32(ActivationKind.tanh.rawValue): activation = .tanh
        default: throw PDEBlocksError.io("image block \(k) has unknown activation \(code)")
        }
        let C = try r.count(max: DiffusionBlock2D.maxFilters, "channel count")
        var a = [Stencil2D](), b = [Stencil2D](), bias = [Double]()
        for _ in 0..<C { a.append(try NetworkFile.decodeStencil2D(&r)) }
        for _ in 0..<C { b.append(try NetworkFile.decodeStencil2D(&r)) }
        for _ in 0..<C { bias.append(try r.f64()) }
        return try ResidualBlock2D(w1: a, w2: b, biases: bias, activation: activation)
    }

    public var summary: String { "residual2D: \(w1.count) channels, σ = \(activation.kind.name)" }
}
