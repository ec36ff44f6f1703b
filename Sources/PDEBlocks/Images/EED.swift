/// Edge-enhancing anisotropic diffusion (EED; Weickert, "Anisotropic Diffusion in Image
/// Processing", 1998) as the explicit scheme of Theorem 2 with a per-pixel tensor:
///
///     u ← u − τ·Kᵀ M(u) K u,   K = [Kx; Ky] = gradient_2d(h),
///
/// `M(u) = g(|∇u_σ|²)·v₁v₁ᵀ + v₂v₂ᵀ` (`EEDTensor`: v₁ ∥ ∇u_σ, `M = I` where `∇u_σ = 0`),
/// `u_σ` the Gaussian presmoothed image (`GaussianSmoothing`, radius ⌈3σ⌉, mirrored).
/// `0 ⪯ M ⪯ sup g·I`, so every step with `τ ≤ 2/(sup g·λ_max(KxᵀKx + KyᵀKy))`
/// (`ImageStability.stableTau` with the gradient bank) keeps `‖u‖₂` nonincreasing; every
/// step keeps the mean.
///
/// Two schemes:
///  - `evolve`: explicit steps, `M` recomputed from the current `u` before every step;
///  - `evolveFED`: FED cycles (`FED.stepSizes`, Leja order) to a stopping time, with `M`
///    recomputed once per cycle (frozen within it — the linear case in which a FED cycle is
///    Euclidean stable for `τ_max` within the bound).
///
/// Inputs are `batch` row-major `height`×`width` images (any of them may be 1). Validation
/// comes first; `out` is written only when everything succeeded (it may be the same memory
/// as `f`, otherwise they must not overlap). Images are processed one after the other, the
/// rows of each split across `Parallelism.threads`; work buffers are allocated once per
/// call, nothing per step.
public enum EED {
    /// `2/(sup g·λ_max)` for the gradient bank of `gradient_2d(h)` on `height`×`width` images
    /// (`ImageStability.stableTau`): the largest step the explicit and FED schemes accept.
    public static func stableTau(height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity) throws -> Double {
        try ImageStability.stableTau(try Stencil2D.gradient(h: h), diffusivity: diffusivity, height: height, width: width)
    }

