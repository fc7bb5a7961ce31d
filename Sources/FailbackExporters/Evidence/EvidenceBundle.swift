import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// The evidence bundle of one drill (docs/evidence-bundle.md): a gzip-compressed ustar archive,
/// the same bytes every time it is exported, that anyone can check with standard tools.
public enum EvidenceBundle {
    public static let format = "failback-evidence/1"

    /// The SOC 2 criteria the controls index maps, with the event types that evidence each and the files.
    static let controls: [(id: String, title: String, types: [String], files: @Sendable (String) -> Bool)] = [
        (
            "CC9.1", "Risk mitigation: business disruption is planned for — the runbook followed, the go/no-go decision, approvals, overrides, issues and the outcome",
            ["DrillStarted", "OptionChosen", "ApprovalGranted", "GateOverridden", "IssueRaised", "DrillAborted", "DrillCompleted"],
            { $0 == "runbook.json" || $0.hasPrefix("report.") }
        ),
        (
            "A1.2", "Recovery infrastructure is monitored: replication lag, row counts across sites, database roles",
            [
                "ReplicationLagSampled", "RowCountsCompared", "RowCountSampled", "RecoveryStateObserved", "RedisReplicationObserved", "JSONValuesObserved",
                "PrometheusQueryEvaluated",
            ],
            { $0 == "events.jsonl" || $0 == "report.json" }
        ),
        (
            "A1.3", "The recovery plan is tested: phases and steps as run, commands and their output, waits, DNS cutover, health checks",
            [
                "PhaseStarted", "PhaseCompleted", "StepCompleted", "StepFailed", "StepSkipped", "CommandExecuted", "CommandFailedToStart",
                "WaitConcluded", "DNSAnswerObserved", "HealthCheckObserved", "PodStatesObserved",
            ],
            { $0.hasPrefix("outputs/") || $0.hasPrefix("report.") }
        ),
    ]
    /// At most this many events of one type are cited per control: the first and last halves.
    static let citationsPerType = 40

    /// What an export wrote.
    public struct Summary: Sendable {
        public var path: String
        public var drillID: String
        public var events: Int
        public var merkleRoot: String
        public var chainHead: String
        public var files: Int
        public var signed: Bool
        public var bytes: Int
        /// The signing key's fingerprint, when signed.
        public var keyFingerprint: String?
    }

    /// A file of the bundle before it is written: its path inside the bundle's folder, and its
    /// bytes, in memory or kept in a spool (where they begin; their size and SHA-256).
    struct Member {
        var path: String
        var bytes: [UInt8] = []
        var spooled: (spool: Spool, offset: Int, size: Int)?

        init(path: String, bytes: [UInt8]) {
            self.path = path
            self.bytes = bytes
            sha256 = HashChain.sha256(bytes).hex
        }

        init(path: String, spool: Spool, offset: Int, size: Int, sha256: String) {
            self.path = path
            self.sha256 = sha256
            spooled = (spool, offset, size)
        }

        var size: Int { spooled?.size ?? bytes.count }
        /// The file's SHA-256 (hex), taken once: the manifest and SHA256SUMS both list it.
        let sha256: String

        /// Writes the file into the archive (a spooled one a piece at a time).
        func write(into archive: BundleArchive, folder: String) throws(ExportError) {
            guard let (spool, offset, size) = spooled else { return try archive.file("\(folder)/\(path)", bytes) }
            try archive.beginFile("\(folder)/\(path)", size: size)
            var done = 0
            while done < size {
                let n = min(size - done, 1 << 20)
                try archive.write(try spool.read(offset: offset + done, count: n))
                done += n
            }
        }
    }

