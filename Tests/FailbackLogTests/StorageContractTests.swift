import CSQLite
import Foundation
import Testing
@testable import FailbackLog

/// The backends the log runs over, each with a way to damage its rows as someone holding the
/// database would (triggers dropped first, for SQLite).
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, memory, postgres

    var testDescription: String { rawValue }

    /// A fresh, empty store of this kind.
    func make(_ dir: TemporaryDirectory, name: String = "contract") throws -> StoreUnderTest {
        switch self {
        case .sqlite:
            let path = "\(dir.path)/\(name).sqlite"
            try SQLiteEventStore.create(at: path)
            return StoreUnderTest(store: try SQLiteEventStore(openingAt: path), sqlitePath: path, memory: nil)
        case .memory:
            let storage = MemoryStorage(name: "memory:\(name)")
            return StoreUnderTest(store: EventLog(backend: storage), sqlitePath: nil, memory: storage)
        case .postgres:
            let url = try PostgresServer.freshDatabase()
            try PostgresStorage.create(at: url)
            return StoreUnderTest(store: try PostgresEventStore(connectingTo: url), sqlitePath: nil, memory: nil, postgresURL: url)
        }
    }
}

/// The tests' own PostgreSQL server (`scripts/pg-store`: a cluster on a loopback port, run as the
/// `postgres` user), started once; each store gets a database of its own.
enum PostgresServer {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/pg-store").path

    static func run(_ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: script)
        p.arguments = args
        let out = Pipe()
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("pg-store-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        p.standardOutput = out
        p.standardError = try FileHandle(forWritingTo: errors)
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            let why = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            throw StoreError(.database, "scripts/pg-store \(args.joined(separator: " ")) failed: \(why)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new, empty database on the server (started if it is not running).
    static func freshDatabase() throws -> String {
        _ = try run(["start"])
        return try run(["url"])
    }

    /// Runs SQL with the real `psql` as the database's owner.
    static func psql(_ url: String, _ sql: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw StoreError(.database, "psql failed: \(sql)") }
    }
}

/// A store and the means to damage it behind its back.
struct StoreUnderTest {
    let store: any EventStore
    let sqlitePath: String?
    let memory: MemoryStorage?
    var postgresURL: String? = nil

    /// Replaces one byte of the canonical bytes of the event at `seq`.
    func alterByte(seq: Int, from: UInt8, to: UInt8) throws {
        if let memory {
            memory.tamper { c in
                let i = c.rows.firstIndex { $0.seq == seq }!
                let at = c.rows[i].canonical.firstIndex(of: from)!
                c.rows[i].canonical[at] = to
            }
        } else if let postgresURL {
            try PostgresServer.psql(
                postgresURL,
                """
                ALTER TABLE failback.events DISABLE TRIGGER USER;
                UPDATE failback.events SET canonical = overlay(canonical PLACING '\\x\(String(to, radix: 16))'::bytea FROM position('\\x\(String(from, radix: 16))'::bytea IN canonical) FOR 1) WHERE seq = \(seq);
                """)
        } else {
            try sql(
                "DROP TRIGGER events_refuse_update; UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), char(\(from)), char(\(to))) AS BLOB) WHERE seq = \(seq);")
        }
    }

    /// Sets a drill's index back to its first `count` events (later events stay).
    func rewind(drill: String, to count: Int) throws {
        if let memory {
            memory.tamper { c in
                let rows = c.rows.filter { $0.drillID == drill }.prefix(count)
                c.heads[drill]!.eventCount = count
                c.heads[drill]!.headSeq = rows.last!.seq
                c.heads[drill]!.headHash = rows.last!.hash
                c.heads[drill]!.canonicalBytes = rows.reduce(0) { $0 + $1.canonical.count }
            }
        } else if let postgresURL {
            try PostgresServer.psql(
                postgresURL,
                """
                ALTER TABLE failback.drills DISABLE TRIGGER USER;
                UPDATE failback.drills SET event_count = \(count), head_seq = (SELECT seq FROM failback.events WHERE drill_id = '\(drill)' AND drill_seq = \(count)),
                  head_hash = (SELECT hash FROM failback.events WHERE drill_id = '\(drill)' AND drill_seq = \(count)),
                  canonical_bytes = (SELECT sum(length(canonical)) FROM failback.events WHERE drill_id = '\(drill)' AND drill_seq <= \(count))
                WHERE drill_id = '\(drill)';
                """)
        } else {
            try sql(
                """
                DROP TRIGGER drills_heads_only_advance;
                UPDATE drills SET event_count = \(count), head_seq = (SELECT seq FROM events WHERE drill_id = '\(drill)' AND drill_seq = \(count)),
                  head_hash = (SELECT hash FROM events WHERE drill_id = '\(drill)' AND drill_seq = \(count)),
                  canonical_bytes = (SELECT sum(length(canonical)) FROM events WHERE drill_id = '\(drill)' AND drill_seq <= \(count))
                WHERE drill_id = '\(drill)';
                """)
        }
    }

