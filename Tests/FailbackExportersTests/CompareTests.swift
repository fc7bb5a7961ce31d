import FailbackDomain
import FailbackExporters
import FailbackLog
import Foundation
import Testing

/// `failback compare`: two drills side by side, golden files for every format.
@Suite struct CompareTests {
    /// A later drill of the same runbook at a new version (1.1): a phase renamed
    /// (b-wait-replication-catch-up → b-catch-up), a target added to Phase 1, a slower Phase 1, a
    /// recovery check that failed, and the drill ended as failed.
    static func laterDrill(in folder: TemporaryFolder) throws -> [RecordedEvent] {
        var yaml = try String(contentsOf: repositoryRoot.appendingPathComponent("runbooks/rollback-teei.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "version: \"1.0\"\n", with: "version: \"1.1\"\n")
            .replacingOccurrences(of: "b-wait-replication-catch-up", with: "b-catch-up")
            .replacingOccurrences(
                of: "    title: \"Phase 1: Configure US as Standby of EU\"\n", with: "    title: \"Phase 1: Configure US as Standby of EU\"\n    target_minutes: 1\n")
        let runbook = try RunbookLoader.load(bytes: Array(yaml.utf8), source: "runbooks/rollback-teei.yaml")
        #expect(runbook.runbook.version == "1.1")
        let path = "\(folder.path)/later.sqlite"
        try SQLiteEventStore.create(at: path)
        let clock = FixedClock()
        let r = Recorder(
            store: try SQLiteEventStore(openingAt: path),
            context: RecordingContext(actor: "sam", host: "lab-2", clock: { clock.next() }, makeDrillID: { _ in "drill-20270215-090000-later" }))
        _ = try r.startDrill(DrillStarted(runbook: runbook, option: nil, operatorName: "Sam", ticket: "CHG-3110"))
        for q in ["primary-healthy", "sufficient-time-passed", "low-traffic-window", "stakeholders-notified", "backups-current", "valid-reason"] {
            _ = try r.decide(q, true, by: "sam")
        }
        _ = try r.decide("failover-over-24h", false, by: "sam")
        _ = try r.record(ReplicationLagSampled(lagSeconds: 12, source: "eu-central-1", target: "us-east-1"))
        _ = try r.decide("lag-under-1m", true, by: "sam")
        _ = try r.decide("low-traffic", true, by: "sam")
        _ = try r.approve(by: "Morgan Lee", role: "change manager")
        _ = try r.startPhase("b-configure-us-standby")
        for _ in 0..<50 { _ = try r.record(NoteAdded(text: "waiting for the base backup")) }  // 75 s: over its 1 min target
        _ = try r.recordStep(.done, "b-demote-us", reason: nil)
        _ = try r.completePhase("b-configure-us-standby")
        _ = try r.startPhase("b-catch-up")
        _ = try r.record(ReplicationLagSampled(lagSeconds: 0.5, source: "eu-central-1", target: "us-east-1"))
        _ = try r.recordStep(.done, "b-monitor-replication-lag", reason: nil)
        _ = try r.completePhase("b-catch-up")
        _ = try r.startPhase("b-controlled-switchover")
        _ = try r.recordStep(.done, "b-pause-eu-writes", reason: nil)
        _ = try r.record(ReplicationLagSampled(lagSeconds: 0.2, source: "eu-central-1", target: "us-east-1"))
        _ = try r.recordStep(.done, "b-wait-lag-zero", reason: nil)
        _ = try r.record(RecoveryStateObserved(server: "host=db-us port=5432", inRecovery: true, expected: "primary"))
        _ = try r.recordStep(.done, "b-promote-us", reason: nil)
        _ = try r.recordStep(.skip, "b-update-dns", reason: "US never became primary")
        _ = try r.completePhase("b-controlled-switchover")
        _ = try r.record(IssueRaised(title: "US stayed in recovery: promotion retried by hand", severity: .critical))
        _ = try r.completeDrill(outcome: .failed)
        var events: [RecordedEvent] = []
        try r.store.forEachEvent(drill: "drill-20270215-090000-later") { events.append($0) }
        return events
    }

    static func comparison() throws -> DrillComparison {
        let a = TemporaryFolder(), b = TemporaryFolder()
        return DrillComparison(try DrillReport(events: FixedDrill.record(in: a)), try DrillReport(events: laterDrill(in: b)))
    }

    @Test(arguments: DrillComparison.Format.allCases)
    func formatMatchesItsGoldenFile(format: DrillComparison.Format) throws {
        try expectGolden(Self.comparison().render(format), "compare.\(format.rawValue == "text" ? "txt" : format.rawValue)")
    }

    @Test func phasesMatchByIdAndSayWhatDoesNotMatch() throws {
        let c = try Self.comparison()
        // A phase only B has sits after the phase it follows in B.
        #expect(c.phases.map(\.id) == ["b-configure-us-standby", "b-catch-up", "b-wait-replication-catch-up", "b-controlled-switchover"])
        let first = c.phases[0]
        #expect(first.a == 6 && first.b == 78 && first.delta == 72)
        #expect(!c.phases[1].inA && c.phases[1].inB && !c.phases[2].inB && c.phases[2].inA)
        #expect(
            c.differences == [
                "different versions of runbook rollback-teei: rollback-teei v1.0 and rollback-teei v1.1; phases are matched by id",
                "phase b-configure-us-standby has no target in drill-20261123-182100-golden and a target of 1 min in drill-20270215-090000-later",
                "phase b-catch-up is only in drill-20270215-090000-later",
                "phase b-wait-replication-catch-up is only in drill-20261123-182100-golden",
            ])
        // Failed in one drill only; a check both passed (or both failed) is not listed.
        #expect(
            c.checks.map(\.check) == [
                "http: https://eu.teei.example.com/health", "recovery: host=db-us port=5432", "step: verify-eu-standby",
            ])
        #expect(c.checks.map { "\($0.a)/\($0.b)" } == ["failed/not run", "passed/failed", "failed/not run"])
        #expect(c.a.result == "failed" && c.b.result == "failed")
        #expect(c.b.issues == ["[critical] US stayed in recovery: promotion retried by hand"])
    }

    @Test func aDrillComparedWithItselfDiffersInNothing() throws {
        let folder = TemporaryFolder()
        let events = try FixedDrill.record(in: folder)
        let c = DrillComparison(try DrillReport(events: events), try DrillReport(events: events))
        #expect(c.differences.isEmpty && c.checks.isEmpty)
        #expect(c.phases.allSatisfy { $0.delta == 0 })
        #expect(c.decisions.allSatisfy { $0.a == $0.b })
        // An open drill compares too: what it has not done yet is "not run" / no duration.
        let open = DrillComparison(try DrillReport(events: events), try DrillReport(events: events.prefix(20)))
        #expect(open.b.result == "running (open)")
        #expect(open.phases.last?.b == nil)
    }
}
