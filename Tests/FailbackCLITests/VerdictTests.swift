import Foundation
import Testing

/// Verdicts an SRE can sign, driven through the CLI with a runbook written for the tests (not a
/// seed): two options, a flowchart that can end in "wait", `after:` dependencies, approvals
/// required by role, an abort path. Every metric is checked against a value computed here from
/// the log's own events (`log --json`), not against the tool's arithmetic.
@Suite struct VerdictTests {
    static let runbook = repositoryRoot.appendingPathComponent("Tests/Fixtures/runbooks/queue-search-failback.yaml").path

    /// Refused with exactly this one line, exit 65, and nothing appended.
    func refused(_ lab: Lab, _ args: [String], _ message: String, status: Int32 = 65, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try lab.eventCount
        let o = try lab.failback(args)
        #expect(o.status == status, "\(args): \(o.stderr)", sourceLocation: sourceLocation)
        #expect(o.stderr == "failback: error: \(message)\n", sourceLocation: sourceLocation)
        #expect(o.stdout == "", sourceLocation: sourceLocation)
        #expect(try lab.eventCount == before, "\(args) appended something", sourceLocation: sourceLocation)
    }

    func status(_ lab: Lab) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json"]).stdout.utf8)) as! [String: Any]
    }

    /// Milliseconds since the epoch of an RFC 3339 time as the log writes it (`...T18:21:00.123Z`).
    func ms(_ text: Any?) throws -> Int64 {
        let s = try #require(text as? String)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Int64((try #require(f.date(from: s)).timeIntervalSince1970 * 1000).rounded())
    }

    /// The time of the first event of `type` whose payload satisfies `match`.
    func time(_ events: [[String: Any]], _ type: String, _ match: ([String: Any]) -> Bool = { _ in true }) throws -> Int64 {
        try ms(events.first { $0["type"] as? String == type && match($0["payload"] as! [String: Any]) }?["recorded_at"])
    }

    func answersAndApprovals(_ lab: Lab, lagOK: String = "yes") throws {
        for (q, a) in [("main-healthy", "yes"), ("comms-sent", "yes"), ("main-up", "yes"), ("lag-ok", lagOK)] { try lab.expectSuccess(["decide", q, a]) }
        try lab.expectSuccess(["approve", "--by", "Ana", "--role", "incident-commander"])
        try lab.expectSuccess(["approve", "--by", "Cy", "--role", "change-manager"])
    }

    @Test func aSuccessfulFailbackWithEveryMetricFromTheLog() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try refused(
            lab, ["phase", "start", "prepare"],
            "phase prepare is gated: question main-healthy unanswered (failback decide main-healthy yes|no); question comms-sent unanswered (failback decide comms-sent yes|no); approval by incident-commander: 0 of 1 (failback approve --by NAME --role incident-commander); approval by change-manager: 0 of 1 (failback approve --by NAME --role change-manager); no option chosen: the flowchart waits for main-up (failback decide main-up yes|no) (or pass --override --reason TEXT): nothing appended"
        )
        try answersAndApprovals(lab)
        #expect(try status(lab)["option"] as? String == "promote")
        #expect(try status(lab)["blockers"] as? [String] == [])
        // Order: the runbook's, or after:; another option's phase is not this drill's.
        try refused(
            lab, ["phase", "start", "verify-main"],
            "phase verify-main is gated: phase promote-main not completed (it comes before verify-main) (or pass --override --reason TEXT): nothing appended")
        try refused(
            lab, ["phase", "start", "promote-main"],
            "phase promote-main is gated: phase prepare not completed (it comes before promote-main) (or pass --override --reason TEXT): nothing appended")
        try refused(lab, ["phase", "start", "rebuild-main"], "phase rebuild-main belongs to option rebuild; this drill follows option promote: nothing appended")
        try lab.expectSuccess(["phase", "start", "prepare"])
        try refused(
            lab, ["step", "start", "freeze-writes"],
            "step freeze-writes is gated: step snapshot-search not done (it comes before freeze-writes) (or pass --override --reason TEXT): nothing appended")
        try refused(
            lab, ["step", "done", "freeze-writes"],
            "step freeze-writes is gated: step snapshot-search not done (it comes before freeze-writes) (or pass --override --reason TEXT): nothing appended")
        try refused(
            lab, ["phase", "complete", "prepare"], "phase prepare has steps not recorded: snapshot-search, freeze-writes (failback step done|skip|fail STEP): nothing appended")
        try refused(lab, ["step", "start", "promote-queue"], "step promote-queue belongs to phase promote-main, which is not started: nothing appended")
        try lab.expectSuccess(["step", "start", "snapshot-search"])
        try refused(lab, ["step", "start", "snapshot-search"], "step snapshot-search was already started at \(try status(lab)["last_event_at"] as! String): nothing appended")
        try lab.expectSuccess(["step", "done", "snapshot-search"])
        try lab.expectSuccess(["step", "start", "freeze-writes"])
        try lab.expectSuccess(["step", "done", "freeze-writes"])
        try lab.expectSuccess(["record", "lag", "--seconds", "12", "--source", "dr-west", "--target", "main-east"])
        try lab.expectSuccess(["phase", "complete", "prepare"])
        try lab.expectSuccess(["phase", "start", "promote-main"])
        try lab.expectSuccess(["step", "start", "promote-queue"])
        try lab.expectSuccess(["record", "lag", "--seconds", "2.5", "--source", "dr-west", "--target", "main-east"])
        try lab.expectSuccess(["step", "done", "promote-queue"])
        try lab.expectSuccess(["step", "done", "promote-search"])  // never started: its time is not measured
        try lab.expectSuccess(["phase", "complete", "promote-main"])
        try lab.expectSuccess(["phase", "start", "verify-main"])
        try lab.expectSuccess(["step", "done", "check-queue-depth"])
        try lab.expectSuccess(["phase", "complete", "verify-main"])
        // Before the cutover the old address is no failure: recorded, not judged.
        let dns = ["record", "dns", "--name", "edge.example", "--resolver", "127.0.0.1:53", "--expect-after-cutover", "10.2.0.1", "--answer"]
        try lab.expectSuccess(dns + ["10.1.0.1"])
        #expect((try status(lab)["checks_failed"] as! [Any]).isEmpty)
        try lab.expectSuccess(["phase", "start", "cutover"])
        try lab.expectSuccess(["step", "done", "switch-dns"])
        try lab.expectSuccess(dns + ["10.1.0.1"])  // after it, a failed check...
        #expect((try status(lab)["checks_failed"] as! [[String: Any]]).map { $0["name"] as! String } == ["edge.example A @127.0.0.1:53"])
        try lab.expectSuccess(dns + ["10.2.0.1"])  // ...that a later pass of the same check clears
        #expect((try status(lab)["checks_failed"] as! [Any]).isEmpty)
        // Re-protection after the promotion, before writes resume: the other direction, larger,
        // never the RPO.
        try lab.expectSuccess(["record", "lag", "--seconds", "40", "--source", "main-east", "--target", "dr-west"])
        try lab.expectSuccess(["step", "done", "open-writes"])
        try lab.expectSuccess(["phase", "complete", "cutover"])
        try refused(
            lab, ["drill", "complete", "--outcome", "success"],
            "the drill does not support success: step smoke-test not done (complete it without --outcome, or pass --override --reason TEXT): nothing appended")
        try lab.expectSuccess(["step", "done", "smoke-test"])
        let done = try lab.expectSuccess(["drill", "complete"])
        #expect(done.stdout.hasSuffix("\tDrillCompleted\tdrill completed: success\t(tester@\(ProcessInfo.processInfo.hostName))\n"))

        let s = try status(lab)
        #expect(s["outcome"] as? String == "success" && s["outcome_reasons"] as? [String] == [])
        let m = s["metrics"] as! [String: Any]
        let events = try lab.events()
        let stopped = try time(events, "StepCompleted") { $0["step"] as? String == "freeze-writes" }
        let resumed = try time(events, "StepCompleted") { $0["step"] as? String == "open-writes" }
        let cutover = try time(events, "StepCompleted") { $0["step"] as? String == "switch-dns" }
        #expect(m["rto_seconds"] as? Double == Double(resumed - stopped) / 1000)
        #expect(m["rto_met"] as? Bool == true && m["writes_resumed_by"] as? String == "failback")
        // RPO: the last failback-direction reading at or before writes resumed.
        let forward = try events.filter { e in
            let p = e["payload"] as! [String: Any]
            return e["type"] as? String == "ReplicationLagSampled" && p["source"] as? String == "dr-west" && p["target"] as? String == "main-east"
        }.filter { try ms($0["recorded_at"]) <= resumed }
        #expect(m["rpo_seconds"] as? Double == (forward.last?["payload"] as? [String: Any])?["lag_seconds"] as? Double)
        #expect(m["rpo_seconds"] as? Double == 2.5 && m["rpo_met"] as? Bool == true)
        let propagated = try time(events, "DNSAnswerObserved") { $0["matched"] as? Bool == true }
        #expect(m["dns_propagation_seconds"] as? Double == Double(propagated - cutover) / 1000)
        #expect((m["reverse_replication_lag"] as? [String: Any])?["last"] as? Double == 40)
        #expect((m["replication_lag"] as? [String: Any])?["max"] as? Double == 12)
        // Step times are measured from their own start; a step never started has none.
        let steps = Dictionary(uniqueKeysWithValues: (s["steps"] as! [[String: Any]]).map { ($0["id"] as! String, $0) })
        let queueStart = try time(events, "StepStarted") { $0["step"] as? String == "promote-queue" }
        let queueDone = try time(events, "StepCompleted") { $0["step"] as? String == "promote-queue" }
        #expect(steps["promote-queue"]?["duration_seconds"] as? Double == Double(queueDone - queueStart) / 1000)
        #expect(steps["promote-search"]?["duration_seconds"] == nil)
        #expect(s["steps_pending"] as? Int == 0)
        let list = try lab.expectSuccess(["drill", "list"]).stdout.split(separator: "\t")
        #expect(list[2] == "success")
        try lab.expectValidAgainstSchemas()
    }

    @Test func approvalsNeedTheirRolesAndADeclineClosesTheGate() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        for (q, a) in [("main-healthy", "yes"), ("comms-sent", "yes"), ("main-up", "yes"), ("lag-ok", "yes")] { try lab.expectSuccess(["decide", q, a]) }
        let intern = try lab.failback(["approve", "--by", "Ira", "--role", "intern"])
        #expect(intern.status == 0)
        #expect(intern.stderr == "recorded, but role \"intern\" opens nothing: runbook queue-search-failback asks for approval by incident-commander, change-manager\n")
        // Roles compare without case or punctuation; one person counts once.
        try lab.expectSuccess(["approve", "--by", "Ana", "--role", "Incident Commander"])
        try lab.expectSuccess(["approve", "--by", "ana", "--role", "incident_commander"])
        try refused(
            lab, ["phase", "start", "prepare"],
            "phase prepare is gated: approval by change-manager: 0 of 1 (failback approve --by NAME --role change-manager) (or pass --override --reason TEXT): nothing appended")
        try lab.expectSuccess(["decline", "--by", "Cy", "--role", "change-manager", "--reason", "ticket not signed"])
        try refused(
            lab, ["phase", "start", "prepare"],
            "phase prepare is gated: declined by Cy (change-manager): ticket not signed; approvals before it no longer count; approval by incident-commander: 0 of 1 (failback approve --by NAME --role incident-commander); approval by change-manager: 0 of 1 (failback approve --by NAME --role change-manager) (or pass --override --reason TEXT): nothing appended"
        )
        try lab.expectSuccess(["approve", "--by", "Ana", "--role", "incident-commander"])
        try lab.expectSuccess(["approve", "--by", "Cy", "--role", "change-manager"])
        #expect(try status(lab)["blockers"] as? [String] == [])
        // Overriding a gate records what was missing.
        try lab.expectSuccess(["phase", "start", "prepare"])
        try lab.expectSuccess(["step", "start", "freeze-writes", "--override", "--reason", "snapshot taken by the storage team"])
        let overrides = try status(lab)["overrides"] as! [[String: Any]]
        #expect(overrides.count == 1 && overrides[0]["missing"] as? [String] == ["step snapshot-search not done (it comes before freeze-writes)"])
        let report = try lab.expectSuccess(["report", "--format", "md"]).stdout
        #expect(report.contains("\n| DECLINED | Cy | change-manager | ticket not signed |\n"))
        #expect(report.contains("\n| incident-commander | 1 | yes |\n| change-manager | 1 | yes |\n"))
        try lab.expectValidAgainstSchemas()
    }

    @Test func aFlowchartThatSaysWaitEndsInNoGo() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try lab.expectSuccess(["decide", "main-up", "no"])
        try refused(
            lab, ["phase", "start", "prepare"],
            "phase prepare is gated: question main-healthy unanswered (failback decide main-healthy yes|no); question comms-sent unanswered (failback decide comms-sent yes|no); approval by incident-commander: 0 of 1 (failback approve --by NAME --role incident-commander); approval by change-manager: 0 of 1 (failback approve --by NAME --role change-manager); the flowchart says: Wait until main-east is healthy; no option chosen (or pass --override --reason TEXT): nothing appended"
        )
        try refused(
            lab, ["drill", "complete", "--outcome", "success"],
            "the drill does not support success: the flowchart says: Wait until main-east is healthy (main-up: no) (complete it without --outcome, or pass --override --reason TEXT): nothing appended"
        )
        let done = try lab.expectSuccess(["drill", "complete"])
        #expect(done.stdout.contains("\tdrill completed: no-go — the flowchart says: Wait until main-east is healthy (main-up: no)\t"))
        let s = try status(lab)
        #expect(s["outcome"] as? String == "no-go")
        #expect(s["outcome_reasons"] as? [String] == ["the flowchart says: Wait until main-east is healthy (main-up: no)"])
        #expect(try lab.expectSuccess(["drill", "list"]).stdout.split(separator: "\t")[2] == "no-go")
        let text = try lab.expectSuccess(["status"]).stdout.split(separator: "\n")
        #expect(text[0].hasSuffix("  completed: no-go") && text[1] == "because: the flowchart says: Wait until main-east is healthy (main-up: no)")
        #expect(try lab.expectSuccess(["report", "--format", "md"]).stdout.contains("\n| no-go | the flowchart says: Wait until main-east is healthy (main-up: no) |\n"))
    }

    @Test func aNoToAQuestionIsNoGoAndNeverSuccess() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try answersAndApprovals(lab)
        try lab.expectSuccess(["decide", "comms-sent", "no", "--revise", "--reason", "the status page is down"])
        let done = try lab.expectSuccess(["drill", "complete"])
        #expect(done.stdout.contains("\tdrill completed: no-go — question comms-sent answered no: Have customers been told?\t"))
    }

    /// Passes the gate and runs the drill up to its DNS switch (writes stopped, cutover done).
    func runToTheCutover(_ lab: Lab, started: Bool = false) throws {
        if !started {
            _ = try lab.startDrill(Self.runbook)
            try answersAndApprovals(lab)
        }
        try lab.expectSuccess(["phase", "start", "prepare"])
        for step in ["snapshot-search", "freeze-writes"] { try lab.expectSuccess(["step", "done", step]) }
        try lab.expectSuccess(["phase", "complete", "prepare"])
        try lab.expectSuccess(["phase", "start", "promote-main"])
        for step in ["promote-queue", "promote-search"] { try lab.expectSuccess(["step", "done", step]) }
        try lab.expectSuccess(["phase", "complete", "promote-main"])
        try lab.expectSuccess(["phase", "start", "verify-main"])
        try lab.expectSuccess(["step", "done", "check-queue-depth"])
        try lab.expectSuccess(["phase", "complete", "verify-main"])
        try lab.expectSuccess(["phase", "start", "cutover"])
        try lab.expectSuccess(["step", "done", "switch-dns"])
    }

    /// A failback that missed the runbook's targets did not succeed: an RPO over its target and
    /// rows missing between the sites are reasons the outcome is failed, and `--outcome success`
    /// needs an override. (Such a drill completed as "success" beside "RPO NO" and "10 rows differ".)
    @Test func missedTargetsAreReasonsTheDrillFailed() throws {
        let lab = try Lab()
        try runToTheCutover(lab)
        try lab.expectSuccess(["record", "lag", "--seconds", "45", "--source", "dr-west", "--target", "main-east"])
        try lab.expectSuccess(["record", "rowcount", "--table", "orders", "--site", "main-east", "--count", "1000"])
        try lab.expectSuccess(["record", "rowcount", "--table", "orders", "--site", "dr-west", "--count", "990"])
        try lab.expectSuccess(["step", "done", "open-writes"])
        try lab.expectSuccess(["phase", "complete", "cutover"])
        try lab.expectSuccess(["step", "done", "smoke-test"])
        try refused(
            lab, ["drill", "complete", "--outcome", "success"],
            "the drill does not support success: RPO missed: 45s against a target of 30s; row counts differ: 10 rows missing between the sites (complete it without --outcome, or pass --override --reason TEXT): nothing appended"
        )
        try lab.expectSuccess(["drill", "complete"])
        let s = try status(lab)
        #expect(s["outcome"] as? String == "failed")
        #expect(s["outcome_reasons"] as? [String] == ["RPO missed: 45s against a target of 30s", "row counts differ: 10 rows missing between the sites"])
    }

    /// DNS propagation is what the cutover changed, seen only where its address was named
    /// (`--expect-after-cutover`) and not answered before: an answer of another name, or of the old
    /// address checked on purpose, or of a name that already answered the new address before the
    /// cutover, says nothing of it (each was "DNS propagated in 12ms").
    @Test func onlyTheCutoversAddressSeenToChangeIsPropagation() throws {
        let dns = ["record", "dns", "--resolver", "127.0.0.1:53", "--name"]
        for (before, after, propagates) in [
            ([String](), ["unrelated.example", "--expect", "1.2.3.4", "--answer", "1.2.3.4"], false),
            ([], ["edge.example", "--expect", "10.1.0.1", "--answer", "10.1.0.1"], false),
            (
                ["edge.example", "--expect-after-cutover", "10.2.0.1", "--answer", "10.2.0.1"], ["edge.example", "--expect-after-cutover", "10.2.0.1", "--answer", "10.2.0.1"],
                false
            ),
            (
                ["edge.example", "--expect-after-cutover", "10.2.0.1", "--answer", "10.1.0.1"], ["edge.example", "--expect-after-cutover", "10.2.0.1", "--answer", "10.2.0.1"], true
            ),
            ([], ["edge.example", "--expect-after-cutover", "10.2.0.1", "--answer", "10.2.0.1"], true),
        ] {
            let lab = try Lab()
            _ = try lab.startDrill(Self.runbook)
            try answersAndApprovals(lab)
            if !before.isEmpty { try lab.expectSuccess(dns + before) }
            try runToTheCutover(lab, started: true)
            try lab.expectSuccess(dns + after)
            let m = try status(lab)["metrics"] as! [String: Any]
            #expect((m["dns_propagation_seconds"] != nil) == propagates, "\(before) then \(after)")
            #expect(try lab.expectSuccess(["status"]).stdout.contains("DNS propagated") == propagates, "\(before) then \(after)")
        }
    }

    /// Aborted before the new address was ever seen: the answer confirming the revert matches its
    /// expectation, but it is the rollback's, never the failback's propagation.
    @Test func theRevertsAnswerIsNeverPropagation() throws {
        let lab = try Lab()
        try runToTheCutover(lab)
        try lab.expectSuccess(["drill", "abort", "--reason", "edge refused the new origin"])
        try lab.expectSuccess(["step", "done", "dns-back"])
        try lab.expectSuccess(["record", "dns", "--name", "edge.example", "--resolver", "127.0.0.1:53", "--expect", "10.1.0.1", "--answer", "10.1.0.1"])
        let m = try status(lab)["metrics"] as! [String: Any]
        #expect(m["dns_propagation_seconds"] == nil)
        let events = try lab.events()
        #expect(m["dns_revert_seconds"] as? Double == Double(try time(events, "DNSAnswerObserved") - time(events, "DrillAborted")) / 1000)
        #expect(!(try lab.expectSuccess(["status"]).stdout.contains("DNS propagated")))
    }

    @Test func anAbortedDrillRevertsAndSaysSo() throws {
        let lab = try Lab()
        try runToTheCutover(lab)
        try lab.expectSuccess(["record", "dns", "--name", "edge.example", "--resolver", "127.0.0.1:53", "--expect-after-cutover", "10.2.0.1", "--answer", "10.2.0.1"])
        try lab.expectSuccess(["drill", "abort", "--reason", "search replicas lost shards"])
        try refused(
            lab, ["step", "done", "open-writes"], "the drill was aborted (search replicas lost shards); only the abort procedure's steps can be recorded: nothing appended")
        try refused(
            lab, ["phase", "complete", "cutover"], "the drill was aborted (search replicas lost shards); only the abort procedure's steps can be recorded: nothing appended")
        try refused(
            lab, ["step", "done", "writes-back"],
            "step writes-back is gated: step dns-back not done (it comes before writes-back) (or pass --override --reason TEXT): nothing appended")
        try lab.expectSuccess(["step", "done", "dns-back"])
        // The answer that confirms the revert is no propagation.
        try lab.expectSuccess(["record", "dns", "--name", "edge.example", "--resolver", "127.0.0.1:53", "--expect", "10.1.0.1", "--answer", "10.1.0.1"])
        try lab.expectSuccess(["step", "done", "writes-back"])
        try refused(
            lab, ["drill", "complete", "--outcome", "success", "--override", "--reason", "x"],
            "the drill was aborted (search replicas lost shards); it cannot complete with success: nothing appended")
        try lab.expectSuccess(["drill", "complete"])
        let s = try status(lab)
        #expect(s["outcome"] as? String == "aborted" && s["outcome_reasons"] as? [String] == ["aborted: search replicas lost shards"])
        let m = s["metrics"] as! [String: Any]
        let events = try lab.events()
        let cutover = try time(events, "StepCompleted") { $0["step"] as? String == "switch-dns" }
        let aborted = try time(events, "DrillAborted")
        let forward = try time(events, "DNSAnswerObserved") { $0["expected"] as? String == "10.2.0.1" }
        let back = try time(events, "DNSAnswerObserved") { $0["expected"] as? String == "10.1.0.1" }
        #expect(m["dns_propagation_seconds"] as? Double == Double(forward - cutover) / 1000)
        #expect(m["dns_revert_seconds"] as? Double == Double(back - aborted) / 1000)
        let stopped = try time(events, "StepCompleted") { $0["step"] as? String == "freeze-writes" }
        let resumed = try time(events, "StepCompleted") { $0["step"] as? String == "writes-back" }
        #expect(m["rto_seconds"] as? Double == Double(resumed - stopped) / 1000)
        #expect(m["writes_resumed_by"] as? String == "rollback" && m["rto_met"] == nil)
        let text = try lab.expectSuccess(["status"]).stdout
        #expect(text.contains("writes resumed on the old site by the rollback after "))
        #expect(!text.contains("RTO "))
        #expect(text.contains("DNS reverted in "))
        let report = try lab.expectSuccess(["report", "--format", "md"]).stdout
        #expect(report.contains("\n| Verdict | Outcome: aborted |\n"))
        #expect(report.contains("| Writes resumed on the old site (rollback, not a failback RTO) |"))
        // Replay and compare say the same: never "RTO … met" for a rollback's resumption.
        let replayed = try lab.expectSuccess(["replay"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(replayed.contains("writes resumed on the old site by the rollback after ") && replayed.contains("(not a failback RTO)"), "\(replayed)")
        #expect(!replayed.contains("RTO ") && !replayed.contains("met"), "\(replayed)")
        let drill = s["drill_id"] as! String
        let compared = try lab.expectSuccess(["compare", drill, drill]).stdout
        #expect(compared.contains("in \(drill) writes were resumed on the old site by the rollback: no failback RTO to compare"), "\(compared)")
        let rtoRow = compared.split(separator: "\n").first { $0.contains("RTO (writes stopped → resumed)") }.map(String.init) ?? ""
        #expect(!rtoRow.isEmpty && !rtoRow.contains("met") && !rtoRow.contains("ms"), "\(rtoRow)")
    }

    @Test func writesThatNeverResumedMissTheRTO() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try answersAndApprovals(lab)
        try lab.expectSuccess(["phase", "start", "prepare"])
        try lab.expectSuccess(["step", "done", "snapshot-search"])
        try lab.expectSuccess(["step", "done", "freeze-writes"])
        try lab.expectSuccess(["phase", "complete", "prepare"])
        let done = try lab.expectSuccess(["drill", "complete"])
        let stoppedAt = try lab.events().first { ($0["payload"] as? [String: Any])?["step"] as? String == "freeze-writes" }?["recorded_at"] as! String
        #expect(
            done.stdout.contains(
                "drill completed: failed — phase promote-main not started; phase verify-main not started; phase cutover not started; step promote-queue not done; step promote-search not done; step check-queue-depth not done; step switch-dns not done; step open-writes not done; step smoke-test not done; writes stopped at \(stoppedAt) never resumed\t"
            ))
        let m = try status(lab)["metrics"] as! [String: Any]
        #expect(m["rto_met"] as? Bool == false && m["writes_never_resumed"] as? Bool == true && m["rto_seconds"] == nil)
        #expect(try lab.expectSuccess(["status"]).stdout.contains("RTO MISSED: writes stopped at \(stoppedAt) and never resumed"))
        #expect(try lab.expectSuccess(["drill", "list"]).stdout.contains("\tRTO MISSED (writes never resumed)\n"))
    }

    @Test func successOverAStateThatDoesNotSupportItIsAnOverrideOnRecord() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try lab.expectSuccess(["phase", "start", "prepare", "--override", "--reason", "tabletop"])
        try lab.expectSuccess(["step", "skip", "snapshot-search", "--reason", "tabletop"])
        try lab.expectSuccess(["step", "skip", "freeze-writes", "--reason", "tabletop"])
        try lab.expectSuccess(["phase", "complete", "prepare"])
        try refused(
            lab, ["drill", "complete", "--outcome", "no-go"], "phases have started: a drill that went is not no-go; abort it (failback drill abort --reason TEXT): nothing appended"
        )
        try refused(lab, ["drill", "complete", "--outcome", "aborted"], "the drill was not aborted (failback drill abort --reason TEXT first): nothing appended")
        try refused(lab, ["drill", "complete", "--override", "--reason", "x"], "--override goes with --outcome", status: 64)
        try lab.expectSuccess(["drill", "complete", "--outcome", "success", "--override", "--reason", "tabletop exercise: procedure walked, not run"])
        let s = try status(lab)
        #expect(s["outcome"] as? String == "success")
        #expect(s["outcome_override"] as? String == "tabletop exercise: procedure walked, not run")
        #expect((s["outcome_reasons"] as! [String]).first == "no option was followed")
        let report = try lab.expectSuccess(["report", "--format", "md"]).stdout
        #expect(report.contains("\n| Verdict | Outcome: success (OVERRIDDEN) |\n| Override | tabletop exercise: procedure walked, not run |\n"))
        // The list (made, then kept) and the replay say it too, never a plain "success".
        for _ in 0..<2 {
            let listed = try lab.expectSuccess(["drill", "list"]).stdout.split(separator: "\t").map(String.init)
            #expect(listed.count > 2 && listed[2] == "success (OVERRIDDEN)", "\(listed)")
            #expect(try lab.expectSuccess(["drill", "list", "--json"]).stdout.contains("\"outcome\":\"success\",\"overridden\":true"))
        }
        let replayed = try lab.expectSuccess(["replay"]).stdout.split(separator: "\n").last.map(String.init) ?? ""
        #expect(replayed.contains("drill completed: success (OVERRIDDEN)"), "\(replayed)")
    }

    @Test func aRevisedAnswerRerunsTheFlowchartUntilAPhaseStarts() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try answersAndApprovals(lab, lagOK: "no")
        #expect(try status(lab)["option"] as? String == "rebuild")
        try refused(lab, ["decide", "lag-ok", "yes"], "question lag-ok was answered no; to change the answer pass --revise --reason TEXT: nothing appended")
        try refused(lab, ["decide", "main-up", "yes", "--revise"], "--revise needs --reason TEXT", status: 64)
        let revised = try lab.expectSuccess(["decide", "lag-ok", "yes", "--revise", "--reason", "lag measured again: 4s"])
        #expect(
            revised.stdout.split(separator: "\n").map { $0.split(separator: "\t")[4] } == [
                "lag-ok: yes (REVISED: lag measured again: 4s)", "option promote chosen by the flowchart (main-up: yes → lag-ok: yes)",
            ])
        let s = try status(lab)
        #expect(s["option"] as? String == "promote" && s["blockers"] as? [String] == [])
        try lab.expectSuccess(["phase", "start", "prepare"])
        try refused(
            lab, ["decide", "lag-ok", "no", "--revise", "--reason", "worse again"],
            "decisions are made before the first phase starts (phase prepare has started); to change course, abort the drill (failback drill abort --reason TEXT): nothing appended"
        )
        try lab.expectValidAgainstSchemas()
    }

    @Test func samplingFasterThanATenthOfASecondIsRefused() throws {
        let lab = try Lab()
        _ = try lab.startDrill(Self.runbook)
        try refused(
            lab, ["observe", "dns", "edge.example", "--server", "127.0.0.1:9", "--until", "pass", "--every", "0s", "--timeout", "2s"],
            "--every must be at least 100ms (got 0s): nothing sampled, nothing appended", status: 64)
        try refused(
            lab, ["observe", "http", "http://127.0.0.1:9/", "--until", "pass", "--every", "50ms"],
            "--every must be at least 100ms (got 50ms): nothing sampled, nothing appended", status: 64)
    }
}
