import Foundation
import Testing
@testable import PDEBlocks

/// A labelled 2D diffusion block for parameterised tests, with its parameter groups.
struct LabelledImageBlock: @unchecked Sendable, CustomTestStringConvertible {
    let label: String
    let block: DiffusionBlock2D
    var testDescription: String { label }

    /// Parameter indices by kind (filter weights, diffusivity, tau, mu).
    var groups: [String: [Int]] {
        var g: [String: [Int]] = [:]
        let w = block.weightCount, d = block.diffusivityCount
        g["weights"] = Array(0..<w)
        if d > 0 { g["diffusivity"] = Array(w..<(w + d)) }
        g["tau"] = [w + d]
        if block.muParameter != nil { g["mu"] = [w + d + 1] }
        return g
    }
}

/// A general 3×3 filter (centred), a forward difference along x and one along y.
func imageTestFilters() -> [Stencil2D] {
    [try! Stencil2D(weights: [0.3, -0.5, 0.2, 0.1, 0.6, -0.4, -0.2, 0.25, 0.15], rows: 3, columns: 3,
                    offsetY: -1, offsetX: -1),
     try! Stencil2D(weights: [-1, 1], rows: 1, columns: 2),
     try! Stencil2D(weights: [-0.8, 0.9], rows: 2, columns: 1)]
}

/// Every diffusivity kind once (built-in kinds with λ = 0.7, a two-term mixture, and a
/// five-function RBF whose g is not monotone).
func imageTestDiffusivities() -> [(String, ChannelDiffusivity)] {
    DiffusivityKind.allCases.map { ($0.name, try! ChannelDiffusivity(kind: $0, logLambda: log(0.7))) }
        + [("learnable", .learnable(try! LearnableDiffusivity(weights: [0.3, 0.5], contrasts: [0.4, 1.3]))),
           ("rbf", .rbf(try! RBFDiffusivity(coefficients: [1.5, -2.0, 1.2, 0.4, -0.7], bias: -0.5, logScale: log(0.8))))]
}

/// Blocks over both couplings, every diffusivity kind, with and without reaction and zero mean.
let labelledImageBlocks: [LabelledImageBlock] = {
    var out: [LabelledImageBlock] = []
    let K = imageTestFilters()
    for coupling in Coupling.allCases {
        let all = imageTestDiffusivities()
        for (k, (name, g)) in all.enumerated() {
            let gs = coupling == .isotropic ? [g] : [g, all[(k + 1) % all.count].1, g]
            let reaction = k % 2 == 0, zeroMean = k % 3 != 1
            let block = try! DiffusionBlock2D(filters: K, coupling: coupling, diffusivities: gs, tau: 0.15,
                                              muParameter: reaction ? -0.3 : nil, zeroMean: zeroMean)
            out.append(LabelledImageBlock(
                label: "\(coupling.name) \(name)\(reaction ? " +reaction" : "")\(zeroMean ? " zero-mean" : "")", block: block))
        }
    }
    return out
}()
