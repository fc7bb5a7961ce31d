import FailbackLog

/// RFC 9162 §2.1 Merkle tree hashing over SHA-256: leaves are `SHA-256(0x00 || leaf)`, interior
/// nodes `SHA-256(0x01 || left || right)`, and a tree of n leaves splits at the largest power of
/// two below n. In a bundle the leaves are the drill's events, their canonical bytes, in order.
public enum MerkleTree {
    /// The leaf hash of `leaf` (the log's `MerkleLeaf.hash`, which also hashes in place).
    public static func leafHash(_ leaf: [UInt8]) -> [UInt8] { MerkleLeaf.hash(leaf) }

    public static func nodeHash(_ left: [UInt8], _ right: [UInt8], using h: SHA256Hasher = SHA256Hasher()) -> [UInt8] {
        var prefix: UInt8 = 1
        withUnsafeBytes(of: &prefix) { h.update($0) }
        h.update(left)
        h.update(right)
        return h.finalize()
    }

    /// The root of the tree over these leaf hashes (SHA-256 of nothing for no leaves).
    public static func root(_ leaves: ArraySlice<[UInt8]>) -> [UInt8] {
        switch leaves.count {
        case 0: return SHA256Hasher().finalize()
        case 1: return leaves.first!
        default:
            let k = largestPowerOfTwo(below: leaves.count)
            return nodeHash(root(leaves.prefix(k)), root(leaves.dropFirst(k)))
        }
    }

    /// The audit path of leaf `index` (RFC 9162 §2.1.3.1), nearest sibling first.
    public static func inclusionProof(index: Int, leaves: ArraySlice<[UInt8]>) -> [[UInt8]] {
        guard leaves.count > 1 else { return [] }
        let k = largestPowerOfTwo(below: leaves.count)
        if index - leaves.startIndex < k {
            return inclusionProof(index: index, leaves: leaves.prefix(k)) + [root(leaves.dropFirst(k))]
        }
        return inclusionProof(index: index, leaves: leaves.dropFirst(k)) + [root(leaves.prefix(k))]
    }

    /// Checks an audit path (RFC 9162 §2.1.3.2).
    public static func verifyInclusion(index: Int, size: Int, leafHash: [UInt8], proof: [[UInt8]], root: [UInt8]) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}

/// Every aligned perfect subtree's root, level by level (about 2n hashes, flat): audit paths in
/// O(log² n) hashing instead of rehashing the tree for each one.
public struct MerkleLevels {
    /// levels[k] holds the roots of subtrees [i·2^k, (i+1)·2^k), 32 bytes each, concatenated.
    var levels: [[UInt8]]
    public let size: Int

    /// From leaf hashes, 32 bytes each, concatenated.
    public init(flatLeafHashes level: [UInt8]) {
        size = level.count / 32
        levels = [level]
        while levels.last!.count >= 64 {
            let below = levels.last!
            var up = [UInt8]()
            up.reserveCapacity(below.count / 2)
            var i = 0
            let h = SHA256Hasher()
            while i + 64 <= below.count {
                var prefix: UInt8 = 1
                withUnsafeBytes(of: &prefix) { h.update($0) }
                below.withUnsafeBytes { h.update(UnsafeRawBufferPointer(rebasing: $0[i..<(i + 64)])) }
                up += h.finalize()
                i += 64
            }
            levels.append(up)
        }
    }

    public init(leafHashes: [[UInt8]]) { self.init(flatLeafHashes: leafHashes.flatMap { $0 }) }

    func hash(level k: Int, index i: Int) -> [UInt8] { Array(levels[k][(i * 32)..<(i * 32 + 32)]) }

    /// The root of leaves [start, start + count) as RFC 9162 defines it.
    func root(start: Int, count: Int) -> [UInt8] {
        if count == 0 { return SHA256Hasher().finalize() }
        if count & (count - 1) == 0, start % count == 0 { return hash(level: count.trailingZeroBitCount, index: start / count) }
        let k = MerkleTree.largestPowerOfTwo(below: count)
        return MerkleTree.nodeHash(root(start: start, count: k), root(start: start + k, count: count - k))
    }

    public var root: [UInt8] { root(start: 0, count: size) }

    /// The audit path of leaf `index` (RFC 9162 §2.1.3.1).
    public func inclusionProof(index: Int) -> [[UInt8]] { proof(index: index, start: 0, count: size) }

    func proof(index: Int, start: Int, count: Int) -> [[UInt8]] {
        guard count > 1 else { return [] }
        let k = MerkleTree.largestPowerOfTwo(below: count)
        if index - start < k { return proof(index: index, start: start, count: k) + [root(start: start + k, count: count - k)] }
        return proof(index: index, start: start + k, count: count - k) + [root(start: start, count: k)]
    }
}

