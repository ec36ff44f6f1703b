/// Inference of single images on several threads: the row bands of `DiffusionBlock2D`.
///
/// `BatchParallel` spreads the images of a batch over the threads, so one image (the usual
/// denoising call) ran on one core. When every block is a `DiffusionBlock2D`, a block's
/// forward pass `u_out = u − τ(Σ_c K_cᵀ Φ_c(K_c u) + μ(u − f))` splits into two phases over
/// row bands of the image:
/// 1. `z_c = Φ_c(K_c u)` on the band's rows (`DiffusionBlock2D.fluxes(…rows:)`) — pipelined
///    with the update of every output row whose fluxes are then all in the band
///    (`forwardPipelined`, while they are in cache);
/// 2. `u_out = u − τ(Σ_c K_cᵀ z_c + μ(u − f))` on the band's remaining rows (`finish`, or
///    `update(…rows:)` on all of them when the block does not pipeline), which read `z` of
///    the neighbouring bands — so each phase is one fork–join of the `WorkerPool` (nothing
///    allocated per pass), the join being the barrier.
///
/// Each value is the same arithmetic whichever band computes it, and bands start at rows
/// that are multiples of 8 (so at pixel indices that are multiples of 8 for the diffusivities'
/// SIMD8 lanes): outputs are bit-identical to the one-image-per-thread path, to `forward`,
/// and across thread counts.
enum ImageRowBands {
    /// Bands per image for a pass of `batch` images on `requested` threads (0 = all
    /// processors); 1 means: use the batch path. Bands are used when the batch leaves
    /// threads idle, every block is a `DiffusionBlock2D` whose kernels serve the height, and
    /// each band keeps at least `Parallelism.minimumSamplesPerThread` filter responses.
    static func parts(blocks: [any ImageBlock], batch: Int, height: Int, width: Int, requested: Int) -> Int {
        let threads = min(requested > 0 ? requested : Parallelism.available, WorkerPool.maxWidth)
        guard batch < threads else { return 1 }
        var filters = 0
        for b in blocks {
            guard let d = b as? DiffusionBlock2D, d.filters.allSatisfy({ $0.servesRowBands(height: height) }) else { return 1 }
            filters = max(filters, d.filters.count)
        }
        let responses = filters.multipliedReportingOverflow(by: height * width)
        let bySize = responses.overflow ? threads : responses.partialValue / Parallelism.minimumSamplesPerThread
        return max(1, min(threads, groups(height), bySize))
    }

    /// Groups of 8 rows (the last may be shorter).
    static func groups(_ height: Int) -> Int { (height + 7) / 8 }

    /// Band `t` of `parts`: whole groups of 8 rows.
    static func band(_ t: Int, of parts: Int, height: Int) -> Range<Int> {
        let g = groups(height)
        return min(height, 8 * (t * g / parts))..<min(height, 8 * ((t + 1) * g / parts))
    }
}

/// The banded inference pass (`ImageRowBands`): images one after the other, each block's two
/// phases over `parts` bands. `scratch` holds the largest block scratch (its first `C·n`
/// values the channels `z`) and two images, alternating as block outputs.
struct ImageRowBandInference {
    let blocks: [any ImageBlock]
    let x: UnsafeBufferPointer<Double>
    let out: UnsafeMutableBufferPointer<Double>
    let height: Int
    let width: Int
    let scratch: UnsafeMutableBufferPointer<Double>
    let batch: Int
    let parts: Int

    func run() {
        let n = height * width, L = blocks.count, count = scratch.count
        var a = slice(scratch, count - 2 * n, n), c = slice(scratch, count - n, n)
        for b in 0..<batch {
            let f = slice(x, b * n, n)
            var input = f
            for (i, block) in blocks.enumerated() {
                let dst = i + 1 < L ? a : slice(out, b * n, n)
                guard let d = block as? DiffusionBlock2D else {   // (`ImageRowBands.parts` admits none)
                    block.forwardImage(input, data: f, height: height, width: width, into: dst,
                                       scratch: slice(scratch, 0, count - 2 * n))
                    input = UnsafeBufferPointer(dst)
                    swap(&a, &c)
                    continue
                }
                let z = slice(scratch, 0, d.filters.count * n)
                for phase in 0..<2 {
                    WorkerPool.shared.run(width: parts, Phase(
                        block: d, phase: phase, u: input, f: d.muParameter == nil ? nil : f, z: z, out: dst,
                        height: height, width: width, parts: parts))
                }
                input = UnsafeBufferPointer(dst)
                swap(&a, &c)
            }
        }
    }

    /// One phase of one block on band `t`.
    struct Phase: ParallelJob {
        let block: DiffusionBlock2D
        let phase: Int
        let u: UnsafeBufferPointer<Double>
        let f: UnsafeBufferPointer<Double>?
        let z: UnsafeMutableBufferPointer<Double>
        let out: UnsafeMutableBufferPointer<Double>
        let height: Int
        let width: Int
        let parts: Int

        func perform(_ t: Int) {
            let rows = ImageRowBands.band(t, of: parts, height: height)
            let (first, last) = (t == 0, t == parts - 1)
            switch (phase, block.pipelines(height: height)) {
            case (0, true):
                _ = block.forwardPipelined(u, f, height: height, width: width, z: z, out: out, rows: rows,
                                           first: first, last: last)
            case (_, true): block.finish(u, f, height: height, width: width, z: z, out: out, rows: rows, first: first, last: last)
            case (0, false): block.fluxes(u, height: height, width: width, into: z, rows: rows)
            case (_, false): block.update(u, f, height: height, width: width, z: z, out: out, rows: rows)
            }
        }
    }
}
