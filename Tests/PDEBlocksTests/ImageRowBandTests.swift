import Foundation
import Testing
@testable import PDEBlocks

/// `ImageRowBands`: inference of fewer images than threads splits each image into row bands;
/// the outputs must equal the one-image-per-thread path (threads = 1) and `forward` bit for bit.
@Suite struct ImageRowBandTests {
    /// Two blocks: `first` (the labelled block under test), then a channelwise block of a
    /// separable 5×5 filter, a 3×9 filter (the generic tap-width path) and an off-centre 2×2
    /// one, with a reaction term.
    func network(_ first: DiffusionBlock2D, threads: Int) throws -> ImageNetwork {
        let p = [0.1, -0.3, 0.4, -0.3, 0.1], q = [0.2, 0.5, -1.0, 0.5, -0.2]
        let separable = try Stencil2D(weights: p.flatMap { a in q.map { a * $0 } }, rows: 5, columns: 5, offsetY: -2, offsetX: -2)
        let wide = try Stencil2D(weights: (0..<27).map { sin(Double($0) * 1.7) / 10 }, rows: 3, columns: 9, offsetY: -1, offsetX: -4)
        let corner = try Stencil2D(weights: [0.5, -0.2, 0.3, -0.6], rows: 2, columns: 2, offsetY: 0, offsetX: -1)
        #expect(separable.separable != nil && wide.separable == nil)
        let gs = imageTestDiffusivities().map(\.1)
        let second = try DiffusionBlock2D(filters: [separable, wide, corner], coupling: .channelwise,
                                          diffusivities: [gs[0], gs[gs.count - 1], gs[gs.count - 2]], tau: 0.07,
                                          muParameter: 0.2, zeroMean: false)
        return ImageNetwork(blocks: [first, second], threads: threads)
    }

    @Test func bandedInferenceEqualsTheSingleThreadAndForwardOutputsBitForBit() throws {
        // Odd sizes: the last band is not a multiple of 8 rows and rows are not multiples of 8 pixels.
        let (H, W) = (157, 141)
        var rng = LayerRNG(11)
        for batch in [1, 2] {
            let x = rng.normals(batch * H * W)
            for labelled in batch == 1 ? labelledImageBlocks : Array(labelledImageBlocks.prefix(3)) {
                let serial = try network(labelled.block, threads: 1)
                #expect(ImageRowBands.parts(blocks: serial.blocks, batch: batch, height: H, width: W, requested: 1) == 1)
                let reference = try serial.infer(x, batch: batch, height: H, width: W).map(\.bitPattern)
                let (forward, _) = try serial.forward(x, batch: batch, height: H, width: W)
                #expect(forward.map(\.bitPattern) == reference, "\(labelled.label): forward")
                for threads in [3, 4] {
                    let net = try network(labelled.block, threads: threads)
                    let parts = ImageRowBands.parts(blocks: net.blocks, batch: batch, height: H, width: W, requested: threads)
                    #expect(parts == threads, "\(labelled.label): \(threads) threads use \(parts) bands")
                    let out = try net.infer(x, batch: batch, height: H, width: W).map(\.bitPattern)
                    #expect(out == reference, "\(labelled.label), batch \(batch), \(threads) threads")
                }
            }
        }
    }

