/// An FSI block on images (paper eq. 7, Fig. 1b, with the reaction term of
/// `DiffusionBlock2D`): one cycle of L extrapolated steps of the 2D diffusion–reaction step
/// `S(u; f) = u − τ(Σ_c K_cᵀ Φ_c(K_c u) + μ(u − f))`,
///
///     u_{ℓ+1} = α_ℓ · S(u_ℓ; f) + (1 − α_ℓ) · u_{ℓ−1},   ℓ = 0 … L−1,
///     α_ℓ = (4ℓ + 2)/(2ℓ + 3),   u_{−1} = u_0 = u,   out = u_L,
///
/// a diffusion block with a second, weighted skip connection; the step (filters,
/// diffusivities, τ, μ) is shared by the L steps, so the parameters are the step's. One cycle
/// reaches the diffusion time `L(L+1)/3 · τ`.
///
/// Backward: the cycle's states are recomputed from the block input (the network's tape
/// keeps block inputs only), then the adjoints run back through eq. 7:
/// `ū_ℓ += (∂S/∂u_ℓ)ᵀ(α_ℓ ū_{ℓ+1})`, `ū_{ℓ−1} += (1 − α_ℓ) ū_{ℓ+1}` (into ū_0 for ℓ = 0), and
/// the parameter and data gradients of the steps `α_ℓ S(u_ℓ; f)` are summed.
///
/// Stability (the certificate concerns `u ↦ cycle(u)` without the data input): for L = 1
/// the cycle is an explicit step of size `2τ/3` (Theorem 2: certified iff
/// `0 ≤ 2τ/3 ≤ 2/(sup g·λ_max + μ)`); with linear diffusivities it is the FED cycle of the
/// symmetric `A = Σ_c K_cᵀK_c + μI`, whose polynomial stays in [−1, 1] on the spectrum when
/// `0 ≤ τ ≤ 2/(λ_max + μ)`. With nonlinear diffusivities and L > 1 the weights `α_ℓ > 1` void
/// Theorem 2's argument and the block is reported uncertified (as the 1D `FSIBlock`).
public struct FSIBlock2D: Sendable {
    public let step: DiffusionBlock2D
    public let cycleLength: Int

    /// The longest cycle: the backward pass keeps its `L − 1` intermediate states.
    public static let maxCycleLength = 64

    public init(step: DiffusionBlock2D, cycleLength: Int) throws {
        guard (1...Self.maxCycleLength).contains(cycleLength) else {
            throw PDEBlocksError.invalidArgument("2D FSI cycle length must be in 1...\(Self.maxCycleLength), got \(cycleLength)")
        }
        (self.step, self.cycleLength) = (step, cycleLength)
    }

    public var parameterCount: Int { step.parameterCount }
    public var parameters: [Double] { step.parameters }

    public func setting(parameters p: [Double]) throws -> FSIBlock2D {
        try FSIBlock2D(step: try step.setting(parameters: p), cycleLength: cycleLength)
    }

    /// The step's data input (nil without a reaction term).
    func data(_ f: UnsafeBufferPointer<Double>) -> UnsafeBufferPointer<Double>? { step.muParameter == nil ? nil : f }

    /// The L steps of eq. 7 from `u_0 = u`; `state(k)` is where u_k goes (k ≥ 1; u_L must be
    /// the block's output, and u_{k+1} may take u_{k−1}'s place: it is combined elementwise).
    /// `s` receives each `S(u_ℓ; f)`, `z` is the step's channel scratch (C·n).
    func cycle(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>, height: Int, width: Int,
        s: UnsafeMutableBufferPointer<Double>, z: UnsafeMutableBufferPointer<Double>,
        state: (Int) -> UnsafeMutableBufferPointer<Double>
    ) {
        for l in 0..<cycleLength {
            let a = FSI.alpha(l)
            let cur = l == 0 ? u : UnsafeBufferPointer(state(l))
            let prev = l <= 1 ? u : UnsafeBufferPointer(state(l - 1))
            step.forwardOne(cur, data(f), height: height, width: width, z: z, out: s)
            let dst = state(l + 1)
            for i in 0..<s.count { dst[i] = a * s[i] + (1 - a) * prev[i] }
        }
    }
}

extension FSIBlock2D: ImageBlock {
    public var kind: ImageBlockKind { .fsi }

    public func validate(height: Int, width: Int) throws { try step.validate(height: height, width: width) }

    /// Backward: `L − 1` states, five adjoint images and the step's backward scratch (which
    /// also covers the forward pass's `C + 2` images).
    public func scratchCount(pixels n: Int) -> Int { (cycleLength - 1 + 5) * n + step.backwardScratchCount(pixels: n) }

