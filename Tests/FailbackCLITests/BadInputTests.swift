import Foundation
import Testing

/// Bad input: one line on standard error naming what and where, a non-zero status, nothing appended.
@Suite struct BadInputTests {
    func expectRefusal(
        _ lab: Lab, _ args: [String], status: Int32, mentions: [String], env: [String: String] = [:],
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try lab.eventCount
        let o = try lab.failback(args, env: env)
        #expect(o.status == status, "status \(o.status): \(o.stderr)", sourceLocation: sourceLocation)
        #expect(o.stderrLines.count == 1, "stderr: \(o.stderr)", sourceLocation: sourceLocation)
        #expect(o.stderr.hasPrefix("failback: error: "), sourceLocation: sourceLocation)
        for m in mentions { #expect(o.stderr.contains(m), "\(o.stderr) lacks \(m)", sourceLocation: sourceLocation) }
        #expect(o.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(try lab.eventCount == before, "something was appended", sourceLocation: sourceLocation)
    }

    /// A store URL libpq cannot read keeps its password out of the error: libpq quotes what it
    /// misread, and a password with `%`, `/` or `@` in it came back whole or in part (or the
    /// whole URL with it). No server is needed: libpq refuses these before connecting.
    @Test(arguments: [
        ("postgresql://app:Pr3fix%Suff1x@127.0.0.1:1/db", "postgresql://app:[REDACTED]@127.0.0.1:1/db: invalid percent-encoded token: \"[REDACTED]\""),
        ("postgresql://app:Pr3fix/Suff1x@127.0.0.1:1/db", "postgresql://app:[REDACTED]@127.0.0.1:1/db: invalid integer value \"[REDACTED]\" for connection option \"port\""),
        (
            "postgresql://app:Pr3fix@[::1/db",
            "postgresql://app:[REDACTED]@[::1/db: end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgresql://app:[REDACTED]@[::1/db\""
        ),
    ])
    func aStoreURLsPasswordIsNeverInItsError(url: String, error: String) throws {
        let o = try run("failback", ["status", "--store", url])
        #expect(o.status != 0 && o.stdout.isEmpty)
        #expect(o.stderr == "failback: error: cannot connect to PostgreSQL store \(error)\n")
        #expect(!o.stderr.contains("Pr3fix") && !o.stderr.contains("Suff1x"))
    }

    @Test func malformedJSONInAFileNamesFileLineAndColumn() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let file = repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl/pods-malformed.json").path
        try expectRefusal(lab, ["record", "pods", "--from-file", file], status: 65, mentions: ["pods-malformed.json: line 17, column 1: unexpected end of input"])
    }

    @Test func invalidUTF8InAFileOrAnArgument() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let file = "\(lab.dir)/latin1.json"
        try Data(#"{"kind": "List", "items": [{"metadata": {"name": "caf"#.utf8 + [0xE9] + #""}}]}"#.utf8).write(to: URL(fileURLWithPath: file))
        try expectRefusal(lab, ["record", "pods", "--from-file", file], status: 65, mentions: ["latin1.json: line 1, column 54: invalid UTF-8"])
        // An argument with a raw 0xFF byte (passed through /usr/bin/env to keep the bytes as they are).
        let before = try lab.eventCount
        let o = try run("/bin/sh", ["-c", "\"$0\" note --store \"$1\" \"$(printf 'bad \\377 byte')\"", buildDirectory.appendingPathComponent("failback").path, lab.store])
        #expect(o.status == 65)
        #expect(o.stderr == "failback: error: argument 4 is not valid UTF-8 (byte 0xFF at offset 4)\n")
        #expect(try lab.eventCount == before)
    }

