/// A nonnegative number `significand · 2^exponent` whose exponent is an `Int`, so values far
/// outside the range of `Double` (‖K‖² of weights near 1e200 is about 1e400, of weights near
/// 1e-160 about 1e-320, a subnormal with three digits) are carried exactly until the one
/// final rounding into a `Double`. The operator norms compute on stencils scaled by a power
/// of two (exact) so their bisection only ever sees numbers near 1, then rescale here.
struct BinaryScaled: Sendable, Hashable {
    /// A finite value ≥ 0 (not necessarily normalised).
    let significand: Double
    let exponent: Int

    init(_ significand: Double, exponent: Int = 0) {
        self.significand = significand
        self.exponent = exponent
    }

    /// `x · 2^e` rounded to nearest (the one rounding `Double(sign:exponent:significand:)`
    /// performs; exact unless the result is subnormal, zero or infinite).
    static func scale(_ x: Double, by e: Int) -> Double {
        // Clamp: beyond ±4500 the result is 0 or ∞ whatever x is (|x| < 2^1024).
        Double(sign: .plus, exponent: max(-4500, min(4500, e)), significand: x)
    }

    /// The binary exponent of the largest magnitude in `values` (0 when all are zero):
    /// dividing by `2^e` brings the largest magnitude into [1, 2) exactly.
    static func exponentOfLargest(_ values: [Double]) -> Int {
        let m = values.reduce(0.0) { max($0, abs($1)) }
        return m > 0 ? Int(m.exponent) : 0
    }

    /// The value rounded up to a `Double` (never below it; `+∞` when it overflows).
    var roundedUp: Double {
        let v = BinaryScaled.scale(significand, by: exponent)
        if v.isInfinite || v == .greatestFiniteMagnitude { return v }
        // v·2^−exponent is exact (it moves v back from the subnormal range or leaves it).
        return BinaryScaled.scale(v, by: -exponent) < significand ? v.nextUp : v
    }

    /// The value rounded down to a `Double` (never above it; 0 when it underflows).
    var roundedDown: Double {
        let v = BinaryScaled.scale(significand, by: exponent)
        if v.isInfinite { return .greatestFiniteMagnitude }
        if v == 0 { return 0 }
        return BinaryScaled.scale(v, by: -exponent) > significand ? v.nextDown : v
    }

    /// `c / self` for `c > 0` finite: carried in the exponent, so no intermediate overflow.
    func reciprocal(times c: Double) -> BinaryScaled {
        let ce = Int(c.exponent)
        let cm = BinaryScaled.scale(c, by: -ce)  // in [1, 2)
        return BinaryScaled(cm / significand, exponent: ce - exponent)
    }

    /// `self · c` for `c ≥ 0` finite.
    func times(_ c: Double) -> BinaryScaled {
        guard c > 0 else { return BinaryScaled(0) }
        let ce = Int(c.exponent)
        return BinaryScaled(significand * BinaryScaled.scale(c, by: -ce), exponent: exponent + ce)
    }

    /// A short description of the magnitude, e.g. "about 2^1330" for messages.
    var magnitudeDescription: String {
        guard significand > 0 else { return "0" }
        let e = exponent + Int(significand.exponent)
        return "about 2^\(e)"
    }
}

/// A step-size bound `c / λ` (Theorem 2's `2/(sup g·‖K‖²)`, eq. 9's `1/(L·‖K‖²)`) rounded
/// down to a `Double`, so it never exceeds the true bound. `+∞` when `λ = 0`.
/// Throws, naming `what` (the user's weights), when the bound is not representable: it
/// underflows to 0 (huge weights) or overflows (tiny weights) — never a silent 0 or ∞.
func stepSizeBound(_ c: Double, over lambda: BinaryScaled, name: String, what: String) throws -> Double {
    guard lambda.significand > 0 else { return .infinity }
    let tau = lambda.reciprocal(times: c)
    let value = tau.roundedDown
    if value == 0 {
        throw PDEBlocksError.invalidArgument(
            "\(name) underflows a Double (it is \(tau.magnitudeDescription)): \(what) are too large "
                + "for a representable step size")
    }
    if value == .greatestFiniteMagnitude {
        throw PDEBlocksError.invalidArgument(
            "\(name) overflows a Double (it is \(tau.magnitudeDescription)): \(what) are too small "
                + "for a representable step size")
    }
    return value
}
