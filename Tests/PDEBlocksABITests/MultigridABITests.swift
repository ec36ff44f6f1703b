import PDEBlocks
import Testing

@testable import PDEBlocksABI

/// The C entry points of include/pdeblocks_multigrid.h, called directly.
@Suite("Multigrid C ABI", .serialized)
struct MultigridABITests {
    static let ok: Int32 = 0, null: Int32 = -1, invalid: Int32 = -2, nonFinite: Int32 = -3
    static let notConverged: Int32 = -5, badHandle: Int32 = -6

    static func lastError() -> String { String(cString: pdb_last_error()) }

    static func poisson(_ n: Int) -> [Double] {
        var band = [Double](repeating: 0, count: 3 * n)
        #expect(pdb_poisson_1d(Int64(n), 1 / Double(n + 1), &band) == ok)
        return band
    }

    static func createHierarchy(_ band: [Double], n: Int, smoother: Int32 = 1, cycle: Int32 = 0) -> OpaquePointer? {
        var handle: OpaquePointer? = nil
        let status = pdb_mg_create(Int64(n), 1, 1, band, 1, smoother, 0, 2, 2, cycle, 0, 3, 0, &handle)
        #expect(status == ok, "\(lastError())")
        return handle
    }

    /// The live-handle count moves by +1 at create and −1 at destroy. The count is
    /// process-wide and suites of other files create handles in parallel, so the three reads
    /// are retried until one round sees no other activity (a leak or a missed count fails
    /// every round).
    @Test("create and destroy move the live-handle count by one each")
    func liveHandleCount() {
        let n = 63
        let band = Self.poisson(n)
        var clean = false
        for _ in 0..<50 where !clean {
            var before: Int64 = 0, during: Int64 = 0, after: Int64 = 0
            #expect(pdb_live_handles(&before) == Self.ok)
            let h = Self.createHierarchy(band, n: n)
            _ = pdb_live_handles(&during)
            #expect(pdb_mg_destroy(h) == Self.ok)
            _ = pdb_live_handles(&after)
            clean = during == before + 1 && after == before
        }
        #expect(clean, "no round saw the count move by exactly +1 and back")
    }

    @Test("create, use and destroy a hierarchy; a destroyed handle is PDB_ERR_HANDLE")
    func handleLifecycle() throws {
        let n = 63
        let band = Self.poisson(n)
        let h = Self.createHierarchy(band, n: n)
        var count: Int64 = 0, transfer: Int32 = -1
        #expect(pdb_mg_levels(h, nil, 0, &count, &transfer) == Self.ok)
        var sizes = [Int64](repeating: 0, count: Int(count))
        #expect(pdb_mg_levels(h, &sizes, count, &count, nil) == Self.ok)
        #expect(sizes == [63, 31, 15, 7, 3] && transfer == 1)
        #expect(pdb_mg_destroy(h) == Self.ok)
        // every entry point taking a handle refuses it now
        var x = [Double](repeating: 0, count: n)
        let b = [Double](repeating: 1, count: n)
        var cycles: Int64 = 0, converged: Int32 = 0, factor = 0.0
        #expect(pdb_mg_solve(h, b, nil, Int64(n), 1e-8, 10, &x, nil, 0, &cycles, &converged, &factor) == Self.badHandle)
        #expect(Self.lastError().contains("not live"))
        #expect(pdb_mg_cycle(h, x, b, 1, Int64(n), &x) == Self.badHandle)
        #expect(pdb_mg_unet_cycle(h, x, b, Int64(n), &x) == Self.badHandle)
        #expect(pdb_mg_levels(h, nil, 0, &count, nil) == Self.badHandle)
        #expect(pdb_mg_destroy(h) == Self.badHandle)
        #expect(pdb_mg_destroy(nil) == Self.badHandle)
        #expect(pdb_cg(Int64(n), 1, 1, band, b, nil, h, 1e-8, 10, &x, nil, 0, &cycles, &converged) == Self.badHandle)
        #expect(x == [Double](repeating: 0, count: n))  // nothing written on failure
    }

