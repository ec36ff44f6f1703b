/// Options of `Evolve` (all optional; `nil` lets `Evolve.plan` choose). An option that
/// does not apply to the chosen scheme is an error, so a misspelt intent never
/// passes silently.
///
/// | option | schemes | meaning | default |
/// |---|---|---|---|
/// | `tau` | all | largest step size to use (FSI: inner τ; FED: τ_max) | the bound |
/// | `cycles` | fsi, fed | number of cycles `M` | `max(1, min(5, ⌊T/(2τ)⌋))` |
/// | `ordering` | fed | step order | `.leja` |
/// | `update` | fsi, fed | when Φ is evaluated | fsi `.perStep` (eq. 7), fed `.perCycle` |
/// | `iterations` | implicit | sweeps per step (maximum) | 100 |
/// | `tolerance` | implicit | stop a step when the update is ≤ it (max-norm) | `10⁻³·τ·‖KᵀΦ(Kf)‖_∞` |
/// | `contraction` | implicit | τ as a fraction of the contraction bound | 0.5 |
public struct EvolveOptions: Sendable, Equatable {
    public var tau: Double?
    public var cycles: Int?
    public var ordering: FEDOrdering?
    public var update: NonlinearityUpdate?
    public var iterations: Int?
    public var tolerance: Double?
    public var contraction: Double?
    /// Refuse a `tau` above the stability bound (implicit: the contraction bound).
    public var checkStability: Bool

    public init(
        tau: Double? = nil, cycles: Int? = nil, ordering: FEDOrdering? = nil, update: NonlinearityUpdate? = nil,
        iterations: Int? = nil, tolerance: Double? = nil, contraction: Double? = nil, checkStability: Bool = true
    ) {
        self.tau = tau
        self.cycles = cycles
        self.ordering = ordering
        self.update = update
        self.iterations = iterations
        self.tolerance = tolerance
        self.contraction = contraction
        self.checkStability = checkStability
    }

    /// Default number of FSI/FED cycles: five, but no more than `⌊T/(2τ)⌋`, so that short
    /// runs keep cycles of length ≥ 2. The error of M cycles falls roughly like 1/M while
    /// the cost grows like √M; `bench/schemes.py` measures the accuracy of this default
    /// against the explicit scheme at its bound.
    public static let defaultCycles = 5
    /// Default implicit sweeps per step (maximum, with a tolerance).
    public static let defaultIterations = 100
    /// Default implicit tolerance, relative to the first step's change `τ·‖KᵀΦ(Kf)‖_∞`:
    /// each step's fixed-point error is then about a thousandth of the initial per-step
    /// change, so over `T/τ` steps the solver error stays below about 10⁻³·T·‖∂t u(0)‖_∞
    /// (with the default contraction q = 0.5, where q/(1−q) = 1). (A tolerance
    /// relative to `‖f‖_∞` would be meaningless when the diffusion acts on a much smaller
    /// scale than the signal's range, e.g. faint noise on a large step.)
    public static let defaultRelativeTolerance = 1e-3
    /// Default implicit contraction factor `q = τ·L_Φ·‖K‖²`.
    public static let defaultContraction = 0.5
}

