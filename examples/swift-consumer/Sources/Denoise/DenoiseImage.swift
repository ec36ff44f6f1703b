// Denoise a small synthetic image with the array API of the PDEBlocks image schemes:
// Perona–Malik with the isotropic coupling, u ← u − τ Kᵀ[g(|K u|²) K u] with the
// gradient_2d bank K = [Kx; Ky], run by FED cycles to the stopping time t (ImageEvolve plans
// them within the certified bound of Theorem 2). The image and parameters are those of
// examples/denoise_image.c, so the C and Swift results can be compared.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PDEBlocks

enum DenoiseImage {
    static let height = 64, width = 80
    static let lambda = 0.1, stop = 10.0

    /// Prints one line with the plan and the PSNR before and after; with `rawPath`, also
    /// writes the denoised image there (height·width doubles, row-major, native byte order).
    static func run(rawPath: String?) throws {
        let (clean, noisy) = SyntheticImage.make(height: height, width: width)
        let step = try ImageDiffusionStep(bank: Stencil2D.gradient(), diffusivity: Diffusivity(.peronaMalik, lambda: lambda),
                                          coupling: .isotropic, height: height, width: width)
        let (u, report) = try ImageEvolve.run(noisy, step: step, time: stop, scheme: .fed)
        print("image \(height)x\(width), Perona-Malik FED to t = \(stop) (\(report.steps) cycles of length "
              + "\(report.cycleLength)): PSNR noisy \(Denoise.fixed(psnr(noisy, clean), digits: 2)) dB, "
              + "denoised \(Denoise.fixed(psnr(u, clean), digits: 2)) dB")
        if let rawPath { try write(u, to: rawPath) }
    }

    /// PSNR in dB for data range 1.
    static func psnr(_ u: [Double], _ clean: [Double]) -> Double {
        let mse = zip(u, clean).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / Double(u.count)
        return -10 * log10(mse)
    }

    static func write(_ u: [Double], to path: String) throws {
        guard let file = fopen(path, "wb") else { throw PDEBlocksError.io("cannot open \(path) for writing") }
        let written = u.withUnsafeBufferPointer { fwrite($0.baseAddress, MemoryLayout<Double>.size, $0.count, file) }
        guard fclose(file) == 0, written == u.count else { throw PDEBlocksError.io("writing \(path) failed") }
    }
}

/// The synthetic test image of examples/denoise_image.c: background 0.2, a rectangle 0.8, a
/// disk 0.5, plus noise of standard deviation 25/255 (the Irwin–Hall sum of 12 uniforms of a
/// 64-bit LCG minus 6: exact arithmetic, so C, Swift and Python produce the same bits).
enum SyntheticImage {
    static func make(height h: Int, width w: Int, seed: UInt64 = 2024) -> (clean: [Double], noisy: [Double]) {
        var state = seed
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (Double(state >> 11) + 0.5) / 9007199254740992.0
        }
        let (ci, cj, r) = (h / 2, 3 * w / 4, h / 5)
        let sigma = 25.0 / 255.0
        var clean = [Double](repeating: 0, count: h * w), noisy = clean
        for i in 0..<h {
            for j in 0..<w {
                var v = 0.2
                if i >= h / 4 && i < 3 * h / 4 && j >= w / 8 && j < w / 2 { v = 0.8 }
                if (i - ci) * (i - ci) + (j - cj) * (j - cj) <= r * r { v = 0.5 }
                var s = 0.0
                for _ in 0..<12 { s += uniform() }
                clean[i * w + j] = v
                noisy[i * w + j] = v + sigma * (s - 6.0)
            }
        }
        return (clean, noisy)
    }
}
