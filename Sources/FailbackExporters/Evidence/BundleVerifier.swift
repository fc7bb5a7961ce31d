import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// Checks an evidence bundle on its own, with no store: every check of docs/evidence-bundle.md §4.
/// The archive is read as a stream (memory does not grow with the drill: the Merkle root is
/// accumulated, and a cited inclusion is checked against it) and nothing is written to disk.
public enum BundleVerifier {
    public struct Result: Sendable {
        /// What was checked and held.
        public var lines: [String] = []
        /// What did not hold; empty when the bundle verifies.
        public var problems: [String] = []
        public var signed = false
        /// Who signed, as far as the bundle and the trusted keys tell.
        public var signer: TrustedKeys.Signer = .unsigned
        /// True when everything held and the signer is trusted (or `allowUnpinned` was asked):
        /// the bundle is verified. False with no problems: intact, but its signer is not pinned.
        public var trusted = false
    }

    /// Small files are kept whole, each up to its bound (docs/evidence-bundle.md §4, step 1);
    /// events.jsonl is checked line by line as it streams.
    static let keptWhole: [String: Int] = [
        "manifest.json": 8 << 20, "SHA256SUMS": 8 << 20, "runbook.json": 8 << 20, "checkpoint": 64 << 10, "SHA256SUMS.sig": 64 << 10, "public-key.pem": 64 << 10,
    ]
    /// The longest line of events.jsonl read, its newline not counted: longer is refused unread.
    public static let maximumLineBytes = EventLine.maximumBytes
    /// The most JSON values a line of events.jsonl may hold (`jsonValueCount`).
    public static let maximumLineValues = EventLine.maximumValues
    /// The most files a bundle may hold (three per command at most, and eight others).
    public static let maximumFiles = 30_000

    /// Every event line must be in RFC 8785 form, checked in one pass; `deep` checks it the
    /// reference way instead, parsing each event and writing it again (slower, the same verdict:
    /// a cross-check of the one-pass check). A path that is not a regular file
    /// (a FIFO, a device) is refused before anything is read; an archive this verifier will not
    /// read throws `ExportError` (docs/evidence-bundle.md §4, step 1).
    public static func verify(path: String, trust: TrustedKeys, deep: Bool = false) throws -> Result {
        var result = Result()
        func problem(_ p: String) { result.problems.append(p) }
        let (fd, _) = try openRegularFile(path, what: "bundle")
        defer { close(fd) }

        let scan = ArchiveScan(deep: deep)
        try scan.read(fd, path: path)
        let order = scan.order, digests = scan.digests, kept = scan.kept, events = scan.events

        // 1. SHA256SUMS: every file, each once, nothing else.
        guard let sumsBytes = kept["SHA256SUMS"] else { problem("SHA256SUMS is missing"); return result }
        var listed: [String] = []
        // Split at line feeds as bytes (a Swift string holds CR LF as one character).
        if sumsBytes.last != 0x0A { problem("SHA256SUMS: the last line has no newline") }
        for bytes in sumsBytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            let line = String(decoding: bytes, as: UTF8.self)
            // 64 lowercase hex digits, two spaces, the path: sha256sum's text form, nothing else.
            let fields = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard fields.count == 2, fields[1].hasPrefix(" "), fields[1].count > 1, fromHex(String(fields[0]))?.count == 32 else {
                problem("SHA256SUMS: malformed line \(String(line).debugDescription)")
                continue
            }
            let file = String(fields[1].dropFirst())
            listed.append(file)
            guard let d = digests[file] else { problem("\(file) is listed in SHA256SUMS but missing"); continue }
            if d.sha256 != fields[0] { problem("\(file) was changed (its SHA-256 is not the one in SHA256SUMS)") }
        }
        for file in order where file != "SHA256SUMS" && file != "SHA256SUMS.sig" && !listed.contains(file) { problem("\(file) is an extra file (not in SHA256SUMS)") }
        let summed = order.filter { $0 != "SHA256SUMS" && $0 != "SHA256SUMS.sig" }
        if Set(listed) == Set(summed), listed != summed { problem("SHA256SUMS: the files are not listed in the archive's order (\(firstDifference(listed, summed)))") }
        if result.problems.isEmpty { result.lines.append("ok: SHA256SUMS matches all \(listed.count) files") }

