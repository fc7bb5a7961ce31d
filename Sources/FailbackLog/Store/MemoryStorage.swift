/// Storage in memory, for fast tests of everything above the log (and of the log's own rules, by
/// the contract suite that runs over every backend). Nothing survives the process. Writers are
/// serialised by a lock; an append that throws leaves nothing behind.
public final class MemoryStorage: StorageBackend, @unchecked Sendable {
    /// One stored row.
    public struct Row: Sendable, Equatable {
        public var seq: Int
        public var drillID: String
        public var drillSeq: Int
        public var type: String
        public var recordedAt: String
        public var idempotencyKey: String?
        public var canonical: [UInt8]
        public var hash: [UInt8]
        public var leafHash: [UInt8]?
    }

    public struct Contents: Sendable {
        public var rows: [Row] = []
        public var heads: [String: DrillHead] = [:]
        public var projections: [String: [String: CachedProjection]] = [:]
        public var learned: [String: Set<LearnedSecretRecord>] = [:]
    }

    private let contents = Locked(Contents())
    /// Held for a whole append, as a database holds its write lock.
    private let writeLock = Locked(())
    public let location: String
    public let isReadOnly: Bool

    public init(name: String = "memory", readOnly: Bool = false) {
        location = name
        isReadOnly = readOnly
    }

    /// Changes the stored rows behind the log's back, as someone with the database would (tests).
    public func tamper(_ body: (inout Contents) -> Void) { contents.withLock { body(&$0) } }

    private var snapshot: Contents { contents.withLock { $0 } }

    public func write<T>(_ body: (any WriteTransaction) throws(StoreError) -> T) throws(StoreError) -> T {
        guard !isReadOnly else { throw StoreError(.readOnly, "store \(location) is read-only: nothing appended", path: location) }
        return try writeLock.withLock { (_) throws(StoreError) -> T in
            let tx = Transaction(working: snapshot)
            let result = try body(tx)
            contents.withLock { $0 = tx.working }  // commit
            return result
        }
    }

    private final class Transaction: WriteTransaction {
        var working: Contents
        init(working: Contents) { self.working = working }

        func lastSeq() throws(StoreError) -> Int { working.rows.last?.seq ?? 0 }
        func head(of drill: String) throws(StoreError) -> DrillHead? { working.heads[drill] }
        func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
            working.rows.first { $0.idempotencyKey == key }.map { ($0.canonical, $0.hash) }
        }
        func insert(_ row: NewRow) throws(StoreError) {
            guard row.seq > (working.rows.last?.seq ?? 0),
                !working.rows.contains(where: { $0.drillID == row.drillID && $0.drillSeq == row.drillSeq })
            else { throw StoreError(.database, "row at seq \(row.seq) is already there") }
            working.rows.append(
                Row(
                    seq: row.seq, drillID: row.drillID, drillSeq: row.drillSeq, type: row.type, recordedAt: row.recordedAt, idempotencyKey: row.idempotencyKey,
                    canonical: row.canonical, hash: row.hash, leafHash: row.leafHash))
        }
        func remember(_ secrets: [LearnedSecretRecord], drill: String) throws(StoreError) {
            working.learned[drill, default: []].formUnion(secrets)
        }
        func writeHead(_ head: DrillHead, isNew: Bool) throws(StoreError) {
            if let old = working.heads[head.drillID] {
                guard !isNew, old.closedSeq == nil, head.eventCount > old.eventCount else { throw StoreError(.database, "drill heads only move forward") }
            } else if !isNew {
                throw StoreError(.database, "no head of \(head.drillID) to move")
            }
            working.heads[head.drillID] = head
        }
    }

    public func drillHeads(_ which: DrillSelection) throws(StoreError) -> [DrillHead] {
        let heads = snapshot.heads
        switch which {
        case .one(let id): return heads[id].map { [$0] } ?? []
        case .all: return heads.values.sorted { $0.startedSeq < $1.startedSeq }
        case .currentOpen: return heads.values.filter { $0.closedSeq == nil }.max { $0.startedSeq < $1.startedSeq }.map { [$0] } ?? []
        }
    }

    public func storedEvent(withIdempotencyKey key: String) throws(StoreError) -> (canonical: [UInt8], hash: [UInt8])? {
        snapshot.rows.first { $0.idempotencyKey == key }.map { ($0.canonical, $0.hash) }
    }

    public func forEachStoredEvent(drill: String, drillSeqs: ClosedRange<Int>, _ body: (StoredEvent) throws -> Void) throws {
        for row in snapshot.rows.filter({ $0.drillID == drill && drillSeqs.contains($0.drillSeq) }).sorted(by: { $0.drillSeq < $1.drillSeq }) {
            try Self.withStored(row) { try body($0) }
        }
    }

    public func forEachRow(filedUnder drill: String, seqs: ClosedRange<Int>, _ body: (Int, StoredEvent) -> Bool) throws(StoreError) {
        for row in snapshot.rows where row.drillID == drill && seqs.contains(row.seq) {
            guard Self.withStored(row, { body(row.drillSeq, $0) }) else { return }
        }
    }

    public func forEachRow(seqs: ClosedRange<Int>, _ body: (StoreWalk.Columns, StoredEvent) -> Bool) throws(StoreError) {
        for row in snapshot.rows.sorted(by: { $0.seq < $1.seq }) where seqs.contains(row.seq) {
            let columns = StoreWalk.Columns(
                seq: row.seq, drillID: row.drillID, drillSeq: row.drillSeq, type: row.type, recordedAt: row.recordedAt, idempotencyKey: row.idempotencyKey)
            guard Self.withStored(row, { body(columns, $0) }) else { return }
        }
    }

    public func maxDrillSeq(filedUnder drill: String) throws(StoreError) -> Int { snapshot.rows.filter { $0.drillID == drill }.map(\.drillSeq).max() ?? 0 }

    public func canonicalSize(drill: String, through drillSeq: Int) throws(StoreError) -> Int {
        snapshot.rows.filter { $0.drillID == drill && $0.drillSeq <= drillSeq }.reduce(0) { $0 + $1.canonical.count }
    }

    public func lastDrillSeq(drill: String, recordedAtOrBefore time: Timestamp) throws(StoreError) -> Int {
        let limit = time.description
        return snapshot.rows.filter { $0.drillID == drill && $0.recordedAt <= limit }.map(\.drillSeq).max() ?? 0
    }

    public func cachedProjections(_ name: String) throws(StoreError) -> [String: CachedProjection] { snapshot.projections[name] ?? [:] }

    public func cacheProjections(_ name: String, _ projections: [String: CachedProjection]) throws(StoreError) {
        contents.withLock { $0.projections[name, default: [:]].merge(projections) { _, new in new } }
    }

    public func learnedSecrets(drill: String) throws(StoreError) -> [LearnedSecretRecord] {
        (snapshot.learned[drill] ?? []).sorted { ($0.length, $0.digest.lexicographicallyPrecedes($1.digest) ? 0 : 1) < ($1.length, 0) }
    }

    private static func withStored<T>(_ row: Row, _ body: (StoredEvent) throws -> T) rethrows -> T {
        try row.canonical.withUnsafeBytes { c in
            try row.hash.withUnsafeBytes { h in
                if let leaf = row.leafHash {
                    return try leaf.withUnsafeBytes { l in try body(StoredEvent(seq: row.seq, canonical: c, hash: h, leafHash: l)) }
                }
                return try body(StoredEvent(seq: row.seq, canonical: c, hash: h, leafHash: nil))
            }
        }
    }
}

/// The log over memory storage.
public typealias MemoryEventStore = EventLog<MemoryStorage>