    @Test("a handle of another type is PDB_ERR_HANDLE")
    func wrongType() {
        var unet: OpaquePointer? = nil
        let none: [Int32] = [], lengths: [Int64] = [], offsets: [Int64] = [], weights: [Double] = []
        #expect(pdb_unet2_create(0, none, lengths, offsets, weights, nil, nil, nil, 0, 0, 2, &unet) == Self.ok, "\(Self.lastError())")
        var count: Int64 = 0
        #expect(pdb_mg_levels(unet, nil, 0, &count, nil) == Self.badHandle)
        #expect(Self.lastError().contains("expected a multigrid hierarchy"))
        #expect(pdb_mg_destroy(unet) == Self.badHandle)
        #expect(pdb_unet2_destroy(unet) == Self.ok)
    }

    @Test("solve through C equals the Swift solver, with history and factor")
    func solve() throws {
        let n = 127
        let band = Self.poisson(n)
        let h = Self.createHierarchy(band, n: n)
        defer { _ = pdb_mg_destroy(h) }
        var rng = TestRandomABI(4)
        let b = (0..<n).map { _ in rng.uniform() }
        var x = [Double](repeating: 0, count: n)
        var history = [Double](repeating: -1, count: 31)
        var cycles: Int64 = 0, converged: Int32 = 0, factor = 0.0
        #expect(pdb_mg_solve(h, b, nil, Int64(n), 1e-9, 30, &x, &history, 31, &cycles, &converged, &factor) == Self.ok)
        let mg = try Multigrid(try BandedMatrix(n: n, lower: 1, upper: 1, band: band, grid: .vertex))
        let (xs, report) = try mg.solve(b, tolerance: 1e-9, maxCycles: 30)
        #expect(converged == 1 && Int(cycles) == report.iterations)
        #expect(x == xs)
        #expect(Array(history[0...Int(cycles)]) == report.residuals)
        #expect(factor == report.convergenceFactor)
        // a history buffer that is too short is refused before anything is written
        var short = [Double](repeating: -1, count: 5)
        var y = [Double](repeating: 7, count: n)
        #expect(pdb_mg_solve(h, b, nil, Int64(n), 1e-9, 30, &y, &short, 5, &cycles, &converged, &factor) == Self.invalid)
        #expect(y == [Double](repeating: 7, count: n))
        // NaN in b
        var bad = b
        bad[5] = .nan
        #expect(pdb_mg_solve(h, bad, nil, Int64(n), 1e-9, 30, &y, nil, 0, &cycles, &converged, &factor) == Self.nonFinite)
        #expect(Self.lastError().contains("index 5"))
        // wrong length, NULL outputs
        #expect(pdb_mg_solve(h, b, nil, Int64(n - 1), 1e-9, 30, &y, nil, 0, &cycles, &converged, &factor) == Self.invalid)
        #expect(pdb_mg_solve(h, b, nil, Int64(n), 1e-9, 30, nil, nil, 0, &cycles, &converged, &factor) == Self.null)
        #expect(y == [Double](repeating: 7, count: n))
    }

    @Test("a tolerance below the rounding floor returns PDB_OK with converged = 0")
    func nonConvergence() {
        let n = 255
        let h = Self.createHierarchy(Self.poisson(n), n: n)
        defer { _ = pdb_mg_destroy(h) }
        let b = [Double](repeating: 1, count: n)
        var x = [Double](repeating: 0, count: n)
        var cycles: Int64 = 0, converged: Int32 = 1, factor = 0.0
        #expect(pdb_mg_solve(h, b, nil, Int64(n), 1e-19, 9, &x, nil, 0, &cycles, &converged, &factor) == Self.ok)
        #expect(converged == 0 && cycles == 9)
    }

