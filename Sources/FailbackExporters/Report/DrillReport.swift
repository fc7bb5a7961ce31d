import FailbackDomain
import FailbackLog

/// What a failback report says about one drill, computed from its events alone: the summary table
/// of seed 1 §5.4, seed 2's rollback metrics and post-rollback checks, phase durations against
/// targets, every check with its evidence, lag, row counts, DNS cutover, decisions, approvals,
/// overrides and aborts. Every renderer (`ReportFormat`) reads only this.
public struct DrillReport: Sendable {
    /// One pass/fail fact with the event that proves it.
    public struct Check: Sendable, Equatable {
        public typealias Result = CheckVerdict.Result
        /// `http`, `dns`, `recovery`, `row-counts`, `wait`, `command`, `pods`, `step`.
        public var kind: String
        public var name: String
        public var result: Result
        public var detail: String
        public var evidence: EventReference
    }

    /// Where a fact is in the log: the drill's event number, the global sequence, the chain hash.
    public struct EventReference: Sendable, Equatable {
        public var drillSeq: Int
        public var seq: Int
        public var at: Timestamp
        public var type: String
        public var actor: String
        public var summary: String
        public var hash: String
    }

    public var state: DrillState
    public var metrics: DrillMetrics
    public var checks: [Check] = []
    /// Every event, in order: the evidence index.
    public var events: [EventReference] = []
    public var decisions: [(question: String, answer: Bool, by: String?, note: String?, evidence: EventReference)] = []
    /// Approvals and declines in log order, with the actor who recorded them.
    var approvalRows: [[String]] = []
    /// Notes in log order: when, who, the text (as recorded: redacted), and the evidence.
    var noteRows: [[String]] = []
    var notesSeen = 0
    static let noteRowsKept = 1000
    /// Replication lag over time for charts and report.json: at most `lagPoints` points, each the
    /// largest reading of its stretch of samples (every reading is in the log).
    public var lag: [(at: Timestamp, seconds: Double, source: String, target: String)] = []
    public static let lagPoints = 1000
    /// Services of the steps that were done or failed, as the runbook names them.
    public var servicesAffected: [String] = []
    var headHash: [UInt8]?

    /// Builds the report from a drill's events in log order, up to `asOf`.
    public init(events: some BidirectionalCollection<RecordedEvent>, asOf: DrillState.Moment? = nil) throws(InvalidInput) {
        self.init()
        let last: Int
        switch asOf {
        case .drillSeq(let n)?: last = n
        case .time(let t)?: last = events.last { $0.recordedAt <= t }?.drillSeq ?? 0
        case nil: last = .max
        }
        for event in events where event.drillSeq <= last { try apply(event) }
        finish()
    }

    /// Whether `events` (the evidence index) is kept: a bundle leaves it out, since its
    /// `events.jsonl` is the index, and memory then does not grow with every event.
    public let keepsEventIndex: Bool
    /// Set when the drill's chain does not verify (`Recorder.chainWarning`): every format then
    /// carries it as a banner.
    public var chainBroken: String?
    public private(set) var eventCount = 0

    /// The report of a stored drill, read event by event (never all in memory), up to `asOf`.
    public static func build(drill: String, from store: any EventStore, asOf: DrillState.Moment? = nil, keepsEventIndex: Bool = true) throws -> DrillReport {
        var report = DrillReport(keepsEventIndex: keepsEventIndex)
        try store.forEachEvent(drill: drill, through: asOf) { event throws(InvalidInput) in try report.apply(event) }
        report.finish()
        return report
    }

    /// An empty report, to `apply` events to one at a time and `finish`.
    public init(keepsEventIndex: Bool = true) {
        self.keepsEventIndex = keepsEventIndex
        state = DrillState()
        metrics = state.metrics
    }

    /// Folds the drill's next event; returns its decoded payload (nil: a type unknown here).
    @discardableResult
    public mutating func apply(_ event: RecordedEvent) throws(InvalidInput) -> KnownPayload? {
        let payload = try EventCatalogue.decode(event)
        try apply(event, payload: payload)
        return payload
    }

    /// Folds the drill's next event whose payload is already decoded.
    public mutating func apply(_ event: RecordedEvent, payload: KnownPayload?) throws(InvalidInput) {
        try state.apply(event, payload: payload)
        collect(event, payload)
        headHash = event.hash
    }

    /// Computes what needs every event: metrics, services affected.
    public mutating func finish() {
        metrics = state.metrics
        let recorded = Set(state.steps.filter { $0.status == .done || $0.status == .failed }.map(\.id))
        var services = Set<String>()
        for (_, step) in state.followed?.allSteps ?? [] where recorded.contains(step.id) { services.formUnion(step.services) }
        servicesAffected = services.sorted()
    }

    /// Where an event is, with its summary (`payload` is the event's, decoded).
    static func reference(_ event: RecordedEvent, _ payload: KnownPayload?) -> EventReference {
        EventReference(
            drillSeq: event.drillSeq, seq: event.seq, at: event.recordedAt, type: event.type, actor: event.actor,
            summary: payload?.value.summary ?? "(event type unknown to this version)", hash: event.hash.hex)
    }

