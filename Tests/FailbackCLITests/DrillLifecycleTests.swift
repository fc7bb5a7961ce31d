import Foundation
import Testing

/// Whole drills driven through the CLI, and every refusal of the lifecycle commands.
@Suite struct DrillLifecycleTests {
    /// The runbook as JSON (`runbook show --json`), to walk its phases and steps.
    func runbook(_ path: String) throws -> [String: Any] {
        let o = try run("failback", ["runbook", "show", "--json", repositoryRoot.appendingPathComponent(path).path])
        return try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as! [String: Any]
    }

    func status(_ lab: Lab) throws -> [String: Any] {
        let o = try lab.expectSuccess(["status", "--json"])
        return try JSONSerialization.jsonObject(with: Data(o.stdout.utf8)) as! [String: Any]
    }

    func phaseStatuses(_ s: [String: Any]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: (s["phases"] as! [[String: Any]]).map { ($0["id"] as! String, $0["status"] as! String) })
    }

    /// Passes the go/no-go gate: every question answered yes, every checklist item verified, an approval.
    func goNoGo(_ lab: Lab, _ rb: [String: Any]) throws {
        for q in rb["questions"] as? [[String: Any]] ?? [] { try lab.expectSuccess(["decide", q["id"] as! String, "yes"]) }
        for c in rb["checklist"] as? [[String: Any]] ?? [] { try lab.expectSuccess(["checklist", "verify", c["id"] as! String, "--notes", "ok"]) }
        try lab.expectSuccess(["approve", "--by", "Morgan", "--role", "change manager"])
        #expect(try status(lab)["blockers"] as? [String] == [])
    }

    /// Runs every phase that applies, recording every step as done (or skipped, when `skip` says so).
    func runPhases(_ lab: Lab, _ rb: [String: Any], option: String?, skip: Set<String> = []) throws {
        for phase in rb["phases"] as! [[String: Any]] where phase["option"] == nil || phase["option"] as? String == option {
            let id = phase["id"] as! String
            try lab.expectSuccess(["phase", "start", id])
            #expect(try status(lab)["current_phase"] as? String == id)
            for step in phase["steps"] as? [[String: Any]] ?? [] {
                let sid = step["id"] as! String
                try lab.expectSuccess(skip.contains(sid) ? ["step", "skip", sid, "--reason", "not in this lab"] : ["step", "done", sid])
            }
            try lab.expectSuccess(["phase", "complete", id])
        }
    }

    @Test func aWholeOptionBFailbackOfSeed2() throws {
        let lab = try Lab()
        let rb = try runbook("runbooks/rollback-teei.yaml")
        _ = try lab.startDrill("rollback-teei", option: "B")
        var s = try status(lab)
        #expect(s["status"] as? String == "running")
        #expect(s["option"] as? String == "B")
        #expect(phaseStatuses(s).values.filter { $0 == "not-followed" }.count == 7)
        #expect(phaseStatuses(s)["b-configure-us-standby"] == "pending")
        #expect((s["blockers"] as! [String]).count == 7)  // 6 questions and the approval
        try goNoGo(lab, rb)
        try runPhases(lab, rb, option: "B")
        for step in ((rb["validation"] as! [[String: Any]])[0]["steps"] as! [[String: Any]]) { try lab.expectSuccess(["step", "done", step["id"] as! String]) }
        s = try status(lab)
        #expect(Set(phaseStatuses(s).filter { $0.key.hasPrefix("b-") }.values) == ["done"])
        #expect(s["current_phase"] == nil)
        try lab.expectSuccess(["drill", "complete"])
        s = try status(lab)
        #expect(s["status"] as? String == "completed")
        #expect(s["outcome"] as? String == "success")
        #expect(s["steps_pending"] as? Int == 0)  // option A's 18 steps and the abort procedure's 4 are not on its path
        let timeline = (s["timeline"] as! [[String: Any]]).map { $0["type"] as! String }
        #expect(timeline.first == "DrillStarted" && timeline.last == "DrillCompleted")
        #expect(timeline.filter { $0 == "PhaseStarted" }.count == 3 && timeline.filter { $0 == "QuestionAnswered" }.count == 6)
        #expect(try lab.failback(["note", "too late"]).status == 65)  // the current drill is closed
        #expect(try lab.failback(["verify"]).status == 0)
    }

    @Test func aWholeFailbackOfSeed1WithASkippedStep() throws {
        let lab = try Lab()
        let rb = try runbook("runbooks/failback-bud.yaml")
        _ = try lab.startDrill("failback-bud")
        try expectRefused(lab, ["phase", "start", "pre-failback-checks"], "phase pre-failback-checks is gated: checklist item primary-kubernetes-healthy not verified")
        try goNoGo(lab, rb)
        try runPhases(lab, rb, option: nil, skip: ["verify-minio-sync"])
        for section in rb["post_tasks"] as! [[String: Any]] {
            for step in section["steps"] as! [[String: Any]] { try lab.expectSuccess(["step", "done", step["id"] as! String]) }
        }
        try lab.expectSuccess(["drill", "complete", "--outcome", "success"])
        let s = try status(lab)
        #expect(s["outcome"] as? String == "success")
        #expect(Set(phaseStatuses(s).values) == ["done"])
        let skipped = (s["steps"] as! [[String: Any]]).filter { $0["status"] as? String == "skipped" }
        #expect(skipped.count == 1 && skipped[0]["reason"] as? String == "not in this lab")
        #expect(s["steps_pending"] as? Int == 0)  // the rollback procedure's 4 are not on the path
    }

    /// A runbook written for the tests only, aborted mid-way: the abort procedure is followed.
    @Test func aThirdRunbookAbortedIntoItsRollbackProcedure() throws {
        let lab = try Lab()
        let path = repositoryRoot.appendingPathComponent("Tests/Fixtures/runbooks/cache-store-failback.yaml").path
        _ = try lab.startDrill(path, option: "swap")
        try lab.expectSuccess(["phase", "start", "freeze", "--override", "--reason", "game day: approvals collected on the ticket"])
        let overridden = try status(lab)["overrides"] as! [[String: Any]]
        #expect(overridden.count == 1 && (overridden[0]["missing"] as! [String]).count == 5)  // 2 questions, 2 items, approval
        try lab.expectSuccess(["step", "done", "proxy-read-only"])
        try lab.expectSuccess(["phase", "complete", "freeze"])
        try lab.expectSuccess(["phase", "start", "promote-ams"])
        try lab.expectSuccess(["step", "start", "redis-failover"])
        usleep(800_000)  // longer than the step's 0.01-minute (0.6 s) target
        try lab.expectSuccess(["step", "fail", "redis-failover", "--reason", "replica refused: READONLY"])
        let late = (try status(lab)["steps"] as! [[String: Any]]).first { $0["id"] as? String == "redis-failover" }!
        #expect(late["overrun"] as? Bool == true)
        #expect((late["duration_seconds"] as! Double) >= 0.8)
        try lab.expectSuccess(["step", "skip", "minio-site", "--reason", "Redis failed first"])
        try lab.expectSuccess(["phase", "complete", "promote-ams"])
        try lab.expectSuccess(["drill", "abort", "--reason", "Redis promotion failed"])
        var s = try status(lab)
        #expect(s["status"] as? String == "rolling-back")
        #expect(s["abort_reason"] as? String == "Redis promotion failed")
        try lab.expectSuccess(["step", "done", "proxy-back"])
        try lab.expectSuccess(["drill", "complete"])
        s = try status(lab)
        #expect(s["outcome"] as? String == "aborted")
        let human = try lab.expectSuccess(["status"]).stdout
        #expect(human.contains("completed: aborted"))
        #expect(human.contains("failed steps: redis-failover"))
        let took = (late["duration_seconds"] as! Double)
        #expect(
            human.contains(
                "overruns: redis-failover took \(took < 1 ? "\(Int((took * 1000).rounded()))ms" : String(format: "%gs", (took * 100).rounded() / 100)) (target 0.01 min)"))
    }

    /// A drill that breaks in the middle of a phase can be declared failed there and then (the
    /// docs: "`failed` is always accepted"); the phase it broke in stays interrupted, as after an
    /// abort, never "running" in a closed drill. Other outcomes still need the phase closed first.
    @Test func aDrillFailsMidPhaseAndThePhaseStaysInterrupted() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei", option: "B")
        try lab.expectSuccess(["phase", "start", "b-configure-us-standby", "--override", "--reason", "test"])
        try lab.expectSuccess(["step", "fail", "b-demote-us", "--reason", "pg_rewind refused"])
        try expectRefused(
            lab, ["drill", "complete", "--outcome", "success", "--override", "--reason", "x"],
            "phase b-configure-us-standby is still running; complete it first (failback phase complete b-configure-us-standby): nothing appended")
        let completed = try lab.expectSuccess(["drill", "complete", "--outcome", "failed"])
        #expect(completed.stdout.contains("DrillCompleted"))
        let s = try status(lab)
        #expect(s["outcome"] as? String == "failed")
        #expect(phaseStatuses(s)["b-configure-us-standby"] == "interrupted")
        #expect(s["current_phase"] == nil)
        // After an abort, the same.
        let aborted = try Lab()
        _ = try aborted.startDrill("rollback-teei", option: "B")
        try aborted.expectSuccess(["phase", "start", "b-configure-us-standby", "--override", "--reason", "test"])
        try aborted.expectSuccess(["drill", "abort", "--reason", "replication broke"])
        #expect(phaseStatuses(try status(aborted))["b-configure-us-standby"] == "interrupted")
        try aborted.expectSuccess(["drill", "complete"])
        #expect(phaseStatuses(try status(aborted))["b-configure-us-standby"] == "interrupted")
    }

    @Test func statusAsOfAnEarlierEvent() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei", option: "B")
        try lab.expectSuccess(["phase", "start", "b-configure-us-standby", "--override", "--reason", "test"])
        try lab.expectSuccess(["step", "done", "b-demote-us"])
        try lab.expectSuccess(["phase", "complete", "b-configure-us-standby"])
        let asOf3 = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json", "--as-of", "3"]).stdout.utf8)) as! [String: Any]
        #expect(asOf3["current_phase"] as? String == "b-configure-us-standby")
        #expect(asOf3["events"] as? Int == 3)
        #expect(phaseStatuses(try status(lab))["b-configure-us-standby"] == "done")
        let time = (asOf3["last_event_at"] as! String)
        let atTime = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json", "--as-of", time]).stdout.utf8)) as! [String: Any]
        #expect(atTime["events"] as? Int == 3)
        try expectRefused(lab, ["status", "--as-of", "yesterday"], "--as-of takes a drill event number or an RFC 3339 time, not 'yesterday'", status: 64)
    }

    @Test func retriedLifecycleCommandsPrintTheFirstEvent() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei", option: "B")
        let start = ["phase", "start", "b-configure-us-standby", "--override", "--reason", "test", "--idempotency-key", "p1-start"]
        let first = try lab.expectSuccess(start)
        let retry = try lab.expectSuccess(start)
        #expect(retry.stdout == first.stdout && retry.stderr.contains("already recorded"))
        let done = ["step", "done", "b-demote-us", "--idempotency-key", "s1"]
        #expect(try lab.expectSuccess(done).stdout == lab.expectSuccess(done).stdout)
        try lab.expectSuccess(["phase", "complete", "b-configure-us-standby"])
        let complete = ["drill", "complete", "--idempotency-key", "end"]
        #expect(try lab.expectSuccess(complete).stdout == lab.expectSuccess(complete).stdout)
        #expect(try lab.eventCount == 6)
    }

    @Test func drillListShowsEveryDrill() throws {
        let lab = try Lab()
        let first = try lab.startDrill("failback-bud")
        try lab.expectSuccess(["drill", "complete", "--outcome", "failed"])
        let second = try lab.startDrill("rollback-teei", option: "B")
        let lines = try lab.expectSuccess(["drill", "list"]).stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("\(first)\tfailback-bud v1.0\tfailed\t"))
        #expect(lines[1].hasPrefix("\(second)\trollback-teei v1.0 option B\trunning\t"))
        let json = try lab.expectSuccess(["drill", "list", "--json"]).stdout.split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(json.map { $0["outcome"] as? String } == ["failed", nil])
    }

    /// Wrong order: one line naming what is wrong, exit 65, nothing appended.
    @Test func refusalsAppendNothing() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei", option: "B")
        let cases: [([String], String)] = [
            (["phase", "start", "nope"], "runbook rollback-teei has no phase nope (phases: b-configure-us-standby, b-wait-replication-catch-up, b-controlled-switchover)"),
            (["phase", "start", "a-dns-cutover"], "phase a-dns-cutover belongs to option A; this drill follows option B"),
            (["phase", "complete", "b-configure-us-standby"], "phase b-configure-us-standby was never started"),
            (["step", "done", "b-demote-us"], "step b-demote-us belongs to phase b-configure-us-standby, which is not started"),
            (["step", "done", "no-such-step"], "runbook rollback-teei has no step no-such-step"),
            (["step", "skip", "verify-us-primary"], "a skipped step needs --reason"),
            (["step", "done", "abort-revert-dns-to-eu"], "step abort-revert-dns-to-eu belongs to the abort procedure; abort the drill first"),
            (["drill", "complete", "--outcome", "sideways"], "'sideways'"),
        ]
        for (args, message) in cases { try expectRefused(lab, args, message) }
        try expectRefused(
            lab, ["phase", "start", "b-configure-us-standby"],
            "phase b-configure-us-standby is gated: question primary-healthy unanswered (failback decide primary-healthy yes|no);")
        try expectRefused(lab, ["phase", "start", "b-configure-us-standby", "--override"], "--override needs --reason TEXT", status: 64)
        try expectRefused(lab, ["decide", "is-it-friday", "yes"], "runbook rollback-teei has no question is-it-friday")
        try expectRefused(lab, ["checklist", "verify", "anything"], "runbook rollback-teei has no checklist item anything")
        try lab.expectSuccess(["decide", "primary-healthy", "no", "--note", "us-east-1 still degraded"])
        let gate = try lab.failback(["phase", "start", "b-configure-us-standby"]).stderr
        #expect(gate.contains("question primary-healthy answered no: Is primary region healthy?"))
        #expect(gate.contains("the flowchart says: Wait for resolution"))
        try lab.expectSuccess(["phase", "start", "b-configure-us-standby", "--override", "--reason", "drill of the abort path"])
        try expectRefused(lab, ["decide", "primary-healthy", "yes"], "decisions are made before the first phase starts")
        try expectRefused(lab, ["phase", "start", "b-wait-replication-catch-up"], "phase b-configure-us-standby is still running; complete it first")
        try expectRefused(lab, ["drill", "complete"], "phase b-configure-us-standby is still running")
        try lab.expectSuccess(["step", "done", "b-demote-us"])
        try expectRefused(lab, ["step", "done", "b-demote-us"], "step b-demote-us was already recorded as done")
        try lab.expectSuccess(["phase", "complete", "b-configure-us-standby"])
        try expectRefused(lab, ["phase", "complete", "b-configure-us-standby"], "phase b-configure-us-standby already completed")
        try expectRefused(lab, ["phase", "start", "b-configure-us-standby"], "phase b-configure-us-standby already started")
        try lab.expectSuccess(["drill", "abort", "--reason", "split brain"])
        try expectRefused(lab, ["phase", "start", "b-wait-replication-catch-up"], "the drill was aborted (split brain)")
        try expectRefused(lab, ["drill", "abort", "--reason", "again"], "the drill was aborted")
        try expectRefused(lab, ["drill", "complete", "--outcome", "success"], "it cannot complete with success")
        try lab.expectSuccess(["drill", "complete"])
        let drill = try lab.expectSuccess(["log", "--json"]).stdout.split(separator: "\n").count
        try expectRefused(lab, ["note", "after the end"], "is closed: join an open one", status: 65)
        #expect(try lab.expectSuccess(["log", "--json"]).stdout.split(separator: "\n").count == drill)
    }

    @Test func startingADrillNeedsARealRunbookAndOption() throws {
        let lab = try Lab()
        try expectRefused(lab, ["drill", "start", "--runbook", "no-such-runbook"], "no runbook \"no-such-runbook\"", status: 66)
        let rb = repositoryRoot.appendingPathComponent("runbooks/rollback-teei.yaml").path
        try expectRefused(lab, ["drill", "start", "--runbook", rb, "--option", "D"], "runbook rollback-teei has no option \"D\" (it defines A, B, C)")
    }

    func expectRefused(_ lab: Lab, _ args: [String], _ message: String, status: Int32 = 65, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try lab.eventCount
        let o = try lab.failback(args, env: ["FAILBACK_RUNBOOKS": repositoryRoot.appendingPathComponent("runbooks").path])
        let expectedStatus: Int32 = message.hasPrefix("'") ? 64 : status
        #expect(o.status == expectedStatus, "\(args): status \(o.status): \(o.stderr)", sourceLocation: sourceLocation)
        #expect(o.stderrLines.count == 1 && o.stderr.contains(message), "\(args): \(o.stderr)", sourceLocation: sourceLocation)
        #expect(try lab.eventCount == before, "\(args) appended something", sourceLocation: sourceLocation)
    }
}
