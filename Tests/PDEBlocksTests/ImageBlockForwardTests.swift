import Foundation
import Testing
@testable import PDEBlocks

/// The block's formula with dense matrices: `u − τ(Σ_c K_cᵀ Φ_c(K u) + μ(u − f))`.
private func denseBlock(_ b: DiffusionBlock2D, _ u: [Double], _ f: [Double], _ H: Int, _ W: Int) throws -> [Double] {
    let n = H * W
    let mats = try b.filters.map { try $0.matrix(height: H, width: W) }
    let z = mats.map { m in (0..<n).map { i in (0..<n).reduce(0.0) { $0 + m[i * n + $1] * u[$1] } } }
    var phi = z
    for i in 0..<n {
        let s = z.reduce(0.0) { $0 + $1[i] * $1[i] }
        for c in z.indices {
            phi[c][i] = b.coupling == .isotropic ? b.diffusivities[0].g(s) * z[c][i] : b.diffusivities[c].flux(z[c][i])
        }
    }
    return (0..<n).map { j in
        let r = mats.indices.reduce(0.0) { acc, c in acc + (0..<n).reduce(0.0) { $0 + mats[c][$1 * n + j] * phi[c][$1] } }
        return u[j] - b.tau * (r + b.mu * (u[j] - (f.isEmpty ? 0 : f[j])))
    }
}

@Suite struct ImageBlockForwardTests {
    @Test("forward equals the dense transcription of u − τ(Σ K_cᵀΦ_c(Ku) + μ(u − f))", arguments: labelledImageBlocks)
    func forwardMatchesDenseFormula(_ item: LabelledImageBlock) throws {
        var rng = LayerRNG(11)
        for (H, W) in [(4, 7), (1, 5), (2, 1), (3, 3)] {
            let u = rng.normals(H * W), f = item.block.muParameter == nil ? [] : rng.normals(H * W)
            let got = try item.block.forward(u, data: f, batch: 1, height: H, width: W)
            let want = try denseBlock(item.block, u, f, H, W)
            #expect(norm(zip(got, want).map { $0 - $1 }) <= 1e-13 * max(norm(want), 1), "\(H)×\(W)")
        }
    }