    private mutating func collect(_ event: RecordedEvent, _ payload: KnownPayload?) {
        // Summaries and hex cost time: made only for what the report keeps.
        func reference() -> EventReference { Self.reference(event, payload) }
        if keepsEventIndex { events.append(reference()) }
        eventCount += 1
        func check(_ kind: String, _ name: String, _ result: Check.Result) {
            let ref = reference()
            checks.append(Check(kind: kind, name: name, result: result, detail: ref.summary, evidence: ref))
        }
        switch payload {
        case .replicationLagSampled(let e)?:
            if let s = e.lagSeconds { noteLag(at: event.recordedAt, seconds: s, source: e.source, target: e.target) }
        case .rowCountSampled?: break
        case .waitConcluded(let e)?:
            // The loop's samples were recorded just before its verdict: the verdict is the check.
            let kind = [
                "http": "http", "dns": "dns", "recovery": "recovery", "redis": "redis", "rowcount": "row-counts", "pods": "pods", "json": "json", "prometheus": "prometheus",
            ][String(e.probe.prefix { $0 != " " })]
            var dropped = 0
            while dropped < e.samples, let i = checks.lastIndex(where: { $0.kind == kind }), checks.count - i <= e.samples - dropped {
                checks.remove(at: i)
                dropped += 1
            }
            if let v = state.judged(.waitConcluded(e)) { check(v.kind, v.name, v.result) }
        case .questionAnswered(let e)?:
            decisions.append(
                (e.question, e.answer, e.by ?? event.actor, [e.note, e.revisionReason.map { "REVISED: \($0)" }].compactMap { $0 }.joined(separator: " — ").nilIfEmpty, reference()))
        case .noteAdded(let e)?:
            // The first 1,000 (memory stays bounded; every note is in the log and events.jsonl).
            notesSeen += 1
            if noteRows.count < Self.noteRowsKept { noteRows.append([event.recordedAt.description, event.actor, e.text, Self.evidence(reference())]) }
        case .approvalGranted(let e)?: approvalRows.append(["approved", e.by, e.role, ""])
        case .approvalDeclined(let e)?: approvalRows.append(["DECLINED", e.by, e.role, e.reason])
        case let payload?:
            if let v = state.judged(payload) { check(v.kind, v.name, v.result) }
        case nil: break
        }
    }

    private mutating func noteLag(at: Timestamp, seconds: Double, source: String, target: String) {
        lag.append((at, seconds, source, target))
        // Past twice the limit, neighbours merge pairwise (the larger stays): memory stays bounded.
        if lag.count >= 2 * Self.lagPoints {
            lag = stride(from: 0, to: lag.count, by: 2).map { i in i + 1 < lag.count && lag[i + 1].seconds > lag[i].seconds ? lag[i + 1] : lag[i] }
        }
    }

    /// Folds the drill's next event when it is a sample read in one pass (`DrillSample.read`), as
    /// `apply` folds the event it came from, but for the chain head: the caller sets `headHash`
    /// (a run of samples needs only the last one's). Only without the evidence index, whose
    /// entries need each event's summary and hash.
    mutating func apply(_ sample: DrillSample, at: Timestamp) {
        precondition(!keepsEventIndex, "a sample read in one pass has no entry for the evidence index")
        state.apply(sample, at: at)
        eventCount += 1
        if case .lag(let seconds, let source, let target) = sample { noteLag(at: at, seconds: seconds, source: source, target: target) }
    }

    /// The chain hash of the last event folded (hex).
    public var headHashHex: String? { headHash?.hex }

    /// Each check (its kind and name) as its latest run left it, in the order checks first ran,
    /// with the earlier runs it replaced: a later pass clears an earlier failure, everywhere a
    /// verdict counts checks (the summary, JUnit, replay, compare), as the status's does.
    public var latestChecks: [(latest: Check, earlier: [Check])] {
        var order: [String: Int] = [:]
        var out: [(latest: Check, earlier: [Check])] = []
        for c in checks {
            let key = CheckVerdict.key(kind: c.kind, name: c.name)
            if let i = order[key] {
                out[i].earlier.append(out[i].latest)
                out[i].latest = c
            } else {
                order[key] = out.count
                out.append((c, []))
            }
        }
        return out
    }
    public var passed: Int { latestChecks.filter { $0.latest.result == .pass }.count }
    public var failed: Int { latestChecks.filter { $0.latest.result == .fail }.count }
    public var skipped: Int { latestChecks.filter { $0.latest.result == .skipped }.count }

    /// Lag before the cutover (the last sample in the failback's direction before writes stopped,
    /// else the first) and after it (the last sample of the drill in any direction, once writes
    /// resumed: after a promotion, replication runs the other way).
    public var lagBefore: Double? {
        guard let first = state.failbackLag.first else { return nil }
        guard let stop = metrics.writesStoppedAt else { return first.seconds }
        return (state.failbackLag.last(atOrBefore: stop) ?? first).seconds
    }

    public var lagAfter: Double? {
        guard let resumed = metrics.writesResumedAt, let last = state.lag.last, last.at >= resumed else { return nil }
        return last.seconds
    }

    /// "Data loss": rows missing across sites and the RPO achieved, as a person would write it.
    public var dataLoss: String {
        var parts: [String] = []
        if let rows = metrics.rowsMissing { parts.append(rows == 0 ? "none (row counts equal)" : "\(rows) rows differ") }
        if let rpo = metrics.rpoSeconds { parts.append("RPO \(formatDuration(rpo))") }
        return parts.isEmpty ? "not measured" : parts.joined(separator: "; ")
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
