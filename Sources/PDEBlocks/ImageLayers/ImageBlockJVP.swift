/// The Jacobian–vector product of `DiffusionBlock2D` in its inputs: the linearised block
///
///     J(du, df) = du − τ(Σ_c K_cᵀ DΦ(K u) K du + μ du) + τ μ df,
///
/// whose adjoint is `backward`'s `(∂L/∂u, ∂L/∂f)`: `⟨J(du, df), v⟩ = ⟨du, ∂L/∂u⟩ + ⟨df, ∂L/∂f⟩`.
extension DiffusionBlock2D {
    /// `J(du, df)` at `u` for one batch on arrays (`df` empty without a reaction term).
    public func jvp(_ u: [Double], du: [Double], df: [Double], batch: Int, height: Int, width: Int) throws -> [Double] {
        let n = height * width, C = filters.count
        guard df.isEmpty || df.count == u.count else {
            throw PDEBlocksError.invalidArgument("df has \(df.count) values, expected \(u.count)")
        }
        try u.withUnsafeBufferPointer { ub in
            try du.withUnsafeBufferPointer {
                try checkImages([("u", ub), ("du", $0)], batch: batch, height: height, width: width, finite: 2)
            }
        }
        try checkStep(height: height, width: width)
        var out = [Double](repeating: 0, count: u.count)
        var z = [Double](repeating: 0, count: C * n), p = z
        var grad = [Double](repeating: 0, count: parameterCount), work = [Double](repeating: 0, count: 4 * n)
        for r in 0..<batch {
            let range = (r * n)..<((r + 1) * n)
            u.withUnsafeBufferPointer { ub in
                du.withUnsafeBufferPointer { db in
                    z.withUnsafeMutableBufferPointer { z in
                        p.withUnsafeMutableBufferPointer { p in
                            out.withUnsafeMutableBufferPointer { o in
                                grad.withUnsafeMutableBufferPointer { g in
                                    work.withUnsafeMutableBufferPointer { w in
                                        let ur = UnsafeBufferPointer(rebasing: ub[range])
                                        let dr = UnsafeBufferPointer(rebasing: db[range])
                                        let orow = UnsafeMutableBufferPointer(rebasing: o[range])
                                        for c in 0..<C {
                                            filters[c].apply(ur, height: height, width: width, into: slice(z, c * n, n))
                                            filters[c].apply(dr, height: height, width: width, into: slice(p, c * n, n))
                                        }
                                        _ = linearise(z, p, n: n, grad: g, work: w)
                                        for c in 0..<C {
                                            filters[c].accumulateTransposed(
                                                UnsafeBufferPointer(slice(p, c * n, n)), height: height, width: width,
                                                into: orow, base: c == 0 ? nil : UnsafeBufferPointer(orow))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            for i in range {
                out[i] = du[i] - tau * (out[i] + mu * du[i]) + (df.isEmpty ? 0 : tau * mu * df[i])
            }
        }
        return out
    }
}
