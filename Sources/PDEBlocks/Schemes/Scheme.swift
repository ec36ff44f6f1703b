/// The time-stepping schemes `Evolve` can use to reach a stopping time.
/// Raw values are the C ABI's `PDB_SCHEME_*` constants.
public enum Scheme: Int32, CaseIterable, Sendable {
    /// Explicit diffusion blocks (eq. 4), `Explicit`.
    case explicit = 0
    /// FSI cycles (eq. 7), `FSI`.
    case fsi = 1
    /// FED cycles (Grewenig et al. 2010), `FED`.
    case fed = 2
    /// Implicit steps solved by fixed-point sweeps (eqs. 8, 9), `Implicit`.
    case implicit = 3

    /// `"explicit"`, `"fsi"`, `"fed"` or `"implicit"`.
    public var name: String {
        switch self {
        case .explicit: "explicit"
        case .fsi: "fsi"
        case .fed: "fed"
        case .implicit: "implicit"
        }
    }

    /// Looks a scheme up by name; throws naming the known ones.
    public init(name: String) throws {
        guard let scheme = Self.allCases.first(where: { $0.name == name }) else {
            let known = Self.allCases.map(\.name).joined(separator: ", ")
            throw PDEBlocksError.invalidArgument("unknown scheme '\(name)' (known: \(known))")
        }
        self = scheme
    }

    /// Throws for an unknown raw value (from C).
    public init(code: Int32) throws {
        guard let scheme = Self(rawValue: code) else {
            throw PDEBlocksError.invalidArgument(
                "unknown scheme \(code) (PDB_SCHEME_EXPLICIT = 0, _FSI = 1, _FED = 2, _IMPLICIT = 3)")
        }
        self = scheme
    }
}
