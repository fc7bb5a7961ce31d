import Foundation
import Testing
@testable import FailbackDomain
import FailbackLog
import FailbackProbes

func fixture(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
}

/// A small runbook, read like any other.
func tinyRunbook() throws -> LoadedRunbook {
    try RunbookLoader.load(bytes: Array(RunbookTests.minimal.utf8), source: "tiny.yaml")
}

@Suite struct PayloadTests {
    @Test func refusesValuesThatAreNotMeasurements() {
        #expect(throws: InvalidInput.self) { try ReplicationLagSampled(lagSeconds: -1, source: "dr", target: "primary") }
        #expect(throws: InvalidInput.self) { try ReplicationLagSampled(lagSeconds: .nan, source: "dr", target: "primary") }
        #expect(throws: InvalidInput.self) { try ReplicationLagSampled(lagSeconds: .infinity, source: "dr", target: "primary") }
        #expect(throws: InvalidInput.self) { try RowCountSampled(table: "t", site: "dr", count: 9_007_199_254_740_992) }
        #expect(throws: InvalidInput.self) { try RowCountSampled(table: " ", site: "dr", count: 1) }
        #expect(throws: InvalidInput.self) { try HealthCheckObserved(target: "x", status: 99, latencyMilliseconds: 1) }
        #expect(throws: InvalidInput.self) { try NoteAdded(text: "") }
    }

