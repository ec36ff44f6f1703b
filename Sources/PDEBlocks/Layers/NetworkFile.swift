/// The network file format (version 2; version 1 files still load). All integers and floats little-endian; floats are
/// IEEE-754 binary64 stored bit-exactly, so save → load reproduces every parameter (and
/// hence every output) bit for bit.
///
///     offset  size  field
///     0       8     magic "PDBNETv\0" (50 44 42 4E 45 54 76 00)
///     8       4     u32 format version (2; 1 is read too)
///     12      4     u32 reserved (0)
///     16      8     u64 payload length P in bytes
///     24      P     payload (below)
///     24+P    8     u64 checksum: FNV-1a 64 of bytes [0, 24+P)
///
/// Payload of version 2: `u32 network type` — 0: a signal `Network`, followed by the
/// version-1 payload below; 1: an `ImageNetwork`, followed by `u32 blockCount` and each block
/// as `u32 kind` (`ImageBlockKind`) and its record (`DiffusionBlock2D`, `ResidualBlock2D`:
/// see their `encode(to:)`). Version 1 has no network type: its payload is the signal
/// network's.
///
/// Signal network payload: `u32 blockCount`, then each block as `u32 kind` (`BlockKind`) followed by
///
///     diffusion / fsi / implicit:
///         u32 L (1 for diffusion; cycle length; iterations)
///         u32 step mode (0 free τ, 1 bounded) · f64 step parameter (τ or θ)
///         u32 C · C × { stencil · diffusivity }
///     residual:
///         u32 C · f64 b2 · activation σ1 · activation σ2
///         C × { stencil W1 · stencil W2 · u32 W2 mode (0 convolution, 1 transposed) · f64 b1 }
///     stencil:      i64 offset · u32 q · q × f64 weight
///     diffusivity:  u32 code: 0…4 built-in kind · f64 log λ
///                             100 learnable · u32 J · J × f64 α · J × f64 ρ
///                             101 RBF · u32 J · J × f64 c · f64 b · f64 ρ
///
/// The RBF code came later within version 2 (no version bump: every file without it is
/// byte-for-byte what it was, and a library predating it refuses a file using it with
/// "unknown diffusivity code 101").
///     activation:   u32 kind (0 identity, 1 relu, 2 tanh, 3 flux) · [flux: f64 τ · diffusivity]
///
/// Each block type writes and reads its own record (`NetworkBlock.encode(to:)` and
/// `decode(from:index:)`, chosen by `BlockKind.blockType`), so a new block type must define
/// both to compile; `NetworkFileFormatTests` pins the bytes of a file holding every kind.
///
/// Reading checks the magic, version, length and checksum before parsing, and every
/// value again through the constructors: a truncated, corrupted or foreign file is a
/// `PDEBlocksError.io` naming the problem, never a crash.
public enum NetworkFile {
    public static let magic: [UInt8] = Array("PDBNETv".utf8) + [0]
    public static let version: UInt32 = 2
    /// The oldest version this library reads.
    public static let oldestVersion: UInt32 = 1
    /// The network types of a version-2 payload.
    static let signalType: UInt32 = 0, imageType: UInt32 = 1

    /// What a file holds.
    public enum Content: Sendable {
        case signal(Network)
        case image(ImageNetwork)
    }
    static let learnableCode: UInt32 = 100, rbfCode: UInt32 = 101
    static let headerSize = 24
    /// The largest file accepted (1 GiB).
    public static let maxFileSize = 1 << 30

    // MARK: Encoding

    /// The file's bytes (current version): each block writes its own record
    /// (`NetworkBlock.encode(to:)`).
    public static func encode(_ network: Network) throws -> [UInt8] { try encode(network, version: version) }

    /// The bytes of `network` in format `version` (1 or 2; version 1 is what earlier
    /// releases wrote, kept to test that such files load).
    static func encode(_ network: Network, version: UInt32) throws -> [UInt8] {
        var w = Writer()
        if version >= 2 { w.u32(signalType) }
        w.u32(UInt32(network.blocks.count))
        for block in network.blocks {
            w.u32(UInt32(block.kind.rawValue))
            block.encode(to: &w)
        }
        return frame(w.bytes, version: version)
    }

