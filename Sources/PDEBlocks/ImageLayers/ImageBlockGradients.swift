/// The backward pass (vector–Jacobian product) of `DiffusionBlock2D` and the Jacobian–vector
/// product in `u` and `f`. With `v = ∂L/∂u_out`, `z = K u`, `p = K v`, `φ = Φ(z)` and the
/// symmetric per-pixel Jacobian `DΦ` (channelwise: `diag Φ_c′(z_c)`; isotropic:
/// `g(s) δ_cd + 2g′(s) z_c z_d`, `s = Σ z_c²`), `q = DΦ p`:
///
///     ∂L/∂u   = v − τ(Σ_c K_cᵀ q_c + μ v)          ∂L/∂f = τ μ v
///     ∂L/∂w_c = −τ ∂/∂w_c (⟨φ_c, K_c v⟩ + ⟨q_c, K_c u⟩)   (`Stencil2D.accumulateWeightGradient`)
///     ∂L/∂θ   = −τ Σ_c ⟨p_c, ∂φ_c/∂θ⟩               (diffusivity parameters)
///     ∂L/∂τ   = −⟨v, Σ_c K_cᵀ φ_c + μ(u − f)⟩       ∂L/∂m = −τ⟨v, u − f⟩ · sigmoid(m)
///
/// then mixture weights → logits (`ChannelDiffusivity.convertGradient`) and, with
/// `zeroMean`, each filter's gradient minus its mean (the projection is symmetric).
extension DiffusionBlock2D {
    /// Per image: `gradU` (and `gradF` unless nil) receive `∂L/∂u`, `∂L/∂f`; `gradParameters`
    /// (parameterCount values) receives `∂L/∂θ` summed over the batch. Throws, writing
    /// nothing, under the conditions of `forward` or when an output overlaps an input.
    public func backward(
        _ v: UnsafeBufferPointer<Double>, input u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>?,
        batch: Int, height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>,
        gradF: UnsafeMutableBufferPointer<Double>?, gradParameters grad: UnsafeMutableBufferPointer<Double>
    ) throws {
        let f = try checkedData(f)
        var arrays = [("grad_out", v), ("u", u), ("f", f ?? u), ("grad_u", UnsafeBufferPointer(gradU))]
        if let gradF { arrays.append(("grad_f", UnsafeBufferPointer(gradF))) }
        try checkImages(arrays, batch: batch, height: height, width: width, finite: 3)
        guard grad.count == parameterCount else {
            throw PDEBlocksError.invalidArgument("grad_params has \(grad.count) values, the block has \(parameterCount) parameters")
        }
        for out in [gradU, grad] + (gradF.map { [$0] } ?? []) { try requireDisjoint(out, [v, u, f ?? u]) }
        try requireDisjoint(gradU, [UnsafeBufferPointer(grad)] + (gradF.map { [UnsafeBufferPointer($0)] } ?? []))
        if let gradF { try requireDisjoint(gradF, [UnsafeBufferPointer(grad)]) }
        try checkStep(height: height, width: width)
        var su = try Memory.zeros(gradU.count, for: "the staged grad_u")
        var sf = try Memory.zeros(gradF?.count ?? 0, for: "the staged grad_f")
        var sp = [Double](repeating: 0, count: grad.count)
        try su.withUnsafeMutableBufferPointer { gu in
            try sf.withUnsafeMutableBufferPointer { gf in
                try sp.withUnsafeMutableBufferPointer { gp in
                    try backwardImages(v, u, f, batch: batch, height: height, width: width, gradU: gu,
                                       gradF: gradF == nil ? nil : gf, grad: gp)
                }
            }
        }
        try commitFinite([(su, gradU), (sp, grad)] + (gradF.map { [(sf, $0)] } ?? []), width: width)
    }

    /// The backward loop over the images (arguments checked), into the given buffers.
    private func backwardImages(
        _ v: UnsafeBufferPointer<Double>, _ u: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>?,
        batch: Int, height: Int, width: Int, gradU: UnsafeMutableBufferPointer<Double>,
        gradF: UnsafeMutableBufferPointer<Double>?, grad: UnsafeMutableBufferPointer<Double>
    ) throws {
        let n = height * width, C = filters.count
        var work = try Memory.zeros(try Memory.count(2 * C + 4, n, for: "scratch"), for: "the backward pass's scratch")
        grad.update(repeating: 0)
        work.withUnsafeMutableBufferPointer { w in
            for r in 0..<batch {
                let range = (r * n)..<((r + 1) * n)
                if let gradF { slice(gradF, r * n, n).update(repeating: 0) }
                backwardOne(UnsafeBufferPointer(rebasing: v[range]), UnsafeBufferPointer(rebasing: u[range]),
                            f.map { UnsafeBufferPointer(rebasing: $0[range]) }, height: height, width: width,
                            gradU: UnsafeMutableBufferPointer(rebasing: gradU[range]),
                            gradF: gradF.map { UnsafeMutableBufferPointer(rebasing: $0[range]) }, grad: grad, work: w)
            }
        }
        convertGradient(grad)
    }

    /// The scratch of `backwardOne`: `(2C + 4)·n` values.
    func backwardScratchCount(pixels n: Int) -> Int { (2 * filters.count + 4) * n }