    /// Exports `drill` from `store` to `path`; signs with `key` (under `keyName`) when given.
    ///
    /// One pass over the events: each is folded into the report, hashed into the Merkle tree and
    /// written to `events.jsonl`, whose bytes a second thread compresses meanwhile. The drill's
    /// size is read first (tar writes a file's size before its bytes), and only the events up to
    /// then are exported: appends made during the export are not in the bundle.
    /// `progress`, when given, is told the events read so far and the total after each batch
    /// (about 1 MiB of events), on the exporting thread.
    public static func export(
        drill: String, from store: any EventStore, to path: String, key: Ed25519Key?, keyName: String = "failback",
        progress: ((_ read: Int, _ total: Int) -> Void)? = nil
    ) throws -> Summary {
        guard let drillHead = try store.drill(drill), drillHead.eventCount > 0 else { throw InvalidInput("drill \(drill) has no events") }
        let count = drillHead.eventCount
        var lastEvent: RecordedEvent?
        try store.forEachEvent(drill: drill, drillSeqs: count...count) { lastEvent = $0 }
        guard let lastEvent else { throw InvalidInput("drill \(drill) has no event \(count)") }
        let eventsSize = try store.canonicalSize(drill: drill, through: count) + count
        let folder = drill
        let archive = try BundleArchive(path: path, mtime: lastEvent.recordedAt.millisecondsSinceEpoch / 1000)
        // On any failure the partial file goes (the threads writing it have stopped by then).
        var committed = false
        defer { if !committed { archive.discard() } }
        try archive.beginFile("\(folder)/events.jsonl", size: eventsSize)

        // Three threads: this one copies the stored events into the lines of `events.jsonl`,
        // hashes them, and builds the Merkle tree from their stored leaf hashes (kept as block
        // roots: flat memory); one reads and folds them into the report; one compresses.
        var tree = MerkleBlocks()
        let leafHasher = SHA256Hasher()
        // The deflating thread may fall up to 32 batches (32 MiB of lines) behind: on two cores it
        // shares one with this thread, and a shorter queue stops this thread whenever it is full,
        // starving the folding thread on the other core (2.27 → 2.19 s for 1,000,000 events).
        let deflating = ChunkPipe(depth: 32) { (lines: [UInt8]) throws(ExportError) in try archive.write(lines) }
        let fold = Folded(try ExportFold(citationsPerType: citationsPerType, outputs: try Spool(beside: path), index: try Spool(beside: path)))
        // Deflating is the longest of the three (~1.5 s of CPU for 1,000,000 events, against ~0.9 s
        // each for reading and folding), and its backlog is what is left to do alone at the end:
        // the folding thread runs at a lower priority so that the deflater keeps up (on two cores,
        // mean wall time 1.76 → 1.66 s; on more cores nothing waits and it changes nothing).
        let folding = ChunkPipe(depth: 4, niceness: 3) { (batch: EventBatch) throws in try fold.value.fold(batch) }
        let eventsHash = SHA256Hasher()
        var sent = 0, read = 0
        // The size written in the tar header comes from the store's index of drills: bytes that
        // disagree with it stop the export (only a damaged store can do that).
        func sizeDisagrees() -> StoreError {
            StoreError(.corrupt, "drill \(drill): the store's index records \(eventsSize - count) bytes of events, but they hold more or fewer (run 'failback verify')")
        }
        func send(_ batch: EventBatch) throws {
            sent += batch.lines.count
            if sent > eventsSize { throw sizeDisagrees() }
            eventsHash.update(batch.lines)
            try deflating.send(batch.lines)
            try folding.send(batch)
            read += batch.ends.count
            progress?(read, count)
        }
        var batch = EventBatch()
        // What is exported is what `failback verify` calls intact: every row goes through the
        // same chain check as it is read (hash link, leaf hash, place, canonical form), and the
        // walk ends with the same checks against the drill's index (a rewound head, a reopened
        // drill). A broken drill is refused: signing it would make its damage evidence.
        var chain = ChainVerifier(drillID: drill, closingTypes: EventCatalogue.closingTypes)
        var position = 0
        do {
            try store.forEachStoredEvent(drill: drill, drillSeqs: 1...count) { row in
                position += 1
                guard chain.feed(row, drillSeq: position) else { throw ExportError.broken(chain.report, doing: "exported") }
                try batch.append(row)
                try row.withLeafHash(using: leafHasher) { tree.append(leafHash: $0) }
                if batch.lines.count >= 1 << 20 {
                    try send(batch)
                    batch = EventBatch()
                }
            }
            if !batch.lines.isEmpty { try send(batch) }
            let checked = try store.finishChainCheck(&chain, against: drillHead)
            guard checked.isIntact else { throw ExportError.broken(checked, doing: "exported") }
            if sent != eventsSize { throw sizeDisagrees() }
            try folding.finish()
        } catch {
            // Both threads stop; nothing is committed. A folding error says more than the send it stopped.
            try? deflating.finish()
            do { try folding.finish() } catch { throw error }
            throw error
        }
        // The last files are made while the deflating thread finishes events.jsonl (up to 32 MiB
        // behind the reading): they need the fold and the tree, not the compressed bytes.
        let members: [Member], root: [UInt8], head: [UInt8]
        do {
            (members, root, head) = try closingFiles(
                drill: drill, count: count, fold: fold.value, lastHash: lastEvent.hash, tree: tree,
                events: (eventsSize, eventsHash.finalize()), store: store, key: key, keyName: keyName)
            try deflating.finish()
        } catch {
            try? deflating.finish()
            throw error
        }
        for m in members { try m.write(into: archive, folder: folder) }
        let compressedBytes = try archive.commit()
        committed = true
        return Summary(
            path: path, drillID: drill, events: count, merkleRoot: root.hex, chainHead: head.hex, files: 1 + members.count, signed: key != nil, bytes: compressedBytes,
            keyFingerprint: key?.fingerprint)
    }

