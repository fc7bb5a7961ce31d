import CSQLite
import Foundation
import Testing
@testable import FailbackLog

/// Drafts with a fixed clock, so that stores fed the same drafts hold the same bytes.
func draft(_ drill: String, _ n: Int, lifecycle: DrillLifecycle = .continues, key: String? = nil, payload: JSONValue? = nil) -> EventDraft {
    EventDraft(
        type: lifecycle == .opens ? "DrillStarted" : "NoteAdded", schemaVersion: 1, drillID: drill,
        recordedAt: Timestamp(millisecondsSinceEpoch: 1_795_458_060_000 + Int64(n)), actor: "tester", host: "lab",
        payload: payload ?? ["text": .string("event \(n)")], idempotencyKey: key, lifecycle: lifecycle)
}

func newStore(_ dir: TemporaryDirectory, _ name: String = "ledger.sqlite") throws -> SQLiteEventStore {
    try SQLiteEventStore.create(at: "\(dir.path)/\(name)")
    return try SQLiteEventStore(openingAt: "\(dir.path)/\(name)")
}

@Suite struct EventStoreTests {
    /// Every event appended, in a batch or alone, has its RFC 9162 leaf hash stored beside it.
    @Test func everyAppendedEventHasItsLeafHashStored() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1), draft("b", 2, lifecycle: .opens), draft("a", 3)])
        _ = try store.append([draft("b", 4)])
        for drill in ["a", "b"] {
            var rows = 0
            try store.forEachStoredEvent(drill: drill, drillSeqs: 1...Int.max) { row in
                rows += 1
                #expect(row.leafHash.map(Array.init) == MerkleLeaf.hash(Array(row.canonical)), "seq \(row.seq)")
            }
            #expect(rows == (drill == "a" ? 3 : 2))
        }
        // The known answer: RFC 9162's leaf hash of the empty string, SHA-256 of the byte 0x00
        // (`printf '\0' | sha256sum`).
        #expect(MerkleLeaf.hash([]).hex == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    }

    /// A store of format 2 (before events kept their leaf hash): an upgrade adds the column in place,
    /// leaving it empty for the events already there; read-only, it is read as it is. Either way
    /// those events' leaf hashes are computed when asked for, and verify passes.
    @Test func aFormat2StoreIsUpgradedOrReadAsItIs() throws {
        let dir = TemporaryDirectory()
        let path = "\(dir.path)/ledger.sqlite"
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1), draft("a", 2)])
        let db = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE)
        // Format 2: without format 3's column and format 4's triggers.
        try db.execute(
            "ALTER TABLE events DROP COLUMN leaf_hash; DROP TRIGGER events_insert_only_appends; DROP TRIGGER drills_insert_only_new; PRAGMA user_version = 2;")
        let hasher = SHA256Hasher()
        func leaves(_ store: SQLiteEventStore) throws -> (stored: [Bool], hashes: [[UInt8]]) {
            var stored: [Bool] = [], hashes: [[UInt8]] = []
            try store.forEachStoredEvent(drill: "a", drillSeqs: 1...Int.max) { row in
                stored.append(row.leafHash != nil)
                hashes.append(try row.withLeafHash(using: hasher) { Array($0) })
                #expect(hashes.last == MerkleLeaf.hash(Array(row.canonical)))
            }
            return (stored, hashes)
        }
        chmod(path, 0o444)
        let readOnly = try SQLiteEventStore(openingAt: path)
        #expect(try leaves(readOnly).stored == [false, false, false])
        #expect(try readOnly.verify(drill: "a").isIntact)
        chmod(path, 0o644)
        // Opened for reading only (`store copy`'s source), a writable old store is not upgraded.
        let asked = try SQLiteEventStore(openingAt: path, readOnly: true)
        #expect(try leaves(asked).stored == [false, false, false])
        #expect(try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY).integer("PRAGMA user_version") == 2)
        let upgraded = try SQLiteEventStore(openingAt: path)
        #expect(try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY).integer("PRAGMA user_version") == 4)
        // Two processes that opened the old store at once both upgrade it: the second finds the
        // work done (under the write lock) and leaves it.
        try upgraded.upgrade(fromFormat: 2)
        _ = try upgraded.append([draft("a", 3)])
        #expect(try leaves(upgraded).stored == [false, false, false, true])
        #expect(try upgraded.verify(drill: "a").isIntact)
        #expect(try upgraded.verify(drill: "a", deep: true).isIntact)
    }

    /// A store of format 1 (before drills kept the size of their events): an upgrade adds the sizes,
    /// summed from the events, in place; read-only, it is read as it is and the sizes are summed.
    @Test func aFormat1StoreIsUpgradedOrReadAsItIs() throws {
        let dir = TemporaryDirectory()
        let path = "\(dir.path)/ledger.sqlite"
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1), draft("b", 2, lifecycle: .opens), draft("a", 3)])
        let sizes = try ["a", "b"].map { d in try store.canonicalSize(drill: d, through: store.drill(d)!.eventCount) }
        var summed = 0
        try store.forEachEvent(drill: "a") { summed += $0.canonical.count }
        #expect(sizes[0] == summed)
        func downgrade() throws {
            let db = try SQLiteConnection(path: path, flags: SQLITE_OPEN_READWRITE)
            try db.execute(
                """
                ALTER TABLE events DROP COLUMN leaf_hash;
                DROP TRIGGER events_insert_only_appends; DROP TRIGGER drills_insert_only_new;
                DROP TRIGGER drills_heads_only_advance; ALTER TABLE drills DROP COLUMN canonical_bytes;
                CREATE TRIGGER drills_heads_only_advance BEFORE UPDATE ON drills WHEN OLD.event_count >= NEW.event_count
                    BEGIN SELECT RAISE(ABORT, 'failback drill heads only move forward'); END;
                PRAGMA user_version = 1;
                """)
        }
        try downgrade()
        chmod(path, 0o444)
        let readOnly = try SQLiteEventStore(openingAt: path)
        #expect(try ["a", "b"].map { d in try readOnly.canonicalSize(drill: d, through: readOnly.drill(d)!.eventCount) } == sizes)
        #expect(try readOnly.verify(drill: "a").isIntact)
        chmod(path, 0o644)
        let upgraded = try SQLiteEventStore(openingAt: path)
        #expect(try SQLiteConnection(path: path, flags: SQLITE_OPEN_READONLY).integer("PRAGMA user_version") == SQLiteEventStore.formatVersion)
        #expect(try ["a", "b"].map { d in try upgraded.canonicalSize(drill: d, through: upgraded.drill(d)!.eventCount) } == sizes)
        let appended = try upgraded.append([draft("a", 4)]).map(\.event)
        #expect(try upgraded.canonicalSize(drill: "a", through: 4) == sizes[0] + appended[0].canonical.count)
        #expect(try upgraded.canonicalSize(drill: "a", through: 3) == sizes[0])  // a part of the drill: summed
        #expect(try upgraded.verify(drill: "a").isIntact)
        #expect(try upgraded.verify(drill: "b").isIntact)
    }

    @Test func assignsGaplessGlobalAndPerDrillSequences() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1)])
        _ = try store.append([draft("b", 2, lifecycle: .opens), draft("a", 3), draft("b", 4)])
        var seen: [(Int, Int)] = []
        try store.forEachEvent(drill: "a") { seen.append(($0.seq, $0.drillSeq)) }
        #expect(seen.map(\.0) == [1, 2, 4])
        #expect(seen.map(\.1) == [1, 2, 3])
        #expect(try store.drill("b")?.eventCount == 2)
        #expect(try store.currentDrill()?.drillID == "b")
        #expect(try store.verifyStore().checked == 5)
        #expect(try store.verify(drill: "a").isIntact)
        #expect(try store.verify(drill: "b").isIntact)
    }

    /// A drill whose rows lie close together is read as a range of the table, one spread among
    /// many other rows (or read from a later event) through its index: both give the rows of its
    /// index, in `drill_seq` order, for any range.
    @Test func bothWaysOfReadingADrillGiveItsRowsInOrder() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("b", 1, lifecycle: .opens), draft("a", 2), draft("c", 3, lifecycle: .opens)])
        _ = try store.append([draft("a", 4)] + (5..<21).map { draft("b", $0) } + [draft("c", 21)])
        let raw = try SQLiteConnection(path: store.path, flags: SQLITE_OPEN_READONLY)
        for drill in ["a", "b", "c"] {
            for range in [1...Int.max, 1...2, 2...3, 3...3, 1...1, 5...9] {
                var read: [Int] = []
                try store.forEachStoredEvent(drill: drill, drillSeqs: range) { read.append($0.seq) }
                let s = try raw.statement("SELECT seq FROM events WHERE drill_id = ? AND drill_seq BETWEEN ? AND ? ORDER BY drill_seq")
                try s.bind([.text(drill), .int(range.lowerBound), .int(range.upperBound)])
                var indexed: [Int] = []
                while try s.step() { indexed.append(s.int(0)) }
                s.reset()
                #expect(read == indexed, "drill \(drill), drill_seq \(range)")
            }
        }
        // Drill c (2 events 18 rows apart) is read through its index; a (3 in 5 rows), by range.
        let (a, c) = (try #require(try store.drill("a")), try #require(try store.drill("c")))
        #expect(a.headSeq - a.startedSeq < 2 * a.eventCount)
        #expect(c.headSeq - c.startedSeq >= 2 * c.eventCount)
    }

    /// Rows whose `drill_seq` goes back in `seq` order (only a damaged store holds them) end a walk
    /// by range with an error naming the row, not events out of order.
    @Test func rowsOutOfOrderEndAWalk() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1), draft("a", 2)])
        let raw = try SQLiteConnection(path: store.path, flags: SQLITE_OPEN_READWRITE)
        try raw.execute("DROP TRIGGER events_refuse_update; UPDATE events SET drill_seq = 0 WHERE seq = 3")
        var read: [Int] = []
        let error = #expect(throws: StoreError.self) { try store.forEachStoredEvent(drill: "a", drillSeqs: 1...3) { read.append($0.seq) } }
        #expect(error?.code == .corrupt)
        #expect(error?.message.contains("seq 3 has drill_seq 0 after 2") == true)
        #expect(read == [1, 2])
    }

    @Test func chainLinksAreSHA256OfPreviousAndCanonicalBytes() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        let events = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1)]).map(\.event)
        #expect(events[0].hash == HashChain.sha256(HashChain.genesis + events[0].canonical))
        #expect(events[1].hash == HashChain.sha256(events[0].hash + events[1].canonical))
        #expect(try store.drill("a")?.headHash == events[1].hash)
    }

    @Test func aFailingBatchAppendsNothing() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens)])
        #expect(throws: StoreError.self) { try store.append([draft("a", 1), draft("a", 2), draft("nope", 3)]) }
        #expect(try store.drill("a")?.eventCount == 1)
        #expect(try store.verifyStore().checked == 1)
        // and the next append continues without a gap
        #expect(try store.append([draft("a", 4)])[0].event.seq == 2)
    }

    @Test func refusesUnknownClosedAndDuplicateDrills() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        func code(_ body: () throws -> Void) -> StoreError.Code? {
            do { try body(); return nil } catch let e as StoreError { return e.code } catch { return nil }
        }
        #expect(code { _ = try store.append([draft("x", 0)]) } == .unknownDrill)
        _ = try store.append([draft("a", 0, lifecycle: .opens)])
        #expect(code { _ = try store.append([draft("a", 1, lifecycle: .opens)]) } == .drillExists)
        _ = try store.append([draft("a", 2, lifecycle: .closes)])
        #expect(code { _ = try store.append([draft("a", 3)]) } == .drillClosed)
        #expect(try store.currentDrill() == nil)
    }

    @Test func idempotencyKeyMakesARetryANoOp() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens)])
        let first = try store.append([draft("a", 1, key: "k", payload: ["text": "same"])])[0]
        let retry = try store.append([draft("a", 99, key: "k", payload: ["text": "same"])])[0]  // later clock, same content
        #expect(first == .appended(first.event))
        #expect(retry == .alreadyRecorded(first.event))
        #expect(try store.drill("a")?.eventCount == 2)
        #expect(throws: StoreError.self) { try store.append([draft("a", 2, key: "k", payload: ["text": "other"])]) }
        // Repeated within one batch: written once.
        let batch = try store.append([draft("a", 3, key: "j", payload: ["text": "b"]), draft("a", 4, key: "j", payload: ["text": "b"])])
        #expect(batch[1] == .alreadyRecorded(batch[0].event))
        #expect(try store.drill("a")?.eventCount == 3)
    }

    @Test func anExpectedHeadThatMovedIsAConflict() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens)])
        var checked = draft("a", 1)
        checked.expectedDrillSeq = 1
        _ = try store.append([draft("a", 2)])  // someone else moved the drill on
        do { _ = try store.append([checked]); Issue.record("appended against a stale state") } catch { #expect(error.code == .conflict) }
        checked.expectedDrillSeq = 2
        #expect(try store.append([checked])[0].event.drillSeq == 3)
    }

    @Test func databaseRefusesUpdateAndDelete() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("a", 0, lifecycle: .opens)])
        let raw = try SQLiteConnection(path: store.path, flags: 0x2 /* READWRITE */)
        #expect(throws: SQLiteError.self) { try raw.execute("UPDATE events SET type = 'x'") }
        #expect(throws: SQLiteError.self) { try raw.execute("DELETE FROM events") }
        #expect(throws: SQLiteError.self) { try raw.execute("DELETE FROM drills") }
        #expect(throws: SQLiteError.self) { try raw.execute("UPDATE drills SET event_count = 0") }
    }

    @Test func eventsSurviveReopening() throws {
        let dir = TemporaryDirectory()
        do {
            let store = try newStore(dir)
            _ = try store.append([draft("a", 0, lifecycle: .opens), draft("a", 1)])
        }
        let reopened = try SQLiteEventStore(openingAt: "\(dir.path)/ledger.sqlite")
        #expect(try reopened.drill("a")?.eventCount == 2)
        #expect(try reopened.verify(drill: "a").isIntact)
    }

    @Test func openingRefusesMissingAndForeignFiles() throws {
        let dir = TemporaryDirectory()
        #expect(throws: StoreError.self) { try SQLiteEventStore(openingAt: "\(dir.path)/none.sqlite") }
        _ = FileManager.default.createFile(atPath: "\(dir.path)/text.sqlite", contents: Data("hello".utf8))
        do { _ = try SQLiteEventStore(openingAt: "\(dir.path)/text.sqlite") } catch { #expect(error.code == .notAStore) }
        #expect(throws: StoreError.self) { try SQLiteEventStore.create(at: "\(dir.path)/text.sqlite") }
    }

    @Test func aStoreWithoutWritePermissionIsReadOnly() throws {
        let dir = TemporaryDirectory()
        _ = try newStore(dir)
        chmod("\(dir.path)/ledger.sqlite", 0o444)
        let store = try SQLiteEventStore(openingAt: "\(dir.path)/ledger.sqlite")
        #expect(store.isReadOnly)
        do { _ = try store.append([draft("a", 0, lifecycle: .opens)]) } catch { #expect(error.code == .readOnly) }
    }

    /// Two stores fed the same drafts hold the same bytes and hashes (determinism).
    @Test func sameDraftsGiveSameBytes() throws {
        let dir = TemporaryDirectory()
        let drafts = [draft("a", 0, lifecycle: .opens)] + (1...50).map { draft("a", $0) }
        var heads: [[UInt8]] = []
        for name in ["one.sqlite", "two.sqlite"] {
            let store = try newStore(dir, name)
            _ = try store.append(Array(drafts[..<20]))
            for d in drafts[20...] { _ = try store.append([d]) }
            heads.append(try store.verify(drill: "a").head!)
        }
        #expect(heads[0] == heads[1])
    }
}

@Suite struct ChainVerifierTests {
    struct Row {
        var seq: Int, drillSeq: Int, drill: String, canonical: [UInt8], hash: [UInt8]
    }

    /// A good five-event chain, as rows.
    func goodChain() -> [Row] {
        var previous = HashChain.genesis
        return (1...5).map { n in
            let d = draft("a", n, lifecycle: n == 1 ? .opens : .continues)
            let canonical = d.canonicalBytes(seq: n, drillSeq: n)
            previous = HashChain.link(previous: previous, canonical: canonical)
            return Row(seq: n, drillSeq: n, drill: "a", canonical: canonical, hash: previous)
        }
    }

    func verify(_ rows: [Row], recordedCount: Int? = nil, head: [UInt8]? = nil, deep: Bool = false) -> VerificationReport {
        var v = ChainVerifier(drillID: "a", deep: deep)
        for r in rows where !v.feed(seq: r.seq, drillSeq: r.drillSeq, drillIDColumn: r.drill, canonical: r.canonical, storedHash: r.hash) { break }
        return v.finish(recordedCount: recordedCount ?? rows.count, recordedHeadSeq: 5, recordedHeadHash: head ?? rows.last!.hash)
    }

    @Test func acceptsAGoodChain() {
        #expect(verify(goodChain()).isIntact)
        #expect(verify(goodChain(), deep: true).isIntact)
    }

    /// Every single-bit change to any stored byte (event or hash) is detected, at that event, by
    /// the fast walk and by the deep one.
    @Test(arguments: [false, true])
    func everyBitFlipIsDetectedAndLocated(deep: Bool) {
        let good = goodChain()
        var cases = 0
        for i in good.indices {
            for field in 0..<2 {
                let count = field == 0 ? good[i].canonical.count : good[i].hash.count
                for byte in 0..<count {
                    for bit in [0, 3, 7] {
                        var rows = good
                        if field == 0 { rows[i].canonical[byte] ^= 1 << bit } else { rows[i].hash[byte] ^= 1 << bit }
                        let report = verify(rows, head: good.last!.hash, deep: deep)
                        #expect(!report.isIntact)
                        #expect(report.badSeq == good[i].seq || (i == good.count - 1 && report.problem == .headMismatch))
                        cases += 1
                    }
                }
            }
        }
        #expect(cases > 3000)
    }

    @Test func detectsMissingSwappedAndTruncatedEvents() {
        let good = goodChain()
        var missing = good
        missing.remove(at: 2)
        #expect(verify(missing, recordedCount: 5, head: good.last!.hash).problem == .sequenceBreak(expectedDrillSeq: 3, found: 4))
        #expect(verify(missing, recordedCount: 5, head: good.last!.hash).badSeq == 4)

        var swapped = good
        swapped.swapAt(1, 2)
        let s = verify(swapped, recordedCount: 5, head: good.last!.hash)
        #expect(s.problem == .sequenceBreak(expectedDrillSeq: 2, found: 3))
        #expect(s.badSeq == 3)

        let truncated = Array(good.dropLast())
        #expect(verify(truncated, recordedCount: 5, head: good.last!.hash).problem == .truncated(recordedCount: 5, found: 4, recordedHeadSeq: 5))
        #expect(verify(truncated, recordedCount: 5, head: good.last!.hash).badSeq == 5)
    }

    @Test func detectsRowsFiledUnderTheWrongPlace() {
        var rows = goodChain()
        rows[3].seq = 40
        #expect(verify(rows).badSeq == 40)
        var moved = goodChain()
        moved[2].drill = "b"
        if case .misplaced = verify(moved).problem {} else { Issue.record("not detected") }
    }

    @Test func detectsNonCanonicalBytesEvenWithARecomputedHash() {
        var rows = goodChain()
        // Re-serialize event 1 with whitespace and re-link the whole chain: every hash is "right".
        rows[0].canonical = Array(String(decoding: rows[0].canonical, as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8)
        var previous = HashChain.genesis
        for i in rows.indices {
            previous = HashChain.link(previous: previous, canonical: rows[i].canonical)
            rows[i].hash = previous
        }
        // Both walks: the fast one checks the form in one pass, the deep one by parsing and writing again.
        #expect(verify(rows, deep: true).problem == .notCanonical)
        #expect(verify(rows).problem == .notCanonical)
        #expect(verify(rows).badSeq == rows[0].seq)
    }

    @Test func scansEnvelopePlacesWithoutParsingThePayload() {
        let d = draft("drill-x", 1, payload: ["nested": ["seq": 99, "drill_seq": 98, "drill_id": "other", "s": "a\"}],{"]])
        let bytes = d.canonicalBytes(seq: 42, drillSeq: 7)
        bytes.withUnsafeBytes { b in
            let place = EnvelopePlace(scanning: b)
            #expect(place?.seq == 42)
            #expect(place?.drillSeq == 7)
            #expect(place.map { String(decoding: $0.drillID, as: UTF8.self) } == "drill-x")
        }
        // The events the recorder writes are read from both ends (the fast path), and agree with the full scan.
        for (i, d) in [
            draft("drill-x", 1), draft("d", 2, key: "k"),
            EventDraft(
                type: "NoteAdded", schemaVersion: 1, drillID: "d", recordedAt: Timestamp(millisecondsSinceEpoch: 0), actor: "a\"q", host: "h",
                payload: ["text": "x"], redactions: [Redaction(pointer: "/payload/text", kind: "k")]),
        ].enumerated() {
            d.canonicalBytes(seq: 1000 + i, drillSeq: 3).withUnsafeBytes { b in
                let quick = EnvelopePlace.fromEnds(b)
                #expect((quick == nil) == (i == 2), "an escaped actor must fall back to the full scan")
                #expect(EnvelopePlace(scanning: b)?.seq == 1000 + i)
                #expect(EnvelopePlace(scanning: b)?.drillSeq == 3)
            }
        }
        Array("{\"seq\":1}".utf8).withUnsafeBytes { #expect(EnvelopePlace(scanning: $0) == nil) }
        Array("{\"drill_seq\":1,\"drill_id\":\"a\",\"seq\":2".utf8).withUnsafeBytes { #expect(EnvelopePlace(scanning: $0) == nil) }
    }

    /// Damaged envelopes are read without reading past their bytes (the scan reads raw memory; a
    /// bounds failure here crashed `failback verify` on a row cut short after its `drill_seq`): every
    /// prefix and every one-byte deletion of real envelopes gives a place or nil, and a whole one
    /// gives its own place. Each damaged copy is its own allocation, so a read past it is caught.
    @Test func damagedEnvelopesAreScannedWithinTheirBytes() {
        for (i, d) in [draft("drill-x", 1), draft("d", 2, key: "k")].enumerated() {
            let bytes = d.canonicalBytes(seq: 7 + i, drillSeq: 3)
            var damaged = (0..<bytes.count).map { Array(bytes.prefix($0)) }
            damaged += bytes.indices.map { k in
                var b = bytes; b.remove(at: k); return b
            }
            var places = 0
            for b in damaged {
                b.withUnsafeBytes { raw in
                    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: raw.count, alignment: 1)
                    defer { copy.deallocate() }
                    copy.copyMemory(from: raw)
                    if EnvelopePlace(scanning: UnsafeRawBufferPointer(copy)) != nil { places += 1 }
                }
            }
            #expect(places < damaged.count)
            bytes.withUnsafeBytes { #expect(EnvelopePlace(scanning: $0)?.seq == 7 + i) }
        }
    }
}
