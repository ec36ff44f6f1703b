import PDEBlocks

/// `(batch, height, width)` validated, with the checked total `batch·height·width`.
private func images(_ batch: Int64, _ height: Int64, _ width: Int64) throws -> (Int, Int, Int, Int) {
    guard batch > 0 else { throw PDEBlocksError.invalidArgument("batch must be positive, got \(batch)") }
    guard height > 0, width > 0 else {
        throw PDEBlocksError.invalidArgument("image shape must be positive, got \(height)×\(width)")
    }
    let n = try Buffers.product(height, width, "height·width")
    let total = try Buffers.product(batch, Int64(n), "batch·height·width")
    return (Int(batch), Int(height), Int(width), total)
}

@_cdecl("pdb_eed_stable_tau")
public func pdb_eed_stable_tau(
    _ height: Int64, _ width: Int64, _ h: Double, _ kind: Int32, _ lambda: Double, _ tau: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let (_, H, W, _) = try images(1, height, width)
        let g = try Buffers.diffusivity(kind, lambda)
        let out = try Buffers.scalar(tau, "tau")
        out.pointee = try EED.stableTau(height: H, width: W, h: h, diffusivity: g)
    }
}

@_cdecl("pdb_eed")
public func pdb_eed(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ h: Double,
    _ kind: Int32, _ lambda: Double, _ sigma: Double, _ tau: Double, _ steps: Int64, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let g = try Buffers.diffusivity(kind, lambda)
        let (B, H, W, total) = try images(batch, height, width)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst, inPlaceOf: "f"), Extent("f", src))
        try EED.evolve(
            src, into: dst, batch: B, height: H, width: W, h: h, diffusivity: g, sigma: sigma, tau: tau,
            steps: try Buffers.count(steps, "steps"), checkStability: !SchemeFlag.unchecked.isSet(in: flags))
    }
}

@_cdecl("pdb_eed_fed")
public func pdb_eed_fed(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ h: Double,
    _ kind: Int32, _ lambda: Double, _ sigma: Double, _ t: Double, _ tauMax: Double, _ cycles: Int64, _ flags: Int32,
    _ out: UnsafeMutablePointer<Double>?, _ cyclesUsed: UnsafeMutablePointer<Int64>?,
    _ cycleLength: UnsafeMutablePointer<Int64>?, _ tauUsed: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        try SchemeFlag.validate(flags)
        let g = try Buffers.diffusivity(kind, lambda)
        let (B, H, W, total) = try images(batch, height, width)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        let M = try Buffers.count(cycles, "cycles")
        try Check.finite(tauMax, "tau_max")
        let outputs = [Extent("out", dst, inPlaceOf: "f"), Extent(scalar: "cycles_used", cyclesUsed),
                       Extent(scalar: "cycle_length", cycleLength), Extent(scalar: "tau_used", tauUsed)]
        try Aliasing.require(outputs: outputs, inputs: [Extent("f", src)])
        let plan = try EED.evolveFED(
            src, into: dst, batch: B, height: H, width: W, h: h, diffusivity: g, sigma: sigma, time: t,
            tauMax: tauMax > 0 ? tauMax : nil, cycles: M > 0 ? M : nil,
            checkStability: !SchemeFlag.unchecked.isSet(in: flags))
        cyclesUsed?.pointee = Int64(plan.cycles)
        cycleLength?.pointee = Int64(plan.cycleLength)
        tauUsed?.pointee = plan.tauMax
    }
}

@_cdecl("pdb_aos")
public func pdb_aos(
    _ f: UnsafePointer<Double>?, _ batch: Int64, _ height: Int64, _ width: Int64, _ h: Double,
    _ kind: Int32, _ lambda: Double, _ tau: Double, _ steps: Int64, _ out: UnsafeMutablePointer<Double>?
) -> Int32 {
    guarded {
        let g = try Buffers.diffusivity(kind, lambda)
        let (B, H, W, total) = try images(batch, height, width)
        let src = try Buffers.input(f, total, "f")
        let dst = try Buffers.output(out, total, "out")
        try Aliasing.require(Extent("out", dst, inPlaceOf: "f"), Extent("f", src))
        try AOS.evolve(src, into: dst, batch: B, height: H, width: W, h: h, diffusivity: g, tau: tau,
                       steps: try Buffers.count(steps, "steps"))
    }
}
