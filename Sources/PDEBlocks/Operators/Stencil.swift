/// A 1D convolution operator `K` with mirrored (reflecting) boundaries.
///
/// For a signal `u` of length `N`, weights `w_0 … w_{q−1}` and offset `o`,
///
///     (K u)_i = Σ_j w_j ũ_{i+o+j},   i = 0 … N−1,
///
/// where `ũ` is the half-sample mirror extension of `u`
/// (`ũ_{−1−k} = u_k`, `ũ_{N+k} = u_{N−1−k}`, repeated periodically with period 2N,
/// so stencils longer than the signal are well defined). `K` is an N×N matrix;
/// `applyTransposed` applies its exact matrix transpose `Kᵀ`, boundary rows
/// included, so `⟨K u, v⟩ = ⟨u, Kᵀ v⟩` holds to rounding error. In the paper
/// `K` discretises `D` and `Kᵀ` discretises `D*` (Sec. 2.3, eq. 4).
public struct Stencil: Hashable, Sendable {
    /// The weights `w_0 … w_{q−1}`; never empty, all finite.
    public let weights: [Double]
    /// The offset `o` of weight `w_0` relative to the output sample.
    public let offset: Int

    /// Creates a stencil. Throws when `weights` is empty or holds a non-finite value.
    public init(weights: [Double], offset: Int = 0) throws {
        guard !weights.isEmpty else { throw PDEBlocksError.invalidArgument("stencil has no weights") }
        for (j, w) in weights.enumerated() where !w.isFinite {
            throw PDEBlocksError.nonFinite("stencil weight \(j) is not finite (\(w))")
        }
        guard offset.magnitude < 1 << 40 else {
            throw PDEBlocksError.invalidArgument("stencil offset \(offset) is out of range")
        }
        self.weights = weights
        self.offset = offset
    }

    /// The number of weights `q`.
    @inlinable public var count: Int { weights.count }

    /// Index of the sample of a length-`n` signal that the extended index `j` reads
    /// (half-sample symmetric, 2n-periodic extension): `mirror(−1−k, n) = k`,
    /// `mirror(n+k, n) = n−1−k`. Requires `n > 0` (the kernels never call it for empty signals).
    /// (Indices within one reflection of the signal — all a stencil shorter than the signal
    /// reads — take no division.)
    @inlinable
    public static func mirror(_ j: Int, _ n: Int) -> Int {
        if j >= 0 {
            if j < n { return j }
            if j < 2 * n { return 2 * n - 1 - j }
        } else if j >= -n {
            return -1 - j
        }
        let period = 2 * n
        var k = j % period
        if k < 0 { k += period }
        return k < n ? k : period - 1 - k
    }

    /// Rows `i` whose taps `i+o … i+o+q−1` all fall inside `0..<n` (no mirroring needed).
    /// Empty when the stencil is longer than the signal.
    @inlinable
    func interiorRows(_ n: Int) -> Range<Int> {
        let lo = max(0, -offset)
        let hi = min(n, n - (count - 1) - offset)  // exclusive
        return lo < hi ? lo..<hi : 0..<0
    }

    /// Calls `body` for each row that reads through the mirror (`[0, n)` minus
    /// `interiorRows(n)`), in order, without allocating.
    @inlinable
    func forEachBoundaryRow(_ n: Int, _ body: (Int) -> Void) {
        let interior = interiorRows(n)
        let head = interior.isEmpty ? n : interior.lowerBound
        for i in 0..<head { body(i) }
        if !interior.isEmpty { for i in interior.upperBound..<n { body(i) } }
    }

    // MARK: - Kernels over raw buffers (one signal of length n = u.count)

    /// `out = K u`. `u` and `out` must have the same length and must not overlap. Interior
    /// rows eight at a time (`StencilTaps`), boundary rows through the mirror.
    @inlinable
    public func apply(_ u: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        let n = u.count
        let q = count, o = offset
        let interior = interiorRows(n)
        weights.withUnsafeBufferPointer { w in
            forEachBoundaryRow(n) { i in
                var s = 0.0
                for j in 0..<q { s += w[j] * u[Stencil.mirror(i + o + j, n)] }
                out[i] = s
            }
            guard let ub = u.baseAddress, let ob = out.baseAddress, !interior.isEmpty else { return }
            withStencilTaps(w, scale: 1, InteriorRows(u: ub, out: ob, offset: o, rows: interior))
        }
    }

    /// `apply`'s interior rows `out_i = Σ_j w_j u_{i+o+j}`: vectors of eight, then single
    /// rows with the same arithmetic.
    @usableFromInline
    struct InteriorRows: StencilTapsKernel {
        @usableFromInline let u: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>
        @usableFromInline let offset: Int, rows: Range<Int>
        @inlinable
        init(u: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, offset: Int, rows: Range<Int>) {
            (self.u, self.out, self.offset, self.rows) = (u, out, offset, rows)
        }
        @inlinable
        func run<T: StencilTaps>(_ taps: T) {
            let src = u + offset
            var i = rows.lowerBound
            while i + 8 <= rows.upperBound {
                store8(taps.forward(src, i), out, i)
                i += 8
            }
            while i < rows.upperBound {
                out[i] = taps.forward(src, i, count: 1)
                i += 1
            }
        }
    }

