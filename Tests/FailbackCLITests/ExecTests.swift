import Foundation
import Testing

/// `failback exec`: real commands, their output live and recorded.
@Suite struct ExecTests {
    func lastEvent(_ lab: Lab) throws -> [String: Any] {
        let line = try lab.expectSuccess(["log", "--json"]).stdout.split(separator: "\n").last!
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    }

    @Test func aFailingCommandIsRecordedAndItsStatusPassedOn() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let o = try lab.failback(["exec", "--", "sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(o.status == 3)
        #expect(o.stdout == "out\n")  // the command's output, live; our line goes to stderr
        #expect(o.stderr.hasPrefix("err\n") && o.stderr.contains("CommandExecuted"))
        let e = try lastEvent(lab)
        #expect(e["type"] as? String == "CommandExecuted")
        let p = e["payload"] as! [String: Any]
        #expect(p["argv"] as? [String] == ["sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(p["exit_status"] as? Int == 3)
        #expect((p["stdout"] as! [String: Any])["text"] as? String == "out\n")
        #expect((p["stderr"] as! [String: Any])["text"] as? String == "err\n")
        #expect(p["cwd"] as? String == URL(fileURLWithPath: lab.dir).resolvingSymlinksInPath().path)
        #expect(try lab.failback(["exec", "--", "true"]).status == 0)
        #expect(try lab.failback(["exec", "--", "sh", "-c", "kill -9 $$"]).status == 137)
        #expect(((try lastEvent(lab))["payload"] as! [String: Any])["signal"] as? Int == 9)
    }

    /// An interrupted command is evidence too. Ctrl-C (SIGINT to the terminal's whole process
    /// group) ends the command, and failback records how; SIGTERM sent to failback alone (as
    /// `timeout` or `kill` do) is passed on to the command, which does not outlive it. Before,
    /// failback died first: nothing was recorded, and on SIGTERM the command ran on, orphaned.
    @Test(arguments: [("group", "SIGINT", 2), ("failback", "SIGTERM", 15), ("failback", "SIGHUP", 1)])
    func anInterruptedCommandIsRecordedAndDoesNotOutliveUs(to: String, signal: String, number: Int) throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let script = """
            import os, signal, subprocess, sys, time
            fb, store, to, sig = sys.argv[1:5]
            p = subprocess.Popen([fb, "exec", "--store", store, "--", "sh", "-c", "echo $$ > child.pid; exec sleep 30"], start_new_session=True)
            while not os.path.exists("child.pid") or not open("child.pid").read().strip(): time.sleep(0.05)
            time.sleep(0.2)
            (os.killpg if to == "group" else os.kill)(p.pid, getattr(signal, sig))
            p.wait(timeout=10)
            child = int(open("child.pid").read())
            time.sleep(0.1)
            alive = os.path.exists(f"/proc/{child}") and open(f"/proc/{child}/stat").read().split()[2] != "Z"
            print(p.returncode, "alive" if alive else "gone")
            """
        let o = try run("/usr/bin/env", ["python3", "-c", script, buildDirectory.appendingPathComponent("failback").path, lab.store, to, signal], cwd: lab.dir)
        #expect(o.stdout == "\(128 + number) gone\n", "\(o.stderr)")
        let e = try lastEvent(lab)
        #expect(e["type"] as? String == "CommandExecuted")
        let p = e["payload"] as! [String: Any]
        #expect(p["signal"] as? Int == number)
        #expect(p["exit_status"] == nil)
    }

    @Test func aCommandThatCannotStartIsRecorded() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let o = try lab.failback(["exec", "--", "no-such-command-\(UUID().uuidString.prefix(8))"])
        #expect(o.status == 127)
        #expect(o.stderr.contains("No such file or directory (recorded)"))
        let e = try lastEvent(lab)
        #expect(e["type"] as? String == "CommandFailedToStart")
        #expect((e["payload"] as! [String: Any])["error"] as? String == "No such file or directory")
    }

    @Test func secretsInArgumentsAndOutputNeverReachTheStore() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let o = try lab.failback([
            "exec", "--", "sh", "-c", "echo \"token=outTok123 PGPASSWORD=outPw456\"; echo 'Authorization: Bearer errBearer789' >&2", "x", "--password", "argPw000",
        ])
        #expect(o.status == 0)
        #expect(o.stdout.contains("outTok123"))  // the operator still sees the output live
        let raw = try lab.rawStoreBytes()
        for secret in ["outTok123", "outPw456", "errBearer789", "argPw000"] { #expect(raw.range(of: Data(secret.utf8)) == nil, "\(secret) stored") }
        let kinds = Set(((try lastEvent(lab))["redactions"] as! [[String: String]]).map { $0["kind"]! })
        #expect(kinds == ["token_parameter", "env_secret", "authorization_header", "argument_secret"])
    }

    /// Output past limits.max_output_bytes is cut; the size and digest are of the whole stream.
    @Test func outputIsCappedWithTheWholeStreamsDigest() throws {
        let lab = try Lab()
        try #"{"limits": {"max_output_bytes": 1000}}"#.write(toFile: "\(lab.dir)/config.json", atomically: true, encoding: .utf8)
        _ = try lab.startDrill("failback-bud")
        let script = "i=0; while [ $i -lt 5000 ]; do echo line$i; i=$((i+1)); done"
        let o = try lab.failback(["exec", "--", "sh", "-c", script])
        #expect(o.status == 0)
        let whole = try run("/bin/sh", ["-c", "\(script) | sha256sum"]).stdout.prefix(64)
        let out = ((try lastEvent(lab))["payload"] as! [String: Any])["stdout"] as! [String: Any]
        #expect(out["truncated"] as? Bool == true)
        #expect((out["text"] as! String).utf8.count == 1000)
        #expect(out["bytes"] as? Int == o.stdout.utf8.count)
        #expect(out["sha256"] as? String == String(whole))
    }

    @Test func anUnknownStepIsRefusedBeforeAnythingRuns() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let before = try lab.eventCount
        let o = try lab.failback(["exec", "--step", "no-such-step", "--", "touch", "\(lab.dir)/ran"])
        #expect(o.status == 65)
        #expect(o.stderr == "failback: error: the drill's runbook has no step no-such-step: nothing run, nothing appended\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/ran"))
        #expect(try lab.eventCount == before)
        // A step whose phase has not started cannot start: nothing runs.
        let early = try lab.failback(["exec", "--step", "check-primary-cluster-health", "--", "touch", "\(lab.dir)/ran"])
        #expect(early.status == 65)
        #expect(early.stderr == "failback: error: step check-primary-cluster-health belongs to phase pre-failback-checks, which is not started: nothing appended\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/ran"))
        #expect(try lab.eventCount == before)
        try lab.expectSuccess(["phase", "start", "pre-failback-checks", "--override", "--reason", "test"])
        try lab.expectSuccess(["exec", "--step", "check-primary-cluster-health", "--", "true"])
        #expect(((try lastEvent(lab))["payload"] as! [String: Any])["step"] as? String == "check-primary-cluster-health")
        // exec --step started the step first: its time runs from before the command.
        let log = try lab.expectSuccess(["log", "--json"]).stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(log.suffix(2).map { $0["type"] as! String } == ["StepStarted", "CommandExecuted"])
        // A second command of the running step does not start it again.
        try lab.expectSuccess(["exec", "--step", "check-primary-cluster-health", "--", "true"])
        #expect(try lab.eventCount == before + 5)  // override, phase, start, two commands
    }
}
