import Foundation
@testable import PDEBlocks

/// Independent dense transcriptions of the image conventions of DESIGN.md for the image
/// scheme tests: the stencil matrix with the half-sample mirror per axis, and the step
/// `base − τ Σ_c K_cᵀ G_c K_c x` for both couplings.
enum ImageReference {
    static func mirror(_ k: Int, _ n: Int) -> Int {
        let p = 2 * n
        var r = k % p
        if r < 0 { r += p }
        return r < n ? r : p - 1 - r
    }

    /// Dense (H·W)×(H·W) matrix of a stencil, written from the formula.
    static func matrix(_ k: Stencil2D, _ h: Int, _ w: Int) -> [[Double]] {
        var m = [[Double]](repeating: [Double](repeating: 0, count: h * w), count: h * w)
        for i in 0..<h { for j in 0..<w { for a in 0..<k.rows { for b in 0..<k.columns {
            let r = mirror(i + k.offsetY + a, h), c = mirror(j + k.offsetX + b, w)
            m[i * w + j][r * w + c] += k.weights[a * k.columns + b]
        } } } }
        return m
    }

    static func times(_ m: [[Double]], _ x: [Double]) -> [Double] { m.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } } }
    static func transposeTimes(_ m: [[Double]], _ y: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: m[0].count)
        for (r, row) in m.enumerated() { for (c, v) in row.enumerated() { out[c] += v * y[r] } }
        return out
    }

    static func g(_ d: Diffusivity, _ s2: Double) -> Double {
        ReferenceDiffusivity.of(d.kind).gOfX2(s2 / (d.lambda * d.lambda))
    }

    /// One step `base − τ Σ_c K_cᵀ G_c K_c x`.
    static func step(_ x: [Double], base: [Double], bank: [Stencil2D], g: [Diffusivity], coupling: Coupling,
                     tau: Double, h: Int, w: Int) -> [Double] {
        let ms = bank.map { matrix($0, h, w) }
        let ys = ms.map { times($0, x) }
        var out = base
        for c in bank.indices {
            let gc = g.count == 1 ? g[0] : g[c]
            let flux: [Double] = (0..<(h * w)).map { p in
                let s2 = coupling == .isotropic ? ys.reduce(0) { $0 + $1[p] * $1[p] } : ys[c][p] * ys[c][p]
                return self.g(gc, s2) * ys[c][p]
            }
            let back = transposeTimes(ms[c], flux)
            for p in out.indices { out[p] -= tau * back[p] }
        }
        return out
    }
}

/// Runs a scheme's closure on arrays.
func imageRun(_ f: [Double], _ body: (UnsafeBufferPointer<Double>, UnsafeMutableBufferPointer<Double>) throws -> Void) throws -> [Double] {
    var out = [Double](repeating: 0, count: f.count)
    try f.withUnsafeBufferPointer { fb in try out.withUnsafeMutableBufferPointer { try body(fb, $0) } }
    return out
}
