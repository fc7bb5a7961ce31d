import CSQLite
import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The embedded event store: the log's rules (`EventLog`) over one SQLite file.
public typealias SQLiteEventStore = EventLog<SQLiteStorage>

extension EventLog where Backend == SQLiteStorage {
    /// Opens an existing store (see `SQLiteStorage.init(openingAt:)`).
    public convenience init(openingAt path: String, readOnly: Bool = false) throws(StoreError) {
        self.init(backend: try SQLiteStorage(openingAt: path, readOnly: readOnly))
    }

    /// Creates a new, empty store at `path` (see `SQLiteStorage.create(at:)`).
    @discardableResult
    public static func create(at path: String) throws(StoreError) -> Bool { try SQLiteStorage.create(at: path) }

    public static var formatVersion: Int { SQLiteStorage.formatVersion }
    public static var applicationID: Int32 { SQLiteStorage.applicationID }
    public static func directory(of path: String) -> String { SQLiteStorage.directory(of: path) }
    public var path: String { backend.path }
    func upgrade(fromFormat old: Int) throws(StoreError) { try backend.upgrade(fromFormat: old) }
}

/// The embedded storage: one SQLite file in WAL mode.
///
/// Durability: `synchronous=FULL`, so a commit returns only after the WAL is fsynced; an append that
/// returned survives `kill -9` and power loss. Concurrency: every append runs in `BEGIN IMMEDIATE`,
/// which takes SQLite's single write lock before reading the heads, so sequence numbers and chain
/// links are assigned by one writer at a time, across processes. See docs/log-format.md.
public final class SQLiteStorage: StorageBackend {
    /// `PRAGMA application_id` of a failback store: "FBLG".
    public static let applicationID: Int32 = 0x4642_4C47
    /// `PRAGMA user_version`: the store's format version. Format 1 (no `drills.canonical_bytes`),
    /// format 2 (no `events.leaf_hash`) and format 3 (no triggers refusing inserts that replace)
    /// are upgraded in place when opened with write access, and read as they are otherwise.
    public static let formatVersion = 4
    /// How long a writer waits for the write lock before giving up.
    public static let busyTimeoutMilliseconds: Int32 = 30_000

    public let path: String
    public let isReadOnly: Bool
    /// Why a store that should be writable was opened for reading only (a full disk, a folder that
    /// cannot hold the write-ahead log's index); nil otherwise.
    private let unwritable: String?
    /// False for a format-1 store opened read-only: the drills' sizes are summed from their events.
    private var keepsSizes = true
    /// False for a format-1 or -2 store opened read-only: no event has a stored leaf hash.
    private var keepsLeafHashes = true
    private let db: SQLiteConnection
    public var location: String { path }

    /// Opens an existing store. Fails with `.missing` when there is no file, `.notAStore` when the
    /// file is something else. A store whose file or folder has no write permission opens read-only.
    public init(openingAt path: String, readOnly asked: Bool = false) throws(StoreError) {
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else {
            throw StoreError(.missing, "no store at \(path) (run 'failback init' to create one)", path: path)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw StoreError(.notAStore, "\(path) is not a failback store (not a regular file)", path: path)
        }
        let readOnly = asked || !Self.isWritable(path) || !Self.isWritable(Self.directory(of: path))
        (db, isReadOnly, unwritable) = try Self.connect(path, readOnly: readOnly)
        try configure()
        let appID = (try? db.integer("PRAGMA application_id")) ?? nil
        guard appID == Int(Self.applicationID) else {
            throw StoreError(.notAStore, "\(path) is not a failback store", path: path)
        }
        let version = (try? db.integer("PRAGMA user_version")) ?? nil
        // The tables must hold the columns the version says: a version set back by hand would
        // make an upgrade fail half-way ("duplicate column"), or a reader misread the rows.
        if let version, (1...Self.formatVersion).contains(version) {
            let shape = try columnShape()
            // Format 4's triggers show a version set back (an upgrade would run again); a format-4
            // store whose triggers were dropped is read as it is: they guard, the walk decides.
            if shape.sizes != (version >= 2) || shape.leafHashes != (version >= 3) || (shape.appendTriggers && version < 4) {
                throw StoreError(
                    .notAStore,
                    "\(path) is an inconsistent failback store: user_version says format \(version) but its tables are of another format (\(shape.sizes ? "with" : "without") drills.canonical_bytes, \(shape.leafHashes ? "with" : "without") events.leaf_hash, \(shape.appendTriggers ? "with" : "without") the triggers refusing inserts that replace); nothing read or changed",
                    path: path)
            }
        }
        switch version {
        case Self.formatVersion?: break
        case let old? where (1...3).contains(old) && readOnly:
            keepsSizes = old >= 2
            keepsLeafHashes = old >= 3
        case let old? where (1...3).contains(old): try upgrade(fromFormat: old)
        default:
            throw StoreError(.notAStore, "\(path) is a failback store of format \(version ?? 0); this build reads formats 1 to \(Self.formatVersion)", path: path)
        }
    }

