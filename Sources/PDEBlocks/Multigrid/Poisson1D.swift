extension BandedMatrix {
    /// The 1D Poisson matrix with homogeneous Dirichlet boundaries on the `n` interior
    /// points of a grid of spacing `h` (default `1/(n+1)`, the unit interval):
    ///
    ///     (A x)_i = (−x_{i−1} + 2 x_i − x_{i+1}) / h²,   x_{−1} = x_n = 0,
    ///
    /// i.e. `tridiag(−1, 2, −1)/h²`, symmetric positive definite with eigenvalues
    /// `(4/h²) sin²(kπ/(2(n+1)))`, `k = 1…n`. Its grid is `.vertex`, so multigrid uses
    /// vertex-centred linear interpolation and full weighting. `n = 1` gives `[2/h²]`.
    public static func poisson1D(n: Int, h: Double? = nil) throws -> BandedMatrix {
        try Check.positive(n, "n")
        guard n < BandedMatrix.maxStorage / 3 else { throw PDEBlocksError.invalidArgument("n = \(n) is too large") }
        let spacing = h ?? 1 / Double(n + 1)
        try Check.positiveFinite(spacing, "h")
        let s = 1 / (spacing * spacing)
        guard s.isFinite else { throw PDEBlocksError.invalidArgument("h = \(spacing) is too small: 1/h² overflows") }
        let k = min(1, n - 1)
        var A = try BandedMatrix(zeros: n, lower: k, upper: k, grid: .vertex)
        A.band.withUnsafeMutableBufferPointer { a in
            let w = 2 * k + 1
            for i in 0..<n {
                a[i * w + k] = 2 * s
                if k == 1 {
                    if i > 0 { a[i * w] = -s }
                    if i < n - 1 { a[i * w + 2] = -s }
                }
            }
        }
        return A
    }
}
