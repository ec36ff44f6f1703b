import Foundation
@testable import PDEBlocks

/// Dense transcriptions of DESIGN.md's EED and of AOS, written independently of the library
/// kernels (mirror by formula, dense matrices from `Stencil2D.matrix`, eigenvectors by hand).
enum EEDReference {
    static func mirror(_ j: Int, _ n: Int) -> Int { Reference.mirror(j, n) }

    /// Sampled Gaussian, radius ⌈3σ⌉, normalised to sum 1 (full kernel −r…r).
    static func kernel(_ sigma: Double) -> [Double] {
        guard sigma > 0 else { return [1] }
        let r = Int((3 * sigma).rounded(.up))
        let w = (-r...r).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let s = w.reduce(0, +)
        return w.map { $0 / s }
    }

    /// `u_σ[i, j] = Σ_a Σ_b w_a w_b u[m(i+a), m(j+b)]`.
    static func smooth(_ u: [Double], _ H: Int, _ W: Int, _ sigma: Double) -> [Double] {
        let w = kernel(sigma), r = w.count / 2
        var out = [Double](repeating: 0, count: H * W)
        for i in 0..<H {
            for j in 0..<W {
                var s = 0.0
                for a in -r...r {
                    for b in -r...r { s += w[a + r] * w[b + r] * u[mirror(i + a, H) * W + mirror(j + b, W)] }
                }
                out[i * W + j] = s
            }
        }
        return out
    }

    /// Per pixel `M = g v₁v₁ᵀ + v₂v₂ᵀ` from central differences of `u_σ` (M = I at zero gradient).
    static func tensor(_ u: [Double], _ H: Int, _ W: Int, h: Double, sigma: Double, kind: DiffusivityKind, lambda: Double)
        -> [(Double, Double, Double)]
    {
        let us = smooth(u, H, W, sigma)
        return (0..<(H * W)).map { p in
            let i = p / W, j = p % W
            let gx = (us[i * W + mirror(j + 1, W)] - us[i * W + mirror(j - 1, W)]) / (2 * h)
            let gy = (us[mirror(i + 1, H) * W + j] - us[mirror(i - 1, H) * W + j]) / (2 * h)
            let s2 = gx * gx + gy * gy
            guard s2 > 0 else { return (1, 0, 1) }
            let g = Reference.g(kind, s2, lambda)
            let v1 = (gx / s2.squareRoot(), gy / s2.squareRoot()), v2 = (-v1.1, v1.0)
            return (g * v1.0 * v1.0 + v2.0 * v2.0, g * v1.0 * v1.1 + v2.0 * v2.1, g * v1.1 * v1.1 + v2.1 * v2.1)
        }
    }

    /// One explicit EED step `u − τ Kᵀ M K u` with dense `Kx`, `Ky`.
    static func eedStep(_ u: [Double], _ H: Int, _ W: Int, h: Double, sigma: Double, kind: DiffusivityKind,
                        lambda: Double, tau: Double) throws -> [Double] {
        let K = try Stencil2D.gradient(h: h)
        let n = H * W
        let kx = try rows(K[0].matrix(height: H, width: W), n), ky = try rows(K[1].matrix(height: H, width: W), n)
        let px = Reference.matvec(kx, u), py = Reference.matvec(ky, u)
        let m = tensor(u, H, W, h: h, sigma: sigma, kind: kind, lambda: lambda)
        let fx = (0..<n).map { m[$0].0 * px[$0] + m[$0].1 * py[$0] }
        let fy = (0..<n).map { m[$0].1 * px[$0] + m[$0].2 * py[$0] }
        let d = zip(Reference.matTvec(kx, fx), Reference.matTvec(ky, fy)).map { $0 + $1 }
        return zip(u, d).map { $0 - tau * $1 }
    }

    static func rows(_ flat: [Double], _ n: Int) -> [[Double]] { (0..<n).map { Array(flat[($0 * n)..<(($0 + 1) * n)]) } }

    /// Gaussian elimination with partial pivoting (dense, small systems).
    static func solve(_ A: [[Double]], _ b: [Double]) -> [Double] {
        var a = A, x = b
        let n = b.count
        for k in 0..<n {
            let p = (k..<n).max { abs(a[$0][k]) < abs(a[$1][k]) }!
            a.swapAt(k, p)
            x.swapAt(k, p)
            for i in (k + 1)..<n where a[i][k] != 0 {
                let m = a[i][k] / a[k][k]
                for j in k..<n { a[i][j] -= m * a[k][j] }
                x[i] -= m * x[k]
            }
        }
        for k in stride(from: n - 1, through: 0, by: -1) {
            var s = x[k]
            for j in (k + 1)..<n { s -= a[k][j] * x[j] }
            x[k] = s / a[k][k]
        }
        return x
    }

    /// One AOS step with dense `(I + 2τ K_lᵀ diag(g) K_l)` solves, `g` from forward differences.
    static func aosStep(_ u: [Double], _ H: Int, _ W: Int, h: Double, kind: DiffusivityKind, lambda: Double,
                        tau: Double) throws -> [Double] {
        let K = try Stencil2D.gradient(h: h)
        let n = H * W
        let kx = try rows(K[0].matrix(height: H, width: W), n), ky = try rows(K[1].matrix(height: H, width: W), n)
        let px = Reference.matvec(kx, u), py = Reference.matvec(ky, u)
        let g = (0..<n).map { Reference.g(kind, px[$0] * px[$0] + py[$0] * py[$0], lambda) }
        var result = [Double](repeating: 0, count: n)
        for k in [kx, ky] {
            var A = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for r in 0..<n { A[r][r] = 1 }
            for p in 0..<n {
                for q in 0..<n {
                    var s = 0.0
                    for r in 0..<n where k[r][p] != 0 && k[r][q] != 0 { s += k[r][p] * g[r] * k[r][q] }
                    A[p][q] += 2 * tau * s
                }
            }
            let v = solve(A, u)
            for p in 0..<n { result[p] += 0.5 * v[p] }
        }
        return result
    }
}