    /// The file's bytes for an image network (version 2).
    public static func encode(_ network: ImageNetwork) throws -> [UInt8] {
        var w = Writer()
        w.u32(imageType)
        w.u32(UInt32(network.blocks.count))
        for block in network.blocks {
            w.u32(UInt32(block.kind.rawValue))
            block.encode(to: &w)
        }
        return frame(w.bytes, version: version)
    }

    /// Header, payload and checksum.
    static func frame(_ payload: [UInt8], version: UInt32) -> [UInt8] {
        var out = Writer()
        out.bytes.append(contentsOf: magic)
        out.u32(version)
        out.u32(0)
        out.u64(UInt64(payload.count))
        out.bytes.append(contentsOf: payload)
        out.u64(fnv1a(out.bytes[...]))
        return out.bytes
    }

    static func encodeStep(_ b: DiffusionBlock, L: Int, _ w: inout Writer) {
        w.u32(UInt32(L))
        w.u32(UInt32(b.step.mode.rawValue))
        w.f64(b.step.parameter)
        w.u32(UInt32(b.filters.count))
        for (K, g) in zip(b.filters, b.diffusivities) {
            encode(K, &w)
            encode(g, &w)
        }
    }

    static func encode(_ K: Stencil, _ w: inout Writer) {
        w.u64(UInt64(bitPattern: Int64(K.offset)))
        w.u32(UInt32(K.count))
        for x in K.weights { w.f64(x) }
    }

    static func encode(_ g: ChannelDiffusivity, _ w: inout Writer) {
        switch g {
        case .builtin(let d, let r):
            w.u32(UInt32(d.kind.rawValue))
            w.f64(r)
        case .learnable(let m):
            w.u32(learnableCode)
            w.u32(UInt32(m.count))
            for x in m.logits { w.f64(x) }
            for x in m.logContrasts { w.f64(x) }
        case .rbf(let r):
            w.u32(rbfCode)
            w.u32(UInt32(r.count))
            for x in r.coefficients + [r.bias, r.logScale] { w.f64(x) }
        }
    }

    static func encode(_ a: Activation, _ w: inout Writer) {
        w.u32(UInt32(a.kind.rawValue))
        if case .flux(let g, let tau) = a {
            w.f64(tau)
            encode(g, &w)
        }
    }

    // MARK: Decoding

    /// A signal network's file (version 1 or 2); an image network's file is refused, naming
    /// `ImageNetwork.load`.
    public static func decode(_ bytes: [UInt8]) throws -> Network {
        switch try decodeContent(bytes) {
        case .signal(let n): return n
        case .image: throw PDEBlocksError.io("the file holds an image network: load it as an image network (ImageNetwork.load, pdb_image_network_load)")
        }
    }

    /// An image network's file; a signal network's file is refused, naming `Network.load`.
    public static func decodeImage(_ bytes: [UInt8]) throws -> ImageNetwork {
        switch try decodeContent(bytes) {
        case .image(let n): return n
        case .signal: throw PDEBlocksError.io("the file holds a signal network, not an image network: load it with Network.load (pdb_network_load)")
        }
    }

    /// The network a file holds, after checking magic, version, length and checksum.
    public static func decodeContent(_ bytes: [UInt8]) throws -> Content {
        guard bytes.count >= headerSize + 8 else {
            throw PDEBlocksError.io("not a network file: truncated (\(bytes.count) bytes, the header alone needs \(headerSize + 8))")
        }
        guard Array(bytes[0..<8]) == magic else { throw PDEBlocksError.io("not a network file (bad magic number)") }
        var h = Reader(bytes: bytes[8..<headerSize])
        let v = try h.u32()
        guard (oldestVersion...version).contains(v) else {
            throw PDEBlocksError.io("unsupported network file version \(v) (this library reads versions \(oldestVersion)...\(version))")
        }
        _ = try h.u32()
        let length = try h.u64()
        guard length == UInt64(bytes.count - headerSize - 8) else {
            throw PDEBlocksError.io(length > UInt64(bytes.count - headerSize - 8)
                ? "network file is truncated: payload of \(length) bytes announced, \(bytes.count - headerSize - 8) present"
                : "network file has \(UInt64(bytes.count - headerSize - 8) - length) trailing bytes")
        }
        let end = bytes.count - 8
        var c = Reader(bytes: bytes[end...])
        guard try c.u64() == fnv1a(bytes[0..<end]) else { throw PDEBlocksError.io("network file is corrupted (checksum mismatch)") }
        var r = Reader(bytes: bytes[headerSize..<end])
        do {
            let type = v >= 2 ? try r.u32() : signalType
            let content: Content
            switch type {
            case signalType: content = .signal(try decodePayload(&r))
            case imageType: content = .image(try decodeImagePayload(&r))
            default: throw PDEBlocksError.io("unknown network type \(type) (0 signal network, 1 image network)")
            }
            guard r.remaining == 0 else { throw PDEBlocksError.io("\(r.remaining) unread bytes after the last block") }
            return content
        } catch let e as PDEBlocksError {
            if case .io = e { throw e }
            throw PDEBlocksError.io("network file has invalid content: \(e.message)")
        }
    }

