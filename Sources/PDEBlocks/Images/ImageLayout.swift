/// Validation and per-image driving shared by the image schemes: a row-major
/// `(batch, height, width)` block of images, each evolving independently.
enum ImageLayout {
    /// Throws unless `batch ≥ 1`, the buffer holds exactly `batch·height·width` values
    /// (the step has checked `height, width ≥ 1`) and all are finite (a non-finite value is
    /// named by image, row and column). Returns `max |u|`.
    @discardableResult
    static func validate(_ u: UnsafeBufferPointer<Double>, batch: Int, step: ImageDiffusionStep, name: String = "f") throws -> Double {
        try Check.positive(batch, "batch")
        let n = step.pixels
        guard batch.multipliedReportingOverflow(by: n) == (u.count, false) else {
            throw PDEBlocksError.invalidArgument(
                "\(name) holds \(u.count) values, expected batch·height·width = \(batch)·\(step.height)·\(step.width)")
        }
        let magnitude = ScaledNorm.largestMagnitude(u)
        if !magnitude.isFinite, let i = u.firstIndex(where: { !$0.isFinite }) {
            let (b, p) = (i / n, i % n)
            throw PDEBlocksError.nonFinite(
                "\(name) contains a non-finite value (\(u[i])) at image \(b), row \(p / step.width), column \(p % step.width)")
        }
        return magnitude
    }

    /// Throws `.unstable` naming the bound when `tau` exceeds `2/(sup g·λ_max(Σ K_cᵀK_c))`.
    static func requireStable(tau: Double, step: ImageDiffusionStep, what: String) throws {
        let bound = try step.stableTau()
        guard tau <= bound else {
            throw PDEBlocksError.unstable(
                "\(what): tau = \(tau) exceeds the Euclidean stability bound \(bound) = 2/(sup g·λ_max(Σ_c K_cᵀK_c)) "
                    + "of Theorem 2 (\(step.height)×\(step.width) images, \(step.bank.count) filter(s)); pass "
                    + "check_stability=False (Swift: checkStability: false; C: PDB_UNCHECKED) to run anyway")
        }
    }

    /// Whether values might overflow (then `FiniteResult` checks the result): always when
    /// the step size is unchecked, else when `max|f|·√N·(1 + Σ_c‖w_c‖₁)²·(1 + τ_max)·2^growth`
    /// comes within `2^24` of overflow (as `FiniteResult.mayOverflow` for signals).
    static func mayOverflow(magnitude: Double, step: ImageDiffusionStep, largestStep tau: Double,
                            log2Growth: Double = 0, checked: Bool) -> Bool {
        guard checked else { return true }
        let w1 = step.bank.reduce(0) { $0 + $1.weights.reduce(0) { $0 + abs($1) } }
        let bound = log2(max(magnitude, 1)) + 0.5 * log2(Double(max(step.pixels, 1))) + 2 * log2(1 + w1)
            + log2(1 + tau) + log2Growth
        return !(bound < 1000)
    }

    /// Threads for the row bands of one image (1 for a batch, whose images go to threads).
    static func innerThreads(_ step: ImageDiffusionStep, batch: Int) -> Int {
        guard batch == 1, step.usesGradientKernel else { return 1 }
        return min(Parallelism.threads, max(1, step.pixels / (4 * Parallelism.minimumSamplesPerThread)))
    }

    /// Runs `body(b, image, work, threads)` for every image of `out` (images on threads, or
    /// for one image its row bands), each worker with `extra + step.workLength(threads:lagged:)`
    /// values of work memory allocated once here.
    static func forEachImage(
        _ out: UnsafeMutableBufferPointer<Double>, batch: Int, step: ImageDiffusionStep, extra: Int, lagged: Bool = false,
        _ body: (Int, UnsafeMutableBufferPointer<Double>, UnsafeMutableBufferPointer<Double>, Int) -> Void
    ) throws {
        let n = step.pixels
        let inner = innerThreads(step, batch: batch)
        let length = try Memory.sum(extra, step.workLength(threads: inner, lagged: lagged), for: "image work buffers")
        try Parallelism.forEachRow(batch: batch, n: n, workLength: length) { b, work in
            body(b, SignalLayout.row(out, b, n), work, inner)
        }
    }
}
