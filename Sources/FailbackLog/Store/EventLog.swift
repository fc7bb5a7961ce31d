import Dispatch

/// The append-only, hash-chained event log: every rule, once, above a `StorageBackend` —
/// sequence numbers, the chain, idempotency ("a retried start is the same start"), lifecycle
/// (a drill is opened once and appended to until closed), `expectedDrillSeq`, head and size
/// bookkeeping, and verification. Each backend only keeps rows (docs/log-format.md).
public final class EventLog<Backend: StorageBackend>: EventStore {
    public let backend: Backend
    private let hasher = SHA256Hasher()
    /// The write transaction `exclusively` holds open, which appends inside it join.
    private var exclusiveTransaction: (any WriteTransaction)?

    public init(backend: Backend) { self.backend = backend }

    public var location: String { backend.location }
    public var isReadOnly: Bool { backend.isReadOnly }

    // MARK: Appending

    public func append(_ drafts: [EventDraft]) throws(StoreError) -> [AppendOutcome] {
        guard !drafts.isEmpty else { return [] }
        guard !isReadOnly else { throw backend.readOnlyRefusal("nothing appended") }
        if let tx = exclusiveTransaction { return try append(drafts, in: tx) }
        return try backend.write { (tx) throws(StoreError) in try self.append(drafts, in: tx) }
    }

    public func exclusively<T>(_ body: () throws -> T) throws -> T {
        if exclusiveTransaction != nil { return try body() }
        guard !isReadOnly else { return try body() }  // appends will be refused as read-only
        var outcome: Result<T, any Error>?
        do {
            try backend.write { (tx) throws(StoreError) in
                exclusiveTransaction = tx
                defer { exclusiveTransaction = nil }
                do {
                    outcome = .success(try body())
                } catch let error as StoreError {
                    throw error
                } catch {
                    // Not the store's error (a check refused): roll back, then throw it as it is.
                    outcome = .failure(error)
                    throw StoreError(.conflict, "rolled back")
                }
            }
        } catch {
            if case .failure(let original)? = outcome { throw original }
            throw error
        }
        guard let outcome else { throw StoreError(.database, "exclusive section ended without a result", path: location) }
        return try outcome.get()
    }

