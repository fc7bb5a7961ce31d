import FailbackExporters
import FailbackLog
import Testing

/// RFC 9162 hashing: known answers, every audit path, and every corruption of one.
@Suite struct MerkleTreeTests {
    /// The RFC 6962 reference leaves (certificate-transparency's test data).
    static let leaves: [[UInt8]] = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map { hex in
        stride(from: 0, to: hex.count, by: 2).map { UInt8(hex.dropFirst($0).prefix(2), radix: 16)! }
    }

    /// Roots of the first n leaves. Produced independently by:
    /// python3 -c 'import hashlib as h
    /// L=lambda b:h.sha256(b"\0"+b).digest(); N=lambda a,b:h.sha256(b"\1"+a+b).digest()
    /// def M(x):
    ///   if len(x)==1: return L(x[0])
    ///   k=1
    ///   while 2*k<len(x): k*=2
    ///   return N(M(x[:k]),M(x[k:]))
    /// ls=[bytes.fromhex(s) for s in ["","00","10","2021","3031","40414243","5051525354555657","606162636465666768696a6b6c6d6e6f"]]
    /// [print(M(ls[:i]).hex()) for i in range(1,9)]'
    /// The 8-leaf root is the one in RFC 6962's reference tests (5dc9da79...).
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77", "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4", "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c", "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func rootsMatchKnownAnswers() {
        let hashes = Self.leaves.map(MerkleTree.leafHash)
        for n in 1...8 {
            #expect(MerkleTree.root(hashes.prefix(n)).hex == Self.roots[n - 1], "root of \(n) leaves")
            var acc = MerkleRootAccumulator()
            for h in hashes.prefix(n) { acc.append(leafHash: h) }
            #expect(acc.root.hex == Self.roots[n - 1], "streamed root of \(n) leaves")
        }
        #expect(MerkleTree.root([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// The streamed root equals the recursive one for every size up to 300.
    @Test func streamedRootEqualsRecursiveRoot() {
        let hashes = (0..<300).map { MerkleTree.leafHash([UInt8(truncatingIfNeeded: $0), UInt8($0 >> 8)]) }
        var acc = MerkleRootAccumulator()
        for n in 1...300 {
            acc.append(leafHash: hashes[n - 1])
            #expect(acc.root == MerkleTree.root(hashes.prefix(n)))
        }
    }

    /// The level-table proofs the exporter uses are the recursive definition's, for every size and index.
    @Test func levelProofsEqualTheDefinition() {
        let hashes = (0..<70).map { MerkleTree.leafHash([UInt8($0), 7]) }
        for size in 1...70 {
            let levels = MerkleLevels(leafHashes: Array(hashes.prefix(size)))
            #expect(levels.root == MerkleTree.root(hashes.prefix(size)))
            for index in 0..<size { #expect(levels.inclusionProof(index: index) == MerkleTree.inclusionProof(index: index, leaves: hashes.prefix(size))) }
        }
    }

    /// A tree kept as block roots gives the definition's root and proofs, for every size, index
    /// and block size; a block read back different is refused.
    @Test func blockProofsEqualTheDefinition() {
        let hashes = (0..<70).map { MerkleTree.leafHash([UInt8($0), 9]) }
        for blockSize in [1, 2, 4, 8, 64] {
            for size in 1...70 {
                var blocks = MerkleBlocks(blockSize: blockSize)
                for h in hashes.prefix(size) { h.withUnsafeBytes { blocks.append(leafHash: $0) } }
                #expect(blocks.root == MerkleTree.root(hashes.prefix(size)), "block \(blockSize), size \(size)")
                for index in 0..<size {
                    let leaves = Array(hashes[blocks.block(of: index)].joined())
                    #expect(blocks.inclusionProof(index: index, blockLeaves: leaves) == MerkleTree.inclusionProof(index: index, leaves: hashes.prefix(size)))
                }
            }
        }
        var blocks = MerkleBlocks(blockSize: 4)
        for h in hashes.prefix(10) { h.withUnsafeBytes { blocks.append(leafHash: $0) } }
        var wrong = Array(hashes[4..<8].joined())
        wrong[0] ^= 1
        #expect(blocks.inclusionProof(index: 5, blockLeaves: wrong) == nil)
        #expect(blocks.inclusionProof(index: 5, blockLeaves: Array(hashes[4..<7].joined())) == nil)
    }

    /// The paths of several leaves of one block, made together, are the paths made one by one; an
    /// index outside the block's leaves is refused.
    @Test func blockProofsTogetherEqualProofsOneByOne() {
        let hashes = (0..<23).map { MerkleTree.leafHash([UInt8($0), 7]) }
        var blocks = MerkleBlocks(blockSize: 8)
        for h in hashes { h.withUnsafeBytes { blocks.append(leafHash: $0) } }
        for start in stride(from: 0, to: 23, by: 8) {
            let block = blocks.block(of: start)
            let leaves = Array(hashes[block].joined())
            let indices = Array(block).filter { $0 % 3 != 1 }
            #expect(blocks.inclusionProofs(of: indices, blockLeaves: leaves) == indices.map { blocks.inclusionProof(index: $0, blockLeaves: leaves)! })
            #expect(blocks.inclusionProofs(of: indices + [block.upperBound], blockLeaves: leaves) == nil)
        }
        #expect(blocks.inclusionProofs(of: [], blockLeaves: []) == [])
    }

    @Test func everyAuditPathVerifiesAndEveryCorruptionFails() {
        let hashes = (0..<37).map { MerkleTree.leafHash([UInt8($0)]) }
        for size in 1...37 {
            let tree = hashes.prefix(size), root = MerkleTree.root(tree)
            for index in 0..<size {
                let proof = MerkleTree.inclusionProof(index: index, leaves: tree)
                #expect(MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[index], proof: proof, root: root))
                // Wrong index, leaf or root; a proof element flipped, dropped or added. (A path can
                // also fit a larger tree whose left part is this one: the size is bound by the
                // signed checkpoint, not by the path.)
                #expect(!MerkleTree.verifyInclusion(index: index + 1, size: size, leafHash: hashes[index], proof: proof, root: root) || size == 1)
                #expect(!MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[(index + 1) % 37], proof: proof, root: root))
                var badRoot = root
                badRoot[0] ^= 1
                #expect(!MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[index], proof: proof, root: badRoot))
                for i in proof.indices {
                    var flipped = proof
                    flipped[i][31] ^= 0x80
                    #expect(!MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[index], proof: flipped, root: root))
                    var dropped = proof
                    dropped.remove(at: i)
                    #expect(!MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[index], proof: dropped, root: root))
                }
                #expect(!MerkleTree.verifyInclusion(index: index, size: size, leafHash: hashes[index], proof: proof + [root], root: root))
            }
        }
    }

    @Test func checkpointRoundTripsAndItsSignatureBindsTheBody() throws {
        let key = try Ed25519Key.generate()
        let cp = Checkpoint(origin: "failback/drill-x", size: 8, root: MerkleTree.root(Self.leaves.map(MerkleTree.leafHash)[...]))
        let note = try cp.note(signedBy: key, name: "ops")
        #expect(note.hasPrefix("failback/drill-x\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u{2014} ops "))
        let (parsed, signatures) = try Checkpoint.parse(note)
        #expect(parsed == cp && signatures.count == 1 && signatures[0].keyID == Checkpoint.keyID(name: "ops", publicKey: key.rawPublicKey))
        #expect(key.verify(signatures[0].signature, of: Array(cp.body.utf8)))
        #expect(!key.verify(signatures[0].signature, of: Array(Checkpoint(origin: cp.origin, size: 7, root: cp.root).body.utf8)))
        #expect(try Checkpoint.parse(cp.body).signatures.isEmpty)
        #expect(throws: ExportError.self) { try Checkpoint.parse("x\n08\nAAAA\n") }
        // PEM round trip: the public key read back verifies what the private key signed.
        let pub = try Ed25519Key.load(pem: Array(key.publicPEM.utf8), what: "pub")
        let signature = try key.sign([1, 2, 3])
        #expect(!pub.canSign && pub.verify(signature, of: [1, 2, 3]))
        #expect(try Ed25519Key.load(pem: Array(key.privatePEM.utf8), what: "priv").rawPublicKey == key.rawPublicKey)
    }

    @Test func base64IsCanonical() {
        for n in 0..<20 {
            let bytes = (0..<n).map { UInt8($0 * 37 & 0xFF) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy" && Base64.encode(Array("fo".utf8)) == "Zm8=")
        for bad in ["Zm8", "Zm9=", "Z===", "Zm8=Zm8=", "Zm!v"] { #expect(Base64.decode(bad) == nil, "\(bad)") }
    }
}
