/// `g(m)` on eight lanes (`FluxLanes.g(ofSquare:)`: the kind's direct form, or `Φ(√m)/√m`).
@inlinable @inline(__always)
func diffusivityOfSquare<F: FluxLanes>(_ flux: F, _ m: SIMD8<Double>) -> SIMD8<Double> { flux.g(ofSquare: m) }

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
