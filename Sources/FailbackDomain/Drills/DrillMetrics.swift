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
    /// Writes resumed by a step of the abort procedure: on the old site, so the time is not a
    /// failback RTO and is never called met.
    public var writesResumedByRollback = false
    /// Writes stopped and the drill ended without their resuming: the RTO was missed.
    public var writesNeverResumed = false
    /// Achieved RPO: the last replication lag sampled in the failback's direction before writes
    /// resumed, against the target.
    public var rpoSeconds: Double?
    public var rpoTargetSeconds: Double?
    /// Per table, the latest count at each site, and the difference between the highest and lowest.
    public var rowCounts: [(table: String, counts: [String: Int], delta: Int)]
    /// Rows missing on some site (the sum of the deltas): the data-loss estimate.
    public var rowsMissing: Int?
    /// The cutover step done → the first DNS answer that matched the expected one.
    public var cutoverAt: Timestamp?
    public var dnsPropagationSeconds: Double?
    /// After an abort: the abort → the first DNS answer after it that matched its expectation.
    public var dnsRevertSeconds: Double?
    /// Lag readings in the other direction than the failback's (re-protection): count and last.
    public var reverseLag: (count: Int, max: Double, last: Double)?
    /// Lag readings in the failback's direction: how many, the smallest, largest, mean and last.
    public var lag: (count: Int, min: Double, max: Double, mean: Double, last: Double)?
    /// The failback's direction, when the runbook names its sites.
    public var failbackSites: Runbook.Sites?

    public static func == (a: DrillMetrics, b: DrillMetrics) -> Bool { a.json == b.json }

    /// The RTO of a failback: nil when the writes were resumed by the rollback (on the old site:
    /// no failback RTO, and nothing to compare with one).
    public var failbackRTOSeconds: Double? { writesResumedByRollback ? nil : rtoSeconds }

    /// Met, missed, or nil when there is nothing to judge (no target, no stop, or a rollback).
    public var rtoMet: Bool? {
        if writesNeverResumed { return rtoTargetSeconds == nil ? nil : false }
        if writesResumedByRollback { return nil }
        return rtoSeconds.flatMap { s in rtoTargetSeconds.map { s <= $0 } }
    }
    public var rpoMet: Bool? { rpoSeconds.flatMap { s in rpoTargetSeconds.map { s <= $0 } } }

    /// The RTO as a person reads it: met or MISSED against the target, missed when writes never
    /// resumed, and a rollback's resumption said as such (never called met).
    public var rtoText: String? {
        if writesNeverResumed { return "RTO MISSED: writes stopped at \(writesStoppedAt?.description ?? "?") and never resumed" }
        guard let rto = rtoSeconds else { return nil }
        if writesResumedByRollback { return "writes resumed on the old site by the rollback after \(formatDuration(rto)) (not a failback RTO)" }
        return "RTO \(formatDuration(rto))" + (rtoTargetSeconds.map { " (target \(formatDuration($0)): \(rto <= $0 ? "met" : "MISSED"))" } ?? "")
    }

    /// Why there is no RPO although lag was sampled: no reading went the failback's way.
    public var rpoNote: String? {
        guard rpoSeconds == nil, lag == nil, let other = reverseLag, other.count > 0, let sites = failbackSites else { return nil }
        return "RPO not measured: no lag reading from \(sites.from) to \(sites.to) (pass --source \(sites.from) --target \(sites.to) when sampling)"
    }

    public var json: JSONValue {
        func t(_ v: Timestamp?) -> JSONValue? { v.map { .string($0.description) } }
        func n(_ v: Double?) -> JSONValue? { v.map(JSONValue.number) }
        return .members([
            "started_at": t(startedAt), "ended_at": t(endedAt), "total_seconds": n(totalSeconds),
            "writes_stopped_at": t(writesStoppedAt), "writes_resumed_at": t(writesResumedAt),
            "rto_seconds": n(rtoSeconds), "rto_target_seconds": n(rtoTargetSeconds), "rto_met": rtoMet.map(JSONValue.bool),
            "writes_resumed_by": writesResumedAt == nil ? nil : .string(writesResumedByRollback ? "rollback" : "failback"),
            "writes_never_resumed": writesNeverResumed ? .bool(true) : nil,
            "rpo_seconds": n(rpoSeconds), "rpo_target_seconds": n(rpoTargetSeconds), "rpo_met": rpoMet.map(JSONValue.bool),
            "rpo_note": rpoNote.map(JSONValue.string),
            "row_counts": .array(rowCounts.map { ["table": .string($0.table), "counts": .object($0.counts.mapValues { JSONValue($0) }), "delta": JSONValue($0.delta)] }),
            "rows_missing": rowsMissing.map { JSONValue($0) },
            "cutover_at": t(cutoverAt), "dns_propagation_seconds": n(dnsPropagationSeconds), "dns_revert_seconds": n(dnsRevertSeconds),
            "reverse_replication_lag": reverseLag.map { ["samples": JSONValue($0.count), "max": .number($0.max), "last": .number($0.last)] },
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
        let rollback = followed?.rollback?.id
        let done = steps.filter { $0.status == .done }.compactMap { s in s.at.map { (s, $0) } }.sorted { $0.1 < $1.1 }
        let stopped = done.first { $0.0.writes == .stop && $0.0.section != rollback }?.1
        let resumedStep = stopped.flatMap { stop in done.first { $0.0.writes == .resume && $0.1 >= stop } }
        let resumed = resumedStep?.1
        let rpoReading = resumed.map { failbackLag.last(atOrBefore: $0) } ?? failbackLag.last
        let latest = latestRowCounts
        let tables = latest.keys.sorted().map { table -> (String, [String: Int], Int) in
            let counts = latest[table] ?? [:]
            return (table, counts, (counts.values.max() ?? 0) - (counts.values.min() ?? 0))
        }
        let cutover = done.first { $0.0.cutover && $0.0.section != rollback }?.1
        // Propagation is seen only where the cutover's address was named (`--expect-after-cutover`)
        // and the name did not answer it before the cutover: any other answer (another name, the
        // old address checked on purpose) says nothing of what the cutover changed.
        let propagated = cutover.flatMap { c in
            dnsAnswers.first { a in
                a.at >= c && !a.afterAbort && a.cutoverAddress && a.matched == true
                    && !dnsAnswers.contains { $0.key == a.key && $0.cutoverAddress && $0.at < c && $0.matched == true }
            }?.at
        }
        let reverted = abortedAt.flatMap { a in dnsAnswers.first { $0.afterAbort && $0.matched == true }.map { seconds(a, $0.at) } } ?? nil
        return DrillMetrics(
            startedAt: startedAt, endedAt: endedAt, totalSeconds: seconds(startedAt, endedAt),
            writesStoppedAt: stopped, writesResumedAt: resumed, rtoSeconds: seconds(stopped, resumed),
            rtoTargetSeconds: followed?.targets.rtoMinutes.map { $0 * 60 },
            writesResumedByRollback: resumedStep.map { $0.0.section == rollback } ?? false,
            writesNeverResumed: stopped != nil && resumed == nil && status == .completed,
            rpoSeconds: rpoReading?.seconds, rpoTargetSeconds: followed?.targets.rpoSeconds,
            rowCounts: tables, rowsMissing: tables.isEmpty ? nil : tables.reduce(0) { $0 + $1.2 },
            cutoverAt: cutover, dnsPropagationSeconds: seconds(cutover, propagated), dnsRevertSeconds: reverted,
            reverseLag: otherLag.last.map { (otherLag.count, otherLag.max, $0.seconds) },
            lag: failbackLag.last.map { (failbackLag.count, failbackLag.min, failbackLag.max, failbackLag.mean ?? $0.seconds, $0.seconds) },
            failbackSites: followed?.sites)
    }
}
