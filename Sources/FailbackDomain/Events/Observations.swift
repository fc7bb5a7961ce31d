import FailbackLog

/// A replication lag reading between two sites: typed in (`record lag`), or measured by the
/// PostgreSQL probe (`observe lag`) one of the two ways the runbooks do (see `Method`).
public struct ReplicationLagSampled: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "ReplicationLagSampled"
    public static let schemaVersion = 2

    /// How the lag was measured.
    public enum Method: String, Sendable {
        /// Typed in by a person.
        case manual
        /// On the sender: `replay_lag` from `pg_stat_replication` (the largest over its standbys).
        case senderReplayLag = "pg_stat_replication.replay_lag"
        /// On the standby: `now() - pg_last_xact_replay_timestamp()`.
        case standbyReplayTimestamp = "now() - pg_last_xact_replay_timestamp()"
    }

    /// Nil only when the probe got no reading (see `error`).
    public var lagSeconds: Double?
    /// The site replicated from (the sender).
    public var source: String
    /// The site replicated to (the receiver).
    public var target: String
    public var method: Method
    /// WAL not yet replayed, in bytes (sender: current − replay LSN; standby: received − replayed).
    public var lagBytes: Int?
    /// True when the lag was taken as 0 because nothing is waiting to be replayed, although the
    /// raw measure said otherwise (an idle primary: `replay_lag` goes NULL, and the age of the last
    /// replayed transaction keeps growing with no writes to replay).
    public var idle: Bool?
    /// The raw measure when `idle` replaced it, in seconds (nil when PostgreSQL had none).
    public var rawLagSeconds: Double?
    /// On the standby: whether replay was paused (`pg_is_wal_replay_paused()`).
    public var replayPaused: Bool?
    /// The server asked (its connection string, passwords redacted).
    public var server: String?
    /// Why there is no reading (unreachable, not a standby, no standby connected...).
    public var error: String?

    public init(
        lagSeconds: Double?, source: String, target: String, method: Method = .manual, lagBytes: Int? = nil, idle: Bool? = nil,
        rawLagSeconds: Double? = nil, replayPaused: Bool? = nil, server: String? = nil, error: String? = nil
    ) throws(InvalidInput) {
        self.lagSeconds = try lagSeconds.map { (l) throws(InvalidInput) in try Check.nonNegative(l, "lag seconds") }
        if lagSeconds == nil && error == nil { throw InvalidInput("a lag sample has a value or an error") }
        self.source = try Check.nonEmpty(source, "source site")
        self.target = try Check.nonEmpty(target, "target site")
        self.method = method
        self.lagBytes = lagBytes
        self.idle = idle
        self.rawLagSeconds = rawLagSeconds
        self.replayPaused = replayPaused
        self.server = server
        self.error = error
    }

    public var json: JSONValue {
        .members([
            "lag_seconds": lagSeconds.map(JSONValue.number), "source": .string(source), "target": .string(target),
            "method": .string(method.rawValue), "lag_bytes": lagBytes.map { JSONValue($0) }, "idle": idle.map(JSONValue.bool),
            "raw_lag_seconds": rawLagSeconds.map(JSONValue.number), "replay_paused": replayPaused.map(JSONValue.bool),
            "server": server.map(JSONValue.string), "error": error.map(JSONValue.string),
        ])
    }

    /// Reads versions 1 (`lag_seconds`, `source`, `target`: typed in) and 2.
    public init(reading r: PayloadReader) throws(InvalidInput) {
        let methodName = try r.optionalString("method") ?? Method.manual.rawValue
        guard let method = Method(rawValue: methodName) else { throw InvalidInput("\(Self.eventType): method \(methodName.debugDescription) is unknown") }
        try self.init(
            lagSeconds: r.numberIfAny("lag_seconds"), source: r.string("source"), target: r.string("target"), method: method,
            lagBytes: r.optionalInteger("lag_bytes"), idle: r.optionalBool("idle"), rawLagSeconds: r.numberIfAny("raw_lag_seconds"),
            replayPaused: r.optionalBool("replay_paused"), server: r.optionalString("server"), error: r.optionalString("error"))
    }

    public var summary: String {
        guard let lagSeconds else { return "lag \(source) → \(target): no reading: \(error ?? "?")" }
        return Self.summary(seconds: lagSeconds, source: source, target: target, lagBytes: lagBytes, idle: idle, replayPaused: replayPaused)
    }

    /// The summary of a sample with a reading (also made from a sample read in one pass).
    public static func summary(seconds: Double, source: String, target: String, lagBytes: Int?, idle: Bool?, replayPaused: Bool?) -> String {
        "lag \(formatDuration(seconds)) \(source) → \(target)" + (lagBytes.map { " (\($0) bytes)" } ?? "")
            + (idle == true ? " (idle: nothing to replay)" : "") + (replayPaused == true ? " (replay paused)" : "")
    }
}