    @Test("U-net cycle through C: channel x equals pdb_mg_cycle, channel b is b")
    func unetCycle() {
        let n = 100
        var band = [Double](repeating: 0, count: 3 * n)
        _ = pdb_poisson_1d(Int64(n), 0.01, &band)
        for cycle: Int32 in 0...2 {
            let h = Self.createHierarchy(band, n: n, cycle: cycle)
            var rng = TestRandomABI(UInt64(cycle) + 1)
            let x = (0..<n).map { _ in rng.uniform() }, b = (0..<n).map { _ in rng.uniform() }
            var out = [Double](repeating: 0, count: 3 * n), classical = [Double](repeating: 0, count: n)
            #expect(pdb_mg_unet_cycle(h, x, b, Int64(n), &out) == Self.ok)
            #expect(pdb_mg_cycle(h, x, b, 1, Int64(n), &classical) == Self.ok)
            let scale = classical.map { abs($0) }.max()!
            #expect(zip(out[0..<n], classical).allSatisfy { abs($0 - $1) <= 1e-12 * scale })
            #expect(Array(out[n..<(2 * n)]) == b)
            _ = pdb_mg_destroy(h)
        }
    }

    @Test("banded solve, matvec and constructors validate their input")
    func bandedEntryPoints() {
        let n = 50
        let band = Self.poisson(n)
        var rng = TestRandomABI(9)
        let b = (0..<(2 * n)).map { _ in rng.uniform() }
        var x = [Double](repeating: 0, count: 2 * n), y = x
        var strategy: Int32 = -1
        #expect(pdb_banded_solve(Int64(n), 1, 1, band, b, 2, &x, &strategy) == Self.ok)
        #expect(strategy == 0)
        #expect(pdb_banded_matvec(Int64(n), 1, 1, band, x, 2, &y) == Self.ok)
        #expect(zip(y, b).allSatisfy { abs($0 - $1) < 1e-9 })
        // hostile sizes and NULLs
        #expect(pdb_banded_matvec(Int64.max, 1, 1, band, x, 1, &y) == Self.invalid)
        #expect(pdb_banded_matvec(Int64(n), 1, 1, band, x, Int64.max, &y) == Self.invalid)
        #expect(pdb_banded_matvec(Int64(n), Int64(n), 1, band, x, 1, &y) == Self.invalid)
        #expect(pdb_banded_matvec(Int64(n), 1, 1, nil, x, 1, &y) == Self.null)
        #expect(pdb_banded_solve(Int64(n), -1, 1, band, b, 1, &x, nil) == Self.invalid)
        // a nonzero slot outside the matrix, a NaN inside it
        var outside = band
        outside[0] = 1
        #expect(pdb_banded_solve(Int64(n), 1, 1, outside, b, 1, &x, nil) == Self.invalid)
        #expect(pdb_banded_matvec(Int64(n), 1, 1, outside, x, 1, &y) == Self.invalid)
        #expect(Self.lastError().contains("outside the matrix"))
        var nan = band
        nan[4] = .nan
        let before = x
        #expect(pdb_banded_solve(Int64(n), 1, 1, nan, b, 1, &x, nil) == Self.nonFinite)
        #expect(x == before)
        #expect(pdb_banded_matvec(Int64(n), 1, 1, nan, x, 1, &y) == Self.nonFinite)
        // a singular matrix
        var singular = band
        for i in 0..<n { singular[3 * i + 1] = 0; singular[3 * i] = 0; singular[3 * i + 2] = 0 }
        #expect(pdb_banded_solve(Int64(n), 1, 1, singular, b, 1, &x, nil) == Self.invalid)
        #expect(Self.lastError().contains("singular"))
        // diffusion system
        let stencil: [Double] = [-1, 1]
        var k: Int64 = -1
        #expect(pdb_diffusion_system_bandwidth(stencil, 2, 0, Int64(n), &k) == Self.ok && k == 1)
        var A = [Double](repeating: 0, count: 3 * n)
        let w = [Double](repeating: 1, count: n)
        #expect(pdb_diffusion_system(stencil, 2, 0, w, Int64(n), 0.5, &A, Int64(3 * n)) == Self.ok)
        #expect(A[1] == 1.5 && A[4] == 2 && A[3] == -0.5)
        #expect(pdb_diffusion_system(stencil, 2, 0, w, Int64(n), 0.5, &A, 7) == Self.invalid)
        var negative = w
        negative[3] = -1
        #expect(pdb_diffusion_system(stencil, 2, 0, negative, Int64(n), 0.5, &A, Int64(3 * n)) == Self.invalid)
        #expect(pdb_poisson_1d(0, 0.1, &A) == Self.invalid)
    }

