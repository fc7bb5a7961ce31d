import Foundation
import Testing
@testable import FailbackDomain
import FailbackLog

/// Determinism of the projection, as properties over generated command sequences.
@Suite struct DrillStateTests {
    struct Rng: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    final class Dir {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("failback-\(UUID().uuidString)").path
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// A drill driven by a random sequence of lifecycle commands and observations (refusals included,
    /// which append nothing), with a clock that advances 1.5 s a command.
    func randomDrill(seed: UInt64, in dir: Dir) throws -> Recorder {
        let store = "\(dir.path)/s-\(seed).sqlite"
        try SQLiteEventStore.create(at: store)
        let ticks = Ticks()
        let context = RecordingContext(actor: "prop", host: "lab", clock: { ticks.next() }, makeDrillID: { _ in "drill-prop-\(seed)" })
        let recorder = Recorder(store: try SQLiteEventStore(openingAt: store), context: context)
        let loaded = try RunbookLoader.load(path: repository("runbooks/rollback-teei.yaml"))
        var rng = Rng(state: seed)
        _ = try recorder.startDrill(DrillStarted(runbook: loaded, option: ["A", "B"].randomElement(using: &rng)!))
        let phases = loaded.runbook.phases.map(\.id), steps = loaded.runbook.allSteps.map(\.step.id)
        let questions = loaded.runbook.questions.map(\.id) + (loaded.runbook.flowchart?.nodes.map(\.id) ?? [])
        for _ in 0..<80 {
            do {
                switch rng.next() % 11 {
                case 9: _ = try recorder.decide(questions.randomElement(using: &rng)!, rng.next() % 4 != 0)
                case 10:
                    if rng.next() % 4 == 0 {
                        _ = try recorder.decline(by: "d", role: "r", reason: "not yet")
                    } else {
                        _ = try recorder.approve(by: "a\(rng.next() % 3)", role: "r")
                    }
                case 0, 1: _ = try recorder.startPhase(phases.randomElement(using: &rng)!, overrideReason: rng.next() % 2 == 0 ? "prop" : nil)
                case 2: _ = try recorder.completePhase(phases.randomElement(using: &rng)!)
                case 3: _ = try recorder.recordStep(.done, steps.randomElement(using: &rng)!, reason: nil)
                case 4: _ = try recorder.startStep(steps.randomElement(using: &rng)!)
                case 5: _ = try recorder.recordStep(rng.next() % 2 == 0 ? .skip : .fail, steps.randomElement(using: &rng)!, reason: "r")
                case 6: _ = try recorder.record(ReplicationLagSampled(lagSeconds: Double(rng.next() % 100) / 10, source: "eu", target: "us"))
                case 7: _ = try recorder.record(IssueRaised(title: "i\(rng.next() % 5)", severity: .low))
                default: if rng.next() % 10 == 0 { _ = try recorder.abortDrill(reason: "random abort") }
                }
            } catch is InvalidInput {
                // a refused command: nothing appended
            }
        }
        return recorder
    }