        // 2. The signature over SHA256SUMS, by the bundle's key (and the expected one).
        // A key file that is not a key is a changed file like any other: named, and the checks go on.
        let hasKey = kept["public-key.pem"] != nil
        var bundleKey: Ed25519Key?
        if let pem = kept["public-key.pem"] {
            do { bundleKey = try Ed25519Key.load(publicPEM: pem, what: "public-key.pem") } catch { problem(error.message) }
        }
        if let signature = kept["SHA256SUMS.sig"] {
            result.signed = true
            if let bundleKey {
                let fingerprint = bundleKey.fingerprint
                if !bundleKey.verify(signature, of: sumsBytes) {
                    problem("SHA256SUMS.sig is not a valid signature of SHA256SUMS")
                } else {
                    result.lines.append("ok: SHA256SUMS signed by the bundle's Ed25519 key \(fingerprint)")
                }
                if let from = trust.source(of: fingerprint) {
                    result.signer = .pinned(fingerprint: fingerprint, from: from)
                } else {
                    result.signer = .unpinned(fingerprint: fingerprint)
                    if !trust.isEmpty { problem("signed by the key \(fingerprint), which is not a trusted key") }
                }
            } else if !hasKey {
                problem("SHA256SUMS.sig without public-key.pem")
            }
        } else {
            if hasKey { problem("public-key.pem without SHA256SUMS.sig") }
            if !trust.isEmpty { problem("the bundle is unsigned, but a trusted key asks for a signature") }
        }

        // 3. The manifest, and the order of the files it lists.
        guard let manifestBytes = kept["manifest.json"], let manifest = try? JSONParser.parse(manifestBytes) else { problem("manifest.json is missing or not JSON"); return result }
        if CanonicalJSON.encode(manifest) + [0x0A] != manifestBytes { problem("manifest.json is not canonical JSON (RFC 8785) and a line feed") }
        guard manifest["format"]?.stringValue == EvidenceBundle.format else { problem("manifest.json: not \(EvidenceBundle.format)"); return result }
        let files = manifest["files"]?.arrayValue?.compactMap { $0["path"]?.stringValue } ?? []
        var expectedOrder = ["events.jsonl"] + files.filter { $0 != "events.jsonl" } + ["manifest.json", "checkpoint"]
        if hasKey || result.signed { expectedOrder.append("public-key.pem") }
        expectedOrder.append("SHA256SUMS")
        if result.signed { expectedOrder.append("SHA256SUMS.sig") }
        if order != expectedOrder { problem("the files are not in the bundle's order (\(firstDifference(order, expectedOrder)))") }
        // The manifest's shape: every file an object of path, bytes and sha256 (lowercase hex).
        for entry in manifest["files"]?.arrayValue ?? [] {
            guard let o = entry.objectValue, Set(o.keys) == ["path", "bytes", "sha256"], entry["path"]?.stringValue != nil,
                entry["bytes"]?.integerValue.map({ $0 >= 0 }) == true, entry["sha256"]?.stringValue.flatMap(fromHex)?.count == 32
            else { problem("manifest.json: a file entry is not {path, bytes, sha256}"); continue }
        }
        if manifest["files"]?.arrayValue == nil { problem("manifest.json: files is not an array") }
        if manifest["tree_size"]?.integerValue != events.count { problem("manifest.json: tree_size is not the number of events (\(events.count))") }
        if let drill = manifest["drill_id"]?.stringValue {
            if manifest["checkpoint_origin"]?.stringValue != EvidenceBundle.origin(drill) { problem("manifest.json: checkpoint_origin is not \(EvidenceBundle.origin(drill))") }
            if scan.folder != drill { problem("the bundle's folder is \(scan.folder ?? "none"), not the drill's (\(drill))") }
        } else {
            problem("manifest.json: drill_id is not a string")
        }
        // The runbook the manifest names is the one the drill's first event recorded, and
        // runbook.json is that event's document.
        // A drill's bundle holds its events, the first a DrillStarted: an empty one is no drill's.
        if events.problem == nil, events.count == 0 { problem("events.jsonl holds no event") }
        if let first = events.first {
            let started = first["payload"]
            let runbook = manifest["runbook"]
            if first["type"]?.stringValue != "DrillStarted" {
                problem("events.jsonl: the first event is not DrillStarted")
            } else if runbook?.objectValue.map({ Set($0.keys) }) != ["id", "version", "sha256"] || runbook?["id"] != started?["runbook"]?["id"]
                || runbook?["version"] != started?["runbook"]?["version"] || runbook?["sha256"] != started?["runbook"]?["digest"]
            {
                problem("manifest.json: runbook is not the one the drill started with (event #1)")
            }
            if let document = kept["runbook.json"], document != Array(CanonicalJSON.string(started?["runbook_document"] ?? .null).utf8) + [0x0A] {
                problem("runbook.json is not the runbook document the drill started with (event #1)")
            }
        }
        // What the manifest says of the signature is what the bundle holds.
        if manifest["signed"]?.boolValue != result.signed {
            problem("manifest.json: signed is not \(result.signed), though the bundle is \(result.signed ? "signed" : "unsigned")")
        }
        let keyName = manifest["key_name"], keyFingerprint = manifest["key_fingerprint"]
        if result.signed {
            if keyName?.stringValue.map(Checkpoint.isKeyName) != true { problem("manifest.json: key_name is not a key name, though the bundle is signed") }
            if let bundleKey, keyFingerprint?.stringValue != bundleKey.fingerprint {
                problem("manifest.json: key_fingerprint is not public-key.pem's (\(bundleKey.fingerprint))")
            }
        } else if keyName != nil || keyFingerprint != nil {
            problem("manifest.json: key_name or key_fingerprint, though the bundle is unsigned")
        }
        for entry in manifest["files"]?.arrayValue ?? [] {
            guard let p = entry["path"]?.stringValue, let d = digests[p] else { continue }
            if entry["sha256"]?.stringValue != d.sha256 || entry["bytes"]?.integerValue != d.bytes { problem("\(p) does not match manifest.json") }
        }

