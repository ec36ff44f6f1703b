extension StencilField2D {
    /// The 5-point Poisson operator `(4u_{ij} − u_{i±1,j} − u_{i,j±1}) / h²` on the
    /// `height × width` interior points of a grid with Dirichlet boundaries (the unknowns
    /// outside are 0): symmetric positive definite, grid `.vertex`. Throws for sides < 1 or
    /// `h` not positive and finite, or `1/h²` not finite.
    public static func poisson2D(height: Int, width: Int, h: Double = 1) throws -> StencilField2D {
        guard h.isFinite, h > 0, (1 / (h * h)).isFinite, 1 / (h * h) > 0 else {
            throw PDEBlocksError.invalidArgument("h must be positive and finite with 1/h² finite and nonzero, got \(h)")
        }
        let n = try unknowns(height: height, width: width)
        var c = try Memory.zeros(Memory.count(9, n, for: "the stencil field"), for: "the stencil field")
        let s = 1 / (h * h)
        for i in 0..<height {
            for j in 0..<width {
                let p = i * width + j
                c[4 * n + p] = 4 * s
                if i > 0 { c[1 * n + p] = -s }
                if i < height - 1 { c[7 * n + p] = -s }
                if j > 0 { c[3 * n + p] = -s }
                if j < width - 1 { c[5 * n + p] = -s }
            }
        }
        return StencilField2D(unchecked: height, width, c, grid: .vertex)
    }
}
