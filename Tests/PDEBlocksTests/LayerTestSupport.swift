import Testing
@testable import PDEBlocks

/// Deterministic pseudo-random numbers for the layer tests (SplitMix64 → uniform/normal).
struct LayerRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
    mutating func normals(_ k: Int) -> [Double] { (0..<k).map { _ in normal() } }
}

func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

let forwardDifference = try! Stencil(weights: [-1, 1], offset: 0)
let centredSecond = try! Stencil(weights: [1, -2, 1], offset: -1)
let oddStencil = try! Stencil(weights: [0.3, -0.8, 0.2, 0.1], offset: -2)
let mixture = try! LearnableDiffusivity(weights: [0.4, 0.3], contrasts: [0.3, 1.2])

func builtin(_ kind: DiffusivityKind, _ lambda: Double) -> ChannelDiffusivity {
    try! ChannelDiffusivity(try! Diffusivity(kind, lambda: lambda))
}

/// A block with parameter groups by kind: (kind name, indices).
struct LabelledBlock: @unchecked Sendable, CustomTestStringConvertible {
    let name: String
    let block: any NetworkBlock
    var testDescription: String { name }

    /// Parameter indices by kind (from the block's documented layout).
    var groups: [String: [Int]] {
        var g: [String: [Int]] = [:]
        func diffusionGroups(_ b: DiffusionBlock) {
            for (c, K) in b.filters.enumerated() { g["filter weights", default: []] += Array(b.weightOffsets[c]..<(b.weightOffsets[c] + K.count)) }
            for (c, d) in b.diffusivities.enumerated() where d.parameterCount > 0 {
                let key: String
                switch d {
                case .builtin(let x, _): key = "log λ (\(x.kind.name))"
                case .learnable: key = "mixture α, ρ"
                case .rbf: key = "RBF c, b, ρ"
                }
                g[key, default: []] += Array(b.diffusivityOffsets[c]..<(b.diffusivityOffsets[c] + d.parameterCount))
            }
            g[b.step.mode == .free ? "τ" : "θ", default: []].append(b.tauIndex)
        }
        switch block {
        case let b as DiffusionBlock: diffusionGroups(b)
        case let b as FSIBlock: diffusionGroups(b.step)
        case let b as ImplicitBlock: diffusionGroups(b.step)
        case let b as ResidualBlock:
            for (c, ch) in b.channels.enumerated() {
                g["W1", default: []] += Array(b.w1Offsets[c]..<(b.w1Offsets[c] + ch.w1.count))
                g["W2", default: []] += Array(b.w2Offsets[c]..<(b.w2Offsets[c] + ch.w2.count))
            }
            g["b1"] = Array(b.b1Index..<(b.b1Index + b.channels.count))
            g["b2"] = [b.b2Index]
            if b.sigma1.parameterCount > 0 { g["σ1 parameters"] = Array(b.sigma1Index..<(b.sigma1Index + b.sigma1.parameterCount)) }
            if b.sigma2.parameterCount > 0 { g["σ2 parameters"] = Array(b.sigma2Index..<(b.sigma2Index + b.sigma2.parameterCount)) }
        default: break
        }
        return g
    }
}

/// Every block kind, activation, diffusivity kind and parameter kind.
let labelledBlocks: [LabelledBlock] = {
    var out: [LabelledBlock] = []
    for kind in DiffusivityKind.allCases {
        out.append(LabelledBlock(name: "diffusion \(kind.name)", block: try! DiffusionBlock(
            filters: [forwardDifference, oddStencil], diffusivities: [builtin(kind, 0.7), builtin(kind, 1.3)], step: .free(0.15))))
    }
    out.append(LabelledBlock(name: "diffusion learnable", block: try! DiffusionBlock(
        filters: [forwardDifference, centredSecond], diffusivities: [.learnable(mixture), builtin(.charbonnier, 0.5)], step: .free(0.1))))
    out.append(LabelledBlock(name: "diffusion bounded τ", block: try! DiffusionBlock(
        filters: [oddStencil, forwardDifference], diffusivities: [.learnable(mixture), builtin(.peronaMalik, 0.8)],
        step: try! .bounded(fraction: 0.7))))
    let inner = try! DiffusionBlock(filters: [forwardDifference, oddStencil],
                                    diffusivities: [.learnable(mixture), builtin(.weickert, 0.9)], step: .free(0.05))
    out.append(LabelledBlock(name: "fsi", block: try! FSIBlock(step: inner, cycleLength: 4)))
    out.append(LabelledBlock(name: "implicit", block: try! ImplicitBlock(step: inner, iterations: 3)))
    let acts: [Activation] = [.identity, .relu, .tanh] + DiffusivityKind.allCases.map { .flux(builtin($0, 0.9), tau: 0.4) }
        + [.flux(.learnable(mixture), tau: 0.3)]
    for (k, a) in acts.enumerated() {
        let chans = [
            try! ResidualChannel(w1: forwardDifference, w2: try! Stencil(weights: [0.5, -0.2, 0.3], offset: -1), w2Mode: .convolution, b1: 0.1),
            try! ResidualChannel(w1: oddStencil, w2: try! Stencil(weights: [0.7, -0.4], offset: 0), w2Mode: .transposed, b1: -0.2),
        ]
        out.append(LabelledBlock(name: "residual σ1=\(a.summary)", block: try! ResidualBlock(
            channels: chans, b2: 0.05, sigma1: a, sigma2: acts[(k + 3) % acts.count])))
    }
    return out
}()
