/// The cycle shape: how often a level visits the next coarser one.
public enum CycleKind: Int32, Sendable, CaseIterable {
    /// One coarse visit per level (`γ = 1`). Cost O(n).
    case v = 0
    /// Two coarse visits per level (`γ = 2`), i.e. two V-shaped sub-cycles concatenated.
    /// In 1D (coarsening factor 2) this costs O(n log n).
    case w = 1
    /// An F-cycle on the coarse level followed by a V-cycle there. Cost O(n).
    case f = 2

    /// `"V"`, `"W"` or `"F"`.
    public var name: String {
        switch self {
        case .v: "V"
        case .w: "W"
        case .f: "F"
        }
    }

    /// Looks a cycle up by name (`"V"`, `"W"`, `"F"`, any case).
    public init(name: String) throws {
        guard let c = Self.allCases.first(where: { $0.name == name.uppercased() }) else {
            throw PDEBlocksError.invalidArgument("unknown cycle '\(name)' (known: V, W, F)")
        }
        self = c
    }
}

/// The settings of a multigrid hierarchy and its cycles.
public struct MultigridOptions: Sendable, Equatable {
    /// The relaxation (default Gauss–Seidel: forward before, backward after the correction).
    public var smoother: Smoother
    /// The Jacobi weight ω ∈ (0, 2) on every level; `nil`: `4/(3ρ̂)` per level. Only for `.jacobi`.
    public var omega: Double?
    /// Pre-smoothing sweeps `ν₁ ≥ 0`.
    public var preSmoothing: Int
    /// Post-smoothing sweeps `ν₂ ≥ 0` (`ν₁ + ν₂ ≥ 1`).
    public var postSmoothing: Int
    public var cycle: CycleKind
    public var transfer: TransferKind
    /// Coarsening stops at the first level with at most this many unknowns (≥ 1), which is
    /// solved directly (banded LU).
    public var coarsest: Int
    /// At most this many levels (≥ 2); `nil`: no limit.
    public var maxLevels: Int?

    public init(
        smoother: Smoother = .gaussSeidel, omega: Double? = nil, preSmoothing: Int = 2, postSmoothing: Int = 2,
        cycle: CycleKind = .v, transfer: TransferKind = .automatic, coarsest: Int = 3, maxLevels: Int? = nil
    ) {
        self.smoother = smoother
        self.omega = omega
        self.preSmoothing = preSmoothing
        self.postSmoothing = postSmoothing
        self.cycle = cycle
        self.transfer = transfer
        self.coarsest = coarsest
        self.maxLevels = maxLevels
    }

    /// The largest number of smoothing sweeps accepted per side.
    public static let maxSweeps = 1000

    func validate() throws {
        if let omega {
            guard smoother == .jacobi else {
                throw PDEBlocksError.invalidArgument("omega applies to the jacobi smoother only (smoother is \(smoother.name))")
            }
            guard omega.isFinite, omega > 0, omega < 2 else {
                throw PDEBlocksError.invalidArgument("omega must lie in (0, 2), got \(omega)")
            }
        }
        guard (0...Self.maxSweeps).contains(preSmoothing), (0...Self.maxSweeps).contains(postSmoothing) else {
            throw PDEBlocksError.invalidArgument(
                "smoothing sweeps must lie in 0...\(Self.maxSweeps), got pre = \(preSmoothing), post = \(postSmoothing)")
        }
        guard preSmoothing + postSmoothing >= 1 else {
            throw PDEBlocksError.invalidArgument("a cycle needs at least one smoothing sweep (pre + post ≥ 1)")
        }
        try Check.positive(coarsest, "coarsest")
        if let maxLevels { try Check.atLeast(maxLevels, 2, "max_levels") }
    }

    /// Whether one cycle is a symmetric operator (usable as a CG preconditioner).
    public var isSymmetricCycle: Bool {
        smoother.isSymmetric && preSmoothing == postSmoothing && cycle != .f
    }
}
