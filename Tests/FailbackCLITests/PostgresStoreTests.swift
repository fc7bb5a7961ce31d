import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The team's store on a real PostgreSQL server (`scripts/pg-store`, run as the `postgres` user):
/// the same commands, guarantees and verification as on SQLite, with writers in many processes.
@Suite(.serialized) struct PostgresStoreTests {
    static let script = repositoryRoot.appendingPathComponent("scripts/pg-store").path

    /// A new database on the tests' server (or on a server of its own in `dir`, on `port`), as a URL.
    func freshStore(server: (dir: String, port: Int)? = nil) throws -> String {
        let place = server.map { [$0.dir, String($0.port)] } ?? []
        let started = try run(Self.script, ["start"] + place)
        #expect(started.status == 0, "\(started.stderr)")
        let url = try run(Self.script, ["url"] + place)
        #expect(url.status == 0, "\(url.stderr)")
        return url.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func psql(_ url: String, _ sql: String) throws -> Outcome { try run(tool("psql"), ["-X", "-A", "-t", "-q", url, "-c", sql]) }

    func failback(_ url: String, _ args: [String]) throws -> Outcome {
        var a = args
        a.insert(contentsOf: ["--store", url], at: args.firstIndex(of: "--") ?? args.count)
        return try run("failback", a, env: ["FAILBACK_RUNBOOKS": repositoryRoot.appendingPathComponent("runbooks").path])
    }

    func startWriter(_ args: [String]) throws -> (Process, Pipe) { try startLoadgen(args) }
    func acks(_ text: String) -> [Int] { loadgenAcks(text) }

    /// A drill recorded, reported and verified on PostgreSQL; the password in the store's URL is
    /// shown nowhere and stored nowhere.
    @Test func aDrillOnPostgresWithoutItsPasswordAnywhere() throws {
        let plain = try freshStore()
        let url = plain.replacingOccurrences(of: "postgres@", with: "postgres:Sup3rS3cret@")
        let initialized = try failback(url, ["init"])
        #expect(initialized.status == 0)
        #expect(initialized.stdout == "initialized empty store at \(plain.replacingOccurrences(of: "postgres@", with: "postgres:[REDACTED]@"))\n")
        #expect(try failback(url, ["init"]).stdout.hasSuffix("already exists; left as it is\n"))
        let drill =
            try failback(url, ["drill", "start", "--runbook", "rollback-teei", "--option", "B", "--operator", "dana"]).stdout
            .split(separator: "\n").last.map(String.init) ?? ""
        #expect(drill.hasPrefix("drill-"))
        try #require(failback(url, ["phase", "start", "b-configure-us-standby", "--override", "--reason", "test"]).status == 0)
        #expect(try failback(url, ["record", "lag", "--seconds", "2.5", "--source", "eu-central-1", "--target", "us-east-1"]).status == 0)
        #expect(try failback(url, ["note", "connected with postgresql://failback:Sup3rS3cret@db.example/ops"]).status == 0)
        let verify = try failback(url, ["verify"])
        #expect(verify.status == 0)
        #expect(verify.stdout.hasPrefix("store: 5 events, global sequence gapless"))
        var everything = ""
        for args in [["status"], ["status", "--json"], ["log", "--json"], ["report", "--format", "md"], ["report", "--format", "json"], ["drill", "list"]] {
            let o = try failback(url, args)
            #expect(o.status == 0, "\(args): \(o.stderr)")
            everything += o.stdout + o.stderr
        }
        #expect(everything.contains(drill))
        #expect(!everything.contains("Sup3rS3cret"))
        let stored = try psql(plain, "SELECT string_agg(encode(canonical, 'escape'), '') FROM failback.events")
        #expect(stored.status == 0 && stored.stdout.contains("postgresql://failback:[REDACTED:url_credentials]@db.example/ops"))
        #expect(!stored.stdout.contains("Sup3rS3cret"))
        // A wrong password or no server: one line, exit 74 (the database failed), the password not in it.
        let wrong = try failback("postgresql://postgres:Sup3rS3cret@127.0.0.1:9/nope", ["status"])
        #expect(wrong.status == 74)
        #expect(wrong.stderr.hasPrefix("failback: error: cannot connect to PostgreSQL store postgresql://postgres:[REDACTED]@127.0.0.1:9/nope: "))
        #expect(wrong.stderr.split(separator: "\n").count == 1 && !wrong.stderr.contains("Sup3rS3cret"))
    }

    /// Eight processes append 1,000 events each to one drill at once: one gapless sequence, one
    /// unbroken chain, no duplicate.
    @Test func eightWritersGetAGaplessSequenceAndAnIntactChain() throws {
        let url = try freshStore()
        #expect(try failback(url, ["init"]).status == 0)
        let (starter, out) = try startWriter(["--store", url, "--count", "0", "--writer", "starter"])
        starter.waitUntilExit()
        let drill =
            String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").first.map { String($0.dropFirst(6)) } ?? ""
        let writers = 8, each = 1000
        let procs = try (0..<writers).map { w in try startWriter(["--store", url, "--drill", drill, "--count", "\(each)", "--batch", "10", "--writer", "w\(w)"]) }
        var acked: [Int] = []
        for (p, pipe) in procs {
            acked += acks(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        #expect(acked.count == writers * each && Set(acked).count == acked.count)
        let seqs = try psql(url, "SELECT count(*), min(seq), max(seq), count(DISTINCT drill_seq) FROM failback.events").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(seqs == "\(writers * each + 1)|1|\(writers * each + 1)|\(writers * each + 1)")
        let verify = try failback(url, ["verify"])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(verify.stdout.contains("chain intact, \(writers * each + 1) events"))
    }

    /// Writers killed with SIGKILL at random moments, and the server stopped and started again
    /// while others write: every acknowledged event is there, none twice, and the log verifies.
    @Test func killedWritersAndARestartedServerLoseNoAcknowledgedEvent() throws {
        // A server of its own: the other suites' tests use the shared one meanwhile.
        let server = (dir: "/tmp/failback-pg-restart", port: 26610)
        defer { _ = try? run(Self.script, ["stop", server.dir]) }
        let url = try freshStore(server: server)
        #expect(try failback(url, ["init"]).status == 0)
        var rng = SystemRandomNumberGenerator()
        var acked: [Int] = []
        for trial in 0..<6 {
            let (p, out) = try startWriter(["--store", url, "--batch", trial % 2 == 0 ? "5" : "1", "--writer", "kill\(trial)"])
            usleep(UInt32.random(in: 100_000...400_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            acked += acks(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            p.waitUntilExit()
        }
        // The server goes down (fast shutdown) mid-run: the writer fails with one line; what it
        // acknowledged before stays.
        let (p, out) = try startWriter(["--store", url, "--batch", "3", "--writer", "restart"])
        usleep(300_000)
        #expect(try run(Self.script, ["stop", server.dir]).status == 0)
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 1)
        #expect(printed.split(separator: "\n").last?.hasPrefix("error ") == true, "\(printed.suffix(200))")
        acked += acks(printed)
        let restarted = try run(Self.script, ["start", server.dir, String(server.port)])
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let stored = Set(try psql(url, "SELECT seq FROM failback.events").stdout.split(separator: "\n").compactMap { Int($0) })
        #expect(acked.count > 20, "writers acknowledged too little to test anything")
        #expect(acked.filter { !stored.contains($0) }.isEmpty, "acknowledged but lost")
        #expect(Set(acked).count == acked.count)
        let verify = try failback(url, ["verify"])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// A failover: writers on a multi-host connection string (`target_session_attrs=read-write`)
    /// append to a primary whose synchronous standby is then promoted, the primary gone as in a
    /// crash. The writers carry on against the promoted standby, and every event they
    /// acknowledged, before and after, is there, once, in a log that verifies.
    @Test func aPromotedSynchronousStandbyTakesOverWithEveryAcknowledgedEvent() throws {
        let primary = (dir: "/tmp/failback-pg-failover-a", port: 26640), standby = (dir: "/tmp/failback-pg-failover-b", port: 26641)
        defer {
            _ = try? run(Self.script, ["stop", primary.dir])
            _ = try? run(Self.script, ["stop", standby.dir])
        }
        // New clusters: a primary left from an earlier run would wait for its synchronous standby.
        for server in [primary, standby] {
            _ = try? run(Self.script, ["stop", server.dir])
            try? FileManager.default.removeItem(atPath: server.dir)
        }
        let single = try freshStore(server: primary)
        let database = String(single.split(separator: "/").last ?? "")
        #expect(try failback(single, ["init"]).status == 0)
        let made = try run(Self.script, ["standby", primary.dir, String(primary.port), standby.dir, String(standby.port)])
        try #require(made.status == 0, "\(made.stderr)")
        let url = "postgresql://postgres@127.0.0.1:\(primary.port),127.0.0.1:\(standby.port)/\(database)?target_session_attrs=read-write"
        let (starter, started) = try startWriter(["--store", url, "--count", "0", "--writer", "starter"])
        starter.waitUntilExit()
        let drill = String(decoding: started.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").first.map { String($0.dropFirst(6)) } ?? ""
        #expect(drill.hasPrefix("drill-"))
        let writers = try (0..<3).map { w in try startWriter(["--store", url, "--drill", drill, "--batch", "2", "--writer", "f\(w)"]) }
        usleep(1_500_000)
        let before = Int(try psql(single, "SELECT last_seq FROM failback.log").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(try run(Self.script, ["crash", primary.dir]).status == 0)
        #expect(try run(Self.script, ["promote", standby.dir]).status == 0)
        usleep(3_000_000)
        var acked: [Int] = []
        for (p, out) in writers {
            kill(p.processIdentifier, SIGKILL)
            acked += acks(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            p.waitUntilExit()
        }
        let promoted = "postgresql://postgres@127.0.0.1:\(standby.port)/\(database)"
        let stored = Set(try psql(promoted, "SELECT seq FROM failback.events").stdout.split(separator: "\n").compactMap { Int($0) })
        #expect(before > 10, "the writers wrote too little before the failover to test anything")
        #expect(acked.contains { $0 > before + 10 }, "the writers did not carry on after the failover (last ack \(acked.max() ?? 0), \(before) before it)")
        #expect(acked.filter { !stored.contains($0) }.isEmpty, "acknowledged but lost in the failover")
        #expect(Set(acked).count == acked.count)
        let verify = try failback(url, ["verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(try failback(url, ["note", "after the failover", "--drill", drill]).status == 0)
    }

    /// `store copy` SQLite → PostgreSQL → SQLite: the same verification (every head), the same
    /// evidence bundles byte for byte; a copy killed mid-way resumes; a target holding other
    /// events and a damaged source are refused with one line.
    @Test func aStoreCopiedToPostgresAndBackIsTheSameStore() throws {
        let lab = try Lab()
        let first = try lab.startDrill("rollback-teei", option: "B")
        try lab.expectSuccess(["note", "connected with redis-cli -a Hunter2Secret PING"])
        try lab.expectSuccess(["record", "lag", "--seconds", "2.5", "--source", "eu-central-1", "--target", "us-east-1"])
        try lab.expectSuccess(["drill", "complete"])
        let (writer, out) = try startWriter(["--store", lab.store, "--count", "40000", "--batch", "2000", "--complete", "--quiet"])
        let second = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").first.map { String($0.dropFirst(6)) } ?? ""
        writer.waitUntilExit()
        #expect(writer.terminationStatus == 0 && second.hasPrefix("drill-"))
        let total = try lab.eventCount
        #expect(total > 40_002)
        let url = try freshStore()
        let there = try run("failback", ["store", "copy", lab.store, url])
        #expect(there.stderr == "" && there.status == 0, "\(there.stderr)")
        #expect(there.stdout == "copied \(lab.store) to \(url) (\(total) events in 2 drills): \(total) appended; both verified, the copy's index identical to the source's\n")
        let back = "\(lab.dir)/back.sqlite"
        let backAgain = try run("failback", ["store", "copy", url, back])
        #expect(backAgain.stdout == "copied \(url) to \(back) (\(total) events in 2 drills): \(total) appended; both verified, the copy's index identical to the source's\n")
        // The same heads, and the same bundles, from all three.
        let verified = try [lab.store, url, back].map { try run("failback", ["verify", "--store", $0]) }
        #expect(verified.allSatisfy { $0.status == 0 } && verified[0].stdout.split(separator: "\n").count == 3)
        #expect(verified[1].stdout == verified[0].stdout && verified[2].stdout == verified[0].stdout)
        for drill in [first, second] {
            var bundles: [Data] = []
            for (i, store) in [lab.store, url, back].enumerated() {
                let path = "\(lab.dir)/\(drill)-\(i).tar.gz"
                let exported = try run("failback", ["evidence", "export", "--store", store, "--drill", drill, "-o", path])
                #expect(exported.status == 0, "\(exported.stderr)")
                bundles.append(try Data(contentsOf: URL(fileURLWithPath: path)))
            }
            #expect(bundles[0].count > 1000 && bundles[1] == bundles[0] && bundles[2] == bundles[0], "\(drill)")
        }
        // The secret the first drill redacted is remembered in the copy: redacted there too.
        let learned = try psql(url, "SELECT count(*) FROM failback.learned_secrets").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(learned == (try lab.sqlite("SELECT count(*) FROM learned_secrets").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) && learned != "0")

        // Killed mid-copy (once the first batch is in), then run again: it resumes.
        let resumed = try freshStore()
        let copier = Process()
        copier.executableURL = buildDirectory.appendingPathComponent("failback")
        copier.arguments = ["store", "copy", lab.store, resumed]
        copier.standardOutput = FileHandle.nullDevice
        copier.standardError = FileHandle.nullDevice
        try copier.run()
        var held = 0
        for _ in 0..<400 where held == 0 {
            usleep(20_000)
            held = Int(try psql(resumed, "SELECT count(*) FROM failback.events").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        kill(copier.processIdentifier, SIGKILL)
        copier.waitUntilExit()
        held = Int(try psql(resumed, "SELECT count(*) FROM failback.events").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        #expect(held > 0 && held < total, "the copy was not caught mid-way (\(held) of \(total) events)")
        let again = try run("failback", ["store", "copy", lab.store, resumed])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            again.stdout
                == "copied \(lab.store) to \(resumed) (\(total) events in 2 drills): \(total - held) appended, resuming after the \(held) already there; both verified, the copy's index identical to the source's\n"
        )
        #expect(try run("failback", ["verify", "--store", resumed]).stdout == verified[0].stdout)

        // A target holding other events: refused, left as it was.
        try #require(run("failback", ["note", "--store", back, "--drill", second, "only here"]).status == 65)  // closed
        let other = try Lab()
        _ = try other.startDrill("rollback-teei")
        let refused = try run("failback", ["store", "copy", lab.store, other.store])
        #expect(refused.status == 65 && refused.stdout == "")
        #expect(
            refused.stderr.hasPrefix("failback: error: store \(other.store) is not a copy of \(lab.store): drill ")
                && refused.stderr.hasSuffix(" is not in the source (as the copy began); nothing copied\n"))
        // A damaged source: refused, exit 1, nothing created.
        _ = try lab.sqlite(
            "DROP TRIGGER events_refuse_update; UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'eu-central-1', 'eu-central-9') AS BLOB) WHERE type = 'ReplicationLagSampled' AND drill_id = '\(first)';"
        )
        let damaged = try run("failback", ["store", "copy", lab.store, "\(lab.dir)/never.sqlite"])
        #expect(damaged.status == 1 && damaged.stdout == "")
        #expect(damaged.stderr.hasPrefix("failback: error: the source, \(lab.store), does not verify: drill \(first): chain BROKEN at seq "))
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/never.sqlite"))
    }

    /// Tampering through psql as the tables' owner, triggers disabled first: caught, named.
    @Test func tamperingThroughPsqlIsCaught() throws {
        let url = try freshStore()
        #expect(try failback(url, ["init"]).status == 0)
        _ = try failback(url, ["drill", "start", "--runbook", "rollback-teei", "--option", "B"])
        for i in 1...5 { #expect(try failback(url, ["record", "lag", "--seconds", "\(i)", "--source", "eu-central-1", "--target", "us-east-1"]).status == 0) }
        // With the triggers in place, history cannot be changed.
        let refused = try psql(url, "UPDATE failback.events SET recorded_at = 'x' WHERE seq = 3")
        #expect(refused.status != 0 && refused.stderr.contains("append-only"))
        #expect(try psql(url, "TRUNCATE failback.events CASCADE").status != 0)
        // An insert that is not past the last seq (a copy of event 3 at seq 3, or at 0) is refused,
        // whether one row or many (the check runs once per statement, over every row it added).
        for sql in [
            "INSERT INTO failback.events SELECT 0, drill_id, 99, type, recorded_at, NULL, canonical, hash, leaf_hash FROM failback.events WHERE seq = 3",
            "INSERT INTO failback.events SELECT CASE WHEN seq = 3 THEN 0 ELSE 100 END, drill_id, drill_seq + 100, type, recorded_at, NULL, canonical, hash, leaf_hash FROM failback.events WHERE seq IN (3, 4)",
        ] {
            let inserted = try psql(url, sql)
            #expect(inserted.status != 0 && inserted.stderr.contains("an insert may only add an event after the last"), "\(sql): \(inserted.stderr)")
        }
        #expect(try psql(url, "UPDATE failback.drills SET started_at = '1999-01-01T00:00:00.000Z'").stderr.contains("heads only move forward"))
        #expect(
            try psql(
                url,
                "ALTER TABLE failback.events DISABLE TRIGGER USER; UPDATE failback.events SET canonical = overlay(canonical PLACING '\\x35'::bytea FROM position('\\x34'::bytea IN canonical) FOR 1) WHERE seq = 4"
            ).status == 0)
        let verify = try failback(url, ["verify"])
        #expect(verify.status == 1)
        #expect(verify.stdout.contains("chain BROKEN at seq 4"), "\(verify.stdout)")
    }
}
