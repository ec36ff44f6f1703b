import Foundation
@testable import PDEBlocks

/// The one reference table of the diffusivity kinds for every Swift test: each kind's
/// formulas transcribed independently from DESIGN.md (Foundation's `exp`, `expm1`, `pow`,
/// written as functions of `x² = s²/λ²`), its `sup g` and its Lipschitz constant
/// `sup_s |Φ′(s)|` in closed form. `of(_:)` switches exhaustively over the kinds, so a new
/// kind does not compile until it has a row here; the tests iterate `DiffusivityKind.allCases`.
struct ReferenceDiffusivity: Sendable {
    let kind: DiffusivityKind
    /// `g` as a function of `x² ≥ 0`.
    let gOfX2: @Sendable (Double) -> Double
    /// `Φ′` as a function of `x² ≥ 0`.
    let fluxDerivativeOfX2: @Sendable (Double) -> Double
    /// `sup g`.
    let supG: Double
    /// `sup |Φ′|` (closed form).
    let lipschitz: Double

    /// `C` of Weickert's diffusivity.
    static let weickertC = 3.31488

    static func of(_ kind: DiffusivityKind) -> ReferenceDiffusivity {
        switch kind {
        case .linear:
            return .init(kind: kind, gOfX2: { _ in 1 }, fluxDerivativeOfX2: { _ in 1 }, supG: 1, lipschitz: 1)
        case .peronaMalik:
            // |e^{−x²/2}(1 − x²)| peaks at x = 0 (value 1; the other peak, x² = 3, is 2e^{−3/2})
            return .init(kind: kind, gOfX2: { Foundation.exp(-$0 / 2) },
                         fluxDerivativeOfX2: { Foundation.exp(-$0 / 2) * (1 - $0) }, supG: 1, lipschitz: 1)
        case .peronaMalikRational:
            return .init(kind: kind, gOfX2: { 1 / (1 + $0) },
                         fluxDerivativeOfX2: { (1 - $0) / Foundation.pow(1 + $0, 2) }, supG: 1, lipschitz: 1)
        case .charbonnier:
            return .init(kind: kind, gOfX2: { 1 / Foundation.sqrt(1 + $0) },
                         fluxDerivativeOfX2: { Foundation.pow(1 + $0, -1.5) }, supG: 1, lipschitz: 1)
        case .weickert:
            // with t = C/x⁸: Φ′ = 1 − e^{−t}(1 + 8t), extreme at t = 7/8: Φ′ = 1 − 8e^{−7/8}
            return .init(
                kind: kind, gOfX2: { $0 == 0 ? 1 : -Foundation.expm1(-weickertC / Foundation.pow($0, 4)) },
                fluxDerivativeOfX2: { x2 in
                    guard x2 > 0 else { return 1 }
                    let t = weickertC / Foundation.pow(x2, 4)
                    return 1 - Foundation.exp(-t) * (1 + 8 * t)
                },
                supG: 1, lipschitz: 8 * Foundation.exp(-7.0 / 8) - 1)
        }
    }

    static let all: [ReferenceDiffusivity] = DiffusivityKind.allCases.map(of)

    /// `g(s²)` with contrast λ.
    func g(_ s2: Double, lambda: Double) -> Double { gOfX2(s2 / (lambda * lambda)) }
    /// `Φ(s) = g(s²)·s`.
    func flux(_ s: Double, lambda: Double) -> Double { g(s * s, lambda: lambda) * s }
    /// `Φ′(s)`.
    func fluxDerivative(_ s: Double, lambda: Double) -> Double { fluxDerivativeOfX2(s * s / (lambda * lambda)) }
}
