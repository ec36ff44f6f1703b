import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PDEBlocksABI
import PDEBlocks

private func lastError() -> String { String(cString: pdb_last_error()) }
private func string(_ a: [CChar]) -> String { a.withUnsafeBufferPointer { String(cString: $0.baseAddress!) } }

/// A small network through the C entry points: a diffusion block with a built-in and a
/// learnable filter, an FSI block, and a residual block in diffusion form.
private func makeNetwork() -> OpaquePointer? {
    var net: OpaquePointer? = nil
    #expect(pdb_network_create(&net) == 0)
    #expect(pdb_network_add_diffusion(net, 0.1, 0) == 0)
    #expect(pdb_network_add_filter(net, [-1, 1], 2, 0, 1, 0.3) == 0)
    #expect(pdb_network_add_learnable_filter(net, [0.5, -1, 0.5], 3, -1, [0.3, 0.4], [0.2, 1.0], 2) == 0)
    #expect(pdb_network_add_fsi(net, 0.9, 1, 3) == 0)
    #expect(pdb_network_add_filter(net, [-1, 1], 2, 0, 0, 1) == 0)
    #expect(pdb_network_add_residual(net, 3, 3, 0.5, 0.05, 0, 0, 1, 0, 0) == 0)
    #expect(pdb_network_add_residual_channel(net, [-1, 1], 2, 0, [1, -1], 2, 0, 1, 0) == 0)
    return net
}

@Suite(.serialized) struct LayersABITests {
    @Test("build, run forward/backward, get/set parameters, certify, destroy")
    func lifecycle() throws {
        let net = makeNetwork()
        var blocks: Int64 = 0, count: Int64 = 0
        #expect(pdb_network_block_count(net, &blocks) == 0 && blocks == 3)
        #expect(pdb_network_parameter_count(net, &count) == 0)
        // 2 + 3 weights, log λ, 4 mixture parameters, τ | 2 weights, θ | 2 + 2 weights, b1, b2, log λ
        #expect(count == 11 + 3 + 7)
        var kind: Int32 = -1, offset: Int64 = -1, pc: Int64 = -1
        #expect(pdb_network_block_info(net, 1, &kind, &offset, &pc) == 0 && kind == 2 && offset == 11 && pc == 3)

        let batch: Int64 = 3, n: Int64 = 16
        let x = (0..<48).map { sin(Double($0)) }
        var y = [Double](repeating: 0, count: 48), gx = y
        var gp = [Double](repeating: 0, count: Int(count))
        #expect(pdb_network_forward(net, x, batch, n, 0, &y) == 0)
        #expect(pdb_network_backward(net, x, batch, n, &gx, &gp, count) == 0)
        #expect(gp.contains { $0 != 0 } && gx.contains { $0 != 0 })

        var p = [Double](repeating: 0, count: Int(count))
        #expect(pdb_network_get_parameters(net, &p, count) == 0)
        #expect(pdb_network_set_parameters(net, p, count) == 0)
        // Setting parameters drops the record of the forward pass.
        #expect(pdb_network_backward(net, x, batch, n, &gx, &gp, count) == Status.invalidArgument.rawValue)
        #expect(lastError().contains("no recorded forward pass"))

        var certified: Int32 = -1, failure: Int64 = -2
        #expect(pdb_network_certificate(net, n, &certified, &failure) == 0)
        #expect(certified == 1 && failure == -1)
        var tau = 0.0, bound = 0.0, boundL = 0.0, length: Int64 = 0
        #expect(pdb_network_block_certificate(net, 0, n, &certified, &tau, &bound, &boundL, nil, 0, &length) == 0)
        var text = [CChar](repeating: 0, count: Int(length) + 1)
        #expect(pdb_network_block_certificate(net, 0, n, &certified, &tau, &bound, &boundL, &text, length + 1, &length) == 0)
        #expect(string(text).contains("Theorem 2") && tau == 0.1 && bound > tau)
        var small = [CChar](repeating: 1, count: 8)
        #expect(pdb_network_block_certificate(net, 0, n, &certified, &tau, &bound, &boundL, &small, 8, &length) == 0)
        #expect(small[7] == 0 && length > 8)

        #expect(pdb_network_destroy(net) == 0)
        #expect(pdb_network_destroy(net) == Status.invalidHandle.rawValue)
        #expect(pdb_network_forward(net, x, batch, n, 0, &y) == Status.invalidHandle.rawValue)
    }

    @Test("inference flag: same output, nothing recorded; threads do not change results")
    func inferenceAndThreads() {
        let net = makeNetwork()
        defer { _ = pdb_network_destroy(net) }
        let x = (0..<(70 * 12)).map { cos(0.3 * Double($0)) }
        var a = [Double](repeating: 0, count: x.count), b = a
        #expect(pdb_network_set_threads(net, 1) == 0)
        #expect(pdb_network_forward(net, x, 70, 12, 0, &a) == 0)
        #expect(pdb_network_set_threads(net, 2) == 0)
        #expect(pdb_network_forward(net, x, 70, 12, 1, &b) == 0)
        #expect(a == b)
        #expect(pdb_network_set_threads(net, -1) == Status.invalidArgument.rawValue)
    }

