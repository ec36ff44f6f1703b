import PDEBlocks

/// The option and report arguments `pdb_evolve` and `pdb_evolve_2d` share
/// (`include/pdeblocks_schemes.h`): the `set` mask with its option values, and the report array.
enum EvolveArguments {
    /// The options whose bit is in `set` (others are left to the plan); throws for an
    /// unknown bit or an out-of-range code or count.
    static func options(
        set: Int32, tau: Double, cycles: Int64, ordering: Int32, update: Int32, iterations: Int64, tol: Double,
        contraction: Double, flags: Int32
    ) throws -> EvolveOptions {
        try EvolveOption.validate(set, "the option mask set")
        func has(_ option: EvolveOption) -> Bool { option.isSet(in: set) }
        var options = EvolveOptions(checkStability: !SchemeFlag.unchecked.isSet(in: flags))
        if has(.tau) { options.tau = tau }
        if has(.cycles) { options.cycles = try Buffers.count(cycles, "cycles") }
        if has(.ordering) { options.ordering = try FEDOrdering.decode(ordering) }
        if has(.update) { options.update = try NonlinearityUpdate.decode(update) }
        if has(.iterations) { options.iterations = try Buffers.count(iterations, "iterations") }
        if has(.tol) { options.tolerance = tol }
        if has(.contraction) { options.contraction = contraction }
        return options
    }

    /// The report array: nil for NULL with length 0, else at least `PDB_EVOLVE_REPORT_COUNT` values.
    static func report(_ report: UnsafeMutablePointer<Double>?, _ length: Int64) throws -> UnsafeMutableBufferPointer<Double>? {
        let slots = try Buffers.count(length, "report_length")
        guard report != nil || slots > 0 else { return nil }
        guard slots >= EvolveReportSlot.count else {
            throw PDEBlocksError.invalidArgument(
                "report_length must be at least PDB_EVOLVE_REPORT_COUNT = \(EvolveReportSlot.count), got \(slots)")
        }
        return try Buffers.output(report, slots, "report")
    }
}
