/// Which drills' index entries to read.
public enum DrillSelection: Sendable, Equatable {
    case one(String)
    /// Every drill, oldest first.
    case all
    /// The latest drill still open (the default target of commands, as HEAD is in git).
    case currentOpen
}

/// The small interface each store implements beneath `EventLog`, which holds every rule of the
/// log (sequence numbers, the chain, idempotency, lifecycle, verification). A backend only keeps
/// rows and answers for them; it decides nothing. SQLite (`SQLiteStorage`) is the embedded one,
/// `MemoryStorage` serves fast tests, and the contract suite (`StorageContractTests`) runs the
/// same tests over each.
public protocol StorageBackend: AnyObject {
    /// Where the store is, for messages (a path; never a password).
    var location: String { get }
    var isReadOnly: Bool { get }
    /// The error refusing a write to a read-only store; `what` says what was not done.
    func readOnlyRefusal(_ what: String) -> StoreError

    /// Runs `body` holding the store's write lock, in one transaction that commits durably when
    /// `body` returns and rolls back when it throws: nothing of a failed append is kept.
    func write<T>(_ body: (any WriteTransaction) throws(StoreError) -> T) throws(StoreError) -> T

    /// Index entries: one drill, all (oldest first), or the latest open one.
    func drillHeads(_ which: DrillSelection) throws(StoreError) -> [DrillHead]

    /// The stored bytes and chain hash of the event recorded with this idempotency key.
    func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])?

    /// Calls `body` with the drill's rows whose `drill_seq` is in `drillSeqs`, in order. The bytes
    /// are valid only during the call; `body`'s error ends the walk and is thrown.
    func forEachStoredEvent(drill: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws

    /// Calls `body` with the rows filed under `drill` (its `drill_id` column) whose global `seq` is
    /// in `seqs`, in `seq` order, with each row's `drill_seq` column, until `body` returns false.
    /// Verification reads a drill this way (on a thread of its own: the backend is used by one
    /// thread at a time).
    func forEachRow(filedUnder drill: String, seqs: ClosedRange<Int>, _ body: (_ drillSeq: Int, StoredEvent) -> Bool) throws(StoreError)

    /// Calls `body` with the store's rows whose global `seq` is in `seqs`, in `seq` order, with
    /// their columns, bytes and hashes, until `body` returns false (the store walk; `store copy`).
    func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError)

    /// The highest `drill_seq` of the rows filed under `drill`, whatever its index entry says
    /// (0: none). An index seek: (drill_id, drill_seq) is unique in every backend.
    func maxDrillSeq(filedUnder drill: String) throws(StoreError) -> Int

    /// The total size of the drill's events' canonical bytes, `drill_seq` 1 through `drillSeq`.
    func canonicalSize(drill: String, through drillSeq: Int) throws(StoreError) -> Int

    /// The `drill_seq` of the drill's last event whose `recorded_at` is at or before `time` (0: none).
    func lastDrillSeq(drill: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int

    func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection]
    func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError)

    /// The secrets a drill's events redacted, as remembered beside the log (salted hashes).
    func learnedSecrets(drill: String) throws(StoreError) -> [LearnedSecretRecord]

    /// The last `seq` as the store keeps it apart from the events (PostgreSQL's `failback.log`
    /// row), checked by the store walk; nil where the store keeps none (SQLite reads `max(seq)`).
    func recordedLastSeq() throws(StoreError) -> Int?
}

extension StorageBackend {
    public func recordedLastSeq() throws(StoreError) -> Int? { nil }
}

/// What an append may do while it holds the write lock: read the last `seq`, a drill's head and
/// an idempotency key, insert rows, and write a drill's head.
public protocol WriteTransaction {
    func lastSeq() throws(StoreError) -> Int
    func head(of drill: String) throws(StoreError) -> DrillHead?
    func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])?
    func insert(_ row: NewRow) throws(StoreError)
    /// Writes the drill's index entry: a new one, or the one there moved forward.
    func writeHead(_ head: DrillHead, isNew: Bool) throws(StoreError)
    /// Remembers secrets a drill redacted (salted hashes, beside the log; a known one is kept once).
    func remember(_ secrets: [LearnedSecretRecord], drill: String) throws(StoreError)
}

/// A row an append writes: the event's place, its columns, its bytes and hashes.
public struct NewRow {
    public var seq: Int
    public var drillID: String
    public var drillSeq: Int
    public var type: String
    public var recordedAt: String
    public var idempotencyKey: String?
    public var canonical: [UInt8]
    public var hash: [UInt8]
    public var leafHash: [UInt8]
}

extension StorageBackend {
    public func readOnlyRefusal(_ what: String) -> StoreError {
        StoreError(.readOnly, "store \(location) is read-only: \(what)", path: location)
    }
}