    /// The files of the bundle after `events.jsonl` (runbook, reports, outputs, manifest,
    /// checkpoint, sums, signature), from the export's fold and Merkle tree; with the tree's root
    /// and the chain's head.
    private static func closingFiles(
        drill: String, count: Int, fold: ExportFold, lastHash: [UInt8], tree: MerkleBlocks,
        events: (size: Int, digest: [UInt8]), store: any EventStore, key: Ed25519Key?, keyName: String
    ) throws -> (members: [Member], root: [UInt8], head: [UInt8]) {
        var report = fold.report
        let (exported, head, document, outputs, citations) = (fold.exported, fold.head, fold.document, fold.outputs, fold.citations)
        guard exported == count, head == lastHash else { throw ExportError("drill \(drill) changed while it was being exported; export again", kind: .changed) }
        report.finish()
        let root = tree.root

        try fold.outputSpool.flush()
        try fold.indexSpool.flush()
        var members: [Member] = []
        members.append(
            Member(path: "VERIFY.md", bytes: Array(BundleGuide.verifyGuide(drill: drill, events: count, root: root, chainHead: head, fingerprint: key?.fingerprint).utf8)))
        members.append(Member(path: "runbook.json", bytes: Array(CanonicalJSON.string(document ?? .null).utf8) + [0x0A]))
        members.append(Member(path: "report.md", bytes: Array(ReportFormat.markdown.render(report).utf8)))
        members.append(Member(path: "report.html", bytes: Array(ReportFormat.html.render(report).utf8)))
        members.append(Member(path: "report.json", bytes: Array(ReportFormat.json.render(report).utf8)))
        members.append(Member(path: "evidence-index.csv", spool: fold.indexSpool, offset: 0, size: fold.indexSpool.size, sha256: fold.indexHasher.finalize().hex))
        members.append(Member(path: "checks.xml", bytes: Array(ReportFormat.junit.render(report).utf8)))
        let controlsAt = members.count
        members += outputs

        // The controls index: each cited event with its leaf hash and audit path to the root. The
        // tree kept only its block roots: each cited event's block is read again for its leaves.
        var citedByControl: [[Int]] = []
        for control in controls {
            var cited: [Int] = []
            for type in control.types {
                cited += citations.indices(ofType: type)
            }
            citedByControl.append(cited.sorted())
        }
        let cited = Set(citedByControl.joined())
        var proofs: [Int: (leaf: [UInt8], path: [[UInt8]])] = [:]
        for index in cited.sorted() where proofs[index] == nil {
            let block = tree.block(of: index)
            let blockLeaves = try tree.leavesOfBlock(of: index, drill: drill, in: store)
            let citedInBlock = block.filter(cited.contains)
            guard let paths = tree.inclusionProofs(of: citedInBlock, blockLeaves: blockLeaves) else {
                throw ExportError("drill \(drill) changed while it was being exported; export again", kind: .changed)
            }
            for (i, path) in zip(citedInBlock, paths) {
                proofs[i] = (Array(blockLeaves[((i - block.lowerBound) * 32)..<((i - block.lowerBound) * 32 + 32)]), path)
            }
        }
        // The controls matrix: the cited events (read again for their summaries) and the checks.
        var references: [Int: DrillReport.EventReference] = [:]
        for index in cited {
            var read: RecordedEvent?
            try store.forEachEvent(drill: drill, drillSeqs: (index + 1)...(index + 1)) { read = $0 }
            if let read { references[index] = DrillReport.reference(read, try EventCatalogue.decode(read)) }
        }
        let matrix = BundleGuide.matrix(
            controls: controls.map { ($0.id, $0.title, $0.types) }, cited: citedByControl.map { $0.compactMap { references[$0] } }, report: report)
        members.insert(
            contentsOf: [
                Member(path: "controls.md", bytes: Array(BundleGuide.controlsMarkdown(matrix, controls: controls.map { ($0.id, $0.title, $0.types) }).utf8)),
                Member(path: "controls.csv", bytes: Array(BundleGuide.controlsCSV(matrix).utf8)),
            ], at: controlsAt)
        let eventsDigest = events.digest
        var listed: [(path: String, bytes: Int, sha256: String)] = [("events.jsonl", events.size, eventsDigest.hex)]
        listed += members.map { ($0.path, $0.size, $0.sha256) }

        let controlsJSON: [JSONValue] = zip(controls, citedByControl).map { control, cited in
            .members([
                "id": .string(control.id), "title": .string(control.title),
                "files": .array(listed.map(\.path).filter(control.files).map(JSONValue.string)),
                "events": .array(
                    cited.map { index in
                        .members([
                            "leaf_index": JSONValue(index), "drill_seq": JSONValue(index + 1),
                            "leaf_hash": .string(proofs[index]!.leaf.hex),
                            "audit_path": .array(proofs[index]!.path.map { .string($0.hex) }),
                        ])
                    }),
            ])
        }
        let runbook = report.state.runbook
        let manifest: JSONValue = .members([
            "format": .string(format), "drill_id": .string(drill),
            "runbook": runbook.map { ["id": .string($0.id), "version": .string($0.version), "sha256": .string($0.digest)] },
            "events": JSONValue(count), "chain_head": .string(head.hex),
            "merkle_root": .string(root.hex), "tree_size": JSONValue(count),
            "checkpoint_origin": .string(origin(drill)),
            "signed": .bool(key != nil), "key_name": key.map { _ in .string(keyName) }, "key_fingerprint": key.map { .string($0.fingerprint) },
            "files": .array(listed.map { .members(["path": .string($0.path), "bytes": JSONValue($0.bytes), "sha256": .string($0.sha256)]) }),
            "controls": .array(controlsJSON),
        ])
        members.append(Member(path: "manifest.json", bytes: Array(CanonicalJSON.string(manifest).utf8) + [0x0A]))
        let checkpoint = Checkpoint(origin: origin(drill), size: count, root: root)
        members.append(Member(path: "checkpoint", bytes: Array(try checkpoint.note(signedBy: key, name: keyName).utf8)))
        if let key { members.append(Member(path: "public-key.pem", bytes: Array(key.publicPEM.utf8))) }
        var sums = "\(eventsDigest.hex)  events.jsonl\n"
        for m in members { sums += "\(m.sha256)  \(m.path)\n" }
        members.append(Member(path: "SHA256SUMS", bytes: Array(sums.utf8)))
        if let key { members.append(Member(path: "SHA256SUMS.sig", bytes: try key.sign(Array(sums.utf8)))) }
        // What the verifiers read within bounds (docs/evidence-bundle.md §4, step 1), no export writes past.
        guard 1 + members.count <= BundleVerifier.maximumFiles else {
            throw ExportError(
                "drill \(drill): a bundle holds at most \(BundleVerifier.maximumFiles) files; this one would hold \(1 + members.count) (\(outputs.count) command outputs)",
                kind: .input)
        }
        for m in members {
            if let bound = BundleVerifier.keptWhole[m.path], m.bytes.count > bound {
                throw ExportError("drill \(drill): its \(m.path) would be \(m.bytes.count) bytes, over the \(byteSize(bound)) a verifier reads", kind: .input)
            }
        }
        return (members, root, head)
    }