        // 4. The events: one drill, numbered 1...n in order, each line canonical, chain and tree recomputed.
        if let e = events.problem { problem("events.jsonl: \(e)") }
        let drill = manifest["drill_id"]?.stringValue
        if let d = events.drillID, d != drill { problem("events.jsonl holds drill \(d), manifest.json says \(drill ?? "none")") }
        let root = events.tree.root
        if manifest["events"]?.integerValue != events.count { problem("events.jsonl has \(events.count) events, manifest.json says \(manifest["events"]?.integerValue ?? -1)") }
        if manifest["chain_head"]?.stringValue != events.head.hex {
            problem("the hash chain's head is \(events.head.hex), manifest.json says \(manifest["chain_head"]?.stringValue ?? "none")")
        }
        if manifest["merkle_root"]?.stringValue != root.hex {
            problem("the Merkle root of the events is \(root.hex), manifest.json says \(manifest["merkle_root"]?.stringValue ?? "none")")
        }
        if events.problem == nil { result.lines.append("ok: \(events.count) events of drill \(drill ?? "?"), chain head \(events.head.hex)") }

        // 5. The checkpoint: this tree, signed by the bundle's key.
        if let text = kept["checkpoint"] {
            do {
                let (checkpoint, signatures) = try Checkpoint.parse(String(decoding: text, as: UTF8.self))
                if checkpoint.size != events.count || checkpoint.root != root { problem("checkpoint: tree size \(checkpoint.size) and root do not match the events") }
                if checkpoint.origin != manifest["checkpoint_origin"]?.stringValue { problem("checkpoint: origin \(checkpoint.origin) is not manifest.json's") }
                if let key = bundleKey {
                    let name = manifest["key_name"]?.stringValue ?? ""
                    let mine = signatures.filter { $0.name == name && $0.keyID == Checkpoint.keyID(name: name, publicKey: key.rawPublicKey) }
                    if mine.isEmpty { problem("checkpoint: no signature by \(name)'s key") }
                    for s in mine where !key.verify(s.signature, of: Array(checkpoint.body.utf8)) { problem("checkpoint: the signature by \(name) does not verify") }
                } else if !signatures.isEmpty && !hasKey {
                    problem("checkpoint: signed, but the bundle has no public key")
                }
                if result.problems.isEmpty { result.lines.append("ok: checkpoint \(checkpoint.origin), \(checkpoint.size) events, root \(root.hex)") }
            } catch {
                problem(error.message)
            }
        } else {
            problem("checkpoint is missing")
        }

