/// RFC 9162 §2.1.1: the Merkle tree hash of one leaf, `SHA-256(0x00 || leaf)`. A drill's events
/// are the leaves of its Merkle tree (an evidence bundle's `merkle_root`, an inclusion proof's
/// leaf); the store keeps each event's leaf hash beside its chain hash (docs/log-format.md §4).
public enum MerkleLeaf {
    /// Writes the leaf hash of `leaf` to `out` (32 bytes), with a hasher the caller reuses.
    public static func hash(_ leaf: UnsafeRawBufferPointer, using h: SHA256Hasher, into out: UnsafeMutablePointer<UInt8>) {
        var prefix: UInt8 = 0
        withUnsafeBytes(of: &prefix) { h.update($0) }
        h.update(leaf)
        h.finalize(into: out)
    }

    /// The leaf hash of `leaf`.
    public static func hash(_ leaf: [UInt8], using h: SHA256Hasher = SHA256Hasher()) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        leaf.withUnsafeBytes { l in out.withUnsafeMutableBufferPointer { hash(l, using: h, into: $0.baseAddress!) } }
        return out
    }
}
