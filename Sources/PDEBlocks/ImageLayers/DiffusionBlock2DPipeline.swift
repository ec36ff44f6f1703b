/// The forward pass of `DiffusionBlock2D` as a pipeline down a band of rows:
///
///     u_out = u − τ(Σ_c K_cᵀ z_c + μ(u − f)),   z_c = Φ_c(K_c u),
///
/// with the fluxes `z` of a chunk of rows formed and the output rows they complete updated
/// at once, while those `z` rows are still in cache — instead of all fluxes first (C images,
/// 16 MB for eight channels of a 512² image) and the update after, reading them back from
/// memory. Each value is computed by the same kernels as the two-pass forward
/// (`fluxes(…rows:)` from rows that are multiples of 8, `update(…rows:)`), so the result is
/// bit for bit the same.
///
/// Output row p of `Σ_c K_cᵀ z_c` reads the `z` rows `p − up … p + down` (`transposedReach`)
/// and, through the half-sample mirror, the image's first `down` rows (for p < down) or its
/// last `up` rows (for p ≥ H − up) — one reflection only when the reach is at most 8 and
/// the image at least 16 rows high (`pipelines`). In a band of several, the rows that read
/// another band's fluxes — the band's first `up` and last `down` rows, and rows near the
/// image's edges — are left to `finish`, after every band's fluxes exist
/// (`ImageRowBandInference`'s second phase).
extension DiffusionBlock2D {
    /// How far the transposed bank reaches in rows: output row p reads `z` rows
    /// `p − up … p + down` (before the mirror), over all filters.
    var transposedReach: (up: Int, down: Int) {
        var up = 0, down = 0
        for k in filters {
            up = max(up, k.offsetY + k.rows - 1)   // i = p − oy − a, a < rows
            down = max(down, -k.offsetY)
        }
        return (up, down)
    }

    /// Whether `forwardPipelined` serves an image of `height` rows (reach ≤ 8 each way,
    /// height ≥ 16, row-band kernels; otherwise the two-pass forward is used).
    func pipelines(height: Int) -> Bool {
        let (up, down) = transposedReach
        return up <= 8 && down <= 8 && height >= 16 && filters.allSatisfy { $0.servesRowBands(height: height) }
    }

    /// Rows of `z` formed per step of the pipeline: a multiple of 8, about 4096 pixels.
    static func pipelineChunk(width: Int) -> Int { 8 * max(1, 512 / max(1, width)) }

    /// The fluxes of rows `band` (starting at a multiple of 8) and the output rows they
    /// complete, chunk by chunk; returns the output rows updated. `first` / `last`: the band
    /// starts / ends the image (otherwise its first `up` / last `down` rows are not updated:
    /// `finish` does them once the neighbouring bands' fluxes exist). Requires
    /// `pipelines(height:)`.
    func forwardPipelined(
        _ u: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>?, height: Int, width: Int,
        z: UnsafeMutableBufferPointer<Double>, out: UnsafeMutableBufferPointer<Double>, rows band: Range<Int>,
        first: Bool, last: Bool
    ) -> Range<Int> {
        let (up, down) = transposedReach
        let (lo, hi) = (band.lowerBound, band.upperBound)
        let rows = pipelinedRows(band, height: height, first: first, last: last)
        let (start, stop) = (rows.lowerBound, rows.upperBound)
        let chunk = Self.pipelineChunk(width: width)
        var next = start, s = lo
        while s < hi {
            let e = min(hi, s + chunk)
            fluxes(u, height: height, width: width, into: z, rows: s..<e)
            // (rows from H − up read the image's last rows through the mirror: not before the end)
            let ready = e == hi ? stop : min(stop, e - down, height - up)
            if ready > next {
                update(u, f, height: height, width: width, z: z, out: out, rows: next..<ready)
                next = ready
            }
            s = e
        }
        return start..<stop
    }

    /// The output rows of `band` (of an image of `height` rows) that `forwardPipelined`
    /// updates: unless `first`, none of the band's first `up` rows and none of the image's
    /// first `down` (they read the image's first rows through the mirror); unless `last`,
    /// none of the band's last `down` rows and none of the image's last `up`.
    func pipelinedRows(_ band: Range<Int>, height: Int, first: Bool, last: Bool) -> Range<Int> {
        let (up, down) = transposedReach
        let (lo, hi) = (band.lowerBound, band.upperBound)
        let start = first ? lo : min(hi, max(lo + up, down))
        return start..<(last ? hi : max(start, min(hi - down, height - up)))
    }

    /// The output rows of `band` that `forwardPipelined` left, once every band's fluxes are
    /// in `z`.
    func finish(
        _ u: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>?, height: Int, width: Int,
        z: UnsafeMutableBufferPointer<Double>, out: UnsafeMutableBufferPointer<Double>, rows band: Range<Int>,
        first: Bool, last: Bool
    ) {
        let done = pipelinedRows(band, height: height, first: first, last: last)
        if band.lowerBound < done.lowerBound {
            update(u, f, height: height, width: width, z: z, out: out, rows: band.lowerBound..<done.lowerBound)
        }
        if done.upperBound < band.upperBound {
            update(u, f, height: height, width: width, z: z, out: out, rows: done.upperBound..<band.upperBound)
        }
    }
}