        // 6. Every inclusion the controls index cites.
        var cited = 0
        let beforeManifest = Set(order.prefix { $0 != "manifest.json" })
        if manifest["controls"]?.arrayValue == nil { problem("manifest.json: controls is not an array") }
        for control in manifest["controls"]?.arrayValue ?? [] {
            let id = control["id"]?.stringValue ?? "?"
            guard let o = control.objectValue, Set(o.keys) == ["id", "title", "files", "events"], control["id"]?.stringValue != nil,
                control["title"]?.stringValue != nil, let files = control["files"]?.arrayValue, files.allSatisfy({ $0.stringValue != nil }),
                control["events"]?.arrayValue != nil
            else { problem("controls \(id): not {id, title, files, events}"); continue }
            for file in files.compactMap(\.stringValue) where digests[file] != nil && !beforeManifest.contains(file) {
                problem("controls \(id): cites \(file), which is not evidence (only files before manifest.json are)")
            }
            for c in control["events"]?.arrayValue ?? [] {
                cited += 1
                guard let co = c.objectValue, Set(co.keys) == ["leaf_index", "drill_seq", "leaf_hash", "audit_path"],
                    let index = c["leaf_index"]?.integerValue, c["drill_seq"]?.integerValue == index + 1
                else { problem("controls \(id): a malformed citation"); continue }
                // Every hash 64 lowercase hex digits.
                let hexPath = c["audit_path"]?.arrayValue ?? []
                let path = hexPath.compactMap { $0.stringValue.flatMap(fromHex) }.filter { $0.count == 32 }
                guard index >= 0, path.count == hexPath.count, let leafHash = c["leaf_hash"]?.stringValue.flatMap(fromHex), leafHash.count == 32
                else { problem("controls \(id): a malformed citation"); continue }
                // A path that leads from this leaf hash at this index to the root recomputed from
                // the events proves the event there has this hash: no leaf needs keeping.
                guard index < events.count else { problem("controls \(id): event #\(index + 1) is not in the events"); continue }
                if !MerkleTree.verifyInclusion(index: index, size: events.count, leafHash: leafHash, proof: path, root: root) {
                    problem("controls \(id): the inclusion proof of event #\(index + 1) does not verify")
                }
            }
            for file in control["files"]?.arrayValue?.compactMap(\.stringValue) ?? [] where digests[file] == nil { problem("controls \(id): cites \(file), which is missing") }
        }
        if result.problems.isEmpty {
            result.lines.append("ok: \(cited) cited events included in the tree (audit paths verified)")
            let verdict = trust.verdict(result.signer)
            result.lines.append(verdict.line)
            result.trusted = verdict.trusted
        }
        return result
    }

    static func firstDifference(_ a: [String], _ b: [String]) -> String {
        for i in 0..<max(a.count, b.count) where (i < a.count ? a[i] : nil) != (i < b.count ? b[i] : nil) {
            return "entry \(i + 1) is \(i < a.count ? a[i] : "nothing"), expected \(i < b.count ? b[i] : "nothing")"
        }
        return ""
    }
}

/// One pass over the archive: every entry's digest and size, the small files whole, and
/// events.jsonl checked as it streams, on a second thread (this one inflates and hashes files).
final class ArchiveScan {
    var order: [String] = []
    var digests: [String: (sha256: String, bytes: Int)] = [:]
    var kept: [String: [UInt8]] = [:]
    /// The events' check; read it only once the scan is over.
    var events: EventStreamCheck { checked.value }
    private final class Checked { var value = EventStreamCheck() }
    private let checked = Checked()
    private var eventsPipe: ChunkPipe<[UInt8], ExportError>?
    var folder: String?
    var current: String?
    var hasher = SHA256Hasher()
    var size = 0

    init(deep: Bool) { checked.value.deep = deep }

