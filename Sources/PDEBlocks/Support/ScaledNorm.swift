/// The Euclidean norm `‖v‖₂` without overflow or underflow (LAPACK `dnrm2`'s contract):
/// finite whenever the true norm is at most `Double.greatestFiniteMagnitude`, and not 0
/// for a nonzero vector however small its entries.
///
/// The fast path is the plain `√(Σ v_i²)` (one vectorisable pass), used whenever that sum
/// lies where squaring loses nothing (`2^-960 ≤ Σ v_i² < ∞`); otherwise the vector is
/// rescanned scaled by the exact power of two `2^-e` of its largest entry, so the result
/// equals the plain one to rounding whenever the plain one is meaningful.
/// A NaN entry gives NaN, an infinite one +∞.
package enum ScaledNorm {
    /// The smallest sum of squares the fast path accepts (below it, squares may have
    /// underflowed to subnormals or zero).
    package static let smallestPlainSumOfSquares = 0x1p-960

    /// `‖v‖₂`.
    package static func norm(_ v: UnsafeBufferPointer<Double>) -> Double {
        let plain = BandKernels.normSquared(v)
        if plain.isFinite, plain >= smallestPlainSumOfSquares { return plain.squareRoot() }
        return rescaled(v)
    }

    /// `‖v‖₂` for a sum of squares `sumOfSquares = Σ v_i²` already computed by a fused
    /// kernel: its square root when that is trustworthy, else `rescaled(v)`.
    @inline(__always)
    package static func norm(sumOfSquares: Double, of v: UnsafeBufferPointer<Double>) -> Double {
        if sumOfSquares.isFinite, sumOfSquares >= smallestPlainSumOfSquares { return sumOfSquares.squareRoot() }
        return rescaled(v)
    }

    /// Whether a sum of squares can be used as it is (`√` of it is the norm to rounding).
    @inline(__always)
    package static func isTrustworthy(sumOfSquares s: Double) -> Bool {
        s.isFinite && s >= smallestPlainSumOfSquares
    }

    /// The two-pass scaled norm: `2^e·√(Σ (v_i·2^-e)²)` with `2^e` near `max |v_i|`.
    package static func rescaled(_ v: UnsafeBufferPointer<Double>) -> Double {
        let largest = largestMagnitude(v)
        guard largest > 0, largest.isFinite else { return largest }
        let e = Int(largest.exponent)
        let down = PowerOfTwo.scale(-e)
        var s = 0.0
        for x in v {
            let y = PowerOfTwo.times(x, down)
            s += y * y
        }
        return PowerOfTwo.times(s.squareRoot(), PowerOfTwo.scale(e))
    }

    /// `max_i |v_i|` (NaN if some entry is NaN, else +∞ if some entry is infinite). Eight
    /// lanes at a time (it also serves as the finiteness scan of every scheme's input);
    /// non-finite entries are detected by `Σ v_i·0` (NaN exactly then) and rescanned.
    package static func largestMagnitude(_ v: UnsafeBufferPointer<Double>) -> Double {
        guard let p = v.baseAddress else { return 0 }
        let n = v.count
        var top = SIMD8<Double>(repeating: 0), probe = SIMD8<Double>(repeating: 0)
        let zero = SIMD8<Double>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            let x = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Double>.self)
            // (`LaneSelect`: compares and blends; `pointwiseMax` stays a generic call per
            // vector.) NaN lanes leave `top` unchanged: the probe below reports them.
            let a = LaneSelect.below(x, 0, -x, else: x)
            top = LaneSelect.max(a, top)
            probe = probe.addingProduct(x, zero)
            i += 8
        }
        var largest = top.max(), tail = 0.0
        while i < n {
            largest = Swift.max(largest, abs(p[i]))
            tail += p[i] * 0
            i += 1
        }
        if probe.sum() + tail == 0 { return largest }
        // some entry is NaN or ±∞: NaN wins
        var infinite = false
        for x in v {
            if x.isNaN { return .nan }
            if x.isInfinite { infinite = true }
        }
        return infinite ? .infinity : largest
    }
}
