/// How a residual block's second-layer stencil `S` acts (its n×n matrix).
/// Raw values are the C ABI's `PDB_W2_*` constants.
public enum OutputFilterMode: Int32, Sendable, CaseIterable {
    /// `W2_c = S` (mirrored convolution, like `W1`).
    case convolution = 0
    /// `W2_c = Sᵀ`, the exact matrix transpose of the mirrored convolution — what the
    /// diffusion structure `W2 = −W1ᵀ` needs (`S = −K` with `K` the W1 stencil).
    case transposed = 1
}

/// One channel of a residual block: `W1_c` (1 → 1), `W2_c` (1 → 1, see `OutputFilterMode`)
/// and the bias `b1_c`.
public struct ResidualChannel: Hashable, Sendable {
    public let w1: Stencil
    public let w2: Stencil
    public let w2Mode: OutputFilterMode
    public let b1: Double

    public init(w1: Stencil, w2: Stencil, w2Mode: OutputFilterMode, b1: Double) throws {
        try Check.finite(b1, "bias b1")
        self.w1 = w1
        self.w2 = w2
        self.w2Mode = w2Mode
        self.b1 = b1
    }
}

/// The generic residual block of the paper's eq. 2 with C channels:
///
///     h_c = W1_c x + b1_c,   out = σ2( x + Σ_c W2_c σ1(h_c) + b2 ),
///
/// `W1_c`, `W2_c` mirrored-boundary stencil matrices (`W2_c` possibly transposed), `b1_c`
/// and `b2` scalar (per-channel) biases, σ1 and σ2 from `Activation`.
///
/// Flat parameters, in order: the weights of `W1_1 … W1_C`, of `W2_1 … W2_C`, the biases
/// `b1_1 … b1_C`, `b2`, then σ1's and σ2's parameters (a flux activation's diffusivity).
///
/// Theorem 1 says this is a diffusion block iff `W2 = −W1ᵀ`, σ2 = Id, σ1 = τΦ and the
/// biases vanish; `certificate(n:)` detects that structure and names what fails otherwise.
public struct ResidualBlock: NetworkBlock {
    public let channels: [ResidualChannel]
    public let b2: Double
    public let sigma1: Activation
    public let sigma2: Activation

    let w1Offsets: [Int]
    let w2Offsets: [Int]
    let b1Index: Int
    let b2Index: Int
    let sigma1Index: Int
    let sigma2Index: Int

    public init(channels: [ResidualChannel], b2: Double, sigma1: Activation, sigma2: Activation) throws {
        guard channels.count <= DiffusionBlock.maxFilters else {
            throw PDEBlocksError.invalidArgument("a block has at most \(DiffusionBlock.maxFilters) channels, got \(channels.count)")
        }
        try Check.finite(b2, "bias b2")
        for (which, s) in [("sigma1", sigma1), ("sigma2", sigma2)] {
            if case .flux(_, let tau) = s { try Check.finite(tau, "\(which) tau") }
        }
        self.channels = channels
        self.b2 = b2
        self.sigma1 = sigma1
        self.sigma2 = sigma2
        var offset = 0
        var a = [Int](), b = [Int]()
        for ch in channels { a.append(offset); offset += ch.w1.count }
        for ch in channels { b.append(offset); offset += ch.w2.count }
        w1Offsets = a
        w2Offsets = b
        b1Index = offset
        b2Index = offset + channels.count
        sigma1Index = b2Index + 1
        sigma2Index = sigma1Index + sigma1.parameterCount
    }

    /// The diffusion block of Theorem 1 written as a residual block: `W1_c = K`, `W2_c = −Kᵀ`,
    /// σ1 = τΦ, σ2 = Id, zero biases.
    public static func diffusion(filters: [Stencil], diffusivity: Diffusivity, tau: Double) throws -> ResidualBlock {
        let channels = try filters.map { K in
            try ResidualChannel(w1: K, w2: try Stencil(weights: K.weights.map { -$0 }, offset: K.offset), w2Mode: .transposed, b1: 0)
        }
        return try ResidualBlock(channels: channels, b2: 0, sigma1: try .flux(diffusivity, tau: tau), sigma2: .identity)
    }

    public func adding(channel: ResidualChannel) throws -> ResidualBlock {
        try ResidualBlock(channels: channels + [channel], b2: b2, sigma1: sigma1, sigma2: sigma2)
    }

    public var kind: BlockKind { .residual }
    public var parameterCount: Int { sigma2Index + sigma2.parameterCount }

