#if canImport(Glibc)
import Glibc
#endif

/// The log on a PostgreSQL server: the team's store (docs/log-format.md §7). The same events,
/// canonical bytes, hashes and leaf hashes as in SQLite, with the rules of `EventLog` above.
public typealias PostgresEventStore = EventLog<PostgresStorage>

extension EventLog where Backend == PostgresStorage {
    /// Connects to an existing store (a libpq connection string or `postgresql://` URL).
    public convenience init(connectingTo conninfo: String) throws(StoreError) { self.init(backend: try PostgresStorage(connectingTo: conninfo)) }
}

/// Storage in the `failback` schema of a PostgreSQL database.
///
/// The write lock is the row of `failback.log`, taken with `SELECT ... FOR UPDATE` at the start
/// of every append: writers on any number of machines take turns, each reading the last `seq` and
/// the drill's head under it, so sequence numbers stay gapless and each chain is extended from its
/// true head. Every session runs with `synchronous_commit = on`: a commit returns once the server
/// has flushed it (and, with a synchronous standby configured, once the standby has it too).
public final class PostgresStorage: StorageBackend {
    /// `failback.log.format`: the layout of the tables.
    public static let formatVersion = 1

    private var conn: PostgresConnection
    private let conninfo: String
    public let location: String
    public let isReadOnly: Bool
    /// How long an append waits for a server to take writes again after the connection was lost
    /// (a failover: the standby promoted; found through the connection string's hosts).
    public var reconnectWindow: Double = 30

    /// Whether a store name is a PostgreSQL connection string rather than a file path.
    public static func isConnectionString(_ store: String) -> Bool {
        store.hasPrefix("postgresql://") || store.hasPrefix("postgres://")
    }

    public init(connectingTo conninfo: String) throws(StoreError) {
        conn = try Self.connect(conninfo)
        self.conninfo = conninfo
        location = conn.label
        guard try conn.query("SELECT 1 FROM pg_namespace WHERE nspname = 'failback'").count == 1 else {
            throw StoreError(.missing, "no failback store in the database \(conn.label) (run 'failback init --store URL' to create one)", path: conn.label)
        }
        let found = try conn.query("SELECT format FROM failback.log WHERE id = 1")
        guard found.count == 1 else { throw StoreError(.notAStore, "\(conn.label): the failback schema has no log row", path: conn.label) }
        let format = found.row(0).int(0)
        guard format == Self.formatVersion else {
            throw StoreError(.notAStore, "\(conn.label) holds a failback store of PostgreSQL format \(format); this build reads format \(Self.formatVersion)", path: conn.label)
        }
        isReadOnly = try conn.query("SELECT pg_is_in_recovery()").row(0).text(0) == "t"
    }

    private static func connect(_ conninfo: String) throws(StoreError) -> PostgresConnection {
        let conn = try PostgresConnection(conninfo: conninfo)
        try conn.execute("SET synchronous_commit = on; SET application_name = 'failback'")
        return conn
    }

    /// A new connection, when the one held was lost: tried again every 250 ms for up to
    /// `reconnectWindow` seconds (libpq tries each host of the connection string in turn and, with
    /// `target_session_attrs=read-write`, takes only one that accepts writes).
    private func reconnect() throws(StoreError) {
        let deadline = monotonicSeconds() + reconnectWindow
        while true {
            do throws(StoreError) {
                let fresh = try Self.connect(conninfo)
                guard try fresh.query("SELECT pg_is_in_recovery()").row(0).text(0) == "f" else {
                    throw StoreError(.readOnly, "store \(location) reconnected to a standby (read-only): nothing appended", path: location)
                }
                conn = fresh
                return
            } catch {
                if monotonicSeconds() >= deadline { throw error }
                usleep(250_000)
            }
        }
    }

    // MARK: Creating

