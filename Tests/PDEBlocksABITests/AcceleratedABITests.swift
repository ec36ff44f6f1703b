import Testing
import PDEBlocks
@testable import PDEBlocksABI

// The @_cdecl entry points of include/pdeblocks_schemes.h, called as C would call them.

// Values of include/pdeblocks.h and include/pdeblocks_schemes.h, from the ABI layer's enums
// (python/tests/test_enum_names.py checks those against the header).
private let PDB_ERR_NULL = Status.nullPointer.rawValue
private let PDB_ERR_INVALID = Status.invalidArgument.rawValue
private let PDB_ERR_UNSTABLE = Status.unstable.rawValue
private let PDB_UNCHECKED = Int(SchemeFlag.unchecked.rawValue)
private let PDB_MAX_CYCLE_LENGTH = 1 << 20
private let PDB_UPDATE_PER_STEP = Int(NonlinearityUpdate.perStep.rawValue)
private let PDB_UPDATE_PER_CYCLE = Int(NonlinearityUpdate.perCycle.rawValue)
private let PDB_FED_ORDER_PLAIN = Int(FEDOrdering.plain.rawValue)
private let PDB_FED_ORDER_KAPPA = Int(FEDOrdering.kappaCycle.rawValue)
private let PDB_FED_ORDER_LEJA = Int(FEDOrdering.leja.rawValue)
private let PDB_SCHEME_FSI = Int(Scheme.fsi.rawValue), PDB_SCHEME_FED = Int(Scheme.fed.rawValue)
private let PDB_EVOLVE_HAS_TAU = Int(EvolveOption.tau.rawValue), PDB_EVOLVE_HAS_CYCLES = Int(EvolveOption.cycles.rawValue)
private let PDB_EVOLVE_HAS_ORDERING = Int(EvolveOption.ordering.rawValue), PDB_EVOLVE_HAS_UPDATE = Int(EvolveOption.update.rawValue)
private let PDB_EVOLVE_HAS_ITERATIONS = Int(EvolveOption.iterations.rawValue), PDB_EVOLVE_HAS_TOL = Int(EvolveOption.tol.rawValue)
private let PDB_EVOLVE_REPORT_TAU = Int(EvolveReportSlot.tau.rawValue)
private let PDB_EVOLVE_REPORT_TAU_BOUND = Int(EvolveReportSlot.tauBound.rawValue)
private let PDB_EVOLVE_REPORT_STEPS = Int(EvolveReportSlot.steps.rawValue)
private let PDB_EVOLVE_REPORT_CYCLE_LENGTH = Int(EvolveReportSlot.cycleLength.rawValue)
private let PDB_EVOLVE_REPORT_BLOCK_EVALUATIONS = Int(EvolveReportSlot.blockEvaluations.rawValue)
private let PDB_EVOLVE_REPORT_TIME_REACHED = Int(EvolveReportSlot.timeReached.rawValue)
private let PDB_EVOLVE_REPORT_ORDERING = Int(EvolveReportSlot.ordering.rawValue)
private let PDB_EVOLVE_REPORT_UPDATE = Int(EvolveReportSlot.update.rawValue)
private let PDB_EVOLVE_REPORT_ITERATIONS = Int(EvolveReportSlot.iterations.rawValue)
private let PDB_EVOLVE_REPORT_TOL = Int(EvolveReportSlot.tol.rawValue)
private let PDB_EVOLVE_REPORT_RESIDUAL = Int(EvolveReportSlot.residual.rawValue)
private let PDB_EVOLVE_REPORT_COUNT = EvolveReportSlot.count

private let forwardWeights: [Double] = [-1, 1]  // forward difference, offset 0
private let pm = DiffusivityKind.peronaMalik.rawValue  // PDB_DIFFUSIVITY_PERONA_MALIK
private let lambda = 0.1

private func lastError() -> String { String(cString: pdb_last_error()) }

private func signal(_ n: Int, batch: Int = 1) -> [Double] {
    (0..<(n * batch)).map { (i: Int) -> Double in
        let step: Double = i % n >= n / 2 ? 1 : 0
        let wiggle = Double((i * 7919) % 13 - 6) / 6
        return step + 0.05 * wiggle
    }
}

private let K = try! Stencil(weights: forwardWeights, offset: 0)
private let g = try! Diffusivity(.peronaMalik, lambda: lambda)