    func read(_ fd: Int32, path: String) throws {
        defer { try? eventsPipe?.finish() }  // an archive that ends early leaves no thread waiting
        let gzip = try GzipReader()
        var tar = TarReader()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        // To the end of the file, also past the tar's end: the gzip member must end there (its
        // CRC checked), with nothing after it. What is inflated goes to the tar reader a piece at
        // a time (a few KB of gzip can inflate to hundreds of MB: nothing is gathered first).
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError(String(cString: strerror(errno)))
            }
            if n == 0 { break }
            try gzip.feed(Array(buffer[0..<n])) { plain in
                // Past the tar's end the bytes are only inflated, not read.
                guard !tar.finished else { return }
                try tar.feed(plain) { try self.handle($0) }
            }
        }
        guard gzip.finished, tar.finished else { throw ExportError("the archive ends early (truncated?)", kind: .malformed) }
    }

    func handle(_ event: TarReader.Event) throws {
        switch event {
        case .begin(let entry, _):
            let parts = entry.split(separator: "/", maxSplits: 1)
            guard parts.count == 2 else { throw ExportError("tar: \(entry) is not inside the bundle's folder", kind: .malformed) }
            if folder == nil { folder = String(parts[0]) }
            guard parts[0] == folder! else { throw ExportError("tar: \(entry) is outside the folder \(folder!)", kind: .malformed) }
            current = String(parts[1])
            if current == "events.jsonl", eventsPipe == nil {
                let checked = checked
                eventsPipe = ChunkPipe(depth: 8) { (bytes: [UInt8]) throws(ExportError) in try checked.value.feed(bytes) }
            }
            hasher = SHA256Hasher()
            size = 0
            guard order.count < BundleVerifier.maximumFiles else { throw ExportError("tar: more than \(BundleVerifier.maximumFiles) files", kind: .malformed) }
            order.append(current!)
        case .data(let bytes):
            hasher.update(bytes)
            size += bytes.count
            if let bound = BundleVerifier.keptWhole[current!] {
                guard size <= bound else { throw ExportError("\(current!) is over the limit of \(byteSize(bound))", kind: .malformed) }
                kept[current!, default: []] += bytes
            }
            if current == "events.jsonl" { try eventsPipe?.send(bytes) }
        case .end:
            digests[current!] = (hasher.finalize().hex, size)
            if current == "events.jsonl", let pipe = eventsPipe {
                try pipe.finish()
                checked.value.finish()
            }
            current = nil
        }
    }
}

