/// What became of one draft handed to `append`.
public enum AppendOutcome: Sendable, Equatable {
    /// Written now, at this place in the log.
    case appended(RecordedEvent)
    /// Its idempotency key was already used by this identical event: nothing was written.
    case alreadyRecorded(RecordedEvent)

    public var event: RecordedEvent {
        switch self {
        case .appended(let e), .alreadyRecorded(let e): return e
        }
    }
}

/// A drill as the store indexes it: where its chain starts and ends. The events are the truth;
/// this index is checked against them by `verify`.
public struct DrillHead: Sendable, Equatable {
    public var drillID: String
    /// Global `seq` of the drill's first event.
    public var startedSeq: Int
    public var startedAt: Timestamp
    /// Number of events in the drill (its last `drill_seq`).
    public var eventCount: Int
    /// Global `seq` of the drill's last event.
    public var headSeq: Int
    /// Chain hash of the drill's last event.
    public var headHash: [UInt8]
    /// Global `seq` of the event that closed the drill, if any.
    public var closedSeq: Int?
    /// Total size of the drill's events' canonical bytes (nil where the store does not keep it).
    public var canonicalBytes: Int?

    public var isOpen: Bool { closedSeq == nil }

    /// The head moved to the drill's next event.
    mutating func advance(drillSeq: Int, seq: Int, hash: [UInt8], bytes: Int) {
        eventCount = drillSeq
        headSeq = seq
        headHash = hash
        canonicalBytes = (canonicalBytes ?? 0) + bytes
    }
}

/// The append-only, hash-chained event log. SQLite is the embedded implementation; a server database
/// (PostgreSQL) can stand behind the same interface.
///
/// Guarantees every implementation gives:
/// - `append` writes all of its drafts or none, in one transaction, and returns only once that
///   transaction is durable;
/// - `seq` is global and gapless from 1; `drill_seq` is gapless from 1 within each drill; both are
///   assigned under the store's write lock, so concurrent writers (threads or processes) never
///   duplicate or skip one, and each drill's chain is extended from its true head;
/// - stored events are never updated or deleted.
public protocol EventStore: AnyObject {
    /// Where the store is, for messages (a path, or a URL without its password).
    var location: String { get }

    /// Appends `drafts` in order, in one durable transaction.
    func append(_ drafts: [EventDraft]) throws(StoreError) -> [AppendOutcome]

    /// Runs `body` holding the store's write lock: what it reads is not changed by anyone else
    /// until it returns, and what it appends commits when it returns (nothing, when it throws).
    /// A command that checks a drill's state and appends on that basis does both inside, so the
    /// check holds when the append lands, whoever else is recording.
    func exclusively<T>(_ body: () throws -> T) throws -> T

    /// The event recorded with this idempotency key, if any.
    func event(withIdempotencyKey key: String) throws(StoreError) -> RecordedEvent?

    /// The drill's index entry, or nil when the store has no such drill.
    func drill(_ id: String) throws(StoreError) -> DrillHead?

    /// All drills, oldest first.
    func drills() throws(StoreError) -> [DrillHead]

    /// The latest open drill (the default target of commands, as HEAD is in git), or nil.
    func currentDrill() throws(StoreError) -> DrillHead?

    /// Calls `body` with the drill's events in `drill_seq` order, one at a time (memory stays flat),
    /// only those whose `drill_seq` is in `drillSeqs` when given.
    /// Events whose stored bytes are not a well-formed envelope end the walk with `.corrupt`.
    func forEachEvent(drill id: String, drillSeqs: ClosedRange<Int>?, _ body: (RecordedEvent) throws(StoreError) -> Void) throws(StoreError)

    /// Calls `body` with the drill's events in `drillSeqs`, in order, as their rows hold them (not
    /// read as events: for copying them whole). The bytes are valid only during the call; `body`'s
    /// error ends the walk and is thrown.
    func forEachStoredEvent(drill id: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws

    /// The total size in bytes of the canonical forms of the drill's events 1...`drillSeq`
    /// (an export writes the size of its events file before the events).
    func canonicalSize(drill id: String, through drillSeq: Int) throws(StoreError) -> Int

    /// The `drill_seq` of the drill's last event recorded at or before `time` (0: none).
    func lastDrillSeq(drill id: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int

    /// The secrets the drill's events redacted, as remembered (salted hashes) beside the log.
    func learnedSecrets(drill id: String) throws(StoreError) -> [LearnedSecretRecord]

    /// Projections computed earlier under `name`, by drill (see `cacheProjections`).
    func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection]

    /// Keeps projections beside the log, to be read back instead of refolding every event: a
    /// cache, never part of the log or its chain. A read-only store keeps nothing (no error).
    func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError)

