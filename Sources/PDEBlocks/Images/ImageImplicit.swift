/// The implicit scheme on images as a recurrent network (paper eqs. 8–9 with a filter bank):
/// each time step solves `u^{k+1} = u^k − τ Σ_c K_cᵀ G_c K_c u^{k+1}` by fixed-point sweeps
/// `x_{ℓ+1} = u^k − τ Σ_c K_cᵀ G_c(x_ℓ) K_c x_ℓ` started at `x_0 = u^k` — one sweep is one
/// image diffusion block whose skip connection comes from `u^k`.
///
/// **Contraction.** The flux map of either coupling has Jacobian eigenvalues in
/// `[−L_Φ, L_Φ]` (isotropic: `g` across and `Φ′(|v|)` along `v`), so the sweeps contract
/// when `τ·L_Φ·λ_max(Σ_c K_cᵀK_c) < 1` (`contractionTau`, with the certified λ_max).
/// Stopping as `Implicit`: `tolerance = 0` makes exactly `iterations` sweeps per step, else a
/// step stops at the first sweep whose update `‖x_{ℓ+1} − x_ℓ‖_∞ ≤ tolerance`.
public enum ImageImplicit {
    /// `1/(L_Φ·λ_max)` with the largest Lipschitz constant over the diffusivities.
    public static func contractionTau(_ step: ImageDiffusionStep) throws -> Double {
        let lambda = try ImageStability.lambdaMax(step.bank, height: step.height, width: step.width)
        let l = step.diffusivities.map(\.lipschitz).max() ?? 1
        guard lambda > 0 else { return .infinity }
        return (1 / (l * lambda)).nextDown
    }

    /// Evolves `(batch, height, width)` images by `steps` implicit steps into `out` (may be
    /// `f`'s memory). Arguments, report, progress and errors as `Implicit.evolve`; τ at or
    /// above `contractionTau` is refused (`.unstable`) when `checkContraction`.
    @discardableResult
    public static func evolve(
        _ f: UnsafeBufferPointer<Double>, into out: UnsafeMutableBufferPointer<Double>, batch: Int,
        step: ImageDiffusionStep, tau: Double, steps: Int, iterations: Int, tolerance: Double = 0,
        checkContraction: Bool = true, progress: ProgressReporter? = nil
    ) throws -> Implicit.Report {
        let magnitude = try ImageLayout.validate(f, batch: batch, step: step)
        try SignalLayout.validateOutput(out, count: f.count)
        try Check.positiveFinite(tau, "tau")
        try Check.atLeast(steps, 0, "steps")
        try Check.positive(iterations, "iterations")
        guard tolerance.isFinite, tolerance >= 0 else {
            throw PDEBlocksError.invalidArgument("tol must be nonnegative and finite, got \(tolerance)")
        }
        let bound = try contractionTau(step)
        if checkContraction, !(tau < bound) {
            throw PDEBlocksError.unstable(
                "implicit scheme (images): tau = \(tau) violates the contraction condition tau·L_Φ·λ_max < 1 of the "
                    + "fixed-point sweeps (eq. 9); tau must be below 1/(L_Φ·λ_max) = \(bound) "
                    + "(\(step.height)×\(step.width) images); pass check_contraction=False "
                    + "(Swift: checkContraction: false; C: PDB_UNCHECKED) to run anyway")
        }
        let n = step.pixels
        progress?.begin(steps, times: batch, unitCost: n)
        let check = ImageLayout.mayOverflow(
            magnitude: magnitude, step: step, largestStep: tau * Double(iterations), checked: checkContraction)
        let sweepsPerImage = UnsafeMutableBufferPointer<Int>.allocate(capacity: batch)
        let residuals = UnsafeMutableBufferPointer<Double>.allocate(capacity: batch)
        defer { sweepsPerImage.deallocate(); residuals.deallocate() }
        sweepsPerImage.initialize(repeating: 0)
        residuals.initialize(repeating: 0)
        try FiniteResult.run(out, progress: progress, check: check, n: step.width,
                             what: "implicit scheme on images (\(steps) steps)", cause: {
            FiniteResult.cause(tau: tau, bound: bound, boundName: "contraction bound 1/(L_Φ·λ_max)",
                               flag: "check_contraction", magnitude: magnitude)
        }) { out in
            try ImageLayout.forEachImage(out, batch: batch, step: step, extra: 2 * n) { b, image, work, threads in
                var ticker = ProgressTicker(progress)
                if ticker.isCancelled { return }
                let xa = UnsafeMutableBufferPointer(rebasing: work[0..<n])
                let xb = UnsafeMutableBufferPointer(rebasing: work[n..<(2 * n)])
                let stepWork = UnsafeMutableBufferPointer(rebasing: work[(2 * n)...])
                SignalLayout.copy(f, row: b, n: n, into: image)
                var sweeps = 0, residual = 0.0
                run: for _ in 0..<steps {
                    // x_1 = F(u^k) = u^k − τ…; then x_{ℓ+1} = F(x_ℓ)
                    step.apply(UnsafeBufferPointer(image), base: UnsafeBufferPointer(image), tau: tau, into: xa,
                               work: stepWork, threads: threads)
                    var update = 0.0
                    for i in 0..<n { update = max(update, abs(xa[i] - image[i])) }
                    var (x, next) = (xa, xb)
                    var done = 1
                    while done < iterations, !(tolerance > 0 && update <= tolerance) {
                        step.apply(UnsafeBufferPointer(x), base: UnsafeBufferPointer(image), tau: tau, into: next,
                                   work: stepWork, threads: threads)
                        update = 0
                        for i in 0..<n { update = max(update, abs(next[i] - x[i])) }
                        swap(&x, &next)
                        done += 1
                        if !ticker.work(n) { break run }
                    }
                    sweeps += done
                    residual = max(residual, update.isNaN ? .infinity : update)
                    _ = image.update(fromContentsOf: x)
                    if !ticker.step(value: update) { break }
                }
                ticker.flush()
                sweepsPerImage[b] = sweeps
                residuals[b] = residual
            }
            try progress?.finish("implicit scheme (images)", units: "steps·images")
        }
        return Implicit.Report(sweeps: sweepsPerImage.max() ?? 0, residual: steps == 0 ? 0 : (residuals.max() ?? 0),
                               tolerance: tolerance)
    }
}