    static func origin(_ drill: String) -> String { "failback/\(drill)" }

    /// A command's captured output: each non-empty stream as text, and both as an asciicast v2
    /// recording (`asciinema cat` / `asciinema play`).
    static func capturedFiles(_ c: CommandExecuted, drillSeq: Int) -> [Member] {
        let stem = "outputs/" + String(repeating: "0", count: max(0, 6 - String(drillSeq).count)) + String(drillSeq)
        var files: [Member] = []
        if !c.stdout.text.isEmpty { files.append(Member(path: "\(stem).stdout.txt", bytes: Array(c.stdout.text.utf8))) }
        if !c.stderr.text.isEmpty { files.append(Member(path: "\(stem).stderr.txt", bytes: Array(c.stderr.text.utf8))) }
        let seconds = Double(c.endedAt.millisecondsSinceEpoch - c.startedAt.millisecondsSinceEpoch) / 1000
        let header: JSONValue = .members([
            "version": 2, "width": 120, "height": 40, "timestamp": JSONValue(Int(c.startedAt.millisecondsSinceEpoch / 1000)),
            "duration": .number(seconds), "command": .string(c.argv.joined(separator: " ")), "title": .string("event #\(drillSeq): \(c.argv.first ?? "")"),
        ])
        // The capture keeps each stream whole, not when each byte came: stdout at the start, stderr
        // after it, and the exit status at the end. A terminal needs CR LF.
        func terminal(_ s: String) -> String { s.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") }
        var lines = [CanonicalJSON.string(header)]
        if !c.stdout.text.isEmpty { lines.append(CanonicalJSON.string([.number(0), "o", .string(terminal(c.stdout.text))])) }
        if !c.stderr.text.isEmpty { lines.append(CanonicalJSON.string([.number(0), "o", .string(terminal(c.stderr.text))])) }
        let ending = c.exitStatus.map { "[exit status \($0)]" } ?? "[signal \(c.signal ?? 0)]"
        lines.append(CanonicalJSON.string([.number(seconds), "o", .string("\r\n" + ending + "\r\n")]))
        files.append(Member(path: "\(stem).cast", bytes: Array((lines.joined(separator: "\n") + "\n").utf8)))
        return files
    }
}

/// Stored events on their way from the reading thread to the others: the lines of `events.jsonl`
/// (each event's canonical bytes and a line break), where each line ends, the chain hashes (32
/// bytes an event) and global `seq`s, in order.
struct EventBatch: Sendable {
    var lines: [UInt8] = []
    var ends: [Int] = []
    var hashes: [UInt8] = []
    var seqs: [Int] = []

