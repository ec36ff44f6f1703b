/// A fast test that an array is all finite: `Σ v_i·0` in eight lanes is NaN exactly when
/// some `v_i` is NaN or ±∞ (`∞·0 = NaN`), so the common, valid case costs one vectorised
/// pass; only a failing array is rescanned to name the first bad index (`Check.allFinite`).
package enum VectorFiniteCheck {
    package static func isAllFinite(_ v: UnsafeBufferPointer<Double>) -> Bool {
        guard let p = v.baseAddress else { return true }
        let n = v.count
        var acc = SIMD8<Double>(repeating: 0)
        var i = 0
        let zero = SIMD8<Double>(repeating: 0)
        while i + 8 <= n {
            acc = acc.plusProduct(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self), zero)
            i += 8
        }
        var tail = 0.0
        while i < n {
            tail += p[i] * 0
            i += 1
        }
        return (acc.sum() + tail) == 0
    }

    /// Throws `.nonFinite` naming the first NaN/∞ entry of `v`.
    package static func require(_ v: UnsafeBufferPointer<Double>, _ name: String) throws {
        if isAllFinite(v) { return }
        try Check.allFinite(v, name)
    }
}
