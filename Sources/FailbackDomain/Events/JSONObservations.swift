import FailbackLog

/// Values read out of what a command printed as JSON (`observe json`): the command, how it ended,
/// each named value with the path it was read at, and the verdict of each condition, or why there
/// are no values (the command failed, timed out, printed no JSON, or a path matched nothing).
public struct JSONValuesObserved: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "JSONValuesObserved"
    public static let schemaVersion = 1

    /// One condition over the values (`messages>0`, `status=ACTIVE`, `events=empty`) and whether it held.
    public struct Condition: Sendable, Equatable {
        public var condition: String
        public var met: Bool
        public init(condition: String, met: Bool) {
            self.condition = condition
            self.met = met
        }

        var json: JSONValue { ["condition": .string(condition), "met": .bool(met)] }

        /// `condition ✓` or `condition ✗`, as summaries show it.
        var shown: String { "\(condition) \(met ? "✓" : "✗")" }

        /// The `conditions` member of a payload of `type`.
        static func list(_ r: PayloadReader, of type: String) throws(InvalidInput) -> [Condition] {
            var out: [Condition] = []
            for element in try r.elements("conditions") {
                let c = PayloadReader(element, context: "\(type) condition")
                guard let met = try c.optionalBool("met") else { throw InvalidInput("\(type) condition: member \"met\" is missing") }
                out.append(Condition(condition: try c.string("condition"), met: met))
            }
            return out
        }

        /// `` or ` (a ✓, b ✗)`: the verdicts after a summary's values.
        static func shown(_ list: [Condition]) -> String { list.isEmpty ? "" : " (" + list.map(\.shown).joined(separator: ", ") + ")" }
    }

    /// What the check is called (`--name`, else the command).
    public var name: String
    public var argv: [String]
    /// The command's exit status (nil when it was killed or could not start).
    public var exitStatus: Int?
    /// Each value's path (`.state.messages`), by the value's name.
    public var paths: [String: String]
    /// Each value read, by name (absent for a path that matched nothing, or when `error` says why
    /// there are none).
    public var values: [String: JSONValue]
    public var conditions: [Condition]
    /// The size and SHA-256 (hex) of what the command printed on standard output.
    public var stdoutBytes: Int
    public var stdoutSHA256: String
    public var error: String?

    public init(
        name: String, argv: [String], exitStatus: Int?, paths: [String: String], values: [String: JSONValue], conditions: [Condition], stdoutBytes: Int,
        stdoutSHA256: String, error: String?
    ) {
        self.name = name
        self.argv = argv
        self.exitStatus = exitStatus
        self.paths = paths
        self.values = values
        self.conditions = conditions
        self.stdoutBytes = stdoutBytes
        self.stdoutSHA256 = stdoutSHA256
        self.error = error
    }

    /// Values were read, and every condition held.
    public var passed: Bool { error == nil && conditions.allSatisfy(\.met) }

    /// A value read from under a member whose name says it holds a secret (`.data.password`,
    /// `.auth.client_token`, `.SecretString`) is one, whatever the value's own name: the path's
    /// member names are judged as a payload's members are. (`| length` counts, and is kept.)
    public var secretMembers: [(path: [String], kind: String)] {
        paths.keys.sorted().compactMap { name -> (path: [String], kind: String)? in
            guard let path = paths[name], values[name] != nil, !path.hasSuffix("length") else { return nil }
            let words = path.split { !($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }.map(String.init)
            guard let kind = words.lazy.compactMap({ Redactor.memberKind($0) }).first else { return nil }
            return (["values", name], kind)
        }
    }

    public var json: JSONValue {
        .members([
            "name": .string(name), "argv": .array(argv.map(JSONValue.string)), "exit_status": exitStatus.map { JSONValue($0) },
            "paths": .object(paths.mapValues(JSONValue.string)), "values": .object(values), "conditions": .array(conditions.map(\.json)),
            "stdout_bytes": JSONValue(stdoutBytes), "stdout_sha256": .string(stdoutSHA256), "error": error.map(JSONValue.string), "passed": .bool(passed),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        name = try r.string("name")
        argv = try r.strings("argv")
        exitStatus = try r.optionalInteger("exit_status")
        var paths: [String: String] = [:]
        for (k, v) in r.value("paths")?.objectValue ?? [:] {
            guard let s = v.stringValue else { throw InvalidInput("\(Self.eventType): paths.\(k) is not a string") }
            paths[k] = s
        }
        self.paths = paths
        values = r.value("values")?.objectValue ?? [:]
        conditions = try Condition.list(r, of: Self.eventType)
        stdoutBytes = try r.integer("stdout_bytes")
        stdoutSHA256 = try r.string("stdout_sha256")
        error = try r.optionalString("error")
    }

    public func validate() throws(InvalidInput) {
        _ = try Check.nonEmpty(name, "name")
        guard !argv.isEmpty else { throw InvalidInput("a JSON observation needs the command it ran") }
        _ = try Check.count(stdoutBytes, "stdout bytes")
        for name in values.keys where paths[name] == nil { throw InvalidInput("value \(name.debugDescription) has no path") }
    }

    /// `name: messages=1204, state="ok" (messages>0 ✓)`, or the error.
    public var summary: String {
        if let error { return "\(name): \(error)" }
        let shown = paths.keys.sorted().map { key in
            "\(key)=" + (values[key].map { Self.shown($0) } ?? "(no match)")
        }
        return "\(name): " + shown.joined(separator: ", ") + Condition.shown(conditions)
    }

    /// A value as one short piece of text: its canonical JSON, cut at 80 characters.
    static func shown(_ value: JSONValue) -> String {
        let text = CanonicalJSON.string(value)
        return text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}

/// A PromQL query Prometheus evaluated (`observe prometheus`, its HTTP API's instant query): the
/// server, the query, each series' labels and value at the evaluation time, and the verdict of each
/// condition over the values; or why there is no result (no answer, a bad query).
public struct PrometheusQueryEvaluated: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "PrometheusQueryEvaluated"
    public static let schemaVersion = 1

    /// One series of the result: its labels and its value (a number; `NaN`, `+Inf` and `-Inf` are
    /// kept as the strings Prometheus wrote).
    public struct Series: Sendable, Equatable {
        public var labels: [String: String]
        public var value: JSONValue
        public init(labels: [String: String], value: JSONValue) {
            self.labels = labels
            self.value = value
        }
    }

    /// What the check is called (`--name`, else the query).
    public var name: String
    /// The server's URL, without credentials.
    public var server: String
    public var query: String
    /// `vector`, `scalar`, `matrix` or `string` (nil when there is no result).
    public var resultType: String?
    /// The evaluation time Prometheus gave, in milliseconds since the epoch.
    public var evaluatedAtMilliseconds: Int?
    public var series: [Series]
    public var conditions: [JSONValuesObserved.Condition]
    public var latencyMilliseconds: Double?
    public var error: String?
    /// Warnings Prometheus gave with its answer (a partial response, say): the result may be
    /// incomplete, so it is no pass.
    public var warnings: [String]

    public init(
        name: String, server: String, query: String, resultType: String?, evaluatedAtMilliseconds: Int?, series: [Series],
        conditions: [JSONValuesObserved.Condition], latencyMilliseconds: Double?, error: String?, warnings: [String] = []
    ) {
        self.name = name
        self.server = server
        self.query = query
        self.resultType = resultType
        self.evaluatedAtMilliseconds = evaluatedAtMilliseconds
        self.series = series
        self.conditions = conditions
        self.latencyMilliseconds = latencyMilliseconds
        self.error = error
        self.warnings = warnings
    }

    /// A result with at least one series came, without warnings, and every condition held (no
    /// data, or data Prometheus warns may be partial, is no pass).
    public var passed: Bool { error == nil && !series.isEmpty && warnings.isEmpty && conditions.allSatisfy(\.met) }

    public var json: JSONValue {
        .members([
            "name": .string(name), "server": .string(server), "query": .string(query), "result_type": resultType.map(JSONValue.string),
            "evaluated_at_ms": evaluatedAtMilliseconds.map { JSONValue($0) },
            "series": .array(series.map { ["labels": .object($0.labels.mapValues(JSONValue.string)), "value": $0.value] }),
            "conditions": .array(conditions.map(\.json)),
            "latency_ms": latencyMilliseconds.map(JSONValue.number), "error": error.map(JSONValue.string), "passed": .bool(passed),
            "warnings": warnings.isEmpty ? nil : .array(warnings.map(JSONValue.string)),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        name = try r.string("name")
        warnings = r.value("warnings")?.arrayValue?.compactMap(\.stringValue) ?? []
        server = try r.string("server")
        query = try r.string("query")
        resultType = try r.optionalString("result_type")
        evaluatedAtMilliseconds = try r.optionalInteger("evaluated_at_ms")
        var series: [Series] = []
        for element in try r.elements("series") {
            let s = PayloadReader(element, context: "\(Self.eventType) series")
            var labels: [String: String] = [:]
            for (k, v) in s.value("labels")?.objectValue ?? [:] {
                guard let text = v.stringValue else { throw InvalidInput("\(Self.eventType) series: label \(k) is not a string") }
                labels[k] = text
            }
            series.append(Series(labels: labels, value: s.value("value") ?? .null))
        }
        self.series = series
        conditions = try JSONValuesObserved.Condition.list(r, of: Self.eventType)
        latencyMilliseconds = r.numberIfAny("latency_ms")
        error = try r.optionalString("error")
    }

    public func validate() throws(InvalidInput) {
        _ = try Check.nonEmpty(name, "name")
        try FieldCheck.httpURL(server, "Prometheus URL")
        _ = try Check.nonEmpty(query, "query")
        if let l = latencyMilliseconds { _ = try Check.nonNegative(l, "latency (ms)") }
    }

    /// `error rate: 0.3 (value<0.001 ✗)`; several series by their labels; or the error.
    public var summary: String {
        if let error { return "\(name): \(error)" }
        let values: String
        switch series.count {
        case 0: values = "no series"
        case 1 where series[0].labels.isEmpty: values = JSONValuesObserved.shown(series[0].value)
        default:
            values =
                series.prefix(5).map { s in
                    "{" + s.labels.keys.sorted().map { "\($0)=\(s.labels[$0] ?? "")" }.joined(separator: ",") + "} " + JSONValuesObserved.shown(s.value)
                }.joined(separator: "; ") + (series.count > 5 ? "; … (\(series.count) series)" : "")
        }
        return "\(name): " + values + JSONValuesObserved.Condition.shown(conditions)
            + (warnings.isEmpty ? "" : "; Prometheus warns: " + warnings.joined(separator: "; "))
    }
}
