import PDEBlocks

/// A family of codes of the C ABI: one Swift enum per C `typedef enum … pdb_<family>;`
/// (the contract, values and meanings, is the header's; see `ABIEnums.swift`).
///
/// Codes from C are converted only by `decode` (which uses `init(rawValue:)`), and codes
/// written back only through `rawValue`, so no literal code appears in the ABI layer.
/// `abiName` is the member's C name without the family's prefix, lowercased (what
/// `pdb_enum_name` returns); python/tests/test_enum_names.py checks every family's raw
/// values and names against the header.
protocol ABIEnum: RawRepresentable, CaseIterable where RawValue == Int32 {
    /// The family's code in `pdb_enum_family`.
    static var family: ABIEnumFamily { get }
    /// `"gauss_seidel"` for `PDB_SMOOTHER_GAUSS_SEIDEL`.
    var abiName: String { get }
}

extension ABIEnum {
    /// The member's C name, e.g. `PDB_SMOOTHER_GAUSS_SEIDEL`.
    var cName: String { Self.family.cPrefix + abiName.uppercased() }

    /// The member with the C code `code`; an unknown code throws `PDB_ERR_INVALID` naming the
    /// family and every valid member (`context`, e.g. the argument, prefixes the message).
    static func decode(_ code: Int32, _ context: String? = nil) throws -> Self {
        guard let value = Self(rawValue: code) else { throw unknown(code, context) }
        return value
    }

    /// The error for an unknown code of this family.
    static func unknown(_ code: Int32, _ context: String? = nil) -> PDEBlocksError {
        let valid = allCases.map { "\($0.cName) = \($0.rawValue)" }.joined(separator: ", ")
        return .invalidArgument("\(context.map { "\($0): " } ?? "")unknown \(family.what) \(code) (valid: \(valid))")
    }
}

/// A family of bit flags (`pdb_scheme_flag`, `pdb_evolve_option`, `pdb_forward_flag`):
/// each member is one bit; an argument is a mask of them.
protocol ABIFlag: ABIEnum {}

extension ABIFlag {
    /// Every bit of the family.
    static var all: Int32 { allCases.reduce(0) { $0 | $1.rawValue } }

    /// Throws `PDB_ERR_INVALID` for bits of `mask` outside the family.
    static func validate(_ mask: Int32, _ context: String = "flags") throws {
        guard mask & ~all == 0 else {
            let valid = allCases.map { "\($0.cName) = \($0.rawValue)" }.joined(separator: ", ")
            throw PDEBlocksError.invalidArgument("unknown bits \(mask & ~all) in \(context) (valid: \(valid))")
        }
    }

    /// Whether `mask` has this bit.
    func isSet(in mask: Int32) -> Bool { mask & rawValue != 0 }
}
