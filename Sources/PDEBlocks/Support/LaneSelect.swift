import PDEBlocksIntrinsics

/// Lane-wise selection on eight doubles by comparing a key with a threshold: `key > t ? a : b`
/// and the like, with a NaN key giving `b` — the semantics of `b.replacing(with: a, where:
/// key .> t)`, compiled to one compare and one blend per register on every x86 variant.
/// (Swift's `SIMDMask` of eight lanes is an 8 × i1 vector, which on AVX2, without mask
/// registers, is packed and unpacked through a dozen shuffles per selection: in the vector
/// exp's argument clamp that was a fifth of a diffusion block's flux.)
@usableFromInline
enum LaneSelect {
    @usableFromInline typealias V = SIMD8<Double>

    /// `mask ? a : b`, lane by lane, for a mask whose lanes are −1 (all bits set) or 0.
    @inlinable @inline(__always)
    static func select(_ mask: SIMD8<Int>, _ a: V, else b: V) -> V { pdb_select8(mask, a, b) }

    /// `a > b ? a : b`, lane by lane (b where either is NaN).
    @inlinable @inline(__always)
    static func max(_ a: V, _ b: V) -> V { pdb_max8(a, b) }

    /// `key > t ? a : b`, lane by lane.
    @inlinable @inline(__always)
    static func above(_ key: V, _ t: Double, _ a: V, else b: V) -> V { pdb_where_above8(key, t, a, b) }

    /// `key < t ? a : b`, lane by lane.
    @inlinable @inline(__always)
    static func below(_ key: V, _ t: Double, _ a: V, else b: V) -> V { pdb_where_below8(key, t, a, b) }

    /// Whether some lane has `key < t` (NaN lanes do not).
    @inlinable @inline(__always)
    static func anyBelow(_ key: V, _ t: Double) -> Bool { pdb_any_below8(key, t) != 0 }

    /// Whether every lane has `key ≥ t` (NaN lanes do not).
    @inlinable @inline(__always)
    static func allAtLeast(_ key: V, _ t: Double) -> Bool { pdb_all_at_least8(key, t) != 0 }

    /// `key == t ? a : b`, lane by lane.
    @inlinable @inline(__always)
    static func equal(_ key: V, _ t: Double, _ a: V, else b: V) -> V { pdb_where_equal8(key, t, a, b) }
}