/// The number of rows in one table at one site.
public struct RowCountSampled: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "RowCountSampled"
    public static let schemaVersion = 1

    public var table: String
    public var site: String
    public var count: Int

    public init(table: String, site: String, count: Int) throws(InvalidInput) {
        self.table = try Check.nonEmpty(table, "table")
        self.site = try Check.nonEmpty(site, "site")
        self.count = try Check.count(count, "row count")
    }

    public var json: JSONValue { ["count": JSONValue(count), "site": .string(site), "table": .string(table)] }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(table: r.string("table"), site: r.string("site"), count: r.integer("count"))
    }

    public var summary: String { "\(table)@\(site): \(count) rows" }
}

/// The answers a DNS server gave for a name (with their TTLs when the probe asked it), and whether
/// one was the expected value.
public struct DNSAnswerObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "DNSAnswerObserved"
    public static let schemaVersion = 3

    /// When `expected` is meant to hold: `now` (a check whatever the drill's stage), or once the
    /// cutover is done (`afterCutover`: before it, the answer is recorded but judged by nothing,
    /// since the name still answering the old address then is no failure).
    public enum Expectation: String, Sendable, Equatable {
        case now
        case afterCutover = "after-cutover"
    }

    /// One answer record: its value as text (an address, a name, TXT strings) and TTL in seconds.
    public struct Answer: Sendable, Equatable {
        public var value: String
        public var ttl: Int?
        public init(value: String, ttl: Int? = nil) {
            self.value = value
            self.ttl = ttl
        }
    }

    public var name: String
    public var recordType: String
    /// `host:port` of the server asked.
    public var resolver: String
    public var answers: [Answer]
    public var expected: String?
    public var expectation: Expectation = .now
    /// The response code when the probe asked (`NOERROR`, `NXDOMAIN`, `REFUSED`...).
    public var responseCode: String?
    /// `udp`, or `tcp` when the UDP answer was truncated.
    public var transport: String?
    public var latencyMilliseconds: Double?
    /// Why there is no answer (timed out, refused...).
    public var error: String?

    /// True when an expectation was given and one of the answers equals it.
    public var matched: Bool? { expected.map { e in answers.contains { $0.value == e } } }

    public init(
        name: String, recordType: String = "A", resolver: String, answers: [Answer], expected: String?, responseCode: String? = nil,
        transport: String? = nil, latencyMilliseconds: Double? = nil, error: String? = nil
    ) throws(InvalidInput) {
        self.name = try Check.nonEmpty(name, "DNS name")
        self.recordType = try Check.nonEmpty(recordType, "record type").uppercased()
        self.resolver = try Check.nonEmpty(resolver, "resolver")
        self.answers = answers
        self.expected = expected
        self.responseCode = responseCode
        self.transport = transport
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
    }

    /// Answers typed in, without TTLs.
    public init(name: String, recordType: String = "A", resolver: String, answers: [String], expected: String?) throws(InvalidInput) {
        try self.init(name: name, recordType: recordType, resolver: resolver, answers: answers.map { Answer(value: $0) }, expected: expected)
    }

    public var json: JSONValue {
        .members([
            "name": .string(name), "record_type": .string(recordType), "resolver": .string(resolver),
            "answers": .array(answers.map { .members(["value": .string($0.value), "ttl": $0.ttl.map { JSONValue($0) }]) }),
            "expected": expected.map(JSONValue.string), "matched": matched.map(JSONValue.bool),
            "expectation": expected != nil && expectation == .afterCutover ? .string(expectation.rawValue) : nil,
            "rcode": responseCode.map(JSONValue.string), "transport": transport.map(JSONValue.string),
            "latency_ms": latencyMilliseconds.map(JSONValue.number), "error": error.map(JSONValue.string),
        ])
    }

    /// Reads version 1 (answers as strings), 2 (answers as `{value, ttl}`) and 3 (`expectation`).
    public init(reading r: PayloadReader) throws(InvalidInput) {
        var answers: [Answer] = []
        for element in try r.elements("answers") {
            if let text = element.string {
                answers.append(Answer(value: text))
            } else {
                let a = PayloadReader(element, context: "\(Self.eventType) answer")
                answers.append(Answer(value: try a.string("value"), ttl: try a.optionalInteger("ttl")))
            }
        }
        try self.init(
            name: r.string("name"), recordType: r.string("record_type"), resolver: r.string("resolver"), answers: answers,
            expected: r.optionalString("expected"), responseCode: r.optionalString("rcode"), transport: r.optionalString("transport"),
            latencyMilliseconds: r.numberIfAny("latency_ms"), error: r.optionalString("error"))
        if let e = try r.optionalString("expectation") {
            guard let x = Expectation(rawValue: e) else { throw InvalidInput("\(Self.eventType): unknown expectation \"\(e)\"") }
            expectation = x
        }
    }

    public var summary: String {
        let when = expectation == .afterCutover ? " after cutover" : ""
        if let error { return "\(name) \(recordType) @\(resolver): no answer: \(error)" + (expected.map { " (expected\(when) \($0))" } ?? "") }
        let got =
            answers.isEmpty
            ? (responseCode.map { "no answer (\($0))" } ?? "no answer")
            : answers.map { $0.value + ($0.ttl.map { " ttl \($0)s" } ?? "") }.joined(separator: ", ")
        let verdict = expected.map { e in answers.contains { $0.value == e } ? " (matches \(e))" : " (expected\(when) \(e))" } ?? ""
        return "\(name) \(recordType) @\(resolver): \(got)\(verdict)"
    }
}

