import FailbackDomain
import FailbackLog

/// One event with its RFC 9162 audit path and the drill's checkpoint (docs/evidence-bundle.md §5):
/// an excerpt an auditor can check alone, without the rest of the drill.
public struct InclusionProof: Sendable {
    public static let format = "failback-proof/1"

    public var event: [UInt8]
    public var leafIndex: Int
    public var treeSize: Int
    public var auditPath: [[UInt8]]
    public var checkpoint: String
    public var keyName: String?
    public var publicKeyPEM: String?
    /// The signing key's fingerprint (`Ed25519Key.fingerprint`), when signed.
    public var keyFingerprint: String?

    /// The proof of the drill event with global sequence number `seq`.
    public static func make(drill: String, seq: Int, from store: any EventStore, key: Ed25519Key?, keyName: String) throws -> InclusionProof {
        guard let head = try store.drill(drill) else { throw StoreError(.unknownDrill, "no drill \(drill) in store \(store.location)", subject: .drill(drill)) }
        var tree = MerkleBlocks()
        var event: (index: Int, bytes: [UInt8])?
        let hasher = SHA256Hasher()
        // The tree proved is of a drill that verifies, checked as it is read (as an export is).
        var chain = ChainVerifier(drillID: drill, closingTypes: EventCatalogue.closingTypes)
        if head.eventCount > 0 {
            try store.forEachStoredEvent(drill: drill, drillSeqs: 1...head.eventCount) { row in
                guard chain.feed(row, drillSeq: tree.size + 1) else { throw ExportError.broken(chain.report, doing: "proved") }
                if row.seq == seq { event = (tree.size, Array(row.canonical)) }
                try row.withLeafHash(using: hasher) { tree.append(leafHash: $0) }
            }
        }
        let checked = try store.finishChainCheck(&chain, against: head)
        guard checked.isIntact else { throw ExportError.broken(checked, doing: "proved") }
        guard let event else { throw InvalidInput("drill \(drill) has no event with seq \(seq)") }
        guard let path = tree.inclusionProof(index: event.index, blockLeaves: try tree.leavesOfBlock(of: event.index, drill: drill, in: store)) else {
            throw ExportError("drill \(drill) changed while the proof was being made; try again", kind: .changed)
        }
        let checkpoint = Checkpoint(origin: EvidenceBundle.origin(drill), size: tree.size, root: tree.root)
        return InclusionProof(
            event: event.bytes, leafIndex: event.index, treeSize: tree.size, auditPath: path,
            checkpoint: try checkpoint.note(signedBy: key, name: keyName), keyName: key == nil ? nil : keyName, publicKeyPEM: key?.publicPEM,
            keyFingerprint: key?.fingerprint)
    }

    public var json: JSONValue {
        .members([
            "format": .string(Self.format), "event": .string(String(decoding: event, as: UTF8.self)),
            "leaf_index": JSONValue(leafIndex), "tree_size": JSONValue(treeSize), "audit_path": .array(auditPath.map { .string($0.hex) }),
            "checkpoint": .string(checkpoint), "key_name": keyName.map(JSONValue.string), "public_key": publicKeyPEM.map(JSONValue.string),
            "key_fingerprint": keyFingerprint.map(JSONValue.string),
        ])
    }