    init() {
        lines.reserveCapacity(1 << 20 + 4096)
        ends.reserveCapacity(8192)
        hashes.reserveCapacity(8192 * 32)
        seqs.reserveCapacity(8192)
    }

    /// Adds a row; a damaged hash (not 32 bytes) would shift every hash after it, and is refused.
    mutating func append(_ row: StoredEvent) throws(StoreError) {
        hashes.append(contentsOf: try row.checkedHash())
        lines.append(contentsOf: row.canonical)
        lines.append(0x0A)
        ends.append(lines.count)
        seqs.append(row.seq)
    }
}

/// The fold of an export, owned by the folding thread while the pipe runs and read by the
/// exporting thread once the pipe has finished (which orders the two).
final class Folded {
    var value: ExportFold
    init(_ value: ExportFold) { self.value = value }
}

/// What an export folds from its events, on the folding thread: the report, the citations of
/// the controls index, the runbook followed and the commands' outputs.
struct ExportFold {
    var report = DrillReport(keepsEventIndex: false)
    var citations: CitedEvents
    var exported = 0
    var head: [UInt8] = []
    var document: JSONValue?
    /// The commands' captured outputs, kept in `outputSpool`.
    var outputs: [EvidenceBundle.Member] = []
    let outputSpool: Spool
    /// `evidence-index.csv`, a row an event, and its SHA-256 so far.
    let indexSpool: Spool
    let indexHasher = SHA256Hasher()
    private var shared = RecordedEvent.SharedValues()
    /// The event being read, copied out of its batch (one buffer, refilled).
    private var line: [UInt8] = []
    /// How many events were folded as samples read in one pass (the rest went the general way).
    private(set) var samplesReadInOnePass = 0

    init(citationsPerType: Int, outputs: Spool, index: Spool) throws {
        citations = CitedEvents(perType: citationsPerType)
        outputSpool = outputs
        indexSpool = index
        try indexRow(EvidenceIndexCSV.header)
    }

