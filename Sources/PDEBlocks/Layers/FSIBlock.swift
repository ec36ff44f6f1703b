/// An FSI block (paper eq. 7, Fig. 1b): one cycle of L extrapolated diffusion steps
///
///     u_{ℓ+1} = α_ℓ·(u_ℓ − τ Σ_c K_cᵀ Φ_c(K_c u_ℓ)) + (1 − α_ℓ)·u_{ℓ−1},   ℓ = 0 … L−1,
///     α_ℓ = (4ℓ + 2)/(2ℓ + 3),   u_{−1} = u_0 = x,   out = u_L,
///
/// a diffusion block with a second, weighted skip connection. The inner step (filters,
/// diffusivities, τ) is shared by all L steps, so the parameters are those of `step`.
/// One cycle reaches the diffusion time `L(L+1)/3·τ`.
///
/// Stability: with linear diffusivities the cycle is the FED cycle of the same τ, whose
/// polynomial stays in [−1, 1] on the spectrum when `τ·λ_max(Σ_c K_cᵀK_c) ≤ 2`, so the
/// bound of Theorem 2 certifies it. With nonlinear diffusivities the extrapolation weights
/// `α_ℓ > 1` void the argument of Theorem 2 and the block is reported uncertified
/// (except L = 1, which is an explicit step of size `2τ/3`).
public struct FSIBlock: RepeatedStepBlock {
    public let step: DiffusionBlock
    public let cycleLength: Int

    public static let maxCycleLength = 10_000

    public init(step: DiffusionBlock, cycleLength: Int) throws {
        guard (1...Self.maxCycleLength).contains(cycleLength) else {
            throw PDEBlocksError.invalidArgument("FSI cycle length must be in 1...\(Self.maxCycleLength), got \(cycleLength)")
        }
        self.step = step
        self.cycleLength = cycleLength
    }

    public var kind: BlockKind { .fsi }
    public func setting(parameters p: UnsafeBufferPointer<Double>) throws -> FSIBlock {
        try FSIBlock(step: try step.setting(parameters: p), cycleLength: cycleLength)
    }

    // Tape: the states u_1 … u_{L−1} (u_0 is the block input).
    public func tapeCount(n: Int) -> Int { (cycleLength - 1) * n }
    public func scratchCount(n: Int) -> Int { (3 + DiffusionBlock.vjpScratch) * n }

    public func forward(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        tape: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = cycleLength
        cycle(x, scratch: scratch) { l in l == L ? out : slice(tape, (l - 1) * n, n) }
    }

    /// The L extrapolated steps of eq. 7 from u_0 = `x`, u_l stored where `state(l)` says
    /// (l ≥ 1; u_L must be the block's output). Forward keeps every u_l on the tape;
    /// inference alternates two buffers.
    private func cycle(
        _ x: UnsafeBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>,
        state: (Int) -> UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count
        for l in 0..<cycleLength {
            let a = FSI.alpha(l)
            let cur = l == 0 ? x : UnsafeBufferPointer(state(l))
            let prev = l <= 1 ? x : UnsafeBufferPointer(state(l - 1))
            let dst = state(l + 1)
            for i in 0..<n { dst[i] = a * cur[i] + (1 - a) * prev[i] }
            step.residual(cur, base: UnsafeBufferPointer(dst), scale: a, into: dst, scratch: scratch)
        }
    }

    /// Inference: one state besides `out` and the step's scratch (2n values for any L).
    /// State u_{l+1} overwrites u_{l−1} (its update reads u_{l−1} elementwise before
    /// writing), so u_k lives in `out` when L − k is even, else in the other buffer.
    public func inferenceScratchCount(n: Int) -> Int { 2 * n }

    public func infer(
        _ x: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = cycleLength
        let other = slice(scratch, 0, n), work = slice(scratch, n, n)
        cycle(x, scratch: work) { k in (L - k) % 2 == 0 ? out : other }
    }

    public func backward(
        _ v: UnsafeBufferPointer<Double>, input x: UnsafeBufferPointer<Double>,
        tape: UnsafeBufferPointer<Double>, gradIn: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = x.count, L = cycleLength
        // Adjoints ū_{ℓ+1}, ū_ℓ, ū_{ℓ−1} in three rotating buffers.
        var next = slice(scratch, 0, n), cur = slice(scratch, n, n), prev = slice(scratch, 2 * n, n)
        let work = slice(scratch, 3 * n, DiffusionBlock.vjpScratch * n)
        _ = next.update(fromContentsOf: v)
        cur.update(repeating: 0)
        prev.update(repeating: 0)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let a = FSI.alpha(l)
            let state = l == 0 ? x : slice(tape, (l - 1) * n, n)
            for i in 0..<n { cur[i] += a * next[i] }
            step.residualVJP(UnsafeBufferPointer(next), input: state, scale: a, gradX: cur, grad: grad, scratch: work)
            let target = l == 0 ? cur : prev
            for i in 0..<n { target[i] += (1 - a) * next[i] }
            (next, cur, prev) = (cur, prev, next)
            prev.update(repeating: 0)
        }
        _ = gradIn.update(fromContentsOf: next)
    }


    public func certificate(n: Int) throws -> BlockCertificate {
        try validate()
        if cycleLength == 1 {
            return try step.certificate(n: n, factor: FSI.alpha(0), what: "FSI cycle of length 1 = explicit step of size 2τ/3 (Theorem 2)", as: .fsi)
        }
        if step.diffusivities.allSatisfy(\.isLinear) {
            return try step.certificate(n: n, factor: 1, what: "linear FSI cycle = FED cycle, stable under Theorem 2's bound", as: .fsi)
        }
        let base = try step.certificate(n: n)
        return BlockCertificate(
            kind: kind, certified: false, tau: step.tau, tauBound: .nan, tauBoundLipschitz: .nan,
            reason: "FSI cycle (L = \(cycleLength)) with a nonlinear diffusivity: Theorem 2 covers explicit steps only, "
                + "the extrapolation weights α_ℓ > 1 void its argument (certified only for linear g or L = 1); "
                + "its inner step alone would be " + (base.certified ? "certified" : "uncertified"))
    }

    public func projectedStable(n: Int, margin: Double) throws -> FSIBlock? {
        let c = try certificate(n: n)
        guard !c.tauBound.isNaN, let s = try step.projected(bound: c.tauBound, margin: margin) else { return nil }
        return try FSIBlock(step: s, cycleLength: cycleLength)
    }

    public var summary: String { "fsi(L=\(cycleLength)) of " + step.summary }
}