    static func decodeImagePayload(_ r: inout Reader) throws -> ImageNetwork {
        let count = try r.count(max: 1 << 20, "block count")
        var net = ImageNetwork()
        for k in 0..<count {
            let code = try r.u32()
            guard code <= Int32.max, let kind = ImageBlockKind(rawValue: Int32(code)) else {
                throw PDEBlocksError.io("image block \(k) has unknown kind \(code)")
            }
            net.append(try kind.blockType.decode(from: &r, index: k))
        }
        return net
    }

    static func decodePayload(_ r: inout Reader) throws -> Network {
        let count = try r.count(max: 1 << 20, "block count")
        var net = Network()
        for k in 0..<count {
            let code = try r.u32()
            guard code <= Int32.max, let kind = BlockKind(rawValue: Int32(code)) else {
                throw PDEBlocksError.io("block \(k) has unknown kind \(code)")
            }
            // the decoder keyed by kind: the kind's type reads its own record
            net.append(try kind.blockType.decode(from: &r, index: k))
        }
        return net
    }

    /// The record shared by diffusion, FSI and implicit blocks: `L`, the step size and the
    /// filters with their diffusivities (the block's `step`).
    static func decodeStep(_ r: inout Reader, index k: Int) throws -> (L: Int, step: DiffusionBlock) {
        let L = try r.count(max: max(FSIBlock.maxCycleLength, ImplicitBlock.maxIterations), "cycle length")
        let modeCode = try r.u32()
        guard modeCode <= Int32.max, let mode = StepSize.Mode(rawValue: Int32(modeCode)) else {
            throw PDEBlocksError.io("block \(k) has unknown step mode \(modeCode)")
        }
        let parameter = try r.f64()
        let step: StepSize = mode == .free ? .free(parameter) : .bounded(theta: parameter)
        let C = try r.count(max: DiffusionBlock.maxFilters, "filter count")
        var filters = [Stencil](), diffusivities = [ChannelDiffusivity]()
        for _ in 0..<C {
            filters.append(try decodeStencil(&r))
            diffusivities.append(try decodeDiffusivity(&r))
        }
        return (L, try DiffusionBlock(filters: filters, diffusivities: diffusivities, step: step))
    }

    static func decodeStencil(_ r: inout Reader) throws -> Stencil {
        let offset = Int64(bitPattern: try r.u64())
        let q = try r.count(max: 1 << 20, "stencil length")
        var w = [Double]()
        w.reserveCapacity(q)
        for _ in 0..<q { w.append(try r.f64()) }
        return try Stencil(weights: w, offset: Int(offset))
    }

    static func decodeDiffusivity(_ r: inout Reader) throws -> ChannelDiffusivity {
        let code = try r.u32()
        if code == learnableCode {
            let J = try r.count(max: LearnableDiffusivity.maxTerms, "mixture size")
            var a = [Double](), b = [Double]()
            for _ in 0..<J { a.append(try r.f64()) }
            for _ in 0..<J { b.append(try r.f64()) }
            return .learnable(try LearnableDiffusivity(logits: a, logContrasts: b))
        }
        if code == rbfCode {
            let J = try r.count(max: RBFDiffusivity.maxTerms, "RBF size")
            var c = [Double]()
            for _ in 0..<J { c.append(try r.f64()) }
            let (b, rho) = (try r.f64(), try r.f64())
            return .rbf(try RBFDiffusivity(coefficients: c, bias: b, logScale: rho))
        }
        guard code <= Int32.max, let kind = DiffusivityKind(rawValue: Int32(code)) else {
            throw PDEBlocksError.io("unknown diffusivity code \(code)")
        }
        return try ChannelDiffusivity(kind: kind, logLambda: try r.f64())
    }

