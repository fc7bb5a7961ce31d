import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `observe redis` against the lab's real Redis master, replica and Sentinel. These tests belong
/// to `LabProbeTests` (one at a time: the PostgreSQL tests reset the whole lab).
extension LabProbeTests {
    /// The event line's fields after the time: type, summary, actor (the rest varies run to run).
    func eventLine(_ o: Outcome) -> [Substring] {
        Array(o.stdout.dropLast().split(separator: "\t", omittingEmptySubsequences: false).dropFirst(3))
    }

    @Test func redisMasterAndReplicaAreObserved() throws {
        let lab = try drill()
        let eu = ServerLab.redisEU, us = ServerLab.redisUS
        let euAddress = String(eu.dropFirst("redis://".count)), usAddress = String(us.dropFirst("redis://".count))
        #expect(try lab.failback(["observe", "redis", "--url", eu, "--expect", "master"]).status == 0)
        let master = try #require(try lab.payloads("RedisReplicationObserved").last)
        #expect(master["role"] as? String == "master" && master["passed"] as? Bool == true && master["server"] as? String == eu)
        #expect(master["connected_replicas"] as? Int == 1)
        let replicas = try #require(master["replicas"] as? [[String: Any]])
        #expect(replicas.count == 1 && replicas[0]["address"] as? String == usAddress && replicas[0]["state"] as? String == "online")
        #expect((master["offset_lag_bytes"] as? Int).map { $0 >= 0 } == true && (master["ping_ms"] as? Double).map { $0 >= 0 } == true)

        // Writes on the master; the replica's lag is the master's offset less the replica's.
        for i in 0..<20 { try ServerLab.lab("redis", "cli", "eu", "SET", "drill:\(i)", String(repeating: "x", count: 1000)) }
        #expect(try lab.failback(["observe", "redis", "--url", us, "--expect", "replica"]).status == 0)
        let replica = try #require(try lab.payloads("RedisReplicationObserved").last)
        #expect(replica["role"] as? String == "replica" && replica["master"] as? String == euAddress && replica["master_link_status"] as? String == "up")
        let own = try #require(replica["repl_offset"] as? Int), masters = try #require(replica["master_repl_offset"] as? Int)
        #expect(masters >= own && replica["offset_lag_bytes"] as? Int == masters - own && masters > 20_000)
        #expect(replica["passed"] as? Bool == true && replica["error"] == nil && replica["offset_lag_error"] == nil)
        let waited = try lab.failback(["observe", "redis", "--url", us, "--until", "offset_lag<1MB", "--every", "200ms", "--timeout", "10s"])
        #expect(waited.status == 0, "\(waited.stdout)")
        let verdict = try #require(try lab.payloads("WaitConcluded").last)
        #expect(verdict["met"] as? Bool == true && verdict["probe"] as? String == "redis \(us)" && verdict["condition"] as? String == "offset_lag<1MB")

        // AUTH with the lab's ACL user; a wrong password is an observation with Redis's own words.
        let port = us.split(separator: ":").last!
        #expect(try lab.failback(["observe", "redis", "--url", "redis://failback:lab-secret@127.0.0.1:\(port)"]).status == 0)
        #expect(try lab.payloads("RedisReplicationObserved").last?["server"] as? String == "redis://127.0.0.1:\(port)")
        let refused = try lab.failback(["observe", "redis", "--url", "redis://failback:not-the-s3cret@127.0.0.1:\(port)"])
        #expect(refused.status == 1 && refused.stderr == "")
        #expect(
            eventLine(refused).prefix(2) == [
                "RedisReplicationObserved",
                "redis://127.0.0.1:\(port): no answer: AUTH refused: WRONGPASS invalid username-password pair or user is disabled. (FAIL)",
            ])
        // A Sentinel has no replication role to report.
        let sentinel = try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:\(ServerLab.portBase + 26)"])
        #expect(sentinel.status == 1)
        #expect(
            eventLine(sentinel).dropFirst().first == "redis://127.0.0.1:\(ServerLab.portBase + 26): no answer: INFO replication names no role (a Sentinel, or not Redis) (FAIL)")
        let raw = try lab.rawStoreBytes()
        #expect(!raw.contains(Data("lab-secret".utf8)) && !raw.contains(Data("not-the-s3cret".utf8)))
        try lab.expectValidAgainstSchemas()
    }

    @Test func redisReplicaPassesAsMasterOnceSentinelPromotesIt() throws {
        let lab = try drill()
        defer { _ = try? ServerLab.lab("redis", "reset") }
        let us = ServerLab.redisUS
        let before = try lab.failback(["observe", "redis", "--url", us, "--expect", "master"])
        #expect(before.status == 1)
        let line = eventLine(before)[1]
        #expect(line.hasPrefix("\(us): replica of 127.0.0.1:\(ServerLab.portBase + 63), link up, offset lag ") && line.hasSuffix("ms (expected master, FAIL)"), "\(line)")
        let promoter = Thread {
            usleep(700_000); _ = try? ServerLab.lab("redis", "promote")
        }
        promoter.start()
        let started = Date()
        let o = try lab.failback(["observe", "redis", "--url", us, "--expect", "master", "--until", "pass", "--every", "300ms", "--timeout", "20s"])
        #expect(o.status == 0, "\(o.stdout)\(o.stderr)")
        #expect(Date().timeIntervalSince(started) < 15)
        let seen = try lab.payloads("RedisReplicationObserved")
        #expect(seen.count >= 3)
        #expect(seen.dropLast().allSatisfy { $0["role"] as? String == "replica" && $0["passed"] as? Bool == false })
        #expect(seen.last?["role"] as? String == "master" && seen.last?["passed"] as? Bool == true)
        #expect(try lab.payloads("WaitConcluded").last?["met"] as? Bool == true)
        // The report: the loop's samples fold into its verdict; the observation before it stays a failed check.
        let report = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["report", "--format", "json"]).stdout.utf8)) as! [String: Any]
        let checks = (report["checks"] as! [[String: Any]]).filter { ($0["kind"] as? String).map { ["redis", "wait"].contains($0) } == true }
        #expect(checks.map { "\($0["kind"]!) \($0["name"]!) \($0["result"]!)" } == ["redis \(us) fail", "wait redis \(us) until pass pass"])
        try lab.expectValidAgainstSchemas()
    }

    /// Seed 1 (failback-bud) phase by phase, in the runbook's order, every step recorded: what the
    /// lab has is observed (PostgreSQL roles, lag and row counts, Redis), what it has not (Kubernetes,
    /// MinIO, a status page) is skipped with the reason; Redis is verified (PING) before the
    /// failback, promoted through Sentinel in phase 4 and verified role:master. PostgreSQL is not
    /// promoted here (recoveryStateFlipsAfterPromotion does that; the lab stays as the other tests
    /// need it), so the drill is aborted after phase 4 and completes as aborted.
    @Test func failbackBudDrillPromotesRedisForReal() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        defer { _ = try? ServerLab.lab("redis", "reset") }
        let us = ServerLab.redisUS, usPort = String(ServerLab.portBase + 64)
        func ok(_ arguments: [String], env: [String: String] = [:]) throws -> Outcome {
            let o = try lab.failback(arguments, env: env)
            #expect(o.status == 0, "failback \(arguments.joined(separator: " ")): \(o.stdout)\(o.stderr)")
            return o
        }
        func skip(_ steps: String..., because reason: String) throws { for s in steps { _ = try ok(["step", "skip", s, "--reason", reason]) } }
        for item in [
            "primary-kubernetes-healthy", "primary-postgresql-ready", "primary-redis-ready", "data-replication-complete",
            "network-connectivity-verified", "dns-ttl-lowered", "maintenance-window-confirmed", "rollback-plan-reviewed", "team-assembled",
        ] {
            _ = try ok(["checklist", "verify", item, "--by", "dana"])
        }
        _ = try ok(["approve", "--by", "Morgan", "--role", "change manager"])
        #expect(try lab.failback(["evidence", "gaps"]).stdout.contains("A1.2\tno Redis role check (failback observe redis)"))

        _ = try ok(["phase", "start", "pre-failback-checks"])
        try skip("check-primary-cluster-health", "verify-primary-nodes-ready", "check-primary-storage", because: "no Kubernetes in the lab")
        _ = try ok(["observe", "recovery", "--postgres", ServerLab.us, "--expect", "standby"])
        _ = try ok(["step", "done", "verify-primary-postgresql"])
        _ = try ok(["observe", "lag", "--postgres", ServerLab.us, "--source", "dr", "--target", "primary"])
        _ = try ok(["step", "done", "check-replication-possible"])
        let ping = try ok(["exec", "--step", "verify-primary-redis", "--", "redis-cli", "-h", "127.0.0.1", "-p", usPort, "PING"])
        #expect(ping.stdout == "PONG\n")
        _ = try ok(["observe", "redis", "--url", us, "--expect", "replica"])
        _ = try ok(["step", "done", "verify-primary-redis"])
        _ = try ok(["observe", "lag", "--postgres", ServerLab.eu, "--role", "primary", "--source", "dr", "--target", "primary"])
        _ = try ok(["step", "done", "check-replication-lag"])
        try skip("verify-minio-sync", because: "no MinIO in the lab")
        _ = try lab.failback(["observe", "rowcount", "--source", ServerLab.eu, "--target", ServerLab.us, "--table", "accounts", "--source-site", "dr", "--target-site", "primary"])
        _ = try ok(["step", "done", "ensure-dr-data-synced"])
        _ = try ok(["phase", "complete", "pre-failback-checks"])
        _ = try ok(["phase", "start", "preparation"])
        try skip(
            "notify-team-starting", "status-page-maintenance", "lower-dns-ttl", "backup-dr-databases", because: "no team channel, status page, Route 53 or backup target in the lab"
        )
        _ = try ok(["phase", "complete", "preparation"])
        _ = try ok(["phase", "start", "stop-dr-traffic"])
        try skip("dr-maintenance-mode-on", "wait-in-flight-requests", "verify-no-active-connections", because: "no application traffic in the lab")
        _ = try ok(["phase", "complete", "stop-dr-traffic"])
        _ = try ok(["phase", "start", "final-data-sync"])
        try skip("stop-dr-writes", "wait-final-replication", "verify-replication-caught-up", "final-consistent-backup", because: "no application writes in the lab")
        _ = try ok(["phase", "complete", "final-data-sync"])

        _ = try ok(["phase", "start", "promote-primary-databases"])
        try skip("promote-primary-postgresql", "verify-postgresql-promotion", because: "PostgreSQL stays as the other lab tests need it")
        let promote = try ok(["exec", "--step", "promote-primary-redis", "--", ServerLab.script, "redis", "promote"], env: ServerLab.env)
        #expect(promote.stderr.split(separator: "\n").contains { $0.hasPrefix("lab: Sentinel promoted Redis us (127.0.0.1:\(usPort))") }, "\(promote.stderr)")
        _ = try ok(["step", "done", "promote-primary-redis"])
        _ = try ok(["observe", "redis", "--url", us, "--expect", "master", "--until", "pass", "--every", "200ms", "--timeout", "10s"])
        let role = try ok(["exec", "--step", "verify-redis-promotion", "--", "sh", "-c", "redis-cli -h 127.0.0.1 -p \(usPort) INFO replication | grep role"])
        #expect(role.stdout == "role:master\r\n")
        _ = try ok(["step", "done", "verify-redis-promotion"])
        _ = try ok(["phase", "complete", "promote-primary-databases"])

        // Status, the report's checks, replay and the evidence gaps all carry it.
        let status = try lab.expectSuccess(["status"]).stdout
        #expect(status.contains("\nredis, as last observed\n  "))
        #expect(status.split(separator: "\n").contains { $0.hasPrefix("  20") && $0.contains("Z  \(us): master, ") && $0.hasSuffix("ms (pass)") }, "\(status)")
        let json = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json"]).stdout.utf8)) as! [String: Any]
        let redis = try #require(json["redis"] as? [[String: Any]])
        #expect(redis.count == 1 && redis[0]["server"] as? String == us && redis[0]["role"] as? String == "master" && redis[0]["passed"] as? Bool == true)
        let report = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["report", "--format", "json"]).stdout.utf8)) as! [String: Any]
        let checks = (report["checks"] as! [[String: Any]]).map { "\($0["kind"]!) \($0["name"]!) \($0["result"]!)" }
        #expect(checks.filter { $0.hasPrefix("redis ") || $0.hasPrefix("wait redis") } == ["redis \(us) pass", "wait redis \(us) until pass pass"])
        let replay = try lab.expectSuccess(["replay", "--speed", "1000"]).stdout.split(separator: "\n")
        #expect(
            replay.contains {
                $0.contains("  pre-failback-checks  RedisReplicationObserved  \(us): replica of 127.0.0.1:\(ServerLab.portBase + 63), link up") && $0.hasSuffix("(pass)  · tester")
            })
        #expect(replay.contains { $0.contains("  promote-primary-databases  RedisReplicationObserved  \(us): master, ") && $0.hasSuffix("(pass)  · tester") })
        #expect(!(try lab.failback(["evidence", "gaps"]).stdout.contains("Redis")))

        // PostgreSQL was not promoted: the drill did not fail back, and says so.
        _ = try ok(["drill", "abort", "--reason", "the lab ran seed 1's checks and its Redis promotion only"])
        try skip("revert-dns-to-dr", "scale-down-primary", "scale-up-dr", "dr-maintenance-mode-off", because: "nothing was switched in the lab")
        _ = try ok(["drill", "complete"])
        let done = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json"]).stdout.utf8)) as! [String: Any]
        #expect(done["outcome"] as? String == "aborted")
        try lab.expectValidAgainstSchemas()
    }
}

