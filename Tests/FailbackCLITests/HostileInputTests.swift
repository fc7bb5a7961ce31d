import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Hostile input (issue 20 §3): each one is refused with one line naming what was wrong and where,
/// a non-zero status (65 bad data, 66 not there), within a bounded time (the command runs under
/// `timeout`) and memory (GNU time's peak RSS), and nothing is appended.
@Suite struct HostileInputTests {
    /// Every peak measured here stays under this.
    static let memoryBoundMiB = 100.0

    func expectRefused(
        _ lab: Lab, _ args: [String], feeder: String? = nil, status: Int32, stderr expected: String, seconds: Double = 10,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let before = try lab.eventCount
        // Commands that read no store take no --store.
        let storeless = args.first == "runbook" || (args.first == "evidence" && ["verify", "verify-proof"].contains(args[1]))
        let m =
            storeless
            ? try measured("failback", args, feeder: feeder, limit: Int(seconds) + 20)
            : try lab.measuredFailback(args, feeder: feeder, limit: Int(seconds) + 20)
        #expect(m.outcome.status == status, "status \(m.outcome.status): \(m.outcome.stderr)", sourceLocation: sourceLocation)
        #expect(m.outcome.stderr == "failback: error: \(expected)\n", sourceLocation: sourceLocation)
        #expect(m.outcome.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(m.seconds < seconds, "took \(m.seconds) s", sourceLocation: sourceLocation)
        #expect(m.peakKiB > 0 && m.peakMiB < Self.memoryBoundMiB, "peak \(m.peakMiB) MiB", sourceLocation: sourceLocation)
        #expect(try lab.eventCount == before, "something was appended", sourceLocation: sourceLocation)
    }

    // MARK: File inputs

