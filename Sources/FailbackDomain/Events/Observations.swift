import FailbackLog

/// A replication lag reading between two sites.
public struct ReplicationLagSampled: EventPayload, Equatable {
    public static let eventType = "ReplicationLagSampled"
    public static let schemaVersion = 1

    public var lagSeconds: Double
    /// The site replicated from (the sender).
    public var source: String
    /// The site replicated to (the receiver).
    public var target: String

    public init(lagSeconds: Double, source: String, target: String) throws(InvalidInput) {
        self.lagSeconds = try Check.nonNegative(lagSeconds, "lag seconds")
        self.source = try Check.nonEmpty(source, "source site")
        self.target = try Check.nonEmpty(target, "target site")
    }

    public var json: JSONValue { ["lag_seconds": .number(lagSeconds), "source": .string(source), "target": .string(target)] }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        try self.init(lagSeconds: r.number("lag_seconds"), source: r.string("source"), target: r.string("target"))
    }

    public var summary: String { "lag \(formatSeconds(lagSeconds)) \(source) → \(target)" }
}

/// The number of rows in one table at one site.
public struct RowCountSampled: EventPayload, Equatable {
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

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        try self.init(table: r.string("table"), site: r.string("site"), count: r.integer("count"))
    }

    public var summary: String { "\(table)@\(site): \(count) rows" }
}

/// The answers a DNS resolver gave for a name, and whether they were the expected ones.
public struct DNSAnswerObserved: EventPayload, Equatable {
    public static let eventType = "DNSAnswerObserved"
    public static let schemaVersion = 1

    public var name: String
    public var recordType: String
    /// `host:port` of the server asked.
    public var resolver: String
    public var answers: [String]
    public var expected: String?

    /// True when an expectation was given and one of the answers equals it.
    public var matched: Bool? { expected.map { answers.contains($0) } }

    public init(name: String, recordType: String = "A", resolver: String, answers: [String], expected: String?) throws(InvalidInput) {
        self.name = try Check.nonEmpty(name, "DNS name")
        self.recordType = try Check.nonEmpty(recordType, "record type").uppercased()
        self.resolver = try Check.nonEmpty(resolver, "resolver")
        self.answers = answers
        self.expected = expected
    }

    public var json: JSONValue {
        .members([
            "name": .string(name), "record_type": .string(recordType), "resolver": .string(resolver),
            "answers": .array(answers.map(JSONValue.string)), "expected": expected.map(JSONValue.string), "matched": matched.map(JSONValue.bool),
        ])
    }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        try self.init(
            name: r.string("name"), recordType: r.string("record_type"), resolver: r.string("resolver"),
            answers: r.strings("answers"), expected: r.optionalString("expected"))
    }

    public var summary: String {
        let got = answers.isEmpty ? "no answer" : answers.joined(separator: ", ")
        let verdict = matched.map { $0 ? " (matches \(expected!))" : " (expected \(expected!))" } ?? ""
        return "\(name) \(recordType) @\(resolver): \(got)\(verdict)"
    }
}

/// The state of pods as `kubectl get pods -o json` showed it.
public struct PodStatesObserved: EventPayload, Equatable {
    public static let eventType = "PodStatesObserved"
    public static let schemaVersion = 1

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

    public init(source: String, pods: [Pod]) {
        self.source = source
        self.pods = pods
    }

    public var readyCount: Int { pods.filter(\.isReady).count }

    public var json: JSONValue {
        [
            "source": .string(source), "pods": .array(pods.map(\.json)),
            "total": JSONValue(pods.count), "ready": JSONValue(readyCount),
        ]
    }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        self.source = try r.string("source")
        var pods: [Pod] = []
        for element in try r.array("pods") {
            let p = PayloadReader(element, context: "\(Self.eventType) pod")
            pods.append(Pod(
                name: try p.string("name"), namespace: try p.optionalString("namespace"), phase: try p.string("phase"),
                readyContainers: try p.integer("ready_containers"), totalContainers: try p.integer("total_containers"),
                restarts: try p.integer("restarts"), reasons: try p.strings("reasons"), node: try p.optionalString("node")))
        }
        self.pods = pods
    }

    public var summary: String {
        let notReady = pods.filter { !$0.isReady }.map { pod in
            pod.name + (pod.reasons.isEmpty ? " (\(pod.phase))" : " (\(pod.reasons.joined(separator: ", ")))")
        }
        return "\(readyCount)/\(pods.count) pods ready" + (notReady.isEmpty ? "" : "; not ready: " + notReady.joined(separator: "; "))
    }
}

/// A health or smoke check against an endpoint: its HTTP status and latency, or why it got none.
/// Recorded by hand (`record health`) or by the HTTP probe (`observe http`).
public struct HealthCheckObserved: EventPayload, Equatable {
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

    public init(target: String, status: Int?, latencyMilliseconds: Double?, expectedStatus: Int? = nil,
                expectedBody: String? = nil, bodyMatched: Bool? = nil, error: String? = nil) throws(InvalidInput) {
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

    public var json: JSONValue {
        .members([
            "target": .string(target), "status": status.map { JSONValue($0) }, "latency_ms": latencyMilliseconds.map(JSONValue.number),
            "expected_status": expectedStatus.map { JSONValue($0) }, "expected_body": expectedBody.map(JSONValue.string),
            "body_matched": bodyMatched.map(JSONValue.bool), "error": error.map(JSONValue.string), "passed": .bool(passed),
        ])
    }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        try self.init(
            target: r.string("target"), status: r.optionalInteger("status"),
            latencyMilliseconds: json["latency_ms"]?.numberValue, expectedStatus: r.optionalInteger("expected_status"),
            expectedBody: r.optionalString("expected_body"), bodyMatched: r.optionalBool("body_matched"), error: r.optionalString("error"))
    }

    public var summary: String {
        guard let status else { return "\(target) → no response: \(error ?? "?") (FAIL)" }
        return "\(target) → \(status)" + (latencyMilliseconds.map { " in \(trimmed($0))ms" } ?? "")
            + (bodyMatched == false ? ", body lacks \"\(expectedBody ?? "")\"" : "") + " (\(passed ? "pass" : "FAIL"))"
    }
}