/// The state of pods as `kubectl get pods -o json` showed it.
public struct PodStatesObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "PodStatesObserved"
    public static let schemaVersion = 2

    /// One pod, reduced to what a failback check needs.
    public struct Pod: Sendable, Equatable {
        public var name: String
        public var namespace: String?
        public var phase: String
        public var readyContainers: Int
        public var totalContainers: Int
        public var restarts: Int
        /// Why containers are not running (`CrashLoopBackOff`, `ImagePullBackOff`, `OOMKilled`...).
        public var reasons: [String]
        public var node: String?

        public init(name: String, namespace: String?, phase: String, readyContainers: Int, totalContainers: Int, restarts: Int, reasons: [String], node: String?) {
            self.name = name
            self.namespace = namespace
            self.phase = phase
            self.readyContainers = readyContainers
            self.totalContainers = totalContainers
            self.restarts = restarts
            self.reasons = reasons
            self.node = node
        }

        /// Running with every container ready.
        public var isReady: Bool { phase == "Running" && totalContainers > 0 && readyContainers == totalContainers }

        var json: JSONValue {
            .members([
                "name": .string(name), "namespace": namespace.map(JSONValue.string), "phase": .string(phase),
                "ready_containers": JSONValue(readyContainers), "total_containers": JSONValue(totalContainers),
                "restarts": JSONValue(restarts), "reasons": .array(reasons.map(JSONValue.string)), "node": node.map(JSONValue.string),
                "ready": .bool(isReady),
            ])
        }
    }

    /// Where the listing came from (a file name, or `-` for standard input).
    public var source: String
    public var pods: [Pod]
    /// Why there is no listing: the command ran past its timeout (version 2).
    public var error: String?

    public init(source: String, pods: [Pod], error: String? = nil) {
        self.source = source
        self.pods = pods
        self.error = error
    }

    /// Every pod ready, and a listing to say so.
    public var passed: Bool { error == nil && readyCount == pods.count }

    public var readyCount: Int { pods.filter(\.isReady).count }

    public var json: JSONValue {
        .members([
            "source": .string(source), "pods": .array(pods.map(\.json)),
            "total": JSONValue(pods.count), "ready": JSONValue(readyCount), "error": error.map(JSONValue.string),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.source = try r.string("source")
        var pods: [Pod] = []
        for element in try r.elements("pods") {
            let p = PayloadReader(element, context: "\(Self.eventType) pod")
            pods.append(
                Pod(
                    name: try p.string("name"), namespace: try p.optionalString("namespace"), phase: try p.string("phase"),
                    readyContainers: try p.integer("ready_containers"), totalContainers: try p.integer("total_containers"),
                    restarts: try p.integer("restarts"), reasons: try p.strings("reasons"), node: try p.optionalString("node")))
        }
        self.pods = pods
        self.error = try r.optionalString("error")
    }

    public var summary: String {
        if let error { return "no pod listing: \(error)" }
        let notReady = pods.filter { !$0.isReady }.map { pod in
            pod.name + (pod.reasons.isEmpty ? " (\(pod.phase))" : " (\(pod.reasons.joined(separator: ", ")))")
        }
        return "\(readyCount)/\(pods.count) pods ready" + (notReady.isEmpty ? "" : "; not ready: " + notReady.joined(separator: "; "))
    }
}

/// A health or smoke check against an endpoint: its HTTP status and latency, or why it got none.
/// Recorded by hand (`record health`) or by the HTTP probe (`observe http`).
public struct HealthCheckObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "HealthCheckObserved"
    public static let schemaVersion = 2

    public var target: String
    /// Nil when no response came (see `error`).
    public var status: Int?
    public var latencyMilliseconds: Double?
    /// The status that counts as a pass; without one, any 2xx passes.
    public var expectedStatus: Int?
    /// Text the response body must contain, and whether it did.
    public var expectedBody: String?
    public var bodyMatched: Bool?
    /// Why there was no response (connection refused, timeout...).
    public var error: String?

    public var passed: Bool {
        guard let status, error == nil else { return false }
        let statusOK = expectedStatus.map { $0 == status } ?? (200..<300).contains(status)
        return statusOK && (bodyMatched ?? true)
    }

    public init(
        target: String, status: Int?, latencyMilliseconds: Double?, expectedStatus: Int? = nil,
        expectedBody: String? = nil, bodyMatched: Bool? = nil, error: String? = nil
    ) throws(InvalidInput) {
        self.target = try Check.nonEmpty(target, "target")
        if let status, !(100...599).contains(status) { throw InvalidInput("HTTP status must be from 100 to 599, got \(status)") }
        if let e = expectedStatus, !(100...599).contains(e) { throw InvalidInput("expected HTTP status must be from 100 to 599, got \(e)") }
        if status == nil && error == nil { throw InvalidInput("a health check has a status or an error") }
        self.status = status
        self.latencyMilliseconds = try latencyMilliseconds.map { (l) throws(InvalidInput) in try Check.nonNegative(l, "latency (ms)") }
        self.expectedStatus = expectedStatus
        self.expectedBody = expectedBody
        self.bodyMatched = bodyMatched
        self.error = error
    }

    /// A check that got no response: its error (never empty) instead of a status.
    public init(failedTarget target: String, expectedStatus: Int?, expectedBody: String?, error: String) {
        self.target = target
        self.status = nil
        self.latencyMilliseconds = nil
        self.expectedStatus = expectedStatus.flatMap { (100...599).contains($0) ? $0 : nil }
        self.expectedBody = expectedBody
        self.bodyMatched = nil
        self.error = error.isEmpty ? "no response" : error
    }

    public var json: JSONValue {
        .members([
            "target": .string(target), "status": status.map { JSONValue($0) }, "latency_ms": latencyMilliseconds.map(JSONValue.number),
            "expected_status": expectedStatus.map { JSONValue($0) }, "expected_body": expectedBody.map(JSONValue.string),
            "body_matched": bodyMatched.map(JSONValue.bool), "error": error.map(JSONValue.string), "passed": .bool(passed),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(
            target: r.string("target"), status: r.optionalInteger("status"),
            latencyMilliseconds: r.numberIfAny("latency_ms"), expectedStatus: r.optionalInteger("expected_status"),
            expectedBody: r.optionalString("expected_body"), bodyMatched: r.optionalBool("body_matched"), error: r.optionalString("error"))
    }

    public var summary: String {
        guard let status else { return "\(target) → no response: \(error ?? "?") (FAIL)" }
        return "\(target) → \(status)" + (latencyMilliseconds.map { " in \(trimmed($0))ms" } ?? "")
            + (bodyMatched == false ? ", body lacks \"\(expectedBody ?? "")\"" : "") + " (\(passed ? "pass" : "FAIL"))"
    }
}

/// Row counts of the same tables at two sites, compared: both counts and the difference.
public struct RowCountsCompared: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "RowCountsCompared"
    public static let schemaVersion = 1

    /// One table: its count at each site (nil when it could not be counted) and target − source.
    public struct Table: Sendable, Equatable {
        public var table: String
        public var sourceCount: Int?
        public var targetCount: Int?
        public var error: String?
        public var delta: Int? { sourceCount.flatMap { s in targetCount.map { $0 - s } } }
        public var matched: Bool { delta == 0 }

        public init(table: String, sourceCount: Int?, targetCount: Int?, error: String? = nil) {
            self.table = table
            self.sourceCount = sourceCount
            self.targetCount = targetCount
            self.error = error
        }
    }

    public var source: String
    public var target: String
    public var tables: [Table]
    /// Why the comparison could not be made at all (a site unreachable...).
    public var error: String?

    public var matched: Bool { error == nil && !tables.isEmpty && tables.allSatisfy(\.matched) }
    /// The largest difference, in absolute value, over the tables counted on both sites.
    public var largestDelta: Int? { tables.compactMap(\.delta).map(abs).max() }

    public init(source: String, target: String, tables: [Table], error: String? = nil) throws(InvalidInput) {
        self.source = try Check.nonEmpty(source, "source site")
        self.target = try Check.nonEmpty(target, "target site")
        for t in tables {
            _ = try Check.nonEmpty(t.table, "table")
            if let c = t.sourceCount { _ = try Check.count(c, "row count") }
            if let c = t.targetCount { _ = try Check.count(c, "row count") }
            // What the comparison says of a table: both counts, or why not (unless it failed whole).
            if error == nil, t.error == nil, t.sourceCount == nil || t.targetCount == nil {
                throw InvalidInput("table \(t.table.debugDescription) has neither both counts nor an error")
            }
        }
        self.tables = tables
        self.error = error
    }

    public var json: JSONValue {
        .members([
            "source": .string(source), "target": .string(target),
            "tables": .array(
                tables.map { t in
                    .members([
                        "table": .string(t.table), "source_count": t.sourceCount.map { JSONValue($0) }, "target_count": t.targetCount.map { JSONValue($0) },
                        "delta": t.delta.map { JSONValue($0) }, "matched": .bool(t.matched), "error": t.error.map(JSONValue.string),
                    ])
                }),
            "matched": .bool(matched), "error": error.map(JSONValue.string),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        var tables: [Table] = []
        for element in try r.elements("tables") {
            let t = PayloadReader(element, context: "\(Self.eventType) table")
            tables.append(
                Table(
                    table: try t.string("table"), sourceCount: try t.optionalInteger("source_count"), targetCount: try t.optionalInteger("target_count"),
                    error: try t.optionalString("error")))
        }
        try self.init(source: r.string("source"), target: r.string("target"), tables: tables, error: r.optionalString("error"))
    }

    public var summary: String {
        if let error { return "row counts \(source) vs \(target): \(error)" }
        let parts = tables.map { t in
            if let e = t.error { return "\(t.table) (\(e))" }
            guard let source = t.sourceCount, let target = t.targetCount else { return "\(t.table) (not counted)" }
            return "\(t.table) \(source) vs \(target)" + (t.matched ? "" : " (Δ \(target - source))")
        }
        return "row counts \(source) vs \(target): " + parts.joined(separator: ", ") + (matched ? " (equal)" : " (DIFFER)")
    }
}

/// Whether a PostgreSQL server was in recovery (a standby) or not (a primary): `pg_is_in_recovery()`.
public struct RecoveryStateObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "RecoveryStateObserved"
    public static let schemaVersion = 1

    /// The server asked (its connection string, passwords redacted), or a site name.
    public var server: String
    /// Nil when the server could not be asked (see `error`).
    public var inRecovery: Bool?
    /// The state that passes: `primary` or `standby`.
    public var expected: String?
    public var error: String?

    public var role: String? { inRecovery.map { $0 ? "standby" : "primary" } }
    public var passed: Bool { error == nil && role != nil && (expected.map { $0 == role } ?? true) }

    public init(server: String, inRecovery: Bool?, expected: String? = nil, error: String? = nil) throws(InvalidInput) {
        self.server = try Check.nonEmpty(server, "server")
        if let expected, expected != "primary" && expected != "standby" { throw InvalidInput("expected role must be primary or standby, got \(expected.debugDescription)") }
        if inRecovery == nil && error == nil { throw InvalidInput("a recovery observation has a state or an error") }
        self.inRecovery = inRecovery
        self.expected = expected
        self.error = error
    }

    public var json: JSONValue {
        .members([
            "server": .string(server), "in_recovery": inRecovery.map(JSONValue.bool), "role": role.map(JSONValue.string),
            "expected": expected.map(JSONValue.string), "passed": .bool(passed), "error": error.map(JSONValue.string),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(server: r.string("server"), inRecovery: r.optionalBool("in_recovery"), expected: r.optionalString("expected"), error: r.optionalString("error"))
    }

    public var summary: String {
        guard let role else { return "\(server): no answer: \(error ?? "?")" + (expected.map { " (expected \($0), FAIL)" } ?? "") }
        return "\(server): \(role) (pg_is_in_recovery = \(inRecovery!))" + (expected.map { $0 == role ? " (pass)" : " (expected \($0), FAIL)" } ?? "")
    }
}

/// A Redis server's replication as `INFO replication` showed it: its role, for a replica its link
/// to the master and how far behind it is (bytes of the replication stream), for a master its
/// connected replicas and the largest lag among them, and the PING round trip. Recorded by
/// `observe redis`; an unreachable or failing server is recorded with its error.
public struct RedisReplicationObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "RedisReplicationObserved"
    public static let schemaVersion = 1

    public static let roles = ["master", "replica"]

    /// A replica as its master lists it (`slaveN:ip=...,port=...,state=...,offset=...`).
    public struct Replica: Sendable, Equatable {
        /// `ip:port`.
        public var address: String
        public var state: String
        /// The replication offset the replica last acknowledged (nil when the master's line had none).
        public var offset: Int?
        public init(address: String, state: String, offset: Int?) {
            self.address = address
            self.state = state
            self.offset = offset
        }
    }

    /// The server asked: its URL without credentials (`redis://127.0.0.1:6379`).
    public var server: String
    /// `master` or `replica` (Redis says `slave`); nil when the server could not be asked.
    public var role: String?
    /// The role that passes.
    public var expected: String?
    /// A replica's master (`host:port`) and the state of its link to it (`up` or `down`).
    public var master: String?
    public var masterLinkStatus: String?
    public var connectedReplicas: Int?
    /// A master's replicas, as it lists them.
    public var replicas: [Replica]?
    /// The server's own offset: `master_repl_offset` on a master, `slave_repl_offset` on a replica.
    public var replicationOffset: Int?
    /// A replica's master's `master_repl_offset`, asked of the master after the replica.
    public var masterReplicationOffset: Int?
    /// Bytes of the replication stream not yet at the replica (for a master: the largest over its
    /// replicas, from the offsets they acknowledged).
    public var offsetLagBytes: Int?
    /// Why a replica's lag is not known (its master could not be asked).
    public var offsetLagError: String?
    /// The PING round trip, in milliseconds.
    public var pingMilliseconds: Double?
    /// Why the server could not be asked (refused, timed out, an error reply...).
    public var error: String?

    /// It answered, with the expected role if one was given, and a replica's link is up.
    public var passed: Bool {
        guard error == nil, let role else { return false }
        if let expected, expected != role { return false }
        return role != "replica" || masterLinkStatus == "up"
    }

    public init(
        server: String, role: String?, expected: String? = nil, master: String? = nil, masterLinkStatus: String? = nil,
        connectedReplicas: Int? = nil, replicas: [Replica]? = nil, replicationOffset: Int? = nil, masterReplicationOffset: Int? = nil,
        offsetLagBytes: Int? = nil, offsetLagError: String? = nil, pingMilliseconds: Double? = nil, error: String? = nil
    ) throws(InvalidInput) {
        self.server = try Check.nonEmpty(server, "server")
        if let role, !Self.roles.contains(role) { throw InvalidInput("Redis role must be master or replica, got \(role.debugDescription)") }
        if let expected, !Self.roles.contains(expected) { throw InvalidInput("expected Redis role must be master or replica, got \(expected.debugDescription)") }
        if role == nil && error == nil { throw InvalidInput("a Redis observation has a role or an error") }
        if let s = masterLinkStatus, s != "up" && s != "down" { throw InvalidInput("master_link_status must be up or down, got \(s.debugDescription)") }
        for (value, name) in [
            (connectedReplicas, "connected replicas"), (replicationOffset, "replication offset"),
            (masterReplicationOffset, "master replication offset"), (offsetLagBytes, "offset lag"),
        ] {
            if let value { _ = try Check.count(value, name) }
        }
        for r in replicas ?? [] {
            _ = try Check.nonEmpty(r.address, "replica address")
            if let offset = r.offset { _ = try Check.count(offset, "replica offset") }
        }
        self.role = role
        self.expected = expected
        self.master = master
        self.masterLinkStatus = masterLinkStatus
        self.connectedReplicas = connectedReplicas
        self.replicas = replicas
        self.replicationOffset = replicationOffset
        self.masterReplicationOffset = masterReplicationOffset
        self.offsetLagBytes = offsetLagBytes
        self.offsetLagError = offsetLagError
        self.pingMilliseconds = try pingMilliseconds.map { (l) throws(InvalidInput) in try Check.nonNegative(l, "PING latency (ms)") }
        self.error = error
    }

    public var json: JSONValue {
        .members([
            "server": .string(server), "role": role.map(JSONValue.string), "expected": expected.map(JSONValue.string),
            "master": master.map(JSONValue.string), "master_link_status": masterLinkStatus.map(JSONValue.string),
            "connected_replicas": connectedReplicas.map { JSONValue($0) },
            "replicas": replicas.map { list in
                .array(list.map { .members(["address": .string($0.address), "state": .string($0.state), "offset": $0.offset.map { JSONValue($0) }]) })
            },
            "repl_offset": replicationOffset.map { JSONValue($0) }, "master_repl_offset": masterReplicationOffset.map { JSONValue($0) },
            "offset_lag_bytes": offsetLagBytes.map { JSONValue($0) }, "offset_lag_error": offsetLagError.map(JSONValue.string),
            "ping_ms": pingMilliseconds.map(JSONValue.number), "passed": .bool(passed), "error": error.map(JSONValue.string),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        var replicas: [Replica]?
        if r.value("replicas") != nil {
            replicas = []
            for element in try r.elements("replicas") {
                let p = PayloadReader(element, context: "\(Self.eventType) replica")
                replicas?.append(Replica(address: try p.string("address"), state: try p.string("state"), offset: try p.optionalInteger("offset")))
            }
        }
        try self.init(
            server: r.string("server"), role: r.optionalString("role"), expected: r.optionalString("expected"), master: r.optionalString("master"),
            masterLinkStatus: r.optionalString("master_link_status"), connectedReplicas: r.optionalInteger("connected_replicas"),
            replicas: replicas, replicationOffset: r.optionalInteger("repl_offset"), masterReplicationOffset: r.optionalInteger("master_repl_offset"),
            offsetLagBytes: r.optionalInteger("offset_lag_bytes"), offsetLagError: r.optionalString("offset_lag_error"),
            pingMilliseconds: r.numberIfAny("ping_ms"), error: r.optionalString("error"))
    }

    public var summary: String {
        let verdict: String
        if passed {
            verdict = " (pass)"
        } else if let expected, role != expected {
            verdict = " (expected \(expected), FAIL)"
        } else {
            verdict = " (FAIL)"
        }
        guard let role else { return "\(server): no answer: \(error ?? "?")" + verdict }
        var parts = [role == "replica" ? "replica" + (master.map { " of \($0)" } ?? "") : "master"]
        if role == "replica" { parts.append("link \(masterLinkStatus ?? "?")") }
        if role == "master" || (connectedReplicas ?? 0) > 0 {
            let n = connectedReplicas ?? replicas?.count ?? 0
            parts.append("\(n) replica\(n == 1 ? "" : "s") connected")
        }
        if let lag = offsetLagBytes { parts.append("offset lag \(lag) bytes") } else if let e = offsetLagError { parts.append("offset lag unknown: \(e)") }
        if let ping = pingMilliseconds { parts.append("PING \(trimmed(ping))ms") }
        if let error { parts.append("error: \(error)") }
        return "\(server): " + parts.joined(separator: ", ") + verdict
    }
}
