import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The servers of `scripts/lab` (PostgreSQL primary `eu` + streaming standby `us`, dnsmasq, HTTP
/// health endpoints, Redis master `eu` + replica `us` and a Sentinel), in a folder and on ports of
/// their own, started once per test run and stopped when it ends. `$FAILBACK_TEST_LAB_DIR` and
/// `$FAILBACK_TEST_LAB_PORT` move them (two checkouts testing on one machine at once).
enum ServerLab {
    static let dir = ProcessInfo.processInfo.environment["FAILBACK_TEST_LAB_DIR"] ?? "/tmp/failback-lab-tests"
    static let portBase = ProcessInfo.processInfo.environment["FAILBACK_TEST_LAB_PORT"].flatMap { Int($0) } ?? 26400
    static let env = ["FAILBACK_LAB_DIR": dir, "FAILBACK_LAB_PORT": String(portBase)]
    static let eu = "host=127.0.0.1 port=\(portBase + 32) dbname=teei user=postgres"
    static let us = "host=127.0.0.1 port=\(portBase + 33) dbname=teei user=postgres"
    static let dns = "127.0.0.1:\(portBase + 53)"
    static let http = "http://127.0.0.1:\(portBase + 80)"
    static let name = "api.teei.example.com", drAddress = "198.51.100.10", primaryAddress = "203.0.113.10"
    static let redisEU = "redis://127.0.0.1:\(portBase + 63)"
    static let redisUS = "redis://127.0.0.1:\(portBase + 64)"

    /// Runs `scripts/lab ARGS` and requires it to succeed.
    @discardableResult
    static func lab(_ arguments: String...) throws -> Outcome {
        let o = try run(script, arguments, env: env)
        try #require(o.status == 0, "scripts/lab \(arguments.joined(separator: " ")) failed: \(o.stderr)")
        return o
    }

    static func psql(_ conninfo: String, _ sql: String) throws -> String {
        let o = try run(tool("psql"), ["-X", "-A", "-t", "-q", "-d", conninfo, "-c", sql])
        try #require(o.status == 0, "psql: \(o.stderr)")
        return o.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh lab (whatever an earlier run left is stopped and deleted first), stopped at exit.
    static let started: Result<Void, any Error> = {
        Result {
            try lab("reset")
            try lab("start")
            atexit { _ = system("FAILBACK_LAB_DIR='\(ServerLab.dir)' FAILBACK_LAB_PORT=\(ServerLab.portBase) '\(ServerLab.script)' stop >/dev/null 2>&1") }
        }
    }()
    static let script = repositoryRoot.appendingPathComponent("scripts/lab").path

    static func require() throws { try started.get() }
}

/// The probes against the real lab: one at a time, since they share (and change) its servers.
@Suite(.serialized) struct LabProbeTests {
    init() throws { try ServerLab.require() }

    func drill() throws -> Lab {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        return lab
    }

    @Test func lagIsObservedBothWaysWhileWritesFlow() throws {
        let lab = try drill()
        let writer = Thread {
            for _ in 0..<25 { _ = try? ServerLab.psql(ServerLab.eu, "INSERT INTO events (payload) SELECT 'w' FROM generate_series(1, 500)"); usleep(80_000) }
        }
        writer.start()
        for _ in 0..<3 {
            #expect(try lab.failback(["observe", "lag", "--postgres", ServerLab.eu, "--role", "primary", "--source", "eu", "--target", "us"]).status == 0)
            #expect(try lab.failback(["observe", "lag", "--postgres", ServerLab.us, "--role", "standby", "--source", "eu", "--target", "us"]).status == 0)
            usleep(300_000)
        }
        let samples = try lab.payloads("ReplicationLagSampled")
        #expect(samples.count == 6)
        for (i, s) in samples.enumerated() {
            #expect(s["method"] as? String == (i % 2 == 0 ? "pg_stat_replication.replay_lag" : "now() - pg_last_xact_replay_timestamp()"))
            #expect((s["lag_seconds"] as? Double).map { $0 >= 0 } == true, "\(s)")
            #expect(s["lag_bytes"] is Int)
            #expect(s["error"] == nil)
            #expect(s["source"] as? String == "eu" && s["target"] as? String == "us")
        }
        #expect(samples.filter { $0["replay_paused"] as? Bool == false }.count == 3)
        try lab.expectValidAgainstSchemas()
    }

    @Test func pausedReplayGrowsLagAndRowCountsDifferUntilCatchUp() throws {
        let lab = try drill()
        _ = try ServerLab.psql(ServerLab.us, "SELECT pg_wal_replay_pause()")
        var resumed = false
        defer { if !resumed { _ = try? ServerLab.psql(ServerLab.us, "SELECT pg_wal_replay_resume()") } }
        let writer = Thread {
            for _ in 0..<20 { _ = try? ServerLab.psql(ServerLab.eu, "INSERT INTO events (payload) SELECT 'p' FROM generate_series(1, 200)"); usleep(150_000) }
        }
        writer.start()
        // Long enough that the lag is past 1s at the first sample.
        usleep(1_500_000)
        let started = Date()
        let waited = try lab.failback(["observe", "lag", "--postgres", ServerLab.us, "--until", "lag<1s", "--every", "700ms", "--timeout", "3s"])
        #expect(waited.status == 1)
        #expect(Date().timeIntervalSince(started) < 8, "the loop ran past its timeout")
        let paused = try lab.payloads("ReplicationLagSampled")
        #expect(paused.count >= 3)
        let lags = paused.compactMap { $0["lag_seconds"] as? Double }
        #expect(lags.count == paused.count && lags.last! > lags.first!, "lag did not grow: \(lags)")
        #expect(paused.allSatisfy { $0["replay_paused"] as? Bool == true })
        let timedOut = try #require(try lab.payloads("WaitConcluded").last)
        #expect(timedOut["met"] as? Bool == false)
        #expect(((timedOut["last"] as? [String: Any])?["lag"] as? Double) == lags.last)

        #expect(
            try lab.failback([
                "observe", "rowcount", "--source", ServerLab.eu, "--target", ServerLab.us, "--table", "events", "--table", "accounts",
                "--source-site", "eu", "--target-site", "us",
            ]).status == 1)
        let differing = try #require(try lab.payloads("RowCountsCompared").last)
        let tables = differing["tables"] as! [[String: Any]]
        #expect(differing["matched"] as? Bool == false)
        #expect((tables[0]["delta"] as! Int) < 0 && tables[0]["target_count"] as! Int + -(tables[0]["delta"] as! Int) == tables[0]["source_count"] as! Int)
        #expect(tables[1]["delta"] as? Int == 0)

        _ = try ServerLab.psql(ServerLab.us, "SELECT pg_wal_replay_resume()")
        resumed = true
        while writer.isExecuting { usleep(50_000) }
        #expect(try lab.failback(["observe", "lag", "--postgres", ServerLab.us, "--until", "lag=0", "--every", "300ms", "--timeout", "20s"]).status == 0)
        #expect(try lab.payloads("WaitConcluded").last?["met"] as? Bool == true)
        #expect(
            try lab.failback([
                "observe", "rowcount", "--source", ServerLab.eu, "--target", ServerLab.us, "--table", "events", "--table", "accounts",
                "--source-site", "eu", "--target-site", "us",
            ]).status == 0)
        let equal = try #require(try lab.payloads("RowCountsCompared").last)
        #expect(equal["matched"] as? Bool == true)
        #expect((equal["tables"] as! [[String: Any]]).map { $0["delta"] as? Int } == [0, 0])
        // The drill's metrics take the comparison's counts per site.
        let status = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json"]).stdout.utf8)) as! [String: Any]
        let rows = ((status["metrics"] as! [String: Any])["row_counts"] as! [[String: Any]])
        #expect(rows.map { $0["table"] as? String } == ["accounts", "events"])
        #expect(rows.allSatisfy { $0["delta"] as? Int == 0 && ($0["counts"] as! [String: Any]).keys.sorted() == ["eu", "us"] })
        try lab.expectValidAgainstSchemas()
    }

    @Test func dnsAnswerSwitchesAndEverySampleIsRecorded() throws {
        try ServerLab.lab("dns", "dr")
        let lab = try drill()
        let switcher = Thread {
            usleep(1_200_000); _ = try? ServerLab.lab("dns", "primary")
        }
        switcher.start()
        let o = try lab.failback([
            "observe", "dns", ServerLab.name, "--server", ServerLab.dns, "--expect", ServerLab.primaryAddress,
            "--until", "pass", "--every", "300ms", "--timeout", "15s",
        ])
        #expect(o.status == 0, "\(o.stderr)")
        let answers = try lab.payloads("DNSAnswerObserved")
        #expect(answers.count >= 3)
        let values = answers.map { (($0["answers"] as! [[String: Any]]).first?["value"] as? String) }
        #expect(values.first == ServerLab.drAddress && values.last == ServerLab.primaryAddress)
        #expect(answers.dropLast().allSatisfy { $0["matched"] as? Bool == false } && answers.last!["matched"] as? Bool == true)
        #expect(answers.allSatisfy { ($0["answers"] as! [[String: Any]]).first?["ttl"] as? Int == 5 && $0["rcode"] as? String == "NOERROR" })
        // A TXT record too big for UDP comes over TCP, whole.
        #expect(try lab.failback(["observe", "dns", "big.teei.example.com", "--type", "TXT", "--server", ServerLab.dns]).status == 0)
        let big = try #require(try lab.payloads("DNSAnswerObserved").last)
        #expect(big["transport"] as? String == "tcp")
        #expect(((big["answers"] as! [[String: Any]]).first?["value"] as? String)?.count == 3 * 202 + 2)
        // A name the server does not serve is an answer too.
        #expect(try lab.failback(["observe", "dns", "nowhere.example", "--server", ServerLab.dns]).status == 1)
        #expect(try lab.payloads("DNSAnswerObserved").last?["rcode"] as? String == "REFUSED")
        // Before the cutover an answer for the cutover's address is evidence, judged by nothing:
        // exit 0 (it exited 1, a failure the drill's own records do not hold).
        let early = try lab.failback(["observe", "dns", ServerLab.name, "--server", ServerLab.dns, "--expect-after-cutover", "192.0.2.99"])
        #expect(early.status == 0, "\(early.stderr)")
        #expect(try lab.payloads("DNSAnswerObserved").last?["matched"] as? Bool == false)
        // Once the cutover is done, the same answer is a failed check: exit 1.
        let cutover = try Lab()
        _ = try cutover.startDrill("failback-bud")
        try cutover.expectSuccess(["phase", "start", "update-dns", "--override", "--reason", "test"])
        try cutover.expectSuccess(["step", "done", "dns-to-primary", "--override", "--reason", "test"])
        let late = try cutover.failback(["observe", "dns", ServerLab.name, "--server", ServerLab.dns, "--expect-after-cutover", "192.0.2.99"])
        #expect(late.status == 1, "\(late.stderr)")
        try lab.expectValidAgainstSchemas()
    }

    @Test func healthEndpointsAnswer200And503() throws {
        let lab = try drill()
        try ServerLab.lab("http", "eu", "503")
        defer { _ = try? ServerLab.lab("http", "eu", "200") }
        #expect(try lab.failback(["observe", "http", "\(ServerLab.http)/health/us", "--expect-body", "us ok"]).status == 0)
        #expect(try lab.failback(["observe", "http", "\(ServerLab.http)/health/eu"]).status == 1)
        #expect(try lab.payloads("HealthCheckObserved").map { $0["status"] as? Int } == [200, 503])
    }

    @Test func recoveryStateFlipsAfterPromotion() throws {
        let lab = try drill()
        // us made a standby of eu again (not the whole lab reset: other suites use its other
        // servers at the same time).
        defer { _ = try? ServerLab.lab("standby", "us") }
        #expect(try lab.failback(["observe", "recovery", "--postgres", ServerLab.us, "--expect", "standby"]).status == 0)
        #expect(try lab.failback(["observe", "recovery", "--postgres", ServerLab.eu, "--expect", "standby"]).status == 1)
        let promoter = Thread {
            usleep(800_000); _ = try? ServerLab.lab("promote", "us")
        }
        promoter.start()
        let o = try lab.failback(["observe", "recovery", "--postgres", ServerLab.us, "--expect", "primary", "--until", "pass", "--every", "300ms", "--timeout", "30s"])
        #expect(o.status == 0, "\(o.stderr)")
        let states = try lab.payloads("RecoveryStateObserved")
        #expect(states.first?["role"] as? String == "standby" && states[1]["role"] as? String == "primary")
        #expect(states.dropFirst(2).first?["role"] as? String == "standby")
        #expect(states.last?["role"] as? String == "primary" && states.last?["passed"] as? Bool == true)
        #expect(try lab.payloads("WaitConcluded").last?["met"] as? Bool == true)
        // The sender-side lag probe now finds no standby on the promoted server.
        #expect(try lab.failback(["observe", "lag", "--postgres", ServerLab.us, "--role", "primary"]).status == 1)
        #expect((try lab.payloads("ReplicationLagSampled").last?["error"] as? String)?.contains("pg_stat_replication is empty") == true)
        try lab.expectValidAgainstSchemas()
    }
}

