// Denoise a noisy piecewise-constant signal with the PDEBlocks Swift API: the explicit
// scheme u ← u − τ Kᵀ Φ(K u) (paper eq. 4), a chain of diffusion blocks, run to a fixed
// stopping time with step sizes within the bound of Theorem 2. Prints a small table; then
// denoises a synthetic image (DenoiseImage.swift). `Denoise --raw FILE` also writes the
// denoised image to FILE as raw doubles.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PDEBlocks

@main
struct Denoise {
    static let n = 512
    static let h = 1.0 / Double(n)
    static let stop = 1e-3  // diffusion time

    static func main() {
        var random = Gaussian(seed: 7)
        let clean = (0..<n).map { i in i < n / 3 ? 0.0 : (i < 2 * n / 3 ? 1.0 : 0.3) }
        let noisy = clean.map { $0 + 0.1 * random.next() }
        do {
            let linear = try evolve(noisy, .linear, lambda: 1)
            let peronaMalik = try evolve(noisy, .peronaMalik, lambda: 60)
            print("PDEBlocks from Swift: N = \(n), stopping time \(stop)")
            print(cells("signal", "steps", "||u||_2", "RMSE"))
            print(cells("noisy", "0", fixed(norm(noisy)), fixed(rmse(noisy, clean))))
            print(cells("linear", "\(linear.steps)", fixed(norm(linear.u)), fixed(rmse(linear.u, clean))))
            print(cells("denoised", "\(peronaMalik.steps)", fixed(norm(peronaMalik.u)), fixed(rmse(peronaMalik.u, clean))))
        } catch {
            print("error: \(error)")
            exit(1)
        }
        // Bad input is a thrown PDEBlocksError, never a crash: a step above the bound is refused.
        do {
            _ = try evolve(noisy, .peronaMalik, lambda: 60, steps: 1)
        } catch {
            print("tau = \(stop) (one step) refused: \(error)")
        }
        let arguments = CommandLine.arguments
        let raw = arguments.count == 3 && arguments[1] == "--raw" ? arguments[2] : nil
        do {
            try DenoiseImage.run(rawPath: raw)
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }

    /// Evolves `f` to time `stop`: `steps` explicit steps of size `stop/steps`; by default the
    /// fewest steps whose size stays within the stability bound `2/(sup g·‖K‖₂²)` (Theorem 2).
    static func evolve(_ f: [Double], _ kind: DiffusivityKind, lambda: Double, steps: Int? = nil) throws -> (u: [Double], steps: Int) {
        let K = try Stencil.differenceOperator(alphas: [0, 1], h: h)  // D = ∂x: forward difference
        let g = try Diffusivity(kind, lambda: lambda)
        let bound = try stableTau(stencil: K, diffusivity: g, n: n)
        let steps = steps ?? Int((stop / bound).rounded(.up))
        var out = [Double](repeating: 0, count: f.count)
        try f.withUnsafeBufferPointer { f in
            try out.withUnsafeMutableBufferPointer { u in
                try Explicit.evolve(f, into: u, batch: 1, n: n, stencil: K, diffusivity: g,
                                    tau: stop / Double(steps), steps: steps)
            }
        }
        return (out, steps)
    }

    static func norm(_ u: [Double]) -> Double { u.reduce(0) { $0 + $1 * $1 }.squareRoot() }

    static func rmse(_ u: [Double], _ v: [Double]) -> Double {
        (zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(u.count)).squareRoot()
    }

    /// `x` with `digits` (≥ 1) decimals (no Foundation needed).
    static func fixed(_ x: Double, digits: Int = 6) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((abs(x) * Double(scale)).rounded())
        let fraction = String(scaled % scale)
        return (x < 0 ? "-" : "") + "\(scaled / scale)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    static func cells(_ columns: String...) -> String {
        columns.dropLast().map { $0 + String(repeating: " ", count: max(1, 12 - $0.count)) }.joined() + columns.last!
    }
}

/// Deterministic standard normal samples: Box–Muller over a 64-bit LCG.
struct Gaussian {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return (Double(state >> 11) + 0.5) / 9007199254740992.0
    }

    mutating func next() -> Double {
        let u = uniform(), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}