@Suite struct AcceleratedABI {
    @Test("pdb_fsi and pdb_fed return what the core computes")
    func entryPointsMatchCore() throws {
        let n = 16, batch = 2
        let f = signal(n, batch: batch)
        let tau = try stableTau(stencil: K, diffusivity: g, n: n)
        var viaC = [Double](repeating: 0, count: f.count), core = viaC
        #expect(pdb_fsi(f, Int64(batch), Int64(n), forwardWeights, 2, 0, pm, lambda, tau, 4, 3,
                        Int32(PDB_UPDATE_PER_STEP), 0, 0, nil, 0, &viaC) == 0)
        try f.withUnsafeBufferPointer { src in
            try core.withUnsafeMutableBufferPointer { dst in
                try FSI.evolve(src, into: dst, batch: batch, n: n, stencil: K, diffusivity: g, tau: tau,
                               cycleLength: 4, cycles: 3)
            }
        }
        #expect(viaC == core)
        #expect(pdb_fed(f, Int64(batch), Int64(n), forwardWeights, 2, 0, pm, lambda, tau, 4, 3,
                        Int32(PDB_FED_ORDER_LEJA), Int32(PDB_UPDATE_PER_CYCLE), 0, 0, nil, 0, &viaC) == 0)
        try f.withUnsafeBufferPointer { src in
            try core.withUnsafeMutableBufferPointer { dst in
                try FED.evolve(src, into: dst, batch: batch, n: n, stencil: K, diffusivity: g, tauMax: tau,
                               cycleLength: 4, cycles: 3)
            }
        }
        #expect(viaC == core)
    }

    @Test("pdb_fed_step_sizes validates lengths and orderings before writing")
    func stepSizes() throws {
        var out = [Double](repeating: -1, count: 6)
        #expect(pdb_fed_step_sizes(6, 0.5, Int32(PDB_FED_ORDER_KAPPA), &out, 6) == 0)
        #expect(out == (try FED.stepSizes(cycleLength: 6, tauMax: 0.5, ordering: .kappaCycle)))
        var untouched = [Double](repeating: -1, count: 6)
        #expect(pdb_fed_step_sizes(6, 0.5, 0, &untouched, 5) == PDB_ERR_INVALID)
        #expect(lastError().contains("out_length"))
        #expect(pdb_fed_step_sizes(0, 0.5, 0, &untouched, 6) == PDB_ERR_INVALID)
        #expect(lastError().contains("cycle_length"))
        #expect(pdb_fed_step_sizes(6, 0.5, 9, &untouched, 6) == PDB_ERR_INVALID)
        #expect(lastError().contains("ordering"))
        #expect(pdb_fed_step_sizes(6, .nan, 0, &untouched, 6) == PDB_ERR_INVALID)
        #expect(pdb_fed_step_sizes(6, 0.5, 0, nil, 6) == PDB_ERR_NULL)
        #expect(pdb_fed_step_sizes(Int64(PDB_MAX_CYCLE_LENGTH) + 1, 0.5, 0, nil, 0) == PDB_ERR_INVALID)
        #expect(untouched == [Double](repeating: -1, count: 6))
    }

    @Test("pdb_implicit reports sweeps and residual, and refuses a non-contractive tau with the bound")
    func implicit() throws {
        let n = 12
        let f = signal(n)
        let bound = try contractionTau(stencil: K, diffusivity: g, n: n)
        var bC = 0.0
        #expect(pdb_contraction_tau(forwardWeights, 2, 0, pm, lambda, Int64(n), &bC) == 0)
        #expect(bC == bound)
        var out = [Double](repeating: 0, count: n)
        var sweeps: Int64 = -1
        var residual = -1.0
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 0.5 * bound, 3, 50, 1e-12, 0,
                             &out, &sweeps, &residual) == 0)
        #expect(sweeps >= 3 && sweeps < 150)
        #expect(residual <= 1e-12)
        // Optional report pointers.
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 0.5 * bound, 3, 50, 1e-12, 0,
                             &out, nil, nil) == 0)
        var untouched = [Double](repeating: 9, count: n)
        sweeps = -1
        residual = -1
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 1.01 * bound, 3, 50, 0, 0,
                             &untouched, &sweeps, &residual) == PDB_ERR_UNSTABLE)
        #expect(lastError().contains("\(bound)"))
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 0.5 * bound, 3, 0, 0, 0,
                             &untouched, &sweeps, &residual) == PDB_ERR_INVALID)
        #expect(lastError().contains("iterations"))
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 0.5 * bound, 3, 5, .nan, 0,
                             &untouched, &sweeps, &residual) == PDB_ERR_INVALID)
        #expect(lastError().contains("tol"))
        #expect(untouched == [Double](repeating: 9, count: n))
        #expect(sweeps == -1 && residual == -1)
        // The opt-out runs.
        #expect(pdb_implicit(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 1.01 * bound, 1, 2, 0,
                             Int32(PDB_UNCHECKED), &untouched, &sweeps, &residual) == 0)
    }

    @Test("pdb_evolve fills the documented report slots with the plan", arguments: [Int32(0), 1, 2, 3])
    func evolveReport(scheme: Int32) throws {
        let n = 32, T = 20.0
        let f = signal(n)
        var out = [Double](repeating: 0, count: n)
        var report = [Double](repeating: .nan, count: Int(PDB_EVOLVE_REPORT_COUNT) + 2)
        #expect(pdb_evolve(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, T, scheme, 0,
                           0, 0, 0, 0, 0, 0, 0, 0, &out, &report, Int64(report.count)) == 0)
        let s = try Scheme(code: scheme)
        let (u, r) = try Evolve.run(f, stencil: K, diffusivity: g, time: T, scheme: s)
        #expect(out == u)
        #expect(report[Int(PDB_EVOLVE_REPORT_TAU)] == r.tau)
        #expect(report[Int(PDB_EVOLVE_REPORT_TAU_BOUND)] == r.tauBound)
        #expect(report[Int(PDB_EVOLVE_REPORT_STEPS)] == Double(r.steps))
        #expect(report[Int(PDB_EVOLVE_REPORT_CYCLE_LENGTH)] == Double(r.cycleLength))
        #expect(report[Int(PDB_EVOLVE_REPORT_BLOCK_EVALUATIONS)] == Double(r.blockEvaluations))
        #expect(abs(report[Int(PDB_EVOLVE_REPORT_TIME_REACHED)] - T) <= 1e-12 * T)
        #expect(report[Int(PDB_EVOLVE_REPORT_ORDERING)] == (s == .fed ? Double(PDB_FED_ORDER_LEJA) : -1))
        #expect(report[Int(PDB_EVOLVE_REPORT_UPDATE)]
                == (s == .fsi ? Double(PDB_UPDATE_PER_STEP) : s == .fed ? Double(PDB_UPDATE_PER_CYCLE) : -1))
        #expect(report[Int(PDB_EVOLVE_REPORT_ITERATIONS)] == (s == .implicit ? 100 : 0))
        #expect(report[Int(PDB_EVOLVE_REPORT_RESIDUAL)] == (r.residual ?? 0))
        #expect(report[Int(PDB_EVOLVE_REPORT_COUNT)].isNaN)  // slots beyond the documented ones untouched
    }

    @Test("pdb_evolve reads options only where their bit is set")
    func evolveOptions() throws {
        let n = 32
        let f = signal(n)
        var out = [Double](repeating: 0, count: n)
        var report = [Double](repeating: 0, count: Int(PDB_EVOLVE_REPORT_COUNT))
        let set = Int32(PDB_EVOLVE_HAS_CYCLES | PDB_EVOLVE_HAS_ORDERING | PDB_EVOLVE_HAS_UPDATE)
        #expect(pdb_evolve(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 30, Int32(PDB_SCHEME_FED), set,
                           -7, 2, Int32(PDB_FED_ORDER_PLAIN), Int32(PDB_UPDATE_PER_STEP), -1, .nan, -1, 0,
                           &out, &report, Int64(report.count)) == 0)
        #expect(report[Int(PDB_EVOLVE_REPORT_STEPS)] == 2)
        #expect(report[Int(PDB_EVOLVE_REPORT_ORDERING)] == Double(PDB_FED_ORDER_PLAIN))
        #expect(report[Int(PDB_EVOLVE_REPORT_UPDATE)] == Double(PDB_UPDATE_PER_STEP))
        // The report may be omitted.
        #expect(pdb_evolve(f, 1, Int64(n), forwardWeights, 2, 0, pm, lambda, 30, Int32(PDB_SCHEME_FSI), 0,
                           0, 0, 0, 0, 0, 0, 0, 0, &out, nil, 0) == 0)
    }

    @Test("pdb_evolve refuses bad input before writing anything")
    func evolveRefusals() {
        let n = 16
        let f = signal(n)
        func call(T: Double = 5, scheme: Int32 = 1, set: Int32 = 0, tau: Double = 0, cycles: Int64 = 0,
                  iterations: Int64 = 0, tol: Double = 0, flags: Int32 = 0, reportLength: Int64? = nil,
                  batch: Int64 = 1, nn: Int64 = 16) -> (Int32, [Double], [Double]) {
            var out = [Double](repeating: 4, count: n)
            var report = [Double](repeating: 4, count: Int(PDB_EVOLVE_REPORT_COUNT))
            let status = pdb_evolve(f, batch, nn, forwardWeights, 2, 0, pm, lambda, T, scheme, set, tau, cycles, 0, 0,
                                    iterations, tol, 0, flags, &out, &report, reportLength ?? Int64(report.count))
            return (status, out, report)
        }
        let cases: [(String, (Int32, [Double], [Double]), Int32)] = [
            ("negative T", call(T: -1), PDB_ERR_INVALID),
            ("NaN T", call(T: .nan), PDB_ERR_INVALID),
            ("unknown scheme", call(scheme: 9), PDB_ERR_INVALID),
            ("unknown option bit", call(set: 1 << 12), PDB_ERR_INVALID),
            ("unknown flag", call(flags: 4), PDB_ERR_INVALID),
            ("cycles 0", call(set: Int32(PDB_EVOLVE_HAS_CYCLES), cycles: 0), PDB_ERR_INVALID),
            ("hostile cycles", call(set: Int32(PDB_EVOLVE_HAS_CYCLES), cycles: 1 << 62), PDB_ERR_INVALID),
            ("iterations for FSI", call(set: Int32(PDB_EVOLVE_HAS_ITERATIONS), iterations: 3), PDB_ERR_INVALID),
            ("iterations 0", call(scheme: 3, set: Int32(PDB_EVOLVE_HAS_ITERATIONS), iterations: 0), PDB_ERR_INVALID),
            ("NaN tol", call(scheme: 3, set: Int32(PDB_EVOLVE_HAS_TOL), tol: .nan), PDB_ERR_INVALID),
            ("tau beyond bound", call(set: Int32(PDB_EVOLVE_HAS_TAU), tau: 0.6), PDB_ERR_UNSTABLE),
            ("tau beyond contraction", call(scheme: 3, set: Int32(PDB_EVOLVE_HAS_TAU), tau: 0.26), PDB_ERR_UNSTABLE),
            ("short report", call(reportLength: 3), PDB_ERR_INVALID),
            ("batch·n overflow", call(batch: 1 << 40, nn: 1 << 40), PDB_ERR_INVALID),
        ]
        for (what, (status, out, report), expected) in cases {
            #expect(status == expected, "\(what): \(lastError())")
            #expect(!lastError().isEmpty, "\(what)")
            #expect(out == [Double](repeating: 4, count: n), "\(what) wrote out")
            #expect(report == [Double](repeating: 4, count: Int(PDB_EVOLVE_REPORT_COUNT)), "\(what) wrote the report")
        }
    }

    @Test("pdb_fsi and pdb_fed refuse bad arguments without writing")
    func schemeRefusals() {
        let n = 8
        let f = signal(n)
        var out = [Double](repeating: 2, count: n)
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 0, 1, 0, 0, 0, nil, 0, &out) == PDB_ERR_INVALID)
        #expect(lastError().contains("cycle_length"))
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 1, 5, 0, 0, nil, 0, &out) == PDB_ERR_INVALID)
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 1, 0, 8, 0, nil, 0, &out) == PDB_ERR_INVALID)
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.9, 3, 1, 0, 0, 0, nil, 0, &out) == PDB_ERR_UNSTABLE)
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 4, 0, 0, 1, nil, 5, &out) == PDB_ERR_NULL)
        var history = [Double](repeating: 0, count: 8)
        #expect(pdb_fsi(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 1 << 40, 0, 0, 1, &history, 8, &out)
                == PDB_ERR_INVALID)
        #expect(pdb_fsi(nil, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 1, 0, 0, 0, nil, 0, &out) == PDB_ERR_NULL)
        #expect(pdb_fed(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, -1, 0, 1, 0, 0, nil, 0, &out)
                == PDB_ERR_INVALID)
        #expect(pdb_fed(f, 1, 8, forwardWeights, 2, 0, pm, lambda, 0.1, 3, 1, 3, 1, 0, 0, nil, 0, &out)
                == PDB_ERR_INVALID)
        #expect(lastError().contains("ordering"))
        #expect(out == [Double](repeating: 2, count: n))
    }
}
