import FailbackLog

/// A drill's state, rebuilt from its events alone (the read model of `failback status`).
/// `apply` folds one event; folding a drill's events in order from `DrillState()` rebuilds it.
public struct DrillState: Sendable, Equatable {
    public enum Status: String, Sendable {
        case notStarted = "not-started", running, rollingBack = "rolling-back", completed
    }

    public enum StepStatus: String, Sendable {
        case pending, done, skipped, failed
    }

    public struct PhaseState: Sendable, Equatable {
        public var id: String
        public var title: String
        public var option: String?
        public var targetMinutes: ClosedRange<Double>?
        public var startedAt: Timestamp?
        public var completedAt: Timestamp?
        /// False for phases of another option than the drill's.
        public var applies: Bool
    }

    public struct StepState: Sendable, Equatable {
        public var id: String
        public var title: String
        /// The phase or section the step belongs to.
        public var section: String
        public var status: StepStatus
        public var at: Timestamp?
        public var reason: String?
        public var writes: Runbook.WriteEffect?
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
    public var abortReason: String?
    public var startedAt: Timestamp?
    public var endedAt: Timestamp?
    public var lastEventAt: Timestamp?
    /// How many events were folded, and the last one's `drill_seq`.
    public var eventCount = 0
    public var phases: [PhaseState] = []
    public var steps: [StepState] = []
    public var issues: [IssueRaised] = []
    public var notes = 0
    public var observations = 0

    public init() {}

    /// The phase running now, if any.
    public var currentPhase: PhaseState? { phases.first { $0.startedAt != nil && $0.completedAt == nil } }

    public func phase(_ id: String) -> PhaseState? { phases.first { $0.id == id } }
    public func step(_ id: String) -> StepState? { steps.first { $0.id == id } }

    /// Folds one event into the state.
    public mutating func apply(_ event: RecordedEvent) throws(InvalidInput) {
        eventCount += 1
        lastEventAt = event.recordedAt
        switch try EventCatalogue.payload(of: event) {
        case let e as DrillStarted:
            drillID = event.drillID
            runbook = e.runbook
            option = e.option
            operatorName = e.operatorName
            ticket = e.ticket
            status = .running
            startedAt = event.recordedAt
            let rb = try e.followedRunbook()
            followed = rb
            phases = rb.phases.map {
                PhaseState(id: $0.id, title: $0.title, option: $0.option, targetMinutes: $0.targetMinutes, applies: $0.option == nil || $0.option == e.option)
            }
            steps = rb.allSteps.map {
                StepState(id: $0.step.id, title: $0.step.title, section: $0.section, status: .pending, writes: $0.step.writes)
            }
        case let e as PhaseStarted:
            if let i = phases.firstIndex(where: { $0.id == e.phase }) { phases[i].startedAt = event.recordedAt }
        case let e as PhaseCompleted:
            if let i = phases.firstIndex(where: { $0.id == e.phase }) { phases[i].completedAt = event.recordedAt }
        case let e as StepCompleted: setStep(e.step, .done, e.reason, event.recordedAt)
        case let e as StepSkipped: setStep(e.step, .skipped, e.reason, event.recordedAt)
        case let e as StepFailed: setStep(e.step, .failed, e.reason, event.recordedAt)
        case let e as DrillAborted:
            status = .rollingBack
            abortReason = e.reason
        case let e as DrillCompleted:
            status = .completed
            outcome = e.outcome
            endedAt = event.recordedAt
        case let e as IssueRaised:
            issues.append(e)
        case is NoteAdded:
            notes += 1
        default:
            observations += 1
        }
    }

    private mutating func setStep(_ id: String, _ status: StepStatus, _ reason: String?, _ at: Timestamp) {
        guard let i = steps.firstIndex(where: { $0.id == id }) else { return }
        steps[i].status = status
        steps[i].reason = reason
        steps[i].at = at
    }

    /// Rebuilds a drill's state from its stored events, up to and including `drill_seq` `asOf` (nil: all).
    public static func rebuild(drill id: String, from store: any EventStore, asOf: Int? = nil) throws -> DrillState {
        var state = DrillState()
        var failure: InvalidInput?
        try store.forEachEvent(drill: id) { event in
            guard failure == nil, asOf.map({ event.drillSeq <= $0 }) ?? true else { return }
            do throws(InvalidInput) { try state.apply(event) } catch { failure = error }
        }
        if let failure { throw failure }
        return state
    }
}
