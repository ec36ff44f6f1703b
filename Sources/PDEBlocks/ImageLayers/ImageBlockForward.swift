/// The forward pass of `DiffusionBlock2D`, image by image:
/// `u_out = u − τ(Σ_c K_cᵀ Φ_c(K u) + μ(u − f))` (see the type for Φ_c per coupling).
extension DiffusionBlock2D {
    /// `out = u − τ(Σ_c K_cᵀ Φ_c(K u) + μ(u − f))` for `batch` row-major `height`×`width`
    /// images. `f` may be nil only without a reaction term. Throws (writing nothing) for a
    /// size mismatch, a non-finite input, a bounded τ above the certified bound, or
    /// overlapping `out` with `u` or `f`.
    public func forward(
        _ u: UnsafeBufferPointer<Double>, data f: UnsafeBufferPointer<Double>?, batch: Int, height: Int, width: Int,
        into out: UnsafeMutableBufferPointer<Double>
    ) throws {
        let f = try checkedData(f)
        try checkImages([("u", u), ("f", f ?? u), ("out", UnsafeBufferPointer(out))], batch: batch, height: height, width: width,
                        finite: 2)
        try requireDisjoint(out, [u, f ?? u])
        try checkStep(height: height, width: width)
        let n = height * width, C = filters.count
        var z = try Memory.zeros(C * n, for: "the \(C) channels of a \(height)×\(width) image")
        var stage = try Memory.zeros(out.count, for: "the block's staged output")
        z.withUnsafeMutableBufferPointer { z in
            stage.withUnsafeMutableBufferPointer { out in forwardImages(u, f, batch: batch, height: height, width: width, z: z, out: out) }
        }
        try commitFinite([(stage, out)], width: width)
    }

    /// The forward loop over the images (arguments checked), into `out`.
    private func forwardImages(
        _ u: UnsafeBufferPointer<Double>, _ f: UnsafeBufferPointer<Double>?, batch: Int, height: Int, width: Int,
        z: UnsafeMutableBufferPointer<Double>, out: UnsafeMutableBufferPointer<Double>
    ) {
        let n = height * width
        for r in 0..<batch {
            let range = (r * n)..<((r + 1) * n)
            forwardOne(UnsafeBufferPointer(rebasing: u[range]), f.map { UnsafeBufferPointer(rebasing: $0[range]) },
                       height: height, width: width, z: z, out: UnsafeMutableBufferPointer(rebasing: out[range]))
        }
    }

    /// The forward pass on one image (`z`: C·n values of scratch); allocates nothing.
    func forwardOne(
        _ ur: UnsafeBufferPointer<Double>, _ fr: UnsafeBufferPointer<Double>?, height: Int, width: Int,
        z: UnsafeMutableBufferPointer<Double>, out o: UnsafeMutableBufferPointer<Double>
    ) {
        if pipelines(height: height) {   // (the same bits, with the fluxes still in cache)
            _ = forwardPipelined(ur, fr, height: height, width: width, z: z, out: o, rows: 0..<height, first: true, last: true)
            return
        }
        fluxes(ur, height: height, width: width, into: z)
        update(ur, fr, height: height, width: width, z: z, out: o, rows: 0..<height)
    }

    /// Rows `band` of `out = u − τ(Σ_c K_cᵀ z_c + μ(u − f))` from the fluxes `z` of the
    /// whole image (`fluxes`): the second half of the forward pass, row by row.
    func update(
        _ ur: UnsafeBufferPointer<Double>, _ fr: UnsafeBufferPointer<Double>?, height: Int, width: Int,
        z: UnsafeMutableBufferPointer<Double>, out o: UnsafeMutableBufferPointer<Double>, rows band: Range<Int>
    ) {
        let n = height * width
        for c in 0..<filters.count {
            filters[c].accumulateTransposed(UnsafeBufferPointer(rebasing: z[(c * n)..<((c + 1) * n)]), height: height,
                                            width: width, into: o, base: c == 0 ? nil : UnsafeBufferPointer(o), rows: band)
        }
        for i in (band.lowerBound * width)..<(band.upperBound * width) {
            let reaction = fr.map { mu * (ur[i] - $0[i]) } ?? 0
            o[i] = ur[i] - tau * (o[i] + reaction)
        }
    }