    /// The schema, as `failback init --print-sql` prints it for a DBA.
    public static let schema = """
        CREATE SCHEMA failback;
        -- The write lock (one row, taken FOR UPDATE by every append) and the layout's version.
        CREATE TABLE failback.log (
            id       integer PRIMARY KEY CHECK (id = 1),
            format   integer NOT NULL,
            last_seq bigint  NOT NULL
        );
        INSERT INTO failback.log VALUES (1, \(formatVersion), 0);
        CREATE TABLE failback.events (
            seq             bigint PRIMARY KEY,     -- global, gapless from 1
            drill_id        text   NOT NULL,
            drill_seq       bigint NOT NULL,        -- gapless from 1 within the drill
            type            text   NOT NULL,
            recorded_at     text   NOT NULL,
            idempotency_key text,
            canonical       bytea  NOT NULL,        -- RFC 8785 bytes of the envelope: the source of truth
            hash            bytea  NOT NULL,        -- SHA-256(previous hash || canonical)
            leaf_hash       bytea  NOT NULL,        -- SHA-256(0x00 || canonical), RFC 9162
            UNIQUE (drill_id, drill_seq)
        );
        CREATE UNIQUE INDEX events_by_idempotency_key ON failback.events (idempotency_key) WHERE idempotency_key IS NOT NULL;
        CREATE TABLE failback.drills (
            drill_id        text   PRIMARY KEY,
            started_seq     bigint NOT NULL,
            started_at      text   NOT NULL,
            event_count     bigint NOT NULL,
            head_seq        bigint NOT NULL,
            head_hash       bytea  NOT NULL,
            closed_seq      bigint,
            canonical_bytes bigint NOT NULL
        );
        CREATE TABLE failback.projections (      -- a cache beside the log, never evidence
            name        text   NOT NULL,
            drill_id    text   NOT NULL,
            event_count bigint NOT NULL,
            head_hash   bytea  NOT NULL,
            value       bytea  NOT NULL,
            PRIMARY KEY (name, drill_id)
        );
        CREATE TABLE failback.learned_secrets (  -- salted hashes of secrets a drill redacted; never evidence
            drill_id    text   NOT NULL,
            length      bigint NOT NULL,
            fingerprint bigint NOT NULL,
            digest      bytea  NOT NULL,
            PRIMARY KEY (drill_id, digest)
        );
        CREATE FUNCTION failback.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'failback %s are append-only: % refused', TG_TABLE_NAME, TG_OP; END $$;
        CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON failback.events FOR EACH ROW EXECUTE FUNCTION failback.refuse();
        CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON failback.events FOR EACH STATEMENT EXECUTE FUNCTION failback.refuse();
        CREATE TRIGGER drills_no_delete BEFORE DELETE ON failback.drills FOR EACH ROW EXECUTE FUNCTION failback.refuse();
        CREATE TRIGGER drills_no_truncate BEFORE TRUNCATE ON failback.drills FOR EACH STATEMENT EXECUTE FUNCTION failback.refuse();
        -- Once per statement (an append's rows come in one COPY or INSERT): every row inserted must
        -- come after the log row's last_seq, which the append moves forward only after its inserts.
        CREATE FUNCTION failback.insert_only_appends() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF EXISTS (SELECT 1 FROM added WHERE seq <= (SELECT last_seq FROM failback.log WHERE id = 1)) THEN
                    RAISE EXCEPTION 'failback events are append-only: an insert may only add an event after the last';
                END IF;
                RETURN NULL;
            END $$;
        CREATE TRIGGER events_insert_only_appends AFTER INSERT ON failback.events REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION failback.insert_only_appends();
        CREATE FUNCTION failback.heads_only_advance() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF OLD.closed_seq IS NOT NULL OR NEW.event_count <= OLD.event_count OR NEW.head_seq <= OLD.head_seq
                   OR NEW.canonical_bytes <= OLD.canonical_bytes OR NEW.drill_id IS DISTINCT FROM OLD.drill_id
                   OR NEW.started_seq IS DISTINCT FROM OLD.started_seq OR NEW.started_at IS DISTINCT FROM OLD.started_at THEN
                    RAISE EXCEPTION 'failback drill heads only move forward';
                END IF;
                RETURN NEW;
            END $$;
        CREATE TRIGGER drills_heads_only_advance BEFORE UPDATE ON failback.drills FOR EACH ROW EXECUTE FUNCTION failback.heads_only_advance();
        CREATE FUNCTION failback.lock_only_advances() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id <> OLD.id OR NEW.format <> OLD.format OR NEW.last_seq < OLD.last_seq THEN
                    RAISE EXCEPTION 'failback log position only moves forward';
                END IF;
                RETURN NEW;
            END $$;
        CREATE TRIGGER log_only_advances BEFORE UPDATE ON failback.log FOR EACH ROW EXECUTE FUNCTION failback.lock_only_advances();
        CREATE TRIGGER log_no_delete BEFORE DELETE OR TRUNCATE ON failback.log FOR EACH STATEMENT EXECUTE FUNCTION failback.refuse();
        """

