/// An implicit block (paper eq. 9, the recurrent reading of Sec. 2.7): L fixed-point
/// sweeps towards the implicit step `u = x − τ Σ_c K_cᵀ Φ_c(K_c u)` (eq. 8),
///
///     u_0 = x,   u_{ℓ+1} = x − τ Σ_c K_cᵀ Φ_c(K_c u_ℓ),   ℓ = 0 … L−1,   out = u_L,
///
/// every sweep fed by a skip connection from the block's input. L = 1 is the explicit
/// step (eq. 4). Parameters: those of `step`, shared by all sweeps.
///
/// Stability: L = 1 is Theorem 2. For L ≥ 2 with linear diffusivities the output is
/// `p(τA)x` with `p(t) = Σ_{k=0..L} (−t)^k`, and `|p(t)| ≤ 1` on `[0, 1]`, so
/// `τ·λ_max(Σ_c K_cᵀK_c) ≤ 1` certifies it (half of Theorem 2's bound). With nonlinear
/// diffusivities and L ≥ 2 only the exact implicit solution is norm-nonincreasing; finite
/// sweeps are reported uncertified.
public struct ImplicitBlock: RepeatedStepBlock {
    public let step: DiffusionBlock
    public let iterations: Int

    public static let maxIterations = 10_000

    public init(step: DiffusionBlock, iterations: Int) throws {
        guard (1...Self.maxIterations).contains(iterations) else {
            throw PDEBlocksError.invalidArgument("implicit block iterations must be in 1...\(Self.maxIterations), got \(iterations)")
        }
        self.step = step
        self.iterations = iterations
    }

    public var kind: BlockKind { .implicit }
    public func setting(parameters p: UnsafeBufferPointer<Double>) throws -> ImplicitBlock {
        try ImplicitBlock(step: try step.setting(parameters: p), iterations: iterations)
    }

    // Tape: the iterates u_1 … u_{L−1} (u_0 is the block input).
    public func tapeCount(n: Int) -> Int { (iterations - 1) * n }
    public func scratchCount(n: Int) -> Int { (2 + DiffusionBlock.vjpScratch) * n }

    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        tape: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = iterations
        for l in 0..<L {
            let src = l == 0 ? x : UnsafeBufferPointer(slice(tape, (l - 1) * n, n))
            let dst = l == L - 1 ? out : slice(tape, l * n, n)
            step.residual(src, base: x, scale: 1, into: dst, scratch: scratch)
        }
    }

    /// Inference: one iterate besides `out` and the step's scratch (2n values for any L);
    /// the iterates alternate between `out` and that buffer so that u_L lands in `out`.
    public func inferenceScratchCount(n: Int) -> Int { 2 * n }

    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = iterations
        let other = slice(scratch, 0, n), work = slice(scratch, n, n)
        func state(_ k: Int) -> UnsafeMutableBufferPointer<Double> { (L - k) % 2 == 0 ? out : other }
        for l in 0..<L {
            let src = l == 0 ? x : UnsafeBufferPointer(state(l))
            step.residual(src, base: x, scale: 1, into: state(l + 1), scratch: work)
        }
    }

    public func backward(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        tape: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = iterations
        var adj = slice(scratch, 0, n), nextAdj = slice(scratch, n, n)
        let work = slice(scratch, 2 * n, DiffusionBlock.vjpScratch * n)
        _ = adj.update(fromContentsOf: v)
        gradIn.update(repeating: 0)
        for l in stride(from: L - 1, through: 0, by: -1) {
            for i in 0..<n { gradIn[i] += adj[i] }
            let state = l == 0 ? x : slice(tape, (l - 1) * n, n)
            nextAdj.update(repeating: 0)
            step.residualVJP(UnsafeBufferPointer(adj), input: state, scale: 1, gradX: nextAdj, grad: grad, scratch: work)
            swap(&adj, &nextAdj)
        }
        for i in 0..<n { gradIn[i] += adj[i] }
    }


    public func certificate(n: Int) throws -> BlockCertificate {
        try validate()
        if iterations == 1 { return try step.certificate(n: n, factor: 1, what: "one fixed-point sweep = explicit step (Theorem 2)", as: .implicit) }
        if step.diffusivities.allSatisfy(\.isLinear) {
            return try step.certificate(n: n, factor: 2, what: "linear fixed-point sweeps (L = \(iterations)): |Σ_k (−t)^k| ≤ 1 for t = τλ ≤ 1", as: .implicit)
        }
        return BlockCertificate(
            kind: kind, certified: false, tau: step.tau, tauBound: .nan, tauBoundLipschitz: .nan,
            reason: "implicit block with L = \(iterations) ≥ 2 fixed-point sweeps and a nonlinear diffusivity: "
                + "Theorem 2 covers one explicit step, and finite sweeps of the implicit scheme are not norm-nonincreasing in general")
    }

    public func projectedStable(n: Int, margin: Double) throws -> ImplicitBlock? {
        let c = try certificate(n: n)
        guard !c.tauBound.isNaN, let s = try step.projected(bound: c.tauBound, margin: margin) else { return nil }
        return try ImplicitBlock(step: s, iterations: iterations)
    }

    public var summary: String { "implicit(L=\(iterations)) of " + step.summary }
}
