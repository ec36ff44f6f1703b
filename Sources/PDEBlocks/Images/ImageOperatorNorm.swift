/// Certified upper bounds of `λ_max(Σ_c K_cᵀK_c) = ‖K‖₂²` for a 2D filter bank on
/// `height`×`width` images, from the operator's structure.
///
/// The mirror acts per axis, so a 2D stencil is `K = Σ_{a,b} w[a,b] · S^H_{oy+a} ⊗ S^W_{ox+b}`
/// with `S^n_k` the 1D mirrored shift (`(S_k u)_i = u[mirror(i+k)]`). Each filter is first
/// trimmed of zero weight rows and columns (offsets adjusted; the operator is unchanged),
/// then falls into one of these classes:
///
/// * **along x** (one weight row `r`): `K = S^H_{oy} ⊗ R` with `R` the 1D stencil `(r, ox)`.
///   `S_{oy}ᵀS_{oy} = diag(d_p)`, `d_p = #{i : mirror(i+oy) = p}`, so the x-filters' Gram is
///   block diagonal, `⊕_p Σ_c d_{c,p} R_cᵀR_c`: its λ_max is the largest over the distinct
///   count tuples of a stacked 1D Gram (`StackedOperatorNorm`, certified within ~1e-8),
///   exact. **Along y** (one weight column) likewise with the roles of the axes swapped.
///   Both present: `λ_max(X + Y) ≤ λ_max(X) + λ_max(Y)`, with *equality* when every count is
///   1 (offsets 0: the Gram is the Kronecker sum `I⊗A_x + A_y⊗I`, whose eigenvalues are the
///   sums) — e.g. `gradient_2d`, giving `(4cos²(π/2H) + 4cos²(π/2W))/h²`.
/// * **separable** (weights `p qᵀ` up to a residual `E` below 1e-12 of the largest weight,
///   rounding of the factorisation included): `K = P ⊗ Q + K_E`, so
///   `‖K‖ ≤ ‖P‖‖Q‖ + ‖K_E‖` with the 1D norms of `P = (p, oy)` on `H`, `Q = (q, ox)` on `W`
///   and Hölder's bound for `K_E` (of the order of rounding) — exact up to ~1e-8 for one filter.
/// * **general**: the smaller of Gershgorin's bound on the actual entries of the Gram
///   `Σ_c K_cᵀK_c` of these filters (`gershgorinBound`) and Hölder's `‖K_G‖₁ ‖K_G‖_∞` with
///   the exact row and column sums of `|K_G| ≤ K_{|w|}` — certified upper bounds, not exact.
///
/// The bound is the sum over the classes (triangle inequality), or Hölder's bound of the
/// whole bank when that is smaller; every partial result is rounded up.
enum ImageOperatorNorm {
    static func largestEigenvalueBound(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double {
        var alongX: [Stencil2D] = [], alongY: [Stencil2D] = [], separable: [Stencil2D] = [], general: [Stencil2D] = []
        var nonzero: [Stencil2D] = []
        for K in bank {
            guard let k = try K.trimmed() else { continue }
            nonzero.append(k)
            if k.rows == 1 { alongX.append(k) } else if k.columns == 1 { alongY.append(k) } else if k.rankOneFactors() != nil {
                separable.append(k)
            } else {
                general.append(k)
            }
        }
        if nonzero.isEmpty { return 0 }
        var total = 0.0
        func add(_ x: Double) { total = (total + x).nextUp }
        if !alongX.isEmpty {
            add(try axisBound(alongX.map { try Stencil(weights: $0.weights, offset: $0.offsetX) },
                              shifts: alongX.map(\.offsetY), n: width, across: height))
        }
        if !alongY.isEmpty {
            add(try axisBound(alongY.map { try Stencil(weights: $0.weights, offset: $0.offsetY) },
                              shifts: alongY.map(\.offsetX), n: height, across: width))
        }
        for k in separable { add(try separableBound(k, height: height, width: width)) }
        if !general.isEmpty { add(try generalBound(general, height: height, width: width)) }
        if nonzero.count > 1 || !general.isEmpty {
            total = min(total, try generalBound(nonzero, height: height, width: width))
        }
        return total
    }

    // MARK: - Filters along one axis

    /// `max_p λ_max(Σ_c d_{c,p} R_cᵀR_c)`: `filters` the 1D stencils along the axis of length
    /// `n`, `shifts` their offsets across it (axis of length `across`), `d_{c,p}` the number
    /// of `i` with `mirror(i + shift_c) = p`. Exact (up to the 1D bound's tolerance) over at
    /// most 64 distinct count tuples; beyond, each `d_c` is replaced by its maximum (a
    /// Loewner upper bound, since every `R_cᵀR_c ⪰ 0`).
    static func axisBound(_ filters: [Stencil], shifts: [Int], n: Int, across: Int) throws -> Double {
        let distinctShifts = Array(Set(shifts)).sorted()
        let countsByShift = try distinctShifts.map { try mirrorCounts(shift: $0, n: across) }
        let index = Dictionary(uniqueKeysWithValues: distinctShifts.enumerated().map { ($1, $0) })
        var tuples = Set<[Int32]>()
        for p in 0..<across {
            tuples.insert(countsByShift.map { $0[p] })
            if tuples.count > 64 { break }
        }
        if tuples.count > 64 {
            tuples = [countsByShift.map { $0.max() ?? 0 }]
        }
        var best = 0.0
        for t in tuples {
            let s = shifts.map { Double(t[index[$0]!]) }
            best = max(best, try StackedOperatorNorm.largestEigenvalueBound(filters: filters, weights: s, n: n))
        }
        return best
    }

    /// `d_p = #{i ∈ 0..<n : mirror(i + shift, n) = p}` (the diagonal of `S_shiftᵀ S_shift`).
    static func mirrorCounts(shift: Int, n: Int) throws -> [Int32] {
        var d = try Memory.array(repeating: Int32(0), count: n, for: "the mirror counts of an axis of \(n) pixels")
        for i in 0..<n { d[Stencil.mirror(i + shift, n)] += 1 }
        return d
    }

    // MARK: - Separable filters

    /// `(‖P‖‖Q‖ + ‖K_E‖)²` for `K = P ⊗ Q + K_E` (see the type's documentation), rounded up.
    static func separableBound(_ k: Stencil2D, height: Int, width: Int) throws -> Double {
        guard let (p, q, residual) = k.rankOneFactors() else { return try holderBound([k], height: height, width: width) }
        let nP = try Stencil(weights: p, offset: k.offsetY).normSquared(n: height)
        let nQ = try Stencil(weights: q, offset: k.offsetX).normSquared(n: width)
        let pq = (nP * nQ).nextUp
        let e = try holderBound([try Stencil2D(weights: residual, rows: k.rows, columns: k.columns,
                                               offsetY: k.offsetY, offsetX: k.offsetX)], height: height, width: width)
        let root = (pq.squareRoot().nextUp + e.squareRoot().nextUp).nextUp
        return (root * root).nextUp
    }

    /// The smaller of Gershgorin's bound (when it applies) and Hölder's bound.
    static func generalBound(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double {
        let holder = try holderBound(bank, height: height, width: width)
        guard let gershgorin = try gershgorinBound(bank, height: height, width: width) else { return holder }
        return min(holder, gershgorin)
    }

    // MARK: - Gershgorin's bound on the Gram

    /// `max_p Σ_q |G[p, q]|` for `G = Σ_c K_cᵀK_c`, rounding included (an upper bound of
    /// λ_max since `G` is symmetric). `G[p, ·]` is accumulated from the columns of `K_c` at
    /// pixel `p`: `G[p, ·] = Σ_r K[r, p] K[r, ·]`. With `reach` the largest |row offset| of a
    /// tap (`|oy + a|`), rows `p` with `2·reach ≤ p ≤ H−1−2·reach` never meet the mirror in
    /// this chain and have the same Gram row up to translation, so only the `4·reach + 2`
    /// rows near the edges and one interior row are visited (likewise for columns). `nil`
    /// when a reach is not below the image side (offsets comparable to the image) or the
    /// work would be large; the caller then uses Hölder's bound.
    static func gershgorinBound(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double? {
        let reachY = bank.map { max(abs($0.offsetY), abs($0.offsetY + $0.rows - 1)) }.max() ?? 0
        let reachX = bank.map { max(abs($0.offsetX), abs($0.offsetX + $0.columns - 1)) }.max() ?? 0
        guard reachY < height, reachX < width, reachY <= 64, reachX <= 64 else { return nil }
        func classes(_ n: Int, _ reach: Int) -> [Int] {
            n <= 4 * reach + 2 ? Array(0..<n) : Array(0...(2 * reach)) + Array((n - 1 - 2 * reach)..<n)
        }
        let ys = classes(height, reachY), xs = classes(width, reachX)
        let work = ys.count * xs.count * bank.reduce(0) { $0 + $1.weights.count * $1.weights.count * 4 }
        guard work <= 1 << 26 else { return nil }
        // Dense window of G[p, ·] around p: rows p ± 2·reachY, columns p ± 2·reachX.
        let wy = 4 * reachY + 1, wx = 4 * reachX + 1
        var window = [Double](repeating: 0, count: wy * wx)
        var best = 0.0
        func preimages(_ p: Int, _ n: Int, _ offset: Int, _ taps: Int) -> [(i: Int, a: Int)] {
            var list: [(Int, Int)] = []
            for a in 0..<taps {
                for t in [p, -1 - p, 2 * n - 1 - p] {
                    let i = t - offset - a
                    if i >= 0, i < n, Stencil.mirror(i + offset + a, n) == p, !list.contains(where: { $0 == (i, a) }) {
                        list.append((i, a))
                    }
                }
            }
            return list
        }
        for py in ys {
            for px in xs {
                for k in window.indices { window[k] = 0 }
                var totalAbs = 0.0, contributions = 0, kvTerms = 0
                var outside = false
                for K in bank {
                    let rowsIn = preimages(py, height, K.offsetY, K.rows)
                    let colsIn = preimages(px, width, K.offsetX, K.columns)
                    let iList = Set(rowsIn.map(\.i)).sorted(), jList = Set(colsIn.map(\.i)).sorted()  // sorted: a Set's order varies per instance, and the sums below must not
                    for i in iList {
                        for j in jList {
                            // K[(i, j), p] and its magnitude bound.
                            var kv = 0.0, kvAbs = 0.0, terms = 0
                            for (ri, a) in rowsIn where ri == i {
                                for (cj, b) in colsIn where cj == j {
                                    kv += K[a, b]
                                    kvAbs += K[a, b].magnitude
                                    terms += 1
                                }
                            }
                            kvTerms = max(kvTerms, terms)
                            guard kv != 0 else { continue }
                            for a in 0..<K.rows {
                                let dy = Stencil.mirror(i + K.offsetY + a, height) - py + 2 * reachY
                                for b in 0..<K.columns {
                                    let dx = Stencil.mirror(j + K.offsetX + b, width) - px + 2 * reachX
                                    guard dy >= 0, dy < wy, dx >= 0, dx < wx else { outside = true; continue }
                                    window[dy * wx + dx] += kv * K[a, b]
                                    totalAbs += kvAbs * K[a, b].magnitude
                                    contributions += 1
                                }
                            }
                        }
                    }
                }
                if outside { return nil }  // not expected (see above); never guess
                var rowSum = 0.0
                for x in window { rowSum += x.magnitude }
                // Each window entry: a sum of at most `contributions` products of a kv (itself a
                // sum of `kvTerms` weights); their rounding is below (contributions + kvTerms + 2)·ε
                // of totalAbs, the sum of magnitudes; the final sum of |entries| adds (wy·wx + 2)·ε.
                let eps = Double.ulpOfOne
                let rounding = Double(contributions + kvTerms + 4) * eps * totalAbs
                let bound = (rowSum * (1 + Double(wy * wx + 4) * eps) + rounding * 1.01).nextUp
                best = max(best, bound)
            }
        }
        return best
    }

    // MARK: - Hölder's bound

    /// `‖K‖₁·‖K‖_∞` of the stacked `|K| ≤ K_{|w|}`, rounded up. Every row of `K_{|w|}` sums to
    /// `Σ|w|`; the column sum at pixel `(p, s)` is `Σ_c Σ_{a,b} |w_c[a,b]| · dy_{c,a}(p) ·
    /// dx_{c,b}(s)` with the mirror counts `dy` of shift `oy+a` and `dx` of `ox+b`, maximised
    /// over the distinct count tuples of the rows and of the columns (few: the counts are 1
    /// away from the edges). When the tuples are too many, each count is replaced by its
    /// maximum (still an upper bound).
    static func holderBound(_ bank: [Stencil2D], height: Int, width: Int) throws -> Double {
        var rowMax = 0.0, terms = 0
        for k in bank {
            rowMax = max(rowMax, k.weights.reduce(0.0) { $0 + $1.magnitude })
            terms += k.weights.count
        }
        let ys = try distinctCounts(bank.flatMap { k in (0..<k.rows).map { k.offsetY + $0 } }, n: height)
        let xs = try distinctCounts(bank.flatMap { k in (0..<k.columns).map { k.offsetX + $0 } }, n: width)
        var columnMax = 0.0
        for dy in ys {
            for dx in xs {
                var sum = 0.0, ya = 0, xb = 0
                for k in bank {
                    for a in 0..<k.rows {
                        for b in 0..<k.columns {
                            sum += k[a, b].magnitude * Double(dy[ya + a]) * Double(dx[xb + b])
                        }
                    }
                    ya += k.rows
                    xb += k.columns
                }
                columnMax = max(columnMax, sum)
            }
        }
        // Sums of nonnegative terms: relative rounding error below (terms + 2)·ε.
        let margin = 1 + Double(terms + 4) * Double.ulpOfOne
        let bound = (rowMax * margin).nextUp * (columnMax * margin).nextUp
        guard bound.isFinite else {
            throw PDEBlocksError.invalidArgument("filter bank norm overflows double precision")
        }
        return bound.nextUp
    }

    /// The distinct tuples `(count_k(p))_k` over pixels `p` of an axis of length `n`, one
    /// count per shift in `shifts`; at most 256 (else one tuple of the maxima).
    static func distinctCounts(_ shifts: [Int], n: Int) throws -> [[Int32]] {
        let unique = Array(Set(shifts)).sorted()
        let counts = try unique.map { try mirrorCounts(shift: $0, n: n) }
        let index = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
        var tuples = Set<[Int32]>()
        for p in 0..<n {
            tuples.insert(shifts.map { counts[index[$0]!][p] })
            if tuples.count > 256 { return [shifts.map { counts[index[$0]!].max() ?? 0 }] }
        }
        return Array(tuples)
    }
}

extension Stencil2D {
    /// The same operator without leading/trailing zero weight rows and columns (offsets
    /// moved accordingly); `nil` when every weight is zero.
    func trimmed() throws -> Stencil2D? {
        let nonzeroRows = (0..<rows).filter { a in (0..<columns).contains { self[a, $0] != 0 } }
        let nonzeroColumns = (0..<columns).filter { b in (0..<rows).contains { self[$0, b] != 0 } }
        guard let a0 = nonzeroRows.first, let a1 = nonzeroRows.last,
              let b0 = nonzeroColumns.first, let b1 = nonzeroColumns.last else { return nil }
        if (a0, a1, b0, b1) == (0, rows - 1, 0, columns - 1) { return self }
        var w: [Double] = []
        for a in a0...a1 { for b in b0...b1 { w.append(self[a, b]) } }
        return try Stencil2D(weights: w, rows: a1 - a0 + 1, columns: b1 - b0 + 1,
                             offsetY: offsetY + a0, offsetX: offsetX + b0)
    }

    /// `w = p qᵀ + E` with `p`, `q` read off the largest weight's column and row, and `E` an
    /// entrywise *upper bound* of the magnitude of the true residual (the computed residual
    /// plus 4ε of the terms), when that residual is below 1e-12 of the largest weight;
    /// otherwise `nil`.
    func rankOneFactors() -> (p: [Double], q: [Double], residual: [Double])? {
        guard let k = weights.indices.max(by: { weights[$0].magnitude < weights[$1].magnitude }) else { return nil }
        let (a0, b0) = (k / columns, k % columns)
        let pivot = weights[k]
        guard pivot != 0 else { return nil }
        let p = (0..<rows).map { self[$0, b0] / pivot }
        let q = (0..<columns).map { self[a0, $0] }
        var residual = [Double](repeating: 0, count: weights.count)
        let tolerance = 1e-12 * pivot.magnitude
        for a in 0..<rows {
            for b in 0..<columns {
                let product = p[a] * q[b]
                let e = (self[a, b] - product).magnitude
                    + 4 * Double.ulpOfOne * (product.magnitude + self[a, b].magnitude)
                guard e <= tolerance else { return nil }
                residual[a * columns + b] = e
            }
        }
        return (p, q, residual)
    }
}
