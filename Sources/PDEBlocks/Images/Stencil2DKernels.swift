/// The fast kernels of `Stencil2D`: the same operator as `applyReference` /
/// `accumulateTransposedReference` (equal up to rounding: the sums run in another order and
/// use fused multiply–adds), computed row by row over contiguous memory.
///
/// Rows. The mirror acts on the row index alone, so output row `i` of `K u` reads the
/// `rows` source rows `mirror(i + oy + a)` — looked up once per row, never per pixel.
///
/// Columns. Within a row, the *interior columns* `j` (taps `j + ox … j + ox + columns − 1`
/// all inside `0..<width`) are computed from contiguous memory eight at a time (SIMD8),
/// with the tap loop unrolled for stencils of width 1 … 7 (`TapWidth`); only the boundary
/// columns read through the mirror.
///
/// Transpose. `Kᵀ v` is gathered, not scattered: output row `p` sums the pairs (source row
/// `i`, weight row `a`) with `mirror(i + oy + a) = p` (a list built once per call), each
/// over its unmirrored column taps (eight columns at a time where every tap is unmirrored);
/// the few taps that cross the left or right edge are then scattered through the mirror.
extension Stencil2D {
    /// Columns `j` whose taps all fall inside `0..<width` (no mirroring); empty when the
    /// stencil is wider than the image or the offset pushes every tap out.
    @inlinable
    func interiorColumns(_ width: Int) -> Range<Int> {
        let lo = max(0, -offsetX)
        let hi = min(width, width - (columns - 1) - offsetX)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// The largest `height·rows` the fast kernels index (beyond, the reference loops run:
    /// the row-pair list would not be small).
    @usableFromInline static let maxRowPairs = 1 << 26

    // MARK: - K u

    /// `out = K u` for one `height`×`width` image. `u` and `out` hold `height·width` values
    /// and must not overlap.
    public func apply(
        _ u: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>
    ) {
        apply(u, height: height, width: width, into: out, rows: 0..<height)
    }

    /// Whether the row-band kernels (`apply(_:height:width:into:rows:)` and
    /// `accumulateTransposed(_:height:width:into:base:rows:)`) serve `height` rows.
    func servesRowBands(height: Int) -> Bool { height <= Stencil2D.maxRowPairs / rows }

    /// Output rows `band` of `out = K u` (the rest of `out` untouched): every value is the
    /// same arithmetic as in the whole-image call, so bands computed concurrently by different
    /// threads assemble the whole-image result bit for bit. Without `servesRowBands(height:)`
    /// the reference loops compute the whole image (so only a whole-image band is allowed).
    func apply(
        _ u: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>,
        rows band: Range<Int>
    ) {
        guard height > 0, width > 0, let ub = u.baseAddress, let ob = out.baseAddress else { return }
        guard servesRowBands(height: height) else { return applyReference(u, height: height, width: width, into: out) }
        if let separable { return applySeparable(separable, ub, height: height, width: width, into: ob, rows: band) }
        let interior = interiorColumns(width)
        let (q, oy, ox) = (columns, offsetY, offsetX)
        weights.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!  // weights are never empty
            withUnsafeTemporaryAllocation(of: UnsafePointer<Double>.self, capacity: rows) { src in
                let s = src.baseAddress!
                for i in band {
                    for a in 0..<rows { s[a] = ub + Stencil.mirror(i + oy + a, height) * width }
                    let o = ob + i * width
                    let head = interior.isEmpty ? width : interior.lowerBound
                    for j in 0..<head { o[j] = mirroredColumn(j, w, s, width) }
                    if !interior.isEmpty {
                        for j in interior.upperBound..<width { o[j] = mirroredColumn(j, w, s, width) }
                        let rowKernel = ForwardRow(w: w, rows: rows, src: s, out: o, ox: ox, range: interior)
                        withTapWidth(q, rowKernel)
                    }
                }
            }
        }
    }

    /// One output pixel of row-sources `s` at column `j`, every column tap through the mirror.
    @inlinable
    func mirroredColumn(_ j: Int, _ w: UnsafePointer<Double>, _ s: UnsafePointer<UnsafePointer<Double>>, _ width: Int)
        -> Double
    {
        var acc = 0.0
        for b in 0..<columns {
            let c = Stencil.mirror(j + offsetX + b, width)
            for a in 0..<rows { acc = acc.plusProduct(w[a * columns + b], s[a][c]) }
        }
        return acc
    }