    /// Recomputes the drill's chain from the stored bytes and checks it against the index: every
    /// event up to the recorded head, no event of the drill beyond it, and (with `closingTypes`)
    /// the closing event last and matching the index; `deep` also parses every event and checks
    /// its RFC 8785 form.
    func verify(drill id: String, deep: Bool, closingTypes: Set<String>) throws(StoreError) -> VerificationReport

    /// Ends a chain check that a caller fed with the drill's rows as it read them itself (an
    /// export, a proof, reading events 1 to `head.eventCount` in order): the checks against the
    /// drill's index that end `verify(drill:)`, so that what is exported or proved was verified by
    /// the same rules.
    func finishChainCheck(_ verifier: inout ChainVerifier, against head: DrillHead) throws(StoreError) -> VerificationReport

    /// Walks every row of the store in `seq` order (`StoreWalk`): the global sequence gapless,
    /// each row's columns equal to its bytes, every event of an indexed drill, no drill beyond
    /// its index's count.
    func verifyStore() throws(StoreError) -> VerificationReport

    /// Calls `body` with the store's rows whose global `seq` is in `seqs`, in `seq` order, as they
    /// are stored (columns, bytes, hashes), until `body` returns false. The bytes are valid only
    /// during the call.
    func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError)

    /// Appends events copied from another store as they are (their `seq`, bytes and hashes), in one
    /// durable transaction, under the log's rules: each row's `seq` follows the store's last, its
    /// columns are what its bytes say, its `drill_seq` follows its drill's head (a drill begins at
    /// #1), its chain hash is `SHA-256(head's hash || bytes)` and its leaf hash (when given) is
    /// the bytes' leaf hash, its idempotency key unused, and no closed drill grows. A drill is
    /// closed at the `seq` `closedSeqs` gives for it. `learnedSecrets` are remembered for their
    /// drills. Anything refused leaves nothing of the batch (`StoreError.Code.mismatch`).
    func appendCopies(_ rows: [CopiedRow], closedSeqs: [String: Int], learnedSecrets: [String: [LearnedSecretRecord]]) throws(StoreError)
}

/// An event as another store holds it, to be copied byte for byte (`EventStore.appendCopies`).
public struct CopiedRow: Sendable {
    public var columns: StoreWalk.Columns
    public var canonical: [UInt8]
    public var hash: [UInt8]
    public var leafHash: [UInt8]?

    public init(columns: StoreWalk.Columns, canonical: [UInt8], hash: [UInt8], leafHash: [UInt8]?) {
        self.columns = columns
        self.canonical = canonical
        self.hash = hash
        self.leafHash = leafHash
    }

    /// A copy of a row read in place.
    public init(_ columns: StoreWalk.Columns, _ row: StoredEvent) {
        self.init(columns: columns, canonical: Array(row.canonical), hash: Array(row.hash), leafHash: row.leafHash.map { Array($0) })
    }
}

extension EventStore {
    public func verify(drill id: String) throws(StoreError) -> VerificationReport { try verify(drill: id, deep: false, closingTypes: []) }
    public func verify(drill id: String, deep: Bool) throws(StoreError) -> VerificationReport { try verify(drill: id, deep: deep, closingTypes: []) }

    /// Every event of the drill, in `drill_seq` order.
    public func forEachEvent(drill id: String, _ body: (RecordedEvent) throws(StoreError) -> Void) throws(StoreError) {
        try forEachEvent(drill: id, drillSeqs: nil, body)
    }
}

/// A projection of a drill as it was after its first `eventCount` events, the last of which had
/// the chain hash `headHash`; valid while the drill's head is still that.
public struct CachedProjection: Sendable, Equatable {
    public var eventCount: Int
    public var headHash: [UInt8]
    public var value: [UInt8]

    public init(eventCount: Int, headHash: [UInt8], value: [UInt8]) {
        self.eventCount = eventCount
        self.headHash = headHash
        self.value = value
    }

    /// Whether it was computed from exactly the events `head` says the drill has.
    public func isCurrent(for head: DrillHead) -> Bool { eventCount == head.eventCount && headHash == head.headHash }
}