    /// The backward pass on one image: writes `gu`, adds `∂L/∂f` to `gf` and the raw
    /// parameter gradient to `grad` (τ and m slots included: `convertGradient` finishes
    /// them); `work` holds `backwardScratchCount` values. Allocates nothing.
    func backwardOne(
        _ vr: UnsafeBufferPointer<Double>, _ ur: UnsafeBufferPointer<Double>, _ fr: UnsafeBufferPointer<Double>?,
        height: Int, width: Int, gradU gu: UnsafeMutableBufferPointer<Double>,
        gradF: UnsafeMutableBufferPointer<Double>?, grad: UnsafeMutableBufferPointer<Double>,
        work w: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width, C = filters.count
        let z = slice(w, 0, C * n), p = slice(w, C * n, C * n), extra = slice(w, 2 * C * n, 4 * n)
        var dtau = 0.0, dmu = 0.0
        for c in 0..<C {
            filters[c].apply(ur, height: height, width: width, into: slice(z, c * n, n))
            filters[c].apply(vr, height: height, width: width, into: slice(p, c * n, n))
        }
        dtau -= linearise(z, p, n: n, grad: grad, work: extra)
        var wk = 0
        for c in 0..<C {
            let wg = slice(grad, wk, filters[c].weights.count)
            wk += filters[c].weights.count
            let (zc, pc) = (UnsafeBufferPointer(slice(z, c * n, n)), UnsafeBufferPointer(slice(p, c * n, n)))
            filters[c].accumulateWeightGradient(of: vr, against: zc, height: height, width: width, scale: -tau, into: wg)
            filters[c].accumulateWeightGradient(of: ur, against: pc, height: height, width: width, scale: -tau, into: wg)
            filters[c].accumulateTransposed(pc, height: height, width: width, into: gu,
                                            base: c == 0 ? nil : UnsafeBufferPointer(gu))
        }
        for i in 0..<n {
            let d = fr.map { ur[i] - $0[i] } ?? 0
            dtau -= vr[i] * mu * d
            dmu -= tau * vr[i] * d
            gu[i] = vr[i] - tau * (gu[i] + mu * vr[i])
            if let gradF { gradF[i] += tau * mu * vr[i] }
        }
        grad[tauIndex] += dtau
        if muParameter != nil { grad[tauIndex + 1] += dmu }
    }

    /// On one image, `z ← φ = Φ(z)` and `p ← q = DΦ(z) p` in place; adds `−τ Σ_c⟨p_c, ∂φ_c/∂θ⟩`
    /// (raw) to the diffusivity slices of `grad` and returns `Σ_c ⟨p_c, φ_c⟩` (for ∂L/∂τ).
    /// `work` holds 4n values.
    func linearise(
        _ z: UnsafeMutableBufferPointer<Double>, _ p: UnsafeMutableBufferPointer<Double>, n: Int,
        grad: UnsafeMutableBufferPointer<Double>, work: UnsafeMutableBufferPointer<Double>
    ) -> Double {
        let C = filters.count
        var k = weightCount, dot = 0.0
        if coupling == .channelwise {
            for c in 0..<C {
                let g = diffusivities[c]
                dot += g.backwardPass(slice(z, c * n, n), slice(p, c * n, n), scale: -tau,
                                      grad: slice(grad, k, g.parameterCount), work: slice(work, 0, 2 * n))
                k += g.parameterCount
            }
            return dot
        }
        let g = diffusivities[0], s = slice(work, 0, n), w = slice(work, n, n)
        for i in 0..<n {
            var si = 0.0, wi = 0.0
            for c in 0..<C { si += z[c * n + i] * z[c * n + i]; wi += z[c * n + i] * p[c * n + i] }
            let (gi, slope) = g.gAndSlope(si)
            (s[i], w[i]) = (si, wi)
            dot += gi * wi
            for c in 0..<C {
                p[c * n + i] = gi * p[c * n + i] + slope * z[c * n + i] * wi
                z[c * n + i] *= gi
            }
        }
        g.accumulateGGradient(UnsafeBufferPointer(s), UnsafeBufferPointer(w), scale: -tau, into: slice(grad, k, g.parameterCount))
        return dot
    }

    /// Maps the raw gradient (summed over images) to the parameterisation, in place:
    /// `dm = dμ·sigmoid(m)`, mixture weights → logits, and the projection of the weight
    /// gradients of a zero-mean bank.
    public func convertGradient(_ grad: UnsafeMutableBufferPointer<Double>) {
        var k = weightCount
        for g in diffusivities {
            g.convertGradient(slice(grad, k, g.parameterCount))
            k += g.parameterCount
        }
        if let m = muParameter { grad[tauIndex + 1] *= StepSize.sigmoid(m) }
        guard zeroMean else { return }
        var start = 0
        for K in filters {
            let wg = slice(grad, start, K.weights.count)
            let mean = wg.reduce(0, +) / Double(wg.count)
            for j in wg.indices { wg[j] -= mean }
            start += K.weights.count
        }
    }

    /// The backward pass on arrays: `(∂L/∂u, ∂L/∂f, ∂L/∂θ)` (`f` empty without reaction;
    /// `∂L/∂f` then all zero).
    public func backward(_ v: [Double], input u: [Double], data f: [Double], batch: Int, height: Int, width: Int) throws
        -> (gradU: [Double], gradF: [Double], gradParameters: [Double])
    {
        var gu = try Memory.zeros(u.count, for: "grad_u"), gf = try Memory.zeros(u.count, for: "grad_f")
        var gp = [Double](repeating: 0, count: parameterCount)
        try v.withUnsafeBufferPointer { vb in
            try u.withUnsafeBufferPointer { ub in
                try f.withUnsafeBufferPointer { fb in
                    try gu.withUnsafeMutableBufferPointer { gub in
                        try gf.withUnsafeMutableBufferPointer { gfb in
                            try gp.withUnsafeMutableBufferPointer {
                                try backward(vb, input: ub, data: f.isEmpty ? nil : fb, batch: batch, height: height,
                                             width: width, gradU: gub, gradF: gfb, gradParameters: $0)
                            }
                        }
                    }
                }
            }
        }
        return (gu, gf, gp)
    }
}
