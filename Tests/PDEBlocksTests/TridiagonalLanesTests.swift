import Testing
@testable import PDEBlocks

/// `TridiagonalLanes` (AOS's line solver, sixteen lines at once) against dense Gaussian
/// elimination of each lane's matrix `I − c·A_g`, written out from its definition.
@Suite struct TridiagonalLanesTests {
    /// The dense matrix of one line: off-diagonals −c·g_k between k and k+1, diagonal
    /// 1 + c(g_{k−1} + g_k) with g_{−1} = 0 and the last pixel's own weight unused.
    static func matrix(_ g: [Double], c: Double) -> [[Double]] {
        let m = g.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        for k in 0..<m { a[k][k] = 1 }
        for k in 0..<m {
            if k + 1 < m {
                a[k][k] += c * g[k]; a[k + 1][k + 1] += c * g[k]
                a[k][k + 1] = -c * g[k]; a[k + 1][k] = -c * g[k]
            }
        }
        return a
    }

    @Test func everyLaneSolvesItsOwnSystemForAnyStrideAndLength() {
        var rng = TestRandom(seed: 41)
        let L = TridiagonalLanes.lanes
        for m in [1, 2, 3, 17, 64] {
            for (stride, c) in [(L, 0.5), (L + 5, 1e4), (2 * L + 3, 1e-3)] {
                let x = rng.vector(m * stride), g = rng.vector(m * stride, 0, 1)
                for average in [false, true] {
                    let before = rng.vector(m * stride)
                    var out = before
                    var scratch = [Double](repeating: .nan, count: 2 * L * m)
                    x.withUnsafeBufferPointer { xb in
                        g.withUnsafeBufferPointer { gb in
                            out.withUnsafeMutableBufferPointer { ob in
                                scratch.withUnsafeMutableBufferPointer { sb in
                                    TridiagonalLanes.solve(
                                        x: xb.baseAddress!, xStride: stride, g: gb.baseAddress!, gStride: stride, count: m,
                                        coupling: c, into: ob.baseAddress!, outStride: stride, average: average,
                                        scratch: sb.baseAddress!)
                                }
                            }
                        }
                    }
                    for lane in 0..<L {
                        let a = Self.matrix((0..<m).map { g[$0 * stride + lane] }, c: c)
                        let v = EEDReference.solve(a, (0..<m).map { x[$0 * stride + lane] })
                        for k in 0..<m {
                            let want = average ? 0.5 * (before[k * stride + lane] + v[k]) : v[k]
                            #expect(abs(out[k * stride + lane] - want) <= 1e-12 * max(1, abs(want)), "m=\(m) c=\(c) lane=\(lane) k=\(k)")
                        }
                    }
                    // values between the lanes of a strided layout are not touched
                    for k in 0..<m { for p in L..<stride { #expect(out[k * stride + p] == before[k * stride + p]) } }
                }
            }
        }
    }
}
