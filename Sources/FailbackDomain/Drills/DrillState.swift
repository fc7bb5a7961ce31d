import FailbackLog

/// A drill's state, rebuilt from its events alone (the read model of `failback status`).
/// `apply` folds one event; folding a drill's events in order from `DrillState()` rebuilds it.
public struct DrillState: Sendable, Equatable {
    public static func == (a: DrillState, b: DrillState) -> Bool {
        // The sample lists hold tuples (not Equatable); they are compared through the JSON form.
        a.json == b.json && a.steps == b.steps && a.phases == b.phases && a.followed == b.followed
    }

    public enum Status: String, Sendable {
        case notStarted = "not-started", running, rollingBack = "rolling-back", completed
    }

    public enum StepStatus: String, Sendable {
        /// `running`: started (`StepStarted`) and not yet done, skipped or failed.
        case pending, running, done, skipped, failed
    }

    public struct PhaseState: Sendable, Equatable {
        public var id: String
        public var title: String
        public var option: String?
        public var targetMinutes: ClosedRange<Double>?
        public var startedAt: Timestamp?
        public var completedAt: Timestamp?
        /// When the drill was aborted, or completed as failed, while the phase ran: it stays
        /// interrupted (never completed, no longer running).
        public var interruptedAt: Timestamp?
        /// False for phases of another option than the drill's.
        public var applies: Bool
        /// The runbook's `after:` (nil: the previous phase the drill follows).
        public var after: [String]?
    }

    public struct StepState: Sendable, Equatable {
        public var id: String
        public var cutover = false
        public var targetMinutes: ClosedRange<Double>?
        /// When the step was started (`StepStarted`), if it was.
        public var startedAt: Timestamp?
        /// Seconds from the step's own start to its outcome; nil when it was never started (a
        /// duration is measured, never inferred).
        public var durationSeconds: Double? {
            guard let s = startedAt, let a = at, status != .pending, status != .running else { return nil }
            return Double(a.millisecondsSinceEpoch - s.millisecondsSinceEpoch) / 1000
        }
        /// Longer than its target (the upper end of a range).
        public var overran: Bool { durationSeconds.flatMap { d in targetMinutes.map { d / 60 > $0.upperBound } } ?? false }
        public var title: String
        /// The phase or section the step belongs to.
        public var section: String
        public var status: StepStatus
        /// When its outcome was recorded.
        public var at: Timestamp?
        public var reason: String?
        public var writes: Runbook.WriteEffect?
        /// Steps of its section that must be done or skipped before it starts.
        public var after: [String] = []
        /// Who recorded its start and its outcome (the events' actors).
        public var startedBy: String?
        public var recordedBy: String?
    }

    public var drillID: String?
    public var runbook: DrillStarted.RunbookReference?
    /// The runbook as the drill recorded it.
    public var followed: Runbook?
    public var option: String?
    public var operatorName: String?
    public var ticket: String?
    public var status: Status = .notStarted
    public var outcome: DrillCompleted.Outcome?
    /// What the completion said: why (missing, failed, the no-go path), and an override's reason.
    public var outcomeReasons: [String] = []
    public var outcomeOverride: String?
    public var abortReason: String?
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var lastEventAt: Timestamp?
    /// How many events were folded, and the last one's `drill_seq`.
    public var eventCount = 0
    public var phases: [PhaseState] = []
    public var steps: [StepState] = []
    public var issues: [IssueRaised] = []
    /// Answers by question (or flowchart node) id; the latest answer counts.
    public var answers: [String: QuestionAnswered] = [:]
    public var verified: [String: ChecklistItemVerified] = [:]
    /// Every approval and decline, in log order.
    public var approvals: [ApprovalGranted] = []
    public var declines: [ApprovalDeclined] = []
    /// The approvals that count: those recorded after the latest decline.
    public var approvalsInForce: [ApprovalGranted] = []
    public var overrides: [GateOverridden] = []
    /// Who recorded into the drill as an operator: whoever started it, then everyone who joined
    /// (`OperatorJoined`), in the order each first appeared, with the role they last gave.
    public var operators: [OperatorState] = []

