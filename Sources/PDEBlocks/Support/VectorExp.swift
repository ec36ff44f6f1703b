/// Branch-free `exp` for the flux kernels (the explicit step's cost is dominated by exp).
/// Written as straight-line scalar code so that LLVM's loop vectoriser turns a loop of
/// calls into AVX2/AVX-512 code; the libm `exp` stays the reference path
/// (`Diffusivity.flux`), and the tests compare the two.
///
/// Method: `exp(x) = 2^k · exp(r)`, `k = round(x / ln 2)` (by the 1.5·2^52 shifter),
/// `r = x − k·ln 2` with a two-part (Cody–Waite) ln 2, `|r| ≤ ln2/2`; `exp(r)` by its
/// degree-13 Taylor polynomial (truncation ≤ 4e-18 relative) in Horner form (fused
/// multiply–adds when built with `-DPDB_FMA`, see `plusProduct`); `2^k` assembled in the exponent bits. Accuracy ≤ 2 ulp on
/// [−708.39, 709.78] (tested against libm). Outside, the argument is clamped: below it
/// returns e^{−708.39} ≈ 2.3e-308 instead of a smaller subnormal or 0 (absolute error
/// < 2.3e-308), above it returns e^{709.78} ≈ 1.8e308 instead of ∞. NaN gives NaN.
@inlinable @inline(__always)
public func fastExp(_ x: Double) -> Double {
    let shifter = 6755399441055744.0  // 1.5·2^52: x + shifter rounds x to an integer in the low bits
    let xc = x < -708.39 ? -708.39 : (x > 709.78 ? 709.78 : x)
    let kd = xc * 1.4426950408889634 + shifter
    let k = kd - shifter
    var r = xc - k * 6.93147180369123816490e-01
    r = r - k * 1.90821492927058770002e-10
    // Taylor coefficients 1/13!, …, 1/2!, 1, 1 (Horner)
    var p = 1.6059043836821613e-10
    p = (2.08767569878681e-09 as Double).plusProduct(p, r)
    p = (2.505210838544172e-08 as Double).plusProduct(p, r)
    p = (2.755731922398589e-07 as Double).plusProduct(p, r)
    p = (2.7557319223985893e-06 as Double).plusProduct(p, r)
    p = (2.48015873015873e-05 as Double).plusProduct(p, r)
    p = (1.984126984126984e-04 as Double).plusProduct(p, r)
    p = (1.388888888888889e-03 as Double).plusProduct(p, r)
    p = (8.333333333333333e-03 as Double).plusProduct(p, r)
    p = (4.1666666666666664e-02 as Double).plusProduct(p, r)
    p = (0.16666666666666666 as Double).plusProduct(p, r)
    p = (0.5 as Double).plusProduct(p, r)
    p = (1.0 as Double).plusProduct(p, r)
    p = (1.0 as Double).plusProduct(p, r)
    // 2^k: (k + 1023) << 52, with k in the shifter's low bits (two's complement).
    let scale = Double(bitPattern: (kd.bitPattern &+ 1023) &<< 52)
    return p * scale
}
