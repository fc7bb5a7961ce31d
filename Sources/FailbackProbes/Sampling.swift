import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// A condition a `--until` loop waits for: `pass` (the probe's own check passed), or
/// `NAME OP VALUE` over the sample's values, e.g. `lag<5s`, `status=200`, `latency<=250ms`.
/// Durations take `ms`, `s`, `m` (compared in seconds for `lag`, milliseconds for `latency`);
/// sizes (a measure in unit `B`) take `B`, `KB`, `MB`, `GB` (powers of 1000) and `KiB`, `MiB`, `GiB`
/// (powers of 1024), in any case: `offset_lag<1MB`.
public struct UntilCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable { case le = "<=", ge = ">=", ne = "!=", lt = "<", gt = ">", eq = "=" }

    public var text: String
    var name: String?
    var op: Operator?
    var value: Double = 0
    /// The probe judges the condition itself (`ProbeSample.judged`), as the JSON probe does its
    /// conditions over strings, booleans and arrays.
    var judgedByProbe = false

    public var description: String { text }

    /// A condition the probe judges in each sample (`ProbeSample.judged[text]`).
    public init(judgedByProbe text: String) {
        self.text = text
        self.judgedByProbe = true
    }

    /// Parses a condition; `names` are the values this probe measures, with the unit they are in.
    public init(_ text: String, names: [String: String]) throws(InvalidInput) {
        self.text = text.filter { !$0.isWhitespace }
        if self.text == "pass" { return }
        guard let op = Operator.allCases.first(where: { self.text.contains($0.rawValue) }),
            let range = self.text.firstRange(of: op.rawValue)
        else { throw InvalidInput("--until \(text.debugDescription): expected pass or NAME<VALUE (one of \(names.keys.sorted().joined(separator: ", ")))") }
        let name = String(self.text[..<range.lowerBound]), raw = String(self.text[range.upperBound...])
        guard let unit = names[name] else {
            throw InvalidInput("--until \(text.debugDescription): this probe measures \(names.keys.sorted().joined(separator: ", ")), not \(name.debugDescription)")
        }
        let (number, scale): (Substring, Double) =
            unit == "B"
            ? Self.size(raw)
            : raw.hasSuffix("ms")
                ? (raw.dropLast(2), unit == "s" ? 0.001 : 1)
                : raw.hasSuffix("s")
                    ? (raw.dropLast(), unit == "ms" ? 1000 : 1)
                    : raw.hasSuffix("m") ? (raw.dropLast(), unit == "ms" ? 60_000 : 60) : (raw[...], 1)
        guard let v = FieldCheck.decimal(String(number)), v.isFinite else {
            throw InvalidInput("--until \(text.debugDescription): \(raw.debugDescription) is not a \(unit == "B" ? "size (like 512, 64KB, 1MB)" : "number")")
        }
        self.name = name
        self.op = op
        self.value = v * scale
    }

    /// A size's number and the bytes of its unit (`1MB` → `1`, 1,000,000; no unit: bytes).
    static func size(_ raw: String) -> (Substring, Double) {
        let units: [(String, Double)] = [("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("b", 1)]
        let lower = raw.lowercased()
        for (suffix, bytes) in units where lower.hasSuffix(suffix) { return (raw.dropLast(suffix.count), bytes) }
        return (raw[...], 1)
    }

    /// Whether a sample meets the condition.
    public func isMet(_ sample: ProbeSample) -> Bool {
        judgedByProbe ? sample.judged[text] ?? false : isMet(passed: sample.passed, values: sample.values)
    }

    /// Whether a sample that passed (or not) with these values meets the condition.
    public func isMet(passed: Bool, values: [String: Double]) -> Bool {
        guard let name, let op else { return passed }
        guard let v = values[name] else { return false }
        switch op {
        case .lt: return v < value
        case .le: return v <= value
        case .gt: return v > value
        case .ge: return v >= value
        case .eq: return v == value
        case .ne: return v != value
        }
    }
}

/// Parses `2s`, `500ms`, `5m` into seconds.
public func parseDuration(_ text: String, option: String) throws(InvalidInput) -> Double {
    let (number, scale): (Substring, Double) =
        text.hasSuffix("ms")
        ? (text.dropLast(2), 0.001)
        : text.hasSuffix("s")
            ? (text.dropLast(), 1)
            : text.hasSuffix("m")
                ? (text.dropLast(), 60)
                : text.hasSuffix("h") ? (text.dropLast(), 3600) : (text[...], 1)
    guard let v = FieldCheck.decimal(String(number)), v.isFinite, v >= 0 else {
        throw InvalidInput("\(option) \(text.debugDescription) is not a duration (like 500ms, 2s, 5m)", kind: .usage)
    }
    return v * scale
}

/// One sample of a probe: the event to record, whether the probe's own check passed, and its values.
public struct ProbeSample {
    public var payload: any EventPayload
    public var passed: Bool
    public var values: [String: Double]
    /// Conditions the probe judged itself, by their text (see `UntilCondition(judgedByProbe:)`).
    public var judged: [String: Bool]

    public init(payload: any EventPayload, passed: Bool, values: [String: Double], judged: [String: Bool] = [:]) {
        self.payload = payload
        self.passed = passed
        self.values = values
        self.judged = judged
    }
}

/// Takes samples: once, or every `every` seconds until `until` is met or `timeout` seconds pass.
/// Each sample is recorded as it is taken; a loop ends with one `WaitConcluded` event.
public enum Sampler {
    /// The shortest pause between samples: a loop never floods the log (a 0 s pause once wrote
    /// hundreds of events a second).
    public static let minimumInterval = 0.1

    /// Returns whether the check passed; with `until`, whether the condition was met and the last
    /// sample's own check passed. A `sample` that
    /// throws ends the run with its error; the samples before it stay recorded. A pause shorter
    /// than `minimumInterval` is refused before a loop samples anything.
    public static func run(
        probe: String, until: UntilCondition?, every: Double, timeout: Double,
        record: (any EventPayload) throws -> Void, sample: (_ remaining: Double) throws -> ProbeSample
    ) throws -> Bool {
        guard let until else {
            let s = try sample(timeout)
            try record(s.payload)
            return s.passed
        }
        guard every >= minimumInterval else {
            throw InvalidInput("--every must be at least 100ms (got \(formatDuration(every))): nothing sampled, nothing appended", kind: .usage)
        }
        let start = Timestamp.now()
        func elapsed() -> Double { Double(Timestamp.now().millisecondsSinceEpoch - start.millisecondsSinceEpoch) / 1000 }
        var samples = 0
        var last: ProbeSample
        while true {
            last = try sample(max(0.1, timeout - elapsed()))
            samples += 1
            try record(last.payload)
            if until.isMet(last) { break }
            let left = timeout - elapsed()
            if left <= 0 { break }
            let pause = min(every, left)
            usleep(UInt32(pause * 1_000_000))
            if elapsed() >= timeout { break }
        }
        let met = until.isMet(last)
        try record(WaitConcluded(probe: probe, condition: until.text, met: met, samples: samples, elapsedMilliseconds: Int(elapsed() * 1000), last: last.values))
        // Met, and the last sample passed its own checks (`--expect`): a condition met does not
        // make a failed check pass.
        return met && last.passed
    }
}

/// One HTTP request through the `curl` command-line tool (HTTPS included, nothing linked into
/// failback's start-up). The URL, and any form fields, go to curl in a config file on its standard
/// input (`--config -`), never on its command line, where every local user could read credentials
/// in it (`ps`) and where text like `-K/path` would be read as an option.
public enum Curl {
    public struct Response {
        public var status: Int
        /// Time to the whole response, in milliseconds (two decimals).
        public var latencyMilliseconds: Double
        public var body: [UInt8]
    }

    /// Requests `url` (an http(s) URL, checked by the caller) once: a GET, or a POST of `form`
    /// (`application/x-www-form-urlencoded`, each value encoded by curl). The body is kept up to
    /// `bodyLimit` bytes (a longer one is read whole and its start kept). A failure is one line: curl's own message, or why there was no response.
    public static func request(_ url: String, form: [(name: String, value: String)] = [], timeout: Double, bodyLimit: Int) -> Result<Response, InvalidInput> {
        let marker = "\n__failback_http__ "
        let limit = max(0.1, timeout)
        let argv = [
            "curl", "--silent", "--show-error", "--max-time", String(limit), "--output", "-",
            "--write-out", "%{stderr}\(marker)%{http_code} %{time_total}", "--config", "-",
        ]
        // curl's config syntax: a quoted value with \\ and \" escaped (control characters as escapes).
        func quoted(_ text: String) -> String {
            "\""
                + text.flatMap { c -> [Character] in
                    switch c {
                    case "\\", "\"": return ["\\", c]
                    case "\n": return ["\\", "n"]
                    case "\r": return ["\\", "r"]
                    case "\t": return ["\\", "t"]
                    default: return [c]
                    }
                } + "\""
        }
        var config = "url = \(quoted(url))\n"
        for field in form { config += "data-urlencode = \(quoted(field.name + "=" + field.value))\n" }
        // curl stops itself at --max-time; the kill (its process group) is the last resort.
        let result = CommandRunner.run(argv, captureLimit: bodyLimit + 4096, live: false, timeout: limit + 2, input: Array(config.utf8))
        let exit: Int?, stdout: CommandRunner.Stream, stderr: CommandRunner.Stream
        switch result {
        case .failedToStart(let e): return .failure(InvalidInput("curl could not start: \(e)"))
        case .timedOut(let after, _, _): return .failure(InvalidInput("no response within \(formatDuration(after)) (curl killed)"))
        case .finished(let status, _, let out, let err, _, _): (exit, stdout, stderr) = (status, out, err)
        }
        // The status and time come on standard error, after curl's messages: the body, on standard
        // output, may be cut at the limit without losing them (a body over 64 KiB was "no response").
        let err = stderr.kept
        let markerBytes = Array(marker.utf8)
        guard exit == 0, let at = lastRange(of: markerBytes, in: err) else {
            let message = String(decoding: err, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "curl exit \(exit ?? -1)"
            return .failure(InvalidInput(message.hasPrefix("curl: ") ? String(message.dropFirst(6)) : message))
        }
        let fields = String(decoding: err[at.upperBound...], as: UTF8.self).split(separator: " ")
        guard fields.count == 2, let status = Int(fields[0]), let seconds = Double(fields[1]) else { return .failure(InvalidInput("unexpected curl output")) }
        return .success(Response(status: status, latencyMilliseconds: (seconds * 100_000).rounded() / 100, body: Array(stdout.kept.prefix(bodyLimit))))
    }

    /// Where `needle` last occurs in `haystack`.
    static func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard haystack.count >= needle.count else { return nil }
        var i = haystack.count - needle.count
        while i >= 0 {
            if haystack[i..<(i + needle.count)].elementsEqual(needle) { return i..<(i + needle.count) }
            i -= 1
        }
        return nil
    }
}

/// The HTTP probe: one request (`Curl`), timed and checked.
public enum HTTPProbe {
    public static let measures = ["status": "", "latency": "ms"]

    /// Requests `url` once. The URL must be an http(s) URL (`FieldCheck.httpURL`: nothing else
    /// reaches curl).
    public static func check(url: String, expectStatus: Int?, expectBody: String?, timeout: Double, bodyLimit: Int) throws(InvalidInput) -> ProbeSample {
        try FieldCheck.httpURL(url, "URL")
        func failure(_ error: String) -> ProbeSample {
            ProbeSample(payload: HealthCheckObserved(failedTarget: url, expectedStatus: expectStatus, expectedBody: expectBody, error: error), passed: false, values: [:])
        }
        let response: Curl.Response
        switch Curl.request(url, timeout: timeout, bodyLimit: bodyLimit) {
        case .success(let r): response = r
        case .failure(let e): return failure(e.message)
        }
        let matched = expectBody.map { String(decoding: response.body, as: UTF8.self).contains($0) }
        guard
            let event = try? HealthCheckObserved(
                target: url, status: response.status, latencyMilliseconds: response.latencyMilliseconds, expectedStatus: expectStatus, expectedBody: expectBody,
                bodyMatched: matched)
        else { return failure("no HTTP response (status \(response.status))") }
        return ProbeSample(payload: event, passed: event.passed, values: ["status": Double(response.status), "latency": response.latencyMilliseconds])
    }
}