/// A tree's root computed leaf by leaf in O(log n) memory: whole subtrees are merged as soon as
/// they are complete, and the rest folded right to left at the end (the same root as `MerkleTree.root`).
public struct MerkleRootAccumulator {
    /// The roots of the perfect subtrees not yet joined, 32 bytes each, largest first, and their sizes.
    var stack: [UInt8] = []
    var sizes: [Int] = []
    let hasher = SHA256Hasher()
    public private(set) var size = 0

    public init() {}

    public mutating func append(leafHash: [UInt8]) {
        leafHash.withUnsafeBytes { append(leafHash: $0) }
    }

    /// Adds the next leaf; joins equal subtrees in place (nothing allocated once the stack has grown).
    public mutating func append(leafHash: UnsafeRawBufferPointer) {
        stack.append(contentsOf: leafHash)
        sizes.append(1)
        size += 1
        var prefix: UInt8 = 1
        while sizes.count >= 2, sizes[sizes.count - 1] == sizes[sizes.count - 2] {
            let end = stack.count
            withUnsafeBytes(of: &prefix) { hasher.update($0) }
            stack.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[(end - 64)..<end])) }
            stack.removeLast(32)
            stack.withUnsafeMutableBufferPointer { hasher.finalize(into: $0.baseAddress! + end - 64) }
            sizes.removeLast()
            sizes[sizes.count - 1] *= 2
        }
    }

    /// Back to no leaves, keeping the memory grown so far.
    mutating func removeAll() {
        stack.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        size = 0
    }

    public var root: [UInt8] {
        guard !sizes.isEmpty else { return SHA256Hasher().finalize() }
        var acc = Array(stack[(stack.count - 32)...])
        for i in stride(from: sizes.count - 2, through: 0, by: -1) { acc = MerkleTree.nodeHash(Array(stack[(i * 32)..<(i * 32 + 32)]), acc) }
        return acc
    }
}

/// A Merkle tree kept as the roots of its blocks of `blockSize` leaves (a power of two): 32 bytes
/// per block rather than per leaf, so memory stays flat as a drill grows.
///
/// RFC 9162 splits a tree at the largest power of two below its size; above one block that split
/// falls on a block boundary, so the nodes above the blocks form the tree over the block roots
/// (the last block may be partial). An audit path is therefore the path inside the leaf's block,
/// from that block's leaves (read again by the caller), then the block's path among the roots.
public struct MerkleBlocks {
    public let blockSize: Int
    /// Roots of the full blocks, 32 bytes each.
    private var roots: [UInt8] = []
    /// The block being filled, as the roots of its complete subtrees (its leaves are not kept).
    private var current = MerkleRootAccumulator()
    public private(set) var size = 0

    public init(blockSize: Int = 1024) {
        precondition(blockSize > 0 && blockSize & (blockSize - 1) == 0, "a power of two")
        self.blockSize = blockSize
    }

    public mutating func append(leafHash: UnsafeRawBufferPointer) {
        current.append(leafHash: leafHash)
        size += 1
        if current.size == blockSize {
            // A full block is one perfect subtree: its root is the accumulator's only one.
            roots += current.stack
            current.removeAll()
        }
    }

    /// The roots of every block, the partial last one included.
    private var allRoots: [UInt8] { current.size == 0 ? roots : roots + current.root }

    public var root: [UInt8] { size == 0 ? SHA256Hasher().finalize() : MerkleLevels(flatLeafHashes: allRoots).root }

    /// The leaves of the block that holds leaf `index`.
    public func block(of index: Int) -> Range<Int> {
        let start = index / blockSize * blockSize
        return start..<min(start + blockSize, size)
    }

    /// The audit path of leaf `index`, given the leaf hashes of its block (`block(of: index)`);
    /// nil when those leaves are not the ones this tree was built from.
    public func inclusionProof(index: Int, blockLeaves: [UInt8]) -> [[UInt8]]? {
        inclusionProofs(of: [index], blockLeaves: blockLeaves)?.first
    }

    /// The audit paths of leaves `indices`, all of one block, given that block's leaf hashes: the
    /// block's tree and the tree over the blocks are each built once for all of them. Nil when the
    /// leaves are not the ones this tree was built from, or an index is outside their block.
    public func inclusionProofs(of indices: [Int], blockLeaves: [UInt8]) -> [[[UInt8]]]? {
        guard let first = indices.first else { return [] }
        let range = block(of: first), b = first / blockSize
        let inBlock = MerkleLevels(flatLeafHashes: blockLeaves)
        let all = allRoots
        guard indices.allSatisfy(range.contains), blockLeaves.count == 32 * range.count, inBlock.root[...] == all[(b * 32)..<(b * 32 + 32)] else {
            return nil
        }
        let above = MerkleLevels(flatLeafHashes: all).inclusionProof(index: b)
        return indices.map { inBlock.inclusionProof(index: $0 - range.lowerBound) + above }
    }
}