    /// What a DBA grants the role recorders connect as: reading, inserting events, moving heads
    /// and taking the write lock; never updating or deleting an event.
    public static let writerRoleSQL = """
        -- CREATE ROLE failback_writer LOGIN PASSWORD '...';
        GRANT USAGE ON SCHEMA failback TO failback_writer;
        GRANT SELECT, INSERT ON failback.events TO failback_writer;
        GRANT SELECT, INSERT, UPDATE ON failback.drills TO failback_writer;
        GRANT SELECT, UPDATE ON failback.log TO failback_writer;
        GRANT SELECT, INSERT, UPDATE ON failback.projections TO failback_writer;
        GRANT SELECT, INSERT ON failback.learned_secrets TO failback_writer;
        """

    /// Creates the store's schema in the database. False when one is already there (left as it is).
    @discardableResult
    public static func create(at conninfo: String) throws(StoreError) -> Bool {
        let conn = try PostgresConnection(conninfo: conninfo)
        if try conn.query("SELECT 1 FROM pg_namespace WHERE nspname = 'failback'").count == 1 {
            _ = try PostgresStorage(connectingTo: conninfo)  // it must be a store
            return false
        }
        try conn.execute("BEGIN")
        do {
            try conn.execute(schema)
            try conn.execute("COMMIT")
        } catch {
            try? conn.execute("ROLLBACK")
            // Another process created it meanwhile: then it is there, as asked.
            if (try? conn.query("SELECT 1 FROM pg_namespace WHERE nspname = 'failback'").count) == 1 {
                _ = try PostgresStorage(connectingTo: conninfo)
                return false
            }
            throw error
        }
        return true
    }

    // MARK: Writing

    /// One transaction under the lock row. A connection found lost before the transaction, or lost
    /// during it before its COMMIT was sent (the server then rolls it back), is made again and the
    /// transaction run again once (`body` reads everything it decides on inside it). A connection
    /// lost while COMMIT was on its way is an error: the append may or may not have landed, and a
    /// retry with its idempotency key says which.
    public func readOnlyRefusal(_ what: String) -> StoreError {
        StoreError(.readOnly, "store \(location) is a standby (read-only): \(what)", path: location)
    }

