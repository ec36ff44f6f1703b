/// Temporal blocking of the fused `gradient_2d` kernel: `s` diffusion steps
///
///     u^{ℓ} = u^{ℓ−1} − τ_ℓ (K_xᵀ f_x(u^{ℓ−1}) + K_yᵀ f_y(u^{ℓ−1})),   ℓ = 1 … s,
///
/// in one sweep over memory instead of s (explicit steps of eq. 4 with equal τ, or the
/// varying step sizes of a FED cycle; with frozen diagonals the linearised steps). One step
/// at row i reads rows i and i + 1 of the previous state (and the `f_y` of row i − 1, which
/// the row before computed), so the steps run as a wavefront down the image: level ℓ
/// produces row r as soon as level ℓ − 1 has produced row r + 1. Each level keeps its last
/// three rows in a small ring (three rows are all the next level ever reads at once, and a
/// level never runs more than one row ahead of what the next one needs), the first level
/// reads the input, the last writes the output. The sweep's working set is about
/// `5·s` rows, which `levels(width:)` keeps within the L2 cache, so a 1024² image makes
/// one trip to memory per sweep instead of one per step.
///
/// Every row is computed by `GradientDiffusionKernel.fluxes` and `.combine`, the same
/// arithmetic as the step-by-step kernel, so results are bitwise those of s single steps
/// (tested). Threads take contiguous bands of output rows; a band recomputes the
/// `s − ℓ` rows of level ℓ beyond each of its ends (about `s/rows` extra work), so the
/// results do not depend on the number of threads either. `x` and `out` must not overlap.
struct GradientWavefront {
    /// Most steps in one sweep.
    static let maxLevels = 8
    /// Bytes of rows a sweep may keep (about half of a 1 MiB L2 cache).
    static let cacheBytes = 512 << 10

    /// Steps per sweep for images of this width: as many as keep the sweep's rows in cache,
    /// at most `maxLevels` (1 — no blocking — for very wide images).
    static func levels(width: Int) -> Int {
        let perLevel = 5 * (width + 16) * MemoryLayout<Double>.stride
        return max(1, min(maxLevels, cacheBytes / perLevel))
    }

    /// Work values per band for up to `levels` steps: `f_x` (one row), two `f_y` rows per
    /// level and a three-row ring for each level but the last.
    static func bandWorkLength(width: Int, levels: Int) -> Int { (5 * levels - 2) * (width + 16) }

    let kernel: GradientDiffusionKernel

    /// `out = u^s` from `x = u^0` with `s = taus.count` steps (`1 ≤ s ≤ maxLevels`; the
    /// kernel's own τ is not used). `work` holds `bands · bandWorkLength(width:levels: s)`
    /// values for `bands = GradientWavefront.bands(height:levels:threads:)`.
    func apply(
        _ x: UnsafePointer<Double>, taus: UnsafeBufferPointer<Double>, into out: UnsafeMutablePointer<Double>,
        work: UnsafeMutablePointer<Double>, diffusivity: Diffusivity, threads: Int
    ) {
        let s = taus.count
        let parts = Self.bands(height: kernel.height, levels: s, threads: threads)
        let bandWork = Self.bandWorkLength(width: kernel.width, levels: s)
        if parts == 1 {
            diffusivity.withFluxLanes(Band(k: kernel, x: x, out: out, taus: taus, work: work, rows: 0..<kernel.height))
            return
        }
        struct Job: ParallelJob {
            let k: GradientDiffusionKernel, x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>
            let taus: UnsafeBufferPointer<Double>, work: UnsafeMutablePointer<Double>
            let diffusivity: Diffusivity, span: Int, bandWork: Int
            func perform(_ t: Int) {
                let lo = t * span, hi = min(k.height, lo + span)
                guard lo < hi else { return }
                diffusivity.withFluxLanes(Band(k: k, x: x, out: out, taus: taus, work: work + t * bandWork, rows: lo..<hi))
            }
        }
        let span = (kernel.height + parts - 1) / parts
        WorkerPool.shared.run(width: parts, Job(
            k: kernel, x: x, out: out, taus: taus, work: work, diffusivity: diffusivity, span: span, bandWork: bandWork))
    }

    /// Row bands for `threads` threads: each band at least `4·levels` rows high (so the
    /// recomputed rows stay a small part of its work) and 16 rows.
    static func bands(height: Int, levels: Int, threads: Int) -> Int {
        max(1, min(threads, height / max(16, 4 * levels)))
    }

    /// One band of output rows, all levels, with a concrete flux.
    struct Band: FluxLanesKernel {
        let k: GradientDiffusionKernel, x: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>
        let taus: UnsafeBufferPointer<Double>, work: UnsafeMutablePointer<Double>, rows: Range<Int>

        func run<F: FluxLanes>(_ flux: F) {
            let s = taus.count
            withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * (s + 1)) { state in
                sweep(flux, next: state.baseAddress!, start: state.baseAddress! + (s + 1),
                      end: state.baseAddress! + 2 * (s + 1))
            }
        }

        @inline(__always)
        func sweep<F: FluxLanes>(
            _ flux: F, next: UnsafeMutablePointer<Int>, start: UnsafeMutablePointer<Int>, end: UnsafeMutablePointer<Int>
        ) {
            let (h, w, s) = (k.height, k.width, taus.count)
            let stride = w + 16
            let fx = work
            fx[0] = 0  // f_x[i, −1]
            // Level ℓ (1 … s) produces rows [start_ℓ, end_ℓ): the band widened by s − ℓ rows.
            for l in 1...s {
                start[l] = max(0, rows.lowerBound - (s - l))
                end[l] = min(h, rows.upperBound + (s - l))
                next[l] = start[l]
            }
            next[0] = h  // the input: every row is there
            @inline(__always) func fyRow(_ l: Int, _ r: Int) -> UnsafeMutablePointer<Double> {
                work + (1 + 2 * (l - 1) + (r & 1)) * stride
            }
            @inline(__always) func row(_ l: Int, _ r: Int) -> UnsafeMutablePointer<Double> {
                if l == s { return out + r * w }
                return work + (1 + 2 * s + 3 * (l - 1) + r % 3) * stride
            }
            @inline(__always) func input(_ l: Int, _ r: Int) -> UnsafePointer<Double> {
                l == 1 ? x + r * w : UnsafePointer(row(l - 1, r))
            }
            while next[s] < end[s] {
                for l in 1...s {
                    let r = next[l]
                    guard r < end[l], next[l - 1] > min(r + 1, h - 1) else { continue }
                    // never overwrite a row of this level that the next level still reads
                    if l < s, r > next[l + 1] + 1 { continue }
                    if r == start[l] {
                        if r > 0 {
                            k.fluxes(r - 1, u: input(l, r - 1), down: input(l, r), flux, fx: fx + 1, fy: fyRow(l, r - 1))
                        } else {
                            fyRow(l, r - 1).update(repeating: 0, count: stride)
                        }
                    }
                    let u = input(l, r)
                    let output = RowCombine(fyPrevious: fyRow(l, r - 1), base: u, into: row(l, r), c: taus[l - 1] * k.inverseH)
                    let done = k.fluxes(r, u: u, down: r + 1 < h ? input(l, r + 1) : u, flux, fx: fx + 1, fy: fyRow(l, r),
                                        combining: output)
                    k.combine(fx: fx, fy: fyRow(l, r), output, from: done)
                    next[l] = r + 1
                }
            }
        }
    }
}
