import Testing

@testable import PDEBlocks

/// Dense references for the multigrid tests, written from the formulas (independent of the
/// library's banded kernels): dense matrices are row-major `[Double]` with their order.
struct Dense: Equatable {
    let n: Int
    let m: Int
    var a: [Double]

    init(rows n: Int, columns m: Int, _ a: [Double]? = nil) {
        self.n = n
        self.m = m
        self.a = a ?? [Double](repeating: 0, count: n * m)
    }

    init(_ A: BandedMatrix) {
        self.init(rows: A.n, columns: A.n, try! A.dense())
    }

    subscript(i: Int, j: Int) -> Double {
        get { a[i * m + j] }
        set { a[i * m + j] = newValue }
    }

    static func * (A: Dense, B: Dense) -> Dense {
        var C = Dense(rows: A.n, columns: B.m)
        for i in 0..<A.n {
            for k in 0..<A.m where A[i, k] != 0 {
                for j in 0..<B.m { C[i, j] += A[i, k] * B[k, j] }
            }
        }
        return C
    }

    func times(_ x: [Double]) -> [Double] {
        (0..<n).map { i in (0..<m).reduce(0.0) { $0 + self[i, $1] * x[$1] } }
    }

    var transposed: Dense {
        var T = Dense(rows: m, columns: n)
        for i in 0..<n { for j in 0..<m { T[j, i] = self[i, j] } }
        return T
    }

    /// Gaussian elimination with partial pivoting.
    func solve(_ b: [Double]) -> [Double] {
        var A = self
        var x = b
        for k in 0..<n {
            let p = (k..<n).max { abs(A[$0, k]) < abs(A[$1, k]) }!
            if p != k {
                for j in 0..<n { let t = A[k, j]; A[k, j] = A[p, j]; A[p, j] = t }
                x.swapAt(k, p)
            }
            for i in (k + 1)..<n {
                let f = A[i, k] / A[k, k]
                for j in k..<n { A[i, j] -= f * A[k, j] }
                x[i] -= f * x[k]
            }
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var s = x[i]
            for j in (i + 1)..<n { s -= A[i, j] * x[j] }
            x[i] = s / A[i, i]
        }
        return x
    }
}

/// The N×N matrix of a mirrored stencil, from the definition in DESIGN.md.
func denseStencil(_ weights: [Double], offset: Int, n: Int) -> Dense {
    var K = Dense(rows: n, columns: n)
    for i in 0..<n {
        for (j, w) in weights.enumerated() {
            let period = 2 * n
            var k = (i + offset + j) % period
            if k < 0 { k += period }
            K[i, k < n ? k : period - 1 - k] += w
        }
    }
    return K
}

func maxAbs(_ v: [Double]) -> Double { v.reduce(0) { max($0, abs($1)) } }

func maxDifference(_ u: [Double], _ v: [Double]) -> Double {
    zip(u, v).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// Dense Gauss–Seidel/Jacobi sweeps, textbook form.
enum DenseSmoother {
    static func relax(_ A: Dense, _ b: [Double], _ x: inout [Double], _ i: Int) {
        var s = b[i]
        for j in 0..<A.n where j != i { s -= A[i, j] * x[j] }
        x[i] = s / A[i, i]
    }

    static func apply(_ smoother: Smoother, post: Bool, _ A: Dense, _ b: [Double], _ x: inout [Double], omega: Double) {
        let n = A.n
        switch (smoother, post) {
        case (.jacobi, _):
            let r = zip(b, A.times(x)).map { $0 - $1 }
            for i in 0..<n { x[i] += omega * r[i] / A[i, i] }
        case (.gaussSeidel, false), (.forwardGaussSeidel, _):
            for i in 0..<n { relax(A, b, &x, i) }
        case (.gaussSeidel, true):
            for i in (0..<n).reversed() { relax(A, b, &x, i) }
        case (.symmetricGaussSeidel, _):
            for i in 0..<n { relax(A, b, &x, i) }
            for i in (0..<n).reversed() { relax(A, b, &x, i) }
        case (.redBlack, _):
            let order = post ? [0, 1] : [1, 0]
            for parity in order { for i in stride(from: parity, to: n, by: 2) { relax(A, b, &x, i) } }
        case (.alternatingLine, _):
            preconditionFailure("alternating_line is a 2D smoother")
        }
    }
}

/// Reduction of `‖r‖` per cycle on `A x = 0` from a random `x0` (no rounding floor), worst
/// over cycles 2…`cycles`.
func asymptoticFactor(_ mg: Multigrid, cycles: Int = 8, seed: UInt64 = 1) throws -> Double {
    var rng = TestRandom(seed)
    let x0 = rng.vector(mg.n)
    let (_, report) = try mg.solve([Double](repeating: 0, count: mg.n), initialGuess: x0, tolerance: 0, maxCycles: cycles)
    let r = report.residuals
    #expect(r.count == cycles + 1)
    return (2...cycles).map { r[$0] / r[$0 - 1] }.max()!
}

@Suite("Multigrid test references")
struct MultigridReferenceTests {
    @Test("the dense reference solver solves a random system")
    func denseSolverSolves() {
        var rng = TestRandom(3)
        let A = Dense(rows: 6, columns: 6, rng.vector(36))
        let x = rng.vector(6)
        #expect(maxDifference(A.solve(A.times(x)), x) < 1e-10)
    }
}