    /// Folding events one at a time equals rebuilding from scratch at every point, and rebuilding
    /// twice gives identical state and identical JSON bytes.
    /// One person is one approver however their name is typed: case, separators, and characters
    /// that show as nothing (zero-width space, word joiner, soft hyphen) are not told apart, so an
    /// invisible character cannot make one approval count twice toward `count: 2`.
    @Test func approversAreComparedAsTheyRead() {
        let one = DrillState.normalizedRole("Morgan")
        for typed in ["morgan", "MORGAN", "Mor\u{200B}gan", "Mor\u{2060}gan", "Morgan\u{00AD}", "\u{FEFF}Morgan"] {
            #expect(DrillState.normalizedRole(typed) == one, "\(typed.debugDescription)")
        }
        #expect(DrillState.normalizedRole("Incident_Commander") == DrillState.normalizedRole("incident commander"))
        #expect(DrillState.normalizedRole("Morgan Li") != one)
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func foldingEqualsRebuildingAndIsRepeatable(seed: UInt64) throws {
        let dir = Dir()
        let recorder = try randomDrill(seed: seed, in: dir)
        let id = "drill-prop-\(seed)"
        var incremental = DrillState()
        var events: [RecordedEvent] = []
        try recorder.store.forEachEvent(drill: id) { events.append($0) }
        #expect(events.count > 10)
        for (i, event) in events.enumerated() {
            try incremental.apply(event)
            if i % 7 == 0 || i == events.count - 1 {
                let rebuilt = try DrillState.rebuild(drill: id, from: recorder.store, asOf: .drillSeq(event.drillSeq))
                #expect(rebuilt == incremental)
            }
        }
        let once = CanonicalJSON.encode(try DrillState.rebuild(drill: id, from: recorder.store).json)
        let twice = CanonicalJSON.encode(try DrillState.rebuild(drill: id, from: recorder.store).json)
        #expect(once == twice)
        #expect(once == CanonicalJSON.encode(incremental.json))
        // As of a time: the prefix up to the last event recorded by then (events appended together
        // share a time).
        let middle = events[events.count / 2]
        let prefix = (events.lastIndex { $0.recordedAt <= middle.recordedAt } ?? -1) + 1
        #expect(prefix >= events.count / 2 + 1)
        #expect(try DrillState.rebuild(drill: id, from: recorder.store, asOf: .time(middle.recordedAt)).eventCount == prefix)
    }

    @Test func metricsOfAnOptionBDrill() throws {
        let dir = Dir()
        try SQLiteEventStore.create(at: "\(dir.path)/m.sqlite")
        let ticks = Ticks()
        let r = Recorder(
            store: try SQLiteEventStore(openingAt: "\(dir.path)/m.sqlite"),
            context: RecordingContext(actor: "m", host: "lab", clock: { ticks.next() }, makeDrillID: { _ in "drill-m" }))
        _ = try r.startDrill(DrillStarted(runbook: RunbookLoader.load(path: repository("runbooks/rollback-teei.yaml")), option: "B"))
        func lag(_ s: Double) throws { _ = try r.record(ReplicationLagSampled(lagSeconds: s, source: "eu-central-1", target: "us-east-1")) }
        try lag(42)
        _ = try r.startPhase("b-configure-us-standby", overrideReason: "test")
        _ = try r.recordStep(.done, "b-demote-us", reason: nil)
        _ = try r.completePhase("b-configure-us-standby")
        _ = try r.startPhase("b-wait-replication-catch-up")
        try lag(8)
        try lag(3)
        _ = try r.recordStep(.done, "b-monitor-replication-lag", reason: nil)
        _ = try r.completePhase("b-wait-replication-catch-up")
        _ = try r.startPhase("b-controlled-switchover")
        let stop = try r.recordStep(.done, "b-pause-eu-writes", reason: nil).event.recordedAt
        try lag(0.4)
        _ = try r.record(RowCountSampled(table: "events", site: "eu-central-1", count: 1_204_331))
        _ = try r.record(RowCountSampled(table: "events", site: "us-east-1", count: 1_204_329))
        _ = try r.recordStep(.done, "b-wait-lag-zero", reason: nil)
        _ = try r.recordStep(.done, "b-promote-us", reason: nil)
        let resume = try r.recordStep(.done, "b-update-dns", reason: nil).event.recordedAt
        // The cutover's address, named as such (`--expect-after-cutover`): what propagation is.
        func answer(_ value: String) throws -> DNSAnswerObserved {
            var e = try DNSAnswerObserved(name: "api", resolver: "127.0.0.1:5353", answers: [value], expected: "52.1.2.3")
            e.expectation = .afterCutover
            return e
        }
        _ = try r.record(try answer("18.1.1.1"))
        let matched = try r.record(try answer("52.1.2.3")).event.recordedAt
        try lag(0.2)
        _ = try r.completePhase("b-controlled-switchover")
        let end = try r.completeDrill().event.recordedAt

        let m = try r.state(of: "drill-m").metrics
        func seconds(_ a: Timestamp, _ b: Timestamp) -> Double { Double(b.millisecondsSinceEpoch - a.millisecondsSinceEpoch) / 1000 }
        #expect(m.rtoSeconds == seconds(stop, resume))
        #expect(m.rtoTargetSeconds == 600)
        #expect(m.rtoMet == true)
        #expect(m.rpoSeconds == 0.4)  // the last sample before writes resumed, not the 0.2 after
        #expect(m.rpoMet == true)
        #expect(m.rowsMissing == 2)
        #expect(m.rowCounts.map(\.table) == ["events"])
        #expect(m.dnsPropagationSeconds == seconds(resume, matched))
        #expect(m.lag?.count == 5 && m.lag?.max == 42 && m.lag?.min == 0.2 && m.lag?.last == 0.2)
        #expect(m.totalSeconds == seconds(m.startedAt!, end))
        #expect(m.writesStoppedAt == stop && m.writesResumedAt == resume)
    }

    /// The same commands with the same clock give the same log and the same state bytes, in two stores.
    @Test func sameCommandsGiveSameBytes() throws {
        let dir = Dir()
        let a = try randomDrill(seed: 42, in: dir)
        let dir2 = Dir()
        let b = try randomDrill(seed: 42, in: dir2)
        #expect(try a.store.verify(drill: "drill-prop-42").head == b.store.verify(drill: "drill-prop-42").head)
        #expect(CanonicalJSON.encode(try a.state(of: "drill-prop-42").json) == CanonicalJSON.encode(try b.state(of: "drill-prop-42").json))
    }
}

/// A clock that advances 1.5 s at every reading, from a fixed start.
final class Ticks: @unchecked Sendable {
    private var ms: Int64 = 1_795_458_060_000
    func next() -> Timestamp {
        defer { ms += 1500 }
        return Timestamp(millisecondsSinceEpoch: ms)
    }
}