    @Test("hierarchy creation refuses bad options with a message")
    func createValidation() {
        let n = 31
        let band = Self.poisson(n)
        var h: OpaquePointer? = nil
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 9, 0, 2, 2, 0, 0, 3, 0, &h) == Self.invalid)
        #expect(Self.lastError().contains("smoother"))
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, 2, 2, 7, 0, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, 2, 2, 0, 9, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 5, 1, 0, 2, 2, 0, 0, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, .nan, 2, 2, 0, 0, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, 0, 0, 0, 0, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, Int64.max, 2, 0, 0, 3, 0, &h) == Self.invalid)
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, 2, 2, 0, 0, 31, 0, &h) == Self.invalid)
        #expect(Self.lastError().contains("too small"))
        #expect(pdb_mg_create(Int64(n), 1, 1, band, 1, 1, 0, 2, 2, 0, 0, 3, 0, nil) == Self.null)
        #expect(h == nil)
    }

    @Test("level matrices and transfers through C")
    func levels() {
        let n = 31
        let h = Self.createHierarchy(Self.poisson(n), n: n)
        defer { _ = pdb_mg_destroy(h) }
        var kl: Int64 = 0, ku: Int64 = 0
        #expect(pdb_mg_level_matrix(h, 1, &kl, &ku, nil, 0) == Self.ok && kl == 1 && ku == 1)
        var coarse = [Double](repeating: 0, count: 45)
        #expect(pdb_mg_level_matrix(h, 1, &kl, &ku, &coarse, 45) == Self.ok)
        #expect(abs(coarse[4] - 2 * 16 * 16) < 1e-9)  // Poisson with H = 1/16
        #expect(pdb_mg_level_matrix(h, 9, &kl, &ku, nil, 0) == Self.invalid)
        var fine = [Double](repeating: 0, count: 31)
        let e = [Double](repeating: 1, count: 15)
        #expect(pdb_mg_prolong(h, 0, e, 15, &fine, 31) == Self.ok)
        #expect(fine[0] == 0.5 && fine[1] == 1 && fine[2] == 1)
        #expect(pdb_mg_prolong(h, 0, e, 14, &fine, 31) == Self.invalid)
        var c = [Double](repeating: 0, count: 15)
        #expect(pdb_mg_restrict(h, 0, fine, 31, &c, 15) == Self.ok)
        #expect(pdb_mg_restrict(h, 4, fine, 31, &c, 15) == Self.invalid)
    }

    @Test("CG and semi-implicit through C")
    func cgAndSemiImplicit() {
        let n = 63
        let band = Self.poisson(n)
        let h = Self.createHierarchy(band, n: n)
        defer { _ = pdb_mg_destroy(h) }
        let b = [Double](repeating: 1, count: n)
        var x = [Double](repeating: 0, count: n)
        var history = [Double](repeating: 0, count: 51)
        var its: Int64 = 0, converged: Int32 = 0
        #expect(pdb_cg(Int64(n), 1, 1, band, b, nil, h, 1e-10, 50, &x, &history, 51, &its, &converged) == Self.ok)
        #expect(converged == 1 && its <= 10)
        let forward = Self.createHierarchy(band, n: n, smoother: 2)
        #expect(pdb_cg(Int64(n), 1, 1, band, b, nil, forward, 1e-10, 50, &x, nil, 0, &its, &converged) == Self.invalid)
        _ = pdb_mg_destroy(forward)

        let f = (0..<n).map { Double($0 % 10 < 5 ? 0 : 1) }
        var direct = [Double](repeating: 0, count: n), mg = direct
        let K: [Double] = [-1, 1]
        var cycles: Int64 = -1
        #expect(pdb_semi_implicit(f, 1, Int64(n), K, 2, 0, 1, 1.0, 50, 3, 0, 0, 0, &cycles, &direct) == Self.ok)
        #expect(cycles == 0)
        #expect(pdb_semi_implicit(f, 1, Int64(n), K, 2, 0, 1, 1.0, 50, 3, 1, 1e-11, 50, &cycles, &mg) == Self.ok)
        #expect(cycles > 0 && zip(direct, mg).allSatisfy { abs($0 - $1) < 1e-9 })
        var untouched = [Double](repeating: 5, count: n)
        #expect(pdb_semi_implicit(f, 1, Int64(n), K, 2, 0, 1, 1.0, 50, 3, 1, 1e-30, 2, nil, &untouched) == Self.notConverged)
        #expect(untouched == [Double](repeating: 5, count: n))
        #expect(pdb_semi_implicit(f, 1, Int64(n), K, 2, 0, 1, 1.0, 50, 3, 7, 1e-11, 50, nil, &untouched) == Self.invalid)
    }

    @Test("two-level U-net through C: block packing and validation")
    func unet() {
        let kinds: [Int32] = [1, 0, 1]
        let lengths: [Int64] = [2, 3, 2]
        let offsets: [Int64] = [0, -1, 0]
        let weights: [Double] = [-1, 1, 0.25, 0.5, 0.25, -1, 1]
        let gs: [Int32] = [1, 0, 1], lambdas = [0.5, 1, 0.5], taus = [0.2, 0, 0.1]
        var h: OpaquePointer? = nil
        #expect(pdb_unet2_create(3, kinds, lengths, offsets, weights, gs, lambdas, taus, 1, 1, 2, &h) == Self.ok, "\(Self.lastError())")
        defer { _ = pdb_unet2_destroy(h) }
        let f = (0..<24).map { Double($0 % 7) / 7 }
        var out = [Double](repeating: 0, count: 24)
        #expect(pdb_unet2_forward(h, f, 2, 12, &out) == Self.ok)
        let D = try! Stencil(weights: [-1, 1]), g = try! Diffusivity(.peronaMalik, lambda: 0.5)
        let net = try! TwoLevelUNet(pre: [.diffusion(D, g, tau: 0.2)], coarse: [.stencil(try! Stencil(weights: [0.25, 0.5, 0.25], offset: -1))],
                                    post: [.diffusion(D, g, tau: 0.1)])
        #expect(Array(out[0..<12]) == (try! net.forward(Array(f[0..<12]))))
        var bad: OpaquePointer? = nil
        #expect(pdb_unet2_create(3, kinds, lengths, offsets, weights, gs, lambdas, taus, 2, 2, 2, &bad) == Self.invalid)
        #expect(pdb_unet2_create(3, [1, 0, 5], lengths, offsets, weights, gs, lambdas, taus, 1, 1, 2, &bad) == Self.invalid)
        #expect(pdb_unet2_create(3, kinds, lengths, offsets, weights, nil, lambdas, taus, 1, 1, 2, &bad) == Self.null)
        #expect(pdb_unet2_create(3, kinds, [2, 0, 2], offsets, weights, gs, lambdas, taus, 1, 1, 2, &bad) == Self.invalid)
        #expect(pdb_unet2_create(3, kinds, lengths, offsets, weights, gs, lambdas, taus, 1, 1, 3, &bad) == Self.invalid)
        #expect(bad == nil)
        #expect(pdb_unet2_forward(h, f, 1, 1, &out) == Self.invalid)
    }
}

/// SplitMix64 for test data.
struct TestRandomABI {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
