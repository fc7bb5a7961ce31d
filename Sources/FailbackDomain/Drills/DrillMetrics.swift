import FailbackLog

/// The numbers of a drill that a failback report needs, computed from its events.
public struct DrillMetrics: Sendable, Equatable {
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var totalSeconds: Double?
    /// Writes stopped (first `writes: stop` step done) and resumed (the next `writes: resume` step done).
    public var writesStoppedAt: Timestamp?
    public var writesResumedAt: Timestamp?
    /// Achieved RTO: writes stopped → resumed, against the runbook's target.
    public var rtoSeconds: Double?
    public var rtoTargetSeconds: Double?
    /// Achieved RPO: the last replication lag sampled before writes resumed, against the target.
    public var rpoSeconds: Double?
    public var rpoTargetSeconds: Double?
    /// Per table, the latest count at each site, and the difference between the highest and lowest.
    public var rowCounts: [(table: String, counts: [String: Int], delta: Int)]
    /// Rows missing on some site (the sum of the deltas): the data-loss estimate.
    public var rowsMissing: Int?
    /// The cutover step done → the first DNS answer that matched the expected one.
    public var cutoverAt: Timestamp?
    public var dnsPropagationSeconds: Double?
    public var lag: (count: Int, min: Double, max: Double, mean: Double, last: Double)?

    public static func == (a: DrillMetrics, b: DrillMetrics) -> Bool { a.json == b.json }

    public var rtoMet: Bool? { rtoSeconds.flatMap { s in rtoTargetSeconds.map { s <= $0 } } }
    public var rpoMet: Bool? { rpoSeconds.flatMap { s in rpoTargetSeconds.map { s <= $0 } } }

    public var json: JSONValue {
        func t(_ v: Timestamp?) -> JSONValue? { v.map { .string($0.description) } }
        func n(_ v: Double?) -> JSONValue? { v.map(JSONValue.number) }
        return .members([
            "started_at": t(startedAt), "ended_at": t(endedAt), "total_seconds": n(totalSeconds),
            "writes_stopped_at": t(writesStoppedAt), "writes_resumed_at": t(writesResumedAt),
            "rto_seconds": n(rtoSeconds), "rto_target_seconds": n(rtoTargetSeconds), "rto_met": rtoMet.map(JSONValue.bool),
            "rpo_seconds": n(rpoSeconds), "rpo_target_seconds": n(rpoTargetSeconds), "rpo_met": rpoMet.map(JSONValue.bool),
            "row_counts": .array(rowCounts.map { ["table": .string($0.table), "counts": .object($0.counts.mapValues { JSONValue($0) }), "delta": JSONValue($0.delta)] }),
            "rows_missing": rowsMissing.map { JSONValue($0) },
            "cutover_at": t(cutoverAt), "dns_propagation_seconds": n(dnsPropagationSeconds),
            "replication_lag": lag.map { ["samples": JSONValue($0.count), "min": .number($0.min), "max": .number($0.max), "mean": .number($0.mean), "last": .number($0.last)] },
        ])
    }
}

extension DrillState {
    public var metrics: DrillMetrics {
        func seconds(_ a: Timestamp?, _ b: Timestamp?) -> Double? {
            guard let a, let b else { return nil }
            return Double(b.millisecondsSinceEpoch - a.millisecondsSinceEpoch) / 1000
        }
        let done = steps.filter { $0.status == .done }.compactMap { s in s.at.map { (s, $0) } }.sorted { $0.1 < $1.1 }
        let stopped = done.first { $0.0.writes == .stop }?.1
        let resumed = stopped.flatMap { stop in done.first { $0.0.writes == .resume && $0.1 >= stop }?.1 }
        let lagBeforeResume = resumed.map { lag.last(atOrBefore: $0) } ?? lag.last
        let latest = latestRowCounts
        let tables = latest.keys.sorted().map { table -> (String, [String: Int], Int) in
            let counts = latest[table]!
            return (table, counts, (counts.values.max() ?? 0) - (counts.values.min() ?? 0))
        }
        let cutover = done.first { $0.0.cutover }?.1
        let propagated = cutover.flatMap { c in dnsAnswers.first { $0.at >= c && $0.matched == true }?.at }
        return DrillMetrics(
            startedAt: startedAt, endedAt: endedAt, totalSeconds: seconds(startedAt, endedAt),
            writesStoppedAt: stopped, writesResumedAt: resumed, rtoSeconds: seconds(stopped, resumed),
            rtoTargetSeconds: followed?.targets.rtoMinutes.map { $0 * 60 },
            rpoSeconds: lagBeforeResume?.seconds, rpoTargetSeconds: followed?.targets.rpoSeconds,
            rowCounts: tables, rowsMissing: tables.isEmpty ? nil : tables.reduce(0) { $0 + $1.2 },
            cutoverAt: cutover, dnsPropagationSeconds: seconds(cutover, propagated),
            lag: lag.last.map { (lag.count, lag.min, lag.max, lag.mean!, $0.seconds) })
    }
}