/// Probes against targets that are not there: an observation with its error, a non-zero exit, and
/// never a wait past `--timeout`.
@Suite struct UnreachableTargetTests {
    @Test func closedPostgresPortIsRecordedWithItsError() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let conninfo = "host=127.0.0.1 port=9 dbname=x user=u password=Hunter2secret"
        #expect(try lab.failback(["observe", "lag", "--postgres", conninfo]).status == 1)
        #expect(try lab.failback(["observe", "recovery", "--postgres", conninfo]).status == 1)
        #expect(try lab.failback(["observe", "rowcount", "--source", conninfo, "--target", conninfo, "--table", "t"]).status == 1)
        let lag = try #require(try lab.payloads("ReplicationLagSampled").first)
        #expect(lag["lag_seconds"] == nil)
        #expect((lag["error"] as? String)?.contains("Connection refused") == true)
        #expect(try lab.payloads("RecoveryStateObserved").first?["passed"] as? Bool == false)
        #expect((try lab.payloads("RowCountsCompared").first?["error"] as? String)?.contains("Connection refused") == true)
        #expect(!(try lab.rawStoreBytes()).contains(Data("Hunter2secret".utf8)))
    }

    @Test func silentDNSServerTimesOut() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        // A UDP socket that never answers.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        let port = UInt16(bigEndian: address.sin_port)
        let started = Date()
        let o = try lab.failback(["observe", "dns", "api.example.com", "--server", "127.0.0.1:\(port)", "--until", "pass", "--every", "200ms", "--timeout", "1500ms"])
        #expect(o.status == 1)
        #expect(Date().timeIntervalSince(started) < 10, "a hang, not a timeout")
        let answers = try lab.payloads("DNSAnswerObserved")
        #expect(!answers.isEmpty && answers.allSatisfy { ($0["error"] as? String)?.hasPrefix("no answer within") == true })
        let verdict = try #require(try lab.payloads("WaitConcluded").first)
        #expect(verdict["met"] as? Bool == false)
        #expect((verdict["elapsed_ms"] as! Int) < 2_500)
        // A server that is not an IP address is refused before anything is recorded.
        let bad = try lab.failback(["observe", "dns", "api.example.com", "--server", "dns.example.com:53"])
        #expect(bad.status == 64 && bad.stderrLines.count == 1 && bad.stderr.contains("--server"))
    }
}
