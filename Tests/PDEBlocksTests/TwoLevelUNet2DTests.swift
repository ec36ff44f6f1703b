import Foundation
import Testing
@testable import PDEBlocks

/// `TwoLevelUNet2D` against a dense transcription: `R = R_y ⊗ R_x`, `P = P_y ⊗ P_x` from the
/// 1D transfers' dense matrices, stencils as dense matrices, diffusion blocks by their
/// (separately tested) array forward pass.
@Suite struct TwoLevelUNet2DTests {
    /// `y = (A_y ⊗ A_x) x` for row-major images (`A_y`: `ry×cy`, `A_x`: `rx×cx`).
    func kron(_ ay: [Double], _ ry: Int, _ cy: Int, _ ax: [Double], _ rx: Int, _ cx: Int, _ x: [Double]) -> [Double] {
        var y = [Double](repeating: 0, count: ry * rx)
        for I in 0..<ry {
            for J in 0..<rx {
                var s = 0.0
                for i in 0..<cy where ay[I * cy + i] != 0 {
                    for j in 0..<cx { s += ay[I * cy + i] * ax[J * cx + j] * x[i * cx + j] }
                }
                y[I * rx + J] = s
            }
        }
        return y
    }

    func dense(_ K: Stencil2D, _ u: [Double], _ H: Int, _ W: Int) throws -> [Double] {
        let A = try K.matrix(height: H, width: W), n = H * W
        return (0..<n).map { i in (0..<n).reduce(0) { $0 + A[i * n + $1] * u[$1] } }
    }

    func reference(_ block: UNetBlock2D, _ u: [Double], _ H: Int, _ W: Int) throws -> [Double] {
        switch block {
        case .stencil(let K): return try dense(K, u, H, W)
        case .diffusion(let d): return try d.forward(u, data: [], batch: 1, height: H, width: W)
        }
    }

    @Test func forwardIsTheDenseCompositionWithKroneckerTransfers() throws {
        let (kx, ky) = (try Stencil2D(weights: [-1, 1], rows: 1, columns: 2), try Stencil2D(weights: [-1, 1], rows: 2, columns: 1))
        let smooth = try Stencil2D(weights: [1, 2, 1, 2, 4, 2, 1, 2, 1].map { $0 / 16 }, rows: 3, columns: 3, offsetY: -1, offsetX: -1)
        let skew = try Stencil2D(weights: [0.3, -0.2, 0.5, 0.1], rows: 2, columns: 2, offsetY: -1, offsetX: 0)
        let pm = try ChannelDiffusivity(try Diffusivity(.peronaMalik, lambda: 0.4))
        let d = try DiffusionBlock2D(filters: [kx, ky], coupling: .isotropic, diffusivities: [pm], tau: 0.2)
        let pre: [UNetBlock2D] = [.diffusion(d), .stencil(smooth)], coarse: [UNetBlock2D] = [.stencil(skew), .diffusion(d)]
        let post: [UNetBlock2D] = [.diffusion(d)]
        var rng = LayerRNG(5)
        for transfer in [TransferKind.cell, .vertex] {
            for (H, W) in [(6, 8), (7, 5), (9, 9), (2, 3)] {
                let net = try TwoLevelUNet2D(pre: pre, coarse: coarse, post: post, transfer: transfer)
                let f = rng.normals(2 * H * W)
                let out = try net.forward(f, batch: 2, height: H, width: W)
                let ty = try net.makeTransfer(H), tx = try net.makeTransfer(W)
                let (hc, wc) = (ty.coarse, tx.coarse)
                for b in 0..<2 {
                    var u = Array(f[(b * H * W)..<((b + 1) * H * W)])
                    for k in pre { u = try reference(k, u, H, W) }
                    var c = kron(ty.restrictionMatrix(), hc, H, tx.restrictionMatrix(), wc, W, u)
                    for k in coarse { c = try reference(k, c, hc, wc) }
                    let up = kron(ty.prolongationMatrix(), H, hc, tx.prolongationMatrix(), W, wc, c)
                    u = zip(u, up).map { $0 + $1 }
                    for k in post { u = try reference(k, u, H, W) }
                    let got = Array(out[(b * H * W)..<((b + 1) * H * W)])
                    #expect(norm(zip(got, u).map { $0 - $1 }) <= 1e-13 * max(1, norm(u)), "\(transfer.name) \(H)×\(W) image \(b)")
                }
            }
        }
    }

    @Test func emptyChainsAddTheTwoGridCorrectionOfTheTensorProductTransfers() throws {
        // f + (P_y R_y ⊗ P_x R_x) f: the 1D U-nets' maps along each axis.
        let net = try TwoLevelUNet2D(pre: [], coarse: [], post: [], transfer: .cell)
        let (H, W) = (5, 6)
        let f = (0..<(H * W)).map { sin(Double($0) * 0.9) }
        let rows = try TwoLevelUNet(pre: [], coarse: [], post: [], transfer: .cell)
        // along x: each row through the 1D U-net, minus the identity; then along y likewise.
        func axisMap(_ n: Int) throws -> [Double] {   // the n×n matrix M = P R (1D U-net minus identity)
            var m = [Double](repeating: 0, count: n * n)
            for j in 0..<n {
                var e = [Double](repeating: 0, count: n)
                e[j] = 1
                let y = try rows.forward(e)
                for i in 0..<n { m[i * n + j] = y[i] - e[i] }
            }
            return m
        }
        let expected = zip(f, kron(try axisMap(H), H, H, try axisMap(W), W, W, f)).map { $0 + $1 }
        let got = try net.forward(f, batch: 1, height: H, width: W)
        #expect(norm(zip(got, expected).map { $0 - $1 }) <= 1e-13 * norm(expected))
    }

    @Test func badInputThrows() throws {
        let pm = try ChannelDiffusivity(try Diffusivity(.peronaMalik, lambda: 0.4))
        let K = try Stencil2D(weights: [-1, 1], rows: 1, columns: 2)
        let reaction = try DiffusionBlock2D(filters: [K], coupling: .isotropic, diffusivities: [pm], tau: 0.1, muParameter: 0)
        #expect(throws: PDEBlocksError.self) { try TwoLevelUNet2D(pre: [.diffusion(reaction)], coarse: [], post: []) }
        #expect(throws: PDEBlocksError.self) { try TwoLevelUNet2D(pre: [], coarse: [], post: [], transfer: .matrixDependent) }
        let net = try TwoLevelUNet2D(pre: [.stencil(K)], coarse: [], post: [])
        #expect(throws: PDEBlocksError.self) { try net.forward([1, 2, 3], batch: 1, height: 1, width: 3) }
        #expect(throws: PDEBlocksError.self) { try net.forward([1, 2, 3, 4], batch: 1, height: 2, width: 3) }
        #expect(throws: PDEBlocksError.self) { try net.forward([1, 2, .nan, 4], batch: 1, height: 2, width: 2) }
    }
}
