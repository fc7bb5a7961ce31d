import Testing
@testable import FailbackDomain
import FailbackLog
@testable import FailbackProbes

/// The Redis probe's reading of what a server sends: RESP2 replies and `INFO replication`, from
/// well-formed to hostile. Nothing a server sends may crash it or make it read without bound.
@Suite struct RedisProtocolTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func readsEachReplyType() throws {
        #expect(try RESP.parse(bytes("+PONG\r\n"))! == (.simple("PONG"), 7))
        #expect(try RESP.parse(bytes("-WRONGPASS invalid username-password pair\r\n"))?.value == .error("WRONGPASS invalid username-password pair"))
        #expect(try RESP.parse(bytes(":-42\r\n"))?.value == .integer(-42))
        #expect(try RESP.parse(bytes("$5\r\nhello\r\n+OK\r\n"))! == (.bulk(Array("hello".utf8)), 11))
        #expect(try RESP.parse(bytes("$0\r\n\r\n"))?.value == .bulk([]))
        #expect(try RESP.parse(bytes("$-1\r\n"))?.value == .bulk(nil))
        #expect(try RESP.parse(bytes("*-1\r\n"))?.value == .array(nil))
        #expect(try RESP.parse(bytes("*2\r\n$1\r\na\r\n*1\r\n:1\r\n"))?.value == .array([.bulk([97]), .array([.integer(1)])]))
        // A bulk string may hold CRLF and any byte.
        #expect(try RESP.parse([36, 52, 13, 10, 13, 10, 0, 255, 13, 10])?.value == .bulk([13, 10, 0, 255]))
        #expect(RESP.command(["AUTH", "failback", "pa ss"]) == bytes("*3\r\n$4\r\nAUTH\r\n$8\r\nfailback\r\n$5\r\npa ss\r\n"))
    }

    /// Every proper prefix of a reply asks for more bytes; it is never taken for a reply, nor refused.
    @Test func everyPrefixOfAReplyWaitsForMore() throws {
        let whole = bytes("*3\r\n$5\r\nhello\r\n:7\r\n*1\r\n+OK\r\n")
        for n in 0..<whole.count { #expect(try RESP.parse(Array(whole.prefix(n))) == nil, "prefix \(n)") }
        #expect(try RESP.parse(whole)?.length == whole.count)
    }

    @Test(arguments: [
        ("$99999999999999999999999\r\n", "a malformed bulk length"),
        ("$2000000\r\n", "a bulk reply of 2000000 bytes, over the limit of 1048576"),
        ("$9223372036854775807\r\n", "a bulk reply of 9223372036854775807 bytes, over the limit of 1048576"),
        ("$-2\r\n", "a malformed bulk length"),
        ("$-9223372036854775808\r\n", "a malformed bulk length"),
        ("$abc\r\n", "a malformed bulk length"),
        ("$\r\n", "a malformed bulk length"),
        ("$3\r\nabcXY", "a bulk reply not ended by CRLF"),
        ("*-5\r\n", "a malformed array length"),
        ("*100000000\r\n", "an array of 100000000 elements, over the limit of 1024"),
        ("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", "arrays nested deeper than 4"),
        (":12x\r\n", "a malformed integer reply"),
        (":99999999999999999999\r\n", "a malformed integer reply"),
        ("HTTP/1.1 400 Bad Request\r\n", #"not a Redis reply: it starts with "HTTP/1.1 400 Bad Request""#),
        ("\u{0}\u{1}garbage", #"not a Redis reply: it starts with "\x00\x01garbage""#),
        ("%2\r\n", #"not a Redis reply: it starts with "%2\r\n""#),
    ])
    func refusesHostileReplies(reply: String, message: String) {
        #expect {
            _ = try RESP.parse(bytes(reply))
        } throws: { error in
            (error as? InvalidInput)?.message == message
        }
    }

    /// A line that never ends, and a reply that keeps growing, are refused at their bounds instead
    /// of being waited for: a reader stops there.
    @Test func unboundedRepliesAreRefusedAtTheirLimits() throws {
        var limits = RESP.Limits()
        limits.line = 100
        limits.bulk = 1000
        limits.reply = 1200
        #expect(throws: InvalidInput.self) { try RESP.parse(bytes("+" + String(repeating: "a", count: 101)), limits: limits) }
        // Whole, in one read, and still over the bound.
        #expect(throws: InvalidInput.self) {
            try RESP.parse(bytes("*2\r\n$900\r\n" + String(repeating: "x", count: 900) + "\r\n$900\r\n" + String(repeating: "x", count: 900) + "\r\n"), limits: limits)
        }
        #expect(try RESP.parse(bytes("+" + String(repeating: "a", count: 99)), limits: limits) == nil)
        // An array of bulks each within its bound but more than a reply may hold in all.
        let array = "*3\r\n$900\r\n" + String(repeating: "x", count: 900) + "\r\n$900\r\n" + String(repeating: "x", count: 400)
        #expect {
            _ = try RESP.parse(bytes(array), limits: limits)
        } throws: { error in
            (error as? InvalidInput)?.message == "a reply longer than 1200 bytes"
        }
    }

    /// Random bytes, and random damage to real replies: an answer, a wait for more, or a refusal;
    /// never a crash, and a reply never claims more bytes than it was given.
    @Test func randomDamageNeverCrashes() {
        var rng = SplitMix(seed: 19)
        let good = bytes("*2\r\n$5\r\nhello\r\n*2\r\n:12\r\n-ERR x\r\n") + bytes("$30\r\n# Replication\r\nrole:master\r\n\r\n")
        for _ in 0..<5_000 {
            var message = good
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let i = Int(rng.next() % UInt64(message.count))
                switch rng.next() % 3 {
                case 0: message[i] = UInt8(truncatingIfNeeded: rng.next())
                case 1: message.remove(at: i)
                default: message.insert(UInt8(truncatingIfNeeded: rng.next()), at: i)
                }
            }
            if let parsed = try? RESP.parse(message) { #expect(parsed.length <= message.count) }
            let noise = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if let parsed = try? RESP.parse(noise) { #expect(parsed.length <= noise.count) }
            _ = RedisReplicationInfo(message)
            _ = RedisReplicationInfo(noise)
        }
    }

    @Test func readsInfoReplicationOfAMasterAndAReplica() {
        let master = RedisReplicationInfo(
            bytes(
                """
                # Replication\r
                role:master\r
                connected_slaves:2\r
                slave0:ip=127.0.0.1,port=6380,state=online,offset=1200,lag=0\r
                slave1:ip=::1,port=6381,state=wait_bgsave,offset=0,lag=1\r
                master_failover_state:no-failover\r
                master_repl_offset:1214\r
                \r
                """))
        #expect(master.role == "master" && master.connectedSlaves == 2 && master.masterReplicationOffset == 1214)
        #expect(master.slaves == [.init(ip: "127.0.0.1", port: 6380, state: "online", offset: 1200), .init(ip: "::1", port: 6381, state: "wait_bgsave", offset: 0)])
        let replica = RedisReplicationInfo(
            bytes(
                "# Replication\r\nrole:slave\r\nmaster_host:10.0.0.7\r\nmaster_port:6379\r\nmaster_link_status:down\r\nslave_repl_offset:77\r\nconnected_slaves:0\r\n"))
        #expect(replica.role == "slave" && replica.masterHost == "10.0.0.7" && replica.masterPort == 6379)
        #expect(replica.masterLinkStatus == "down" && replica.slaveReplicationOffset == 77 && replica.connectedSlaves == 0 && replica.slaves.isEmpty)
    }

    @Test func hostileInfoIsReadWithoutTrustingIt() {
        let info = RedisReplicationInfo(
            bytes(
                "role:master\nconnected_slaves:-3\nmaster_repl_offset:99999999999999999999999\nslave0:garbage\nslave1:ip=a,offset=x,port=70000000000\n"
                    + "slaveX:ip=b\nslave:ip=c\n:\n\n\n#role:slave\nmaster_host:\u{1B}[31mred\r\n" + String(repeating: "z", count: 10_000)))
        #expect(info.role == "master" && info.connectedSlaves == nil && info.masterReplicationOffset == nil)
        #expect(info.slaves == [.init(ip: "?", port: nil, state: "?", offset: nil), .init(ip: "a", port: nil, state: "?", offset: nil)])
        // Offsets past what an event holds exactly (2^53-1), or negative, are not read: no lag is
        // computed from them (nor can a difference of two overflow).
        let huge = RedisReplicationInfo(bytes("role:slave\r\nslave_repl_offset:9007199254740992\r\nmaster_repl_offset:-1\r\nmaster_port:65536\r\n"))
        #expect(huge.slaveReplicationOffset == nil && huge.masterReplicationOffset == nil && huge.masterPort == nil)
        #expect(RedisReplicationInfo(bytes("master_repl_offset:9007199254740991\r\n")).masterReplicationOffset == 9_007_199_254_740_991)
        // Text from the server is kept on one line, its control characters escaped.
        #expect(info.masterHost == "\\x1b[31mred")
        #expect(RedisReplicationInfo([]).role == nil)
    }

    @Test func readsRedisURLsAndNeverRecordsTheirPassword() throws {
        let plain = try RedisURL("redis://10.0.0.7")
        #expect(plain.host == "10.0.0.7" && plain.port == 6379 && plain.password == nil && plain.recorded == "redis://10.0.0.7:6379")
        let full = try RedisURL("redis://failback:s%40cret:x@redis-eu.internal:6380/0")
        #expect(full.username == "failback" && full.password == "s@cret:x" && full.host == "redis-eu.internal" && full.port == 6380)
        #expect(full.recorded == "redis://redis-eu.internal:6380")
        // As redis-cli -u reads it: credentials without a colon are a password.
        let passwordOnly = try RedisURL("REDIS://hunter2@[::1]:7000")
        #expect(passwordOnly.username == nil && passwordOnly.password == "hunter2" && passwordOnly.host == "::1" && passwordOnly.recorded == "redis://[::1]:7000")
        #expect(try RedisURL("redis://:hunter2@h").password == "hunter2")
        for (bad, message) in [
            ("rediss://u:hunter2@h:6380", #"--url "rediss://u:[REDACTED:url_credentials]@h:6380": TLS (rediss://) is not supported; give a redis:// URL"#),
            ("http://h", #"--url "http://h": expected redis://[[USER]:PASSWORD@]HOST[:PORT]"#),
            ("redis://:hunter2@h:0", #"--url "redis://:[REDACTED:url_credentials]@h:0": bad port "0""#),
            ("redis://hunter2@h:port", #"--url "redis://[REDACTED:url_credentials]@h:port": bad port "port""#),
            ("redis://hunter2@", #"--url "redis://[REDACTED:url_credentials]@": no host"#),
            ("redis://h/db", #"--url "redis://h/db": the path is a database number, not "db""#),
            ("redis://h?password=x", #"--url "redis://h?password=[REDACTED:password_parameter]": query parameters are not supported"#),
            ("redis://u:a%zz@h", #"--url "redis://u:[REDACTED:url_credentials]@h": a bad %-escape in the credentials"#),
        ] {
            #expect(throws: InvalidInput.self) { try RedisURL(bad) }
            do { _ = try RedisURL(bad) } catch { #expect(error.message == message) }
        }
    }

    /// Sizes in `--until` conditions, for a measure in bytes.
    @Test func conditionsTakeSizes() throws {
        let names = ["offset_lag": "B", "latency": "ms"]
        for (text, bytes) in [
            ("offset_lag<1MB", 1_000_000.0), ("offset_lag<1mb", 1_000_000), ("offset_lag<=64KiB", 65_536), ("offset_lag<512", 512),
            ("offset_lag<512B", 512), ("offset_lag<2kB", 2000), ("offset_lag<1.5GiB", 1.5 * 1_073_741_824),
        ] {
            let c = try UntilCondition(text, names: names)
            #expect(c.isMet(passed: false, values: ["offset_lag": bytes - 1]), "\(text)")
            #expect(c.isMet(passed: false, values: ["offset_lag": bytes]) == text.contains("<="), "\(text)")
        }
        #expect {
            _ = try UntilCondition("offset_lag<5s", names: names)
        } throws: { error in
            (error as? InvalidInput)?.message == #"--until "offset_lag<5s": "5s" is not a size (like 512, 64KB, 1MB)"#
        }
        #expect(try UntilCondition("latency<1s", names: names).isMet(passed: false, values: ["latency": 999]))
        #expect(try UntilCondition("bytes<1MB", names: LagProbe.measures).isMet(passed: false, values: ["bytes": 999_999]))
    }

    @Test func observationSaysWhetherItPassedAndWhy() throws {
        let replica = try RedisReplicationObserved(
            server: "redis://127.0.0.1:6380", role: "replica", expected: "master", master: "127.0.0.1:6379", masterLinkStatus: "up",
            connectedReplicas: 0, replicationOffset: 10, masterReplicationOffset: 24, offsetLagBytes: 14, pingMilliseconds: 0.25)
        #expect(!replica.passed)
        #expect(replica.summary == "redis://127.0.0.1:6380: replica of 127.0.0.1:6379, link up, offset lag 14 bytes, PING 0.25ms (expected master, FAIL)")
        var down = replica
        down.expected = nil
        down.masterLinkStatus = "down"
        #expect(!down.passed && down.summary.hasSuffix("link down, offset lag 14 bytes, PING 0.25ms (FAIL)"))
        down.masterLinkStatus = "up"
        #expect(down.passed)
        let master = try RedisReplicationObserved(server: "redis://h:1", role: "master", connectedReplicas: 0, replicationOffset: 0, pingMilliseconds: 1)
        #expect(master.summary == "redis://h:1: master, 0 replicas connected, PING 1ms (pass)")
        let refused = try RedisReplicationObserved(server: "redis://h:1", role: nil, error: "connection refused")
        #expect(refused.summary == "redis://h:1: no answer: connection refused (FAIL)" && !refused.passed)
        #expect(throws: InvalidInput.self) { try RedisReplicationObserved(server: "redis://h:1", role: nil) }
        #expect(throws: InvalidInput.self) { try RedisReplicationObserved(server: "redis://h:1", role: "slave") }
        #expect(throws: InvalidInput.self) { try RedisReplicationObserved(server: "redis://h:1", role: "master", masterLinkStatus: "sideways") }
        #expect(throws: InvalidInput.self) { try RedisReplicationObserved(server: "redis://h:1", role: "master", offsetLagBytes: -1) }
    }
}

/// A small seeded generator (SplitMix64), so that a failure can be replayed.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
