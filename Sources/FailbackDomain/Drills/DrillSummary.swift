import FailbackLog

/// What `drill list` shows of a drill: runbook, status or outcome, start, duration, RTO.
///
/// Summaries are kept beside the log (`EventStore.cacheProjections`) with the drill's head when
/// they were made, so that a store of hundreds of drills lists without refolding every event; a
/// drill whose head has moved since is folded again. The log stays the only source of truth.
public struct DrillSummary: Sendable, Equatable {
    public var drillID: String
    public var runbookID: String?
    public var runbookVersion: String?
    public var option: String?
    public var status: DrillState.Status
    public var outcome: DrillCompleted.Outcome?
    /// The outcome was stated over what the drill supported (`--override`).
    public var overridden = false
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var lastEventAt: Timestamp?
    public var events: Int
    public var totalSeconds: Double?
    public var rtoSeconds: Double?
    public var rtoMet: Bool?
    /// Writes stopped and never resumed; writes resumed by the rollback (not a failback RTO).
    public var writesNeverResumed = false
    public var writesResumedByRollback = false

    /// The name its cached form is kept under; a new layout takes a new name.
    static let projectionName = "drill-summary/3"

    public init(_ state: DrillState, drillID: String) {
        let m = state.metrics
        self.drillID = state.drillID ?? drillID
        runbookID = state.runbook?.id
        runbookVersion = state.runbook?.version
        option = state.option
        status = state.status
        outcome = state.outcome
        overridden = state.outcomeOverride != nil
        startedAt = state.startedAt
        endedAt = state.endedAt
        lastEventAt = state.lastEventAt
        events = state.eventCount
        totalSeconds = m.totalSeconds
        rtoSeconds = m.rtoSeconds
        rtoMet = m.rtoMet
        writesNeverResumed = m.writesNeverResumed
        writesResumedByRollback = m.writesResumedByRollback
    }

    /// One object of `drill list --json` (also the form kept in the store).
    public var json: JSONValue {
        func time(_ t: Timestamp?) -> JSONValue? { t.map { .string($0.description) } }
        return .members([
            "drill_id": .string(drillID), "runbook": runbookID.map(JSONValue.string), "runbook_version": runbookVersion.map(JSONValue.string),
            "option": option.map(JSONValue.string), "status": .string(status.rawValue), "outcome": outcome.map { .string($0.rawValue) },
            "overridden": overridden ? .bool(true) : nil,
            "started_at": time(startedAt), "ended_at": time(endedAt), "last_event_at": time(lastEventAt),
            "events": JSONValue(events), "total_seconds": totalSeconds.map(JSONValue.number), "rto_seconds": rtoSeconds.map(JSONValue.number),
            "rto_met": rtoMet.map(JSONValue.bool),
            "writes_never_resumed": writesNeverResumed ? .bool(true) : nil, "writes_resumed_by_rollback": writesResumedByRollback ? .bool(true) : nil,
        ])
    }

    init?(json v: JSONValue) {
        guard let id = v["drill_id"]?.stringValue, let status = v["status"]?.stringValue.flatMap(DrillState.Status.init(rawValue:)),
            let events = v["events"]?.integerValue
        else { return nil }
        func time(_ k: String) -> Timestamp? { v[k]?.stringValue.flatMap(Timestamp.init(rfc3339:)) }
        drillID = id
        runbookID = v["runbook"]?.stringValue
        runbookVersion = v["runbook_version"]?.stringValue
        option = v["option"]?.stringValue
        self.status = status
        outcome = v["outcome"]?.stringValue.flatMap(DrillCompleted.Outcome.init(rawValue:))
        overridden = v["overridden"]?.boolValue ?? false
        startedAt = time("started_at")
        endedAt = time("ended_at")
        lastEventAt = time("last_event_at")
        self.events = events
        totalSeconds = v["total_seconds"]?.numberValue
        rtoSeconds = v["rto_seconds"]?.numberValue
        rtoMet = v["rto_met"]?.boolValue
        writesNeverResumed = v["writes_never_resumed"]?.boolValue ?? false
        writesResumedByRollback = v["writes_resumed_by_rollback"]?.boolValue ?? false
    }

    /// One line of `drill list`: id, runbook, status or outcome, start, duration, RTO (tab-separated).
    public var line: String {
        let state = status == .completed ? (outcome?.rawValue ?? "completed") + (overridden ? " (OVERRIDDEN)" : "") : status.rawValue
        return [
            drillID, runbookID.map { "\($0) v\(runbookVersion ?? "?")" + (option.map { " option \($0)" } ?? "") } ?? "?", state,
            startedAt?.description ?? "", totalSeconds.map { "took \(formatDuration($0))" } ?? "open",
            writesNeverResumed
                ? "RTO MISSED (writes never resumed)"
                : rtoSeconds.map { writesResumedByRollback ? "rollback resumed writes in \(formatDuration($0))" : "RTO \(formatDuration($0))" + (rtoMet == false ? " MISSED" : "") }
                    ?? "",
        ].map { terminalSafe($0) }.joined(separator: "\t")
    }
}

extension Recorder {
    /// Every drill of the store, oldest first, summarised: from the summaries kept in the store
    /// where the drill has not moved since, else by folding its events (and then keeping the result).
    public func drillSummaries() throws -> [DrillSummary] {
        let heads = try store.drills()
        let kept = try store.cachedProjections(DrillSummary.projectionName)
        var summaries: [DrillSummary] = []
        var made: [String: CachedProjection] = [:]
        for head in heads {
            if let cached = kept[head.drillID], cached.isCurrent(for: head), let value = try? JSONParser.parse(cached.value),
                let summary = DrillSummary(json: value)
            {
                summaries.append(summary)
                continue
            }
            // Folded to the head read above (events appended since are for the next listing).
            let summary = DrillSummary(try DrillState.rebuild(drill: head.drillID, from: store, asOf: .drillSeq(head.eventCount)), drillID: head.drillID)
            summaries.append(summary)
            made[head.drillID] = CachedProjection(eventCount: head.eventCount, headHash: head.headHash, value: CanonicalJSON.encode(summary.json))
        }
        // Keeping them is a convenience: a store that cannot be written to (or is busy) still lists.
        try? store.cacheProjections(DrillSummary.projectionName, made)
        return summaries
    }
}
