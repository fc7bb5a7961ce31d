import FailbackTestSupport
import Foundation
import Testing

@Suite struct RunbookCLITests {
    static let runbooks = ["runbooks/failback-bud.yaml", "runbooks/rollback-teei.yaml", "Tests/Fixtures/runbooks/cache-store-failback.yaml"]

    @Test func validatesEveryShippedRunbook() throws {
        let o = try run("failback", ["runbook", "validate"] + Self.runbooks.map { repositoryRoot.appendingPathComponent($0).path })
        #expect(o.status == 0, "\(o.stderr)")
        let lines = o.stdout.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines.allSatisfy { $0.contains(": valid runbook ") && $0.contains(", sha256 ") })
        // The digest is the file's SHA-256, as sha256sum computes it.
        let path = repositoryRoot.appendingPathComponent(Self.runbooks[0]).path
        let sum = try run(tool("sha256sum"), [path]).stdout.split(separator: " ").first.map(String.init) ?? "?"
        #expect(lines[0].hasSuffix("sha256 \(sum)"))
    }

    /// The JSON Schema agrees with the loader: every runbook it accepts is valid against the schema.
    @Test(arguments: runbooks)
    func runbooksAreValidAgainstTheSchema(path: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = try run("failback", ["runbook", "show", "--json", repositoryRoot.appendingPathComponent(path).path])
        #expect(json.status == 0)
        try json.stdout.write(toFile: "\(dir)/rb.json", atomically: true, encoding: .utf8)
        let check = try run(
            tool("python3"),
            [
                "-c",
                """
                import json, sys, jsonschema
                schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))
                jsonschema.validators.validator_for(schema)(schema).validate(doc); print("ok")
                """, repositoryRoot.appendingPathComponent("schemas/runbook.schema.json").path, "\(dir)/rb.json",
            ])
        #expect(check.stdout == "ok\n", "\(check.stderr)")
    }

    /// The probes the shipped runbooks give their checks: each is a failback command the parser
    /// takes (its placeholders filled in as docs/runbook-format.md says), refused only for the
    /// store that is not there; and each step whose source command had an expected output that a
    /// probe can read has one.
    @Test func everyProbeOfTheShippedRunbooksParses() throws {
        let placeholders = [
            "$PG_US": "host=db-us dbname=teei", "$PG_EU": "host=db-eu dbname=teei", "$API_US": "https://api-us.example.com",
            "$DNS_SERVER": "10.0.0.2:53", "$PROMETHEUS": "http://prometheus:9090", "$REDIS_PRIMARY": "redis://10.0.0.7:6379",
        ]
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("failback-probes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var counts: [String: Int] = [:]
        for runbook in ["rollback-teei", "failback-bud"] {
            let outline = try run("failback", ["runbook", "show", repositoryRoot.appendingPathComponent("runbooks/\(runbook).yaml").path]).stdout
            for line in outline.split(separator: "\n") where line.trimmingCharacters(in: .whitespaces).hasPrefix("probe: ") {
                var probe = String(line.trimmingCharacters(in: .whitespaces).dropFirst("probe: ".count))
                for (name, value) in placeholders { probe = probe.replacingOccurrences(of: name, with: value) }
                #expect(!probe.contains("$") || probe.contains("=$"), "an unknown placeholder: \(probe)")
                let words = shellWords(probe)
                #expect(words.starts(with: ["failback", "observe"]), "\(probe)")
                let o = try run("failback", Array(words.dropFirst()), cwd: scratch, env: ["FAILBACK_STORE": "\(scratch)/none/ledger.sqlite"])
                #expect(o.status == 66, "\(probe): \(o.status) \(o.stderr)")
                counts[runbook, default: 0] += 1
            }
        }
        #expect(counts == ["rollback-teei": 15, "failback-bud": 3])
    }

    @Test func showPrintsAnOutline() throws {
        let o = try run("failback", ["runbook", "show", repositoryRoot.appendingPathComponent("runbooks/rollback-teei.yaml").path])
        #expect(o.status == 0)
        #expect(o.stdout.hasPrefix("rollback-teei v1.0: Rollback Runbook (Failback to Primary Region) (updated 2025-11-15)\n"))
        #expect(o.stdout.contains("failback eu-central-1 → us-east-1 · RTO < 10 min · RPO < 10 s"))
        #expect(o.stdout.contains("  option A: Rebuild US from EU Backup (recommended), 60–90 min"))
        #expect(o.stdout.contains("  9. b-wait-replication-catch-up  Phase 2: Wait for Replication Catch-Up  [option B]"))
        #expect(o.stdout.contains("b-pause-eu-writes  Pause writes in EU  (1 command; writes STOP)"))
    }

    /// What another team's editor writes and what the help shows: a runbook named by id (as
    /// `drill start` takes it), a file that begins with a UTF-8 byte order mark, a title with
    /// escape sequences (shown escaped, as status and log show recorded text).
    @Test func showAndValidateTakeIdsByteOrderMarksAndEscapes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let env = ["FAILBACK_RUNBOOKS": repositoryRoot.appendingPathComponent("runbooks").path]
        let byID = try run("failback", ["runbook", "show", "rollback-teei"], env: env)
        #expect(byID.status == 0 && byID.stdout.hasPrefix("rollback-teei v1.0: Rollback Runbook (Failback to Primary Region) (updated 2025-11-15)\n"))
        let original = try Data(contentsOf: repositoryRoot.appendingPathComponent("runbooks/failback-bud.yaml"))
        try (Data([0xEF, 0xBB, 0xBF]) + original).write(to: URL(fileURLWithPath: "\(dir)/bom.yaml"))
        let bom = try run("failback", ["runbook", "validate", "\(dir)/bom.yaml"])
        #expect(bom.status == 0 && bom.stdout.hasPrefix("\(dir)/bom.yaml: valid runbook failback-bud v1.0 (8 phases, 49 steps, 47 commands)"), "\(bom.stderr)")
        let text = String(decoding: original, as: UTF8.self)
        let titled = text.replacingOccurrences(of: "title: Failback Runbook", with: #"title: "\e[31mred\u202E Failback Runbook""#)
        #expect(titled != text)
        try titled.write(toFile: "\(dir)/esc.yaml", atomically: true, encoding: .utf8)
        let shown = try run("failback", ["runbook", "show", "\(dir)/esc.yaml"])
        #expect(shown.status == 0 && shown.stdout.hasPrefix("failback-bud v1.0: \\u{1b}[31mred\\u{202e} "), "\(shown.stdout.prefix(80))")
        #expect(!shown.stdout.contains("\u{1b}") && !shown.stdout.contains("\u{202e}"))
    }

    /// A runbook found by id holds that id: a copy saved under another name is refused, not
    /// started as the runbook it holds (`--runbook X` quietly ran `X.yaml`'s runbook Y).
    @Test func aRunbookFoundByIDHoldsThatID() throws {
        let lab = try Lab()
        try FileManager.default.createDirectory(atPath: "\(lab.dir)/rb", withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: repositoryRoot.appendingPathComponent("runbooks/failback-bud.yaml").path, toPath: "\(lab.dir)/rb/mysql-failback.yaml")
        let o = try lab.failback(["drill", "start", "--runbook", "mysql-failback"], env: ["FAILBACK_RUNBOOKS": "\(lab.dir)/rb"])
        #expect(o.status == 65 && o.stdout.isEmpty)
        #expect(
            o.stderr
                == "failback: error: \(lab.dir)/rb/mysql-failback.yaml holds runbook \"failback-bud\", not \"mysql-failback\" (name the file by its id, or pass its path)\n")
        #expect(try lab.failback(["drill", "start", "--runbook", "\(lab.dir)/rb/mysql-failback.yaml"]).status == 0)
    }

    @Test func refusesABrokenRunbookWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rb-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try String(contentsOf: repositoryRoot.appendingPathComponent(Self.runbooks[2]), encoding: .utf8)
        try source.replacingOccurrences(of: "{option: resync}", with: "{option: rebuild}").write(toFile: "\(dir)/bad.yaml", atomically: true, encoding: .utf8)
        let o = try run("failback", ["runbook", "validate", "\(dir)/bad.yaml"])
        #expect(o.status == 65)
        #expect(o.stderr == "failback: error: \(dir)/bad.yaml:23:103: flowchart.nodes[0].no.option: names option \"rebuild\", which the runbook does not define\n")
        let missing = try run("failback", ["runbook", "validate", "\(dir)/none.yaml"])
        #expect(missing.status == 66)
        #expect(missing.stderr == "failback: error: runbook \(dir)/none.yaml: No such file or directory\n")
    }
}
