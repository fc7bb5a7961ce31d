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

    /// The event a retried command recorded the first time (same key), if any.
    private func retried(_ key: String?, _ payload: any EventPayload) throws -> AppendOutcome? {
        guard let key, let earlier = try store.event(withIdempotencyKey: key) else { return nil }
        return try store.append([draft(payload, drillID: earlier.drillID, at: context.clock(), idempotencyKey: key)])[0]
    }

    /// The open drill's state, for a command that will append to it.
    private func writableState(_ drillID: String?) throws -> DrillState {
        let drill = try drillForWriting(drillID)
        return try DrillState.rebuild(drill: drill.drillID, from: store)
    }

    /// Appends `payloads` (one transaction) only if the drill is still as `state` saw it, so that two
    /// people acting at once cannot both pass the same check.
    private func append(_ payloads: [any EventPayload], checkedAgainst state: DrillState, idempotencyKey: String? = nil) throws -> [AppendOutcome] {
        let at = context.clock()
        var drafts = try payloads.enumerated().map { i, p in
            try draft(p, drillID: state.drillID ?? "", at: at, idempotencyKey: i == payloads.count - 1 ? idempotencyKey : nil)
        }
        drafts[0].expectedDrillSeq = state.eventCount
        return try store.append(drafts)
    }

    /// Starts a phase. The first phase is the go/no-go gate: it needs every question answered yes,
    /// every checklist item verified, an approval and a chosen option, unless `overrideReason` is
    /// given, which records what was missing and why the gate was passed anyway.
    public func startPhase(
        _ id: String, overrideReason: String? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        if let earlier = try retried(idempotencyKey, PhaseStarted(phase: id)) { return earlier }
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
            return try append([GateOverridden(phase: id, missing: missing, reason: reason), PhaseStarted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[1]
        }
        return try append([PhaseStarted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
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
        return try append(payloads, checkedAgainst: state)
    }

    public func verifyChecklistItem(_ item: String, by: String? = nil, notes: String? = nil, drill drillID: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard let rb = state.followed, rb.checklist.contains(where: { $0.id == item }) else {
            let known = state.followed?.checklist.map(\.id).joined(separator: ", ") ?? ""
            throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no checklist item \(item) (items: \(known)): nothing appended")
        }
        if let earlier = state.verified[item] { throw InvalidInput("checklist item \(item) was already verified\(earlier.by.map { " by \($0)" } ?? ""): nothing appended") }
        return try append([ChecklistItemVerified(item: item, by: by, notes: notes)], checkedAgainst: state)[0]
    }

    public func approve(by: String, role: String, drill drillID: String? = nil) throws -> AppendOutcome {
        let state = try writableState(drillID)
        guard state.status == .running else { throw Self.aborted(state) }
        return try append([ApprovalGranted(by: by, role: role)], checkedAgainst: state)[0]
    }

    public func completePhase(_ id: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        if let earlier = try retried(idempotencyKey, PhaseCompleted(phase: id)) { return earlier }
        let state = try writableState(drillID)
        let phase = try Self.phase(id, in: state)
        guard phase.startedAt != nil else { throw InvalidInput("phase \(id) was never started (failback phase start \(id)): nothing appended") }
        if let at = phase.completedAt { throw InvalidInput("phase \(id) already completed at \(at): nothing appended") }
        return try append([PhaseCompleted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
    }

    public func recordStep(
        _ outcome: StepOutcome, _ id: String, reason: String?, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        let payload: any EventPayload
        switch outcome {
        case .done: payload = StepCompleted(step: id, reason: reason)
        case .skip: payload = StepSkipped(step: id, reason: reason)
        case .fail: payload = StepFailed(step: id, reason: reason)
        }
        if let earlier = try retried(idempotencyKey, payload) { return earlier }
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
        return try append([payload], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
    }

    /// Aborts the drill: from here on it follows the runbook's rollback procedure.
    public func abortDrill(reason: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        if let earlier = try retried(idempotencyKey, DrillAborted(reason: reason)) { return earlier }
        let state = try writableState(drillID)
        guard state.status == .running else { throw Self.aborted(state) }
        return try append([DrillAborted(reason: reason)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
    }

    /// Ends the drill (closing its log). Default outcome: `success`, or `aborted` after an abort.
    public func completeDrill(
        outcome requested: DrillCompleted.Outcome? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        if let key = idempotencyKey, let earlier = try store.event(withIdempotencyKey: key), earlier.type == DrillCompleted.eventType {
            return .alreadyRecorded(earlier)  // the drill is closed now: the store would refuse a retry
        }
        let state = try writableState(drillID)
        if let running = state.currentPhase {
            throw InvalidInput("phase \(running.id) is still running; complete it first (failback phase complete \(running.id)): nothing appended")
        }
        let outcome = requested ?? (state.status == .rollingBack ? .aborted : .success)
        if state.status == .rollingBack && outcome == .success {
            throw InvalidInput("the drill was aborted (\(state.abortReason ?? "")); it cannot complete with success: nothing appended")
        }
        return try append([DrillCompleted(outcome: outcome)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
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