/// What `Evolve` chose (from `plan`) and did (from `run`).
public struct EvolveReport: Sendable, Equatable {
    public var scheme: Scheme
    /// The requested stopping time T.
    public var time: Double
    /// The step size used: explicit/implicit steps, FSI's inner τ, FED's τ_max.
    public var tau: Double
    /// The bound τ was held to: `2/(sup g·‖K‖²)`, or `1/(L_Φ·‖K‖²)` for implicit.
    public var tauBound: Double
    /// Time steps (explicit, implicit) or cycles (FSI, FED).
    public var steps: Int
    /// Length `L` of every cycle (FSI, FED); 1 for explicit and implicit.
    public var cycleLength: Int
    /// Diffusion-block evaluations per signal: steps, cycles·L, or (implicit) the
    /// sweeps actually made, the largest over the batch (`run` fills it in).
    public var blockEvaluations: Int
    /// The diffusion time the steps add up to (T up to rounding).
    public var timeReached: Double
    /// FED step order; `nil` for other schemes.
    public var ordering: FEDOrdering?
    /// FSI/FED nonlinearity update; `nil` for other schemes.
    public var update: NonlinearityUpdate?
    /// Implicit: sweeps per step (maximum); `nil` for other schemes.
    public var iterations: Int?
    /// Implicit: the tolerance; `nil` for other schemes.
    public var tolerance: Double?
    /// Implicit: the largest final fixed-point residual of any step (`run` fills it in).
    public var residual: Double?

    /// Implicit: whether every step reached the tolerance; true for other schemes.
    public var converged: Bool {
        guard let tolerance, let residual else { return true }
        return tolerance == 0 || residual <= tolerance
    }
}

extension Evolve {
    /// The largest number of steps (or cycles) `plan` accepts.
    public static let maximumSteps = 1 << 40

    /// Chooses step size and step/cycle counts to reach diffusion time `T` with
    /// `scheme`, without running anything:
    ///
    /// - explicit / implicit: `steps = ⌈T/τ̂⌉`, `τ = T/steps ≤ τ̂`, where τ̂ is `tau`
    ///   or the bound (implicit: `contraction` × the contraction bound);
    /// - FSI / FED: `M` cycles of time `θ = T/M`, `L` by the cycle-time rule
    ///   (`CycleLength.forCycleTime`), `τ = 3θ/(L(L+1)) ≤ τ̂`.
    ///
    /// `initialRate` (`‖KᵀΦ(Kf)‖_∞`, the largest over the batch) sets the default
    /// implicit tolerance.
    /// - Throws: on a negative or non-finite `T`, an option that does not apply to
    ///   `scheme` or is out of range, a `tau` above the bound (unless
    ///   `checkStability` is false), or a run that would need more than
    ///   `maximumSteps` steps or cycles longer than `CycleLength.maximum`.
    public static func plan(
        time T: Double, scheme: Scheme, stencil: Stencil, diffusivity: Diffusivity, n: Int,
        options: EvolveOptions = EvolveOptions(), initialRate: Double = 0
    ) throws -> EvolveReport {
        guard T.isFinite, T >= 0 else {
            throw PDEBlocksError.invalidArgument("stopping time T must be nonnegative and finite, got \(T)")
        }
        try Check.atLeast(n, 2, "signal length n")
        return try plan(time: T, scheme: scheme, options: options, initialRate: initialRate, bounds: PlanBounds(
            stable: { try stableTau(stencil: stencil, diffusivity: diffusivity, n: n) },
            contraction: { try contractionTau(stencil: stencil, diffusivity: diffusivity, n: n) },
            requireStable: { try requireStable(tau: $0, stencil: stencil, diffusivity: diffusivity, n: n, what: $1) },
            requireContraction: { try requireContraction(tau: $0, stencil: stencil, diffusivity: diffusivity, n: n) }))
    }

    /// The step-size bounds `plan` holds τ to, for any operator (signals: `Stencil`; images:
    /// a filter bank).
    struct PlanBounds {
        /// `2/(sup g·‖K‖²)`.
        let stable: () throws -> Double
        /// `1/(L_Φ·‖K‖²)`.
        let contraction: () throws -> Double
        /// Throws `.unstable` when τ is above `stable` (the string names the caller).
        let requireStable: (Double, String) throws -> Void
        /// Throws `.unstable` when τ violates the contraction condition.
        let requireContraction: (Double) throws -> Void
    }