    public func write<T>(_ body: (any WriteTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        guard !isReadOnly else { throw readOnlyRefusal("nothing appended") }
        if conn.isBroken { try reconnect() }
        var committing = false
        do {
            return try attempt(body, committing: &committing)
        } catch {
            guard conn.isBroken, !committing else { throw error }
            try reconnect()
            committing = false
            return try attempt(body, committing: &committing)
        }
    }

    private func attempt<T>(_ body: (any WriteTransaction) throws(StoreError) -> T, committing: inout Bool) throws(StoreError) -> T {
        try conn.execute("BEGIN")
        do throws(StoreError) {
            let last = try conn.query("SELECT last_seq FROM failback.log WHERE id = 1 FOR UPDATE").row(0).int(0)
            // The lock row's count is trusted only as far as the events bear it out (one index probe).
            let stored = try conn.query("SELECT coalesce(max(seq), 0) FROM failback.events").row(0).int(0)
            guard stored == last else {
                throw StoreError(
                    .corrupt, "store \(location) records its last seq as \(last) but its last event is seq \(stored): nothing appended (run 'failback verify')",
                    path: location)
            }
            let tx = Transaction(conn: conn, lastSeq: last)
            let result = try body(tx)
            try tx.flush()
            if tx.last != last { try conn.query("UPDATE failback.log SET last_seq = $1 WHERE id = 1", [.int(tx.last)]) }
            committing = true
            try conn.execute("COMMIT")
            return result
        } catch {
            if !conn.isBroken { try? conn.execute("ROLLBACK") }
            throw error
        }
    }

    /// An append's view while it holds the lock row; events are inserted in multi-row statements.
    private final class Transaction: WriteTransaction {
        let conn: PostgresConnection
        var last: Int
        private var pending: [NewRow] = []
        /// Rows held before they are sent (one COPY), and from how many rows COPY is used rather
        /// than one multi-row INSERT (a round trip fewer for an append of one event).
        static let rowsPerStatement = 5000
        static let copyFrom = 16

        init(conn: PostgresConnection, lastSeq: Int) {
            self.conn = conn
            self.last = lastSeq
        }

        func lastSeq() throws(StoreError) -> Int { last }

        func head(of drill: String) throws(StoreError) -> DrillHead? {
            try PostgresStorage.heads(conn, "WHERE drill_id = $1", [.text(drill)]).first
        }

        func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
            try PostgresStorage.storedEvent(conn, key)
        }

        func insert(_ row: NewRow) throws(StoreError) {
            pending.append(row)
            last = max(last, row.seq)
            if pending.count == Self.rowsPerStatement { try flush() }
        }

        func flush() throws(StoreError) {
            guard !pending.isEmpty else { return }
            if pending.count >= Self.copyFrom {
                // Many rows: one COPY (no statement to parse and plan, no parameters to bind).
                var rows = CopyText()
                for r in pending {
                    rows.int(r.seq); rows.text(r.drillID); rows.int(r.drillSeq); rows.text(r.type); rows.text(r.recordedAt)
                    rows.text(r.idempotencyKey); rows.bytea(r.canonical); rows.bytea(r.hash); rows.bytea(r.leafHash)
                    rows.endRow()
                }
                pending.removeAll(keepingCapacity: true)
                try conn.copyIn(
                    "COPY failback.events (seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash) FROM STDIN", rows.bytes)
                return
            }
            var values: [String] = []
            var params: [PostgresConnection.Param] = []
            for (i, r) in pending.enumerated() {
                let b = i * 9
                values.append("($\(b + 1),$\(b + 2),$\(b + 3),$\(b + 4),$\(b + 5),$\(b + 6),$\(b + 7),$\(b + 8),$\(b + 9))")
                params += [
                    .int(r.seq), .text(r.drillID), .int(r.drillSeq), .text(r.type), .text(r.recordedAt), r.idempotencyKey.map { .text($0) } ?? .null,
                    .bytes(r.canonical), .bytes(r.hash), .bytes(r.leafHash),
                ]
            }
            pending.removeAll(keepingCapacity: true)
            try conn.query(
                "INSERT INTO failback.events (seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash) VALUES "
                    + values.joined(separator: ","), params)
        }

        func remember(_ secrets: [LearnedSecretRecord], drill: String) throws(StoreError) {
            for r in secrets {
                try conn.query(
                    "INSERT INTO failback.learned_secrets (drill_id, length, fingerprint, digest) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    [.text(drill), .int(r.length), .int(r.fingerprint), .bytes(r.digest)])
            }
        }

        func writeHead(_ h: DrillHead, isNew: Bool) throws(StoreError) {
            try flush()
            let closed: PostgresConnection.Param = h.closedSeq.map { .int($0) } ?? .null
            if isNew {
                try conn.query(
                    "INSERT INTO failback.drills (drill_id, started_seq, started_at, event_count, head_seq, head_hash, closed_seq, canonical_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    [
                        .text(h.drillID), .int(h.startedSeq), .text(h.startedAt.description), .int(h.eventCount), .int(h.headSeq), .bytes(h.headHash), closed,
                        .int(h.canonicalBytes ?? 0),
                    ])
            } else {
                try conn.query(
                    "UPDATE failback.drills SET event_count = $1, head_seq = $2, head_hash = $3, closed_seq = $4, canonical_bytes = $5 WHERE drill_id = $6",
                    [.int(h.eventCount), .int(h.headSeq), .bytes(h.headHash), closed, .int(h.canonicalBytes ?? 0), .text(h.drillID)])
            }
        }
    }

    // MARK: Reading

    private static func heads(_ conn: PostgresConnection, _ clause: String, _ params: [PostgresConnection.Param]) throws(StoreError) -> [DrillHead] {
        let rows = try conn.query(
            "SELECT drill_id, started_seq, started_at, event_count, head_seq, head_hash, closed_seq, canonical_bytes FROM failback.drills \(clause)", params,
            binaryResults: true)
        return (0..<rows.count).map { i in
            let r = rows.row(i)
            return DrillHead(
                drillID: r.text(0), startedSeq: r.int8(1), startedAt: Timestamp(rfc3339: r.text(2)) ?? Timestamp(millisecondsSinceEpoch: 0),
                eventCount: r.int8(3), headSeq: r.int8(4), headHash: Array(r.bytes(5)), closedSeq: r.isNull(6) ? nil : r.int8(6), canonicalBytes: r.int8(7))
        }
    }

    private static func storedEvent(_ conn: PostgresConnection, _ key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
        let rows = try conn.query("SELECT canonical, hash FROM failback.events WHERE idempotency_key = $1", [.text(key)], binaryResults: true)
        guard rows.count == 1 else { return nil }
        return (Array(rows.row(0).bytes(0)), Array(rows.row(0).bytes(1)))
    }

    public func drillHeads(_ which: DrillSelection) throws(StoreError) -> [DrillHead] {
        switch which {
        case .one(let id): return try Self.heads(conn, "WHERE drill_id = $1", [.text(id)])
        case .all: return try Self.heads(conn, "ORDER BY started_seq", [])
        case .currentOpen: return try Self.heads(conn, "WHERE closed_seq IS NULL ORDER BY started_seq DESC LIMIT 1", [])
        }
    }

