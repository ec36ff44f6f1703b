import Testing
@testable import PDEBlocks

/// The documented bounds of `LearnableDiffusivity` (a_j > 0, Σ a_j < 1, hence sup g < 1)
/// hold strictly for every logit, however large, and gradients stay finite.
@Suite struct LearnableDiffusivityBoundsTests {
    static let extremeLogits: [[Double]] = [
        [800, -800], [-800, 800], [800], [-800], [1e300, -1e300], [-1e300, -1e300, -1e300],
        Array(repeating: 800, count: 64), [40, 40, 40], [-40, 30], [25, -25], [26, -26, 0],
        (0..<64).map { Double($0) * 25 - 800 },
    ]

    @Test("a_j > 0 and Σ a_j < 1 strictly for logits of any size", arguments: extremeLogits)
    func weightsStayInsideTheOpenSimplex(_ logits: [Double]) throws {
        let m = try LearnableDiffusivity(logits: logits, logContrasts: logits.map { _ in 0 })
        #expect(m.weights.allSatisfy { $0 > 0 && $0.isFinite })
        #expect(m.supG < 1)
        #expect(m.weights.reduce(0, +) < 1)
        #expect(m.g(0) < 1 && m.g(0) > 0)
    }

    @Test("inside the clamp the weights are the documented softmax")
    func weightsAreTheSoftmaxInsideTheClamp() throws {
        let logits = [-3.0, 0.5, 24.0]
        let m = try LearnableDiffusivity(logits: logits, logContrasts: [0, 0, 0])
        let e = logits.map { exp($0) }, d = 1 + e.reduce(0, +)
        for j in logits.indices { #expect(abs(m.weights[j] - e[j] / d) <= 1e-15 * e[j] / d) }
    }

    @Test("a block with extreme logits has finite gradients; clamped logits have gradient 0")
    func gradientsStayFinite() throws {
        let m = try LearnableDiffusivity(logits: [800, -800, 0.3], logContrasts: [0, -1, 1])
        let block = try DiffusionBlock(filters: [forwardDifference], diffusivities: [.learnable(m)], step: .free(0.2))
        var rng = LayerRNG(5)
        let x = rng.normals(16), v = rng.normals(16)
        let (gx, gp) = try block.vjp(x, v)
        #expect(gx.allSatisfy(\.isFinite) && gp.allSatisfy(\.isFinite))
        // parameter layout: stencil weights (2), logits (3), log-contrasts (3), τ
        #expect(gp[2] == 0 && gp[3] == 0)
        #expect(try block.forward(x).allSatisfy(\.isFinite))
    }

    @Test("weights whose logits leave the clamp are refused, naming the weight")
    func tinyWeightsAreRefused() {
        #expect(throws: PDEBlocksError.self) { _ = try LearnableDiffusivity(weights: [1e-13, 0.5], contrasts: [1, 1]) }
        do {
            _ = try LearnableDiffusivity(weights: [1e-13, 0.5], contrasts: [1, 1])
        } catch let e as PDEBlocksError {
            #expect(e.message.contains("weight 0"))
        } catch {}
    }
}
