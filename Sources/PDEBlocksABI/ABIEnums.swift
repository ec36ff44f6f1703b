import PDEBlocks

// The code families of include/*.h as Swift enums (see `ABIEnum`). Where the core has an
// enum with the C codes as raw values it is used, with its own `name` where that is the C name
// (ABIEnumTests checks the rule) or its C names here in exhaustive switches (a new case that is
// not named is a compile error); the families that exist only at the C boundary are declared
// here. Values and meanings: the header.

// MARK: - The family list (pdb_enum_family, include/pdeblocks.h)

/// `pdb_enum_family`: the code families, as `pdb_enum_name` takes them.
enum ABIEnumFamily: Int32, ABIEnum {
    case status = 0, diffusivity, bound, schemeFlag, update, fedOrder, scheme, evolveOption, evolveReport
    case grid, luStrategy, smoother, cycle, transfer, semiSolver, unetBlock
    case blockKind, tauMode, activation, w2Mode, forwardFlag, enumFamily, coupling

    static var family: ABIEnumFamily { .enumFamily }

    var abiName: String {
        switch self {
        case .status: "status"
        case .diffusivity: "diffusivity"
        case .bound: "bound"
        case .schemeFlag: "scheme_flag"
        case .update: "update"
        case .fedOrder: "fed_order"
        case .scheme: "scheme"
        case .evolveOption: "evolve_option"
        case .evolveReport: "evolve_report"
        case .grid: "grid"
        case .luStrategy: "lu_strategy"
        case .smoother: "smoother"
        case .cycle: "cycle"
        case .transfer: "transfer"
        case .semiSolver: "semi_solver"
        case .unetBlock: "unet_block"
        case .blockKind: "block_kind"
        case .tauMode: "tau_mode"
        case .activation: "activation"
        case .w2Mode: "w2_mode"
        case .forwardFlag: "forward_flag"
        case .enumFamily: "enum_family"
        case .coupling: "coupling"
        }
    }

    /// What a member is, in messages ("unknown FED ordering 7 …").
    var what: String {
        switch self {
        case .status: "status"
        case .diffusivity: "diffusivity kind"
        case .bound: "stability bound"
        case .schemeFlag: "scheme flag"
        case .update: "nonlinearity update"
        case .fedOrder: "FED ordering"
        case .scheme: "scheme"
        case .evolveOption: "evolve option"
        case .evolveReport: "evolve report slot"
        case .grid: "grid"
        case .luStrategy: "LU strategy"
        case .smoother: "smoother"
        case .cycle: "cycle"
        case .transfer: "transfer"
        case .semiSolver: "semi-implicit solver"
        case .unetBlock: "U-net block kind"
        case .blockKind: "block kind"
        case .tauMode: "tau mode"
        case .activation: "activation"
        case .w2Mode: "W2 mode"
        case .forwardFlag: "forward flag"
        case .enumFamily: "enum family"
        case .coupling: "coupling"
        }
    }

    /// The common prefix of the family's C member names.
    var cPrefix: String {
        switch self {
        case .status, .schemeFlag: "PDB_"
        case .diffusivity: "PDB_DIFFUSIVITY_"
        case .bound: "PDB_BOUND_"
        case .update: "PDB_UPDATE_"
        case .fedOrder: "PDB_FED_ORDER_"
        case .scheme: "PDB_SCHEME_"
        case .evolveOption: "PDB_EVOLVE_HAS_"
        case .evolveReport: "PDB_EVOLVE_REPORT_"
        case .grid: "PDB_GRID_"
        case .luStrategy: "PDB_LU_"
        case .smoother: "PDB_SMOOTHER_"
        case .cycle: "PDB_CYCLE_"
        case .transfer: "PDB_TRANSFER_"
        case .semiSolver: "PDB_SEMI_"
        case .unetBlock: "PDB_UNET_"
        case .blockKind: "PDB_BLOCK_"
        case .tauMode: "PDB_TAU_"
        case .activation: "PDB_ACTIVATION_"
        case .w2Mode: "PDB_W2_"
        case .forwardFlag: "PDB_FORWARD_"
        case .enumFamily: "PDB_ENUM_"
        case .coupling: "PDB_COUPLING_"
        }
    }