    @Test func fileInputsAreRegularFilesWithinTheirLimit() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let fifo = "\(lab.dir)/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        // A file over the limit, sparse: nothing is read of it.
        let big = "\(lab.dir)/big.json"
        #expect(FileManager.default.createFile(atPath: big, contents: nil))
        #expect(truncate(big, 33 << 20) == 0)
        try expectRefused(lab, ["record", "pods", "--from-file", "/dev/zero"], status: 65, stderr: "pod listing /dev/zero is a character device, not a regular file")
        try expectRefused(lab, ["record", "pods", "--from-file", "/dev/urandom"], status: 65, stderr: "pod listing /dev/urandom is a character device, not a regular file")
        // A FIFO with no writer: refused at once, not waited on.
        try expectRefused(lab, ["record", "pods", "--from-file", fifo], status: 65, stderr: "pod listing \(fifo) is a FIFO, not a regular file")
        try expectRefused(lab, ["record", "pods", "--from-file", lab.dir], status: 65, stderr: "pod listing \(lab.dir) is a folder, not a regular file")
        try expectRefused(lab, ["record", "pods", "--from-file", big], status: 65, stderr: "pod listing \(big) is 34603008 bytes, over the limit of 32 MiB")
        try expectRefused(lab, ["record", "pods", "--from-file", "\(lab.dir)/none.json"], status: 66, stderr: "pod listing \(lab.dir)/none.json: No such file or directory")
        // Standard input that never ends (`kubectl get pods -w`): read up to the limit, then refused.
        try expectRefused(lab, ["record", "pods", "--from-file", "-"], feeder: "yes", status: 65, stderr: "pod listing from standard input is over the limit of 32 MiB")
        try expectRefused(lab, ["observe", "pods", "--from-file", "/dev/zero"], status: 65, stderr: "pod listing /dev/zero is a character device, not a regular file")
        // Runbooks, configuration, keys and proofs: the same rule, each with its limit.
        try expectRefused(lab, ["drill", "start", "--runbook", "/dev/zero"], status: 65, stderr: "runbook /dev/zero is a character device, not a regular file")
        try expectRefused(lab, ["runbook", "validate", fifo], status: 65, stderr: "runbook \(fifo) is a FIFO, not a regular file")
        try expectRefused(lab, ["runbook", "validate", big], status: 65, stderr: "runbook \(big) is 34603008 bytes, over the limit of 1 MiB")
        try expectRefused(lab, ["note", "x", "--config", "/dev/zero"], status: 65, stderr: "configuration file /dev/zero is a character device, not a regular file")
        try expectRefused(lab, ["note", "x", "--config", "\(lab.dir)/none.json"], status: 66, stderr: "configuration file \(lab.dir)/none.json: No such file or directory")
        try expectRefused(lab, ["evidence", "verify-proof", "/dev/urandom"], status: 65, stderr: "proof /dev/urandom is a character device, not a regular file")
        try expectRefused(lab, ["evidence", "verify-proof", fifo], status: 65, stderr: "proof \(fifo) is a FIFO, not a regular file")
        try expectRefused(lab, ["evidence", "export", "-o", "\(lab.dir)/b.tar.gz", "--key", fifo], status: 65, stderr: "key \(fifo) is a FIFO, not a regular file")
        try expectRefused(lab, ["evidence", "verify", fifo], status: 65, stderr: "bundle \(fifo) is a FIFO, not a regular file")
        try expectRefused(lab, ["evidence", "verify", "/dev/zero"], status: 65, stderr: "bundle /dev/zero is a character device, not a regular file")
        // A listing within the limit still reads, from a file or standard input.
        let ready = repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl/pods-ready.json").path
        #expect(try lab.failback(["record", "pods", "--from-file", "-"], stdin: try Data(contentsOf: URL(fileURLWithPath: ready))).status == 0)
    }

    // MARK: Runbook YAML

    @Test func deeplyNestedRunbooksAreRefusedAtOnce() throws {
        let lab = try Lab()
        for (name, depth) in [("deep40k.yaml", 40_000), ("deep160k.yaml", 160_000)] {
            let file = "\(lab.dir)/\(name)"
            try ("a: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            // Column 67: the 65th "[" (after "a: "), the first one past the bound.
            try expectRefused(lab, ["runbook", "validate", file], status: 65, stderr: "\(file):1:67: nested deeper than 64")
            try expectRefused(lab, ["drill", "start", "--runbook", file], status: 65, stderr: "\(file):1:67: nested deeper than 64")
        }
        // Block style: the 65th mapping inside one another starts on line 65.
        let block = "\(lab.dir)/block.yaml"
        try ((0..<100).map { String(repeating: "  ", count: $0) + "k:\n" }.joined() + String(repeating: "  ", count: 100) + "v\n").write(
            toFile: block, atomically: true, encoding: .utf8)
        try expectRefused(lab, ["runbook", "validate", block], status: 65, stderr: "\(block):65:129: nested deeper than 64")
    }

    /// JSON from outside (a kubectl listing, from a file or a command) nests at most 512 deep.
    @Test func deeplyNestedJSONIsRefused() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let deep = "\(lab.dir)/deep.json"
        try (String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)).write(toFile: deep, atomically: true, encoding: .utf8)
        try expectRefused(lab, ["record", "pods", "--from-file", deep], status: 65, stderr: "\(deep): line 1, column 513: nesting deeper than 512 levels")
        try expectRefused(lab, ["observe", "pods", "--", "cat", deep], status: 65, stderr: "cat \(deep): line 1, column 513: nesting deeper than 512 levels")
        try expectRefused(lab, ["evidence", "verify-proof", deep], status: 65, stderr: "\(deep): line 1, column 513: nesting deeper than 512 levels")
    }

    // MARK: Commands a probe runs

    /// `observe pods --timeout 2s -- sleep 100` ran 100 s: the command and everything it started
    /// are killed at the timeout, which is recorded as a failed observation.
    @Test func aProbesCommandIsKilledWithItsGroupAtTheTimeout() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let marker = "1000\(Int.random(in: 100...999)).5"  // a sleep no other test runs
        let before = try lab.eventCount
        let m = try lab.measuredFailback(["observe", "pods", "--timeout", "2s", "--", "sh", "-c", "sleep \(marker) & sleep \(marker); wait"], limit: 30)
        #expect(m.outcome.status == 1, "\(m.outcome.stderr)")
        #expect(m.seconds < 5, "took \(m.seconds) s")
        #expect(m.peakMiB < Self.memoryBoundMiB)
        #expect(m.outcome.stdout.contains("PodStatesObserved\tno pod listing: no listing within 2s (killed)\t"), "\(m.outcome.stdout)")
        #expect(try lab.eventCount == before + 1)
        let pods = try #require(try lab.payloads("PodStatesObserved").last)
        #expect(pods["error"] as? String == "no listing within 2s (killed)" && (pods["pods"] as? [Any])?.isEmpty == true)
        // The shell's background child went with the group.
        let left = try run("/usr/bin/pgrep", ["-f", "sleep \(marker)"])
        #expect(left.stdout.isEmpty, "left running: \(left.stdout)")
        // With --until, every sample is bounded by what is left of --timeout.
        let loop = try lab.measuredFailback(["observe", "pods", "--until", "not_ready=0", "--every", "200ms", "--timeout", "2s", "--", "sleep", "100"], limit: 30)
        #expect(loop.outcome.status == 1 && loop.seconds < 5, "\(loop.seconds) s: \(loop.outcome.stderr)")
        try lab.expectValidAgainstSchemas()
    }

    /// A command that prints for ever (`kubectl get pods -w`) is killed once it passes the limit.
    @Test func aListingCommandThatNeverEndsIsStoppedAtTheLimit() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try expectRefused(lab, ["observe", "pods", "--", "yes"], status: 65, stderr: "yes: printed more than limits.max_output_bytes (1048576)")
    }

    // MARK: URLs and the arguments after ours

    @Test func observeHTTPTakesOnlyHTTPURLs() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try expectRefused(lab, ["observe", "http", "--", "-K/etc/passwd"], status: 65, stderr: "URL \"-K/etc/passwd\" is not an http:// or https:// URL")
        try expectRefused(lab, ["observe", "http", "file:///etc/passwd"], status: 65, stderr: "URL \"file:///etc/passwd\" is not an http:// or https:// URL")
        try expectRefused(
            lab, ["observe", "http", "http://127.0.0.1:99999/"], status: 65, stderr: "URL \"http://127.0.0.1:99999/\": port \"99999\" is not a number from 1 to 65535")
        try expectRefused(
            lab, ["observe", "http", "http://a..b/health"], status: 65,
            stderr: "URL \"http://a..b/health\": host \"a..b\" has an empty label (two dots in a row, or a dot at the start)")
        try expectRefused(lab, ["observe", "http", "http://x/ -K/etc/passwd"], status: 65, stderr: "URL \"http://x/ -K/etc/passwd\" holds a space (percent-encode it)")
        try expectRefused(lab, ["observe", "http", "http:///health"], status: 65, stderr: "URL \"http:///health\" has no host")
        try expectRefused(
            lab, ["record", "health", "--target=-K/etc/passwd", "--status", "200", "--latency-ms", "1"], status: 65,
            stderr: "target \"-K/etc/passwd\" is not an http:// or https:// URL")
    }

    // MARK: Text shown to another person

    /// Escape sequences in what one person records reach another's terminal escaped (`log`,
    /// `replay`, `status`): the player's own colours are the only codes sent.
    @Test func recordedTextIsShownEscaped() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let evil = "clear \u{1B}[2J title \u{1B}]0;pwned\u{07} bell\nsecond line\ttab \u{202E}reversed \u{9B}31m"
        try lab.expectSuccess(["note", evil])
        try lab.expectSuccess(["issue", "add", "boom \u{1B}[31m"])
        #expect(try lab.failback(["exec", "--", "printf", "red \\033[31mRED\\033[0m\\r\\nok\\n"]).status == 0)
        let shown = #"clear \u{1b}[2J title \u{1b}]0;pwned\u{7} bell\nsecond line\ttab \u{202e}reversed \u{9b}31m"#
        let log = try lab.expectSuccess(["log"]).stdout
        #expect(log.contains("\tNoteAdded\t\(shown)\t(tester@"), "\(log)")
        let replay = try lab.expectSuccess(["replay", "--outputs"]).stdout
        #expect(replay.contains("  NoteAdded  \(shown)  · tester\n"), "\(replay)")
        #expect(replay.contains(#"    stdout | red \u{1b}[31mRED\u{1b}[0m"# + "\n    stdout | ok\n"), "\(replay)")
        let status = try lab.expectSuccess(["status"]).stdout
        for output in [log, replay, status] {
            #expect(!output.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x9B || $0.value == 0x07 || $0.value == 0x202E }, "\(output)")
        }
        #expect(status.contains(#"boom \u{1b}[31m"#), "\(status)")
        // JSON keeps the text exactly (RFC 8785 escapes what must be).
        #expect(try lab.payloads("NoteAdded").first?["text"] as? String == evil)
    }

    // MARK: Numbers, names and every payload type

    /// Each recorded field is checked before append; whatever the CLI accepts of these hostile
    /// values, every event in the store is valid against schemas/.
    @Test func hostileFieldsAreRefusedAndTheStoreStaysValid() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let kubectl = repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl").path
        let negative = "\(lab.dir)/negative.json"
        try #"{"kind": "List", "items": [{"kind": "Pod", "metadata": {"name": "p"}, "status": {"phase": "Running", "containerStatuses": [{"ready": true, "restartCount": -5}]}}]}"#
            .write(toFile: negative, atomically: true, encoding: .utf8)
        let cases: [([String], Int32, String)] = [
            (["note", "x", "--actor", ""], 65, "the actor is empty (--actor, $FAILBACK_ACTOR or $USER names who records): nothing appended"),
            (["note", "x", "--actor", "a\u{1B}[2Jb"], 65, #"the actor "a\u{1B}[2Jb" holds the control character U+1B: nothing appended"#),
            (["record", "lag", "--seconds", "0x10", "--source", "dr", "--target", "p"], 64, "The value '0x10' is invalid for '--seconds <seconds>'"),
            (["record", "dns", "--name", "x.example", "--resolver", "nohost"], 65, #"resolver "nohost": expected HOST:PORT (an IPv6 address in brackets: [::1]:53)"#),
            (["record", "dns", "--name", "x.example", "--resolver", "1.2.3.4:99999"], 65, #"resolver "1.2.3.4:99999": port "99999" is not a number from 1 to 65535"#),
            (["record", "dns", "--name", "x.example", "--resolver", ":53"], 65, #"resolver ":53": the host is empty"#),
            (["record", "dns", "--name", "x.example", "--resolver", "1.2.3.4:0"], 65, #"resolver "1.2.3.4:0": port "0" is not a number from 1 to 65535"#),
            (["record", "dns", "--name", "x.example", "--resolver", "1.2.3.4:53", "--type", "BOGUS"], 65, #"record type "BOGUS" is not one of A, AAAA, CNAME, MX, NS, PTR, TXT"#),
            (["record", "dns", "--name", "a..b", "--resolver", "1.2.3.4:53"], 65, #"DNS name "a..b" has an empty label (two dots in a row, or a dot at the start)"#),
            (
                ["record", "dns", "--name", String(repeating: "a", count: 300), "--resolver", "1.2.3.4:53"], 65,
                "DNS name \(String(repeating: "a", count: 60).debugDescription)… (300 bytes) is longer than 253 characters"
            ),
            (
                ["record", "dns", "--name", String(repeating: "a", count: 64) + ".example", "--resolver", "1.2.3.4:53"], 65,
                "DNS name \((String(repeating: "a", count: 64) + ".example").debugDescription): label \"aaaaaaaaaaaaaaaaaaaa\"… is longer than 63 characters"
            ),
            (
                ["record", "dns", "--name", "x.example", "--resolver", "1.2.3.4:53", "--answer", "not-an-address"], 65,
                #""not-an-address" is not an IPv4 address (an answer to A is one)"#
            ),
            (["record", "pods", "--from-file", negative], 65, "\(negative): items[0].status.containerStatuses[0].restartCount is -5, not a count ≥ 0"),
            (["checklist", "verify", "team-assembled", "--notes", ""], 65, "--notes must not be empty"),
            (["checklist", "verify", "team-assembled", "--by", " "], 65, "--by must not be empty"),
            (["record", "health", "--target", "api", "--status", "200", "--latency-ms", "1"], 65, #"target "api" is not an http:// or https:// URL"#),
            (["observe", "dns", "a..b", "--server", "127.0.0.1:9"], 65, #"DNS name "a..b" has an empty label (two dots in a row, or a dot at the start)"#),
            (["observe", "lag", "--postgres", "host=127.0.0.1 port=9", "--target", ""], 65, "target site must not be empty"),
        ]
        for (args, status, message) in cases {
            try expectRefused(lab, args, status: status, stderr: message)
        }
        // What is accepted: every payload type, through the CLI, at the edges of what is allowed.
        for args in [
            ["record", "lag", "--seconds", "1e3", "--source", "dr", "--target", "p"],
            ["record", "rowcount", "--table", "t", "--site", "dr", "--count", "9007199254740991"],
            ["record", "dns", "--name", "_dmarc.x-1.example.", "--resolver", "[::1]:53", "--type", "aaaa", "--answer", "::1"],
            ["record", "dns", "--name", String(repeating: "a", count: 63) + ".example", "--resolver", "dns.example:5353", "--type", "TXT", "--answer", "\"v=spf1 -all\""],
            ["record", "pods", "--from-file", "\(kubectl)/pods-mixed.json"],
            ["record", "health", "--target", "https://[::1]:8443/health?x=1", "--status", "200", "--latency-ms", "0"],
            ["note", "x", "--actor", "Dana O'Neil"],
            ["issue", "add", "x", "--severity", "low"],
            ["checklist", "verify", "team-assembled", "--notes", "all here", "--by", "dana"],
            ["approve", "--by", "morgan", "--role", "change manager"],
            ["decline", "--by", "sam", "--role", "incident commander", "--reason", "not yet"],
        ] {
            try lab.expectSuccess(args)
        }
        #expect(try lab.failback(["exec", "--", "true"]).status == 0)
        #expect(try lab.failback(["observe", "dns", "x.example", "--server", "127.0.0.1:9", "--timeout", "1s"]).status == 1)
        #expect(try lab.failback(["observe", "pods", "--timeout", "1s", "--", "sleep", "5"]).status == 1)
        try lab.expectSuccess(["drill", "abort", "--reason", "enough"])
        try lab.expectValidAgainstSchemas()
        // The DNS probe records the server it asked as HOST:PORT, the port said.
        #expect(try lab.payloads("DNSAnswerObserved").last?["resolver"] as? String == "127.0.0.1:9")
    }
}
