import Foundation
import Testing

@Suite struct WorkflowTests {
    let kubectl = repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl").path

    /// Writes one event of every type through the CLI.
    func recordOneOfEach(_ lab: Lab) throws {
        _ = try lab.startDrill()
        try lab.expectSuccess(["record", "lag", "--seconds", "3.2", "--source", "dr", "--target", "primary"])
        try lab.expectSuccess(["record", "rowcount", "--table", "events", "--site", "dr", "--count", "1204331"])
        try lab.expectSuccess(["record", "dns", "--name", "api.example.com", "--answer", "52.1.2.3", "--resolver", "127.0.0.1:5353", "--expect", "52.1.2.3"])
        try lab.expectSuccess(["record", "pods", "--from-file", "\(kubectl)/pods-mixed.json"])
        try lab.expectSuccess(["record", "health", "--target", "https://api.example.com/health", "--status", "200", "--latency-ms", "41"])
        try lab.expectSuccess(["note", "DNS TTL lowered to 60s"])
        try lab.expectSuccess(["issue", "add", "budcluster in CrashLoopBackOff", "--severity", "high"])
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo hi; exit 2"]).status == 2)
        #expect(try lab.failback(["exec", "--", "no-such-command-at-all"]).status == 127)
        #expect(try lab.failback(["observe", "http", "http://127.0.0.1:9/", "--until", "pass", "--timeout", "200ms"]).status == 1)
        let closed = "host=127.0.0.1 port=9 dbname=x"
        #expect(try lab.failback(["observe", "lag", "--postgres", closed]).status == 1)
        #expect(try lab.failback(["observe", "recovery", "--postgres", closed]).status == 1)
        #expect(try lab.failback(["observe", "rowcount", "--source", closed, "--target", closed, "--table", "t"]).status == 1)
        #expect(try lab.failback(["observe", "dns", "api.example.com", "--server", "127.0.0.1:9"]).status == 1)
        #expect(try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:9"]).status == 1)
        try lab.expectSuccess(["checklist", "verify", "team-assembled", "--by", "dana"])
        try lab.expectSuccess(["decline", "--by", "Sam", "--role", "incident commander", "--reason", "backups not yet verified"])
        try lab.expectSuccess(["approve", "--by", "Morgan", "--role", "change manager"])
        try lab.expectSuccess(["phase", "start", "pre-failback-checks", "--override", "--reason", "checklist done on paper"])
        try lab.expectSuccess(["step", "start", "check-primary-cluster-health"])
        try lab.expectSuccess(["step", "done", "check-primary-cluster-health"])
        try lab.expectSuccess(["step", "skip", "verify-minio-sync", "--reason", "no MinIO in the lab"])
        try lab.expectSuccess(["step", "fail", "verify-primary-redis", "--reason", "PING timed out"])
        for step in [
            "verify-primary-nodes-ready", "check-primary-storage", "verify-primary-postgresql", "check-replication-possible", "check-replication-lag", "ensure-dr-data-synced",
        ] {
            try lab.expectSuccess(["step", "skip", step, "--reason", "not in this lab"])
        }
        try lab.expectSuccess(["phase", "complete", "pre-failback-checks"])
        try lab.expectSuccess(["drill", "abort", "--reason", "Redis not ready"])
        try lab.expectSuccess(["drill", "complete"])
    }