/// `observe redis` against targets that are not there, or not Redis: an observation with its
/// error, exit 1, and never a wait past `--timeout` or a read past its bound.
@Suite struct RedisTargetsThatAreNotThereTests {
    func fields(_ o: Outcome) -> [Substring] { o.stdout.dropLast().split(separator: "\t", omittingEmptySubsequences: false) }

    @Test func refusedConnectionIsOneLineAndAFailedObservation() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let o = try lab.failback(["observe", "redis", "--url", "redis://:Hunter2secret@127.0.0.1:9", "--expect", "master"])
        #expect(o.status == 1 && o.stderr == "" && o.stdout.filter { $0 == "\n" }.count == 1)
        let f = fields(o)
        #expect(f.count == 6 && f[0] == "2" && f[1] == "#2" && f[5].hasPrefix("(tester@"))
        #expect(f[3...4] == ["RedisReplicationObserved", "redis://127.0.0.1:9: no answer: connection refused (expected master, FAIL)"])
        let event = try #require(try lab.payloads("RedisReplicationObserved").first)
        #expect(event as NSDictionary == ["server": "redis://127.0.0.1:9", "expected": "master", "passed": false, "error": "connection refused"] as NSDictionary)
        #expect(!(try lab.rawStoreBytes()).contains(Data("Hunter2secret".utf8)))
        // What is not a redis:// URL is refused before anything is recorded, without echoing a password.
        let bad = try lab.failback(["observe", "redis", "--url", "rediss://u:Hunter2secret@127.0.0.1:6380"])
        #expect(bad.status == 64 && bad.stdout == "")
        #expect(bad.stderr == "failback: error: --url \"rediss://u:[REDACTED:url_credentials]@127.0.0.1:6380\": TLS (rediss://) is not supported; give a redis:// URL\n")
        let role = try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:9", "--expect", "primary"])
        #expect(role.status == 64 && role.stderr == "failback: error: --expect must be master or replica, not \"primary\"\n")
        #expect(try lab.eventCount == 2)
    }

    @Test func serverThatAcceptsButNeverAnswersTimesOut() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let (fd, port) = try listener()
        defer { close(fd) }
        // Connections complete in the kernel's backlog; nothing ever reads or answers them. (The
        // bounds on the wall time are loose for a loaded machine: without a timeout this hangs.)
        var started = Date()
        let once = try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:\(port)", "--timeout", "1500ms"])
        #expect(Date().timeIntervalSince(started) < 10, "a hang, not a timeout")
        #expect(once.status == 1 && once.stderr == "")
        #expect(fields(once)[3...4] == ["RedisReplicationObserved", "redis://127.0.0.1:\(port): no answer: no reply within 1.5s (FAIL)"])
        started = Date()
        let loop = try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:\(port)", "--until", "pass", "--every", "200ms", "--timeout", "1500ms"])
        #expect(loop.status == 1)
        #expect(Date().timeIntervalSince(started) < 10, "a hang, not a timeout")
        let verdict = try #require(try lab.payloads("WaitConcluded").first)
        #expect(verdict["met"] as? Bool == false && (verdict["elapsed_ms"] as! Int) < 2_500)
        #expect(try lab.payloads("RedisReplicationObserved").allSatisfy { ($0["error"] as? String)?.hasPrefix("no reply within") == true })
    }

    /// A server that answers what is not RESP, or more than a reply may hold: refused at the bound.
    @Test(arguments: [
        ("$1000000000\r\n", "a bulk reply of 1000000000 bytes, over the limit of 1048576"),
        ("-ERR unknown command 'PING'\r\n", "ERR unknown command 'PING'"),
        ("HTTP/1.1 400 Bad Request\r\n\r\n", #"not a Redis reply: it starts with "HTTP/1.1 400 Bad Request""#),
        ("+" + String(repeating: "a", count: 200_000), "a reply line longer than 65536 bytes"),
        ("+PONG\r\n$-1\r\n", "INFO: an unexpected reply"),
        ("+PONG\r\n$\(1 << 20)\r\n" + String(repeating: "r", count: 1 << 20) + "\r\n", "INFO replication names no role (a Sentinel, or not Redis)"),
    ])
    func hostileServerIsRefusedAtTheBound(reply: String, error: String) throws {
        let (o, port) = try observe(answering: reply)
        #expect(o.status == 1 && o.stderr == "")
        #expect(fields(o)[4] == "redis://127.0.0.1:\(port): no answer: \(error) (FAIL)")
    }

    /// Offsets past what an event holds, negative or overflowing a subtraction, are left out.
    @Test func offsetsOutOfRangeAreLeftOutNotTrusted() throws {
        let info =
            "# Replication\r\nrole:master\r\nconnected_slaves:1\r\nmaster_repl_offset:9223372036854775807\r\n"
            + "slave0:ip=10.0.0.2,port=6380,state=online,offset=-9223372036854775808,lag=0\r\n"
        let (o, port) = try observe(answering: "+PONG\r\n$\(info.utf8.count)\r\n\(info)\r\n")
        #expect(o.status == 0, "\(o.stdout)\(o.stderr)")
        #expect(fields(o)[4].hasPrefix("redis://127.0.0.1:\(port): master, 1 replica connected, PING ") && fields(o)[4].hasSuffix("ms (pass)"))
    }

    /// Runs `observe redis` against a server that reads the first command and answers `reply`.
    func observe(answering reply: String) throws -> (Outcome, UInt16) {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let (fd, port) = try listener()
        defer { close(fd) }
        let server = Thread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            var buffer = [UInt8](repeating: 0, count: 4096)
            _ = recv(client, &buffer, buffer.count, 0)
            _ = Array(reply.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            usleep(3_000_000)
            close(client)
        }
        server.start()
        let started = Date()
        let o = try lab.failback(["observe", "redis", "--url", "redis://127.0.0.1:\(port)", "--timeout", "2s"])
        #expect(Date().timeIntervalSince(started) < 10, "a hang, not a refusal")
        try lab.expectValidAgainstSchemas()
        return (o, port)
    }

    /// A TCP socket listening on a free loopback port.
    func listener() throws -> (Int32, UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        try #require(bound == 0 && listen(fd, 8) == 0)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: address.sin_port))
    }
}