    public func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
        try Self.storedEvent(conn, key)
    }

    public func forEachStoredEvent(drill: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws {
        var failure: (any Error)?
        try conn.forEachRow(
            "SELECT seq, canonical, hash, leaf_hash FROM failback.events WHERE drill_id = $1 AND drill_seq BETWEEN $2 AND $3 ORDER BY drill_seq",
            [.text(drill), .int(drillSeqs.lowerBound), .int(min(drillSeqs.upperBound, Int(Int64.max)))]
        ) { r in
            do {
                try body(StoredEvent(seq: r.int8(0), canonical: r.bytes(1), hash: r.bytes(2), leafHash: r.isNull(3) ? nil : r.bytes(3)))
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
    }

    public func forEachRow(filedUnder drill: String, seqs: ClosedRange<Int>, _ body: (Int, StoredEvent) -> Bool) throws(StoreError) {
        try conn.forEachRow(
            "SELECT seq, drill_seq, canonical, hash, leaf_hash FROM failback.events WHERE drill_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
            [.text(drill), .int(seqs.lowerBound), .int(seqs.upperBound)]
        ) { r in body(r.int8(1), StoredEvent(seq: r.int8(0), canonical: r.bytes(2), hash: r.bytes(3), leafHash: r.isNull(4) ? nil : r.bytes(4))) }
    }

    public func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError) {
        try conn.forEachRow(
            "SELECT seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash FROM failback.events WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
            [.int(seqs.lowerBound), .int(seqs.upperBound)]
        ) { r in
            let columns = StoreWalk.Columns(
                seq: r.int8(0), drillID: r.text(1), drillSeq: r.int8(2), type: r.text(3), recordedAt: r.text(4), idempotencyKey: r.isNull(5) ? nil : r.text(5))
            return body(columns, StoredEvent(seq: columns.seq, canonical: r.bytes(6), hash: r.bytes(7), leafHash: r.isNull(8) ? nil : r.bytes(8)))
        }
    }

    public func recordedLastSeq() throws(StoreError) -> Int? {
        try conn.query("SELECT last_seq FROM failback.log WHERE id = 1").row(0).int(0)
    }

    public func maxDrillSeq(filedUnder drill: String) throws(StoreError) -> Int {
        try conn.query("SELECT coalesce(max(drill_seq), 0) FROM failback.events WHERE drill_id = $1", [.text(drill)]).row(0).int(0)
    }

    public func canonicalSize(drill: String, through drillSeq: Int) throws(StoreError) -> Int {
        try conn.query("SELECT coalesce(sum(length(canonical)), 0) FROM failback.events WHERE drill_id = $1 AND drill_seq <= $2", [.text(drill), .int(drillSeq)])
            .row(0).int(0)
    }

    public func lastDrillSeq(drill: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int {
        try conn.query(
            "SELECT coalesce(max(drill_seq), 0) FROM failback.events WHERE drill_id = $1 AND recorded_at <= $2", [.text(drill), .text(time.description)]
        ).row(0).int(0)
    }

    public func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection] {
        let rows = try conn.query("SELECT drill_id, event_count, head_hash, value FROM failback.projections WHERE name = $1", [.text(name)], binaryResults: true)
        var found: [String: CachedProjection] = [:]
        for i in 0..<rows.count {
            let r = rows.row(i)
            found[r.text(0)] = CachedProjection(eventCount: r.int8(1), headHash: Array(r.bytes(2)), value: Array(r.bytes(3)))
        }
        return found
    }

    public func learnedSecrets(drill: String) throws(StoreError) -> [LearnedSecretRecord] {
        let rows = try conn.query(
            "SELECT length, fingerprint, digest FROM failback.learned_secrets WHERE drill_id = $1 ORDER BY length, digest", [.text(drill)], binaryResults: true)
        return (0..<rows.count).map { i in
            let r = rows.row(i)
            return LearnedSecretRecord(length: r.int8(0), fingerprint: r.int8(1), digest: Array(r.bytes(2)))
        }
    }

    public func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError) {
        for (drill, p) in projections.sorted(by: { $0.key < $1.key }) {
            try conn.query(
                "INSERT INTO failback.projections (name, drill_id, event_count, head_hash, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, drill_id) DO UPDATE SET event_count = EXCLUDED.event_count, head_hash = EXCLUDED.head_hash, value = EXCLUDED.value",
                [.text(name), .text(drill), .int(p.eventCount), .bytes(p.headHash), .bytes(p.value)])
        }
    }
}