    static func decodeActivation(_ r: inout Reader) throws -> Activation {
        let code = try r.u32()
        guard code <= Int32.max, let kind = ActivationKind(rawValue: Int32(code)) else {
            throw PDEBlocksError.io("unknown activation kind \(code)")
        }
        switch kind {
        case .identity: return .identity
        case .relu: return .relu
        case .tanh: return .tanh
        case .flux:
            let tau = try r.f64()
            try Check.finite(tau, "activation tau")
            return .flux(try decodeDiffusivity(&r), tau: tau)
        }
    }

    // MARK: Files

    /// Writes the network to `path` atomically (`AtomicFile.write`): a reader sees the old
    /// file or the new one, complete; symbolic links are followed; a path that exists and is
    /// not a regular file is refused.
    public static func save(_ network: Network, to path: FileSystemPath) throws {
        try AtomicFile.write(try encode(network), to: path)
    }

    /// Reads a network from the regular file at `path`.
    public static func load(from path: FileSystemPath) throws -> Network {
        let bytes = try AtomicFile.read(from: path, limit: maxFileSize)
        do { return try decode(bytes) } catch let e as PDEBlocksError { throw PDEBlocksError.io("'\(path)': \(e.message)") }
    }

    /// FNV-1a, 64 bit.
    static func fnv1a(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// Appends little-endian values (a block's `encode(to:)` writes its record with it).
    public struct Writer {
        public internal(set) var bytes: [UInt8] = []
        init() {}
        public mutating func u32(_ v: UInt32) { for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * i))) } }
        public mutating func u64(_ v: UInt64) { for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        public mutating func f64(_ v: Double) { u64(v.bitPattern) }
    }

    /// Reads little-endian values, throwing `.io` at the end of the data (a block type's
    /// `decode(from:index:)` reads its record with it).
    public struct Reader {
        let bytes: ArraySlice<UInt8>
        var position: Int
        init(bytes: ArraySlice<UInt8>) { self.bytes = bytes; position = bytes.startIndex }
        var remaining: Int { bytes.endIndex - position }

        mutating func take(_ k: Int) throws -> ArraySlice<UInt8> {
            guard remaining >= k else {
                throw PDEBlocksError.io("network file is truncated at byte \(position) (needed \(k) more bytes)")
            }
            defer { position += k }
            return bytes[position..<(position + k)]
        }
        public mutating func u32() throws -> UInt32 {
            try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) }
        }
        public mutating func u64() throws -> UInt64 {
            try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        public mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
        public mutating func count(max: Int, _ what: String) throws -> Int {
            let v = try u32()
            guard v <= UInt32(max) else { throw PDEBlocksError.io("\(what) \(v) exceeds \(max)") }
            return Int(v)
        }
    }
}

extension ImageNetwork {
    /// Saves to the documented binary format (`NetworkFile`, version 2), atomically.
    public func save(to path: FileSystemPath) throws { try AtomicFile.write(try NetworkFile.encode(self), to: path) }
    /// Loads an image network saved by `save(to:)`.
    public static func load(from path: FileSystemPath) throws -> ImageNetwork {
        let bytes = try AtomicFile.read(from: path, limit: NetworkFile.maxFileSize)
        do { return try NetworkFile.decodeImage(bytes) } catch let e as PDEBlocksError { throw PDEBlocksError.io("'\(path)': \(e.message)") }
    }
    public func save(to path: String) throws { try save(to: try FileSystemPath(path)) }
    public static func load(from path: String) throws -> ImageNetwork { try load(from: try FileSystemPath(path)) }
}

extension Network {
    /// Saves to the documented binary format (`NetworkFile`), atomically (`AtomicFile`).
    public func save(to path: FileSystemPath) throws { try NetworkFile.save(self, to: path) }
    /// Loads a network saved by `save(to:)`.
    public static func load(from path: FileSystemPath) throws -> Network { try NetworkFile.load(from: path) }
    /// `save(to:)` for a path given as text (its UTF-8 bytes; a NUL character is refused).
    public func save(to path: String) throws { try save(to: try FileSystemPath(path)) }
    /// `load(from:)` for a path given as text.
    public static func load(from path: String) throws -> Network { try load(from: try FileSystemPath(path)) }
}