    private func indexRow(_ row: String) throws {
        let bytes = Array(row.utf8)
        indexHasher.update(bytes)
        try indexSpool.append(bytes)
    }

    mutating func fold(_ batch: EventBatch) throws {
        var start = 0
        for (i, end) in batch.ends.enumerated() {
            defer { start = end }
            // Lag samples and row counts, most of a long drill, are read in one pass and folded
            // with no `RecordedEvent` made; any other event, or a sample read so does not take,
            // goes the general way (which reads it alike, or names its fault).
            if let (envelope, sample) = sample(batch.lines[start..<(end - 1)]) {
                report.apply(sample, at: envelope.recordedAt)
                try indexRow(
                    EvidenceIndexCSV.row(
                        DrillReport.EventReference(
                            drillSeq: envelope.drillSeq, seq: envelope.seq, at: envelope.recordedAt, type: envelope.type, actor: envelope.actor,
                            summary: DrillSample.summary(of: sample, payload: envelope.payload, in: line), hash: Array(batch.hashes[(i * 32)..<(i * 32 + 32)]).hex)))
                citations.note(exported, type: envelope.type)
                exported += 1
                samplesReadInOnePass += 1
                continue
            }
            let event: RecordedEvent
            do {
                event = try RecordedEvent(canonical: Array(batch.lines[start..<(end - 1)]), hash: Array(batch.hashes[(i * 32)..<(i * 32 + 32)]), sharing: &shared)
            } catch {
                throw StoreError.unreadable(seq: batch.seqs[i], error)
            }
            let payload = try report.apply(event)
            try indexRow(EvidenceIndexCSV.row(DrillReport.reference(event, payload)))
            citations.note(exported, type: event.type)
            exported += 1
            if case .drillStarted? = payload { document = event.payload["runbook_document"] }
            if case .commandExecuted(let command)? = payload {
                for file in EvidenceBundle.capturedFiles(command, drillSeq: event.drillSeq) {
                    let offset = try outputSpool.append(file.bytes)
                    outputs.append(EvidenceBundle.Member(path: file.path, spool: outputSpool, offset: offset, size: file.bytes.count, sha256: file.sha256))
                }
            }
        }
        if !batch.ends.isEmpty {
            head = Array(batch.hashes.suffix(32))
            report.headHash = head
        }
    }

    /// The sample an event line holds, read in one pass (copied to `line` first: the readers take
    /// an array); nil when it is not one, or not one read so.
    private mutating func sample(_ bytes: ArraySlice<UInt8>) -> (EnvelopeLine, DrillSample)? {
        guard DrillSample.mayBeSample(bytes) else { return nil }
        line.removeAll(keepingCapacity: true)
        line.append(contentsOf: bytes)
        guard let envelope = RecordedEvent.readLine(line, sharing: &shared),
            let sample = DrillSample.read(type: envelope.type, payload: envelope.payload, in: line)
        else { return nil }
        return (envelope, sample)
    }
}

/// The events a bundle's controls index cites: per type, the first and the last `perType / 2`
/// (bounded memory however long the drill). Types are few: found by a look along them (the type
/// of the event before first), which costs less than hashing each event's type.
struct CitedEvents {
    private struct Kept {
        var type: String
        var first: [Int] = []
        /// The last ones, a ring: the oldest at `next` once it is full.
        var last: [Int] = []
        var next = 0
    }
    private var kept: [Kept] = []
    private var recent = 0
    let perType: Int

    init(perType: Int) { self.perType = perType }

    mutating func note(_ index: Int, type: String) {
        if recent >= kept.count || kept[recent].type != type {
            if let i = kept.firstIndex(where: { $0.type == type }) {
                recent = i
            } else {
                recent = kept.count
                kept.append(Kept(type: type))
            }
        }
        let half = perType / 2
        if kept[recent].first.count < half {
            kept[recent].first.append(index)
        } else if kept[recent].last.count < half {
            kept[recent].last.append(index)
        } else if half > 0 {
            kept[recent].last[kept[recent].next] = index
            kept[recent].next = (kept[recent].next + 1) % half
        }
    }

    /// The cited indices of one type, in order.
    func indices(ofType type: String) -> [Int] {
        guard let k = kept.first(where: { $0.type == type }) else { return [] }
        return k.first + k.last[k.next...] + k.last[..<k.next]
    }
}