    /// Deletes a drill's index entry (its events stay).
    func unindex(drill: String) throws {
        if let memory {
            memory.tamper { $0.heads[drill] = nil }
        } else if let postgresURL {
            try PostgresServer.psql(postgresURL, "ALTER TABLE failback.drills DISABLE TRIGGER USER; DELETE FROM failback.drills WHERE drill_id = '\(drill)';")
        } else {
            try sql("DROP TRIGGER drills_refuse_delete; DELETE FROM drills WHERE drill_id = '\(drill)';")
        }
    }

    /// Sets the `recorded_at` column of the row at `seq` (its bytes unchanged).
    func forgeRecordedAt(seq: Int, _ value: String) throws {
        if let memory {
            memory.tamper { c in c.rows[c.rows.firstIndex { $0.seq == seq }!].recordedAt = value }
        } else if let postgresURL {
            try PostgresServer.psql(postgresURL, "ALTER TABLE failback.events DISABLE TRIGGER USER; UPDATE failback.events SET recorded_at = '\(value)' WHERE seq = \(seq);")
        } else {
            try sql("DROP TRIGGER events_refuse_update; UPDATE events SET recorded_at = '\(value)' WHERE seq = \(seq);")
        }
    }

    /// Sets a drill's index `started_at` (its events unchanged).
    func forgeStartedAt(drill: String, _ value: String) throws {
        if let memory {
            memory.tamper { $0.heads[drill]!.startedAt = Timestamp(rfc3339: value)! }
        } else if let postgresURL {
            try PostgresServer.psql(
                postgresURL, "ALTER TABLE failback.drills DISABLE TRIGGER USER; UPDATE failback.drills SET started_at = '\(value)' WHERE drill_id = '\(drill)';")
        } else {
            try sql("DROP TRIGGER drills_heads_only_advance; UPDATE drills SET started_at = '\(value)' WHERE drill_id = '\(drill)';")
        }
    }

