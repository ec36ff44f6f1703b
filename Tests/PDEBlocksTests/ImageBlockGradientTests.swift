import Testing
@testable import PDEBlocks

/// Loss `⟨w, block(u, f)⟩`.
private func loss(_ b: DiffusionBlock2D, _ u: [Double], _ f: [Double], _ w: [Double], _ h: Int, _ wd: Int) throws -> Double {
    dot(try b.forward(u, data: b.muParameter == nil ? [] : f, batch: 2, height: h, width: wd), w)
}

@Suite struct ImageBlockGradientTests {
    static let (height, width) = (5, 11)  // width ≥ 8: the eight-lane dot products too

    @Test("backward matches central differences for every parameter kind, u and f (rel. error ≤ 1e-6)",
          arguments: labelledImageBlocks)
    func backwardMatchesCentralDifferences(_ item: LabelledImageBlock) throws {
        var rng = LayerRNG(23)
        let (H, W) = (Self.height, Self.width), total = 2 * H * W
        let u = rng.normals(total), f = rng.normals(total), w = rng.normals(total)
        let b = item.block
        let (gu, gf, gp) = try b.backward(w, input: u, data: b.muParameter == nil ? [] : f, batch: 2, height: H, width: W)
        let theta = b.parameters, step = 1e-6
        var fd = [Double](repeating: 0, count: theta.count)
        for i in theta.indices {
            var plus = theta, minus = theta
            plus[i] += step
            minus[i] -= step
            fd[i] = (try loss(try b.setting(parameters: plus), u, f, w, H, W)
                - (try loss(try b.setting(parameters: minus), u, f, w, H, W))) / (2 * step)
        }
        #expect(item.groups.values.flatMap { $0 }.sorted() == Array(theta.indices))
        for (kind, idx) in item.groups {
            let err = norm(idx.map { fd[$0] - gp[$0] }) / max(norm(idx.map { gp[$0] }), 1e-300)
            #expect(err <= 1e-6, "\(kind): relative error \(err)")
        }
        for (name, x, g) in [("u", u, gu), ("f", f, gf)] where name == "u" || b.muParameter != nil {
            var fdx = [Double](repeating: 0, count: total)
            for i in 0..<total {
                var plus = x, minus = x
                plus[i] += step
                minus[i] -= step
                fdx[i] = name == "u"
                    ? (try loss(b, plus, f, w, H, W) - (try loss(b, minus, f, w, H, W))) / (2 * step)
                    : (try loss(b, u, plus, w, H, W) - (try loss(b, u, minus, w, H, W))) / (2 * step)
            }
            let err = norm(zip(fdx, g).map { $0 - $1 }) / norm(g)
            #expect(err <= 1e-6, "\(name): relative error \(err)")
        }
    }

    @Test("the linearised block and backward are adjoint: ⟨J(du, df), v⟩ = ⟨du, ∂u⟩ + ⟨df, ∂f⟩",
          arguments: labelledImageBlocks)
    func linearisedBlockIsAdjointToBackward(_ item: LabelledImageBlock) throws {
        var rng = LayerRNG(5)
        let (H, W) = (3, 6), total = 2 * H * W
        let u = rng.normals(total), f = rng.normals(total), du = rng.normals(total), df = rng.normals(total)
        let v = rng.normals(total), b = item.block
        let reaction = b.muParameter != nil
        let jv = try b.jvp(u, du: du, df: reaction ? df : [], batch: 2, height: H, width: W)
        let (gu, gf, _) = try b.backward(v, input: u, data: reaction ? f : [], batch: 2, height: H, width: W)
        let lhs = dot(jv, v), rhs = dot(du, gu) + (reaction ? dot(df, gf) : 0)
        #expect(abs(lhs - rhs) <= 1e-12 * (norm(jv) * norm(v) + norm(du) * norm(gu) + norm(df) * norm(gf)))
        // and J is the derivative: central differences of the forward pass along (du, df)
        let e = 1e-6
        let plus = try b.forward(zip(u, du).map { $0 + e * $1 }, data: reaction ? zip(f, df).map { $0 + e * $1 } : [],
                                 batch: 2, height: H, width: W)
        let minus = try b.forward(zip(u, du).map { $0 - e * $1 }, data: reaction ? zip(f, df).map { $0 - e * $1 } : [],
                                  batch: 2, height: H, width: W)
        let fd = zip(plus, minus).map { ($0 - $1) / (2 * e) }
        #expect(norm(zip(fd, jv).map { $0 - $1 }) <= 1e-6 * norm(jv))
    }
}
