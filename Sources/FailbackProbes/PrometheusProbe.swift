import FailbackDomain
import FailbackLog

/// The Prometheus probe: one instant query through Prometheus's HTTP API (`POST
/// /api/v1/query`, the query form-encoded), by `Curl`; the result's series and the verdict of each
/// condition over their values (`JSONCondition`, over the name `value`: one series' value, or
/// every series' when there are several).
public enum PrometheusProbe {
    /// The one name conditions use.
    public static let names: Set<String> = ["value"]

    /// `url` without user information (`http://user:pass@host` → `http://host`) and without a
    /// trailing slash: what the event records.
    public static func recorded(_ url: String) -> String {
        var out = FieldCheck.withoutCredentials(url)
        while out.hasSuffix("/") { out.removeLast() }
        return out
    }

    /// Asks `server` (an http(s) URL, checked by the caller) to evaluate `query` now.
    public static func check(
        name: String?, server: String, query: String, expect: [JSONCondition], until: JSONCondition?, timeout: Double, bodyLimit: Int
    ) -> ProbeSample {
        let shownServer = recorded(server)
        var base = server
        while base.hasSuffix("/") { base.removeLast() }
        func sample(
            _ series: [PrometheusQueryEvaluated.Series], resultType: String?, at: Int?, latency: Double?, error: String?, warnings: [String] = []
        ) -> ProbeSample {
            // The value conditions read: one series' value, or all of them (each must hold); with
            // no series, none (and no condition holds). (Spelled out: a bare `nil` beside a
            // JSONValue would be JSON's null, which conditions can meet.)
            var read: [String: JSONValue] = [:]
            if series.count == 1 { read["value"] = series[0].value } else if series.count > 1 { read["value"] = .array(series.map(\.value)) }
            let conditions = expect.map { JSONValuesObserved.Condition(condition: $0.text, met: error == nil && $0.holds(in: read)) }
            let event = PrometheusQueryEvaluated(
                name: name ?? query, server: shownServer, query: query, resultType: resultType, evaluatedAtMilliseconds: at, series: series,
                conditions: conditions, latencyMilliseconds: latency, error: error, warnings: warnings)
            var numbers: [String: Double] = [:]
            if series.count == 1, let n = JSONCondition.numeric(series[0].value) { numbers["value"] = n }
            var judged: [String: Bool] = [:]
            if let until { judged[until.text] = error == nil && until.holds(in: read) }
            return ProbeSample(payload: event, passed: event.passed, values: numbers, judged: judged)
        }
        let response: Curl.Response
        switch Curl.request(base + "/api/v1/query", form: [("query", query)], timeout: timeout, bodyLimit: bodyLimit) {
        case .success(let r): response = r
        case .failure(let e): return sample([], resultType: nil, at: nil, latency: nil, error: e.message)
        }
        let latency = response.latencyMilliseconds
        guard let answer = try? JSONParser.parse(response.body), case .object = answer else {
            let why: String
            switch JSONProbe.parseJSONOrLines(response.body) {
            case .failure(let e): why = e.message.hasPrefix("printed ") ? String(e.message.dropFirst("printed ".count)) : e.message
            case .success: why = "not one JSON object"
            }
            return sample([], resultType: nil, at: nil, latency: latency, error: "HTTP \(response.status): not an answer of Prometheus's API: \(why)")
        }
        let warnings = (answer["warnings"]?.arrayValue ?? []).map { $0.stringValue ?? CanonicalJSON.string($0) }
        guard answer["status"]?.stringValue == "success" else {
            let kind = answer["errorType"]?.stringValue ?? "HTTP \(response.status)"
            return sample([], resultType: nil, at: nil, latency: latency, error: "\(kind): \(answer["error"]?.stringValue ?? "no error given")")
        }
        guard let data = answer["data"], let type = data["resultType"]?.stringValue, let result = data["result"] else {
            return sample([], resultType: nil, at: nil, latency: latency, error: "the answer has no data.resultType and data.result")
        }
        /// `[time, "value"]`: the time in milliseconds (a time Prometheus could have given: from
        /// year 0 to 9999), and the value: a number when the text is one in decimal (as Prometheus
        /// writes them), else the text as written (`NaN`, `+Inf`, `-Inf`, a string result).
        func point(_ p: JSONValue?) -> (Int, JSONValue)? {
            guard case .array(let pair)? = p, pair.count == 2, let t = pair[0].numberValue, t.isFinite, abs(t) < 253_402_300_800,
                let text = pair[1].stringValue
            else { return nil }
            let value: JSONValue
            if type != "string", let number = JSONCondition.decimalNumber(text) { value = .number(number) } else { value = .string(text) }
            return (Int((t * 1000).rounded()), value)
        }
        var series: [PrometheusQueryEvaluated.Series] = []
        var at: Int?
        switch (type, result) {
        case ("vector", .array(let elements)):
            for e in elements {
                guard let (t, v) = point(e["value"]) else { return sample([], resultType: type, at: nil, latency: latency, error: "a series without a [time, value]") }
                var labels: [String: String] = [:]
                for (k, l) in e["metric"]?.objectValue ?? [:] { labels[k] = l.stringValue ?? CanonicalJSON.string(l) }
                series.append(.init(labels: labels, value: v))
                at = t
            }
        case ("scalar", _), ("string", _):
            guard let (t, v) = point(result) else { return sample([], resultType: type, at: nil, latency: latency, error: "a \(type) without a [time, value]") }
            series = [.init(labels: [:], value: v)]
            at = t
        case ("matrix", _):
            return sample(
                [], resultType: type, at: nil, latency: latency, error: "a range vector (many values a series): ask for one value, e.g. rate(m[5m]) or last_over_time(m[5m])")
        default:
            return sample([], resultType: type, at: nil, latency: latency, error: "an unknown result type \(type.debugDescription)")
        }
        return sample(series, resultType: type, at: at, latency: latency, error: nil, warnings: warnings)
    }
}
