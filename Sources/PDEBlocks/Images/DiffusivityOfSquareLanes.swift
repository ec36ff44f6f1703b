/// `g(m)` on eight lanes from a kind's flux lanes, `g(m) = Φ(√m)/√m` (and `g(0) = 1`, the
/// `sup g` of every built-in kind), so the isotropic coupling uses the library's vectorised
/// activation (`FluxLanes`, `VectorExp`) without a second formula per kind. Within a few
/// ulps of `Diffusivity.g`.
@inlinable @inline(__always)
func diffusivityOfSquare<F: FluxLanes>(_ flux: F, _ m: SIMD8<Double>) -> SIMD8<Double> {
    let s = m.squareRoot()
    let g = flux(s) / s
    return g.replacing(with: 1, where: s .== 0)
}

/// `v[i] ← g(v[i])` in place over a buffer (whole vectors; the tail through a zero-padded vector,
/// so every value takes the same arithmetic).
struct DiffusivityOfSquareInPlace: FluxLanesKernel {
    let v: UnsafeMutableBufferPointer<Double>
    func run<F: FluxLanes>(_ flux: F) {
        guard let p = v.baseAddress else { return }
        let n = v.count
        var i = 0
        while i + 8 <= n {
            store8(diffusivityOfSquare(flux, load8(p, i)), p, i)
            i += 8
        }
        if i < n {
            var t = SIMD8<Double>(repeating: 0)
            for l in 0..<(n - i) { t[l] = p[i + l] }
            let r = diffusivityOfSquare(flux, t)
            for l in 0..<(n - i) { p[i + l] = r[l] }
        }
    }
}