    /// `forwardPipelined` over 1–4 bands, then `finish` on each, against the two-pass forward
    /// (all fluxes, then all updates) bit for bit; blocks whose transposed bank reaches more
    /// than 8 rows, or images below 16 rows, are not pipelined (and `forwardOne` still equals
    /// the two passes).
    @Test func pipelinedForwardEqualsTheTwoPassForwardBitForBit() throws {
        var rng = LayerRNG(12)
        let far = try Stencil2D(weights: [0.4, -0.7, 0.3], rows: 3, columns: 1, offsetY: -11, offsetX: 0)
        let farBlock = try DiffusionBlock2D(filters: [far], coupling: .channelwise, diffusivities: [imageTestDiffusivities()[0].1],
                                            tau: 0.1, muParameter: nil, zeroMean: false)
        // reaching 4 rows up and none down: rows near the bottom read the image's last rows
        // through the mirror, which a short last band holds
        let down = try Stencil2D(weights: [0.3, -0.5, 0.1, 0.6, -0.4], rows: 5, columns: 1, offsetY: 0, offsetX: 0)
        let downBlock = try DiffusionBlock2D(filters: [down], coupling: .channelwise,
                                             diffusivities: [imageTestDiffusivities()[1].1], tau: 0.1, muParameter: 0.3,
                                             zeroMean: false)
        let blocks = [labelledImageBlocks[0].block, labelledImageBlocks[labelledImageBlocks.count - 1].block,
                      try network(labelledImageBlocks[1].block, threads: 1).blocks[1] as! DiffusionBlock2D, farBlock,
                      downBlock]
        for block in blocks {
            for (H, W) in [(16, 1), (17, 7), (25, 5), (40, 13), (157, 141), (9, 20), (17, 300), (33, 260)] {
                let n = H * W
                let u = rng.normals(n), f = rng.normals(n)
                let reacts = block.muParameter != nil
                var z = [Double](repeating: 0, count: block.filters.count * n)
                var want = [Double](repeating: 0, count: n)
                u.withUnsafeBufferPointer { ub in
                    f.withUnsafeBufferPointer { fAll in
                        let fb = reacts ? fAll : nil
                        z.withUnsafeMutableBufferPointer { zb in
                            want.withUnsafeMutableBufferPointer { ob in
                                block.fluxes(ub, height: H, width: W, into: zb, rows: 0..<H)
                                block.update(ub, fb, height: H, width: W, z: zb, out: ob, rows: 0..<H)
                            }
                        }
                    }
                }
                let reach = block.transposedReach
                #expect(block.pipelines(height: H) == (H >= 16 && reach.up <= 8 && reach.down <= 8))
                guard block.pipelines(height: H) else {
                    var got = [Double](repeating: 0, count: n)
                    u.withUnsafeBufferPointer { ub in
                        f.withUnsafeBufferPointer { fAll in
                            z.withUnsafeMutableBufferPointer { zb in
                                got.withUnsafeMutableBufferPointer {
                                    block.forwardOne(ub, reacts ? fAll : nil, height: H, width: W, z: zb, out: $0)
                                }
                            }
                        }
                    }
                    #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(H)×\(W), not pipelined")
                    continue
                }
                for parts in 1...min(4, ImageRowBands.groups(H)) {
                    var got = [Double](repeating: .nan, count: n)
                    z = [Double](repeating: .nan, count: z.count)
                    u.withUnsafeBufferPointer { ub in f.withUnsafeBufferPointer { fAll in
                        let fb = reacts ? fAll : nil
                        z.withUnsafeMutableBufferPointer { zb in
                            got.withUnsafeMutableBufferPointer { ob in
                                for pass in 0..<2 {
                                    for t in 0..<parts {
                                        let band = ImageRowBands.band(t, of: parts, height: H)
                                        if pass == 0 {
                                            _ = block.forwardPipelined(ub, fb, height: H, width: W, z: zb, out: ob, rows: band,
                                                                       first: t == 0, last: t == parts - 1)
                                        } else {
                                            block.finish(ub, fb, height: H, width: W, z: zb, out: ob, rows: band,
                                                         first: t == 0, last: t == parts - 1)
                                        }
                                    }
                                }
                            }
                        }
                    } }
                    #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(H)×\(W), \(parts) bands")
                }
            }
        }
    }

    @Test func bandsAreWholeGroupsOfEightRowsThatTileTheImage() {
        for height in [1, 7, 8, 9, 64, 133, 512] {
            for parts in 1...min(6, ImageRowBands.groups(height)) {
                var next = 0
                for t in 0..<parts {
                    let band = ImageRowBands.band(t, of: parts, height: height)
                    #expect(band.lowerBound == next && band.lowerBound % 8 == 0 && !band.isEmpty, "\(height) rows, band \(t) of \(parts)")
                    next = band.upperBound
                }
                #expect(next == height)
            }
        }
    }

    @Test func smallImagesAndResidualBlocksKeepTheBatchPath() throws {
        let block = labelledImageBlocks[0].block
        // 3 filters × 64 × 64 = 12288 responses: below one band's minimum.
        #expect(ImageRowBands.parts(blocks: [block], batch: 1, height: 64, width: 64, requested: 4) == 1)
        #expect(ImageRowBands.parts(blocks: [block], batch: 1, height: 256, width: 256, requested: 4) == 4)
        #expect(ImageRowBands.parts(blocks: [block], batch: 4, height: 256, width: 256, requested: 4) == 1)
        let K = imageTestFilters()
        let residual = try ResidualBlock2D(w1: [K[0]], w2: [K[1]], biases: [0.1], activation: .tanh)
        #expect(ImageRowBands.parts(blocks: [block, residual], batch: 1, height: 256, width: 256, requested: 4) == 1)
    }
}