    @Test("bad arguments give status codes and messages, and write nothing")
    func badArguments() {
        let net = makeNetwork()
        defer { _ = pdb_network_destroy(net) }
        var out = [Double](repeating: 7, count: 4)
        #expect(pdb_network_forward(net, nil, 1, 4, 0, &out) == Status.nullPointer.rawValue)
        #expect(lastError() == "x is NULL")
        #expect(pdb_network_forward(net, [1, 2, 3, 4], 1, 4, 4, &out) == Status.invalidArgument.rawValue)
        #expect(pdb_network_forward(net, [1, 2, .nan, 4], 1, 4, 0, &out) == Status.nonFinite.rawValue)
        #expect(pdb_network_forward(net, [1, 2, 3, 4], -1, 4, 0, &out) == Status.invalidArgument.rawValue)
        #expect(pdb_network_forward(net, [1, 2, 3, 4], 1 << 40, 1 << 40, 0, &out) == Status.invalidArgument.rawValue)
        #expect(pdb_network_forward(net, [1, 2, 3, 4], 4, 1, 0, &out) == Status.invalidArgument.rawValue)
        #expect(out == [7, 7, 7, 7])
        #expect(pdb_network_add_filter(net, [1, 2], 2, 0, 1, 0.5) == Status.invalidArgument.rawValue)
        #expect(lastError().contains("residual"))
        #expect(pdb_network_add_residual_channel(nil, [1], 1, 0, [1], 1, 0, 0, 0) == Status.invalidHandle.rawValue)
        #expect(pdb_network_add_learnable_filter(net, [1], 1, 0, [0.7, 0.5], [1, 1], 2) == Status.invalidArgument.rawValue)
        #expect(pdb_network_add_fsi(net, 0.1, 7, 3) == Status.invalidArgument.rawValue)
        #expect(pdb_network_add_diffusion(net, 1.5, 1) == Status.invalidArgument.rawValue)
        #expect(pdb_network_add_residual(net, 9, 0, 1, 0, 0, 0, 1, 0, 0) == Status.invalidArgument.rawValue)
        var count: Int64 = 0
        #expect(pdb_network_parameter_count(net, &count) == 0)
        var p = [Double](repeating: 0, count: Int(count))
        #expect(pdb_network_get_parameters(net, &p, count + 1) == Status.invalidArgument.rawValue)
        #expect(pdb_network_set_parameters(net, p, count - 1) == Status.invalidArgument.rawValue)
        var kind: Int32 = 0, off: Int64 = 0, pc: Int64 = 0
        #expect(pdb_network_block_info(net, 3, &kind, &off, &pc) == Status.invalidArgument.rawValue)
        var c: Int32 = 0, f: Int64 = 0
        #expect(pdb_network_certificate(net, 1, &c, &f) == Status.invalidArgument.rawValue)
        var changed: Int64 = 0
        #expect(pdb_network_project_stable(net, 16, 0, &changed) == Status.invalidArgument.rawValue)
        // An empty block cannot run.
        var empty: OpaquePointer? = nil
        #expect(pdb_network_create(&empty) == 0)
        #expect(pdb_network_add_diffusion(empty, 0.1, 0) == 0)
        #expect(pdb_network_forward(empty, [1, 2, 3, 4], 1, 4, 0, &out) == Status.invalidArgument.rawValue)
        #expect(lastError().contains("no filters"))
        #expect(pdb_network_destroy(empty) == 0)
    }

    @Test("save → load gives a bit-identical network; corrupted and truncated files fail with PDB_ERR_IO")
    func files() throws {
        let net = makeNetwork()
        defer { _ = pdb_network_destroy(net) }
        let path = "/tmp/pdeblocks-abi-\(getpid()).pdbnet"
        defer { unlink(path) }
        #expect(pdb_network_save(net, path) == 0)
        var loaded: OpaquePointer? = nil
        #expect(pdb_network_load(path, &loaded) == 0)
        defer { _ = pdb_network_destroy(loaded) }
        let x = (0..<32).map { Double($0 % 5) }
        var a = [Double](repeating: 0, count: 32), b = a
        #expect(pdb_network_forward(net, x, 2, 16, 0, &a) == 0)
        #expect(pdb_network_forward(loaded, x, 2, 16, 0, &b) == 0)
        #expect(a == b)

        guard let f = fopen(path, "r+b") else { Issue.record("cannot reopen"); return }
        fseek(f, 40, SEEK_SET)
        var byte: UInt8 = 0
        fread(&byte, 1, 1, f)
        byte ^= 0x40
        fseek(f, 40, SEEK_SET)
        fwrite(&byte, 1, 1, f)
        fclose(f)
        var bad: OpaquePointer? = nil
        #expect(pdb_network_load(path, &bad) == Status.io.rawValue)
        #expect(lastError().contains("checksum"))
        #expect(truncate(path, 30) == 0)
        #expect(pdb_network_load(path, &bad) == Status.io.rawValue)
        #expect(lastError().contains("truncated"))
        #expect(pdb_network_load("/nonexistent/dir/x", &bad) == Status.io.rawValue)
        #expect(bad == nil)
    }

    @Test("describe writes a size-queried, NUL-terminated text")
    func describe() {
        let net = makeNetwork()
        defer { _ = pdb_network_destroy(net) }
        var length: Int64 = 0
        #expect(pdb_network_describe(net, nil, 0, &length) == 0 && length > 0)
        var text = [CChar](repeating: 0, count: Int(length) + 1)
        #expect(pdb_network_describe(net, &text, length + 1, &length) == 0)
        let s = string(text)
        #expect(s.contains("[0] diffusion") && s.contains("[1] fsi(L=3)") && s.contains("[2] residual"))
        #expect(pdb_network_describe(net, nil, 5, &length) == Status.nullPointer.rawValue)
    }
}
