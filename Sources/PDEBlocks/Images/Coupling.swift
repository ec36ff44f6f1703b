/// How the fluxes of a filter bank `K_1 … K_C` are coupled in an image diffusion step
/// (DESIGN.md "Images"). Raw values are the C ABI's `PDB_COUPLING_*` constants.
public enum Coupling: Int32, CaseIterable, Sendable {
    /// One diffusivity of `Σ_j (K_j u)²` for every channel (rotationally invariant for
    /// `gradient_2d`: Perona–Malik on images as usually meant):
    /// `u ← u − τ Σ_c K_cᵀ [g(Σ_j (K_j u)²) · K_c u]`. The default for images.
    case isotropic = 0
    /// Each filter its own flux `Φ_c(s) = g_c(s²)s` (medpy's `anisotropic_diffusion` with
    /// `gradient_2d`): `u ← u − τ Σ_c K_cᵀ Φ_c(K_c u)`.
    case channelwise = 1

    /// `"isotropic"` or `"channelwise"`.
    public var name: String { self == .isotropic ? "isotropic" : "channelwise" }

    /// Looks a coupling up by name; throws naming the known ones.
    public init(name: String) throws {
        guard let c = Self.allCases.first(where: { $0.name == name }) else {
            throw PDEBlocksError.invalidArgument("unknown coupling '\(name)' (known: isotropic, channelwise)")
        }
        self = c
    }
}
