import Foundation
@testable import PDEBlocks

/// Independent dense references and small helpers for the tests (written from the
/// definitions in DESIGN.md, not from the library's kernels).
enum Reference {
    static func mirror(_ j: Int, _ n: Int) -> Int {
        var k = j % (2 * n)
        if k < 0 { k += 2 * n }
        return k < n ? k : 2 * n - 1 - k
    }

    /// Dense row-major matrix of a mirrored stencil.
    static func matrix(_ w: [Double], _ o: Int, _ n: Int) -> [[Double]] {
        var m = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { for (j, wj) in w.enumerated() { m[i][mirror(i + o + j, n)] += wj } }
        return m
    }

    static func matvec(_ m: [[Double]], _ x: [Double]) -> [Double] {
        m.map { row in zip(row, x).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    static func matTvec(_ m: [[Double]], _ x: [Double]) -> [Double] {
        var out = [Double](repeating: 0, count: m.first?.count ?? 0)
        for (i, row) in m.enumerated() { for (j, v) in row.enumerated() { out[j] += v * x[i] } }
        return out
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }
    static func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).map { abs($0 - $1) }.max() ?? 0 }

    /// g(s²) from the reference table (`ReferenceDiffusivity`).
    static func g(_ kind: DiffusivityKind, _ s2: Double, _ lambda: Double) -> Double {
        ReferenceDiffusivity.of(kind).g(s2, lambda: lambda)
    }

    /// Eq. (4) with dense matrices: u ← u − τ Kᵀ Φ(K u).
    static func explicit(_ f: [Double], _ m: [[Double]], _ kind: DiffusivityKind, _ lambda: Double, _ tau: Double, _ steps: Int) -> [Double] {
        var u = f
        for _ in 0..<steps {
            let y = matvec(m, u)
            let phi = y.map { g(kind, $0 * $0, lambda) * $0 }
            let kt = matTvec(m, phi)
            u = zip(u, kt).map { $0 - tau * $1 }
        }
        return u
    }
}

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [a, b).
    mutating func uniform(_ a: Double = 0, _ b: Double = 1) -> Double {
        a + (b - a) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func vector(_ n: Int, _ a: Double = -1, _ b: Double = 1) -> [Double] {
        (0..<n).map { _ in uniform(a, b) }
    }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
    }
    mutating func normals(_ n: Int) -> [Double] { (0..<n).map { _ in normal() } }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}