    private func append(_ drafts: [EventDraft], in tx: any WriteTransaction) throws(StoreError) -> [AppendOutcome] {
        var heads: [String: HeadEntry] = [:]
        var keysInBatch: [String: RecordedEvent] = [:]
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(drafts.count)
        var lastSeq = try tx.lastSeq()
        var leaf = [UInt8](repeating: 0, count: 32)
        var shared = RecordedEvent.SharedValues()
        for draft in drafts {
            if let key = draft.idempotencyKey {
                var earlier = keysInBatch[key]
                if earlier == nil, let stored = try tx.storedEvent(withIdempotencyKey: key) {
                    earlier = try decode(stored.canonical, stored.hash, sharing: &shared)
                }
                if let earlier {
                    // A retried drill start generates a new drill id; it is the same start all the same.
                    guard earlier.type == draft.type, draft.lifecycle == .opens || earlier.drillID == draft.drillID,
                        earlier.canonical[earlier.payloadView.range].elementsEqual(draft.canonicalPayload)
                    else {
                        throw StoreError(
                            .idempotencyConflict,
                            "idempotency key \"\(key)\" was already used by a different event (seq \(earlier.seq), \(earlier.type)): nothing appended",
                            path: location)
                    }
                    outcomes.append(.alreadyRecorded(earlier))
                    continue
                }
            }
            var entry: HeadEntry
            if let found = try Self.head(of: draft.drillID, heads, tx) {
                entry = found
            } else {
                guard draft.lifecycle == .opens else {
                    throw StoreError(.unknownDrill, "no drill \(draft.drillID) in store \(location): nothing appended", path: location, subject: .drill(draft.drillID))
                }
                entry = Self.newHead(draft.drillID, startedSeq: lastSeq + 1, startedAt: draft.recordedAt)
            }
            if draft.lifecycle == .opens, !(entry.isNew && entry.head.eventCount == 0) {
                throw StoreError(.drillExists, "drill \(draft.drillID) already exists: nothing appended", path: location, subject: .drill(draft.drillID))
            }
            if let closed = entry.head.closedSeq {
                throw StoreError(.drillClosed, "drill \(draft.drillID) is closed (at seq \(closed)): nothing appended", path: location, subject: .drill(draft.drillID))
            }
            if let expected = draft.expectedDrillSeq, expected != entry.head.eventCount {
                throw StoreError(
                    .conflict,
                    "drill \(draft.drillID) changed while this command ran (now at event #\(entry.head.eventCount), not #\(expected)); check its status and run the command again: nothing appended",
                    path: location)
            }
            let seq = lastSeq + 1
            let drillSeq = entry.head.eventCount + 1
            let (canonical, payloadStart) = draft.placedBytes(seq: seq, drillSeq: drillSeq)
            hasher.update(entry.head.headHash)
            hasher.update(canonical)
            let hash = hasher.finalize()
            canonical.withUnsafeBytes { c in leaf.withUnsafeMutableBufferPointer { MerkleLeaf.hash(c, using: hasher, into: $0.baseAddress!) } }
            try tx.insert(
                NewRow(
                    seq: seq, drillID: draft.drillID, drillSeq: drillSeq, type: draft.type, recordedAt: draft.recordedAtText,
                    idempotencyKey: draft.idempotencyKey, canonical: canonical, hash: hash, leafHash: leaf))
            lastSeq = seq
            entry.head.advance(drillSeq: drillSeq, seq: seq, hash: hash, bytes: canonical.count)
            if draft.lifecycle == .closes { entry.head.closedSeq = seq }
            heads[draft.drillID] = entry
            let recorded = RecordedEvent(draft: draft, seq: seq, drillSeq: drillSeq, canonical: canonical, payloadStart: payloadStart, hash: hash)
            if let key = draft.idempotencyKey { keysInBatch[key] = recorded }
            outcomes.append(.appended(recorded))
        }
        // Secrets the drafts redacted, remembered for their drills in the same transaction.
        for draft in drafts where !draft.learnedSecrets.isEmpty { try tx.remember(draft.learnedSecrets, drill: draft.drillID) }
        try Self.writeHeads(heads, tx)
        return outcomes
    }

    // MARK: Copying

