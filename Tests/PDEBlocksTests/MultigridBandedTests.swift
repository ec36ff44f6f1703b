import Testing

@testable import PDEBlocks

@Suite("Banded matrices and the banded direct solver")
struct MultigridBandedTests {
    static func random(n: Int, lower: Int, upper: Int, seed: UInt64) throws -> BandedMatrix {
        var rng = TestRandom(seed)
        let offsets = Array(-lower...upper)
        return try BandedMatrix(offsets: offsets, diagonals: offsets.map { rng.vector(n - abs($0)) })
    }

    @Test("diagonals land where scipy.sparse.diags puts them", arguments: [(1, 0, 0), (6, 1, 1), (9, 2, 3), (7, 0, 4)])
    func diagonalsConvention(shape: (Int, Int, Int)) throws {
        let (n, kl, ku) = shape
        var rng = TestRandom(UInt64(n))
        let offsets = Array(-kl...ku)
        let diagonals = offsets.map { rng.vector(n - abs($0)) }
        let A = try BandedMatrix(offsets: offsets, diagonals: diagonals)
        let D = Dense(A)
        for (d, diag) in zip(offsets, diagonals) {
            for (m, v) in diag.enumerated() {
                let (i, j) = d >= 0 ? (m, m + d) : (m - d, m)
                #expect(D[i, j] == v)
            }
            #expect(A.diagonal(d) == diag)
        }
        // slots outside the matrix are zero
        for i in 0..<n { for d in -kl...ku where i + d < 0 || i + d >= n { #expect(A.band[i * A.width + d + kl] == 0) } }
    }

    @Test("A x and Aᵀ equal their dense counterparts", arguments: [(1, 1), (2, 3), (0, 2), (3, 0)])
    func productsMatchDense(bands: (Int, Int)) throws {
        let A = try Self.random(n: 13, lower: bands.0, upper: bands.1, seed: 5)
        var rng = TestRandom(9)
        let x = rng.vector(13)
        #expect(maxDifference(try A.multiply(x), Dense(A).times(x)) < 1e-14)
        #expect(Dense(A.transposed()) == Dense(A).transposed)
        let b = rng.vector(13)
        var r = [Double](repeating: 0, count: 13)
        let norm2 = x.withUnsafeBufferPointer { xb in
            b.withUnsafeBufferPointer { bb in r.withUnsafeMutableBufferPointer { A.residual(xb, bb, into: $0) } }
        }
        let ref = zip(b, Dense(A).times(x)).map { $0 - $1 }
        #expect(maxDifference(r, ref) < 1e-14)
        #expect(abs(norm2 - ref.reduce(0) { $0 + $1 * $1 }) < 1e-12)
    }

    @Test("SPD tridiagonal systems are solved without pivoting, exactly")
    func spdTridiagonal() throws {
        let A = try BandedMatrix.poisson1D(n: 40)
        let lu = try BandedLU(A)
        #expect(lu.strategy == .symmetricPositiveDefinite)
        var rng = TestRandom(2)
        let b = rng.vector(40)
        let x = try lu.solve(b)
        #expect(maxDifference(x, Dense(A).solve(b)) < 1e-12 * maxAbs(x))
    }

    @Test("diagonally dominant bands skip pivoting", arguments: [(2, 2), (1, 3), (3, 1)])
    func diagonallyDominant(bands: (Int, Int)) throws {
        var A = try Self.random(n: 25, lower: bands.0, upper: bands.1, seed: 8)
        for i in 0..<25 {
            var off = 0.0
            for k in 0..<A.width where k != A.lower { off += abs(A.band[i * A.width + k]) }
            A.band[i * A.width + A.lower] = off + 0.5
        }
        let lu = try BandedLU(A)
        #expect(lu.strategy == .diagonallyDominant)
        var rng = TestRandom(4)
        let b = rng.vector(25)
        #expect(maxDifference(try lu.solve(b), Dense(A).solve(b)) < 1e-12)
    }

    @Test("a zero diagonal needs pivoting, and gets it")
    func pivoting() throws {
        var A = try Self.random(n: 20, lower: 2, upper: 1, seed: 12)
        for i in 0..<20 { A.band[i * A.width + A.lower] = 0 }
        let lu = try BandedLU(A)
        #expect(lu.strategy == .partialPivoting)
        var rng = TestRandom(6)
        let b = rng.vector(20)
        let x = try lu.solve(b)
        #expect(maxDifference(Dense(A).times(x), b) < 1e-10)
    }

    @Test("a symmetric indefinite matrix with a positive diagonal falls back to pivoting")
    func indefiniteFallback() throws {
        let A = try BandedMatrix(offsets: [-1, 0, 1], diagonals: [[3, 3, 3, 3], [2, 2, 2, 2, 2], [3, 3, 3, 3]])
        let lu = try BandedLU(A)
        #expect(lu.strategy == .partialPivoting)
        let b = [1.0, -2, 0.5, 4, 1]
        #expect(maxDifference(try lu.solve(b), Dense(A).solve(b)) < 1e-12)
    }

    @Test("a singular matrix is a clear error")
    func singular() throws {
        // the pure Neumann Laplacian: constants are in its kernel
        let A = try BandedMatrix(offsets: [-1, 0, 1], diagonals: [[-1, -1, -1, -1], [1, 2, 2, 2, 1], [-1, -1, -1, -1]])
        #expect(throws: PDEBlocksError.self) { try BandedLU(A) }
        do {
            _ = try BandedLU(A)
        } catch let error as PDEBlocksError {
            #expect(error.message.contains("singular"))
        }
    }

    @Test("the tridiagonal factorisation rescales its minors instead of overflowing")
    func minorsRescale() throws {
        // d_i ≈ 1e6 for every row: the leading minors reach 1e6^n, far beyond Double
        let n = 400
        let A = try BandedMatrix(
            offsets: [-1, 0, 1],
            diagonals: [[Double](repeating: -1, count: n - 1), [Double](repeating: 1e6, count: n), [Double](repeating: -1, count: n - 1)])
        var rng = TestRandom(1)
        let x = rng.vector(n)
        let b = try A.multiply(x)
        #expect(maxDifference(try A.solve(b), x) < 1e-12)
    }

    @Test("Poisson: tridiag(−1, 2, −1)/h², its sine modes are eigenvectors", arguments: [1, 2, 9, 31])
    func poisson(n: Int) throws {
        let A = try BandedMatrix.poisson1D(n: n)
        let h = 1 / Double(n + 1)
        #expect(A.grid == .vertex)
        let D = Dense(A)
        for i in 0..<n {
            #expect(abs(D[i, i] - 2 / (h * h)) < 1e-9)
            if i > 0 { #expect(abs(D[i, i - 1] + 1 / (h * h)) < 1e-9) }
        }
        for k in [1, n] {
            let v = (0..<n).map { sin(Double(k * ($0 + 1)) * .pi * h) }
            let s = sin(Double(k) * .pi * h / 2)
            let lambda = 4 / (h * h) * s * s
            #expect(maxDifference(try A.multiply(v), v.map { lambda * $0 }) < 1e-9 * lambda)
        }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.poisson1D(n: 0) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.poisson1D(n: 4, h: -1) }
    }

    @Test("the diffusion system is I + τ Kᵀ diag(w) K, exactly symmetric",
          arguments: [([-1.0, 1.0], 0), ([1.0, -2.0, 1.0], -1), ([0.2, 0.5, -0.1, 0.3], -3)])
    func diffusionSystem(stencil: ([Double], Int)) throws {
        for n in [1, 2, 3, 11] {
            var rng = TestRandom(UInt64(n))
            let w = rng.vector(n, 0, 2)
            let tau = 0.7
            let A = try BandedMatrix.diffusionSystem(stencil: try Stencil(weights: stencil.0, offset: stencil.1), weights: w, tau: tau)
            let K = denseStencil(stencil.0, offset: stencil.1, n: n)
            var W = Dense(rows: n, columns: n)
            for i in 0..<n { W[i, i] = w[i] }
            var ref = K.transposed * W * K
            for i in 0..<(n * n) { ref.a[i] *= tau }
            for i in 0..<n { ref[i, i] += 1 }
            #expect(maxDifference(Dense(A).a, ref.a) < 1e-13)
            #expect(Dense(A) == Dense(A).transposed)
            #expect(A.grid == .cell)
        }
    }

    @Test("bad diffusion-system input is refused")
    func diffusionSystemBadInput() throws {
        let K = try Stencil(weights: [-1, 1])
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.diffusionSystem(stencil: K, weights: [1, -1, 1], tau: 1) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.diffusionSystem(stencil: K, weights: [1, .nan], tau: 1) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.diffusionSystem(stencil: K, weights: [1, 1], tau: 0) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix.diffusionSystem(stencil: K, weights: [], tau: 1) }
    }

    @Test("bad banded input is refused")
    func badBandedInput() {
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(offsets: [0, 0], diagonals: [[1], [1]]) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(offsets: [0, 1], diagonals: [[1, 2], [1, 2]]) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(offsets: [0], diagonals: [[1, .infinity]]) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: 3, lower: 3, upper: 0, band: [Double](repeating: 0, count: 12)) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: 3, lower: 1, upper: 1, band: [Double](repeating: 0, count: 8)) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: Int.max / 2, lower: 1, upper: 1, band: []) }
        // a nonzero slot outside the matrix (row 0, offset −1)
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: 3, lower: 1, upper: 1, band: [1, 2, 0, 0, 2, 0, 0, 2, 0]) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: 3, lower: 1, upper: 1, band: [0, 2, 0, 0, 2, 0, 0, 2, 5]) }
        #expect(throws: PDEBlocksError.self) { try BandedMatrix(n: 3, lower: 1, upper: 1, band: [0, 2, 0, 0, .nan, 0, 0, 2, 0]) }
    }
}