    public func parameters(into p: UnsafeMutableBufferPointer<Double>) {
        for (c, ch) in channels.enumerated() {
            for (j, w) in ch.w1.weights.enumerated() { p[w1Offsets[c] + j] = w }
            for (j, w) in ch.w2.weights.enumerated() { p[w2Offsets[c] + j] = w }
            p[b1Index + c] = ch.b1
        }
        p[b2Index] = b2
        sigma1.parameters(into: slice(p, sigma1Index, sigma1.parameterCount))
        sigma2.parameters(into: slice(p, sigma2Index, sigma2.parameterCount))
    }

    public func setting(parameters p: UnsafeBufferPointer<Double>) throws -> ResidualBlock {
        try checkParameterCount(p, parameterCount, "residual block")
        let chs = try channels.enumerated().map { c, ch in
            try ResidualChannel(
                w1: try ch.w1.withWeights(slice(p, w1Offsets[c], ch.w1.count)),
                w2: try ch.w2.withWeights(slice(p, w2Offsets[c], ch.w2.count)),
                w2Mode: ch.w2Mode, b1: p[b1Index + c])
        }
        return try ResidualBlock(
            channels: chs, b2: p[b2Index],
            sigma1: try sigma1.setting(slice(p, sigma1Index, sigma1.parameterCount)),
            sigma2: try sigma2.setting(slice(p, sigma2Index, sigma2.parameterCount)))
    }

    public func validate() throws {
        guard !channels.isEmpty else { throw PDEBlocksError.invalidArgument("residual block has no channels (add at least one)") }
    }