    /// Every payload type reads back what it wrote.
    @Test func payloadsRoundTripThroughJSON() throws {
        let payloads: [any EventPayload] = [
            try DrillStarted(runbook: RunbookLoader.load(path: repository("runbooks/rollback-teei.yaml")), option: "B", operatorName: "alice", ticket: "CHG-1"),
            try NoteAdded(text: "note"), try IssueRaised(title: "slow DNS", severity: .high),
            try ReplicationLagSampled(lagSeconds: 3.25, source: "dr", target: "primary"),
            try RowCountSampled(table: "events", site: "dr", count: 1_204_331),
            try DNSAnswerObserved(name: "api.example.com", resolver: "127.0.0.1:5353", answers: ["52.1.2.3"], expected: "52.1.2.3"),
            try ReplicationLagSampled(
                lagSeconds: 0, source: "eu", target: "us", method: .standbyReplayTimestamp, lagBytes: 0, idle: true, rawLagSeconds: 12.5,
                replayPaused: false, server: "host=db port=5432"),
            try ReplicationLagSampled(lagSeconds: nil, source: "eu", target: "us", method: .senderReplayLag, error: "connection refused"),
            try DNSAnswerObserved(
                name: "api", recordType: "A", resolver: "127.0.0.1:53", answers: [.init(value: "1.2.3.4", ttl: 60)], expected: "1.2.3.4",
                responseCode: "NOERROR", transport: "tcp", latencyMilliseconds: 1.5),
            try RowCountsCompared(
                source: "eu", target: "us",
                tables: [.init(table: "events", sourceCount: 10, targetCount: 8), .init(table: "t", sourceCount: nil, targetCount: nil, error: "no such table")]),
            try RecoveryStateObserved(server: "host=db", inRecovery: false, expected: "primary"),
            try RedisReplicationObserved(
                server: "redis://127.0.0.1:6379", role: "master", expected: "master", connectedReplicas: 1,
                replicas: [.init(address: "127.0.0.1:6380", state: "online", offset: 1200), .init(address: "[::1]:6381", state: "?", offset: nil)], replicationOffset: 1214,
                offsetLagBytes: 14,
                pingMilliseconds: 0.21),
            try RedisReplicationObserved(
                server: "redis://127.0.0.1:6380", role: "replica", master: "127.0.0.1:6379", masterLinkStatus: "up", connectedReplicas: 0,
                replicationOffset: 1200, masterReplicationOffset: 1214, offsetLagBytes: 14, pingMilliseconds: 0.1),
            try RedisReplicationObserved(server: "redis://127.0.0.1:9", role: nil, expected: "replica", error: "connection refused"),
            try KubectlPodList.parse(readFile(fixture("kubectl/pods-mixed.json"), .podListing), source: "pods-mixed.json"),
            try HealthCheckObserved(target: "https://api/health", status: 503, latencyMilliseconds: 41.5, expectedStatus: 200),
            JSONValuesObserved(
                name: "CSR_EVENTS", argv: ["nats", "stream", "info", "CSR_EVENTS", "--json"], exitStatus: 0,
                paths: ["messages": ".state.messages", "subjects": ".config.subjects"], values: ["messages": 1_204_331, "subjects": ["csr.>"]],
                conditions: [.init(condition: "messages>0", met: true)], stdoutBytes: 1812, stdoutSHA256: String(repeating: "a", count: 64), error: nil),
            PrometheusQueryEvaluated(
                name: "error rate", server: "http://127.0.0.1:9090", query: "sum(rate(x[5m]))", resultType: "vector", evaluatedAtMilliseconds: 1_796_594_377_577,
                series: [.init(labels: ["code": "503"], value: 0.3), .init(labels: [:], value: "NaN")], conditions: [.init(condition: "value<0.1%", met: false)],
                latencyMilliseconds: 4.5, error: nil),
            PrometheusQueryEvaluated(
                name: "up", server: "http://127.0.0.1:9", query: "up", resultType: nil, evaluatedAtMilliseconds: nil, series: [], conditions: [],
                latencyMilliseconds: nil, error: "connection refused"),
            JSONValuesObserved(
                name: "eks", argv: ["aws"], exitStatus: nil, paths: ["status": "."], values: [:], conditions: [.init(condition: "status=ACTIVE", met: false)],
                stdoutBytes: 0, stdoutSHA256: "", error: "no output within 30s (killed)"),
            PhaseStarted(phase: "p1"), PhaseCompleted(phase: "p1"), StepCompleted(step: "s1", reason: nil),
            StepSkipped(step: "s2", reason: "not here"), StepFailed(step: "s3", reason: "timed out"),
            try DrillAborted(reason: "split brain"), DrillCompleted(outcome: .aborted),
            DrillCompleted(outcome: .success, reasons: ["step s1 not done"], overrideReason: "done on paper"),
            DrillCompleted(outcome: .noGo, reasons: ["the flowchart says: Wait (q: no)"]),
            QuestionAnswered(question: "q", answer: false, by: "alice", note: "degraded"),
            QuestionAnswered(question: "q", answer: true, revisionReason: "outage resolved"),
            StepStarted(step: "s1"), try ApprovalDeclined(by: "Sam", role: "incident-commander", reason: "backups stale"),
            OptionChosen(option: "B", path: [("primary-healthy", true), ("failover-over-24h", false)]),
            ChecklistItemVerified(item: "c", by: "bob", notes: "ok"), try ApprovalGranted(by: "Morgan", role: "CAB"),
            try GateOverridden(phase: "p1", missing: ["no approval"], reason: "drill"),
            CommandExecuted(
                argv: ["ls"], cwd: "/", step: "s1", startedAt: Timestamp(millisecondsSinceEpoch: 0), endedAt: Timestamp(millisecondsSinceEpoch: 5),
                exitStatus: 0, signal: nil, stdout: CapturedOutput(text: "a\n", bytes: 2, sha256: String(repeating: "0", count: 64), truncated: false),
                stderr: CapturedOutput(text: "", bytes: 0, sha256: String(repeating: "1", count: 64), truncated: false)),
            CommandFailedToStart(argv: ["nope"], cwd: "/", step: nil, error: "No such file or directory"),
            WaitConcluded(probe: "http x", condition: "pass", met: true, samples: 3, elapsedMilliseconds: 1500, last: ["status": 200]),
            try OperatorJoined(role: "DBA"), try OperatorJoined(role: nil),
        ]
        #expect(Set(payloads.map { type(of: $0).eventType }) == Set(EventCatalogue.payloadTypes.map { $0.eventType }))
        for p in payloads {
            let again = try type(of: p).init(json: p.json)
            #expect(CanonicalJSON.encode(again.json) == CanonicalJSON.encode(p.json))
            // Stored and read back through the catalogue, each type lands in its own case of the
            // closed enum, whose type and value are that type's.
            let draft = EventDraft(
                type: type(of: p).eventType, schemaVersion: type(of: p).schemaVersion, drillID: "d", recordedAt: Timestamp(millisecondsSinceEpoch: 0),
                actor: "a", host: "h", payload: p.json)
            let event = try RecordedEvent(canonical: draft.canonicalBytes(seq: 1, drillSeq: 1), hash: [])
            let decoded = try #require(try EventCatalogue.decode(event))
            #expect(ObjectIdentifier(decoded.type) == ObjectIdentifier(type(of: p)), "\(type(of: p).eventType)")
            #expect(ObjectIdentifier(type(of: decoded.value)) == ObjectIdentifier(type(of: p)), "\(type(of: p).eventType)")
            #expect(CanonicalJSON.encode(decoded.value.json) == CanonicalJSON.encode(p.json))
        }
    }

