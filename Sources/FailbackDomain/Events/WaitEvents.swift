import FailbackLog

/// A `--until` loop ended: its condition was met, or it timed out (with the last value seen).
public struct WaitConcluded: EventPayload, Equatable {
    public static let eventType = "WaitConcluded"
    public static let schemaVersion = 1

    /// What was probed (`http https://...`, `lag ...`).
    public var probe: String
    public var condition: String
    public var met: Bool
    public var samples: Int
    public var elapsedMilliseconds: Int
    /// The last sample's values, by name (`status`, `latency`, `lag`...).
    public var last: [String: Double]

    public init(probe: String, condition: String, met: Bool, samples: Int, elapsedMilliseconds: Int, last: [String: Double]) {
        self.probe = probe
        self.condition = condition
        self.met = met
        self.samples = samples
        self.elapsedMilliseconds = elapsedMilliseconds
        self.last = last
    }

    public var json: JSONValue {
        [
            "probe": .string(probe), "condition": .string(condition), "met": .bool(met), "samples": JSONValue(samples),
            "elapsed_ms": JSONValue(elapsedMilliseconds), "last": .object(last.mapValues(JSONValue.number)),
        ]
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        var last: [String: Double] = [:]
        for (k, v) in r.value("last")?.objectValue ?? [:] { if let d = v.numberValue { last[k] = d } }
        self.init(
            probe: try r.string("probe"), condition: try r.string("condition"), met: try r.optionalBool("met") ?? false,
            samples: try r.integer("samples"), elapsedMilliseconds: try r.integer("elapsed_ms"), last: last)
    }

    public var summary: String {
        let values = last.keys.sorted().map { "\($0)=\(trimmed(last[$0]!))" }.joined(separator: " ")
        return "\(probe): until \(condition) \(met ? "MET" : "TIMED OUT") after \(samples) samples, \(elapsedMilliseconds)ms" + (values.isEmpty ? "" : " (last \(values))")
    }
}