    private func sql(_ text: String) throws {
        let db = try SQLiteConnection(path: sqlitePath!, flags: SQLITE_OPEN_READWRITE)
        try db.execute(text)
    }
}

/// The log's guarantees, the same over every backend (docs/log-format.md §4–5).
@Suite struct StorageContractTests {
    @Test(arguments: Backend.allCases)
    func sequencesAreGaplessAndEachChainLinksFromItsHead(backend: Backend) throws {
        let dir = TemporaryDirectory()
        let s = try backend.make(dir).store
        _ = try s.append([draft("a", 0, lifecycle: .opens), draft("a", 1)])
        _ = try s.append([draft("b", 2, lifecycle: .opens), draft("a", 3), draft("b", 4)])
        _ = try s.append([draft("a", 5)])
        var seqs: [Int] = []
        for drill in ["a", "b"] {
            var previous = HashChain.genesis
            var n = 0
            try s.forEachEvent(drill: drill) { e in
                n += 1
                #expect(e.drillSeq == n)
                #expect(e.hash == HashChain.sha256(previous + e.canonical), "drill \(drill) event #\(n)")
                previous = e.hash
                seqs.append(e.seq)
            }
            let head = try #require(try s.drill(drill))
            #expect(head.eventCount == n && head.headHash == previous)
            #expect(head.canonicalBytes == (try s.canonicalSize(drill: drill, through: n)))
        }
        #expect(seqs.sorted() == Array(1...6))
        #expect(try s.drills().map(\.drillID) == ["a", "b"])
        #expect(try s.currentDrill()?.drillID == "b")
        try s.forEachStoredEvent(drill: "a", drillSeqs: 2...3) { row in #expect(row.leafHash.map(Array.init) == MerkleLeaf.hash(Array(row.canonical))) }
        #expect(try s.verifyStore().isIntact && s.verify(drill: "a").isIntact && s.verify(drill: "b").isIntact)
    }

    @Test(arguments: Backend.allCases)
    func lifecycleRulesHoldAndARefusedBatchLeavesNothing(backend: Backend) throws {
        let dir = TemporaryDirectory()
        let s = try backend.make(dir).store
        #expect(throws: StoreError.self) { try s.append([draft("x", 0)]) }  // no such drill
        _ = try s.append([draft("a", 0, lifecycle: .opens)])
        #expect { try s.append([draft("a", 1, lifecycle: .opens)]) } throws: { ($0 as? StoreError)?.code == .drillExists }
        // A batch whose last draft is refused appends none of its drafts.
        #expect { try s.append([draft("a", 2), draft("nope", 3)]) } throws: { ($0 as? StoreError)?.code == .unknownDrill }
        #expect(try s.drill("a")?.eventCount == 1)
        var stale = draft("a", 4)
        stale.expectedDrillSeq = 0
        #expect { try s.append([stale]) } throws: { ($0 as? StoreError)?.code == .conflict }
        _ = try s.append([draft("a", 5, lifecycle: .closes)])
        #expect(try s.drill("a")?.closedSeq == 2 && s.currentDrill() == nil)
        #expect { try s.append([draft("a", 6)]) } throws: { ($0 as? StoreError)?.code == .drillClosed }
        #expect(try s.verifyStore().checked == 2)
        #expect(try s.verify(drill: "a", deep: true, closingTypes: ["NoteAdded"]).isIntact)
    }

    @Test(arguments: Backend.allCases)
    func aRetryWithItsKeyRecordsNothingAndAKeyIsNeverReused(backend: Backend) throws {
        let dir = TemporaryDirectory()
        let s = try backend.make(dir).store
        let first = try s.append([draft("a", 0, lifecycle: .opens, key: "start")])[0]
        // A retried start has a new drill id: the same start all the same.
        let again = try s.append([draft("a2", 0, lifecycle: .opens, key: "start")])[0]
        guard case .alreadyRecorded(let earlier) = again else { Issue.record("recorded twice"); return }
        #expect(earlier == first.event)
        _ = try s.append([draft("a", 1, key: "k")])
        #expect(try s.event(withIdempotencyKey: "k")?.drillSeq == 2)
        #expect { try s.append([draft("a", 1, key: "k", payload: ["text": "other"])]) } throws: { ($0 as? StoreError)?.code == .idempotencyConflict }
        #expect(try s.drills().count == 1 && s.drill("a")?.eventCount == 2)
    }

    @Test(arguments: Backend.allCases)
    func readingByMomentAndCachingProjections(backend: Backend) throws {
        let dir = TemporaryDirectory()
        let s = try backend.make(dir).store
        _ = try s.append((0..<5).map { draft("a", $0 * 1000, lifecycle: $0 == 0 ? .opens : .continues) })
        #expect(try s.lastDrillSeq(drill: "a", recordedAtOrBefore: Timestamp(millisecondsSinceEpoch: 1_795_458_060_000 + 2500)) == 3)
        #expect(try s.lastDrillSeq(drill: "a", recordedAtOrBefore: Timestamp(millisecondsSinceEpoch: 0)) == 0)
        var seen: [Int] = []
        try s.forEachEvent(drill: "a", drillSeqs: 2...4) { seen.append($0.drillSeq) }
        #expect(seen == [2, 3, 4])
        let head = try #require(try s.drill("a"))
        try s.cacheProjections("p/1", ["a": CachedProjection(eventCount: 5, headHash: head.headHash, value: Array("{}".utf8))])
        let kept = try s.cachedProjections("p/1")["a"]
        #expect(kept?.isCurrent(for: head) == true && kept?.value == Array("{}".utf8))
    }

    /// `StoreCopy` from any backend to any other: the same rows (bytes, hashes, leaf hashes), the
    /// same index and learned secrets; an interrupted copy resumes; a copy with more events than
    /// were copied, a source that does not verify, and a target holding other events are refused.
    @Test(arguments: Backend.allCases, Backend.allCases)
    func aCopyHoldsTheSameRowsAndResumes(from: Backend, to: Backend) throws {
        let dir = TemporaryDirectory()
        let source = try from.make(dir, name: "source").store
        var opening = draft("a", 0, lifecycle: .opens, key: "start-a")
        opening.learnedSecrets = [LearnedSecretRecord(length: 7, fingerprint: 42, digest: Array(repeating: 9, count: 32))]
        _ = try source.append([opening] + (1..<40).map { draft("a", $0) })
        _ = try source.append([draft("b", 40, lifecycle: .opens)] + (41..<60).map { draft("b", $0, key: "k\($0)") })
        _ = try source.append([draft("a", 60), draft("b", 61), draft("a", 62, lifecycle: .closes)])
        func rows(_ store: any EventStore) throws -> [CopiedRow] {
            var all: [CopiedRow] = []
            try store.forEachRow(seqs: 1...Int.max) { columns, row in
                all.append(CopiedRow(columns, row))
                return true
            }
            return all
        }
        let target = try to.make(dir, name: "target").store
        // Interrupted after the first batches: the target holds a prefix, then the copy resumes.
        let prefix = Array(try rows(source).prefix(25))
        try target.appendCopies(prefix, closedSeqs: [:], learnedSecrets: [:])
        var batches = 0
        let report = try StoreCopy.copy(from: source, to: { target }, closingTypes: [], batchBytes: 2000, progress: { _ in batches += 1 })
        #expect(report.sourceEvents == 63 && report.alreadyThere == 25 && report.copied == 38 && report.drills == 2)
        #expect(batches > 2)
        let copiedRows = try rows(target), sourceRows = try rows(source)
        #expect(copiedRows.count == 63)
        for (a, b) in zip(copiedRows, sourceRows) {
            #expect(a.columns == b.columns && a.canonical == b.canonical && a.hash == b.hash && a.leafHash == b.leafHash, "seq \(b.columns.seq)")
        }
        #expect(try target.drills() == source.drills())
        #expect(try target.learnedSecrets(drill: "a") == source.learnedSecrets(drill: "a") && target.learnedSecrets(drill: "a").count == 1)
        #expect(try target.event(withIdempotencyKey: "k45")?.drillSeq == 6)
        // Again: nothing to copy, and the same report says so.
        let again = try StoreCopy.copy(from: source, to: { target }, closingTypes: [])
        #expect(again.copied == 0 && again.alreadyThere == 63)
        #expect(again.summary == "\(target.location) already holds all of \(source.location) (63 events in 2 drills); both verified, the copy's index identical to the source's")
    }

    /// What a copy refuses, leaving the target as it was: a damaged source (the target not even
    /// opened), a target holding other events, and rows that break the log's rules.
    @Test(arguments: Backend.allCases)
    func aCopyRefusesWhatIsNotACopy(backend: Backend) throws {
        let dir = TemporaryDirectory()
        let sourceUnderTest = try backend.make(dir, name: "source")
        let source = sourceUnderTest.store
        _ = try source.append([draft("a", 0, lifecycle: .opens)] + (1..<6).map { draft("a", $0) })
        var rows: [CopiedRow] = []
        try source.forEachRow(seqs: 1...Int.max) { columns, row in
            rows.append(CopiedRow(columns, row))
            return true
        }
        // A target holding another drill's events: not a copy.
        let other = try MemoryEventStore(backend: MemoryStorage(name: "other"))
        _ = try other.append([draft("z", 0, lifecycle: .opens)])
        #expect { try StoreCopy.copy(from: source, to: { other }, closingTypes: []) } throws: {
            ($0 as? StoreError)?.code == .mismatch
                && ($0 as? StoreError)?.message == "store other is not a copy of \(source.location): drill z is not in the source (as the copy began); nothing copied"
        }
        #expect(try other.drills().count == 1 && other.verifyStore().checked == 1)
        // Rows that break the rules, each refused with nothing of its batch kept.
        let target = EventLog(backend: MemoryStorage(name: "target"))
        var skipped = rows
        skipped.remove(at: 2)
        var badHash = rows
        badHash[3].hash[0] ^= 1
        var badLeaf = rows
        badLeaf[1].leafHash?[5] ^= 1
        var badColumn = rows
        badColumn[4].columns.type = "Forged"
        for (name, batch) in [("a gap", skipped), ("a chain hash", badHash), ("a leaf hash", badLeaf), ("a column", badColumn)] {
            #expect(throws: StoreError.self, "\(name)") { try target.appendCopies(batch, closedSeqs: [:], learnedSecrets: [:]) }
            #expect(try target.drills().isEmpty && target.verifyStore().checked == 0, "\(name)")
        }
        try target.appendCopies(Array(rows.prefix(3)), closedSeqs: [:], learnedSecrets: [:])
        #expect { try target.appendCopies(Array(rows.prefix(3)), closedSeqs: [:], learnedSecrets: [:]) } throws: {
            ($0 as? StoreError)?.message == "cannot copy the event at seq 1 into store target: the store's last event is seq 3; nothing of this batch copied"
        }
        // A damaged source: refused before the target is opened.
        try sourceUnderTest.alterByte(seq: 4, from: UInt8(ascii: "3"), to: UInt8(ascii: "7"))
        var opened = false
        #expect {
            try StoreCopy.copy(
                from: source,
                to: {
                    opened = true; return target
                }, closingTypes: [])
        } throws: {
            ($0 as? StoreError)?.code == .integrity && ($0 as? StoreError)?.message.hasPrefix("the source, \(source.location), does not verify: ") == true
        }
        #expect(try !opened && target.verifyStore().checked == 3)
    }

    /// Every kind of damage is named, with the first bad seq, whatever holds the rows.
    @Test(arguments: Backend.allCases)
    func damageIsCaughtWhateverHoldsTheRows(backend: Backend) throws {
        let dir = TemporaryDirectory()
        var made = 0
        func fresh() throws -> (Int, StoreUnderTest) {
            made += 1
            let t = try backend.make(dir, name: "damaged-\(made)")
            _ = try t.store.append([draft("a", 0, lifecycle: .opens)] + (1..<6).map { draft("a", $0) })
            _ = try t.store.append([draft("b", 6, lifecycle: .opens), draft("b", 7)])
            return (made, t)
        }
        do {
            let (_, t) = try fresh()
            try t.alterByte(seq: 4, from: UInt8(ascii: "3"), to: UInt8(ascii: "7"))
            let r = try t.store.verify(drill: "a")
            #expect(r.problem == .hashMismatch && r.badSeq == 4)
        }
        do {
            let (_, t) = try fresh()
            try t.rewind(drill: "a", to: 3)
            let r = try t.store.verify(drill: "a")
            #expect(r.problem == .beyondHead(recordedCount: 3, found: 6))
            #expect(try t.store.verifyStore().problem == .beyondHead(recordedCount: 3, found: 6))
        }
        do {
            let (_, t) = try fresh()
            try t.unindex(drill: "b")
            let r = try t.store.verifyStore()
            #expect(r.problem == .unindexedDrill("b") && r.badSeq == 7)
        }
        do {
            let (_, t) = try fresh()
            try t.forgeRecordedAt(seq: 5, "2020-01-01T00:00:00.000Z")
            let r = try t.store.verifyStore()
            #expect(r.badSeq == 5)
            guard case .columnMismatch(let what)? = r.problem else { Issue.record("\(r.summary)"); return }
            #expect(what.hasPrefix("recorded_at \"2020-01-01T00:00:00.000Z\", bytes say"))
        }
        do {
            let (_, t) = try fresh()
            try t.forgeStartedAt(drill: "b", "1999-01-01T00:00:00.000Z")
            let r = try t.store.verify(drill: "b")
            #expect(r.badSeq == 7 && r.badDrillSeq == 1)
            guard case .startMismatch(let what)? = r.problem else { Issue.record("\(r.summary)"); return }
            #expect(what.hasPrefix("started_at 1999-01-01T00:00:00.000Z, the first event was recorded at "), "\(what)")
        }
        if backend == .postgres {
            // The lock row's last_seq moved on with triggers disabled: caught by the walk, and no
            // append trusts it.
            let (_, t) = try fresh()
            try PostgresServer.psql(t.postgresURL!, "ALTER TABLE failback.log DISABLE TRIGGER USER; UPDATE failback.log SET last_seq = last_seq + 5;")
            #expect(try t.store.verifyStore().problem == .lastSeqMismatch(recorded: 13, found: 8))
            #expect { try t.store.append([draft("a", 9)]) } throws: { ($0 as? StoreError)?.code == .corrupt }
        }
    }
}