    /// `plan` with the operator given by its bounds (T already validated).
    static func plan(
        time T: Double, scheme: Scheme, options: EvolveOptions, initialRate: Double, bounds: PlanBounds
    ) throws -> EvolveReport {
        try validateApplicable(options, scheme)
        if let tau = options.tau { try Check.positiveFinite(tau, "tau") }

        if scheme == .implicit {
            let bound = try bounds.contraction()
            if options.tau != nil && options.contraction != nil {
                throw PDEBlocksError.invalidArgument("give either tau or contraction for the implicit scheme, not both")
            }
            let q = options.contraction ?? EvolveOptions.defaultContraction
            try Check.positiveFinite(q, "contraction")
            if options.checkStability && q >= 1 {
                throw PDEBlocksError.unstable(
                    "implicit scheme: contraction = \(q) must be below 1 (tau = contraction/(L_Φ·‖K‖²) with the "
                        + "contraction bound 1/(L_Φ·‖K‖²) = \(bound)); pass check_stability=False "
                        + "(Swift: checkStability: false; C: PDB_UNCHECKED) to run anyway")
            }
            let tauHat = options.tau ?? q * bound
            if options.checkStability {
                try bounds.requireContraction(tauHat)
            }
            let iterations = options.iterations ?? EvolveOptions.defaultIterations
            try Check.positive(iterations, "iterations")
            let (steps, tau) = try uniformSteps(T, tauHat)
            let tol: Double
            if let given = options.tolerance {
                guard given.isFinite, given >= 0 else {
                    throw PDEBlocksError.invalidArgument("tol must be nonnegative and finite, got \(given)")
                }
                tol = given
            } else {
                let rate = initialRate.isFinite ? initialRate : 0
                tol = max(EvolveOptions.defaultRelativeTolerance * tau * rate, Double.leastNormalMagnitude)
            }
            return EvolveReport(
                scheme: scheme, time: T, tau: tau, tauBound: bound, steps: steps, cycleLength: 1,
                blockEvaluations: 0, timeReached: Double(steps) * tau, ordering: nil, update: nil,
                iterations: iterations, tolerance: tol, residual: nil)
        }

        let bound = try bounds.stable()
        let tauHat = options.tau ?? bound
        if options.checkStability, options.tau != nil {
            try bounds.requireStable(tauHat, "evolve (\(scheme.name))")
        }
        if scheme == .explicit {
            let (steps, tau) = try uniformSteps(T, tauHat)
            return EvolveReport(
                scheme: scheme, time: T, tau: tau, tauBound: bound, steps: steps, cycleLength: 1,
                blockEvaluations: steps, timeReached: Double(steps) * tau, ordering: nil, update: nil,
                iterations: nil, tolerance: nil, residual: nil)
        }

        // FSI and FED: M cycles by the cycle-time rule.
        let ordering: FEDOrdering? = scheme == .fed ? (options.ordering ?? .leja) : nil
        let update = options.update ?? (scheme == .fsi ? .perStep : .perCycle)
        let cycles: Int
        if let given = options.cycles {
            try Check.positive(given, "cycles")
            guard given <= maximumSteps else {
                throw PDEBlocksError.invalidArgument("cycles must be at most \(maximumSteps), got \(given)")
            }
            cycles = T > 0 ? given : 0
        } else if T > 0 {
            let fit = (T / (2 * tauHat)).rounded(.down)  // ≥ 0; 0 when tauHat = ∞
            cycles = fit >= Double(EvolveOptions.defaultCycles) ? EvolveOptions.defaultCycles : max(1, Int(fit))
        } else {
            cycles = 0
        }
        guard cycles > 0 else {
            return EvolveReport(
                scheme: scheme, time: T, tau: tauHat.isFinite ? tauHat : 0, tauBound: bound, steps: 0, cycleLength: 1,
                blockEvaluations: 0, timeReached: 0, ordering: ordering, update: update,
                iterations: nil, tolerance: nil, residual: nil)
        }
        let theta = T / Double(cycles)
        let L = try CycleLength.forCycleTime(theta, tauBound: tauHat)
        try ordering?.validate(L)
        // θ/(L(L+1))·3 rather than 3θ/(L(L+1)): no overflow for θ near the top of the range
        let tau = min(theta / (Double(L) * Double(L + 1)) * 3, tauHat)
        let (evaluations, overflow) = cycles.multipliedReportingOverflow(by: L)
        guard !overflow, evaluations <= maximumSteps else {
            throw PDEBlocksError.invalidArgument("\(cycles) cycles of length \(L) exceed \(maximumSteps) block evaluations")
        }
        // The largest inner step the scheme will take: FSI α_{L−1}·τ (< 2τ); FED τ_{L−1} =
        // τ/(2 sin²(π/(2L+1))). With a huge T (and an operator whose bound allows it) these
        // overflow although T itself is finite: say so about T, not about a derived τ.
        let sine = sin(Double.pi / Double(2 * L + 1))
        let largestStep = scheme == .fed ? tau / (2 * sine * sine) : FSI.alpha(L - 1) * tau
        let reached = Double(cycles) * CycleLength.cycleTime(tau: tau, cycleLength: L)
        guard tau > 0, largestStep.isFinite, reached.isFinite else {
            throw PDEBlocksError.invalidArgument(
                "stopping time T = \(T) is too large for double precision: \(scheme.name) with \(cycles) cycle(s) of "
                    + "length \(L) would take inner steps of up to \(largestStep) (tau = \(tau)), beyond 1.8e308; "
                    + "give a smaller T")
        }
        return EvolveReport(
            scheme: scheme, time: T, tau: tau, tauBound: bound, steps: cycles, cycleLength: L,
            blockEvaluations: evaluations, timeReached: Double(cycles) * CycleLength.cycleTime(tau: tau, cycleLength: L),
            ordering: ordering, update: update, iterations: nil, tolerance: nil, residual: nil)
    }