    /// The Swift enum of the family.
    var type: any ABIEnum.Type {
        switch self {
        case .status: Status.self
        case .diffusivity: DiffusivityKind.self
        case .bound: StabilityBound.self
        case .schemeFlag: SchemeFlag.self
        case .update: NonlinearityUpdate.self
        case .fedOrder: FEDOrdering.self
        case .scheme: Scheme.self
        case .evolveOption: EvolveOption.self
        case .evolveReport: EvolveReportSlot.self
        case .grid: GridKind.self
        case .luStrategy: LUStrategy.self
        case .smoother: Smoother.self
        case .cycle: CycleKind.self
        case .transfer: TransferKind.self
        case .semiSolver: SemiSolverKind.self
        case .unetBlock: UNetBlockKind.self
        case .blockKind: BlockKind.self
        case .tauMode: StepSize.Mode.self
        case .activation: ActivationKind.self
        case .w2Mode: OutputFilterMode.self
        case .forwardFlag: ForwardFlag.self
        case .enumFamily: ABIEnumFamily.self
        case .coupling: Coupling.self
        }
    }
}

// MARK: - include/pdeblocks.h

extension Status: ABIEnum {
    static var family: ABIEnumFamily { .status }
    var abiName: String {
        switch self {
        case .ok: "ok"
        case .nullPointer: "err_null"
        case .invalidArgument: "err_invalid"
        case .nonFinite: "err_nonfinite"
        case .unstable: "err_unstable"
        case .notConverged: "err_not_converged"
        case .invalidHandle: "err_handle"
        case .io: "err_io"
        case .cancelled: "err_cancelled"
        case .outOfMemory: "err_memory"
        case .busy: "err_busy"
        case .internalError: "err_internal"
        }
    }
}

extension DiffusivityKind: ABIEnum {
    static var family: ABIEnumFamily { .diffusivity }
    /// The kind's own snake_case name (`perona_malik` …), which is its C name.
    var abiName: String { name }
}

extension StabilityBound: ABIEnum {
    static var family: ABIEnumFamily { .bound }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

/// `pdb_scheme_flag`: bits of the scheme entry points' `flags`.
enum SchemeFlag: Int32, ABIFlag {
    /// `PDB_UNCHECKED`: skip the stability check.
    case unchecked = 1
    static var family: ABIEnumFamily { .schemeFlag }
    var abiName: String {
        switch self {
        case .unchecked: "unchecked"
        }
    }
}

// MARK: - include/pdeblocks_schemes.h

extension NonlinearityUpdate: ABIEnum {
    static var family: ABIEnumFamily { .update }
    /// `PDB_UPDATE_PER_STEP` for the core's (and Python's) "step".
    var abiName: String { "per_" + name }
}

extension FEDOrdering: ABIEnum {
    static var family: ABIEnumFamily { .fedOrder }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

extension Scheme: ABIEnum {
    static var family: ABIEnumFamily { .scheme }
    var abiName: String { name }
}

/// `pdb_evolve_option`: bits of `pdb_evolve`'s `set` mask (which options are given).
enum EvolveOption: Int32, ABIFlag {
    case tau = 1, cycles = 2, ordering = 4, update = 8, iterations = 16, tol = 32, contraction = 64
    static var family: ABIEnumFamily { .evolveOption }
    var abiName: String {
        switch self {
        case .tau: "tau"
        case .cycles: "cycles"
        case .ordering: "ordering"
        case .update: "update"
        case .iterations: "iterations"
        case .tol: "tol"
        case .contraction: "contraction"
        }
    }
}

/// `pdb_evolve_report`: the slots of `pdb_evolve`'s report array.
enum EvolveReportSlot: Int32, ABIEnum {
    case tau = 0, tauBound, steps, cycleLength, blockEvaluations, timeReached
    case ordering, update, iterations, tol, residual
    static var family: ABIEnumFamily { .evolveReport }
    var abiName: String {
        switch self {
        case .tau: "tau"
        case .tauBound: "tau_bound"
        case .steps: "steps"
        case .cycleLength: "cycle_length"
        case .blockEvaluations: "block_evaluations"
        case .timeReached: "time_reached"
        case .ordering: "ordering"
        case .update: "update"
        case .iterations: "iterations"
        case .tol: "tol"
        case .residual: "residual"
        }
    }

    /// `PDB_EVOLVE_REPORT_COUNT`: the slots of a report.
    static var count: Int { allCases.count }