    /// Events written by earlier versions still read: version 1 lag samples and DNS answers.
    @Test func earlierSchemaVersionsStillRead() throws {
        let lag = try ReplicationLagSampled(json: try JSONParser.parse(#"{"lag_seconds":3.2,"source":"dr","target":"primary"}"#))
        #expect(lag.lagSeconds == 3.2 && lag.method == .manual && lag.error == nil)
        let dns = try DNSAnswerObserved(json: try JSONParser.parse(#"{"name":"api","record_type":"A","resolver":"r","answers":["52.1.2.3"],"expected":"52.1.2.3","matched":true}"#))
        #expect(dns.answers == [.init(value: "52.1.2.3")] && dns.matched == true)
        #expect(throws: InvalidInput.self) { try ReplicationLagSampled(json: try JSONParser.parse(#"{"source":"dr","target":"primary"}"#)) }
        #expect(throws: InvalidInput.self) { try RecoveryStateObserved(server: "db", inRecovery: nil) }
    }

    @Test func rowCountComparisonSaysWhichWayAndHowMuch() throws {
        let c = try RowCountsCompared(source: "eu", target: "us", tables: [.init(table: "a", sourceCount: 10, targetCount: 7), .init(table: "b", sourceCount: 3, targetCount: 3)])
        #expect(c.tables.map(\.delta) == [-3, 0] && c.largestDelta == 3 && !c.matched)
        #expect(c.summary == "row counts eu vs us: a 10 vs 7 (Δ -3), b 3 vs 3 (DIFFER)")
        #expect(try RowCountsCompared(source: "eu", target: "us", tables: [.init(table: "b", sourceCount: 3, targetCount: 3)]).matched)
        // A table counted at one site only says why; only a comparison that failed whole may leave counts out.
        #expect(throws: InvalidInput.self) { try RowCountsCompared(source: "eu", target: "us", tables: [.init(table: "a", sourceCount: 10, targetCount: nil)]) }
        #expect(throws: InvalidInput.self) {
            try RowCountsCompared(json: try JSONParser.parse(#"{"source":"eu","target":"us","tables":[{"table":"a","source_count":1}]}"#))
        }
        let failedWhole = try RowCountsCompared(source: "eu", target: "us", tables: [.init(table: "a", sourceCount: nil, targetCount: nil)], error: "eu: unreachable")
        #expect(failedWhole.summary == "row counts eu vs us: eu: unreachable" && !failedWhole.matched)
        // Stored so (damaged since it was appended), it is named by its place when read.
        let draft = EventDraft(
            type: "RowCountsCompared", schemaVersion: 1, drillID: "d", recordedAt: Timestamp(millisecondsSinceEpoch: 0), actor: "a", host: "h",
            payload: try JSONParser.parse(#"{"source":"eu","target":"us","tables":[{"table":"a","source_count":1}]}"#))
        let stored = try RecordedEvent(canonical: draft.canonicalBytes(seq: 35, drillSeq: 9), hash: [])
        #expect {
            _ = try EventCatalogue.decode(stored)
        } throws: { error in
            (error as? InvalidInput)?.message.hasPrefix("stored event at seq 35 (RowCountsCompared) is not readable: table \"a\"") == true
        }
    }

    @Test func drillStartedRecordsTheRunbookItFollowed() throws {
        let loaded = try RunbookLoader.load(path: repository("runbooks/rollback-teei.yaml"))
        let started = try DrillStarted(runbook: loaded, option: "B")
        let again = try DrillStarted(json: started.json)
        #expect(again.runbook.digest == loaded.digest)
        #expect(try again.followedRunbook() == loaded.runbook)
        #expect(throws: InvalidInput.self) { try DrillStarted(runbook: loaded, option: "Z") }
    }

    @Test func readsKubectlPodListings() throws {
        let pods = try KubectlPodList.parse(readFile(fixture("kubectl/pods-mixed.json"), .podListing), source: "pods-mixed.json")
        #expect(pods.pods.count == 4)
        #expect(pods.readyCount == 2)
        let crashing = try #require(pods.pods.first { $0.name.hasPrefix("budcluster") })
        #expect(crashing.reasons == ["CrashLoopBackOff"])
        #expect(crashing.restarts == 7)
        #expect(!crashing.isReady)
        #expect(pods.pods.first { $0.name.hasPrefix("budmodel") }?.phase == "Pending")
        #expect(pods.summary.hasPrefix("2/4 pods ready; not ready: budcluster-6b7c8d9e0-a1b2c (CrashLoopBackOff)"))
    }

    @Test func refusesWhatIsNotAPodListing() throws {
        do {
            _ = try KubectlPodList.parse(readFile(fixture("kubectl/pods-malformed.json"), .podListing), source: "pods-malformed.json")
            Issue.record("accepted a cut-off listing")
        } catch { #expect(error.message.hasPrefix("pods-malformed.json: line ")) }
        do {
            _ = try KubectlPodList.parse(Array(#"{"kind": "Deployment"}"#.utf8), source: "d.json")
            Issue.record("accepted a Deployment")
        } catch { #expect(error.message == "d.json: expected the output of 'kubectl get pods -o json' (kind List or Pod), found kind \"Deployment\"") }
    }
}

@Suite struct RecorderTests {
    final class Dir {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("failback-\(UUID().uuidString)").path
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static let fixedContext = RecordingContext(
        actor: "alice", host: "lab", clock: { Timestamp(millisecondsSinceEpoch: 1_795_458_060_000) }, makeDrillID: { _ in "drill-fixed" })

    func recorder(_ dir: Dir, _ name: String = "s.sqlite", configuration: Configuration = Configuration()) throws -> Recorder {
        try SQLiteEventStore.create(at: "\(dir.path)/\(name)")
        return Recorder(store: try SQLiteEventStore(openingAt: "\(dir.path)/\(name)"), context: Self.fixedContext, configuration: configuration)
    }

    @Test func refusesPayloadsOverTheLimitAndAppendsNothing() throws {
        let dir = Dir()
        var config = Configuration()
        config.maxPayloadBytes = 1000
        let r = try recorder(dir, configuration: config)
        _ = try r.startDrill(DrillStarted(runbook: tinyRunbook()))
        #expect(throws: InvalidInput.self) { try r.record(NoteAdded(text: String(repeating: "x", count: 1100))) }
        #expect(try r.store.drill("drill-fixed")?.eventCount == 1)
        _ = try r.record(NoteAdded(text: "short"))
        #expect(try r.store.drill("drill-fixed")?.eventCount == 2)
    }

    @Test func secretsNeverReachTheStore() throws {
        let dir = Dir()
        let r = try recorder(dir)
        _ = try r.startDrill(DrillStarted(runbook: tinyRunbook()))
        let e = try r.record(NoteAdded(text: "PGPASSWORD=hunter2 psql")).event
        #expect(!String(decoding: e.canonical, as: UTF8.self).contains("hunter2"))
        #expect(e.redactions == [Redaction(pointer: "/payload/text", kind: "env_secret")])
    }

    /// The same facts, with the same clock and ids, recorded into two stores give byte-identical chains.
    @Test func recordingIsDeterministic() throws {
        let dir = Dir()
        var heads: [[UInt8]] = []
        for name in ["a.sqlite", "b.sqlite"] {
            let r = try recorder(dir, name)
            _ = try r.startDrill(DrillStarted(runbook: tinyRunbook(), operatorName: "alice"))
            for i in 0..<20 { _ = try r.record(ReplicationLagSampled(lagSeconds: Double(i) / 4, source: "dr", target: "primary")) }
            heads.append(try r.store.verify(drill: "drill-fixed").head!)
        }
        #expect(heads[0] == heads[1])
    }

    /// Pipelined batches: in order, each durable before its callback, and an error stops the run with
    /// whole batches only.
    @Test func recordsBatchesInOrderAndStopsAtAFailingOne() throws {
        let dir = Dir()
        let r = try recorder(dir)
        _ = try r.startDrill(DrillStarted(runbook: tinyRunbook()))
        let source = Batches(count: 5, failingAt: nil)
        var committedSeqs: [[Int]] = []
        try r.record(batchesFrom: { source.next() }) { outcomes in
            committedSeqs.append(outcomes.map(\.event.seq))
            // Durable when reported: a second connection already sees the batch.
            let other = try! SQLiteEventStore(openingAt: "\(dir.path)/s.sqlite")
            #expect(try! other.drill("drill-fixed")?.headSeq == outcomes.last?.event.seq)
        }
        #expect(committedSeqs == (0..<5).map { b in (0..<3).map { 2 + b * 3 + $0 } })
        var counts: [Int] = []
        try r.store.forEachEvent(drill: "drill-fixed") { e in if let c = e.payload["count"]?.integerValue { counts.append(c) } }
        #expect(counts == Array(0..<15))

        let failing = Batches(count: 5, failingAt: 2)
        var committed = 0
        #expect(throws: InvalidInput.self) { try r.record(batchesFrom: { failing.next() }) { _ in committed += 1 } }
        #expect(committed == 2)
        #expect(try r.store.drill("drill-fixed")?.eventCount == 1 + 15 + 6)
        #expect(try r.store.verify(drill: "drill-fixed").isIntact)
    }

    /// Three row counts a batch; the batch `failingAt` holds a payload over the size limit.
    final class Batches: @unchecked Sendable {
        var index = 0
        let count: Int, failingAt: Int?
        init(count: Int, failingAt: Int?) {
            self.count = count
            self.failingAt = failingAt
        }
        func next() -> [any EventPayload]? {
            guard index < count else { return nil }
            defer { index += 1 }
            if index == failingAt { return [try! NoteAdded(text: String(repeating: "x", count: 2_000_000))] }
            return (0..<3).map { try! RowCountSampled(table: "t", site: "dr", count: index * 3 + $0) }
        }
    }

    @Test func configurationFileErrorsNameTheFileAndMember() throws {
        let dir = Dir()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        let path = "\(dir.path)/config.json"
        func message(_ text: String) -> String? {
            try? text.write(toFile: path, atomically: true, encoding: .utf8)
            do { _ = try Configuration.load(path: path); return nil } catch { return error.message }
        }
        #expect(message(#"{"redaction": {"patterns": [{"kind": "k", "regex": "("}]}}"#)?.hasPrefix("\(path): redaction.patterns[0]: redaction pattern") == true)
        #expect(message(#"{"limits": {"max_payload_bytes": "big"}}"#) == "\(path): limits.max_payload_bytes must be an integer from 256 to 8388608 (8 MiB)")
        // An event stays one line of a bundle's events.jsonl (16 MiB at most): payloads up to 8 MiB.
        #expect(message(#"{"limits": {"max_payload_bytes": 8388609}}"#) == "\(path): limits.max_payload_bytes must be an integer from 256 to 8388608 (8 MiB)")
        #expect(message(#"{"limits": {"max_payload_bytes": 8388608}}"#) == nil)
        #expect(message(#"{"redactoin": {}}"#) == "\(path): unknown member \"redactoin\" (expected \"redaction\", \"limits\" or \"trusted_keys\")")
        #expect(message("{\n  \"limits\": {,}\n}") == "\(path): line 2, column 14: unexpected character \",\"")
        #expect(message(#"{"limits": {"max_payload_bytes": 4096}}"#) == nil)
    }
}
