/// A stencil's taps on eight lanes, its width fixed in the type where it is 2 or 3, so the
/// hot loops over a stencil (the fused diffusion step, `Stencil.apply`, `Stencil.accumulateTransposed`)
/// unroll their tap loop: `forward` is `Σ_j w_j p[i+j]` (eight rows of K x), `backward` is
/// `acc + Σ_j b_j p[i−j]` with `b_j = scale·w_j` (columns of scale·Kᵀy, eight at a time or
/// one). Both sum in the order j = 0, 1, … with `plusProduct`, for every width, so all widths
/// give the same arithmetic. Requires q ≥ 1.
@usableFromInline
protocol StencilTaps {
    func forward(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD8<Double>
    /// One row of `forward` (`count` is 1; it names the overload).
    func forward(_ p: UnsafePointer<Double>, _ i: Int, count: Int) -> Double
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: SIMD8<Double>) -> SIMD8<Double>
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: Double) -> Double
}

@usableFromInline
struct TwoTaps: StencilTaps {
    @usableFromInline let w0: Double, w1: Double, b0: Double, b1: Double
    @inlinable init(_ w0: Double, _ w1: Double, scale s: Double) { (self.w0, self.w1, b0, b1) = (w0, w1, s * w0, s * w1) }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD8<Double> {
        (w0 * load8(p, i)).plusProduct(SIMD8(repeating: w1), load8(p + 1, i))
    }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int, count: Int) -> Double {
        (w0 * p[i]).plusProduct(w1, p[i + 1])
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: SIMD8<Double>) -> SIMD8<Double> {
        acc.plusProduct(SIMD8(repeating: b0), load8(p, i)).plusProduct(SIMD8(repeating: b1), load8(p - 1, i))
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: Double) -> Double {
        acc.plusProduct(b0, p[i]).plusProduct(b1, p[i - 1])
    }
}

@usableFromInline
struct ThreeTaps: StencilTaps {
    @usableFromInline let w0: Double, w1: Double, w2: Double, b0: Double, b1: Double, b2: Double
    @inlinable init(_ w0: Double, _ w1: Double, _ w2: Double, scale s: Double) {
        (self.w0, self.w1, self.w2) = (w0, w1, w2)
        (b0, b1, b2) = (s * w0, s * w1, s * w2)
    }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD8<Double> {
        (w0 * load8(p, i)).plusProduct(SIMD8(repeating: w1), load8(p + 1, i))
            .plusProduct(SIMD8(repeating: w2), load8(p + 2, i))
    }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int, count: Int) -> Double {
        (w0 * p[i]).plusProduct(w1, p[i + 1]).plusProduct(w2, p[i + 2])
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: SIMD8<Double>) -> SIMD8<Double> {
        acc.plusProduct(SIMD8(repeating: b0), load8(p, i)).plusProduct(SIMD8(repeating: b1), load8(p - 1, i))
            .plusProduct(SIMD8(repeating: b2), load8(p - 2, i))
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: Double) -> Double {
        acc.plusProduct(b0, p[i]).plusProduct(b1, p[i - 1]).plusProduct(b2, p[i - 2])
    }
}

@usableFromInline
struct AnyTaps: StencilTaps {
    @usableFromInline let w: UnsafeBufferPointer<Double>, b: UnsafeBufferPointer<Double>
    @inlinable init(_ w: UnsafeBufferPointer<Double>, _ b: UnsafeBufferPointer<Double>) { (self.w, self.b) = (w, b) }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int) -> SIMD8<Double> {
        var acc = w[0] * load8(p, i)
        for j in 1..<w.count { acc = acc.plusProduct(SIMD8(repeating: w[j]), load8(p + j, i)) }
        return acc
    }
    @inlinable @inline(__always)
    func forward(_ p: UnsafePointer<Double>, _ i: Int, count: Int) -> Double {
        var acc = w[0] * p[i]
        for j in 1..<w.count { acc = acc.plusProduct(w[j], p[i + j]) }
        return acc
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: SIMD8<Double>) -> SIMD8<Double> {
        var acc = acc
        for j in 0..<b.count { acc = acc.plusProduct(SIMD8(repeating: b[j]), load8(p - j, i)) }
        return acc
    }
    @inlinable @inline(__always)
    func backward(_ p: UnsafePointer<Double>, _ i: Int, plus acc: Double) -> Double {
        var acc = acc
        for j in 0..<b.count { acc = acc.plusProduct(b[j], p[i - j]) }
        return acc
    }
}

/// A loop to run with the concrete `StencilTaps` of a stencil (see `Stencil.withTaps`).
@usableFromInline
protocol StencilTapsKernel {
    associatedtype Result
    func run<T: StencilTaps>(_ taps: T) -> Result
}

/// Runs `kernel` with the taps of the stencil weights `w` (`TwoTaps`, `ThreeTaps` or
/// `AnyTaps`), the transposed weights scaled by `scale`.
@inlinable
func withStencilTaps<K: StencilTapsKernel>(_ w: UnsafeBufferPointer<Double>, scale: Double, _ kernel: K) -> K.Result {
    switch w.count {
    case 2: return kernel.run(TwoTaps(w[0], w[1], scale: scale))
    case 3: return kernel.run(ThreeTaps(w[0], w[1], w[2], scale: scale))
    default:
        // The scaled weights (on the stack for stencils of ordinary length).
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: w.count) { b in
            for j in w.indices { b[j] = scale * w[j] }
            return kernel.run(AnyTaps(w, UnsafeBufferPointer(b)))
        }
    }
}