    public struct OperatorState: Sendable, Equatable {
        /// The name events carry as their `actor`.
        public var name: String
        public var role: String?
        public var joinedAt: Timestamp
        public var drillSeq: Int
    }

    /// The role `actor` acts in, as of the events folded so far (nil: none given).
    public func role(of actor: String) -> String? { operators.first { $0.name == actor }?.role }

    private mutating func joined(_ name: String, role: String?, _ event: RecordedEvent) {
        if let i = operators.firstIndex(where: { $0.name == name }) {
            if let role { operators[i].role = role }
        } else {
            operators.append(OperatorState(name: name, role: role, joinedAt: event.recordedAt, drillSeq: event.drillSeq))
        }
    }
    /// When the drill was aborted.
    public var abortedAt: Timestamp?
    /// The latest result of each check (by `CheckVerdict.key`), in the order each was first run.
    public var checks: [CheckState] = []
    private var checkIndex: [String: Int] = [:]

    /// The latest run of one check: a later run of the same check replaces an earlier result.
    public struct CheckState: Sendable, Equatable {
        public var verdict: CheckVerdict
        public var drillSeq: Int
        public var at: Timestamp
        public var summary: String
    }
    /// The flowchart's pick, when it was recorded.
    public var chosen: OptionChosen?
    /// What happened to the drill's course, in log order (observations and notes are in the log).
    public var timeline: [TimelineEntry] = []

    public struct TimelineEntry: Sendable, Equatable {
        public var drillSeq: Int
        public var at: Timestamp
        public var type: String
        public var summary: String
    }

    /// Observations the metrics are computed from, in log order: lag readings (folded), the
    /// latest row counts, DNS answers' verdicts.
    public var lag = LagReadings()
    /// The latest row count of each table at each site (table → site → rows).
    public var latestRowCounts: [String: [String: Int]] = [:]
    /// DNS answers' verdicts, and whether each came after the abort (then it belongs to the rollback).
    /// Each DNS observation: when, whether its answers held its expected value, whether that value
    /// was declared the cutover's (`--expect-after-cutover`), for which name and type (`key`).
    public var dnsAnswers: [(at: Timestamp, matched: Bool?, afterAbort: Bool, cutoverAddress: Bool, key: String)] = []
    /// Lag readings in the failback's direction (`sites.from` → `sites.to`; every reading when the
    /// runbook names no sites): the RPO is read from these alone.
    public var failbackLag = LagReadings()
    /// Readings in any other direction (re-protection after the promotion), reported apart.
    public var otherLag = LagReadings()
    private var failbackSites: Runbook.Sites?
    /// The latest Redis observation of each server (by its recorded URL), and when it was made.
    public var redis: [String: RedisState] = [:]

    public struct RedisState: Sendable, Equatable {
        public var at: Timestamp
        public var observed: RedisReplicationObserved
    }
    public var notes = 0
    public var observations = 0

    public init() {}

    /// The phase running now, if any.
    public var currentPhase: PhaseState? { phases.first { $0.startedAt != nil && $0.completedAt == nil && $0.interruptedAt == nil } }

    /// The running phase, if any, ends interrupted at `time`.
    private mutating func interruptCurrentPhase(at time: Timestamp) {
        if let i = phases.firstIndex(where: { $0.startedAt != nil && $0.completedAt == nil && $0.interruptedAt == nil }) { phases[i].interruptedAt = time }
    }

    public func phase(_ id: String) -> PhaseState? { phases.first { $0.id == id } }
    public func step(_ id: String) -> StepState? { steps.first { $0.id == id } }