    /// Format 1 → 2: each drill's index entry gains the total size of its events' canonical bytes,
    /// summed once here. Format 2 → 3: events gain a column for their leaf hash, left empty (NULL)
    /// for the events already there; readers hash those. One transaction: a failed upgrade leaves
    /// the store as it was.
    func upgrade(fromFormat old: Int) throws(StoreError) {
        do throws(SQLiteError) {
            try db.execute("BEGIN IMMEDIATE")
            do throws(SQLiteError) {
                // Another process may have upgraded the store since it was opened here: the
                // version is read again under the write lock.
                let old = try db.integer("PRAGMA user_version") ?? old
                if old == Self.formatVersion {
                    try db.execute("COMMIT")
                    return
                }
                if old < 2 {
                    // The trigger guarding heads is replaced by one that also guards the new column.
                    try db.execute(
                        """
                        DROP TRIGGER drills_heads_only_advance;
                        ALTER TABLE drills ADD COLUMN canonical_bytes INTEGER NOT NULL DEFAULT 0;
                        UPDATE drills SET canonical_bytes = (SELECT coalesce(sum(length(canonical)), 0) FROM events WHERE events.drill_id = drills.drill_id);
                        \(Self.headsOnlyAdvance)
                        """)
                }
                if old < 3 { try db.execute("ALTER TABLE events ADD COLUMN leaf_hash BLOB;") }
                try db.execute(
                    """
                    \(Self.insertsOnlyAppend)
                    PRAGMA user_version = \(Self.formatVersion);
                    COMMIT;
                    """)
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        } catch {
            throw storeError(error, doing: "upgrade the store from format \(old)")
        }
    }

    /// Creates a new, empty store at `path` (and its folder). The file appears complete or not at
    /// all: it is built under a temporary name and renamed into place. Returns false when a store
    /// already exists there (left as it is).
    @discardableResult
    public static func create(at path: String) throws(StoreError) -> Bool {
        var st = stat()
        if stat(path, &st) == 0 {
            _ = try SQLiteEventStore(openingAt: path)  // it must be a store
            return false
        }
        let dir = directory(of: path)
        try makeDirectories(dir)
        guard isWritable(dir) else { throw StoreError(.readOnly, "cannot create store: folder \(dir) is read-only", path: path) }
        let temporary = "\(path).creating-\(getpid())"
        do {
            let db = try SQLiteConnection(path: temporary, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            try db.execute(schema)
            try db.execute("PRAGMA application_id = \(applicationID); PRAGMA user_version = \(formatVersion); PRAGMA journal_mode = WAL;")
        } catch {
            unlink(temporary)
            throw StoreError(.database, "cannot create store at \(path): \(error.message)", path: path)
        }
        // The connection is closed (WAL checkpointed and removed); publish the finished file.
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw StoreError(.database, "cannot create store at \(path): \(reason)", path: path)
        }
        syncDirectory(dir)
        return true
    }

    static let schema = """
        BEGIN;
        CREATE TABLE events (
            seq             INTEGER PRIMARY KEY,     -- global, gapless from 1
            drill_id        TEXT    NOT NULL,
            drill_seq       INTEGER NOT NULL,        -- gapless from 1 within the drill
            type            TEXT    NOT NULL,
            recorded_at     TEXT    NOT NULL,
            idempotency_key TEXT,
            canonical       BLOB    NOT NULL,        -- RFC 8785 bytes of the envelope: the source of truth
            hash            BLOB    NOT NULL,        -- SHA-256(previous hash || canonical)
            leaf_hash       BLOB,                    -- SHA-256(0x00 || canonical), RFC 9162; NULL in rows from before format 3
            UNIQUE (drill_id, drill_seq)
        ) STRICT;
        CREATE UNIQUE INDEX events_by_idempotency_key ON events (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'failback events are append-only: UPDATE refused'); END;
        CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'failback events are append-only: DELETE refused'); END;

        -- An index of drills and their chain heads, kept in the same transactions as the events.
        CREATE TABLE drills (
            drill_id    TEXT    PRIMARY KEY,
            started_seq INTEGER NOT NULL,
            started_at  TEXT    NOT NULL,
            event_count INTEGER NOT NULL,
            head_seq    INTEGER NOT NULL,
            head_hash   BLOB    NOT NULL,
            closed_seq  INTEGER,
            canonical_bytes INTEGER NOT NULL       -- sum of length(canonical) over the drill's events
        ) STRICT;
        CREATE TRIGGER drills_refuse_delete BEFORE DELETE ON drills
            BEGIN SELECT RAISE(ABORT, 'failback drills are never deleted'); END;
        \(headsOnlyAdvance)
        \(insertsOnlyAppend)
        COMMIT;
        """

    /// `INSERT OR REPLACE` (and `REPLACE`) deletes the row it replaces without firing delete
    /// triggers: an insert may only add an event after the last one, and a drill not yet indexed.
    static let insertsOnlyAppend = """
        CREATE TRIGGER IF NOT EXISTS events_insert_only_appends BEFORE INSERT ON events
            WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM events)
            BEGIN SELECT RAISE(ABORT, 'failback events are append-only: an insert may only add an event after the last'); END;
        CREATE TRIGGER IF NOT EXISTS drills_insert_only_new BEFORE INSERT ON drills
            WHEN EXISTS (SELECT 1 FROM drills WHERE drill_id = NEW.drill_id)
            BEGIN SELECT RAISE(ABORT, 'failback drills are never replaced'); END;
        """

    static let headsOnlyAdvance = """
        CREATE TRIGGER drills_heads_only_advance BEFORE UPDATE ON drills
            WHEN OLD.closed_seq IS NOT NULL OR NEW.event_count <= OLD.event_count OR NEW.head_seq <= OLD.head_seq
              OR NEW.canonical_bytes <= OLD.canonical_bytes
              OR NEW.drill_id IS NOT OLD.drill_id OR NEW.started_seq IS NOT OLD.started_seq
            BEGIN SELECT RAISE(ABORT, 'failback drill heads only move forward'); END;
        """

    /// Which of the columns formats 2 and 3 added the tables hold.
    /// What the store's tables hold of each format: format 2's column, format 3's, format 4's
    /// two triggers (both, or it is not format 4).
    private func columnShape() throws(StoreError) -> (sizes: Bool, leafHashes: Bool, appendTriggers: Bool) {
        try translatingErrors(doing: "read the store's format") {
            let sizes = try db.integer("SELECT count(*) FROM pragma_table_info('drills') WHERE name = 'canonical_bytes'") == 1
            let leaves = try db.integer("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'leaf_hash'") == 1
            let triggers =
                try db.integer(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('events_insert_only_appends', 'drills_insert_only_new')") == 2
            return (sizes, leaves, triggers)
        }
    }

    private func configure() throws(StoreError) {
        sqlite3_busy_timeout(db.handle, Self.busyTimeoutMilliseconds)
        do {
            try db.execute("PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF;")
        } catch {
            throw storeError(error, doing: "configure")
        }
    }

    // MARK: Writing

    public func readOnlyRefusal(_ what: String) -> StoreError {
        if let unwritable { return StoreError(.database, "store \(path) cannot be written (\(unwritable)): \(what)", path: path) }
        return StoreError(.readOnly, "store \(path) is read-only: \(what)", path: path)
    }

    public func write<T>(_ body: (any WriteTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        guard !isReadOnly else { throw readOnlyRefusal("nothing appended") }
        do {
            try db.execute("BEGIN IMMEDIATE")
        } catch {
            throw storeError(error, doing: "begin an append")
        }
        do throws(StoreError) {
            let result = try body(Transaction(storage: self))
            do { try db.execute("COMMIT") } catch { throw storeError(error, doing: "commit") }
            return result
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    /// The append's view of the store while `write` holds SQLite's write lock (`BEGIN IMMEDIATE`).
    private final class Transaction: WriteTransaction {
        let storage: SQLiteStorage
        /// The insert, prepared once per append (a batch inserts thousands of rows).
        private var insertStatement: SQLiteStatement?

        init(storage: SQLiteStorage) { self.storage = storage }

        func lastSeq() throws(StoreError) -> Int {
            try storage.translatingErrors(doing: "append") { try storage.db.integer("SELECT max(seq) FROM events") ?? 0 }
        }

        func head(of drill: String) throws(StoreError) -> DrillHead? { try storage.drillHeads(.one(drill)).first }

        func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
            try storage.storedEvent(withIdempotencyKey: key)
        }

        func insert(_ row: NewRow) throws(StoreError) {
            try storage.translatingErrors(doing: "append") {
                let insert =
                    try insertStatement
                    ?? storage.db.statement(
                        "INSERT INTO events (seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
                insertStatement = insert
                insert.reset()
                insert.bind(1, row.seq)
                insert.bind(2, row.drillID)
                insert.bind(3, row.drillSeq)
                insert.bind(4, row.type)
                insert.bind(5, row.recordedAt)
                if let key = row.idempotencyKey { insert.bind(6, key) } else { insert.bindNull(6) }
                insert.bind(7, row.canonical)
                insert.bind(8, row.hash)
                insert.bind(9, row.leafHash)
                _ = try insert.step()
            }
        }

        func remember(_ secrets: [LearnedSecretRecord], drill: String) throws(StoreError) {
            try storage.translatingErrors(doing: "append") {
                try storage.db.execute(SQLiteStorage.learnedSecretsTable)
                let remember = try storage.db.statement("INSERT OR IGNORE INTO learned_secrets (drill_id, length, fingerprint, digest) VALUES (?, ?, ?, ?)")
                for r in secrets {
                    remember.reset()
                    try remember.run([.text(drill), .int(r.length), .int(r.fingerprint), .blob(r.digest)])
                }
            }
        }

        func writeHead(_ h: DrillHead, isNew: Bool) throws(StoreError) {
            try storage.translatingErrors(doing: "append") {
                if isNew {
                    try storage.db.statement(
                        "INSERT INTO drills (drill_id, started_seq, started_at, event_count, head_seq, head_hash, closed_seq, canonical_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                    ).run([
                        .text(h.drillID), .int(h.startedSeq), .text(h.startedAt.description), .int(h.eventCount), .int(h.headSeq), .blob(h.headHash),
                        h.closedSeq.map(SQLiteValue.int) ?? .null, .int(h.canonicalBytes ?? 0),
                    ])
                } else {
                    try storage.db.statement("UPDATE drills SET event_count = ?, head_seq = ?, head_hash = ?, closed_seq = ?, canonical_bytes = ? WHERE drill_id = ?")
                        .run([.int(h.eventCount), .int(h.headSeq), .blob(h.headHash), h.closedSeq.map(SQLiteValue.int) ?? .null, .int(h.canonicalBytes ?? 0), .text(h.drillID)])
                }
            }
        }
    }

    public func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
        try translatingErrors(doing: "look up an idempotency key") {
            let s = try db.statement("SELECT canonical, hash FROM events WHERE idempotency_key = ?")
            defer { s.reset() }
            try s.bind([.text(key)])
            guard try s.step() else { return nil }
            return (s.blob(0), s.blob(1))
        }
    }

    // MARK: Reading

    public func drillHeads(_ which: DrillSelection) throws(StoreError) -> [DrillHead] {
        switch which {
        case .one(let id): return try drillHeads(where: "WHERE drill_id = ?", [.text(id)])
        case .all: return try drillHeads(where: "ORDER BY started_seq", [])
        case .currentOpen: return try drillHeads(where: "WHERE closed_seq IS NULL ORDER BY started_seq DESC LIMIT 1", [])
        }
    }

    private func drillHeads(where clause: String, _ bindings: [SQLiteValue]) throws(StoreError) -> [DrillHead] {
        do {
            let bytes = keepsSizes ? "canonical_bytes" : "NULL"
            let s = try db.statement("SELECT drill_id, started_seq, started_at, event_count, head_seq, head_hash, closed_seq, \(bytes) FROM drills \(clause)")
            defer { s.reset() }
            try s.bind(bindings)
            var result: [DrillHead] = []
            while try s.step() {
                result.append(
                    DrillHead(
                        drillID: s.text(0), startedSeq: s.int(1), startedAt: Timestamp(rfc3339: s.text(2)) ?? Timestamp(millisecondsSinceEpoch: 0),
                        eventCount: s.int(3), headSeq: s.int(4), headHash: s.blob(5), closedSeq: s.isNull(6) ? nil : s.int(6),
                        canonicalBytes: s.isNull(7) ? nil : s.int(7)))
            }
            return result
        } catch {
            throw storeError(error, doing: "read drills")
        }
    }

    public func forEachStoredEvent(drill id: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws {
        // A drill read from its first event whose rows lie close together (few other drills'
        // events recorded meanwhile) is read as a range of the table in `seq` order, passing over
        // other drills' rows: a rowid range scan costs less than walking the (drill_id, drill_seq)
        // index and seeking each row (0.30 s against 0.42 s to step through 1M events here).
        // In a sound store `seq` order is `drill_seq` order within a drill; a row out of that order
        // ends the walk.
        let head = drillSeqs.lowerBound <= 1 ? try drillHeads(.one(id)).first : nil
        if let head, head.headSeq - head.startedSeq < 2 * head.eventCount {
            let s = try dedicatedStatement(rowsInSeqOrder)
            do { try s.bind([.text(id), .int(head.startedSeq), .int(head.headSeq)]) } catch { throw storeError(error, doing: "read events") }
            var previous = 0
            while try step(s) {
                guard s.int(2) == 1 else { continue }
                let drillSeq = s.int(1)
                guard drillSeq > previous else {
                    throw StoreError(
                        .corrupt, "drill \(id): event at seq \(s.int(0)) has drill_seq \(drillSeq) after \(previous) (run 'failback verify')", path: path, subject: .seq(s.int(0)))
                }
                previous = drillSeq
                if drillSeq > drillSeqs.upperBound { return }
                if drillSeq >= drillSeqs.lowerBound { try body(StoredEvent(seq: s.int(0), canonical: s.blobBytes(3), hash: s.blobBytes(4), leafHash: s.optionalBlobBytes(5))) }
            }
            return
        }
        let s = try dedicatedStatement("SELECT seq, canonical, hash, \(leafHashColumn) FROM events WHERE drill_id = ? AND drill_seq BETWEEN ? AND ? ORDER BY drill_seq")
        do { try s.bind([.text(id), .int(drillSeqs.lowerBound), .int(drillSeqs.upperBound)]) } catch { throw storeError(error, doing: "read events") }
        while try step(s) {
            try body(StoredEvent(seq: s.int(0), canonical: s.blobBytes(1), hash: s.blobBytes(2), leafHash: s.optionalBlobBytes(3)))
        }
    }

    /// The rows from `seq` ?2 to ?3 in `seq` order, with whether each is of drill ?1 (a rowid range
    /// scan: reading a drill whose rows lie close together, and verifying one).
    private var rowsInSeqOrder: String {
        "SELECT seq, drill_seq, drill_id = ?1, canonical, hash, \(leafHashColumn) FROM events WHERE seq BETWEEN ?2 AND ?3 ORDER BY seq"
    }

    /// The events' leaf hash column, or NULL in a store from before it (read-only).
    private var leafHashColumn: String { keepsLeafHashes ? "leaf_hash" : "NULL" }

    /// A statement of its own (not the cache): a caller's `body` may call back into the store
    /// while it is being stepped. Finalized when the value goes.
    private func dedicatedStatement(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db.handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw storeError(db.lastError(), doing: "read events")
        }
        return SQLiteStatement(stmt, connection: db)
    }

    private func step(_ s: SQLiteStatement) throws(StoreError) -> Bool {
        do { return try s.step() } catch { throw storeError(error, doing: "read events") }
    }

    public func canonicalSize(drill id: String, through drillSeq: Int) throws(StoreError) -> Int {
        // length() of a blob needs only the record header of each row.
        try translatingErrors(doing: "read events") {
            try db.integer("SELECT coalesce(sum(length(canonical)), 0) FROM events WHERE drill_id = ? AND drill_seq <= ?", .text(id), .int(drillSeq)) ?? 0
        }
    }

    public func lastDrillSeq(drill id: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int {
        // recorded_at is RFC 3339 in UTC with milliseconds, fixed width: text order is time order.
        try translatingErrors(doing: "read events") {
            try db.integer("SELECT coalesce(max(drill_seq), 0) FROM events WHERE drill_id = ? AND recorded_at <= ?", .text(id), .text(time.description)) ?? 0
        }
    }

    // MARK: Secrets learned by drills, kept beside the log

    /// Made by the first append that learns a secret, in its transaction. Not in any chain.
    private static let learnedSecretsTable = """
        CREATE TABLE IF NOT EXISTS learned_secrets (
            drill_id    TEXT    NOT NULL,
            length      INTEGER NOT NULL,
            fingerprint INTEGER NOT NULL,
            digest      BLOB    NOT NULL,
            PRIMARY KEY (drill_id, digest)
        ) STRICT
        """

    public func learnedSecrets(drill id: String) throws(StoreError) -> [LearnedSecretRecord] {
        try translatingErrors(doing: "read learned secrets") {
            guard try db.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'learned_secrets'") == 1 else { return [] }
            let s = try db.statement("SELECT length, fingerprint, digest FROM learned_secrets WHERE drill_id = ? ORDER BY length, digest")
            defer { s.reset() }
            try s.bind([.text(id)])
            var found: [LearnedSecretRecord] = []
            while try s.step() { found.append(LearnedSecretRecord(length: s.int(0), fingerprint: s.int(1), digest: s.blob(2))) }
            return found
        }
    }

    // MARK: Projections kept beside the log

    private static let projectionsTable = """
        CREATE TABLE IF NOT EXISTS projections (
            name        TEXT    NOT NULL,
            drill_id    TEXT    NOT NULL,
            event_count INTEGER NOT NULL,
            head_hash   BLOB    NOT NULL,
            value       BLOB    NOT NULL,
            PRIMARY KEY (name, drill_id)
        ) STRICT
        """

    public func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection] {
        try translatingErrors(doing: "read projections") {
            // Stores made before this table existed have none yet.
            guard try db.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'projections'") == 1 else { return [:] }
            let s = try db.statement("SELECT drill_id, event_count, head_hash, value FROM projections WHERE name = ?")
            defer { s.reset() }
            try s.bind([.text(name)])
            var found: [String: CachedProjection] = [:]
            while try s.step() { found[s.text(0)] = CachedProjection(eventCount: s.int(1), headHash: s.blob(2), value: s.blob(3)) }
            return found
        }
    }

    public func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError) {
        guard !isReadOnly, !projections.isEmpty else { return }
        // A cache is not worth waiting for: while a recorder holds the write lock, give up at once.
        sqlite3_busy_timeout(db.handle, 50)
        defer { sqlite3_busy_timeout(db.handle, Self.busyTimeoutMilliseconds) }
        try translatingErrors(doing: "keep projections") {
            try db.execute(Self.projectionsTable)
            try db.execute("BEGIN IMMEDIATE")
            do {
                let s = try db.statement("INSERT OR REPLACE INTO projections (name, drill_id, event_count, head_hash, value) VALUES (?, ?, ?, ?, ?)")
                defer { s.reset() }
                for (drill, p) in projections.sorted(by: { $0.key < $1.key }) {
                    try s.bind([.text(name), .text(drill), .int(p.eventCount), .blob(p.headHash), .blob(p.value)])
                    _ = try s.step()
                }
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
        }
    }

    // MARK: Rows for verification

    public func forEachRow(filedUnder drill: String, seqs: ClosedRange<Int>, _ body: (_ drillSeq: Int, StoredEvent) -> Bool) throws(StoreError) {
        // A range of the table in seq order (a rowid range scan, cheaper than walking an index and
        // seeking each row), passing over other drills' rows.
        let s = try dedicatedStatement(rowsInSeqOrder)
        do { try s.bind([.text(drill), .int(seqs.lowerBound), .int(seqs.upperBound)]) } catch { throw storeError(error, doing: "read events") }
        while try step(s) {
            guard s.int(2) == 1 else { continue }  // another drill's event
            guard body(s.int(1), StoredEvent(seq: s.int(0), canonical: s.blobBytes(3), hash: s.blobBytes(4), leafHash: s.optionalBlobBytes(5))) else { return }
        }
    }

    public func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError) {
        let s = try dedicatedStatement(
            "SELECT seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq")
        do { try s.bind([.int(seqs.lowerBound), .int(seqs.upperBound)]) } catch { throw storeError(error, doing: "read events") }
        while try step(s) {
            let row = StoreWalk.Columns(
                seq: s.int(0), drillID: s.text(1), drillSeq: s.int(2), type: s.text(3), recordedAt: s.text(4), idempotencyKey: s.isNull(5) ? nil : s.text(5))
            guard body(row, StoredEvent(seq: row.seq, canonical: s.blobBytes(6), hash: s.blobBytes(7), leafHash: s.optionalBlobBytes(8))) else { return }
        }
    }

    public func maxDrillSeq(filedUnder drill: String) throws(StoreError) -> Int {
        try translatingErrors(doing: "read events") { try db.integer("SELECT coalesce(max(drill_seq), 0) FROM events WHERE drill_id = ?", .text(drill)) ?? 0 }
    }

    // MARK: Errors and files

    /// Runs `body`, turning SQLite's errors into store errors that say what was being done.
    fileprivate func translatingErrors<T>(doing what: String, _ body: () throws -> T) throws(StoreError) -> T {
        do {
            return try body()
        } catch let error as SQLiteError {
            throw storeError(error, doing: what)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.database, "cannot \(what) in store \(path): \(error)", path: path)
        }
    }

    private func storeError(_ error: SQLiteError, doing what: String) -> StoreError {
        switch error.primaryCode {
        case SQLITE_BUSY, SQLITE_LOCKED:
            return StoreError(.busy, "store \(path) is locked by other writers (waited up to \(Self.busyTimeoutMilliseconds / 1000) s): nothing appended", path: path)
        case SQLITE_READONLY:
            return StoreError(.readOnly, "store \(path) is read-only: nothing appended", path: path)
        case SQLITE_NOTADB:
            return StoreError(.notAStore, "\(path) is not a failback store (not an SQLite database)", path: path)
        case SQLITE_CORRUPT:
            return StoreError(.corrupt, "store \(path) is damaged: \(error.message)", path: path)
        default:
            return StoreError(.database, "cannot \(what) in store \(path): \(error.message)", path: path)
        }
    }

    /// The folder part of a path (`.` when there is none).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let dir = String(path[..<slash])
        return dir.isEmpty ? "/" : dir
    }

