import Foundation
import Testing

/// `failback replay`, `compare` and `drill list` through the binary: in a pipe, on a terminal
/// (under `script`, which gives the command a pseudo-terminal), and refusals.
@Suite struct ReplayCommandTests {
    /// A drill of seed 2's option B up to its first phase, with a note, an issue and a failed check.
    func recordedDrill(_ lab: Lab) throws -> String {
        let id = try lab.startDrill("rollback-teei", option: "B")
        for q in ["primary-healthy", "sufficient-time-passed", "low-traffic-window", "stakeholders-notified", "backups-current", "valid-reason"] {
            try lab.expectSuccess(["decide", q, "yes"])
        }
        try lab.expectSuccess(["approve", "--by", "Morgan", "--role", "change manager"])
        try lab.expectSuccess(["phase", "start", "b-configure-us-standby"])
        try lab.expectSuccess(["exec", "--step", "b-demote-us", "--", "/bin/sh", "-c", "echo rewound; echo warning >&2"])
        try lab.expectSuccess(["record", "health", "--target", "https://eu.example/health", "--status", "503", "--latency-ms", "4", "--expect-status", "200"])
        try lab.expectSuccess(["issue", "add", "EU health endpoint down", "--severity", "high"])
        try lab.expectSuccess(["step", "done", "b-demote-us"])
        try lab.expectSuccess(["phase", "complete", "b-configure-us-standby"])
        return id
    }

    /// Runs `command` (a shell line) on a pseudo-terminal (an xterm, NO_COLOR unset unless
    /// `noColor`: the test runner's own settings do not leak in), typing `keys`; returns what the
    /// terminal showed.
    func onTerminal(_ command: String, keys: String = "", noColor: Bool = false) throws -> Outcome {
        try run("/usr/bin/env", ["-u", "NO_COLOR", "TERM=xterm"] + (noColor ? ["NO_COLOR=1"] : []) + [tool("script"), "-qec", command, "/dev/null"], stdin: Data(keys.utf8))
    }