/// Bytes from lowercase or uppercase hexadecimal, nil if it is not.
/// Bytes from lowercase hex (the only hex a bundle or proof holds), or nil.
func fromHex(_ s: String) -> [UInt8]? {
    let chars = Array(s.utf8)
    guard chars.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    func v(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }
    var i = 0
    while i < chars.count {
        guard let hi = v(chars[i]), let lo = v(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
        i += 2
    }
    return out
}

/// events.jsonl checked as it streams: one canonical envelope a line, one drill, drill_seq 1...n
/// in order, the hash chain and the Merkle leaves recomputed.
struct EventStreamCheck {
    var partial: [UInt8] = []
    /// The current event's leaf hash.
    var leaf = [UInt8](repeating: 0, count: 32)
    var tree = MerkleRootAccumulator()
    var count = 0
    let chain = SHA256Hasher(), leafHasher = SHA256Hasher()

    /// Parse every line and require its RFC 8785 form (else only the envelope's place is read).
    var deep = false
    var head = [UInt8](repeating: 0, count: 32)
    var drillID: String?
    /// The first event, parsed (the runbook the drill started with is checked against it).
    var first: JSONValue?
    var problem: String?

    /// Lines read so far (ended by a newline), whatever their verdict.
    var lines = 0

    /// Reads the next bytes of events.jsonl. A line longer than `BundleVerifier.maximumLineBytes`
    /// throws as soon as it passes the bound: nothing more is kept of it.
    mutating func feed(_ bytes: [UInt8]) throws(ExportError) {
        let fits: Bool = bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return true }
            var start = 0
            while start < raw.count {
                guard let found = memchr(base + start, 0x0A, raw.count - start) else {
                    guard partial.count + raw.count - start <= BundleVerifier.maximumLineBytes else { return false }
                    grow(by: raw.count - start)
                    partial.append(contentsOf: raw[start...])
                    return true
                }
                let end = base.distance(to: UnsafeRawPointer(found))
                guard partial.count + end - start <= BundleVerifier.maximumLineBytes else { return false }
                lines += 1
                if partial.isEmpty {
                    if !accept(UnsafeRawBufferPointer(rebasing: raw[start..<end])) { return false }
                } else {
                    grow(by: end - start)
                    partial.append(contentsOf: raw[start..<end])
                    let whole = partial
                    partial = []
                    if !(whole.withUnsafeBytes { accept($0, owned: whole) }) { return false }
                }
                start = end + 1
            }
            return true
        }
        if !fits { throw tooLong() }
    }

    /// Where reading stopped: the line over a bound.
    var refusal: String?

    /// Room for `n` more bytes of a line: doubling, but never past the bound (a line at the bound
    /// takes 16 MiB, not the 32 an array's own growth would).
    mutating func grow(by n: Int) {
        let needed = partial.count + n
        guard needed > partial.capacity else { return }
        partial.reserveCapacity(min(BundleVerifier.maximumLineBytes, max(needed, partial.capacity * 2)))
    }

    func tooLong() -> ExportError {
        ExportError(refusal ?? "events.jsonl: line \(lines + 1) is longer than \(byteSize(BundleVerifier.maximumLineBytes))", kind: .malformed)
    }

    /// Checks a whole line (whatever came before it): false when it holds too many values.
    mutating func accept(_ canonical: UnsafeRawBufferPointer, owned: [UInt8]? = nil) -> Bool {
        // A value takes at least a byte: only a long line can hold too many.
        if canonical.count > BundleVerifier.maximumLineValues, jsonValueCount(canonical) > BundleVerifier.maximumLineValues {
            refusal = "events.jsonl: line \(lines) holds more than \(BundleVerifier.maximumLineValues) JSON values"
            return false
        }
        line(canonical, owned: owned)
        return true
    }

    mutating func finish() {
        if !partial.isEmpty, problem == nil { problem = "the last line has no newline" }
    }

    /// Where a line in RFC 8785 form says its event belongs, or nil when it is not in that form or
    /// not an event (an envelope of other members, or of other kinds: the store's rule). The form
    /// is checked in one pass (`CanonicalJSON.envelopeProblem`); `deep` checks it the reference way
    /// instead, parsing and writing again (slower, the same verdict).
    static func place(of canonical: UnsafeRawBufferPointer, owned: [UInt8]?, deep: Bool) -> (seq: Int, drillSeq: Int, drillID: String)? {
        let form = CanonicalJSON.envelopeProblem(canonical)
        if case .envelope? = form { return nil }
        if !deep {
            guard form == nil else { return nil }
            if let place = envelopePlace(of: canonical) { return place }
        }
        // Parsed: with `deep`, or when the envelope's ends are not where a scan finds them.
        let bytes = owned ?? Array(canonical)
        guard let value = try? JSONParser.parse(bytes), CanonicalJSON.encode(value) == bytes,
            let seq = value["seq"]?.integerValue, let drillSeq = value["drill_seq"]?.integerValue, let drill = value["drill_id"]?.stringValue
        else { return nil }
        return (seq, drillSeq, drill)
    }

    /// One line; `owned`, when given, holds the same bytes (not copied again to be parsed).
    mutating func line(_ canonical: UnsafeRawBufferPointer, owned: [UInt8]? = nil) {
        guard problem == nil else { return }
        let n = count + 1
        guard let place = Self.place(of: canonical, owned: owned, deep: deep) else {
            problem = "line \(n) is not an event in canonical JSON"
            return
        }
        guard place.drillSeq == n else {
            problem = "line \(n) is event #\(place.drillSeq): events are missing, extra or out of order"
            return
        }
        if drillID == nil { drillID = place.drillID }
        if n == 1 { first = try? JSONParser.parse(owned ?? Array(canonical)) }
        guard place.drillID == drillID else { problem = "line \(n) belongs to another drill"; return }
        // Hashed in place: nothing is allocated per event.
        chain.update(head)
        chain.update(canonical)
        head.withUnsafeMutableBufferPointer { chain.finalize(into: $0.baseAddress!) }
        leaf.withUnsafeMutableBufferPointer { MerkleLeaf.hash(canonical, using: leafHasher, into: $0.baseAddress!) }
        leaf.withUnsafeBytes { tree.append(leafHash: $0) }
        count += 1
    }
}
