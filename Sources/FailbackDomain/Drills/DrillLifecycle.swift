import FailbackLog

/// What the drill lifecycle commands do: each checks the drill's state (rebuilt from its events)
/// and appends one event, or refuses with a message naming what is wrong, appending nothing.
extension Recorder {
    public enum StepOutcome: String, Sendable, CaseIterable {
        case done, skip, fail
    }

    /// The drill's state, rebuilt from its events (as of `drill_seq` `asOf`, when given).
    public func state(of drillID: String? = nil, asOf: DrillState.Moment? = nil) throws -> DrillState {
        try DrillState.rebuild(drill: drillForReading(drillID).drillID, from: store, asOf: asOf)
    }

    /// Every drill of the store, oldest first, with its state.
    public func allDrills() throws -> [DrillState] {
        try store.drills().map { try DrillState.rebuild(drill: $0.drillID, from: store) }
    }

    /// The open drill's state, for a command that will append to it.
    private func writableState(_ drillID: String?) throws -> DrillState {
        let drill = try drillForWriting(drillID)
        return try DrillState.rebuild(drill: drill.drillID, from: store)
    }

    /// Starts a phase. The first phase is the go/no-go gate: it needs every question answered yes,
    /// every checklist item verified, an approval and a chosen option, unless `overrideReason` is
    /// given, which records what was missing and why the gate was passed anyway.
    public func startPhase(
        _ id: String, overrideReason: String? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        let state = try writableState(drillID)
        let phase = try Self.phase(id, in: state)
        guard state.status == .running else { throw Self.aborted(state) }
        guard phase.applies else {
            let chosen = state.option.map { "this drill follows option \($0)" }
                ?? "this drill has no option yet (answer the flowchart with failback decide, or start the drill with --option)"
            throw InvalidInput("phase \(id) belongs to option \(phase.option ?? "?"); \(chosen): nothing appended")
        }
        if let at = phase.startedAt { throw InvalidInput("phase \(id) already started at \(at): nothing appended") }
        if let running = state.currentPhase {
            throw InvalidInput("phase \(running.id) is still running; complete it first (failback phase complete \(running.id)): nothing appended")
        }
        let isFirst = !state.phases.contains { $0.startedAt != nil }
        let missing = isFirst ? state.blockers : []
        if !missing.isEmpty {
            guard let reason = overrideReason else {
                throw InvalidInput("phase \(id) is gated: \(missing.joined(separator: "; ")) (or pass --override --reason TEXT): nothing appended")
            }
            let drill = try drillForWriting(state.drillID)
            let at = context.clock()
            let drafts = [
                try draft(GateOverridden(phase: id, missing: missing, reason: reason), drillID: drill.drillID, at: at, idempotencyKey: nil),
                try draft(PhaseStarted(phase: id), drillID: drill.drillID, at: at, idempotencyKey: idempotencyKey),
            ]
            return try store.append(drafts)[1]
        }
        return try record(PhaseStarted(phase: id), drill: state.drillID, idempotencyKey: idempotencyKey)
    }

    /// Answers a yes/no question (a pre-decision question, a flowchart node, or both). When the answers
    /// lead the flowchart to an option and the drill has none yet, that choice is recorded with them.
    public func decide(_ question: String, _ answer: Bool, by: String? = nil, note: String? = nil, drill drillID: String? = nil) throws -> [AppendOutcome] {
        var state = try writableState(drillID)
        guard let rb = state.followed else { throw InvalidInput("the drill has no runbook: nothing appended") }
        let known = Set(rb.questions.map(\.id) + (rb.flowchart?.nodes.map(\.id) ?? []))
        guard known.contains(question) else {
            throw InvalidInput("runbook \(rb.id) has no question \(question) (questions: \(known.sorted().joined(separator: ", "))): nothing appended")
        }
        guard state.status == .running, state.currentPhase == nil, !state.phases.contains(where: { $0.startedAt != nil }) else {
            throw InvalidInput("decisions are made before the first phase starts: nothing appended")
        }
        let answered = QuestionAnswered(question: question, answer: answer, by: by, note: note)
        var payloads: [any EventPayload] = [answered]
        let wasChosen = state.option != nil
        state.answers[question] = answered
        if !wasChosen, case .option(let option)? = state.flowchartWalk.end {
            payloads.append(OptionChosen(option: option, path: state.flowchartWalk.path))
        }
        return try record(batch: payloads, drill: state.drillID)
    }