    @Test func payloadOverTheConfiguredLimit() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try #"{"limits": {"max_payload_bytes": 256}}"#.write(toFile: "\(lab.dir)/config.json", atomically: true, encoding: .utf8)
        try expectRefusal(lab, ["note", String(repeating: "x", count: 300)], status: 65, mentions: ["over the limit of 256 bytes", "config.json"])
        try lab.expectSuccess(["note", "short enough"])
    }

    @Test func unknownDrillMissingStoreAndNoDrill() throws {
        let lab = try Lab()
        try expectRefusal(lab, ["note", "x"], status: 66, mentions: ["no open drill"])
        _ = try lab.startDrill()
        try expectRefusal(lab, ["note", "x", "--drill", "drill-nope"], status: 66, mentions: ["no drill drill-nope"])
        let o = try run("failback", ["note", "x", "--store", "\(lab.dir)/missing/ledger.sqlite"])
        #expect(o.status == 66)
        #expect(o.stderr == "failback: error: no store at \(lab.dir)/missing/ledger.sqlite (run 'failback init' to create one)\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/missing"))
    }

    @Test func readOnlyStore() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        chmod(lab.store, 0o444)
        try expectRefusal(lab, ["note", "x"], status: 77, mentions: ["read-only", lab.store])
        // Reading still works.
        #expect(try lab.failback(["log"]).status == 0)
    }

    /// A finite number however large (a lag of 1e19 s, of the largest double) is recorded and then
    /// shown by every reading command and exported, never a crash or a hang.
    @Test func hugeNumbersAreShownNotCrashedOn() throws {
        let lab = try Lab()
        let drill = try lab.startDrill("rollback-teei")
        for seconds in ["1e19", "1.7976931348623157e308", "9.3e18"] {
            try lab.expectSuccess(["record", "lag", "--seconds", seconds, "--source", "eu", "--target", "us"])
        }
        for command in [
            ["status"], ["log"], ["replay"], ["report"], ["report", "--format", "html"], ["report", "--format", "json"],
            ["compare", drill, drill], ["evidence", "export", "-o", "\(lab.dir)/b.tar.gz"],
        ] {
            let o = try lab.failback(command)
            #expect(o.status == 0 && o.stderr.isEmpty, "\(command): \(o.status) \(o.stderr.prefix(300))")
        }
        #expect(try lab.failback(["log"]).stdout.contains("lag 1e+19s eu → us"))
    }

    /// Habits: a negative value gets the real error, not "missing value"; `--store` before the
    /// subcommand works; a mistyped subcommand is named with the closest one.
    @Test func theCommandLineFitsPeoplesHabits() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try expectRefusal(
            lab, ["record", "lag", "--seconds", "-1", "--source", "eu", "--target", "us"], status: 65, mentions: ["lag seconds must be a finite number ≥ 0, got -1.0"])
        try expectRefusal(
            lab, ["record", "rowcount", "--table", "t", "--site", "eu", "--count", "-5"], status: 65, mentions: ["row count must be an integer from 0 to 2^53-1, got -5"])
        let before = try run("failback", ["--store", lab.store, "log"], cwd: lab.dir)
        let after = try lab.failback(["log"])
        #expect(before.status == 0 && before.stdout == after.stdout)
        #expect(try run("failback", ["--store=\(lab.store)", "status", "--json"], cwd: lab.dir).status == 0)
        let typo = try run("failback", ["staus", "--store", lab.store])
        #expect(typo.status == 64 && typo.stdout.isEmpty)
        #expect(typo.stderr.hasPrefix("failback: error: unknown command 'staus' for 'failback' (did you mean 'status'?); the commands: init, drill, "), "\(typo.stderr)")
        let nested = try run("failback", ["drill", "lst"])
        #expect(nested.stderr == "failback: error: unknown command 'lst' for 'failback drill' (did you mean 'list'?); the commands: start, join, abort, complete, list\n")
        let far = try run("failback", ["frobnicate"])
        #expect(far.status == 64 && far.stderr.hasPrefix("failback: error: unknown command 'frobnicate' for 'failback'; the commands: "))
    }

    /// `--as-of` outside the drill says so: before its first event or past its last number is
    /// refused; a time after a closed drill's end shows it as it ended, with a note.
    @Test func asOfOutsideTheDrillSaysSo() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try lab.expectSuccess(["note", "one"])
        let count = try lab.eventCount
        try expectRefusal(lab, ["status", "--as-of", "0"], status: 65, mentions: ["--as-of 0 is before the drill's first event (#1)"])
        try expectRefusal(lab, ["report", "--as-of", "\(count + 5)"], status: 65, mentions: ["--as-of \(count + 5) is past the drill's last event (#\(count))"])
        try expectRefusal(lab, ["status", "--as-of", "2001-01-01T00:00:00Z"], status: 65, mentions: ["--as-of 2001-01-01T00:00:00.000Z is before the drill started ("])
        let completed = try lab.failback(["drill", "complete"])
        #expect(completed.status == 0, "\(completed.stderr)")
        let late = try lab.failback(["status", "--as-of", "2099-01-01T00:00:00Z"])
        #expect(late.status == 0 && !late.stdout.isEmpty)
        #expect(late.stderr.hasPrefix("failback: note: --as-of 2099-01-01T00:00:00.000Z is after the drill ended ("), "\(late.stderr)")
        #expect(late.stderr.hasSuffix("): it is shown as it ended\n"))
    }

    /// Exit 66, one meaning: every file named that is not there, whichever command names it.
    @Test func everyFileThatIsNotThereIs66() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let gone = "\(lab.dir)/gone"
        for (args, what) in [
            (["evidence", "verify", "\(gone).tar.gz"], "\(gone).tar.gz"), (["evidence", "verify-proof", "\(gone).json"], "proof \(gone).json"),
            (["evidence", "export", "-o", "\(lab.dir)/b.tar.gz", "--key", "\(gone).key"], "key \(gone).key"),
            (["status", "--config", "\(gone).json"], "configuration file \(gone).json"), (["record", "pods", "--from-file", "\(gone).json"], "pod listing \(gone).json"),
            (["drill", "start", "--runbook", "\(gone).yaml"], "runbook \(gone).yaml"), (["redact", "test", "--file", "\(gone).txt"], "file \(gone).txt"),
        ] {
            // The commands that read a store are given this one; the others take none.
            let o =
                ["evidence verify", "evidence verify-proof", "redact test"].contains(args.prefix(2).joined(separator: " "))
                ? try run("failback", args, cwd: lab.dir) : try lab.failback(args)
            #expect(o.status == 66, "\(args): \(o.status) \(o.stderr)")
            #expect(o.stderr == "failback: error: \(what): No such file or directory\n", "\(args): \(o.stderr)")
        }
        let pubkey = try run("failback", ["evidence", "verify", "\(gone).tar.gz", "--pubkey", "\(gone).pem"])
        #expect(pubkey.status == 66 && pubkey.stderr == "failback: error: key \(gone).pem: No such file or directory\n")
    }

    @Test func numbersThatAreNotNumbers() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try expectRefusal(lab, ["record", "lag", "--seconds", "abc", "--source", "dr", "--target", "primary"], status: 64, mentions: ["'abc'", "--seconds"])
        // Decimal numbers only: Double(String) also reads hexadecimal, inf and nan.
        for text in ["nan", "inf", "0x10", "0x1p3", "+1", ".5", "1.", "1e", "1_000", " 1"] {
            try expectRefusal(lab, ["record", "lag", "--seconds", text, "--source", "dr", "--target", "primary"], status: 64, mentions: ["'\(text)'", "--seconds"])
        }
        try expectRefusal(lab, ["record", "health", "--target", "http://x/", "--status", "200", "--latency-ms", "0x1p3"], status: 64, mentions: ["'0x1p3'", "--latency-ms"])
        try expectRefusal(lab, ["record", "lag", "--seconds", "1e400", "--source", "dr", "--target", "primary"], status: 65, mentions: ["finite number"])
        try expectRefusal(lab, ["record", "lag", "--seconds=-2", "--source", "dr", "--target", "primary"], status: 65, mentions: ["≥ 0"])
        try expectRefusal(lab, ["record", "rowcount", "--table", "t", "--site", "dr", "--count", "12.5"], status: 64, mentions: ["'12.5'"])
        try expectRefusal(lab, ["record", "rowcount", "--table", "t", "--site", "dr", "--count", "9007199254740993"], status: 65, mentions: ["2^53-1"])
        try expectRefusal(lab, ["record", "health", "--target", "x", "--status", "700", "--latency-ms", "1"], status: 65, mentions: ["100 to 599"])
        try expectRefusal(lab, ["issue", "add", "x", "--severity", "apocalyptic"], status: 64, mentions: ["apocalyptic"])
    }

    @Test func badConfigurationFile() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try #"{"redaction": {"patterns": [{"kind": "k", "regex": "(["}]}}"#.write(toFile: "\(lab.dir)/bad.json", atomically: true, encoding: .utf8)
        try expectRefusal(lab, ["note", "x", "--config", "\(lab.dir)/bad.json"], status: 65, mentions: ["bad.json: redaction.patterns[0]"])
    }

    @Test func notAStore() throws {
        let lab = try Lab(initialize: false)
        try "hello".write(toFile: lab.store, atomically: true, encoding: .utf8)
        let o = try lab.failback(["log"])
        #expect(o.status == 65)
        #expect(o.stderr == "failback: error: \(lab.store) is not a failback store (not an SQLite database)\n")
    }
}