    /// True when some write permission bit is set on `path` (root ignores permissions, so this
    /// honours the owner's intent instead of asking `access(2)`), and the file system is writable.
    /// Opens the connection. The first read maps the write-ahead log's index (the `-shm` file), and
    /// fails when that file cannot be made (a folder without write permission, a full disk): then,
    /// when every committed event is in the main file (its write-ahead log is absent or empty),
    /// that file is read as it is, without the index, and appends are refused.
    private static func connect(_ path: String, readOnly: Bool) throws(StoreError) -> (SQLiteConnection, readOnly: Bool, unwritable: String?) {
        do {
            let db = try SQLiteConnection(path: path, flags: readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
            sqlite3_busy_timeout(db.handle, busyTimeoutMilliseconds)
            _ = try db.integer("PRAGMA application_id")
            return (db, readOnly, nil)
        } catch {
            if error.primaryCode == SQLITE_NOTADB {
                throw StoreError(.notAStore, "\(path) is not a failback store (not an SQLite database)", path: path)
            }
            let permission = [SQLITE_READONLY, SQLITE_CANTOPEN].contains(error.primaryCode)
            guard permission || unwritableReason(error) != nil, hasNoPendingLog(path) else {
                throw StoreError(.database, "cannot open store \(path): \(error.message)", path: path)
            }
            do {
                return (try SQLiteConnection(path: immutableURI(path), flags: SQLITE_OPEN_READONLY | SQLITE_OPEN_URI), true, unwritableReason(error))
            } catch {
                throw StoreError(.database, "cannot open store \(path): \(error.message)", path: path)
            }
        }
    }

    /// Why opening failed, when it is that the disk cannot be written to (a folder without write
    /// permission is nil: the store is then read-only, as when its file has none).
    private static func unwritableReason(_ error: SQLiteError) -> String? {
        switch error.primaryCode {
        case SQLITE_FULL: return "the disk is full"
        case SQLITE_IOERR: return "disk I/O error; is the disk full?"
        case SQLITE_READONLY, SQLITE_CANTOPEN: return nil
        default: return nil
        }
    }

    /// True when the store has no write-ahead log, or an empty one: all it holds is in the main file.
    private static func hasNoPendingLog(_ path: String) -> Bool {
        var st = stat()
        return stat(path + "-wal", &st) != 0 || st.st_size == 0
    }

    /// `file:` URI opening `path` immutable: no locks, no `-shm` (the file must not change meanwhile).
    private static func immutableURI(_ path: String) -> String {
        var absolute = path
        if !path.hasPrefix("/"), let cwd = getcwd(nil, 0) {
            absolute = String(cString: cwd) + "/" + path
            free(cwd)
        }
        var escaped = ""
        for byte in absolute.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0..<0x20, 0x7F...: escaped += "%" + [byte].hex
            default: escaped.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return "file://" + escaped + "?immutable=1"
    }

    static func isWritable(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        if st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH) == 0 { return false }
        var fs = statvfs()
        if statvfs(path, &fs) == 0, fs.f_flag & UInt(ST_RDONLY) != 0 { return false }
        return access(path, W_OK) == 0
    }

    private static func makeDirectories(_ dir: String) throws(StoreError) {
        var st = stat()
        if stat(dir, &st) == 0 { return }
        let parent = directory(of: dir)
        if parent != dir { try makeDirectories(parent) }
        if mkdir(dir, 0o755) != 0 && errno != EEXIST {
            throw StoreError(.readOnly, "cannot create folder \(dir): \(String(cString: strerror(errno)))", path: dir)
        }
    }

    private static func syncDirectory(_ dir: String) {
        let fd = open(dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }
}
