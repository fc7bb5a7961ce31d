import Foundation
import Testing

/// Many operators on one store (docs/cli.md, "Which drill"; docs/drill-lifecycle.md, "Operators"):
/// each one's current drill is their own, joining records who and in what role, and `status
/// --watch` follows what the others record.
@Suite struct OperatorsTests {
    /// One operator: their own state folder (their machine) and name.
    struct Operator {
        let lab: Lab
        let name: String
        let state: String

        init(_ lab: Lab, _ name: String) {
            self.lab = lab
            self.name = name
            state = "\(lab.dir)/state-\(name)"
        }

        func failback(_ args: [String], env: [String: String] = [:]) throws -> Outcome {
            try lab.failback(
                args,
                env: ["FAILBACK_ACTOR": name, "FAILBACK_STATE_DIR": state, "FAILBACK_RUNBOOKS": repositoryRoot.appendingPathComponent("runbooks").path]
                    .merging(env) { _, new in new })
        }
    }

    @Test func eachOperatorsCurrentDrillIsTheirOwn() throws {
        let lab = try Lab()
        let dana = Operator(lab, "dana"), sam = Operator(lab, "sam"), lee = Operator(lab, "lee"), kim = Operator(lab, "kim")
        let started = try dana.failback(["drill", "start", "--runbook", "rollback-teei", "--role", "incident commander"])
        #expect(started.status == 0)
        let first = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        // Lee has joined nothing, and only one drill is open: that one, kept as Lee's from now on.
        #expect(try lee.failback(["note", "lee was here"]).stdout.contains("\tNoteAdded\tlee was here\t(lee@"))
        // A start that cannot keep its drill (the state folder is a file) fails whole.
        try Data().write(to: URL(fileURLWithPath: "\(lab.dir)/not-a-folder"))
        let unkept = try kim.failback(["drill", "start", "--runbook", "rollback-teei"], env: ["FAILBACK_STATE_DIR": "\(lab.dir)/not-a-folder"])
        #expect(unkept.status == 65 && unkept.stdout == "")
        #expect(unkept.stderr.hasPrefix("failback: error: cannot write \(lab.dir)/not-a-folder/current-drill-") && unkept.stderr.hasSuffix(": Not a directory: nothing appended\n"))
        #expect(try lab.failback(["drill", "list", "--json"]).stdout.split(separator: "\n").count == 1)
        let joined = try sam.failback(["drill", "join", first, "--role", "DBA"])
        #expect(joined.status == 0)
        #expect(joined.stdout.hasPrefix("4\t#4\t") && joined.stdout.contains("\tOperatorJoined\tjoined as DBA\t(sam@"))
        #expect(joined.stderr == "drill \(first): it is now your current drill\n")
        // Dana starts a second drill: Sam's commands still go to the first.
        let second = try dana.failback(["drill", "start", "--runbook", "rollback-teei"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(second != first && second.hasPrefix("drill-"))
        let samNote = try sam.failback(["note", "still on the first", "--json"])
        #expect(samNote.status == 0 && samNote.stdout.contains("\"drill_id\":\"\(first)\""))
        #expect(try dana.failback(["note", "on the second", "--json"]).stdout.contains("\"drill_id\":\"\(second)\""))
        // Lee, who recorded into the one open drill, stays in it.
        #expect(try lee.failback(["note", "still lee", "--json"]).stdout.contains("\"drill_id\":\"\(first)\""))
        // Kim, who has joined none and recorded nothing, must now say which.
        let ambiguous = try kim.failback(["note", "which?"])
        #expect(ambiguous.status == 65 && ambiguous.stdout == "")
        #expect(
            ambiguous.stderr
                == "failback: error: 2 drills are open (\(first), \(second)) and you have joined none: 'failback drill join ID', or pass --drill ID: nothing appended\n")
        // $FAILBACK_DRILL names one for a shell.
        #expect(try kim.failback(["note", "via the environment", "--json"], env: ["FAILBACK_DRILL": second]).stdout.contains("\"drill_id\":\"\(second)\""))
        // Joining while $FAILBACK_DRILL names another drill says which one commands will follow.
        let shadowed = try kim.failback(["drill", "join", first], env: ["FAILBACK_DRILL": second])
        #expect(shadowed.status == 0)
        #expect(shadowed.stderr == "drill \(first): kept as your current drill, but $FAILBACK_DRILL names \(second), which your commands follow while it is set\n")

        // Who did what: status, replay and the report.
        let status = try sam.failback(["status"])
        #expect(status.stdout.split(separator: "\n").contains("operators: dana (incident commander), sam (DBA), kim"))
        let statusJSON = try sam.failback(["status", "--json"]).stdout
        #expect(statusJSON.contains(#""operators":[{"drill_seq":1,"joined_at":"#) && statusJSON.contains(#""name":"sam","role":"DBA"}"#))
        let replay = try sam.failback(["replay", "--speed", "1000"]).stdout.split(separator: "\n")
        #expect(replay.contains { $0.hasSuffix("NoteAdded  still on the first  · sam (DBA)") })
        #expect(replay.contains { $0.hasSuffix("NoteAdded  lee was here  · lee") })
        // A role holding escape sequences is shown escaped in every text format.
        #expect(try lee.failback(["drill", "join", first, "--role", "ops\u{1B}]0;PWNED\u{07}\tx"]).status == 0)
        for args in [["status"], ["replay"], ["report", "--format", "md"], ["report", "--format", "csv"]] {
            let shown = try lee.failback(args).stdout
            #expect(!shown.contains("\u{1B}") && !shown.contains("\u{07}"), "\(args)")
        }
        #expect(try lee.failback(["status"]).stdout.contains(#"lee (ops\u{1b}]0;PWNED\u{7}\tx)"#))
        let report = try sam.failback(["report", "--format", "md"]).stdout
        #expect(report.contains("| Operator | Role | Joined | Event |\n|---|---|---|---|\n| dana | incident commander | "))
        #expect(report.contains("| sam | DBA | "))
        try lab.expectValidAgainstSchemas()  // OperatorJoined, with and without a role, by the schemas

        // The first drill closed: Sam's next command says so, and records nothing.
        #expect(try dana.failback(["drill", "complete", "--drill", first]).status == 0)
        let count = try lab.eventCount
        let closed = try sam.failback(["note", "too late"])
        #expect(closed.status == 65)
        #expect(
            closed.stderr
                == "failback: error: your current drill \(first) (joined on this machine) is closed: join an open one ('failback drill list', then 'failback drill join ID') or pass --drill ID: nothing appended\n"
        )
        #expect(try lab.eventCount == count)
        let rejoin = try sam.failback(["drill", "join", first])
        #expect(rejoin.status == 65 && rejoin.stderr == "failback: error: drill \(first) is closed: nothing appended\n")
        #expect(try sam.failback(["drill", "join", "drill-nope"]).status == 66)
        // A damaged current-drill file: one line naming it, nothing appended; joining replaces it.
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: sam.state).first { $0.hasPrefix("current-drill-") })
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: "\(sam.state)/\(file)"))
        let damaged = try sam.failback(["note", "x"])
        #expect(damaged.status == 65)
        #expect(damaged.stderr == "failback: error: \(sam.state)/\(file) is not a current-drill file (remove it, then 'failback drill join ID')\n")
        #expect(try sam.failback(["drill", "join", second]).status == 0)
        #expect(try sam.failback(["note", "on the second now", "--json"]).stdout.contains("\"drill_id\":\"\(second)\""))
    }

    /// `status --watch` prints the state again each time the head moves, and ends when the drill
    /// is closed.
    @Test func watchingFollowsOthersUntilTheDrillCloses() throws {
        let lab = try Lab()
        let dana = Operator(lab, "dana"), sam = Operator(lab, "sam")
        let drill = try dana.failback(["drill", "start", "--runbook", "rollback-teei"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let watcher = Process()
        watcher.executableURL = buildDirectory.appendingPathComponent("failback")
        watcher.arguments = ["status", "--watch", "--every", "100ms", "--json", "--store", lab.store, "--drill", drill]
        let out = Pipe()
        watcher.standardOutput = out
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        usleep(400_000)
        #expect(try sam.failback(["drill", "join", drill, "--role", "DBA"]).status == 0)
        usleep(300_000)
        #expect(try sam.failback(["note", "one"]).status == 0)
        usleep(300_000)
        #expect(try dana.failback(["drill", "abort", "--reason", "test"]).status == 0)
        #expect(try dana.failback(["drill", "complete"]).status == 0)
        let deadline = Date().addingTimeInterval(10)
        while watcher.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!watcher.isRunning, "the watcher did not stop when the drill closed")
        if watcher.isRunning { watcher.terminate() }
        watcher.waitUntilExit()
        #expect(watcher.terminationStatus == 0)
        let states = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        let counts = states.compactMap { line -> Int? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return object["events"] as? Int
        }
        #expect(counts.count == states.count && counts.count >= 3, "\(states)")
        #expect(counts == counts.sorted() && Set(counts).count == counts.count, "a state printed twice, or out of order: \(counts)")
        #expect(counts.first == 1 && counts.last == 5)
        #expect(states.last?.contains(#""status":"completed""#) == true)
        // --watch and --as-of are two different questions.
        let slow = try dana.failback(["status", "--watch", "--every", "2h"])
        #expect(slow.status == 64 && slow.stderr == "failback: error: --every must be from 100ms to 1h, got 2h\n")
        let garbled = try dana.failback(["status", "--watch", "--every", "abc"])
        #expect(garbled.status == 64 && garbled.stderr == "failback: error: --every \"abc\" is not a duration (like 500ms, 2s, 5m)\n")
        let both = try dana.failback(["status", "--watch", "--as-of", "1"])
        #expect(both.status == 64 && both.stderr == "failback: error: --watch follows the drill as it goes on; --as-of shows a past moment: give one of them\n")
    }
}