    /// Relative slack of the step-count rules: a ratio within it above an integer
    /// rounds down (T = 10⁴·τ̂ takes 10⁴ steps, not 10⁴ + 1 because of a rounding error);
    /// τ is then clamped to τ̂, so the steps reach T up to this relative amount.
    static let roundingSlack = 1e-14

    /// `steps = ⌈T/τ̂⌉` (1 when τ̂ = ∞ and T > 0) and `τ = min(T/steps, τ̂)`.
    static func uniformSteps(_ T: Double, _ tauHat: Double) throws -> (Int, Double) {
        guard T > 0 else { return (0, tauHat.isFinite ? tauHat : 0) }
        let count = (T / tauHat * (1 - roundingSlack)).rounded(.up)
        guard count <= Double(maximumSteps) else {
            throw PDEBlocksError.invalidArgument(
                "reaching T = \(T) with steps of at most \(tauHat) needs more than \(maximumSteps) steps")
        }
        let steps = max(1, Int(count))
        return (steps, min(T / Double(steps), tauHat))
    }

    /// Throws when an option is set that `scheme` does not use.
    static func validateApplicable(_ o: EvolveOptions, _ scheme: Scheme) throws {
        let given: [(String, Bool, Set<Scheme>)] = [
            ("cycles", o.cycles != nil, [.fsi, .fed]),
            ("ordering (Python: reorder)", o.ordering != nil, [.fed]),
            ("update", o.update != nil, [.fsi, .fed]),
            ("iterations", o.iterations != nil, [.implicit]),
            ("tol", o.tolerance != nil, [.implicit]),
            ("contraction", o.contraction != nil, [.implicit]),
        ]
        for (name, isSet, schemes) in given where isSet && !schemes.contains(scheme) {
            let users = Scheme.allCases.filter { schemes.contains($0) }.map(\.name).joined(separator: ", ")
            throw PDEBlocksError.invalidArgument(
                "option '\(name)' does not apply to scheme '\(scheme.name)' (it is for: \(users))")
        }
    }
}