    /// Folds one event into the state.
    public mutating func apply(_ event: RecordedEvent) throws(InvalidInput) {
        try apply(event, payload: try EventCatalogue.decode(event))
    }

    /// Folds one event whose payload the caller has already decoded (nil: a type unknown here).
    public mutating func apply(_ event: RecordedEvent, payload: KnownPayload?) throws(InvalidInput) {
        eventCount += 1
        lastEventAt = event.recordedAt
        if let payload, payload.type.entersTimeline {
            timeline.append(TimelineEntry(drillSeq: event.drillSeq, at: event.recordedAt, type: event.type, summary: payload.value.summary))
        }
        guard let payload else {
            observations += 1
            return
        }
        if case .waitConcluded(let e) = payload, e.samples > 0 {
            // A loop is one check, its verdict: the samples just before it (the loop's) are not
            // checks of their own, as the report counts them.
            let loop = (event.drillSeq - e.samples)..<event.drillSeq
            if checks.contains(where: { loop.contains($0.drillSeq) && $0.verdict.kind != "wait" }) {
                checks.removeAll { loop.contains($0.drillSeq) && $0.verdict.kind != "wait" }
                checkIndex = Dictionary(uniqueKeysWithValues: checks.enumerated().map { ($1.verdict.key, $0) })
            }
        }
        if let verdict = judged(payload) {
            noteCheck(verdict, drillSeq: event.drillSeq, at: event.recordedAt, summary: payload.value.summary)
        }
        switch payload {
        case .replicationLagSampled(let e):
            observations += 1
            if let seconds = e.lagSeconds { note(.lag(seconds: seconds, source: e.source, target: e.target), at: event.recordedAt) }
        case .rowCountSampled(let e):
            observations += 1
            note(.rowCount(table: e.table, site: e.site, count: e.count), at: event.recordedAt)
        case .rowCountsCompared(let e):
            observations += 1
            for t in e.tables {
                if let count = t.sourceCount { latestRowCounts[t.table, default: [:]][e.source] = count }
                if let count = t.targetCount { latestRowCounts[t.table, default: [:]][e.target] = count }
            }
        case .dnsAnswerObserved(let e):
            observations += 1
            dnsAnswers.append(
                (event.recordedAt, e.matched, status == .rollingBack, e.expectation == .afterCutover, "\(e.recordType) \(e.name) \(e.expected ?? "")"))
        case .redisReplicationObserved(let e):
            observations += 1
            redis[e.server] = RedisState(at: event.recordedAt, observed: e)
        case .drillStarted(let e):
            drillID = event.drillID
            runbook = e.runbook
            option = e.option
            operatorName = e.operatorName
            ticket = e.ticket
            status = .running
            startedAt = event.recordedAt
            joined(event.actor, role: nil, event)
            let rb = try e.followedRunbook()
            followed = rb
            failbackSites = rb.sites
            phases = rb.phases.map {
                PhaseState(
                    id: $0.id, title: $0.title, option: $0.option, targetMinutes: $0.targetMinutes, applies: $0.option == nil || $0.option == e.option,
                    after: $0.after)
            }
            steps = rb.allSteps.map {
                StepState(
                    id: $0.step.id, cutover: $0.step.cutover, targetMinutes: $0.step.targetMinutes, title: $0.step.title, section: $0.section,
                    status: .pending, writes: $0.step.writes, after: $0.step.after)
            }
        case .phaseStarted(let e):
            if let i = phases.firstIndex(where: { $0.id == e.phase }) { phases[i].startedAt = event.recordedAt }
        case .phaseCompleted(let e):
            if let i = phases.firstIndex(where: { $0.id == e.phase }) { phases[i].completedAt = event.recordedAt }
        case .stepStarted(let e):
            if let i = steps.firstIndex(where: { $0.id == e.step }) {
                steps[i].startedAt = event.recordedAt
                steps[i].startedBy = event.actor
                steps[i].status = .running
                steps[i].at = nil
                steps[i].reason = nil
            }
        case .stepCompleted(let e): setStep(e.step, .done, e.reason, event)
        case .stepSkipped(let e): setStep(e.step, .skipped, e.reason, event)
        case .stepFailed(let e): setStep(e.step, .failed, e.reason, event)
        case .drillAborted(let e):
            status = .rollingBack
            abortReason = e.reason
            abortedAt = event.recordedAt
            interruptCurrentPhase(at: event.recordedAt)
        case .drillCompleted(let e):
            status = .completed
            outcome = e.outcome
            outcomeReasons = e.reasons
            outcomeOverride = e.overrideReason
            endedAt = event.recordedAt
            interruptCurrentPhase(at: event.recordedAt)
        case .issueRaised(let e):
            issues.append(e)
        case .questionAnswered(let e):
            answers[e.question] = e
        case .optionChosen(let e):
            // The flowchart's pick (again, after a revised answer): the drill follows it from here.
            chosen = e
            option = e.option
            for i in phases.indices { phases[i].applies = phases[i].option == nil || phases[i].option == e.option }
        case .checklistItemVerified(let e):
            verified[e.item] = e
        case .approvalGranted(let e):
            approvals.append(e)
            approvalsInForce.append(e)
        case .approvalDeclined(let e):
            declines.append(e)
            approvalsInForce.removeAll()
        case .gateOverridden(let e):
            overrides.append(e)
        case .operatorJoined(let e):
            joined(event.actor, role: e.role, event)
        case .noteAdded:
            notes += 1
        case .podStatesObserved, .jsonValuesObserved, .prometheusQueryEvaluated, .healthCheckObserved, .recoveryStateObserved, .commandExecuted, .commandFailedToStart,
            .waitConcluded:
            observations += 1
        }
    }