    public func appendCopies(_ rows: [CopiedRow], closedSeqs: [String: Int], learnedSecrets: [String: [LearnedSecretRecord]]) throws(StoreError) {
        guard !isReadOnly else { throw backend.readOnlyRefusal("nothing copied") }
        try backend.write { (tx) throws(StoreError) in
            var lastSeq = try tx.lastSeq()
            var heads: [String: HeadEntry] = [:]
            var keysInBatch: Set<String> = []
            var shared = RecordedEvent.SharedValues()
            var leaf = [UInt8](repeating: 0, count: 32)
            for row in rows {
                let seq = row.columns.seq
                func refused(_ why: String) -> StoreError {
                    StoreError(.mismatch, "cannot copy the event at seq \(seq) into store \(location): \(why); nothing of this batch copied", path: location, subject: .seq(seq))
                }
                guard seq == lastSeq + 1 else { throw refused("the store's last event is seq \(lastSeq)") }
                let event = try decode(row.canonical, row.hash, seq: seq, sharing: &shared)
                let differing = StoreWalk.differences(between: row.columns, and: event)
                guard differing.isEmpty else { throw refused("a column differs from the event's bytes: \(differing.joined(separator: "; "))") }
                if let key = event.idempotencyKey {
                    guard !keysInBatch.contains(key), try tx.storedEvent(withIdempotencyKey: key) == nil else {
                        throw refused("idempotency key \"\(key)\" is already used")
                    }
                    keysInBatch.insert(key)
                }
                var entry = try Self.head(of: event.drillID, heads, tx) ?? Self.newHead(event.drillID, startedSeq: seq, startedAt: event.recordedAt)
                if let closed = entry.head.closedSeq { throw refused("drill \(event.drillID) is closed (at seq \(closed))") }
                guard event.drillSeq == entry.head.eventCount + 1 else {
                    throw refused("it is event #\(event.drillSeq) of drill \(event.drillID), whose head is #\(entry.head.eventCount)")
                }
                hasher.update(entry.head.headHash)
                hasher.update(row.canonical)
                guard hasher.finalize() == row.hash else { throw refused("its chain hash is not SHA-256(previous hash || its bytes)") }
                row.canonical.withUnsafeBytes { c in leaf.withUnsafeMutableBufferPointer { MerkleLeaf.hash(c, using: hasher, into: $0.baseAddress!) } }
                if let stored = row.leafHash, stored != leaf { throw refused("its leaf hash is not SHA-256(0x00 || its bytes)") }
                try tx.insert(
                    NewRow(
                        seq: seq, drillID: event.drillID, drillSeq: event.drillSeq, type: event.type, recordedAt: row.columns.recordedAt,
                        idempotencyKey: event.idempotencyKey, canonical: row.canonical, hash: row.hash, leafHash: leaf))
                lastSeq = seq
                entry.head.advance(drillSeq: event.drillSeq, seq: seq, hash: row.hash, bytes: row.canonical.count)
                if closedSeqs[event.drillID] == seq { entry.head.closedSeq = seq }
                heads[event.drillID] = entry
            }
            for (drill, secrets) in learnedSecrets.sorted(by: { $0.key < $1.key }) where !secrets.isEmpty { try tx.remember(secrets, drill: drill) }
            try Self.writeHeads(heads, tx)
        }
    }