    // MARK: - out = base + Kᵀ v

    /// `out = base + Kᵀ v` (`base = nil` means 0), the exact transpose of `apply`. `out` may
    /// alias `base`; neither may alias `v`.
    public func accumulateTransposed(
        _ v: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>,
        base: UnsafeBufferPointer<Double>?
    ) {
        accumulateTransposed(v, height: height, width: width, into: out, base: base, rows: 0..<height)
    }

    /// Output rows `band` of `out = base + Kᵀ v` (the rest of `out` untouched), bit for bit
    /// as in the whole-image call (see `apply(_:height:width:into:rows:)`, also for heights
    /// beyond `servesRowBands(height:)`).
    func accumulateTransposed(
        _ v: UnsafeBufferPointer<Double>, height: Int, width: Int, into out: UnsafeMutableBufferPointer<Double>,
        base: UnsafeBufferPointer<Double>?, rows band: Range<Int>
    ) {
        guard height > 0, width > 0, let vb = v.baseAddress, let ob = out.baseAddress else { return }
        guard servesRowBands(height: height) else {
            return accumulateTransposedReference(v, height: height, width: width, into: out, base: base)
        }
        let bb = base?.baseAddress
        if let separable {
            return accumulateTransposedSeparable(separable, vb, height: height, width: width, into: ob, base: bb, rows: band)
        }
        let q = columns, ox = offsetX
        // Columns c whose taps c − ox − b (b = 0 … q−1) all lie inside the image.
        let fullLo = max(0, ox + q - 1), fullHi = min(width, width + ox)
        let full = fullLo < fullHi ? fullLo..<fullHi : 0..<0
        let interior = interiorColumns(width)
        let (boundaryLeft, boundaryRight) = (0..<(interior.isEmpty ? width : interior.lowerBound),
                                             (interior.isEmpty ? width : interior.upperBound)..<width)
        weights.withUnsafeBufferPointer { wb in
            let w = wb.baseAddress!
            // the source rows of one target row p (`sourceRows`): at most 2 per weight row
            withUnsafeTemporaryAllocation(of: UnsafePointer<Double>.self, capacity: 4 * rows) { ptrs in
                let srcRows = ptrs.baseAddress!, weightRows = srcRows + 2 * rows
                for p in band {
                    let count = sourceRows(of: p, height: height) { k, i, a in
                        srcRows[k] = vb + i * width
                        weightRows[k] = w + a * q
                    }
                    let o = ob + p * width
                    let bRow = bb.map { $0 + p * width }
                    // Partial columns: only the taps with 0 ≤ c − ox − b < width.
                    let head = full.isEmpty ? width : full.lowerBound
                    let tail = full.isEmpty ? width : full.upperBound
                    for part in 0..<2 {   // (two ranges without an array: no allocation per row)
                        for c in part == 0 ? 0..<head : tail..<width {
                            var acc = bRow?[c] ?? 0
                            let bLo = max(0, c - ox - width + 1), bHi = min(q - 1, c - ox)
                            if bLo <= bHi {
                                for k in 0..<count {
                                    let src = srcRows[k] + (c - ox), wr = weightRows[k]
                                    for b in bLo...bHi { acc = acc.plusProduct(wr[b], src[-b]) }
                                }
                            }
                            o[c] = acc
                        }
                    }
                    if !full.isEmpty {
                        withTapWidth(q, TransposedRow(
                            weightRows: weightRows, srcRows: srcRows, count: count,
                            base: bRow, out: o, ox: ox, range: full))
                    }
                    // The column taps that cross the left/right edge, scattered through the
                    // mirror into this row (after its values are set above).
                    for k in 0..<count {
                        let src = srcRows[k], wr = weightRows[k]
                        for part in 0..<2 {
                            for j in part == 0 ? boundaryLeft : boundaryRight {
                                let vj = src[j]
                                for b in 0..<q {
                                    let t = j + ox + b
                                    if t < 0 || t >= width { o[Stencil.mirror(t, width)] += wr[b] * vj }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The pairs `(i, a)` — source row i, weight row a — with `mirror(i + oy + a) = p`, in
    /// increasing (i, a) order (the order in which the whole-image sum visits them), passed
    /// to `body(k, i, a)` for k = 0, 1, …; returns their number (at most `2·rows`: the
    /// mirror has period 2H, and each weight row's `i + oy + a`, i < H, spans H values, so it
    /// meets each of the two classes `k ≡ p`, `k ≡ 2H − 1 − p (mod 2H)` at most once).
    @inline(__always)
    func sourceRows(of p: Int, height: Int, _ body: (Int, Int, Int) -> Void) -> Int {
        let period = 2 * height, oy = offsetY
        return withUnsafeTemporaryAllocation(of: (i: Int, a: Int).self, capacity: 2 * rows) { pairs in
            var count = 0
            for a in 0..<rows {
                for r in 0..<2 {   // the two classes (distinct: their sum is odd)
                    let residue = r == 0 ? p : period - 1 - p
                    var i = (residue - oy - a) % period
                    if i < 0 { i += period }
                    guard i < height else { continue }
                    // insert in (i, a) order
                    var k = count
                    while k > 0 && (pairs[k - 1].i > i || (pairs[k - 1].i == i && pairs[k - 1].a > a)) {
                        pairs[k] = pairs[k - 1]
                        k -= 1
                    }
                    pairs[k] = (i, a)
                    count += 1
                }
            }
            for k in 0..<count { body(k, pairs[k].i, pairs[k].a) }
            return count
        }
    }

    // MARK: - Separable stencils (w = p qᵀ)

    /// `K u = (P ⊗ Q) u` row by row: `t = Σ_a p_a u[mirror(i + oy + a)]` (contiguous rows,
    /// SIMD), then `out_i = Q t` (the 1D kernel: SIMD interior, mirrored ends).
    func applySeparable(
        _ f: SeparableFactors, _ u: UnsafePointer<Double>, height: Int, width: Int, into out: UnsafeMutablePointer<Double>,
        rows band: Range<Int>
    ) {
        f.p.withUnsafeBufferPointer { pb in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { t in
                let tb = t.baseAddress!
                for i in band {
                    let r0 = u + Stencil.mirror(i + offsetY, height) * width
                    var j = 0
                    while j + 8 <= width {
                        store8(pb[0] * load8(r0, j), tb, j)
                        j += 8
                    }
                    while j < width { tb[j] = pb[0] * r0[j]; j += 1 }
                    for a in 1..<rows {
                        let r = u + Stencil.mirror(i + offsetY + a, height) * width, pa = pb[a]
                        j = 0
                        while j + 8 <= width {
                            store8(load8(tb, j).plusProduct(SIMD8(repeating: pa), load8(r, j)), tb, j)
                            j += 8
                        }
                        while j < width { tb[j] = tb[j].plusProduct(pa, r[j]); j += 1 }
                    }
                    f.q.apply(UnsafeBufferPointer(t), into: UnsafeMutableBufferPointer(start: out + i * width, count: width))
                }
            }
        }
    }

    /// `out = base + (Pᵀ ⊗ Qᵀ) v` on the output rows `band`: per source row `i` that reaches
    /// the band, `t = Qᵀ v_i` (1D kernel), then `out[p] += p_a t` for `p = mirror(i + oy + a)`
    /// in the band (contiguous rows, SIMD) — each output row receives its terms in (i, a)
    /// order whatever the band, so bands assemble the whole-image result bit for bit.
    func accumulateTransposedSeparable(
        _ f: SeparableFactors, _ v: UnsafePointer<Double>, height: Int, width: Int, into out: UnsafeMutablePointer<Double>,
        base: UnsafePointer<Double>?, rows band: Range<Int>
    ) {
        guard !band.isEmpty else { return }
        let first = out + band.lowerBound * width, count = band.count * width
        if let base {
            let b = base + band.lowerBound * width
            if b != UnsafePointer(first) { first.update(from: b, count: count) }
        } else {
            first.update(repeating: 0, count: count)
        }
        f.p.withUnsafeBufferPointer { pb in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: width) { t in
                let tb = t.baseAddress!
                for i in 0..<height {
                    var reaches = false
                    for a in 0..<rows where band.contains(Stencil.mirror(i + offsetY + a, height)) { reaches = true }
                    guard reaches else { continue }
                    f.q.accumulateTransposed(UnsafeBufferPointer(start: v + i * width, count: width), into: t, base: nil)
                    for a in 0..<rows {
                        let target = Stencil.mirror(i + offsetY + a, height)
                        guard band.contains(target) else { continue }
                        let r = out + target * width, pa = pb[a]
                        var j = 0
                        while j + 8 <= width {
                            store8(load8(r, j).plusProduct(SIMD8(repeating: pa), load8(tb, j)), r, j)
                            j += 8
                        }
                        while j < width { r[j] = r[j].plusProduct(pa, tb[j]); j += 1 }
                    }
                }
            }
        }
    }

    // MARK: - Batches

    /// `K u` for each of `batch` images stored one after the other.
    public func apply(
        _ u: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width
        for r in 0..<batch {
            apply(UnsafeBufferPointer(rebasing: u[(r * n)..<((r + 1) * n)]), height: height, width: width,
                  into: UnsafeMutableBufferPointer(rebasing: out[(r * n)..<((r + 1) * n)]))
        }
    }

    /// `out = base + Kᵀ v` for each of `batch` images stored one after the other.
    public func accumulateTransposed(
        _ v: UnsafeBufferPointer<Double>, batch: Int, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>, base: UnsafeBufferPointer<Double>?
    ) {
        let n = height * width
        for r in 0..<batch {
            let range = (r * n)..<((r + 1) * n)
            accumulateTransposed(UnsafeBufferPointer(rebasing: v[range]), height: height, width: width,
                                 into: UnsafeMutableBufferPointer(rebasing: out[range]),
                                 base: base.map { UnsafeBufferPointer(rebasing: $0[range]) })
        }
    }
}

// MARK: - Row kernels with the tap loop unrolled

/// A stencil width known to the compiler (1 … 7), so the tap loop over `b` unrolls.
@usableFromInline protocol TapWidth { static var q: Int { get } }
@usableFromInline enum Width1: TapWidth { @inlinable static var q: Int { 1 } }
@usableFromInline enum Width2: TapWidth { @inlinable static var q: Int { 2 } }
@usableFromInline enum Width3: TapWidth { @inlinable static var q: Int { 3 } }
@usableFromInline enum Width4: TapWidth { @inlinable static var q: Int { 4 } }
@usableFromInline enum Width5: TapWidth { @inlinable static var q: Int { 5 } }
@usableFromInline enum Width6: TapWidth { @inlinable static var q: Int { 6 } }
@usableFromInline enum Width7: TapWidth { @inlinable static var q: Int { 7 } }

/// A row loop to run with the width as a type (`run(Width3.self, 3)`) or, for wider
/// stencils, as a value (`run(nil, q)`).
@usableFromInline protocol TapWidthKernel {
    func run<Q: TapWidth>(_ width: Q.Type)
    func run(columns q: Int)
}

@inlinable
func withTapWidth<K: TapWidthKernel>(_ q: Int, _ kernel: K) {
    switch q {
    case 1: kernel.run(Width1.self)
    case 2: kernel.run(Width2.self)
    case 3: kernel.run(Width3.self)
    case 4: kernel.run(Width4.self)
    case 5: kernel.run(Width5.self)
    case 6: kernel.run(Width6.self)
    case 7: kernel.run(Width7.self)
    default: kernel.run(columns: q)
    }
}

/// `out[j] = Σ_a Σ_b w[a, b] · src_a[j + ox + b]` over `range` (all taps inside the row).
@usableFromInline
struct ForwardRow: TapWidthKernel {
    @usableFromInline let w: UnsafePointer<Double>, rows: Int
    @usableFromInline let src: UnsafePointer<UnsafePointer<Double>>, out: UnsafeMutablePointer<Double>
    @usableFromInline let ox: Int, range: Range<Int>

    @inlinable
    init(w: UnsafePointer<Double>, rows: Int, src: UnsafePointer<UnsafePointer<Double>>,
         out: UnsafeMutablePointer<Double>, ox: Int, range: Range<Int>) {
        (self.w, self.rows, self.src, self.out, self.ox, self.range) = (w, rows, src, out, ox, range)
    }

    @inlinable
    func run<Q: TapWidth>(_ width: Q.Type) { body(Q.q) }

    @inlinable
    func run(columns q: Int) { body(q) }

    @inlinable @inline(__always)
    func body(_ q: Int) {
        var j = range.lowerBound
        // 32 columns at a time: four independent accumulators hide the FMA latency (one
        // accumulator makes the rows·q taps one dependency chain).
        while j + 32 <= range.upperBound {
            var (a0, a1, a2, a3) = (SIMD8<Double>(repeating: 0), SIMD8<Double>(repeating: 0),
                                    SIMD8<Double>(repeating: 0), SIMD8<Double>(repeating: 0))
            for a in 0..<rows {
                let p = src[a] + (j + ox), wa = w + a * q
                for b in 0..<q {
                    let wb = SIMD8(repeating: wa[b])
                    a0 = a0.plusProduct(wb, load8(p, b))
                    a1 = a1.plusProduct(wb, load8(p, b + 8))
                    a2 = a2.plusProduct(wb, load8(p, b + 16))
                    a3 = a3.plusProduct(wb, load8(p, b + 24))
                }
            }
            store8(a0, out, j)
            store8(a1, out, j + 8)
            store8(a2, out, j + 16)
            store8(a3, out, j + 24)
            j += 32
        }
        while j + 8 <= range.upperBound {
            var acc = SIMD8<Double>(repeating: 0)
            for a in 0..<rows {
                let p = src[a] + (j + ox), wa = w + a * q
                for b in 0..<q { acc = acc.plusProduct(SIMD8(repeating: wa[b]), load8(p, b)) }
            }
            store8(acc, out, j)
            j += 8
        }
        while j < range.upperBound {
            var acc = 0.0
            for a in 0..<rows {
                let p = src[a] + (j + ox), wa = w + a * q
                for b in 0..<q { acc = acc.plusProduct(wa[b], p[b]) }
            }
            out[j] = acc
            j += 1
        }
    }
}

/// `out[c] = base[c] + Σ_k Σ_b wr_k[b] · src_k[c − ox − b]` over `range` (every tap inside
/// the row), for the `count` row pairs (source row, weight row) of one output row.
@usableFromInline
struct TransposedRow: TapWidthKernel {
    @usableFromInline let weightRows: UnsafePointer<UnsafePointer<Double>>
    @usableFromInline let srcRows: UnsafePointer<UnsafePointer<Double>>
    @usableFromInline let count: Int
    @usableFromInline let base: UnsafePointer<Double>?, out: UnsafeMutablePointer<Double>
    @usableFromInline let ox: Int, range: Range<Int>

    @inlinable
    init(weightRows: UnsafePointer<UnsafePointer<Double>>, srcRows: UnsafePointer<UnsafePointer<Double>>, count: Int,
         base: UnsafePointer<Double>?, out: UnsafeMutablePointer<Double>, ox: Int, range: Range<Int>) {
        (self.weightRows, self.srcRows, self.count) = (weightRows, srcRows, count)
        (self.base, self.out, self.ox, self.range) = (base, out, ox, range)
    }

    @inlinable
    func run<Q: TapWidth>(_ width: Q.Type) { body(Q.q) }

    @inlinable
    func run(columns q: Int) { body(q) }

    @inlinable @inline(__always)
    func body(_ q: Int) {
        var c = range.lowerBound
        while c + 32 <= range.upperBound {  // four accumulators, as in `ForwardRow`
            var (a0, a1, a2, a3) = base.map { (load8($0, c), load8($0, c + 8), load8($0, c + 16), load8($0, c + 24)) }
                ?? (SIMD8(repeating: 0), SIMD8(repeating: 0), SIMD8(repeating: 0), SIMD8(repeating: 0))
            for k in 0..<count {
                let p = srcRows[k] + (c - ox), wr = weightRows[k]
                for b in 0..<q {
                    let wb = SIMD8(repeating: wr[b])
                    a0 = a0.plusProduct(wb, load8(p - b, 0))
                    a1 = a1.plusProduct(wb, load8(p - b, 8))
                    a2 = a2.plusProduct(wb, load8(p - b, 16))
                    a3 = a3.plusProduct(wb, load8(p - b, 24))
                }
            }
            store8(a0, out, c)
            store8(a1, out, c + 8)
            store8(a2, out, c + 16)
            store8(a3, out, c + 24)
            c += 32
        }
        while c + 8 <= range.upperBound {
            var acc = base.map { load8($0, c) } ?? SIMD8(repeating: 0)
            for k in 0..<count {
                let p = srcRows[k] + (c - ox), wr = weightRows[k]
                for b in 0..<q { acc = acc.plusProduct(SIMD8(repeating: wr[b]), load8(p - b, 0)) }
            }
            store8(acc, out, c)
            c += 8
        }
        while c < range.upperBound {
            var acc = base?[c] ?? 0
            for k in 0..<count {
                let p = srcRows[k] + (c - ox), wr = weightRows[k]
                for b in 0..<q { acc = acc.plusProduct(wr[b], p[-b]) }
            }
            out[c] = acc
            c += 1
        }
    }
}
