import Foundation
import Testing

/// Changes made behind the recorder's back with the real `sqlite3` shell: `failback verify` and the
/// independent Python verifier both fail and name the first bad sequence number.
@Suite struct TamperTests {
    /// A store with one drill of 10 events (seq 1–10), copied fresh for each tampering.
    func tamperedStore(_ sql: String) throws -> (Lab, Outcome) {
        let lab = try Lab()
        _ = try lab.startDrill()
        for i in 1...9 { try lab.expectSuccess(["record", "lag", "--seconds", "\(i)", "--source", "dr", "--target", "primary"]) }
        #expect(try lab.failback(["verify"]).status == 0)
        let edit = try lab.sqlite(sql)
        #expect(edit.status == 0, "sqlite3: \(edit.stderr)")
        return (lab, try lab.failback(["verify"]))
    }

    /// A reading command shows a tampered drill only with a warning: one line on standard error,
    /// and a banner in the report (Markdown, HTML, JSON, JUnit); an intact drill has neither.
    @Test func readingCommandsWarnOfABrokenChain() throws {
        let (lab, verify) = try tamperedStore(
            Self.dropTriggers + "UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '\"lag_seconds\":3', '\"lag_seconds\":0.3') AS BLOB) WHERE drill_seq = 4;")
        #expect(verify.status == 1)
        let drill = try lab.failback(["drill", "list", "--json"]).stdout.components(separatedBy: "\"drill_id\":\"")[1].prefix { $0 != "\"" }
        let broken =
            "chain BROKEN at seq 4 (drill event #4): stored hash does not match SHA-256(previous hash || canonical bytes): the event was altered: this is not evidence (run 'failback verify')"
        let warning = "failback: warning: drill \(drill): \(broken)\n"
        for command in [["status"], ["report"], ["replay"], ["compare", String(drill), String(drill)]] {
            let o = try lab.failback(command)
            #expect(o.status == 0 && !o.stdout.isEmpty, "\(command): \(o.stderr)")
            #expect(o.stderr == (command[0] == "compare" ? warning + warning : warning), "\(command): \(o.stderr)")
        }
        #expect(try lab.failback(["report"]).stdout.contains("\n\n> **WARNING: \(broken)**\n\n"))
        #expect(try lab.failback(["report", "--format", "html"]).stdout.contains("<p class=\"verdict bad\">WARNING: \(broken.replacingOccurrences(of: "'", with: "&#39;"))</p>"))
        #expect(try lab.failback(["report", "--format", "json"]).stdout.contains("\"broken\":\"\(broken)\""))
        #expect(try lab.failback(["report", "--format", "junit"]).stdout.contains("<!-- WARNING: chain BROKEN at seq 4"))
        // Intact: no warning, no banner.
        let intact = try Lab()
        _ = try intact.startDrill("rollback-teei")
        for command in [["status"], ["report"], ["replay"]] {
            let o = try intact.failback(command)
            #expect(o.status == 0 && o.stderr.isEmpty, "\(command): \(o.stderr)")
            #expect(!o.stdout.contains("WARNING"))
        }
    }