    /// Forward: `u_k` lives in `out` when `L − k` is even, else in a scratch image.
    public func forwardImage(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, L = cycleLength
        let other = slice(scratch, 0, n), s = slice(scratch, n, n), z = slice(scratch, 2 * n, step.filters.count * n)
        cycle(u, data: f, height: height, width: width, s: s, z: z) { k in (L - k) % 2 == 0 ? out : other }
    }

    public func backwardImage(
        _ v: UnsafeBufferPointer<Double>, input u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>,
        height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>, gradF: UnsafeMutableBufferPointer<Double>,
        grad: UnsafeMutableBufferPointer<Double>, scratch: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, L = cycleLength
        let states = slice(scratch, 0, (L - 1) * n)
        var next = slice(scratch, (L - 1) * n, n), cur = slice(scratch, L * n, n), prev = slice(scratch, (L + 1) * n, n)
        let scaled = slice(scratch, (L + 2) * n, n), stepGrad = slice(scratch, (L + 3) * n, n)
        let work = slice(scratch, (L + 4) * n, step.backwardScratchCount(pixels: n))
        // The states u_1 … u_{L−1} (u_L, the output, is not needed): u_L goes to `scaled`.
        cycle(u, data: f, height: height, width: width, s: stepGrad, z: slice(work, 0, step.filters.count * n)) { k in
            k == L ? scaled : slice(states, (k - 1) * n, n)
        }
        _ = next.update(fromContentsOf: v)
        cur.update(repeating: 0)
        prev.update(repeating: 0)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let a = FSI.alpha(l)
            let state = l == 0 ? u : UnsafeBufferPointer(slice(states, (l - 1) * n, n))
            for i in 0..<n { scaled[i] = a * next[i] }
            step.backwardOne(UnsafeBufferPointer(scaled), state, data(f), height: height, width: width, gradU: stepGrad,
                             gradF: step.muParameter == nil ? nil : gradF, grad: grad, work: work)
            let target = l == 0 ? cur : prev
            for i in 0..<n {
                cur[i] += stepGrad[i]
                target[i] += (1 - a) * next[i]
            }
            (next, cur, prev) = (cur, prev, next)
            prev.update(repeating: 0)
        }
        _ = gradU.update(fromContentsOf: next)
    }

    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) { step.convertGradient(grad) }

    public func certificate(height: Int, width: Int) throws -> ImageBlockCertificate {
        let bound = try step.certifiedTauBound(height: height, width: width)
        let tau = step.tau
        if cycleLength == 1 || step.diffusivities.allSatisfy(\.isLinear) {
            // L = 1: a step of size α_0 τ = 2τ/3; linear g: the FED cycle of τ.
            let (limit, what) = cycleLength == 1
                ? (bound / FSI.alpha(0), "an FSI cycle of length 1 is an explicit step of size 2τ/3 (Theorem 2)")
                : (bound, "a linear FSI cycle is the FED cycle of τ, stable while τ ≤ 2/(λ_max(Σ_c K_cᵀK_c) + μ)")
            let ok = tau >= 0 && tau <= limit
            return ImageBlockCertificate(
                kind: .fsi, certified: ok, tau: tau, tauBound: limit,
                reason: (ok ? "certified: 0 ≤ τ = \(tau) ≤ \(limit)" : tau < 0 ? "not certified: τ = \(tau) is negative"
                            : "not certified: τ = \(tau) exceeds \(limit)") + " on \(height)×\(width) images: " + what)
        }
        let inner = tau >= 0 && tau <= bound
        return ImageBlockCertificate(
            kind: .fsi, certified: false, tau: tau, tauBound: .nan,
            reason: "not certified: an FSI cycle (L = \(cycleLength)) with a nonlinear diffusivity — Theorem 2 covers "
                + "explicit steps only and the extrapolation weights α_ℓ > 1 void its argument (certified only for "
                + "linear g or L = 1); its step alone would be " + (inner ? "certified" : "uncertified"))
    }

    /// Record: `u32 L` and the step's `DiffusionBlock2D` record.
    public func encode(to w: inout NetworkFile.Writer) {
        w.u32(UInt32(cycleLength))
        step.encode(to: &w)
    }

    public static func decode(from r: inout NetworkFile.Reader, index k: Int) throws -> FSIBlock2D {
        let L = try r.count(max: maxCycleLength, "FSI cycle length")
        return try FSIBlock2D(step: try DiffusionBlock2D.decode(from: &r, index: k), cycleLength: L)
    }

    public var summary: String { "fsi2D(L=\(cycleLength)) of " + step.summary }
}
