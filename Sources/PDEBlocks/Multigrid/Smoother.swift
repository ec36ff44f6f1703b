/// The relaxation used before (`ν₁` sweeps) and after (`ν₂` sweeps) the coarse-grid
/// correction. Each smoother has a *pre* sweep and a *post* sweep that is its adjoint
/// (reverse order), so that with `ν₁ = ν₂` the cycle is a symmetric operator — the
/// requirement for a conjugate-gradient preconditioner — except `.forwardGaussSeidel`.
///
/// One sweep of each, for `A x = b` with `D = diag(A)`:
///  - `.jacobi`: `x ← x + ω D⁻¹ (b − A x)`; `ω` defaults per level to `4/(3ρ̂)` with
///    `ρ̂ = max_i Σ_j |a_ij|/|a_ii| ≥ ρ(D⁻¹A)` (Gershgorin), i.e. `2/3` for Poisson.
///  - `.gaussSeidel`: `x_i ← (b_i − Σ_{j≠i} a_ij x_j)/a_ii` for `i = 0, 1, …, n−1` before the
///    coarse correction, for `i = n−1, …, 0` after it.
///  - `.forwardGaussSeidel`: forward sweeps before and after (the textbook V-cycle; not
///    symmetric).
///  - `.symmetricGaussSeidel`: a forward then a backward sweep, before and after.
///  - `.redBlack`: Gauss–Seidel in red–black order: first the red unknowns (odd `i`),
///    then the black ones (even `i`); after the correction black, then red. For a
///    tridiagonal `A` each colour is updated independently. With vertex coarsening the
///    red unknowns are the coarse ones, so the pre-sweep ends with an F-relaxation.
///  - `.alternatingLine` (2D hierarchies only; `LineSmoother2D`): zebra line
///    Gauss–Seidel, each line solved exactly (a tridiagonal solve): even rows, odd rows,
///    even columns, odd columns; after the correction the reverse order (its adjoint).
///    For anisotropic and strongly jumping couplings, where point smoothers stall.
public enum Smoother: Int32, Sendable, CaseIterable {
    case jacobi = 0
    case gaussSeidel = 1
    case forwardGaussSeidel = 2
    case symmetricGaussSeidel = 3
    case redBlack = 4
    case alternatingLine = 5

    /// The snake_case name used by Python and C.
    public var name: String {
        switch self {
        case .jacobi: "jacobi"
        case .gaussSeidel: "gauss_seidel"
        case .forwardGaussSeidel: "gauss_seidel_forward"
        case .symmetricGaussSeidel: "symmetric_gauss_seidel"
        case .redBlack: "red_black"
        case .alternatingLine: "alternating_line"
        }
    }

    /// Looks a smoother up by name; throws naming the known ones.
    public init(name: String) throws {
        guard let s = Self.allCases.first(where: { $0.name == name }) else {
            throw PDEBlocksError.invalidArgument(
                "unknown smoother '\(name)' (known: \(Self.allCases.map(\.name).joined(separator: ", ")))")
        }
        self = s
    }

    /// Whether the smoother relaxes single unknowns (every 1D smoother); `.alternatingLine`
    /// relaxes whole image lines and exists for 2D hierarchies only.
    public var isPointSmoother: Bool { self != .alternatingLine }

    /// Whether post-smoothing is the adjoint of pre-smoothing.
    public var isSymmetric: Bool { self != .forwardGaussSeidel }

    /// The default Jacobi weight `4/(3ρ̂)` for a matrix (see the type's documentation).
    static func defaultOmega(_ A: BandedMatrix) -> Double {
        let w = A.width, kl = A.lower
        let rho = A.band.withUnsafeBufferPointer { a in
            var rho = 0.0
            for i in 0..<A.n {
                var s = 0.0
                for k in 0..<w { s += abs(a[i * w + k]) }
                rho = max(rho, s / abs(a[i * w + kl]))
            }
            return rho
        }
        return rho > 0 ? 4 / (3 * rho) : 1
    }
}

/// What one sweep does (the building blocks of `Smoother`).
enum SmootherSweep {
    case jacobi
    case forward
    case backward
    /// Red (odd) then black (even) unknowns, or the reverse.
    case redBlack
    case blackRed
}

extension Smoother {
    /// The sweeps of one smoothing step, applied in order: before the coarse correction
    /// (`post == false`), or after it — the adjoint, except for forward Gauss–Seidel.
    func sweeps(post: Bool) -> (SmootherSweep, SmootherSweep?) {
        switch self {
        case .jacobi: (.jacobi, nil)
        case .gaussSeidel: post ? (.backward, nil) : (.forward, nil)
        case .forwardGaussSeidel: (.forward, nil)
        case .symmetricGaussSeidel: (.forward, .backward)
        case .redBlack: post ? (.blackRed, nil) : (.redBlack, nil)
        case .alternatingLine: preconditionFailure("alternating_line is a 2D smoother (rejected by the 1D hierarchy)")
        }
    }
}
