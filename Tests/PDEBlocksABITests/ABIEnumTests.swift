import Testing
import PDEBlocks
@testable import PDEBlocksABI

// The Swift side of the code families (ABIEnums.swift); python/tests/test_enum_names.py checks
// them against the header.

private func members<E: ABIEnum>(_: E.Type) -> [(code: Int32, name: String, family: ABIEnumFamily)] {
    E.allCases.map { ($0.rawValue, $0.abiName, E.family) }
}

@Suite struct ABIEnumTests {
    @Test func everyFamilyNamesItselfAndItsMembersOnce() {
        for family in ABIEnumFamily.allCases {
            let list = members(family.type)
            #expect(!list.isEmpty, "\(family)")
            #expect(list.allSatisfy { $0.family == family }, "\(family.type) reports another family")
            #expect(Set(list.map(\.code)).count == list.count, "\(family): duplicate codes")
            #expect(Set(list.map(\.name)).count == list.count, "\(family): duplicate names")
            for m in list {
                #expect(!m.name.isEmpty && m.name.allSatisfy { $0 == "_" || $0.isNumber || ($0.isLetter && $0.isLowercase) })
                let c = pdb_enum_name(family.rawValue, m.code).map { String(cString: $0) }
                #expect(c == m.name, "\(family) \(m.code)")
            }
        }
        #expect(ABIEnumFamily.allCases.map(\.rawValue) == Array(0..<Int32(ABIEnumFamily.allCases.count)))
    }

    @Test func unknownCodesAreRefusedNamingTheFamilyAndItsMembers() throws {
        do {
            _ = try Smoother.decode(99, "smoother")
            Issue.record("decoded 99")
        } catch let error as PDEBlocksError {
            #expect(error.message.contains("smoother: unknown smoother 99"))
            #expect(error.message.contains("PDB_SMOOTHER_GAUSS_SEIDEL = 1"))
        }
        #expect(pdb_enum_name(ABIEnumFamily.smoother.rawValue, 99) == nil)
        #expect(pdb_status_string(Status.ok.rawValue).map { String(cString: $0) } == "ok")
        #expect(pdb_status_string(1) == nil)
    }

    /// One vocabulary: where the core names a member (the names Python takes), the C name is the
    /// same word (the two documented spellings: cycles "V" / "v", updates "step" / "per_step").
    @Test func cNamesAreTheCoreNames() {
        func same<E: ABIEnum>(_: E.Type, _ core: (E) -> String) {
            for m in E.allCases { #expect(m.abiName == core(m), "\(E.family): \(m.abiName) vs \(core(m))") }
        }
        same(DiffusivityKind.self) { $0.name }
        same(Smoother.self) { $0.name }
        same(TransferKind.self) { $0.name }
        same(FEDOrdering.self) { $0.name }
        same(Scheme.self) { $0.name }
        same(GridKind.self) { $0.name }
        same(BlockKind.self) { $0.name }
        same(StabilityBound.self) { $0.name }
        same(ActivationKind.self) { $0.name }
        same(CycleKind.self) { $0.name.lowercased() }
        same(NonlinearityUpdate.self) { "per_" + $0.name }
    }

    @Test func flagMasksAcceptOnlyTheirBits() throws {
        try EvolveOption.validate(EvolveOption.all)
        #expect(EvolveOption.all == (1 << 7) - 1)
        #expect(throws: PDEBlocksError.self) { try EvolveOption.validate(1 << 7) }
        #expect(throws: PDEBlocksError.self) { try SchemeFlag.validate(2) }
        #expect(SchemeFlag.unchecked.isSet(in: 1) && !SchemeFlag.unchecked.isSet(in: 0))
    }
}