    /// `out = Kᵀ v`, the exact transpose of `apply` (boundary rows included).
    @inlinable
    public func applyTransposed(_ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>) {
        accumulateTransposed(v, into: out, base: nil)
    }

    /// `out = base + Kᵀ v` in one pass over memory (`base = nil` means 0). `out` may
    /// alias `base`; neither may alias `v`. Interior rows are gathered
    /// (`out_c += Σ_j w_j v_{c−o−j}`), boundary rows are scattered through the mirror.
    @inlinable
    public func accumulateTransposed(
        _ v: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>,
        base: UnsafeBufferPointer<Double>?
    ) {
        let n = v.count
        let q = count, o = offset
        let interior = interiorRows(n)
        weights.withUnsafeBufferPointer { w in
            guard let vb = v.baseAddress, let ob = out.baseAddress else { return }
            let bb = base?.baseAddress
            let lo = interior.lowerBound, hiRow = interior.upperBound - 1
            // Columns whose q rows r = c − o − j are all interior: eight at a time (taps);
            // the others gather the interior rows they have, one at a time.
            let fullLo = max(0, lo + o + q - 1), fullHi = min(n, hiRow + o + 1)
            let full = !interior.isEmpty && fullLo < fullHi ? fullLo..<fullHi : 0..<0
            for columns in [0..<(full.isEmpty ? n : full.lowerBound), (full.isEmpty ? n : full.upperBound)..<n] {
                for c in columns {
                    var s = bb?[c] ?? 0
                    // rows r = c − o − j must be interior rows: j ∈ [c−o−hiRow, c−o−lo]
                    let jLo = max(0, c - o - hiRow)
                    let jHi = min(q - 1, c - o - lo)
                    if jLo <= jHi {
                        let src = vb + (c - o)
                        for j in jLo...jHi { s = s.plusProduct(w[j], src[-j]) }
                    }
                    ob[c] = s
                }
            }
            if !full.isEmpty {
                withStencilTaps(w, scale: 1, TransposedColumns(v: vb, base: bb, out: ob, offset: o, columns: full))
            }
            forEachBoundaryRow(n) { i in
                let vi = vb[i]
                for j in 0..<q { ob[Stencil.mirror(i + o + j, n)] += w[j] * vi }
            }
        }
    }

    // MARK: - Array conveniences

    /// `K u` for one signal.
    public func apply(_ u: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: u.count)
        u.withUnsafeBufferPointer { ub in out.withUnsafeMutableBufferPointer { apply(ub, into: $0) } }
        return out
    }

    /// `Kᵀ v` for one signal.
    public func applyTransposed(_ v: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: v.count)
        v.withUnsafeBufferPointer { vb in out.withUnsafeMutableBufferPointer { applyTransposed(vb, into: $0) } }
        return out
    }

    /// The dense N×N matrix of `K` (row-major), for inspection and tests.
    public func matrix(n: Int) throws -> [Double] {
        try Check.positive(n, "n")
        guard n <= 1 << 15 else { throw PDEBlocksError.invalidArgument("dense matrix of size \(n)×\(n) is too large") }
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<count { m[i * n + Stencil.mirror(i + offset + j, n)] += weights[j] }
        }
        return m
    }
}

/// `accumulateTransposed`'s columns whose rows are all interior:
/// `out_c = base_c + Σ_j w_j v_{c−o−j}`, vectors of eight, then single columns.
@usableFromInline
struct TransposedColumns: StencilTapsKernel {
    @usableFromInline let v: UnsafePointer<Double>, base: UnsafePointer<Double>?
    @usableFromInline let out: UnsafeMutablePointer<Double>
    @usableFromInline let offset: Int, columns: Range<Int>
    @inlinable
    init(v: UnsafePointer<Double>, base: UnsafePointer<Double>?, out: UnsafeMutablePointer<Double>, offset: Int,
         columns: Range<Int>) {
        (self.v, self.base, self.out, self.offset, self.columns) = (v, base, out, offset, columns)
    }
    @inlinable
    func run<T: StencilTaps>(_ taps: T) {
        let src = v - offset
        var c = columns.lowerBound
        if let b = base {
            while c + 8 <= columns.upperBound {
                store8(taps.backward(src, c, plus: load8(b, c)), out, c)
                c += 8
            }
            while c < columns.upperBound { out[c] = taps.backward(src, c, plus: b[c]); c += 1 }
        } else {
            while c + 8 <= columns.upperBound {
                store8(taps.backward(src, c, plus: SIMD8(repeating: 0)), out, c)
                c += 8
            }
            while c < columns.upperBound { out[c] = taps.backward(src, c, plus: 0.0); c += 1 }
        }
    }
}