    /// The forward pass on arrays (`f` empty without a reaction term).
    public func forward(_ u: [Double], data f: [Double], batch: Int, height: Int, width: Int) throws -> [Double] {
        var out = try Memory.zeros(u.count, for: "the block's output")
        try u.withUnsafeBufferPointer { ub in
            try f.withUnsafeBufferPointer { fb in
                try out.withUnsafeMutableBufferPointer {
                    try forward(ub, data: f.isEmpty ? nil : fb, batch: batch, height: height, width: width, into: $0)
                }
            }
        }
        return out
    }

    /// `z_c = Φ_c(K u)` for one image (`z` holds C·n values, channel-major).
    func fluxes(_ u: UnsafeBufferPointer<Double>, height: Int, width: Int, into z: UnsafeMutableBufferPointer<Double>) {
        fluxes(u, height: height, width: width, into: z, rows: 0..<height)
    }

    /// Rows `band` of every `z_c = Φ_c(K u)` (the first half of the forward pass). Bands
    /// assemble the whole-image result bit for bit when each starts at a pixel index that is a
    /// multiple of 8 (the diffusivities' SIMD8 lanes, whose scalar tail rounds differently).
    func fluxes(
        _ u: UnsafeBufferPointer<Double>, height: Int, width: Int, into z: UnsafeMutableBufferPointer<Double>,
        rows band: Range<Int>
    ) {
        let n = height * width, C = filters.count
        let pixels = (band.lowerBound * width)..<(band.upperBound * width)
        for c in 0..<C {
            let zc = UnsafeMutableBufferPointer(rebasing: z[(c * n)..<((c + 1) * n)])
            filters[c].apply(u, height: height, width: width, into: zc, rows: band)
            if coupling == .channelwise { diffusivities[c].applyFlux(UnsafeMutableBufferPointer(rebasing: zc[pixels]), scale: 1) }
        }
        guard coupling == .isotropic else { return }
        let g = diffusivities[0]
        for i in pixels {
            var s = 0.0
            for c in 0..<C { s += z[c * n + i] * z[c * n + i] }
            let gi = g.g(s)
            for c in 0..<C { z[c * n + i] *= gi }
        }
    }

    /// Copies each staged result to its destination if every staged value is finite; else
    /// throws `.nonFinite` (finite inputs, so overflow: values beyond 1.8e308) writing nothing.
    func commitFinite(_ pairs: [([Double], UnsafeMutableBufferPointer<Double>)], width: Int) throws {
        for (stage, _) in pairs {
            try stage.withUnsafeBufferPointer {
                try FiniteResult.require($0, n: width, what: "2D diffusion block") {
                    "overflow — the block's values exceed double precision (1.8e308); scale the input down "
                        + "or check the filters, τ and μ"
                }
            }
        }
        for (stage, out) in pairs { _ = out.update(fromContentsOf: stage) }
    }

    /// `f` unless it is nil while the block has a reaction term (then throws).
    func checkedData(_ f: UnsafeBufferPointer<Double>?) throws -> UnsafeBufferPointer<Double>? {
        if f == nil, muParameter != nil {
            throw PDEBlocksError.invalidArgument("the block has a reaction term μ(u − f): the data f is required")
        }
        return f
    }

    /// Throws when `out` overlaps one of `inputs`.
    func requireDisjoint(_ out: UnsafeMutableBufferPointer<Double>, _ inputs: [UnsafeBufferPointer<Double>]) throws {
        guard let o = out.baseAddress, !out.isEmpty else { return }
        let oEnd = o + out.count
        for x in inputs {
            guard let b = x.baseAddress, !x.isEmpty else { continue }
            if UnsafePointer(o) < b + x.count, b < UnsafePointer(oEnd) {
                throw PDEBlocksError.invalidArgument("an output of the 2D diffusion block overlaps one of its inputs")
            }
        }
    }
}