    /// Folds the drill's next event when it is a sample read in one pass (`DrillSample.read`): what
    /// `apply(_:payload:)` does with the `ReplicationLagSampled` or `RowCountSampled` it came from
    /// (neither enters the timeline).
    public mutating func apply(_ sample: DrillSample, at: Timestamp) {
        eventCount += 1
        lastEventAt = at
        observations += 1
        note(sample, at: at)
    }

    private mutating func noteCheck(_ verdict: CheckVerdict, drillSeq: Int, at: Timestamp, summary: String) {
        let entry = CheckState(verdict: verdict, drillSeq: drillSeq, at: at, summary: summary)
        if let i = checkIndex[verdict.key] {
            checks[i] = entry
        } else {
            checkIndex[verdict.key] = checks.count
            checks.append(entry)
        }
    }

    /// Checks whose latest run failed.
    public var failedChecks: [CheckState] { checks.filter { $0.verdict.result == .fail } }

    /// Whether a lag reading from `source` to `target` goes the failback's way.
    func isFailbackDirection(source: String, target: String) -> Bool {
        guard let sites = failbackSites else { return true }
        return source == sites.from && target == sites.to
    }

    private mutating func note(_ sample: DrillSample, at: Timestamp) {
        switch sample {
        case .lag(let seconds, let source, let target):
            lag.add(at: at, seconds: seconds)
            if isFailbackDirection(source: source, target: target) { failbackLag.add(at: at, seconds: seconds) } else { otherLag.add(at: at, seconds: seconds) }
        case .rowCount(let table, let site, let count): latestRowCounts[table, default: [:]][site] = count
        }
    }

    /// Where the flowchart stands with the answers given: the nodes passed, and its end if reached.
    public var flowchartWalk: (path: [(node: String, answer: Bool)], end: Runbook.Flowchart.Branch?, waitingOn: String?) {
        guard let f = followed?.flowchart else { return ([], nil, nil) }
        let nodes = Dictionary(uniqueKeysWithValues: f.nodes.map { ($0.id, $0) })
        var path: [(String, Bool)] = []
        var id = f.start
        while let node = nodes[id] {
            guard let answer = answers[id]?.answer else { return (path, nil, id) }
            path.append((id, answer))
            let branch = answer ? node.yes : node.no
            if case .next(let next) = branch { id = next } else { return (path, branch, nil) }
        }
        return (path, nil, nil)
    }

