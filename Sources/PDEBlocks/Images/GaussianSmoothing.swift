
/// Gaussian presmoothing `u_σ = G_σ * u` of EED, separable (one 1D pass along x, then one
/// along y), with the half-sample mirror boundary of DESIGN.md applied to each axis.
///
/// **Convention.** The 1D kernel is the *sampled* Gaussian normalised to sum 1 and
/// truncated at radius `r = ⌈3σ⌉`:
///
///     w_k = exp(−k²/(2σ²)) / Σ_{|l|≤r} exp(−l²/(2σ²)),   k = −r … r,
///
///     u_σ[i, j] = Σ_{|a|≤r} Σ_{|b|≤r} w_a w_b · ũ[i + a, j + b]
///
/// with `ũ` the half-sample mirror extension (`Stencil.mirror`, periodic with period 2n, so
/// a radius longer than the image is allowed). `σ = 0` is the identity (`r = 0`, `w_0 = 1`).
/// Both passes are convolutions with a symmetric kernel whose weights sum to 1, so the mean
/// of `u` and the bounds `min u ≤ u_σ ≤ max u` are kept.
public struct GaussianSmoothing: Sendable {
    /// The standard deviation σ ≥ 0 (in pixels).
    public let sigma: Double
    /// The truncation radius `r = ⌈3σ⌉`.
    public let radius: Int
    /// `w_0 … w_r` (the kernel is symmetric: `w_{−k} = w_k`), normalised so that
    /// `w_0 + 2 Σ_{k≥1} w_k = 1`.
    public let weights: [Double]

    /// The largest radius accepted (σ up to about 21845 pixels).
    public static let maximumRadius = 1 << 16

    /// Throws unless `σ` is finite and nonnegative with `⌈3σ⌉ ≤ maximumRadius`.
    public init(sigma: Double) throws {
        guard sigma.isFinite, sigma >= 0 else {
            throw PDEBlocksError.invalidArgument("sigma must be finite and nonnegative, got \(sigma)")
        }
        guard 3 * sigma <= Double(Self.maximumRadius) else {
            throw PDEBlocksError.invalidArgument(
                "sigma = \(sigma) is too large (the Gaussian's radius ⌈3σ⌉ must be at most \(Self.maximumRadius))")
        }
        self.sigma = sigma
        let r = Int((3 * sigma).rounded(.up))
        radius = r
        guard r > 0 else {
            weights = [1]
            return
        }
        var w = (0...r).map { k in exp(-Double(k * k) / (2 * sigma * sigma)) }
        let total = w.dropFirst().reduce(0, +) * 2 + w[0]
        for k in w.indices { w[k] /= total }
        weights = w
    }

    /// Values of `work` that `smooth` needs for `height`×`width` images: the intermediate
    /// image and, per thread, one padded row (`width + 2r`).
    public func workLength(height: Int, width: Int) -> Int {
        height * width + max(1, min(Parallelism.threads, WorkerPool.maxWidth)) * (width + 2 * radius)
    }

    /// `out = u_σ` for one `height`×`width` image. `out` may alias `u`; `work` holds at least
    /// `height·width + width + 2r` values (more lets more threads run: `workLength`) and must
    /// not overlap `u` or `out`. Allocates nothing.
    public func smooth(
        _ u: UnsafePointer<Double>, height: Int, width: Int, into out: UnsafeMutablePointer<Double>,
        work: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width
        guard radius > 0 else {
            if UnsafePointer(out) != u { out.update(from: u, count: n) }
            return
        }
        let padded = width + 2 * radius
        let tmp = work.baseAddress!
        let maxParts = max(1, (work.count - n) / padded)
        weights.withUnsafeBufferPointer { w in
            let wp = w.baseAddress!
            let rowParts = min(EEDRowBands.parts(count: height, samples: n), maxParts)
            EEDRowBands.run(rowParts, AlongX(
                u: u, tmp: tmp, pads: tmp + n, padded: padded, w: wp, r: radius, height: height, width: width,
                parts: rowParts))
            let columnParts = EEDRowBands.parts(count: height, samples: n)
            EEDRowBands.run(columnParts, AlongY(
                tmp: UnsafePointer(tmp), out: out, w: wp, r: radius, height: height, width: width, parts: columnParts))
        }
    }

    /// The x pass over a band of rows: each row mirrored into a padded row, then
    /// `tmp_row = w_0·row + Σ_k w_k·(row shifted by −k + row shifted by +k)`.
    private struct AlongX: ParallelJob {
        let u: UnsafePointer<Double>, tmp: UnsafeMutablePointer<Double>, pads: UnsafeMutablePointer<Double>
        let padded: Int, w: UnsafePointer<Double>, r: Int, height: Int, width: Int, parts: Int

        func perform(_ t: Int) {
            let pad = pads + t * padded
            for i in EEDRowBands.band(t, of: parts, count: height) {
                let row = u + i * width
                for k in 0..<padded { pad[k] = row[Stencil.mirror(k - r, width)] }
                let o = tmp + i * width
                let c = pad + r
                let w0 = w[0]
                for j in 0..<width { o[j] = w0 * c[j] }
                for k in 1...r {
                    let wk = w[k], lo = c - k, hi = c + k
                    for j in 0..<width { o[j] += wk * (lo[j] + hi[j]) }
                }
            }
        }
    }

    /// The y pass over a band of output rows: `out_i = w_0·tmp_i + Σ_k w_k·(tmp_{ĩ−k} + tmp_{ĩ+k})`
    /// with mirrored row indices.
    private struct AlongY: ParallelJob {
        let tmp: UnsafePointer<Double>, out: UnsafeMutablePointer<Double>, w: UnsafePointer<Double>
        let r: Int, height: Int, width: Int, parts: Int

        func perform(_ t: Int) {
            for i in EEDRowBands.band(t, of: parts, count: height) {
                let o = out + i * width, c = tmp + i * width
                let w0 = w[0]
                for j in 0..<width { o[j] = w0 * c[j] }
                for k in 1...r {
                    let wk = w[k]
                    let lo = tmp + Stencil.mirror(i - k, height) * width, hi = tmp + Stencil.mirror(i + k, height) * width
                    for j in 0..<width { o[j] += wk * (lo[j] + hi[j]) }
                }
            }
        }
    }

    /// `u_σ` of one row-major image (array overload).
    public func smooth(_ u: [Double], height: Int, width: Int) throws -> [Double] {
        try Stencil2D.checkImage(u.count, height: height, width: width)
        var out = try Memory.zeros(u.count, for: "the smoothed image")
        var work = try Memory.zeros(workLength(height: height, width: width), for: "the Gaussian's work buffer")
        u.withUnsafeBufferPointer { ub in
            out.withUnsafeMutableBufferPointer { ob in
                work.withUnsafeMutableBufferPointer { smooth(ub.baseAddress!, height: height, width: width, into: ob.baseAddress!, work: $0) }
            }
        }
        return out
    }
}