    public init(event: [UInt8], leafIndex: Int, treeSize: Int, auditPath: [[UInt8]], checkpoint: String, keyName: String?, publicKeyPEM: String?, keyFingerprint: String?) {
        self.event = event
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.auditPath = auditPath
        self.checkpoint = checkpoint
        self.keyName = keyName
        self.publicKeyPEM = publicKeyPEM
        self.keyFingerprint = keyFingerprint
    }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: "proof")
        guard try r.string("format") == Self.format else { throw InvalidInput("proof: not \(Self.format)") }
        let path = try r.strings("audit_path").map { (h) throws(InvalidInput) -> [UInt8] in
            guard let b = fromHex(h), b.count == 32 else { throw InvalidInput("proof: audit_path holds \(h.debugDescription), not a SHA-256 hash") }
            return b
        }
        self.init(
            event: Array(try r.string("event").utf8), leafIndex: try r.integer("leaf_index"), treeSize: try r.integer("tree_size"), auditPath: path,
            checkpoint: try r.string("checkpoint"), keyName: try r.optionalString("key_name"), publicKeyPEM: try r.optionalString("public_key"),
            keyFingerprint: try r.optionalString("key_fingerprint"))
    }

    /// Checks the proof alone; returns what held and who signed it (`TrustedKeys.verdict` says
    /// whether that is trusted), or throws naming what did not hold.
    public func verify(trust: TrustedKeys) throws(ExportError) -> (lines: [String], signer: TrustedKeys.Signer) {
        var lines: [String] = []
        guard let value = try? JSONParser.parse(event), CanonicalJSON.encode(value) == event else { throw ExportError("the event is not canonical JSON", kind: .integrity) }
        let (cp, signatures) = try Checkpoint.parse(checkpoint)
        guard cp.size == treeSize else { throw ExportError("tree size \(treeSize) is not the checkpoint's \(cp.size)", kind: .integrity) }
        guard value["drill_seq"]?.integerValue == leafIndex + 1 else { throw ExportError("the event is not drill event #\(leafIndex + 1)", kind: .integrity) }
        guard let drill = value["drill_id"]?.stringValue, cp.origin == EvidenceBundle.origin(drill) else {
            throw ExportError("the checkpoint is not this event's drill's", kind: .integrity)
        }
        guard MerkleTree.verifyInclusion(index: leafIndex, size: treeSize, leafHash: MerkleTree.leafHash(event), proof: auditPath, root: cp.root) else {
            throw ExportError("the audit path does not lead from the event to the checkpoint's root", kind: .integrity)
        }
        lines.append(
            "ok: event #\(leafIndex + 1) (seq \(value["seq"]?.integerValue ?? -1), \(value["type"]?.stringValue ?? "?")) is in the tree of \(treeSize) events, root \(cp.root.hex)")
        let key = try publicKeyPEM.map { (pem) throws(ExportError) in try Ed25519Key.load(publicPEM: Array(pem.utf8), what: "the proof's public key") }
        let signer: TrustedKeys.Signer
        if let key {
            guard let name = keyName else { throw ExportError("the proof has a public key but no key_name", kind: .integrity) }
            guard keyFingerprint == key.fingerprint else { throw ExportError("key_fingerprint is not the proof's public key's (\(key.fingerprint))", kind: .integrity) }
            guard
                signatures.contains(where: {
                    $0.name == name && $0.keyID == Checkpoint.keyID(name: name, publicKey: key.rawPublicKey) && key.verify($0.signature, of: Array(cp.body.utf8))
                })
            else {
                throw ExportError("the checkpoint's signature by \(name) does not verify", kind: .integrity)
            }
            lines.append("ok: checkpoint signed by \(name), key \(key.fingerprint)")
            if let from = trust.source(of: key.fingerprint) {
                signer = .pinned(fingerprint: key.fingerprint, from: from)
            } else {
                if !trust.isEmpty { throw ExportError("signed by the key \(key.fingerprint), which is not a trusted key", kind: .integrity) }
                signer = .unpinned(fingerprint: key.fingerprint)
            }
        } else {
            // A signature left without its key is a proof stripped of it, not an unsigned one.
            if !signatures.isEmpty { throw ExportError("the checkpoint is signed, but the proof has no public key to check it with", kind: .integrity) }
            if keyName != nil || keyFingerprint != nil { throw ExportError("key_name or key_fingerprint without a public key", kind: .integrity) }
            if !trust.isEmpty { throw ExportError("the proof is unsigned, but a trusted key asks for a signature", kind: .integrity) }
            signer = .unsigned
        }
        return (lines + [trust.verdict(signer).line], signer)
    }
}

extension MerkleBlocks {
    /// The leaf hashes of the block holding leaf `index` of `drill`, read again from the store.
    func leavesOfBlock(of index: Int, drill: String, in store: any EventStore) throws -> [UInt8] {
        let block = block(of: index)
        var leaves: [UInt8] = []
        let hasher = SHA256Hasher()
        try store.forEachStoredEvent(drill: drill, drillSeqs: (block.lowerBound + 1)...block.upperBound) { row in
            try row.withLeafHash(using: hasher) { leaves.append(contentsOf: $0) }
        }
        return leaves
    }
}