    /// What keeps the first phase from starting (empty: go).
    public var blockers: [String] {
        guard let rb = followed else { return [] }
        var missing: [String] = []
        for q in rb.questions {
            switch answers[q.id]?.answer {
            case nil: missing.append("question \(q.id) unanswered (failback decide \(q.id) yes|no)")
            case false?: missing.append("question \(q.id) answered no: \(q.text)")
            default: break
            }
        }
        for c in rb.checklist where verified[c.id] == nil { missing.append("checklist item \(c.id) not verified (failback checklist verify \(c.id))") }
        missing += approvalGaps
        let walk = flowchartWalk
        if case .outcome(_, let text)? = walk.end { missing.append("the flowchart says: \(text)") }
        if case .option(let picked)? = walk.end, let option, picked != option {
            missing.append("the flowchart picks option \(picked) but the drill follows option \(option)")
        }
        if !rb.options.isEmpty && option == nil {
            missing.append(walk.waitingOn.map { "no option chosen: the flowchart waits for \($0) (failback decide \($0) yes|no)" } ?? "no option chosen")
        }
        return missing
    }

    private mutating func setStep(_ id: String, _ status: StepStatus, _ reason: String?, _ event: RecordedEvent) {
        guard let i = steps.firstIndex(where: { $0.id == id }) else { return }
        steps[i].status = status
        steps[i].reason = reason
        steps[i].at = event.recordedAt
        steps[i].recordedBy = event.actor
        // The RPO and the lag before and after the cutover are read at these moments.
        if status == .done, steps[i].writes != nil {
            lag.mark(event.recordedAt)
            failbackLag.mark(event.recordedAt)
        }
    }

    /// A moment of a drill: after its event `#drill_seq`, or after its last event recorded at or
    /// before a time (the log is a sequence: events are never reordered by their clocks).
    public enum Moment: Sendable, Equatable {
        case drillSeq(Int)
        case time(Timestamp)

        /// `12` (a drill event number) or an RFC 3339 time.
        public init?(_ text: String) {
            if let n = Int(text), n >= 0 { self = .drillSeq(n) } else if let t = Timestamp(rfc3339: text) { self = .time(t) } else { return nil }
        }
    }

    /// Rebuilds a drill's state from its stored events, up to `asOf` (nil: all), reading them one
    /// at a time.
    public static func rebuild(drill id: String, from store: any EventStore, asOf: Moment? = nil) throws -> DrillState {
        var state = DrillState()
        try store.forEachEvent(drill: id, through: asOf) { event throws(InvalidInput) in try state.apply(event) }
        return state
    }
}

extension DrillState.Moment {
    /// The `drill_seq` of the last event of `drill` this moment includes (0: none).
    public func lastDrillSeq(of drill: String, in store: any EventStore) throws(StoreError) -> Int {
        switch self {
        case .drillSeq(let n): return n
        case .time(let t): return try store.lastDrillSeq(drill: drill, recordedAtOrBefore: t)
        }
    }
}

extension EventStore {
    /// Calls `body` with the drill's events in order, up to `moment` (nil: all); `body`'s error
    /// ends the walk and is thrown.
    public func forEachEvent<E: Error>(drill id: String, through moment: DrillState.Moment?, _ body: (RecordedEvent) throws(E) -> Void) throws {
        let last = try moment?.lastDrillSeq(of: id, in: self) ?? Int.max
        guard last >= 1 else { return }
        var failure: E?
        try forEachEvent(drill: id, drillSeqs: 1...last) { event in
            guard failure == nil else { return }
            do throws(E) { try body(event) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
