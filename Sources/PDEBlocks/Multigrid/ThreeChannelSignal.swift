/// A signal with the three channels of the paper's Fig. 2b on one level of a
/// multigrid U-net: the iteration variable `x`, the right-hand side `b` and the
/// residual `r` (all of one length).
public struct ThreeChannelSignal: Sendable, Equatable {
    public var x: [Double]
    public var b: [Double]
    public var r: [Double]

    /// Throws unless the three channels have the same, positive length.
    public init(x: [Double], b: [Double], r: [Double]) throws {
        guard !x.isEmpty, x.count == b.count, x.count == r.count else {
            throw PDEBlocksError.invalidArgument(
                "the channels must have one positive length, got x \(x.count), b \(b.count), r \(r.count)")
        }
        self.x = x
        self.b = b
        self.r = r
    }

    init(zeros n: Int) {
        x = [Double](repeating: 0, count: n)
        b = x
        r = x
    }

    /// The length of each channel.
    public var count: Int { x.count }

    /// Channel-wise sum: the additive skip connection of the U-net (Fig. 2b, step 5).
    public static func + (lhs: ThreeChannelSignal, rhs: ThreeChannelSignal) -> ThreeChannelSignal {
        var out = lhs
        for i in 0..<out.count {
            out.x[i] += rhs.x[i]
            out.b[i] += rhs.b[i]
            out.r[i] += rhs.r[i]
        }
        return out
    }
}

/// A linear map between three-channel signals of two levels: a 3×3 block matrix whose
/// blocks are 0, the identity, a restriction `R` or a prolongation `P` — the down- and
/// upsampling operators of the paper's Fig. 2b, which act only on the channels the
/// paper names. `blocks[o][i]` maps input channel `i` (x, b, r) to output channel `o`.
public struct ChannelOperator: Sendable {
    public enum Block: Sendable {
        case zero
        case identity
        case restriction(Transfer)
        case prolongation(Transfer)
    }

    public let blocks: [[Block]]
    /// The length of the output channels.
    public let outputLength: Int

    /// The downsampling of Fig. 2b:
    ///
    ///     ⎡0 0 0⎤
    ///     ⎢0 0 R⎥  : (x̃, b, r) ↦ (0, R r, 0)
    ///     ⎣0 0 0⎦
    ///
    /// the coarse initialisation is 0, the coarse right-hand side is the restricted fine
    /// residual, and no residual is passed down (the paper's "·" rows are 0 here).
    public static func downsampling(_ t: Transfer) -> ChannelOperator {
        ChannelOperator(
            blocks: [[.zero, .zero, .zero], [.zero, .zero, .restriction(t)], [.zero, .zero, .zero]],
            outputLength: t.coarse)
    }

    /// The upsampling of Fig. 2b:
    ///
    ///     ⎡P 0 0⎤
    ///     ⎢0 0 0⎥  : (x̃_H, b_H, r_H) ↦ (P x̃_H, 0, 0)
    ///     ⎣0 0 0⎦
    ///
    /// only the coarse error approximation is prolongated; the coarse right-hand side is
    /// set to 0 so that the additive skip propagates the fine one.
    public static func upsampling(_ t: Transfer) -> ChannelOperator {
        ChannelOperator(
            blocks: [[.prolongation(t), .zero, .zero], [.zero, .zero, .zero], [.zero, .zero, .zero]],
            outputLength: t.fine)
    }

    /// `out_o = Σ_i blocks[o][i](in_i)`.
    public func apply(_ s: ThreeChannelSignal) -> ThreeChannelSignal {
        var out = ThreeChannelSignal(zeros: outputLength)
        let inputs = [s.x, s.b, s.r]
        for o in 0..<3 {
            var channel = [Double](repeating: 0, count: outputLength)
            for i in 0..<3 {
                inputs[i].withUnsafeBufferPointer { src in
                    channel.withUnsafeMutableBufferPointer { dst in
                        switch blocks[o][i] {
                        case .zero: break
                        case .identity:
                            for k in 0..<min(dst.count, src.count) { dst[k] += src[k] }
                        case .restriction(let t):
                            var tmp = [Double](repeating: 0, count: t.coarse)
                            tmp.withUnsafeMutableBufferPointer { t.restrict(src, into: $0) }
                            for k in 0..<dst.count { dst[k] += tmp[k] }
                        case .prolongation(let t):
                            t.prolongAdd(src, into: dst)
                        }
                    }
                }
            }
            switch o {
            case 0: out.x = channel
            case 1: out.b = channel
            default: out.r = channel
            }
        }
        return out
    }
}