/// One event as its row holds it: global `seq`, canonical bytes, chain hash and leaf hash, in place.
public struct StoredEvent {
    public let seq: Int
    public let canonical: UnsafeRawBufferPointer
    public let hash: UnsafeRawBufferPointer
    /// `SHA-256(0x00 || canonical)` (RFC 9162), as stored; nil for events stored before the store
    /// kept it (format 3).
    public let leafHash: UnsafeRawBufferPointer?

    /// The stored chain hash, 32 bytes unless the row was damaged (readers that lay hashes end to
    /// end rely on the size; `verify` reports a wrong one as a broken link instead).
    public func checkedHash() throws(StoreError) -> UnsafeRawBufferPointer {
        guard hash.count == 32 else {
            throw StoreError(.corrupt, "stored event at seq \(seq) has a hash of \(hash.count) bytes, not 32 (run 'failback verify')", subject: .seq(seq))
        }
        return hash
    }

    /// Calls `body` with the event's leaf hash: the stored one, or (for an event stored without
    /// one) computed with `hasher`. A stored one of another size than 32 bytes is damage.
    public func withLeafHash<T>(using hasher: SHA256Hasher, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        if let leafHash {
            guard leafHash.count == 32 else {
                throw StoreError(.corrupt, "stored event at seq \(seq) has a leaf hash of \(leafHash.count) bytes, not 32 (run 'failback verify')", subject: .seq(seq))
            }
            return try body(leafHash)
        }
        var computed: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &computed) { out in
            MerkleLeaf.hash(canonical, using: hasher, into: out.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return try body(UnsafeRawBufferPointer(out))
        }
    }
}

/// A store failure: what went wrong, with the context a person needs to act on it.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Equatable, CaseIterable {
        /// No store file at the path.
        case missing
        /// The file exists but is not a failback store (or is of an unknown format version).
        case notAStore
        /// The store cannot be written (file mode, read-only file system, or SQLite refused).
        case readOnly
        /// The store stayed locked by other writers past the busy timeout.
        case busy
        case unknownDrill
        case drillClosed
        case drillExists
        /// An idempotency key reused for a different event.
        case idempotencyConflict
        /// The drill moved on between a command's check and its append (`expectedDrillSeq`).
        case conflict
        /// Stored bytes that do not parse as an event (tampering or corruption).
        case corrupt
        /// Any other database failure.
        case database
        /// A store whose events or index do not verify (`failback verify` says where).
        case integrity
        /// Events that are not the copy they claim to be (`store copy`: the target holds events
        /// the source does not, or a copied row breaks the log's rules).
        case mismatch
    }

    public var code: Code
    public var message: String
    /// The store's location (a file, or a PostgreSQL connection with its password removed).
    public var path: String?
    /// What the error is about: the event or drill when it names one, else the store's location.
    public var subject: ErrorSubject?

    public init(_ code: Code, _ message: String, path: String? = nil, subject: ErrorSubject? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.subject = subject ?? path.map(ErrorSubject.path)
    }

    public var description: String { message }

    /// Stored bytes (at global `seq`, when known) that are not a readable event.
    public static func unreadable(seq: Int?, _ error: EnvelopeError, path: String? = nil) -> StoreError {
        StoreError(
            .corrupt, "stored event\(seq.map { " at seq \($0)" } ?? "") is not readable: \(error.description) (run 'failback verify')", path: path,
            subject: seq.map(ErrorSubject.seq))
    }
}

extension StoreError: FailbackError {
    public var errorCode: String {
        switch code {
        case .missing: "store.missing"
        case .notAStore: "store.not-a-store"
        case .readOnly: "store.read-only"
        case .busy: "store.busy"
        case .unknownDrill: "store.unknown-drill"
        case .drillClosed: "store.drill-closed"
        case .drillExists: "store.drill-exists"
        case .idempotencyConflict: "store.idempotency-conflict"
        case .conflict: "store.conflict"
        case .corrupt: "store.corrupt"
        case .database: "store.database"
        case .integrity: "store.integrity"
        case .mismatch: "store.mismatch"
        }
    }

    public var exitStatus: ExitStatus {
        switch code {
        case .missing, .unknownDrill: .noInput
        case .notAStore, .corrupt, .drillClosed, .drillExists, .idempotencyConflict, .mismatch: .dataError
        case .readOnly: .noPermission
        case .busy, .conflict: .tempFail
        case .database: .ioError
        case .integrity: .integrityFailure
        }
    }
}
