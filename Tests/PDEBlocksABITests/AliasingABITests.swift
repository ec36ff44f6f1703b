import Testing
@testable import PDEBlocksABI
import PDEBlocks

/// The aliasing rule of the C ABI (include/pdeblocks.h, "Aliasing"): overlap refused, exact
/// in-place allowed only where documented, and then equal to separate memory.
@Suite struct AliasingABITests {
    func lastError() -> String { String(cString: pdb_last_error()) }

    @Test("extents overlap by bytes, partially included; empty extents never")
    func extentOverlap() {
        let base = UnsafeMutablePointer<Double>.allocate(capacity: 8)
        defer { base.deallocate() }
        let a = Extent("a", base, count: 4), b = Extent("b", base + 3, count: 4), c = Extent("c", base + 4, count: 4)
        #expect(a.overlaps(b) && b.overlaps(a))
        #expect(!a.overlaps(c))
        #expect(!a.overlaps(Extent("e", base, count: 0)) && !a.overlaps(Extent("n", UnsafePointer<Double>?.none, count: 4)))
        #expect(throws: PDEBlocksError.self) { try Aliasing.require(a, b) }
        #expect(throws: PDEBlocksError.self) { try Aliasing.require(Extent("o", base, count: 4, inPlaceOf: "i"), Extent("i", base + 1, count: 4)) }
        #expect(throws: Never.self) { try Aliasing.require(Extent("o", base, count: 4, inPlaceOf: "i"), Extent("i", base, count: 4)) }
    }

    @Test("stencil apply with out == u is refused and writes nothing")
    func stencilInPlaceRefused() {
        var u: [Double] = [0, 1, 4, 9, 16, 25]
        let before = u
        let status = u.withUnsafeMutableBufferPointer { p in
            pdb_stencil_apply([-1, 1], 2, 0, p.baseAddress, 1, 6, p.baseAddress)
        }
        #expect(status == Status.invalidArgument.rawValue)
        #expect(lastError().hasPrefix("out overlaps u ("))
        #expect(u == before)
    }

    @Test("explicit in place (out == f) equals separate output")
    func explicitInPlaceEqualsSeparate() {
        var f = (0..<40).map { Double(($0 * 7) % 11) / 11 }
        var out = [Double](repeating: 0, count: 40)
        #expect(pdb_explicit(f, 2, 20, [-1, 1], 2, 0, 1, 0.5, 0.2, 7, 0, 0, nil, 0, &out) == 0)
        let status = f.withUnsafeMutableBufferPointer { p in
            pdb_explicit(p.baseAddress, 2, 20, [-1, 1], 2, 0, 1, 0.5, 0.2, 7, 0, 0, nil, 0, p.baseAddress)
        }
        #expect(status == 0)
        #expect(f == out)
    }
}
