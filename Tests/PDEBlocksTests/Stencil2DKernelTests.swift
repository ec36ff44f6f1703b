import Foundation
import Testing
@testable import PDEBlocks

/// The fast 2D kernels against the reference loops (every sample through the mirror).
@Suite struct Stencil2DKernelTests {
    /// Random stencil 1×1 … 7×7 (or up to 9 rows/columns) with offsets small and large.
    private func randomStencil(_ rng: inout TestRandom, maxSide: Int = 7) throws -> Stencil2D {
        let r = rng.int(1...maxSide), c = rng.int(1...maxSide)
        let large = rng.int(0...4) == 0
        let oy = large ? rng.int(-40...40) : rng.int(-r...1), ox = large ? rng.int(-40...40) : rng.int(-c...1)
        return try Stencil2D(weights: rng.normals(r * c), rows: r, columns: c, offsetY: oy, offsetX: ox)
    }

    private func reference(_ K: Stencil2D, _ u: [Double], _ h: Int, _ w: Int, transposed: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: u.count)
        u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer {
                if transposed {
                    K.accumulateTransposedReference(ub, height: h, width: w, into: $0, base: nil)
                } else {
                    K.applyReference(ub, height: h, width: w, into: $0)
                }
            }
        }
        return out
    }

    @Test func fastApplyAndTransposeEqualReferenceLoops() throws {
        var rng = TestRandom(seed: 21)
        let sizes = [1, 2, 3, 5, 8, 13, 20]
        for trial in 0..<400 {
            let K = try randomStencil(&rng)
            let h = sizes[rng.int(0...6)], w = trial % 3 == 0 ? rng.int(9...40) : sizes[rng.int(0...6)]
            let u = rng.normals(h * w)
            let scale = u.reduce(0) { max($0, abs($1)) } * K.weights.reduce(0) { $0 + abs($1) } * 4
            let fast = try K.apply(u, height: h, width: w), slow = reference(K, u, h, w, transposed: false)
            #expect(Reference.maxAbsDiff(fast, slow) <= 1e-14 * scale, "apply \(K) on \(h)×\(w)")
            let fastT = try K.applyTransposed(u, height: h, width: w), slowT = reference(K, u, h, w, transposed: true)
            #expect(Reference.maxAbsDiff(fastT, slowT) <= 1e-14 * scale, "transpose \(K) on \(h)×\(w)")
        }
    }

    @Test func stencilsLargerThanTheImageAndWideStencilsMatchReference() throws {
        var rng = TestRandom(seed: 22)
        for (h, w) in [(1, 1), (1, 7), (7, 1), (2, 2), (3, 2), (2, 11)] {
            for (r, c) in [(7, 7), (9, 3), (1, 12), (12, 1), (5, 9)] {
                let K = try Stencil2D(weights: rng.normals(r * c), rows: r, columns: c,
                                      offsetY: rng.int(-9...2), offsetX: rng.int(-9...2))
                let u = rng.normals(h * w)
                #expect(Reference.maxAbsDiff(try K.apply(u, height: h, width: w), reference(K, u, h, w, transposed: false)) <= 1e-12)
                #expect(Reference.maxAbsDiff(try K.applyTransposed(u, height: h, width: w), reference(K, u, h, w, transposed: true)) <= 1e-12)
            }
        }
    }

    @Test func separableStencilsTakeTheTwoPassPathAndMatchReference() throws {
        var rng = TestRandom(seed: 26)
        for trial in 0..<120 {
            let r = rng.int(3...7), c = rng.int(3...7)
            let p = (0..<r).map { _ in Double(rng.int(-4...4)) }, q = (0..<c).map { _ in Double(rng.int(-4...4)) }
            var w = p.flatMap { a in q.map { a * $0 } }
            if w.allSatisfy({ $0 == 0 }) { w[0] = 1 }
            let K = try Stencil2D(weights: w, rows: r, columns: c,
                                  offsetY: trial % 5 == 0 ? rng.int(-20...20) : -rng.int(0...r),
                                  offsetX: trial % 7 == 0 ? rng.int(-20...20) : -rng.int(0...c))
            if w.filter({ $0 != 0 }).count > 1 { #expect(K.separable != nil) }
            let h = [1, 2, 3, 9, 20][rng.int(0...4)], wd = [1, 2, 5, 17, 41][rng.int(0...4)]
            let u = rng.normals(h * wd)
            let scale = w.reduce(0) { $0 + abs($1) } * 1e-13
            #expect(Reference.maxAbsDiff(try K.apply(u, height: h, width: wd), reference(K, u, h, wd, transposed: false)) <= scale)
            #expect(Reference.maxAbsDiff(try K.applyTransposed(u, height: h, width: wd), reference(K, u, h, wd, transposed: true)) <= scale)
            let base = rng.normals(h * wd)
            var out = base
            u.withUnsafeBufferPointer { ub in
                out.withUnsafeMutableBufferPointer { o in
                    K.accumulateTransposed(ub, height: h, width: wd, into: o, base: UnsafeBufferPointer(o))
                }
            }
            let expected = zip(base, reference(K, u, h, wd, transposed: true)).map { $0 + $1 }
            #expect(Reference.maxAbsDiff(out, expected) <= scale)
        }
        // Not separable: a rank-2 3×3 stencil keeps the general path.
        #expect(try Stencil2D([[1, 0, 0], [0, 1, 0], [0, 0, 1]]).separable == nil)
    }

    @Test func accumulateTransposedAddsToBaseInPlace() throws {
        var rng = TestRandom(seed: 23)
        let K = try Stencil2D(weights: rng.normals(15), rows: 3, columns: 5, offsetY: -1, offsetX: -2)
        let (h, w) = (9, 17)
        let v = rng.normals(h * w), base = rng.normals(h * w)
        var out = base
        v.withUnsafeBufferPointer { vb in
            out.withUnsafeMutableBufferPointer { o in
                K.accumulateTransposed(vb, height: h, width: w, into: o, base: UnsafeBufferPointer(o))
            }
        }
        let expected = zip(base, reference(K, v, h, w, transposed: true)).map { $0 + $1 }
        #expect(Reference.maxAbsDiff(out, expected) <= 1e-13)
    }

    @Test func batchKernelsApplyEachImage() throws {
        var rng = TestRandom(seed: 24)
        let K = try Stencil2D(weights: rng.normals(9), rows: 3, columns: 3, offsetY: -1, offsetX: -1)
        let (b, h, w) = (3, 6, 10), n = h * w
        let u = rng.normals(b * n)
        var out = [Double](repeating: 0, count: b * n), outT = out
        u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { K.apply(ub, batch: b, height: h, width: w, into: $0) }
            outT.withUnsafeMutableBufferPointer { K.accumulateTransposed(ub, batch: b, height: h, width: w, into: $0, base: nil) }
        }
        for r in 0..<b {
            let image = Array(u[(r * n)..<((r + 1) * n)])
            #expect(Reference.maxAbsDiff(Array(out[(r * n)..<((r + 1) * n)]), reference(K, image, h, w, transposed: false)) <= 1e-13)
            #expect(Reference.maxAbsDiff(Array(outT[(r * n)..<((r + 1) * n)]), reference(K, image, h, w, transposed: true)) <= 1e-13)
        }
    }

    @Test func filterBankAdjointIdentityAndDenseMatrix() throws {
        var rng = TestRandom(seed: 25)
        for _ in 0..<40 {
            let bank = try (0..<rng.int(1...4)).map { _ in try randomStencil(&rng, maxSide: 4) }
            let h = rng.int(1...7), w = rng.int(1...9), n = h * w, c = bank.count
            let u = rng.normals(n), y = rng.normals(c * n)
            let ku = try FilterBank2D.apply(bank, u, height: h, width: w)
            let kty = try FilterBank2D.adjoint(bank, y, height: h, width: w)
            let lhs = Reference.dot(ku, y), rhs = Reference.dot(u, kty)
            #expect(abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs)) * Double(c * n))
            let m = try FilterBank2D.matrix(bank, height: h, width: w)
            let rows = (0..<(c * n)).map { Array(m[($0 * n)..<(($0 + 1) * n)]) }
            #expect(Reference.maxAbsDiff(ku, Reference.matvec(rows, u)) <= 1e-12)
            #expect(Reference.maxAbsDiff(kty, Reference.matTvec(rows, y)) <= 1e-12)
        }
    }

    @Test func filterBankRefusesEmptyBanksAndMismatchedSizes() throws {
        let g = try Stencil2D.gradient()
        #expect(throws: PDEBlocksError.self) { try FilterBank2D.apply([], [1, 2], height: 1, width: 2) }
        #expect(throws: PDEBlocksError.self) { try FilterBank2D.apply(g, [1, 2, 3], height: 1, width: 2) }
        #expect(throws: PDEBlocksError.self) { try FilterBank2D.adjoint(g, [1, 2, 3], height: 1, width: 2) }
        #expect(throws: PDEBlocksError.self) { try FilterBank2D.matrix(g, height: 100, width: 100) }
        #expect(throws: PDEBlocksError.self) { try FilterBank2D.matrix(g, height: 0, width: 3) }
    }
}
