extension StencilField2D {
    /// The semi-implicit diffusion operator on `height × width` images,
    ///
    ///     A = I + τ Σ_c K_cᵀ diag(w_c) K_c,
    ///
    /// for a filter bank `K_1 … K_C` (each `K_c` its exact matrix with half-sample mirrored
    /// boundaries, DESIGN.md "Images") and per-pixel weights: `weights` holds either `H·W`
    /// values (one weight image for every filter: the isotropic case) or `C·H·W` values
    /// (`w_c` for filter `c`, filter-major). Weights must be finite and ≥ 0, `τ > 0` finite.
    ///
    /// `A` is symmetric positive definite with eigenvalues ≥ 1, assembled exactly
    /// symmetric, grid `.cell`. It is a stencil field only when every `K_cᵀ W K_c` couples
    /// pixels at most one step apart per axis: `gradient_2d` gives 5 points, filters within
    /// a 2×2 window 9 points; a wider bank throws (naming the filter).
    public static func diffusionSystem(
        bank: [Stencil2D], weights: UnsafeBufferPointer<Double>, height: Int, width: Int, tau: Double
    ) throws -> StencilField2D {
        let n = try unknowns(height: height, width: width)
        guard !bank.isEmpty else { throw PDEBlocksError.invalidArgument("the filter bank has no filters") }
        guard tau.isFinite, tau > 0 else { throw PDEBlocksError.invalidArgument("tau must be positive and finite, got \(tau)") }
        let perFilter = weights.count == bank.count * n && bank.count > 1
        guard weights.count == n || perFilter else {
            throw PDEBlocksError.invalidArgument(
                "weights must hold H·W = \(n) values (isotropic) or C·H·W = \(bank.count * n) (one image per filter), "
                    + "got \(weights.count)")
        }
        for k in 0..<weights.count where !(weights[k].isFinite && weights[k] >= 0) {
            if !weights[k].isFinite { throw PDEBlocksError.nonFinite("weight \(k) is not finite (\(weights[k]))") }
            throw PDEBlocksError.invalidArgument("weights must be nonnegative; weight \(k) is \(weights[k])")
        }
        for (index, K) in bank.enumerated() where K.rows * K.columns > 16 {
            throw PDEBlocksError.invalidArgument(
                "filter \(index) has \(K.rows)×\(K.columns) taps; K_cᵀ W K_c is a 9-point field only for filters within a 2×2 window")
        }
        var c = try Memory.zeros(Memory.count(9, n, for: "the stencil field"), for: "the stencil field")
        c.withUnsafeMutableBufferPointer { cb in
            for p in 0..<n { cb[4 * n + p] = 1 }
        }
        // one row of K_c: up to 16 (pixel, value) pairs, duplicates (mirror folds) merged
        var rowY = [Int](repeating: 0, count: 16), rowX = rowY
        var rowV = [Double](repeating: 0, count: 16)
        for (index, K) in bank.enumerated() {
            let wBase = perFilter ? index * n : 0
            for i in 0..<height {
                for j in 0..<width {
                    let t = tau * weights[wBase + i * width + j]
                    if t == 0 { continue }
                    var m = 0
                    for a in 0..<K.rows {
                        let y = Stencil.mirror(i + K.offsetY + a, height)
                        for b in 0..<K.columns {
                            let v = K.weights[a * K.columns + b]
                            if v == 0 { continue }
                            let x = Stencil.mirror(j + K.offsetX + b, width)
                            if let k = (0..<m).first(where: { rowY[$0] == y && rowX[$0] == x }) {
                                rowV[k] += v
                            } else {
                                (rowY[m], rowX[m], rowV[m]) = (y, x, v)
                                m += 1
                            }
                        }
                    }
                    for s in 0..<m {
                        for r in 0..<m {
                            let dy = rowY[r] - rowY[s], dx = rowX[r] - rowX[s]
                            guard abs(dy) <= 1, abs(dx) <= 1 else {
                                throw PDEBlocksError.invalidArgument(
                                    "filter \(index) couples pixels (\(rowY[s]), \(rowX[s])) and (\(rowY[r]), \(rowX[r])): "
                                        + "K_cᵀ W K_c is not a 9-point stencil field (filters must fit a 2×2 window)")
                            }
                            let d = 3 * (dy + 1) + dx + 1
                            c[d * n + rowY[s] * width + rowX[s]] += t * (rowV[s] * rowV[r])
                        }
                    }
                }
            }
        }
        return StencilField2D(unchecked: height, width, c, grid: .cell)
    }

    /// `diffusionSystem` on an array of weights.
    public static func diffusionSystem(
        bank: [Stencil2D], weights: [Double], height: Int, width: Int, tau: Double
    ) throws -> StencilField2D {
        try weights.withUnsafeBufferPointer {
            try diffusionSystem(bank: bank, weights: $0, height: height, width: width, tau: tau)
        }
    }
}