    func expectDetected(_ sql: String, seq: Int?, saying: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (lab, verify) = try tamperedStore(sql)
        #expect(verify.status == 1, "verify passed after: \(sql)", sourceLocation: sourceLocation)
        if let seq { #expect(verify.stdout.contains("BROKEN at seq \(seq)"), "\(verify.stdout)", sourceLocation: sourceLocation) }
        #expect(verify.stdout.contains(saying), "\(verify.stdout)", sourceLocation: sourceLocation)
        let independent = try python("verify-log.py", [lab.store])
        #expect(independent.status == 1, "python verifier passed: \(independent.stdout)", sourceLocation: sourceLocation)
        if let seq { #expect(independent.stdout.contains("seq \(seq)") || independent.stdout.contains("BROKEN"), sourceLocation: sourceLocation) }
    }

    static let dropTriggers = "DROP TRIGGER events_refuse_update; DROP TRIGGER events_refuse_delete; DROP TRIGGER drills_heads_only_advance;"

    /// An export checks every event as `verify` does: one that is not readable, not one line, or
    /// altered stops it with the event named, and no bundle (nor a part of one) is left.
    @Test(arguments: [
        ("UPDATE events SET canonical = CAST(substr(canonical, 1, 40) AS BLOB) WHERE seq = 5;", "chain BROKEN at seq 5: stored bytes are not an event: not a JSON object"),
        (
            #"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '{"actor"', '{'||char(10)||'"actor"') AS BLOB) WHERE seq = 6;"#,
            "chain BROKEN at seq 6 (drill event #6): stored hash does not match"
        ),
        // The size an export writes in the tar header before the events, kept in the drills index.
        ("UPDATE drills SET canonical_bytes = canonical_bytes - 1;", "the store's index records"),
        ("UPDATE drills SET canonical_bytes = canonical_bytes + 1;", "bytes of events but they hold"),
        // A damaged value quoted by the error, with a line break in it: still one line.
        (
            #"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"recorded_at":"', '"recorded_at":"\n') AS BLOB) WHERE seq = 5; UPDATE drills SET canonical_bytes = canonical_bytes + 2;"#,
            "chain BROKEN at seq 5 (drill event #5): stored hash does not match"
        ),
        // A hash cut short would shift every hash after it in the export's batch (this crashed it).
        ("UPDATE events SET hash = substr(hash, 1, 31) WHERE seq = 4;", "chain BROKEN at seq 4 (drill event #4): stored hash does not match"),
    ])
    func anExportOfADamagedStoreStopsAndWritesNothing(sql: String, saying: String) throws {
        let (lab, verify) = try tamperedStore(Self.dropTriggers + sql)
        #expect(verify.status == 1)
        try FileManager.default.createDirectory(atPath: "\(lab.dir)/out", withIntermediateDirectories: true)
        let export = try lab.failback(["evidence", "export", "-o", "\(lab.dir)/out/bundle.tar.gz"])
        #expect(export.status != 0)
        #expect(export.stderr.contains(saying), "\(export.stderr)")
        #expect(export.stderr.split(separator: "\n").count == 1)
        let left = try FileManager.default.contentsOfDirectory(atPath: "\(lab.dir)/out")
        #expect(left.isEmpty, "left behind: \(left)")
    }

    /// What `verify` calls broken is never signed. An event edited with its leaf hash and the
    /// drill's head recomputed (the hashes between left as they were), or a drill's index rewound
    /// over events it had, is refused by `evidence export` and `evidence prove` alike: exit 1, the
    /// verifier's finding in one line, nothing written. (Both were exported and proved, signed,
    /// and both bundle verifiers passed the result.)
    @Test(arguments: [
        (
            """
            import hashlib, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            c = db.execute("SELECT canonical FROM events WHERE seq = 4").fetchone()[0].replace(b'"lag_seconds":3', b'"lag_seconds":0.3')
            db.execute("UPDATE events SET canonical = ?, leaf_hash = ? WHERE seq = 4", (c, hashlib.sha256(b"\\0" + c).digest()))
            h = bytes(32)
            for (e,) in db.execute("SELECT canonical FROM events ORDER BY seq").fetchall(): h = hashlib.sha256(h + e).digest()
            db.execute("UPDATE events SET hash = ? WHERE seq = 10", (h,))
            db.execute("UPDATE drills SET head_hash = ?, canonical_bytes = canonical_bytes + 2", (h,))
            db.commit()
            """,
            "chain BROKEN at seq 4 (drill event #4): stored hash does not match SHA-256(previous hash || canonical bytes): the event was altered"
        ),
        (
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE drills SET event_count = 6, head_seq = 6, head_hash = (SELECT hash FROM events WHERE seq = 6), canonical_bytes = (SELECT sum(length(canonical)) FROM events WHERE seq <= 6)")
            db.commit()
            """,
            "chain BROKEN at end of chain: the drill's index records 6 events but the store holds its event #10: the index was rewound"
        ),
    ])
    func aBrokenDrillIsNeitherExportedNorProved(edit: String, finding: String) throws {
        let (lab, _) = try tamperedStore(Self.dropTriggers)
        let edited = try run("/usr/bin/env", ["python3", "-c", edit, lab.store])
        #expect(edited.status == 0, "\(edited.stderr)")
        let verify = try lab.failback(["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains(finding), "\(verify.stdout)")
        let drill = try lab.failback(["drill", "list", "--json"]).stdout.components(separatedBy: "\"drill_id\":\"")[1].prefix { $0 != "\"" }
        try FileManager.default.createDirectory(atPath: "\(lab.dir)/out", withIntermediateDirectories: true)
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/k.key"]).status == 0)
        let export = try lab.failback(["evidence", "export", "-o", "\(lab.dir)/out/bundle.tar.gz", "--key", "\(lab.dir)/k.key"])
        #expect(export.status == 1 && export.stdout.isEmpty)
        #expect(export.stderr == "failback: error: drill \(drill): \(finding): not exported (run 'failback verify')\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: "\(lab.dir)/out").isEmpty)
        let prove = try lab.failback(["evidence", "prove", "--seq", "3", "--key", "\(lab.dir)/k.key"])
        #expect(prove.status == 1 && prove.stdout.isEmpty)
        #expect(prove.stderr == "failback: error: drill \(drill): \(finding): not proved (run 'failback verify')\n")
    }

    /// Random damage (scripts/fuzz-store.py, seeded): bytes of rows edited, or payloads changed
    /// and the chain recomputed; both verifiers name the same first bad seq, and every reading
    /// command gives its result or one line, never a crash. Longer runs: the script alone.
    @Test func randomDamageNeverCrashesAReadingCommand() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try lab.expectSuccess(["record", "lag", "--seconds", "2.5", "--source", "eu", "--target", "us"])
        try lab.expectSuccess(["record", "rowcount", "--table", "events", "--site", "eu", "--count", "10"])
        try lab.expectSuccess(["record", "dns", "--name", "api.example.com", "--resolver", "10.0.0.53:53", "--answer", "192.0.2.1", "--expect", "192.0.2.1"])
        try lab.expectSuccess(["record", "health", "--target", "https://api.example.com/health", "--status", "200", "--latency-ms", "12"])
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo done"]).status == 0)
        try lab.expectSuccess(["note", "halfway"])
        try lab.expectSuccess(["issue", "add", "slow DNS", "--severity", "low"])
        let fuzz = try python(
            "fuzz-store.py",
            [
                "--failback", buildDirectory.appendingPathComponent("failback").path, "--store", lab.store, "--iterations", "60", "--seed", "2026",
            ])
        #expect(fuzz.status == 0 && fuzz.stdout.contains("60 damaged stores: 0 problems"), "\(fuzz.stdout)\(fuzz.stderr)")
    }

    @Test func theRecordedSizeOfADrillsEventsChanged() throws {
        try expectDetected(Self.dropTriggers + "UPDATE drills SET canonical_bytes = canonical_bytes + 7;", seq: nil, saying: "bytes of events but they hold")
    }

    @Test func withoutDroppingTriggersTheDatabaseRefuses() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let update = try lab.sqlite("UPDATE events SET canonical = x'00' WHERE seq = 1")
        #expect(update.status != 0)
        #expect(update.stderr.contains("append-only: UPDATE refused"))
        let delete = try lab.sqlite("DELETE FROM events")
        #expect(delete.stderr.contains("append-only: DELETE refused"))
        #expect(try lab.eventCount == 1)
    }

    @Test func aPayloadByteEdited() throws {
        try expectDetected(
            Self.dropTriggers + #"UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), '"lag_seconds":4', '"lag_seconds":0') AS BLOB) WHERE seq = 5;"#,
            seq: 5, saying: "the event was altered")
    }

    /// A leaf hash changed (an export would build its Merkle tree from it), or cut short.
    @Test(arguments: ["zeroblob(32)", "x'00'"])
    func aStoredLeafHashChanged(value: String) throws {
        try expectDetected(Self.dropTriggers + "UPDATE events SET leaf_hash = \(value) WHERE seq = 4;", seq: 4, saying: "the leaf hash was altered")
    }

    @Test func aPayloadByteEditedInHex() throws {
        // Flip one byte in the middle of event 7's stored bytes.
        try expectDetected(
            Self.dropTriggers + "UPDATE events SET canonical = CAST(substr(canonical, 1, 60) || x'5A' || substr(canonical, 62) AS BLOB) WHERE seq = 7;",
            seq: 7, saying: "BROKEN")
    }

    @Test func aRowDeleted() throws {
        try expectDetected(Self.dropTriggers + "DELETE FROM events WHERE seq = 4;", seq: 5, saying: "expected drill event #4 but found #5")
    }

    @Test func theLastRowDeleted() throws {
        try expectDetected(Self.dropTriggers + "DELETE FROM events WHERE seq = 10;", seq: 10, saying: "drill event #10 missing")
    }

    @Test func twoRowsSwapped() throws {
        try expectDetected(
            Self.dropTriggers + """
                UPDATE events SET seq = -3 WHERE seq = 3; UPDATE events SET seq = 3 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = -3;
                UPDATE events SET drill_seq = -3 WHERE seq = 3; UPDATE events SET drill_seq = 3 WHERE seq = 6; UPDATE events SET drill_seq = 6 WHERE seq = -3;
                """,
            seq: 3, saying: "BROKEN")
    }

    @Test func twoRowsContentsSwapped() throws {
        try expectDetected(
            Self.dropTriggers + """
                CREATE TEMP TABLE t AS SELECT seq, canonical, hash FROM events WHERE seq IN (3, 6);
                UPDATE events SET canonical = (SELECT canonical FROM t WHERE t.seq = 9 - events.seq), hash = (SELECT hash FROM t WHERE t.seq = 9 - events.seq) WHERE seq IN (3, 6);
                """,
            seq: 3, saying: "expected drill event #3 but found #6")
    }

    @Test func aHashRecomputedForAnEditedEventStillBreaksTheNextLink() throws {
        // The attacker edits event 5 and fixes its stored hash and leaf hash (but cannot fix every
        // later one without recomputing the chain, which the signed checkpoints of the evidence
        // bundle pin down).
        let lab = try Lab()
        _ = try lab.startDrill()
        for i in 1...9 { try lab.expectSuccess(["record", "lag", "--seconds", "\(i)", "--source", "dr", "--target", "primary"]) }
        let before = try lab.sqlite("SELECT hex(hash) FROM events WHERE seq = 4").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let canonical = try lab.sqlite("SELECT CAST(canonical AS TEXT) FROM events WHERE seq = 5").stdout.trimmingCharacters(in: .newlines)
        let edited = canonical.replacingOccurrences(of: "\"lag_seconds\":4", with: "\"lag_seconds\":0")
        let hash = try run(tool("python3"), ["-c", "import hashlib,sys; print(hashlib.sha256(bytes.fromhex(sys.argv[1]) + sys.argv[2].encode()).hexdigest())", before, edited])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let leaf = try run(tool("python3"), ["-c", "import hashlib,sys; print(hashlib.sha256(b'\\x00' + sys.argv[1].encode()).hexdigest())", edited])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let sql = Self.dropTriggers + "UPDATE events SET canonical = CAST('\(edited)' AS BLOB), hash = x'\(hash)', leaf_hash = x'\(leaf)' WHERE seq = 5;"
        #expect(try lab.sqlite(sql).status == 0)
        let verify = try lab.failback(["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("BROKEN at seq 6"), "\(verify.stdout)")
    }

    @Test func aDrillHeadRewound() throws {
        try expectDetected(Self.dropTriggers + "UPDATE drills SET event_count = 9;", seq: nil, saying: "the drill's index records 9 events")
    }
}

/// The holes a verifier written from the docs alone found, each closed by the schema or caught by
/// `verify` (and by the independent `scripts/verify-log.py`).
@Suite struct VerificationHoleTests {
    static let dropAll = TamperTests.dropTriggers + " DROP TRIGGER drills_refuse_delete; DROP TRIGGER events_insert_only_appends; DROP TRIGGER drills_insert_only_new;"

    /// A drill of 10 events (seq 1–10), then `sql` through the real `sqlite3` shell.
    func tampered(_ sql: String, close: Bool = false) throws -> Lab {
        let lab = try Lab()
        _ = try lab.startDrill()
        for i in 1...9 { try lab.expectSuccess(["record", "lag", "--seconds", "\(i)", "--source", "dr", "--target", "primary"]) }
        if close { try lab.expectSuccess(["drill", "complete", "--outcome", "failed"]) }
        #expect(try lab.failback(["verify"]).status == 0)
        let edit = try lab.sqlite(sql)
        #expect(edit.status == 0, "sqlite3: \(edit.stderr)")
        return lab
    }

    func expectBroken(_ lab: Lab, _ line: String, alsoPython: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let verify = try lab.failback(["verify"])
        #expect(verify.status == 1, sourceLocation: sourceLocation)
        #expect(verify.stdout.split(separator: "\n").contains { $0 == line }, "\(verify.stdout)", sourceLocation: sourceLocation)
        if alsoPython {
            let independent = try python("verify-log.py", [lab.store])
            #expect(independent.status == 1, "python verifier passed: \(independent.stdout)", sourceLocation: sourceLocation)
        }
    }

    @Test func aRewoundHeadIsCaught() throws {
        let lab = try tampered(
            Self.dropAll + """
                 UPDATE drills SET event_count = 6, head_seq = 6, head_hash = (SELECT hash FROM events WHERE seq = 6),
                    canonical_bytes = (SELECT sum(length(canonical)) FROM events WHERE seq <= 6);
                """)
        let drill = try lab.events()[0]["drill_id"] as! String
        try expectBroken(lab, "drill \(drill): chain BROKEN at end of chain: the drill's index records 6 events but the store holds its event #10: the index was rewound")
        let one = try lab.failback(["verify", "--drill", drill])
        #expect(one.status == 1 && one.stdout.contains("the index was rewound"))
    }

    @Test func eventsOfADrillWhoseIndexRowWasDeletedAreCaught() throws {
        let lab = try tampered(Self.dropAll + " DELETE FROM drills;")
        let drill = try lab.sqlite("SELECT DISTINCT drill_id FROM events").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try expectBroken(
            lab, "store: chain BROKEN at seq 1 (drill event #1): the event belongs to drill \(drill), which the store's index does not list (its index row was deleted)")
    }

    @Test(arguments: [
        ("UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE seq = 5;", "recorded_at \"2020-01-01T00:00:00.000Z\", bytes say"),
        ("UPDATE events SET type = 'NoteAdded' WHERE seq = 5;", "type \"NoteAdded\", bytes say \"ReplicationLagSampled\""),
        ("UPDATE events SET idempotency_key = 'forged' WHERE seq = 5;", "idempotency_key \"forged\", bytes say none"),
    ])
    func aForgedColumnIsCaught(sql: String, saying: String) throws {
        let lab = try tampered(Self.dropAll + " " + sql)
        let verify = try lab.failback(["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.hasPrefix("store: chain BROKEN at seq 5 (drill event #5): a column differs from the event's bytes: \(saying)"), "\(verify.stdout)")
        #expect(try python("verify-log.py", [lab.store]).status == 1)
    }

    /// A moment (`--as-of TIME`, `replay --until TIME`) is found through the `recorded_at` column
    /// and decided by the events' bytes: with the column moved (events 6–10 put in 2030, or event 9
    /// back-dated), `status`, `report` and `replay` refuse with one line instead of showing the drill
    /// as of another moment without a word. (They showed it, exit 0.)
    @Test(arguments: [
        ("UPDATE events SET recorded_at = '2030-01-01T00:00:00.000Z' WHERE seq >= 6;", 7, 6, "after"),
        ("UPDATE events SET recorded_at = '2020-01-01T00:00:00.000Z' WHERE seq = 9;", 3, 9, "at or before"),
    ])
    func aMomentIsDecidedByTheEventsNotAColumn(sql: String, moment: Int, seq: Int, puts: String) throws {
        let lab = try tampered("SELECT 1;")
        let times = try lab.events().map { $0["recorded_at"] as! String }
        let edit = try lab.sqlite(Self.dropAll + " " + sql)
        #expect(edit.status == 0, "\(edit.stderr)")
        let at = times[moment - 1]
        let line =
            "failback: error: stored event at seq \(seq) says it was recorded at \(times[seq - 1]), but the store's recorded_at column puts it \(puts) \(at): the column was altered (run 'failback verify')\n"
        for command in [["status", "--as-of", at], ["report", "--as-of", at], ["replay", "--until", at]] {
            let o = try lab.failback(command)
            #expect(o.status == 65 && o.stdout.isEmpty, "\(command): \(o.status) \(o.stdout)")
            #expect(o.stderr == line, "\(command): \(o.stderr)")
        }
        #expect(try lab.failback(["status", "--as-of", "3"]).status == 0)
    }

    /// `INSERT OR REPLACE` deletes the row it replaces without firing delete triggers: refused.
    @Test(arguments: [
        "INSERT OR REPLACE INTO events SELECT seq, drill_id, drill_seq, type, recorded_at, idempotency_key, CAST(replace(CAST(canonical AS TEXT), '\"lag_seconds\":5', '\"lag_seconds\":0') AS BLOB), hash, leaf_hash FROM events WHERE seq = 6;",
        "REPLACE INTO drills SELECT drill_id, started_seq, started_at, event_count, head_seq, head_hash, NULL, canonical_bytes FROM drills;",
    ])
    func replacingARowIsRefusedByTheSchema(sql: String) throws {
        let lab = try tampered("SELECT 1;", close: true)
        let before = try lab.rawStoreBytes()
        let edit = try lab.sqlite(sql)
        #expect(edit.status != 0)
        #expect(edit.stderr.contains("failback events are append-only") || edit.stderr.contains("failback drills are never replaced"), "\(edit.stderr)")
        #expect(try lab.failback(["verify"]).status == 0)
        #expect(try lab.rawStoreBytes().count == before.count)
    }

    /// A closed drill reopened by hand and appended to by the tool: its chain is intact, but the
    /// closing event is no longer its last.
    @Test func aReopenedClosedDrillIsCaught() throws {
        let lab = try tampered(Self.dropAll + " UPDATE drills SET closed_seq = NULL;", close: true)
        let drill = try lab.events()[0]["drill_id"] as! String
        try lab.expectSuccess(["note", "--drill", drill, "appended after the close"])
        try expectBroken(lab, "drill \(drill): chain BROKEN at seq 12 (drill event #12): the drill was closed by its event at seq 11, yet an event follows it")
    }

    /// An event whose envelope is not the envelope (a member added, one taken away, one of another
    /// kind), in canonical form and re-chained so that only the envelope rule can tell: `verify`,
    /// `verify --deep` and `verify-log.py` all call it broken at that seq. (The fast walk passed an
    /// extra member that `--deep` refused as "not canonical"; the Python verifier passed all three.)
    @Test(arguments: [
        (#"c = c.replace(b'"drill_seq":5,', b'"drill_seq":5,"extra":1,')"#, #"a member "extra" that is not one of the envelope's"#),
        (#"c = re.sub(rb'"host":"[^"]*",', b'', c)"#, "no host member"),
        (#"c = re.sub(rb'"payload":\{[^}]*\}', b'"payload":"x"', c)"#, "payload is not of its kind"),
    ])
    func anEnvelopeOfOtherMembersIsBrokenToEveryVerifier(edit: String, why: String) throws {
        let lab = try tampered(Self.dropAll)
        let script = """
            import hashlib, re, sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            c = db.execute("SELECT canonical FROM events WHERE seq = 5").fetchone()[0]
            \(edit)
            db.execute("UPDATE events SET canonical = ?, leaf_hash = ? WHERE seq = 5", (c, hashlib.sha256(b"\\0" + c).digest()))
            h = bytes(32)
            for (seq, e) in db.execute("SELECT seq, canonical FROM events ORDER BY seq").fetchall():
                h = hashlib.sha256(h + e).digest()
                db.execute("UPDATE events SET hash = ? WHERE seq = ?", (h, seq))
            db.execute("UPDATE drills SET head_hash = ?, canonical_bytes = (SELECT sum(length(canonical)) FROM events)", (h,))
            db.commit()
            """
        let edited = try run("/usr/bin/env", ["python3", "-c", script, lab.store])
        #expect(edited.status == 0, "\(edited.stderr)")
        for deep in [false, true] {
            let verify = try lab.failback(["verify"] + (deep ? ["--deep"] : []))
            #expect(verify.status == 1, "\(verify.stdout)")
            #expect(verify.stdout.contains("chain BROKEN at seq 5 (drill event #5): stored bytes are not an event: envelope: \(why)"), "\(deep): \(verify.stdout)")
        }
        let independent = try python("verify-log.py", [lab.store])
        #expect(independent.status == 1 && independent.stdout.contains("BROKEN at seq 5: envelope: \(why)"), "\(independent.stdout)")
    }

    /// A version set back by hand (an older format's number over a newer one's tables): every command refuses the
    /// store as inconsistent and leaves it as it is. (Set back to 3, `verify` passed it and wrote 4
    /// back: an upgrade of a store that was never format 3.)
    @Test(arguments: [
        ("PRAGMA user_version = 2;", "format 2", "with drills.canonical_bytes, with events.leaf_hash, with the triggers refusing inserts that replace"),
        ("PRAGMA user_version = 3;", "format 3", "with drills.canonical_bytes, with events.leaf_hash, with the triggers refusing inserts that replace"),
    ])
    func aStoreWhoseVersionDisagreesWithItsTablesSaysSoAndIsLeftAsItIs(sql: String, says: String, tables: String) throws {
        let lab = try tampered(sql)
        let before = try lab.rawStoreBytes()
        for args in [["verify"], ["status"], ["note", "x"]] {
            let o = try lab.failback(args)
            #expect(o.status == 65, "\(args)")
            #expect(
                o.stderr
                    == "failback: error: \(lab.store) is an inconsistent failback store: user_version says \(says) but its tables are of another format (\(tables)); nothing read or changed\n",
                "\(o.stderr)")
        }
        #expect(try lab.rawStoreBytes() == before)
    }
}