    @Test("zero-mean filters annihilate constants: a constant image is a fixed point without reaction")
    func zeroMeanBankFixesConstants() throws {
        let b = try DiffusionBlock2D(filters: imageTestFilters(), coupling: .isotropic,
                                     diffusivities: [try ChannelDiffusivity(kind: .peronaMalik, logLambda: 0)], tau: 0.2,
                                     zeroMean: true)
        for K in b.filters { #expect(abs(K.weights.reduce(0, +)) <= 1e-15) }
        let u = [Double](repeating: 1.7, count: 12)
        #expect(try b.forward(u, data: [], batch: 1, height: 3, width: 4).allSatisfy { abs($0 - 1.7) <= 1e-14 })
    }

    @Test("a bounded τ above the certified bound is refused; at the bound the step does not expand")
    func boundedTauRespectsCertifiedBound() throws {
        let K = imageTestFilters(), g = [try ChannelDiffusivity(kind: .charbonnier, logLambda: 0)]
        let probe = try DiffusionBlock2D(filters: K, coupling: .isotropic, diffusivities: g, tau: 0, muParameter: 0.5)
        let bound = try probe.certifiedTauBound(height: 4, width: 5)
        #expect(bound > 0 && bound.isFinite)
        let over = try DiffusionBlock2D(filters: K, coupling: .isotropic, diffusivities: g, tau: bound * 1.01,
                                        stepMode: .bounded, muParameter: 0.5)
        let u = [Double](repeating: 0.5, count: 20)
        #expect(throws: PDEBlocksError.self) { try over.forward(u, data: u, batch: 1, height: 4, width: 5) }
        #expect(throws: PDEBlocksError.self) { try over.backward(u, input: u, data: u, batch: 1, height: 4, width: 5) }
        let at = try DiffusionBlock2D(filters: K, coupling: .isotropic, diffusivities: g, tau: bound,
                                      stepMode: .bounded, muParameter: 0.5)
        #expect(try at.forward(u, data: u, batch: 1, height: 4, width: 5).allSatisfy { $0.isFinite })
        // The bound certifies the frozen-g linear part I − τ(KᵀGK + μI), 0 ≤ G ≤ sup g: with g ≡ 1
        // (linear, sup g = 1, the same bound) the Jacobian is that operator, so ‖J du‖ ≤ ‖du‖.
        let linear = try DiffusionBlock2D(filters: K, coupling: .isotropic,
                                          diffusivities: [try ChannelDiffusivity(kind: .linear, logLambda: 0)],
                                          tau: bound, stepMode: .bounded, muParameter: 0.5)
        var rng = LayerRNG(3)
        for _ in 0..<5 {
            let x = rng.normals(20), du = rng.normals(20)
            #expect(norm(try linear.jvp(x, du: du, df: [], batch: 1, height: 4, width: 5)) <= norm(du) * (1 + 1e-12))
        }
    }

    @Test("bad input throws and leaves the output untouched")
    func badInputThrows() throws {
        let b = labelledImageBlocks[0].block
        let u = [Double](repeating: 1, count: 12)
        #expect(throws: PDEBlocksError.self) { try b.forward(u, data: u, batch: 1, height: 3, width: 5) }
        #expect(throws: PDEBlocksError.self) { try b.forward(u, data: [], batch: 1, height: 3, width: 4) }
        var bad = u
        bad[3] = .nan
        #expect(throws: PDEBlocksError.self) { try b.forward(bad, data: u, batch: 1, height: 3, width: 4) }
        #expect(throws: PDEBlocksError.self) { try b.forward(u, data: bad, batch: 1, height: 3, width: 4) }
        #expect(throws: PDEBlocksError.self) { try b.setting(parameters: [1, 2]) }
        #expect(throws: PDEBlocksError.self) {
            try DiffusionBlock2D(filters: imageTestFilters(), coupling: .isotropic, diffusivities: [], tau: 0.1)
        }
        #expect(throws: PDEBlocksError.self) {
            try DiffusionBlock2D(filters: imageTestFilters(), coupling: .isotropic,
                                 diffusivities: [try ChannelDiffusivity(kind: .linear, logLambda: 0)], tau: .nan)
        }
        var out = [Double](repeating: 7, count: 12)
        _ = u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { ob in
                #expect(throws: PDEBlocksError.self) {
                    try b.forward(ub, data: ub, batch: 2, height: 3, width: 4, into: ob)
                }
            }
        }
        #expect(out.allSatisfy { $0 == 7 })
    }
}

@Suite struct ImageBlockOverflowTests {
    @Test("finite input whose result overflows throws nonFinite and writes nothing")
    func overflowIsAnErrorAndWritesNothing() throws {
        let b = try DiffusionBlock2D(filters: imageTestFilters(), coupling: .channelwise,
                                     diffusivities: Array(repeating: try ChannelDiffusivity(kind: .linear, logLambda: 0), count: 3),
                                     tau: 0.2, muParameter: 0)
        let u = (0..<12).map { $0 % 2 == 0 ? 1.5e308 : -1.5e308 }, f = [Double](repeating: 0, count: 12)
        var out = [Double](repeating: 7, count: 12)
        var gu = out, gf = out, gp = [Double](repeating: 7, count: b.parameterCount)
        u.withUnsafeBufferPointer { ub in
            f.withUnsafeBufferPointer { fb in
                out.withUnsafeMutableBufferPointer { ob in
                    #expect(throws: PDEBlocksError.self) { try b.forward(ub, data: fb, batch: 1, height: 3, width: 4, into: ob) }
                }
                gu.withUnsafeMutableBufferPointer { gub in
                    gf.withUnsafeMutableBufferPointer { gfb in
                        gp.withUnsafeMutableBufferPointer { gpb in
                            #expect(throws: PDEBlocksError.self) {
                                try b.backward(ub, input: ub, data: fb, batch: 1, height: 3, width: 4, gradU: gub,
                                               gradF: gfb, gradParameters: gpb)
                            }
                        }
                    }
                }
            }
        }
        #expect((out + gu + gf + gp).allSatisfy { $0 == 7 })
    }
}
