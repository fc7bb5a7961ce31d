import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Durability and concurrency, with real processes.
@Suite(.serialized) struct DurabilityTests {
    func startWriter(_ args: [String]) throws -> (Process, Pipe) { try startLoadgen(args) }
    func acks(_ text: String) -> [Int] { loadgenAcks(text) }

    /// A writer appending in a loop is killed with SIGKILL at random moments: every event it
    /// acknowledged is in the store, and every chain verifies. `scripts/kill-trials` runs more.
    @Test func killNineNeverLosesAnAcknowledgedEvent() throws {
        let lab = try Lab()
        let trials = Int(ProcessInfo.processInfo.environment["FAILBACK_KILL_TRIALS"] ?? "") ?? 20
        var rng = SystemRandomNumberGenerator()
        var totalAcked = 0
        for trial in 0..<trials {
            let batch = trial % 3 == 0 ? "7" : "1"
            let (p, out) = try startWriter(["--store", lab.store, "--batch", batch, "--writer", "trial\(trial)"])
            usleep(UInt32.random(in: 20_000...250_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationReason == .uncaughtSignal, "trial \(trial): the writer had already exited")
            let acked = acks(printed)
            totalAcked += acked.count
            let stored = Set(try lab.sqlite("SELECT seq FROM events").stdout.split(separator: "\n").compactMap { Int($0) })
            let lost = acked.filter { !stored.contains($0) }
            #expect(lost.isEmpty, "trial \(trial): acknowledged but lost: \(lost.prefix(5))")
        }
        let verify = try lab.failback(["verify", "--all"])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(try python("verify-log.py", [lab.store]).status == 0)
        #expect(totalAcked > trials * 5, "writers acknowledged too little to test anything: \(totalAcked)")
    }

    /// Four processes append 1,000 events each to one drill at once.
    @Test func concurrentWritersGetAGaplessSequenceAndAnIntactChain() throws {
        let lab = try Lab()
        let drill = try lab.startDrill()
        let writers = 4, each = 1000
        let started = try (0..<writers).map { w in try startWriter(["--store", lab.store, "--drill", drill, "--count", "\(each)", "--writer", "w\(w)"]) }
        var acked: [Int] = []
        for (p, out) in started {
            acked += acks(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
        }
        #expect(acked.count == writers * each)
        #expect(Set(acked).count == acked.count, "duplicate sequence numbers")
        let sorted = acked.sorted()
        #expect(sorted.first == 2 && sorted.last == writers * each + 1, "the global sequence has gaps: \(sorted.first ?? 0)…\(sorted.last ?? 0)")
        let drillSeqs = try lab.sqlite("SELECT drill_seq FROM events WHERE drill_id = '\(drill)' ORDER BY drill_seq").stdout.split(separator: "\n").compactMap { Int($0) }
        #expect(drillSeqs.count == writers * each + 1 && drillSeqs.enumerated().allSatisfy { $0.offset + 1 == $0.element }, "drill_seq has gaps")
        // Every writer's every event is there exactly once.
        let rows = try lab.sqlite(
            "SELECT json_extract(CAST(canonical AS TEXT), '$.payload.table') || ':' || json_extract(CAST(canonical AS TEXT), '$.payload.count') FROM events WHERE seq > 1"
        )
        .stdout.split(separator: "\n").map(String.init)
        let missing = Set((0..<writers).flatMap { w in (0..<each).map { "w\(w):\($0)" } }).subtracting(rows)
        #expect(missing.isEmpty, "missing: \(missing.sorted().prefix(5))")
        #expect(rows.count == writers * each)
        let verify = try lab.failback(["verify", "--all"])
        #expect(verify.status == 0, "\(verify.stdout)")
        #expect(try python("verify-log.py", [lab.store]).status == 0)
    }
}

/// Gated commands while others record into the same drill: each re-checks its gate against the
/// drill as it now is and tries again, failing only when the gate itself no longer holds.
@Suite(.serialized) struct BusyDrillTests {
    @Test func gatedCommandsSucceedWhileFourOperatorsRecord() throws {
        let lab = try Lab()
        let drill = try lab.startDrill("rollback-teei")
        let writers = try (0..<4).map { w -> Process in
            let p = Process()
            p.executableURL = buildDirectory.appendingPathComponent("failback-loadgen")
            p.arguments = ["--store", lab.store, "--drill", drill, "--count", "3000", "--batch", "1", "--quiet", "--writer", "operator\(w)"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        defer { for p in writers where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        usleep(300_000)
        var commands: [[String]] = []
        for q in ["primary-healthy", "sufficient-time-passed", "low-traffic-window", "stakeholders-notified", "backups-current", "valid-reason"] {
            commands.append(["decide", q, "yes"])
        }
        commands += [["decide", "failover-over-24h", "no"], ["decide", "lag-under-1m", "yes"], ["decide", "low-traffic", "yes"]]
        for i in 0..<10 { commands.append(["approve", "--by", "approver\(i)", "--role", "change manager"]) }
        commands.append(["phase", "start", "b-configure-us-standby"])
        var failures: [String] = []
        for args in commands {
            let o = try lab.failback(args)
            if o.status != 0 { failures.append("\(args.joined(separator: " ")): \(o.status) \(o.stderr)") }
        }
        #expect(failures.isEmpty, "\(failures)")
        for p in writers { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        let events = try lab.events()
        #expect(events.filter { $0["type"] as? String == "RowCountSampled" }.count > 50, "the operators recorded too little to test anything")
        #expect(events.filter { $0["type"] as? String == "OptionChosen" }.count == 1)
        #expect(try lab.failback(["verify"]).status == 0)
    }
}