    public func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError) {
        try backend.forEachRow(seqs: seqs, body)
    }

    // MARK: Heads within a write

    /// A drill's head as a write has it, and whether the write creates its index entry.
    private typealias HeadEntry = (head: DrillHead, isNew: Bool)

    /// The drill's head: as moved by this write so far, else as stored, else nil (no such drill).
    private static func head(of drill: String, _ heads: [String: HeadEntry], _ tx: any WriteTransaction) throws(StoreError) -> HeadEntry? {
        if let known = heads[drill] { return known }
        return try tx.head(of: drill).map { ($0, false) }
    }

    /// The head of a drill this write opens, before its first event.
    private static func newHead(_ drill: String, startedSeq: Int, startedAt: Timestamp) -> HeadEntry {
        (DrillHead(drillID: drill, startedSeq: startedSeq, startedAt: startedAt, eventCount: 0, headSeq: 0, headHash: HashChain.genesis, closedSeq: nil, canonicalBytes: 0), true)
    }

    /// Writes the index entries a write moved, in a fixed order (the drills' first seq), so that
    /// concurrent writers take any row locks a backend has in the same order.
    private static func writeHeads(_ heads: [String: HeadEntry], _ tx: any WriteTransaction) throws(StoreError) {
        for (_, entry) in heads.sorted(by: { $0.value.head.startedSeq < $1.value.head.startedSeq }) where entry.head.eventCount > 0 {
            try tx.writeHead(entry.head, isNew: entry.isNew)
        }
    }

    private func decode(_ canonical: [UInt8], _ hash: [UInt8], seq: Int? = nil, sharing shared: inout RecordedEvent.SharedValues) throws(StoreError) -> RecordedEvent {
        do {
            return try RecordedEvent(canonical: canonical, hash: hash, sharing: &shared)
        } catch {
            throw StoreError.unreadable(seq: seq, error, path: location)
        }
    }

    // MARK: Reading

    public func event(withIdempotencyKey key: String) throws(StoreError) -> RecordedEvent? {
        guard let stored = try backend.storedEvent(withIdempotencyKey: key) else { return nil }
        var shared = RecordedEvent.SharedValues()
        return try decode(stored.canonical, stored.hash, sharing: &shared)
    }

    public func drill(_ id: String) throws(StoreError) -> DrillHead? { try backend.drillHeads(.one(id)).first }
    public func drills() throws(StoreError) -> [DrillHead] { try backend.drillHeads(.all) }
    public func currentDrill() throws(StoreError) -> DrillHead? { try backend.drillHeads(.currentOpen).first }

    public func forEachEvent(drill id: String, drillSeqs: ClosedRange<Int>?, _ body: (RecordedEvent) throws(StoreError) -> Void) throws(StoreError) {
        var shared = RecordedEvent.SharedValues()
        do {
            try backend.forEachStoredEvent(drill: id, drillSeqs: drillSeqs ?? 1...Int.max) { row in
                try body(try decode(Array(row.canonical), Array(row.hash), seq: row.seq, sharing: &shared))
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "read events: \(error)", path: location)  // nothing else is thrown
        }
    }

    public func forEachStoredEvent(drill id: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws {
        try backend.forEachStoredEvent(drill: id, drillSeqs: drillSeqs, body)
    }

    public func canonicalSize(drill id: String, through drillSeq: Int) throws(StoreError) -> Int {
        // The whole drill's size is kept in its index entry; a part of it is summed.
        if let head = try drill(id), head.eventCount == drillSeq, let kept = head.canonicalBytes { return kept }
        return try backend.canonicalSize(drill: id, through: drillSeq)
    }

    public func lastDrillSeq(drill id: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int {
        // The `recorded_at` column finds the moment; the events' own bytes decide. The event found
        // must have been recorded at or before the time, and the one after it later: a column
        // edited behind the recorder's back (events moved to 2030, or back-dated) would otherwise
        // show a drill as of another moment, with no word of it.
        let found = try backend.lastDrillSeq(drill: id, recordedAtOrBefore: time)
        try forEachEvent(drill: id, drillSeqs: max(1, found)...(found + 1)) { event throws(StoreError) in
            let inside = event.drillSeq <= found
            if inside ? event.recordedAt > time : event.recordedAt <= time {
                throw StoreError(
                    .corrupt,
                    "stored event at seq \(event.seq) says it was recorded at \(event.recordedAt), but the store's recorded_at column puts it \(inside ? "at or before" : "after") \(time): the column was altered (run 'failback verify')",
                    subject: .seq(event.seq))
            }
        }
        return found
    }

    public func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection] { try backend.cachedProjections(name) }

    public func learnedSecrets(drill id: String) throws(StoreError) -> [LearnedSecretRecord] { try backend.learnedSecrets(drill: id) }

    public func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError) {
        guard !isReadOnly, !projections.isEmpty else { return }
        try backend.cacheProjections(name, projections)
    }

    // MARK: Verifying

    public func verify(drill id: String, deep: Bool, closingTypes: Set<String>) throws(StoreError) -> VerificationReport {
        guard let head = try drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in store \(location)", path: location, subject: .drill(id)) }
        var verifier = ChainVerifier(drillID: id, deep: deep, closingTypes: closingTypes)
        // A reader thread reads rows from the backend and copies them into batches while this
        // thread checks the chain: the two halves of the work overlap on two cores. The backend is
        // used by the reader alone until it signals `done`. Batches go round through two
        // hand-offs: empty ones to the reader, filled ones back. The rows read are those filed
        // under the drill from its first seq to its recorded head (a row of this drill filed under
        // another drill id leaves a gap the verifier reports).
        let depth = 3, batchSize = 2048
        let filled = HandOff<RowBatch>(depth: depth), empty = HandOff<RowBatch>(depth: depth)
        for _ in 0..<depth { _ = empty.put(RowBatch()) }
        let done = DispatchSemaphore(value: 0)
        let reader = HandedOver(backend)
        let seqs = head.startedSeq...max(head.headSeq, head.startedSeq)
        DispatchQueue.global().async {
            defer { done.signal() }
            var batch: RowBatch?
            var stopped = false
            do throws(StoreError) {
                try reader.value.forEachRow(filedUnder: id, seqs: seqs) { drillSeq, row in
                    if batch == nil {
                        guard let next = (try? empty.take()) ?? nil else {
                            stopped = true
                            return false
                        }
                        next.removeAll()
                        batch = next
                    }
                    batch!.append(seq: row.seq, drillSeq: drillSeq, canonical: row.canonical, hash: row.hash, leafHash: row.leafHash)
                    if batch!.count == batchSize {
                        let full = batch!
                        batch = nil
                        if !filled.put(full) {
                            stopped = true
                            return false
                        }
                    }
                    return true
                }
                if !stopped, let last = batch, last.count > 0 { _ = filled.put(last) }
                filled.close()
            } catch {
                filled.close(failure: error)
            }
        }
        var failure: StoreError?
        reading: while true {
            let batch: RowBatch
            do {
                guard let next = try filled.take() else { break reading }
                batch = next
            } catch {
                failure = error as? StoreError ?? StoreError(.database, "cannot read events in store \(location): \(error)", path: location)
                break reading
            }
            var intact = true
            for i in 0..<batch.count where intact {
                intact = batch.withRow(i) { seq, drillSeq, canonical, hash, leafHash in
                    verifier.feed(seq: seq, drillSeq: drillSeq, drillIDColumnMatches: true, canonical: canonical, storedHash: hash, storedLeafHash: leafHash)
                }
            }
            _ = empty.put(batch)
            if !intact {
                // Stop the reader wherever it is: waiting for an empty batch or to hand one over.
                empty.cancel()
                filled.cancel()
                break reading
            }
        }
        done.wait()
        if let failure { throw failure }
        return try finishChainCheck(&verifier, against: head)
    }

    public func finishChainCheck(_ verifier: inout ChainVerifier, against head: DrillHead) throws(StoreError) -> VerificationReport {
        // The walk ends at the recorded head: a row of the drill past it (a rewound index) shows
        // as a drill_seq above the recorded count, unless the drill has moved on since the head
        // was read (events appended meanwhile are counted by its index now).
        let stored = try backend.maxDrillSeq(filedUnder: head.drillID)
        let now = stored > head.eventCount ? (try drill(head.drillID)?.eventCount ?? head.eventCount) : head.eventCount
        return verifier.finish(
            recordedCount: head.eventCount, recordedHeadSeq: head.headSeq, recordedHeadHash: head.headHash, recordedCanonicalBytes: head.canonicalBytes,
            recordedClosedSeq: head.closedSeq, storedCount: stored > now ? stored : nil, recordedStart: (head.startedSeq, head.startedAt))
    }

    public func verifyStore() throws(StoreError) -> VerificationReport {
        var walk = StoreWalk(index: try drills())
        try backend.forEachRow(seqs: 1...Int.max) { columns, row in walk.feed(columns, canonical: Array(row.canonical)) }
        var report = walk.finish()
        if report.isIntact, let recorded = try backend.recordedLastSeq(), recorded != report.checked {
            report.problem = .lastSeqMismatch(recorded: recorded, found: report.checked)
            report.badSeq = max(recorded, report.checked)
        }
        return report
    }
}

extension RecordedEvent {
    /// The event a draft became at `seq` / `drillSeq` (no need to re-parse the bytes just written).
    init(draft: EventDraft, seq: Int, drillSeq: Int, canonical: [UInt8], payloadStart: Int, hash: [UInt8]) {
        self.seq = seq
        self.drillSeq = drillSeq
        self.drillID = draft.drillID
        self.type = draft.type
        self.schemaVersion = draft.schemaVersion
        self.recordedAt = draft.recordedAt
        self.actor = draft.actor
        self.host = draft.host
        let payload = payloadStart..<(payloadStart + draft.canonicalPayload.count)
        self.payloadView = JSONObjectView(document: canonical, range: payload, members: JSONScanner.members(ofObjectIn: canonical, at: payload))
        self.redactions = draft.redactions
        self.idempotencyKey = draft.idempotencyKey
        self.canonical = canonical
        self.hash = hash
    }
}