    public func verifyChecklistItem(_ item: String, by: String? = nil, notes: String? = nil, drill drillID: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard let rb = state.followed, rb.checklist.contains(where: { $0.id == item }) else {
            let known = state.followed?.checklist.map(\.id).joined(separator: ", ") ?? ""
            throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no checklist item \(item) (items: \(known)): nothing appended")
        }
        if let earlier = state.verified[item] { throw InvalidInput("checklist item \(item) was already verified\(earlier.by.map { " by \($0)" } ?? ""): nothing appended") }
        return try record(ChecklistItemVerified(item: item, by: by, notes: notes), drill: state.drillID)
    }

    public func approve(by: String, role: String, drill drillID: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard state.status == .running else { throw Self.aborted(state) }
        return try record(ApprovalGranted(by: by, role: role), drill: state.drillID)
    }

    public func completePhase(_ id: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        let phase = try Self.phase(id, in: state)
        guard phase.startedAt != nil else { throw InvalidInput("phase \(id) was never started (failback phase start \(id)): nothing appended") }
        if let at = phase.completedAt { throw InvalidInput("phase \(id) already completed at \(at): nothing appended") }
        return try record(PhaseCompleted(phase: id), drill: state.drillID, idempotencyKey: idempotencyKey)
    }

    public func recordStep(
        _ outcome: StepOutcome, _ id: String, reason: String?, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard let step = state.step(id) else {
            throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no step \(id) (failback runbook show lists them): nothing appended")
        }
        if outcome != .done, reason?.allSatisfy(\.isWhitespace) ?? true {
            throw InvalidInput("a \(outcome == .skip ? "skipped" : "failed") step needs --reason: nothing appended")
        }
        let rollbackSection = state.followed?.rollback?.id
        if step.section == rollbackSection {
            guard state.status == .rollingBack else {
                throw InvalidInput("step \(id) belongs to the abort procedure; abort the drill first (failback drill abort --reason ...): nothing appended")
            }
        } else if let phase = state.phase(step.section) {
            guard state.status == .running else { throw Self.aborted(state) }
            guard phase.startedAt != nil, phase.completedAt == nil else {
                throw InvalidInput("step \(id) belongs to phase \(phase.id), which is \(phase.startedAt == nil ? "not started" : "completed"): nothing appended")
            }
        } else {
            guard state.status == .running else { throw Self.aborted(state) }
        }
        if step.status == .done || step.status == .skipped {
            throw InvalidInput("step \(id) was already recorded as \(step.status.rawValue)\(step.at.map { " at \($0)" } ?? ""): nothing appended")
        }
        let drill = state.drillID
        switch outcome {
        case .done: return try record(StepCompleted(step: id, reason: reason), drill: drill, idempotencyKey: idempotencyKey)
        case .skip: return try record(StepSkipped(step: id, reason: reason), drill: drill, idempotencyKey: idempotencyKey)
        case .fail: return try record(StepFailed(step: id, reason: reason), drill: drill, idempotencyKey: idempotencyKey)
        }
    }

    /// Aborts the drill: from here on it follows the runbook's rollback procedure.
    public func abortDrill(reason: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard state.status == .running else { throw Self.aborted(state) }
        return try record(DrillAborted(reason: reason), drill: state.drillID, idempotencyKey: idempotencyKey)
    }

    /// Ends the drill (closing its log). Default outcome: `success`, or `aborted` after an abort.
    public func completeDrill(
        outcome requested: DrillCompleted.Outcome? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        let state = try writableState(drillID)
        if let running = state.currentPhase {
            throw InvalidInput("phase \(running.id) is still running; complete it first (failback phase complete \(running.id)): nothing appended")
        }
        let outcome = requested ?? (state.status == .rollingBack ? .aborted : .success)
        if state.status == .rollingBack && outcome == .success {
            throw InvalidInput("the drill was aborted (\(state.abortReason ?? "")); it cannot complete with success: nothing appended")
        }
        return try record(DrillCompleted(outcome: outcome), drill: state.drillID, idempotencyKey: idempotencyKey)
    }

    private static func phase(_ id: String, in state: DrillState) throws(InvalidInput) -> DrillState.PhaseState {
        guard let phase = state.phase(id) else {
            let known = state.phases.filter(\.applies).map(\.id).joined(separator: ", ")
            throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no phase \(id) (phases: \(known)): nothing appended")
        }
        return phase
    }

    private static func aborted(_ state: DrillState) -> InvalidInput {
        InvalidInput("the drill was aborted (\(state.abortReason ?? "")); only the abort procedure's steps can be recorded: nothing appended")
    }
}