    /// `steps` explicit EED steps of size `tau` (see the type's documentation).
    ///
    /// - Throws: `.invalidArgument` on a bad shape, `h`, `sigma` (negative, non-finite, or
    ///   ⌈3σ⌉ too large), `tau` (not positive and finite) or negative `steps`; `.nonFinite`
    ///   on a NaN/∞ in `f`; `.unstable` when `checkStability` and `tau` is above `stableTau`;
    ///   `.nonFinite` when the result overflows (only possible without the check). `out` is
    ///   untouched whenever it throws.
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        batch: Int, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity, sigma: Double,
        tau: Double, steps: Int, checkStability: Bool = true
    ) throws {
        let gauss = try validate(f, out, batch: batch, height: height, width: width, h: h, sigma: sigma)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        if checkStability { try requireStable(tau, height: height, width: width, h: h, diffusivity: diffusivity, what: "EED") }
        try run(f, into: out, batch: batch, height: height, width: width, gauss: gauss) { x, y, w in
            for _ in 0..<steps {
                w.tensor(x, h: h, diffusivity: diffusivity)
                w.step(x, into: y, h: h, tau: tau)
                swap(&x, &y)
            }
        }
    }

    /// What `evolveFED` chose.
    public struct FEDPlan: Equatable, Sendable {
        /// Number of cycles M (each recomputes `M(u)` once).
        public let cycles: Int
        /// Cycle length L.
        public let cycleLength: Int
        /// The FED `τ_max` used (`≤` the requested one, so that M cycles reach `time` exactly).
        public let tauMax: Double
    }

    /// FED-accelerated EED to the stopping time `time`: `cycles` FED cycles (default
    /// `max(1, min(5, ⌊time/(2τ)⌋))`, as `Evolve`), each of the smallest length `L` whose
    /// cycle time `τ·L(L+1)/3` with `τ = tauMax` (default: `stableTau`) reaches `time/cycles`
    /// (`CycleLength.forCycleTime`), run with `τ_max = 3·(time/cycles)/(L(L+1))` and the
    /// Leja order of the step sizes (κ-cycle order above `FEDOrdering.lejaMaximum`). The
    /// tensor `M` is computed from `u` at the start of each cycle and frozen during it.
    /// `time = 0` copies `f`. Throws as `evolve` (`tauMax` above the bound: `.unstable`
    /// when `checkStability`).
    @discardableResult
    public static func evolveFED(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        batch: Int, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity, sigma: Double,
        time: Double, tauMax: Double? = nil, cycles: Int? = nil, checkStability: Bool = true
    ) throws -> FEDPlan {
        let gauss = try validate(f, out, batch: batch, height: height, width: width, h: h, sigma: sigma)
        try Check.finite(time, "t")
        guard time >= 0 else { throw PDEBlocksError.invalidArgument("stopping time t must be nonnegative, got \(time)") }
        let bound = try stableTau(height: height, width: width, h: h, diffusivity: diffusivity)
        let tau = tauMax ?? bound
        try Check.positiveFinite(tau, "tau_max")
        if checkStability { try requireStable(tau, height: height, width: width, h: h, diffusivity: diffusivity, what: "EED (FED)") }
        if let cycles { try Check.positive(cycles, "cycles") }
        let M = time == 0 ? 0 : (cycles ?? max(1, min(EvolveOptions.defaultCycles, Int(min(time / (2 * tau), 1e9)))))
        let L = M == 0 ? 1 : try CycleLength.forCycleTime(time / Double(M), tauBound: tau)
        let tauUsed = M == 0 ? tau : min(tau, 3 * (time / Double(M)) / (Double(L) * Double(L + 1)))
        let taus = try FED.stepSizes(
            cycleLength: L, tauMax: tauUsed, ordering: L <= FEDOrdering.lejaMaximum ? .leja : .kappaCycle)
        try run(f, into: out, batch: batch, height: height, width: width, gauss: gauss) { x, y, w in
            for _ in 0..<M {
                w.tensor(x, h: h, diffusivity: diffusivity)
                for t in taus {
                    w.step(x, into: y, h: h, tau: t)
                    swap(&x, &y)
                }
            }
        }
        return FEDPlan(cycles: M, cycleLength: L, tauMax: tauUsed)
    }

    // MARK: - Array overloads

    /// `evolve` on a row-major `(batch, height, width)` array.
    public static func evolve(
        _ f: [Double], batch: Int = 1, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity,
        sigma: Double, tau: Double, steps: Int, checkStability: Bool = true
    ) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the EED result")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer {
                try evolve(fb, into: $0, batch: batch, height: height, width: width, h: h, diffusivity: diffusivity,
                           sigma: sigma, tau: tau, steps: steps, checkStability: checkStability)
            }
        }
        return out
    }

    /// `evolveFED` on a row-major `(batch, height, width)` array.
    public static func evolveFED(
        _ f: [Double], batch: Int = 1, height: Int, width: Int, h: Double = 1, diffusivity: Diffusivity,
        sigma: Double, time: Double, tauMax: Double? = nil, cycles: Int? = nil, checkStability: Bool = true
    ) throws -> [Double] {
        var out = try Memory.zeros(f.count, for: "the EED result")
        try f.withUnsafeBufferPointer { fb in
            try out.withUnsafeMutableBufferPointer {
                _ = try evolveFED(fb, into: $0, batch: batch, height: height, width: width, h: h, diffusivity: diffusivity,
                              sigma: sigma, time: time, tauMax: tauMax, cycles: cycles, checkStability: checkStability)
            }
        }
        return out
    }

    // MARK: - Plumbing

    /// Checks the image block, its output, `h` and `sigma`; returns the Gaussian.
    static func validate(
        _ f: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>,
        batch: Int, height: Int, width: Int, h: Double, sigma: Double
    ) throws -> GaussianSmoothing {
        try EED.validateImages(f, out, batch: batch, height: height, width: width)
        try Check.positiveFinite(h, "h")
        return try GaussianSmoothing(sigma: sigma)
    }

    /// Throws unless `batch, height, width ≥ 1`, `f` and `out` hold `batch·height·width`
    /// values (checked for overflow) and every value of `f` is finite.
    package static func validateImages(
        _ f: UnsafeBufferPointer<Double>, _ out: UnsafeMutableBufferPointer<Double>, batch: Int, height: Int, width: Int
    ) throws {
        try Check.positive(batch, "batch")
        try Check.positive(height, "height")
        try Check.positive(width, "width")
        let n = try Memory.count(height, width, for: "a \(height)×\(width) image")
        let total = try Memory.count(batch, n, for: "\(batch) images of \(height)×\(width)")
        guard f.count == total else {
            throw PDEBlocksError.invalidArgument("f holds \(f.count) values, expected batch·height·width = \(batch)·\(height)·\(width)")
        }
        try SignalLayout.validateOutput(out, count: total, name: "out")
        if !ScaledNorm.largestMagnitude(f).isFinite { try Check.allFinite(f, "f", columns: n) }
    }

    /// Throws `.unstable` when `tau` exceeds `stableTau`. Cheap when τ is clearly below it:
    /// `12/h²` (Hölder's `‖K‖₁‖K‖_∞` with the mirror folded into `|w|`: rows 2/h, columns
    /// 6/h) bounds every certified `λ_max` that `ImageStability` returns for the gradient bank
    /// (the true value is below 8/h²), so `τ ≤ 2/(sup g·12(1+10⁻⁹)/h²)` is accepted without
    /// computing it, and the refusals stay exactly those of `stableTau`.
    static func requireStable(
        _ tau: Double, height: Int, width: Int, h: Double, diffusivity: Diffusivity, what: String
    ) throws {
        let quick = 2 / (diffusivity.supG * (12 * (1 + 1e-9) / (h * h)))
        if quick.isFinite && tau <= quick { return }
        let bound = try stableTau(height: height, width: width, h: h, diffusivity: diffusivity)
        guard tau <= bound else {
            throw PDEBlocksError.unstable(
                "\(what): tau = \(tau) exceeds the Euclidean stability bound \(bound) = 2/(sup g·λ_max(KxᵀKx + KyᵀKy)) "
                    + "of Theorem 2 (\(height)×\(width) image, h = \(h)); pass check_stability=False "
                    + "(Swift: checkStability: false; C: PDB_UNCHECKED) to run anyway")
        }
    }

    /// Work buffers for one image, allocated once per call.
    struct Workspace {
        let height: Int, width: Int
        let gauss: GaussianSmoothing
        /// u_σ, then the tensor entries a, b, c, then the Gaussian's and the step's scratch.
        let smoothed: UnsafeMutablePointer<Double>
        let a: UnsafeMutablePointer<Double>, b: UnsafeMutablePointer<Double>, c: UnsafeMutablePointer<Double>
        let gaussWork: UnsafeMutableBufferPointer<Double>
        let stepWork: UnsafeMutableBufferPointer<Double>

        /// `M(x)` into a, b, c.
        func tensor(_ x: UnsafeMutablePointer<Double>, h: Double, diffusivity: Diffusivity) {
            gauss.smooth(x, height: height, width: width, into: smoothed, work: gaussWork)
            EEDTensor.compute(smoothed, height: height, width: width, h: h, diffusivity: diffusivity, a: a, b: b, c: c)
        }

        /// `y = x − τ Kᵀ M K x`.
        func step(_ x: UnsafeMutablePointer<Double>, into y: UnsafeMutablePointer<Double>, h: Double, tau: Double) {
            EEDStep.apply(x, height: height, width: width, h: h, tau: tau, a: a, b: b, c: c, into: y, scratch: stepWork)
        }
    }

    /// Runs `body(x, y, workspace)` on every image (x holds the image, y is a spare; the
    /// body leaves its result in `x`, swapping as it goes), in a result block that is checked
    /// for finiteness and then copied to `out`.
    private static func run(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        batch: Int, height: Int, width: Int, gauss: GaussianSmoothing,
        _ body: (inout UnsafeMutablePointer<Double>, inout UnsafeMutablePointer<Double>, Workspace) -> Void
    ) throws {
        let n = height * width
        let threads = max(1, min(Parallelism.threads, WorkerPool.maxWidth))
        let gaussLength = gauss.workLength(height: height, width: width)
        let stepLength = try Memory.count(threads, EEDStep.scratchLength(width: width), for: "the EED step's scratch")
        let perImage = try Memory.count(5, n, for: "the EED work buffers")
        let length = try Memory.sum(try Memory.sum(perImage, gaussLength, for: "the EED work buffers"), stepLength,
                                    for: "the EED work buffers")
        var work = try Memory.zeros(length, for: "the EED work buffers")
        var result = try Memory.zeros(f.count, for: "the EED result")
        work.withUnsafeMutableBufferPointer { wb in
            result.withUnsafeMutableBufferPointer { rb in
                let p = wb.baseAddress!
                let w = Workspace(
                    height: height, width: width, gauss: gauss, smoothed: p + n, a: p + 2 * n, b: p + 3 * n, c: p + 4 * n,
                    gaussWork: UnsafeMutableBufferPointer(start: p + 5 * n, count: gaussLength),
                    stepWork: UnsafeMutableBufferPointer(start: p + 5 * n + gaussLength, count: stepLength))
                for image in 0..<batch {
                    let slot = rb.baseAddress! + image * n
                    slot.update(from: f.baseAddress! + image * n, count: n)
                    var x = slot, y = p
                    body(&x, &y, w)
                    if x != slot { slot.update(from: x, count: n) }
                }
            }
        }
        try result.withUnsafeBufferPointer { rb in
            try FiniteResult.require(rb, n: n, what: "EED", cause: {
                "the step size is above the stability bound or the values overflow double precision"
            })
            _ = out.update(fromContentsOf: rb)
        }
    }
}