    @Test func everyEventTheCLIWritesIsValidAgainstTheSchemas() throws {
        let lab = try Lab()
        try recordOneOfEach(lab)
        let log = try lab.expectSuccess(["log", "--json"])
        let file = "\(lab.dir)/events.jsonl"
        try log.stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try python("validate-events.py", [file])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let types = summary?["types"] as? [String: Int] ?? [:]
        #expect(
            Set(types.keys) == [
                "DrillStarted", "ReplicationLagSampled", "RowCountSampled", "DNSAnswerObserved", "PodStatesObserved",
                "HealthCheckObserved", "NoteAdded", "IssueRaised", "PhaseStarted", "PhaseCompleted", "StepCompleted", "StepSkipped",
                "StepFailed", "DrillAborted", "DrillCompleted", "ChecklistItemVerified", "ApprovalGranted", "GateOverridden", "StepStarted", "ApprovalDeclined",
                "CommandExecuted", "CommandFailedToStart", "WaitConcluded", "RowCountsCompared", "RecoveryStateObserved", "RedisReplicationObserved",
            ])
    }

    /// The validator is not vacuous: events that break the schemas are refused.
    @Test(arguments: [
        (#""lag_seconds":3.2"#, #""lag_seconds":-1"#),
        (#""source":"dr""#, #""source":"dr","extra":true"#),
        (#""schema_version":2"#, #""schema_version":7"#),
        (#""type":"ReplicationLagSampled""#, #""type":"LagHappened""#),
        (#""recorded_at":"#, #""recorded_at":"yesterday","was":"#),
    ])
    func schemaValidationRejectsBrokenEvents(find: String, replace: String) throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let line = try lab.expectSuccess(["record", "lag", "--seconds", "3.2", "--source", "dr", "--target", "primary", "--json"]).stdout
        #expect(line.contains(find))
        let file = "\(lab.dir)/bad.jsonl"
        try line.replacingOccurrences(of: find, with: replace).write(toFile: file, atomically: true, encoding: .utf8)
        let result = try python("validate-events.py", [file])
        #expect(result.status == 1, "\(result.stdout)")
    }

    @Test func logVerifyAndTheIndependentVerifierAgreeOnAGoodStore() throws {
        let lab = try Lab()
        try recordOneOfEach(lab)
        let verify = try lab.expectSuccess(["verify"])
        let lines = verify.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0] == "store: 35 events, global sequence gapless, every row matches its bytes and belongs to an indexed drill")
        #expect(lines[1].hasPrefix("drill ") && lines[1].contains(": chain intact, 35 events, head "))
        #expect(try lab.expectSuccess(["verify", "--all"]).stdout == verify.stdout)
        let drill = try lab.events()[0]["drill_id"] as! String
        #expect(try lab.expectSuccess(["verify", "--drill", drill]).stdout == lines[1] + " (this drill only: failback verify checks the whole store)\n")
        let independent = try python("verify-log.py", [lab.store])
        #expect(independent.status == 0, "\(independent.stdout)")
        // Both compute the same head.
        let head = try #require(lines[1].split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(independent.stdout.contains("head \(head)"))
        let log = try lab.expectSuccess(["log"]).stdout.split(separator: "\n")
        #expect(log.count == 35)
        #expect(log[4].contains("PodStatesObserved\t2/4 pods ready; not ready: budcluster-6b7c8d9e0-a1b2c (CrashLoopBackOff)"))
    }

    @Test func drillStartPrintsTheIdWhichBecomesTheCurrentDrill() throws {
        let lab = try Lab()
        let first = try lab.startDrill("failback-bud")
        let second = try lab.startDrill("rollback-teei", option: "B")
        #expect(first.hasPrefix("drill-") && first != second)
        try lab.expectSuccess(["note", "goes to the second"])
        try lab.expectSuccess(["note", "goes to the first", "--drill", first])
        #expect(try lab.expectSuccess(["log", "--drill", first]).stdout.contains("goes to the first"))
        #expect(try lab.expectSuccess(["log"]).stdout.contains("goes to the second"))
        #expect(!(try lab.expectSuccess(["log"]).stdout.contains("goes to the first")))
    }

    @Test func idempotencyKeyMakesARetryPrintTheOriginalEvent() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        let args = ["record", "lag", "--seconds", "1.5", "--source", "dr", "--target", "primary", "--idempotency-key", "sample-7"]
        let first = try lab.expectSuccess(args)
        let retry = try lab.expectSuccess(args)
        #expect(retry.stdout == first.stdout)
        #expect(retry.stderr.contains("already recorded"))
        #expect(try lab.eventCount == 2)
        let conflict = try lab.failback(["record", "lag", "--seconds", "9", "--source", "dr", "--target", "primary", "--idempotency-key", "sample-7"])
        #expect(conflict.status == 65)
        #expect(try lab.eventCount == 2)
    }

    @Test func aRetriedDrillStartReturnsTheSameDrill() throws {
        let lab = try Lab()
        let args = ["drill", "start", "--runbook", repositoryRoot.appendingPathComponent("runbooks/failback-bud.yaml").path, "--idempotency-key", "start-CHG-1"]
        let first = try lab.expectSuccess(args)
        let retry = try lab.expectSuccess(args)
        #expect(retry.stdout == first.stdout)
        #expect(retry.stderr.contains("already recorded"))
        #expect(try lab.eventCount == 1)
        #expect(try lab.sqlite("SELECT count(*) FROM drills").stdout == "1\n")
    }

    @Test func helpAndVersion() throws {
        let help = try run("failback", ["--help"])
        #expect(help.status == 0)
        for word in ["init", "drill", "record", "note", "issue", "log", "verify"] { #expect(help.stdout.contains(word)) }
        #expect(try run("failback", ["record", "--help"]).stdout.contains("rowcount"))
        #expect(try run("failback", ["--version"]).stdout == "0.1.0\n")
    }
}