    /// The report of `r`, slot by slot.
    static func fill(_ r: EvolveReport, into out: UnsafeMutableBufferPointer<Double>) {
        for slot in allCases { out[Int(slot.rawValue)] = slot.value(of: r) }
    }

    /// This slot's value in `r`.
    func value(of r: EvolveReport) -> Double {
        switch self {
        case .tau: r.tau
        case .tauBound: r.tauBound
        case .steps: Double(r.steps)
        case .cycleLength: Double(r.cycleLength)
        case .blockEvaluations: Double(r.blockEvaluations)
        case .timeReached: r.timeReached
        case .ordering: r.ordering.map { Double($0.rawValue) } ?? -1
        case .update: r.update.map { Double($0.rawValue) } ?? -1
        case .iterations: Double(r.iterations ?? 0)
        case .tol: r.tolerance ?? 0
        case .residual: r.residual ?? 0
        }
    }
}

// MARK: - include/pdeblocks_multigrid.h

extension GridKind: ABIEnum {
    static var family: ABIEnumFamily { .grid }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

/// `pdb_lu_strategy`: how `pdb_banded_solve` factorised (`BandedLU.Strategy`).
enum LUStrategy: Int32, ABIEnum {
    case spd = 0, diagonallyDominant, partialPivoting
    static var family: ABIEnumFamily { .luStrategy }
    var abiName: String {
        switch self {
        case .spd: "spd"
        case .diagonallyDominant: "diagonally_dominant"
        case .partialPivoting: "partial_pivoting"
        }
    }

    init(_ strategy: BandedLU.Strategy) {
        switch strategy {
        case .symmetricPositiveDefinite: self = .spd
        case .diagonallyDominant: self = .diagonallyDominant
        case .partialPivoting: self = .partialPivoting
        }
    }
}

extension Smoother: ABIEnum {
    static var family: ABIEnumFamily { .smoother }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

extension CycleKind: ABIEnum {
    static var family: ABIEnumFamily { .cycle }
    /// The core's name ("V", …) lowercased.
    var abiName: String { name.lowercased() }
}

extension TransferKind: ABIEnum {
    static var family: ABIEnumFamily { .transfer }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

/// `pdb_semi_solver`: the linear solver of `pdb_semi_implicit`'s steps.
enum SemiSolverKind: Int32, ABIEnum {
    case direct = 0, multigrid
    static var family: ABIEnumFamily { .semiSolver }
    var abiName: String {
        switch self {
        case .direct: "direct"
        case .multigrid: "multigrid"
        }
    }
}

/// `pdb_unet_block`: the block kinds of `pdb_unet2_create`.
enum UNetBlockKind: Int32, ABIEnum {
    case stencil = 0, diffusion
    static var family: ABIEnumFamily { .unetBlock }
    var abiName: String {
        switch self {
        case .stencil: "stencil"
        case .diffusion: "diffusion"
        }
    }
}

// MARK: - include/pdeblocks_layers.h

extension BlockKind: ABIEnum {
    static var family: ABIEnumFamily { .blockKind }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

extension StepSize.Mode: ABIEnum {
    static var family: ABIEnumFamily { .tauMode }
    var abiName: String {
        switch self {
        case .free: "free"
        case .bounded: "bounded"
        }
    }
}

extension ActivationKind: ABIEnum {
    static var family: ABIEnumFamily { .activation }
    /// The core's name (the word Python takes) is the C name.
    var abiName: String { name }
}

extension OutputFilterMode: ABIEnum {
    static var family: ABIEnumFamily { .w2Mode }
    var abiName: String {
        switch self {
        case .convolution: "convolution"
        case .transposed: "transposed"
        }
    }
}

/// `pdb_forward_flag`: bits of `pdb_network_forward`'s `flags`.
enum ForwardFlag: Int32, ABIFlag {
    /// `PDB_FORWARD_INFERENCE`: keep no tape.
    case inference = 1
    static var family: ABIEnumFamily { .forwardFlag }
    var abiName: String {
        switch self {
        case .inference: "inference"
        }
    }
}

// MARK: - include/pdeblocks_image_schemes.h

extension Coupling: ABIEnum {
    static var family: ABIEnumFamily { .coupling }
    var abiName: String { name }
}
