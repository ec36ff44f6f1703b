import PDEBlocks

// pdb_enum_name and pdb_status_string (include/pdeblocks.h, "Names of codes").

/// Static C strings of every member's `abiName`, by family and code (built once, never freed).
private struct NameTable: @unchecked Sendable {
    let names: [[Int32: UnsafePointer<CChar>]]

    init() {
        names = ABIEnumFamily.allCases.map { family in
            var byCode: [Int32: UnsafePointer<CChar>] = [:]
            for (code, name) in Self.members(of: family.type) { byCode[code] = Self.cString(name) }
            return byCode
        }
    }

    private static func members<E: ABIEnum>(of _: E.Type) -> [(Int32, String)] {
        E.allCases.map { ($0.rawValue, $0.abiName) }
    }

    private static func cString(_ s: String) -> UnsafePointer<CChar> {
        let utf8 = Array(s.utf8CString)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
        p.initialize(from: utf8, count: utf8.count)
        return UnsafePointer(p)
    }

    func name(_ family: Int32, _ code: Int32) -> UnsafePointer<CChar>? {
        guard let f = ABIEnumFamily(rawValue: family) else { return nil }
        return names[Int(f.rawValue)][code]
    }
}

private let nameTable = NameTable()

@_cdecl("pdb_enum_name")
public func pdb_enum_name(_ family: Int32, _ code: Int32) -> UnsafePointer<CChar>? {
    nameTable.name(family, code)
}

@_cdecl("pdb_status_string")
public func pdb_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    nameTable.name(ABIEnumFamily.status.rawValue, status)
}