    // Tape: h_c (C·n), σ1(h_c) (C·n), r = pre-activation of σ2 (n).
    public func tapeCount(n: Int) -> Int { (2 * channels.count + 1) * n }
    public func scratchCount(n: Int) -> Int { 2 * n }

    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        tape: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, C = channels.count
        let r = slice(tape, 2 * C * n, n)
        let work = slice(scratch, 0, n)
        for i in 0..<n { r[i] = x[i] + b2 }
        for (c, ch) in channels.enumerated() {
            let h = slice(tape, c * n, n), a = slice(tape, (C + c) * n, n)
            ch.w1.apply(x, into: h)
            for i in 0..<n { h[i] += ch.b1 }
            sigma1.apply(UnsafeBufferPointer(h), into: a)
            switch ch.w2Mode {
            case .convolution: ch.w2.accumulate(UnsafeBufferPointer(a), into: r, base: UnsafeBufferPointer(r), scratch: work)
            case .transposed: ch.w2.accumulateTransposed(UnsafeBufferPointer(a), into: r, base: UnsafeBufferPointer(r))
            }
        }
        sigma2.apply(UnsafeBufferPointer(r), into: out)
    }

    public func backward(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        tape: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, C = channels.count
        let r = slice(tape, 2 * C * n, n)
        let rbar = slice(scratch, 0, n), abar = slice(scratch, n, n)
        sigma2.accumulateGradient(r, v, into: slice(grad, sigma2Index, sigma2.parameterCount))
        _ = rbar.update(fromContentsOf: v)
        sigma2.multiplyDerivative(r, rbar)
        let rb = UnsafeBufferPointer(rbar), ab = UnsafeBufferPointer(abar)
        var sum = 0.0
        for i in 0..<n { sum += rbar[i] }
        grad[b2Index] += sum
        _ = gradIn.update(fromContentsOf: rbar)
        for (c, ch) in channels.enumerated() {
            let h = slice(tape, c * n, n), a = slice(tape, (C + c) * n, n)
            let w2g = slice(grad, w2Offsets[c], ch.w2.count)
            switch ch.w2Mode {
            case .convolution:
                ch.w2.applyTransposed(rb, into: abar)
                ch.w2.accumulateWeightGradient(of: a, against: rb, scale: 1, into: w2g)
            case .transposed:
                ch.w2.apply(rb, into: abar)
                ch.w2.accumulateWeightGradient(of: rb, against: a, scale: 1, into: w2g)
            }
            sigma1.accumulateGradient(h, ab, into: slice(grad, sigma1Index, sigma1.parameterCount))
            sigma1.multiplyDerivative(h, abar)
            var s = 0.0
            for i in 0..<n { s += abar[i] }
            grad[b1Index + c] += s
            ch.w1.accumulateWeightGradient(of: x, against: ab, scale: 1, into: slice(grad, w1Offsets[c], ch.w1.count))
            ch.w1.accumulateTransposed(ab, into: gradIn, base: UnsafeBufferPointer(gradIn))
        }
    }

    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        sigma1.convertGradient(slice(grad, sigma1Index, sigma1.parameterCount))
        sigma2.convertGradient(slice(grad, sigma2Index, sigma2.parameterCount))
    }

    /// Detects the diffusion structure of Theorem 1 (σ2 = Id, b1 = b2 = 0, σ1 = τΦ with
    /// τ ≥ 0, `W2_c = −W1_cᵀ` as n×n matrices to 1e-13 relative) and, when present,
    /// applies Theorem 2 (`τ ≤ 2/λ_max(sup g·Σ_c W1_cᵀW1_c)`). Otherwise lists every
    /// failing condition.
    public func certificate(n: Int) throws -> BlockCertificate {
        try validate()
        try Check.positive(n, "n")
        var failures: [String] = []
        if sigma2 != .identity { failures.append("σ2 = \(sigma2.summary) is not the identity") }
        for (c, ch) in channels.enumerated() where ch.b1 != 0 { failures.append("bias b1[\(c)] = \(ch.b1) is not 0") }
        if b2 != 0 { failures.append("bias b2 = \(b2) is not 0") }
        var tau = Double.nan
        var g: ChannelDiffusivity? = nil
        if case .flux(let d, let t) = sigma1 {
            tau = t
            g = d
            if t < 0 { failures.append("σ1 = τΦ has τ = \(t) < 0") }
        } else {
            failures.append("σ1 = \(sigma1.summary) is not a flux activation τΦ")
        }
        for (c, ch) in channels.enumerated() where !ResidualBlock.isNegativeTranspose(ch, n: n) {
            failures.append("W2[\(c)] ≠ −W1[\(c)]ᵀ")
        }
        var bound = Double.nan, boundL = Double.nan
        if let g {
            let b = try TheoremTwoBounds(filters: channels.map(\.w1), diffusivities: channels.map { _ in g }, n: n)
            (bound, boundL) = (b.supG, b.lipschitz)
            if failures.isEmpty && tau > bound {
                failures.append("τ = \(tau) exceeds the stability bound \(bound) = 2/λ_max(sup g·Σ W1ᵀW1) (n = \(n))")
            }
        }
        if failures.isEmpty {
            return BlockCertificate(kind: kind, certified: true, tau: tau, tauBound: bound, tauBoundLipschitz: boundL,
                                    reason: "diffusion structure (W2 = −W1ᵀ, σ1 = τΦ, σ2 = Id, no biases), Theorem 2: τ = \(tau) ≤ \(bound) (n = \(n))")
        }
        return BlockCertificate(kind: kind, certified: false, tau: tau, tauBound: bound, tauBoundLipschitz: boundL,
                                reason: "not a stable diffusion block: " + failures.joined(separator: "; "))
    }

    /// Whether `W2_c = −W1_cᵀ` as n×n matrices (entrywise to 1e-13 of the largest weight).
    /// Every nonzero position of either side is checked, in O(n·q²) time and O(1) memory.
    static func isNegativeTranspose(_ ch: ResidualChannel, n: Int) -> Bool {
        let K = ch.w1, S = ch.w2
        let scale = max(K.weights.map(abs).max() ?? 0, S.weights.map(abs).max() ?? 0)
        let tolerance = 1e-13 * scale
        /// Entry (r, c) of the mirrored matrix of a stencil.
        func entry(_ A: Stencil, _ r: Int, _ c: Int) -> Double {
            var s = 0.0
            for j in 0..<A.count where Stencil.mirror(r + A.offset + j, n) == c { s += A.weights[j] }
            return s
        }
        func w2(_ r: Int, _ c: Int) -> Double { ch.w2Mode == .convolution ? entry(S, r, c) : entry(S, c, r) }
        for r in 0..<n {
            for j in 0..<S.count {            // nonzeros of W2 from row r of S
                let c = Stencil.mirror(r + S.offset + j, n)
                let (i, k) = ch.w2Mode == .convolution ? (r, c) : (c, r)
                if abs(w2(i, k) + entry(K, k, i)) > tolerance { return false }
            }
            for j in 0..<K.count {            // nonzeros of W1ᵀ from row r of W1
                let c = Stencil.mirror(r + K.offset + j, n)
                if abs(w2(c, r) + entry(K, r, c)) > tolerance { return false }
            }
        }
        return true
    }

    public func projectedStable(n: Int, margin: Double) throws -> ResidualBlock? { nil }

    public var summary: String {
        let parts = channels.indices.map { c in
            "W1=\(channels[c].w1.weights)@\(channels[c].w1.offset) W2\(channels[c].w2Mode == .transposed ? "ᵀ" : "")=\(channels[c].w2.weights)@\(channels[c].w2.offset) b1=\(channels[c].b1)"
        }
        return "residual: σ1=\(sigma1.summary) σ2=\(sigma2.summary) b2=\(b2); " + parts.joined(separator: "; ")
    }
}