    @Test func inAPipeEveryEventIsOnePlainLineAndNothingWaits() throws {
        let lab = try Lab()
        let drill = try recordedDrill(lab)
        let started = Date()
        // At a thousandth of the drill's pace a terminal would wait; a pipe never does.
        let o = try lab.expectSuccess(["replay", "--speed", "0.001", "--outputs"])
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(!o.stdout.contains("\u{1B}"))
        let lines = o.stdout.split(separator: "\n").map(String.init)
        let events = lines.filter { $0.hasPrefix("+") }
        #expect(events.count == (try lab.eventCount))
        for (i, line) in events.enumerated() {
            #expect(line.range(of: #"^\+\d\d:\d\d:\d\d\.\d{3}  #\#(i + 1)  "#, options: .regularExpression) != nil, "\(line)")
        }
        #expect(events.first?.contains("  #1  -  DrillStarted  runbook rollback-teei v1.0") == true)
        #expect(events.contains { $0.contains("b-configure-us-standby  HealthCheckObserved  https://eu.example/health → 503") && $0.hasSuffix("FAILED") })
        #expect(events.contains { $0.contains("IssueRaised  [high] EU health endpoint down  · tester  ISSUE") })
        #expect(lines.contains("    stdout | rewound") && lines.contains("    stderr | warning"))
        let count = try lab.eventCount, last = try lastEventTime(lab)
        #expect(lines.last == "drill still open (running): \(count) events so far, the last at \(last) · 1 failed")
        // --json: one object per event; --from/--until by number.
        let json = try lab.expectSuccess(["replay", "--json", "--from", "2", "--until", "4"]).stdout.split(separator: "\n")
        #expect(try json.map { (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["drill_seq"] as? Int } == [2, 3, 4])
        #expect(
            try lab.expectSuccess(["replay", "--drill", drill, "--until", "1"]).stdout.hasSuffix("drill as of event #1 of \(try lab.eventCount): running · no failed checks\n"))
    }

    func lastEventTime(_ lab: Lab) throws -> String {
        (try lab.events().last?["recorded_at"] as? String) ?? "?"
    }

    @Test func onATerminalStepShowsOneEventPerKeyWithTheProgressBar() throws {
        let lab = try Lab()
        _ = try recordedDrill(lab)
        let command = "'\(buildDirectory.path)/failback' replay --step --store '\(lab.store)'"
        // Two keys, then q: three events shown, then the ending says where the replay stopped.
        let o = try onTerminal(command, keys: "  q")
        #expect(o.status == 0, "\(o.stdout)")
        let shown = o.stdout.components(separatedBy: "\r\u{1B}[2K").filter { $0.contains("\u{1B}[2m+00:") }
        #expect(shown.count == 3, "\(o.stdout.debugDescription)")
        #expect(o.stdout.contains("\u{1B}[7m 0/3 phases done · drill 0s   [→ next · ← back · q quit] \u{1B}[0m"))
        #expect(o.stdout.contains("drill as of event #3 of \(try lab.eventCount): running · no failed checks (replay stopped)"))
        // NO_COLOR: the same view without colour (the bar in brackets).
        let plain = try onTerminal(command, keys: "q", noColor: true)
        #expect(!plain.stdout.contains("\u{1B}[7m") && !plain.stdout.contains("\u{1B}[1;31m") && !plain.stdout.contains("\u{1B}[2m"))
        #expect(plain.stdout.contains("[0/3 phases done · drill 0s   [→ next · ← back · q quit]]"))
        // Paced, slow (a thousandth of the drill's pace): q typed while it waits stops it, with its
        // last line, well before the drill's 4+ seconds of gaps at that pace would pass.
        let started = Date()
        let stopped = try onTerminal("'\(buildDirectory.path)/failback' replay --speed 0.001 --max-wait 30 --store '\(lab.store)'", keys: "q")
        #expect(stopped.status == 0 && stopped.stdout.contains("(replay stopped)"), "\(stopped.stdout.suffix(300))")
        #expect(Date().timeIntervalSince(started) < 20)
        // Paced: the whole drill plays, failures in red, the bar follows the phase.
        let paced = try onTerminal("'\(buildDirectory.path)/failback' replay --speed 100 --max-wait 0.05 --store '\(lab.store)'")
        #expect(paced.stdout.contains("\u{1B}[1;31mFAILED\u{1B}[0m"))
        #expect(paced.stdout.contains("\u{1B}[7m phase 1/3 b-configure-us-standby"))
        #expect(paced.stdout.contains("\u{1B}[7m 1/3 phases done"))
        #expect(paced.stdout.contains("drill still open (running)"))
    }

    @Test func compareTwoDrillsOfOneStore() throws {
        let lab = try Lab()
        let a = try recordedDrill(lab)
        try lab.expectSuccess(["drill", "abort", "--reason", "EU down"])
        try lab.expectSuccess(["drill", "complete", "--outcome", "aborted"])
        let b = try lab.startDrill("rollback-teei", option: "A")
        let text = try lab.expectSuccess(["compare", a, b]).stdout
        #expect(text.hasPrefix("compare \(a) (A) with \(b) (B)\n"))
        #expect(text.contains("different options: B and A"))
        #expect(text.contains("http: https://eu.example/health  failed  not run"))
        let json = try JSONSerialization.jsonObject(with: Data(lab.expectSuccess(["compare", a, b, "--json"]).stdout.utf8)) as! [String: Any]
        #expect((json["a"] as! [String: Any])["result"] as? String == "aborted")
        #expect((json["phases"] as! [[String: Any]]).map { $0["id"] as! String }.first == "b-configure-us-standby")
        #expect(try lab.expectSuccess(["compare", a, b, "--format", "md"]).stdout.contains("## Phases (matched by id)"))
    }

    @Test func refusalsAreOneLine() throws {
        let lab = try Lab()
        let drill = try recordedDrill(lab)
        let cases: [([String], Int32, String)] = [
            (["replay", "--from", "yesterday"], 64, "--from takes a drill event number or an RFC 3339 time, not 'yesterday'"),
            (["replay", "--speed", "0"], 64, "--speed must be a number above 0"),
            (["replay", "--step", "--json"], 64, "--step plays on a terminal"),
            (["replay", "--drill", "drill-nope"], 66, "drill-nope"),
            (["compare", drill, "drill-nope"], 66, "drill-nope"),
            (["compare", drill, drill, "--format", "xml"], 64, "--format must be one of text, md, json, not 'xml'"),
        ]
        for (args, status, message) in cases {
            let o = try lab.failback(args)
            #expect(o.status == status, "\(args): \(o.status) \(o.stderr)")
            #expect(o.stderrLines.count == 1 && o.stderr.contains(message), "\(args): \(o.stderr)")
            #expect(o.stdout.isEmpty, "\(args) printed \(o.stdout)")
        }
    }

    /// Summaries kept beside the log: made on the first listing, used while the drill has not
    /// moved, made again when it has, never trusted when damaged, and not needed to list.
    @Test func drillListKeepsSummariesAndNeverServesAStaleOne() throws {
        let lab = try Lab()
        let first = try recordedDrill(lab)
        try lab.expectSuccess(["drill", "complete", "--outcome", "failed"])
        let second = try lab.startDrill("failback-bud")
        func listed() throws -> [[String: Any]] {
            try lab.expectSuccess(["drill", "list", "--json"]).stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        }
        func kept() throws -> [String] {
            try lab.sqlite("SELECT drill_id || ' ' || event_count FROM projections ORDER BY drill_id").stdout.split(separator: "\n").map(String.init)
        }
        #expect(try listed().map { $0["drill_id"] as? String } == [first, second])
        let firstCount = try lab.expectSuccess(["log", "--drill", first]).stdout.split(separator: "\n").count
        #expect(try kept() == ["\(first) \(firstCount)", "\(second) 1"].sorted())
        // The open drill moves on: its summary is made again.
        try lab.expectSuccess(["note", "a new event"])
        #expect(try listed().map { $0["events"] as? Int } == [firstCount, 2])
        #expect(try kept().contains("\(second) 2"))
        // A damaged summary is not served: the drill is folded again and the summary rewritten.
        try lab.sqlite("UPDATE projections SET value = x'7b7d' WHERE drill_id = '\(first)'")
        #expect(try listed().first?["outcome"] as? String == "failed")
        #expect(try lab.sqlite("SELECT length(value) > 2 FROM projections WHERE drill_id = '\(first)'").stdout == "1\n")
        // Summaries are not part of the log: the chain still verifies, and a read-only store still lists.
        try lab.expectSuccess(["verify", "--all"])
        try lab.sqlite("DELETE FROM projections")
        _ = try run("/bin/chmod", ["-R", "a-w", lab.dir])
        defer { _ = try? run("/bin/chmod", ["-R", "u+w", lab.dir]) }
        #expect(try listed().map { $0["drill_id"] as? String } == [first, second])
    }

    /// Keeping summaries never makes a listing wait for a recorder holding the write lock.
    @Test func drillListDoesNotWaitForWriters() throws {
        let lab = try Lab()
        let drill = try lab.startDrill("failback-bud")
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: tool("sqlite3"))
        holder.arguments = [lab.store, "BEGIN IMMEDIATE;", ".system sleep 4", "COMMIT;"]
        try holder.run()
        defer { holder.waitUntilExit() }
        Thread.sleep(forTimeInterval: 0.5)
        let started = Date()
        let o = try lab.expectSuccess(["drill", "list"])
        #expect(Date().timeIntervalSince(started) < 2.5, "drill list waited for the lock")
        #expect(o.stdout.hasPrefix("\(drill)\tfailback-bud v1.0\trunning\t"))
    }

    /// Every command that reads prints JSON when asked: each line of its output parses.
    @Test func everyReadCommandSpeaksJSON() throws {
        let lab = try Lab()
        let a = try recordedDrill(lab)
        try lab.expectSuccess(["drill", "complete"])
        let b = try lab.startDrill("failback-bud")
        let bundle = "\(lab.dir)/b.tar.gz", proof = "\(lab.dir)/proof.json"
        try lab.expectSuccess(["evidence", "export", "--drill", a, "-o", bundle])
        try lab.expectSuccess(["evidence", "prove", "--drill", a, "--seq", "3"]).stdout.write(toFile: proof, atomically: true, encoding: .utf8)
        let commands: [[String]] = [
            ["status", "--json"], ["drill", "list", "--json"], ["log", "--json"], ["verify", "--all", "--json"], ["replay", "--json"],
            ["compare", a, b, "--json"], ["report", "--drill", a, "--format", "json"], ["evidence", "gaps", "--drill", a, "--json"],
        ]
        for args in commands {
            let o = try lab.failback(args)
            #expect(o.status == 0 || args.contains("gaps") && o.status == 1, "\(args): \(o.stderr)")
            let lines = o.stdout.split(separator: "\n")
            #expect(!lines.isEmpty, "\(args) printed nothing")
            for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(args): not JSON: \(line)") }
        }
        // Commands without a store.
        let runbook = repositoryRoot.appendingPathComponent("runbooks/rollback-teei.yaml").path
        for args in [["runbook", "show", "--json", runbook], ["runbook", "validate", "--json", runbook]] {
            let o = try run("failback", args)
            #expect(o.status == 0 && (try? JSONSerialization.jsonObject(with: Data(o.stdout.utf8))) != nil, "\(args): \(o.stdout) \(o.stderr)")
        }
        for args in [["evidence", "verify", "--json", bundle, "--allow-unpinned"], ["evidence", "verify-proof", "--json", proof, "--allow-unpinned"]] {
            let o = try run("failback", args)
            #expect(o.status == 0, "\(args): \(o.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as? [String: Any]
            // Intact, but not verified: its signer is no trusted key.
            #expect(object?["verified"] as? Bool == false && object?["intact"] as? Bool == true, "\(args): \(o.stdout)")
        }
    }
}
