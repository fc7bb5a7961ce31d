import FailbackDomain
import FailbackLog
import Foundation
import Testing

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A clock that advances 1.5 s a reading, from 2026-11-23T18:21:00Z.
final class FixedClock: @unchecked Sendable {
    private var ms: Int64 = 1_795_458_060_000
    func next() -> Timestamp {
        defer { ms += 1500 }
        return Timestamp(millisecondsSinceEpoch: ms)
    }
}

/// Seed 2's runbook as shipped, recorded under its path in the repository (not where this checkout
/// happens to be: the recorded source is part of the events, and so of every golden file).
func shippedRunbook() throws -> LoadedRunbook {
    let bytes = try Array(Data(contentsOf: repositoryRoot.appendingPathComponent("runbooks/rollback-teei.yaml")))
    return try RunbookLoader.load(bytes: bytes, source: "runbooks/rollback-teei.yaml")
}

/// Compares `rendered` with the golden file `name` (Tests/Fixtures/golden); with
/// FAILBACK_UPDATE_GOLDEN=1 it writes the file first (review the diff before committing).
func expectGolden(_ rendered: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let folder = repositoryRoot.appendingPathComponent("Tests/Fixtures/golden")
    let file = folder.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["FAILBACK_UPDATE_GOLDEN"] == "1" {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try rendered.write(to: file, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(rendered == expected, "\(name) differs from its golden file", sourceLocation: sourceLocation)
}

/// A fresh folder, removed when dropped.
final class TemporaryFolder {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("failback-export-\(UUID().uuidString)").path
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The fixed drill every golden file is rendered from: seed 2's option B, with a fixed clock, ids,
/// actor and host, so its events (and so every export) are the same bytes on every run.
enum FixedDrill {
    static let id = "drill-20261123-182100-golden"

    /// Records the drill into a new store in `folder` and returns its events.
    static func record(in folder: TemporaryFolder, upTo last: Int = .max) throws -> [RecordedEvent] {
        let path = "\(folder.path)/golden.sqlite"
        try SQLiteEventStore.create(at: path)
        let clock = FixedClock()
        let r = Recorder(
            store: try SQLiteEventStore(openingAt: path),
            context: RecordingContext(actor: "dana", host: "lab-1", clock: { clock.next() }, makeDrillID: { _ in id }))
        _ = try r.startDrill(DrillStarted(runbook: shippedRunbook(), option: nil, operatorName: "Dana (IC)", ticket: "CHG-2041"))
        for q in ["primary-healthy", "sufficient-time-passed", "low-traffic-window", "stakeholders-notified", "backups-current", "valid-reason"] {
            _ = try r.decide(q, true, by: "dana")
        }
        _ = try r.decide("failover-over-24h", false, by: "dana", note: "failover lasted 3h")
        func lag(_ s: Double, _ bytes: Int) throws {
            _ = try r.record(
                ReplicationLagSampled(
                    lagSeconds: s, source: "eu-central-1", target: "us-east-1", method: .standbyReplayTimestamp, lagBytes: bytes, replayPaused: false,
                    server: "host=db-us port=5432 password=Repl1c4te!"))
        }
        try lag(42.5, 9_000_000)
        _ = try r.decide("lag-under-1m", true, by: "dana")
        _ = try r.decide("low-traffic", true, by: "dana")
        _ = try r.approve(by: "Morgan Lee", role: "change manager")
        _ = try r.startPhase("b-configure-us-standby")
        _ = try r.startStep("b-demote-us")
        _ = try r.record(
            CommandExecuted(
                argv: ["pg_rewind", "--target-pgdata=/var/lib/postgresql/data", "--source-server=host=eu port=5432 user=replicator password=s3cret"],
                cwd: "/ops", step: "b-demote-us", startedAt: Timestamp(millisecondsSinceEpoch: 1_795_458_090_000),
                endedAt: Timestamp(millisecondsSinceEpoch: 1_795_458_092_250), exitStatus: 0, signal: nil,
                stdout: CapturedOutput(
                    text: "pg_rewind: servers diverged at WAL location 0/3000060\npg_rewind: Done!\n", bytes: 68, sha256: String(repeating: "a", count: 64), truncated: false),
                stderr: CapturedOutput(text: "", bytes: 0, sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", truncated: false)))
        _ = try r.recordStep(.done, "b-demote-us", reason: nil)
        _ = try r.completePhase("b-configure-us-standby")
        _ = try r.startPhase("b-wait-replication-catch-up")
        try lag(8.1, 400_000)
        try lag(3.4, 90_000)
        try lag(0.9, 1_000)
        _ = try r.record(
            WaitConcluded(probe: "lag db-us:5432 (standby)", condition: "lag<1s", met: true, samples: 3, elapsedMilliseconds: 4500, last: ["lag": 0.9, "bytes": 1000]))
        _ = try r.recordStep(.done, "b-monitor-replication-lag", reason: nil)
        _ = try r.completePhase("b-wait-replication-catch-up")
        _ = try r.startPhase("b-controlled-switchover")
        _ = try r.recordStep(.done, "b-pause-eu-writes", reason: nil)
        try lag(0.4, 0)
        _ = try r.record(
            RowCountsCompared(
                source: "eu-central-1", target: "us-east-1",
                tables: [
                    .init(table: "events", sourceCount: 1_204_331, targetCount: 1_204_331), .init(table: "accounts", sourceCount: 5_120, targetCount: 5_120),
                ]))
        _ = try r.recordStep(.done, "b-wait-lag-zero", reason: nil)
        _ = try r.record(RecoveryStateObserved(server: "host=db-us port=5432", inRecovery: false, expected: "primary"))
        _ = try r.recordStep(.done, "b-promote-us", reason: nil)
        _ = try r.recordStep(.done, "b-update-dns", reason: nil)
        for answer in ["198.51.100.10", "198.51.100.10", "203.0.113.10"] {
            // The cutover's address, named as such: what DNS propagation is measured by.
            var observed = try DNSAnswerObserved(
                name: "api.teei.example.com", recordType: "A", resolver: "10.0.0.2:53", answers: [.init(value: answer, ttl: 60)],
                expected: "203.0.113.10", responseCode: "NOERROR", transport: "udp", latencyMilliseconds: 1.25)
            observed.expectation = .afterCutover
            _ = try r.record(observed)
        }
        _ = try r.record(WaitConcluded(probe: "dns api.teei.example.com A @10.0.0.2:53", condition: "pass", met: true, samples: 3, elapsedMilliseconds: 3000, last: ["answers": 1]))
        _ = try r.completePhase("b-controlled-switchover")
        _ = try r.recordStep(.done, "verify-us-primary", reason: nil)
        _ = try r.recordStep(.fail, "verify-eu-standby", reason: "eu still accepting connections as primary; fenced by hand")
        try lag(0.2, 0)
        _ = try r.record(HealthCheckObserved(target: "https://api.teei.example.com/health?token=abc123secret", status: 200, latencyMilliseconds: 41, expectedStatus: 200))
        _ = try r.record(HealthCheckObserved(target: "https://eu.teei.example.com/health", status: nil, latencyMilliseconds: nil, error: "connection refused"))
        _ = try r.recordStep(.skip, "run-e2e-tests", reason: "no e2e suite <in> the lab & \"quotes\"")
        _ = try r.record(IssueRaised(title: "EU kept accepting writes for 40s after the switchover", severity: .high))
        _ = try r.completeDrill()  // worked out: failed (a failed step, two steps not done, a failed check)
        var events: [RecordedEvent] = []
        try r.store.forEachEvent(drill: id) { if events.count < last { events.append($0) } }
        return events
    }
}
