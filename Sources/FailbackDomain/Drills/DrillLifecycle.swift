import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// What the drill lifecycle commands do: each checks the drill's state (rebuilt from its events)
/// and appends one event, or refuses with a message naming what is wrong, appending nothing.
extension Recorder {
    public enum StepOutcome: String, Sendable, CaseIterable {
        case done, skip, fail
    }

    /// Checks a past moment (`--as-of`) against the drill: one before its first event, or past its
    /// last event number, is refused; a time after a closed drill's last event is shown as the
    /// drill ended, and the note returned says so.
    public func check(_ moment: DrillState.Moment, of drill: DrillHead) throws -> String? {
        switch moment {
        case .drillSeq(let n):
            if n < 1 { throw InvalidInput("--as-of 0 is before the drill's first event (#1)") }
            if n > drill.eventCount { throw InvalidInput("--as-of \(n) is past the drill's last event (#\(drill.eventCount))") }
            return nil
        case .time(let t):
            if t < drill.startedAt { throw InvalidInput("--as-of \(t) is before the drill started (\(drill.startedAt))") }
            guard drill.closedSeq != nil else { return nil }
            var last: Timestamp?
            try store.forEachEvent(drill: drill.drillID, drillSeqs: drill.eventCount...drill.eventCount) { last = $0.recordedAt }
            guard let last, t > last else { return nil }
            return "--as-of \(t) is after the drill ended (\(last)): it is shown as it ended"
        }
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
    /// The open drill's state as of its head now: folded from scratch the first time, then only
    /// the events added since the state this recorder last saw (a retry after a conflict is cheap,
    /// so its window between check and append stays short).
    private func writableState(_ drillID: String?) throws -> DrillState {
        try foldedState(try drillForWriting(drillID))
    }

    /// The drill's state as of `drill` (its index entry, read now): the state this recorder last
    /// folded for it, brought forward by the events since (a watcher's refresh reads only those).
    public func foldedState(_ drill: DrillHead) throws -> DrillState {
        var state = latestStates[drill.drillID] ?? DrillState()
        if state.eventCount < drill.eventCount {
            try store.forEachEvent(drill: drill.drillID, drillSeqs: (state.eventCount + 1)...drill.eventCount) { event throws(StoreError) in
                do throws(InvalidInput) { try state.apply(event) } catch { throw StoreError(.corrupt, error.message) }
            }
        } else if state.eventCount > drill.eventCount {
            state = try DrillState.rebuild(drill: drill.drillID, from: store)
        }
        latestStates[drill.drillID] = state
        return state
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
        try retryingConflicts {
            if let earlier = try retried(idempotencyKey, PhaseStarted(phase: id)) { return earlier }
            let state = try writableState(drillID)
            let phase = try Self.phase(id, in: state)
            guard state.status == .running else { throw Self.aborted(state) }
            guard phase.applies else {
                let chosen =
                    state.option.map { "this drill follows option \($0)" }
                    ?? "this drill has no option yet (answer the flowchart with failback decide, or start the drill with --option)"
                throw InvalidInput("phase \(id) belongs to option \(phase.option ?? "?"); \(chosen): nothing appended")
            }
            if let at = phase.startedAt { throw InvalidInput("phase \(id) already started at \(at): nothing appended") }
            if let running = state.currentPhase {
                throw InvalidInput("phase \(running.id) is still running; complete it first (failback phase complete \(running.id)): nothing appended")
            }
            let isFirst = !state.phases.contains { $0.startedAt != nil }
            var missing = isFirst ? state.blockers : []
            for dep in state.predecessors(ofPhase: id) where state.phase(dep)?.completedAt == nil {
                missing.append("phase \(dep) not completed (it comes before \(id))")
            }
            if !missing.isEmpty {
                guard let reason = overrideReason else {
                    throw InvalidInput("phase \(id) is gated: \(missing.joined(separator: "; ")) (or pass --override --reason TEXT): nothing appended")
                }
                return try append([GateOverridden(phase: id, missing: missing, reason: reason), PhaseStarted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[1]
            }
            return try append([PhaseStarted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
        }
    }

    /// Answers a yes/no question (a pre-decision question, a flowchart node, or both). When the answers
    /// lead the flowchart to an option and the drill has none yet, that choice is recorded with them.
    /// Changing an earlier answer needs `revisionReason` (`--revise --reason`): the flowchart is
    /// walked again and, when it now picks another option, the drill follows that one (decisions
    /// are taken before the first phase starts: after that, a drill changes course by aborting).
    public func decide(
        _ question: String, _ answer: Bool, by: String? = nil, note: String? = nil, revisionReason: String? = nil, drill drillID: String? = nil
    ) throws -> [AppendOutcome] {
        try retryingConflicts {
            var state = try writableState(drillID)
            guard let rb = state.followed else { throw InvalidInput("the drill has no runbook: nothing appended") }
            let known = Set(rb.questions.map(\.id) + (rb.flowchart?.nodes.map(\.id) ?? []))
            guard known.contains(question) else {
                throw InvalidInput("runbook \(rb.id) has no question \(question) (questions: \(known.sorted().joined(separator: ", "))): nothing appended")
            }
            guard state.status == .running else { throw Self.aborted(state) }
            if let started = state.phases.first(where: { $0.startedAt != nil }) {
                throw InvalidInput(
                    "decisions are made before the first phase starts (phase \(started.id) has started); to change course, abort the drill (failback drill abort --reason TEXT): nothing appended"
                )
            }
            let earlier = state.answers[question]
            if let revisionReason {
                guard earlier != nil else { throw InvalidInput("question \(question) has no answer to revise (drop --revise): nothing appended") }
                _ = try Check.nonEmpty(revisionReason, "revision reason")
            } else if let earlier, earlier.answer != answer {
                throw InvalidInput(
                    "question \(question) was answered \(earlier.answer ? "yes" : "no"); to change the answer pass --revise --reason TEXT: nothing appended")
            }
            let answered = QuestionAnswered(question: question, answer: answer, by: by, note: note, revisionReason: revisionReason)
            var payloads: [any EventPayload] = [answered]
            state.answers[question] = answered
            if case .option(let option)? = state.flowchartWalk.end, state.option == nil || (revisionReason != nil && option != state.option) {
                payloads.append(OptionChosen(option: option, path: state.flowchartWalk.path))
            }
            return try append(payloads, checkedAgainst: state)
        }
    }

    public func verifyChecklistItem(_ item: String, by: String? = nil, notes: String? = nil, drill drillID: String? = nil) throws -> AppendOutcome {
        try retryingConflicts {
            let state = try writableState(drillID)
            guard let rb = state.followed, rb.checklist.contains(where: { $0.id == item }) else {
                let known = state.followed?.checklist.map(\.id).joined(separator: ", ") ?? ""
                throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no checklist item \(item) (items: \(known)): nothing appended")
            }
            if let earlier = state.verified[item] { throw InvalidInput("checklist item \(item) was already verified\(earlier.by.map { " by \($0)" } ?? ""): nothing appended") }
            return try append([ChecklistItemVerified(item: item, by: by, notes: notes)], checkedAgainst: state)[0]
        }
    }

    /// Records an approval. The second value says why it opens nothing, when the runbook asks for
    /// other roles.
    public func approve(by: String, role: String, drill drillID: String? = nil) throws -> (AppendOutcome, notice: String?) {
        try retryingConflicts {
            let state = try writableState(drillID)
            guard state.status == .running else { throw Self.aborted(state) }
            let outcome = try append([ApprovalGranted(by: by, role: role)], checkedAgainst: state)[0]
            guard !state.roleOpensGate(role) else { return (outcome, nil) }
            let asked = state.followed?.approvals.map(\.role).joined(separator: ", ") ?? ""
            return (outcome, "recorded, but role \"\(role)\" opens nothing: runbook \(state.runbook?.id ?? "?") asks for approval by \(asked)")
        }
    }

    /// Records a decline: approvals recorded before it count no more, so the gate is closed until
    /// new approvals.
    public func decline(by: String, role: String, reason: String, drill drillID: String? = nil) throws -> AppendOutcome {
        try retryingConflicts {
            let state = try writableState(drillID)
            guard state.status == .running else { throw Self.aborted(state) }
            return try append([ApprovalDeclined(by: by, role: role, reason: reason)], checkedAgainst: state)[0]
        }
    }

    public func completePhase(_ id: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        try retryingConflicts {
            if let earlier = try retried(idempotencyKey, PhaseCompleted(phase: id)) { return earlier }
            let state = try writableState(drillID)
            let phase = try Self.phase(id, in: state)
            guard state.status == .running else { throw Self.aborted(state) }
            guard phase.startedAt != nil else { throw InvalidInput("phase \(id) was never started (failback phase start \(id)): nothing appended") }
            if let at = phase.completedAt { throw InvalidInput("phase \(id) already completed at \(at): nothing appended") }
            let open = state.steps.filter { $0.section == id && ($0.status == .pending || $0.status == .running) }
            if !open.isEmpty {
                throw InvalidInput(
                    "phase \(id) has steps not recorded: \(open.map(\.id).joined(separator: ", ")) (failback step done|skip|fail STEP): nothing appended")
            }
            return try append([PhaseCompleted(phase: id)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
        }
    }

    /// Records a step's outcome. `done` needs the step's `after:` steps done or skipped first
    /// (unless `overrideReason`, recorded).
    public func recordStep(
        _ outcome: StepOutcome, _ id: String, reason: String?, overrideReason: String? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        try retryingConflicts {
            let payload: any EventPayload
            switch outcome {
            case .done: payload = StepCompleted(step: id, reason: reason)
            case .skip: payload = StepSkipped(step: id, reason: reason)
            case .fail: payload = StepFailed(step: id, reason: reason)
            }
            if let earlier = try retried(idempotencyKey, payload) { return earlier }
            let state = try writableState(drillID)
            let step = try Self.recordableStep(id, in: state)
            if outcome != .done, reason?.allSatisfy(\.isWhitespace) ?? true {
                throw InvalidInput("a \(outcome == .skip ? "skipped" : "failed") step needs --reason: nothing appended")
            }
            let missing = outcome == .done && step.status != .running ? Self.stepPredecessorsMissing(step, in: state) : []
            return try appendGated(payload, step: step, missing: missing, overrideReason: overrideReason, state: state, idempotencyKey: idempotencyKey)
        }
    }

    /// Records that a step began (`StepStarted`): its duration runs from here. Its `after:` steps
    /// must be done or skipped first (unless `overrideReason`, recorded).
    public func startStep(_ id: String, overrideReason: String? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        try retryingConflicts {
            if let earlier = try retried(idempotencyKey, StepStarted(step: id)) { return earlier }
            let state = try writableState(drillID)
            let step = try Self.recordableStep(id, in: state)
            if step.status == .running, let at = step.startedAt {
                throw InvalidInput("step \(id) was already started at \(at): nothing appended")
            }
            let missing = Self.stepPredecessorsMissing(step, in: state)
            return try appendGated(StepStarted(step: id), step: step, missing: missing, overrideReason: overrideReason, state: state, idempotencyKey: idempotencyKey)
        }
    }

    /// Starts `id` when it has not been started (what `exec --step` does before running its
    /// command); nil when it was already running. Refused as `startStep` refuses.
    public func startStepIfNeeded(_ id: String, drill drillID: String? = nil) throws -> AppendOutcome? {
        let state = try writableState(drillID)
        if state.step(id)?.status == .running { return nil }
        return try startStep(id, drill: drillID)
    }

    private func appendGated(
        _ payload: any EventPayload, step: DrillState.StepState, missing: [String], overrideReason: String?, state: DrillState, idempotencyKey: String?
    ) throws -> AppendOutcome {
        guard !missing.isEmpty else { return try append([payload], checkedAgainst: state, idempotencyKey: idempotencyKey)[0] }
        guard let reason = overrideReason else {
            throw InvalidInput("step \(step.id) is gated: \(missing.joined(separator: "; ")) (or pass --override --reason TEXT): nothing appended")
        }
        return try append([GateOverridden(phase: step.section, missing: missing, reason: reason), payload], checkedAgainst: state, idempotencyKey: idempotencyKey)[1]
    }

    private static func stepPredecessorsMissing(_ step: DrillState.StepState, in state: DrillState) -> [String] {
        step.after.compactMap { dep in
            let s = state.step(dep)
            return s?.status == .done || s?.status == .skipped ? nil : "step \(dep) not done (it comes before \(step.id))"
        }
    }

    /// The step `id`, when the drill can record something of it now.
    private static func recordableStep(_ id: String, in state: DrillState) throws -> DrillState.StepState {
        guard let step = state.step(id) else {
            throw InvalidInput("runbook \(state.runbook?.id ?? "?") has no step \(id) (failback runbook show lists them): nothing appended")
        }
        let rollbackSection = state.followed?.rollback?.id
        if step.section == rollbackSection {
            guard state.status == .rollingBack else {
                throw InvalidInput("step \(id) belongs to the abort procedure; abort the drill first (failback drill abort --reason ...): nothing appended")
            }
        } else if let phase = state.phase(step.section) {
            guard state.status == .running else { throw Self.aborted(state) }
            guard phase.applies else {
                throw InvalidInput("step \(id) belongs to phase \(phase.id) of option \(phase.option ?? "?"), which this drill does not follow: nothing appended")
            }
            guard phase.startedAt != nil, phase.completedAt == nil else {
                throw InvalidInput("step \(id) belongs to phase \(phase.id), which is \(phase.startedAt == nil ? "not started" : "completed"): nothing appended")
            }
        } else {
            guard state.status == .running else { throw Self.aborted(state) }
        }
        if step.status == .done || step.status == .skipped {
            throw InvalidInput("step \(id) was already recorded as \(step.status.rawValue)\(step.at.map { " at \($0)" } ?? ""): nothing appended")
        }
        return step
    }

    /// Aborts the drill: from here on it follows the runbook's rollback procedure.
    public func abortDrill(reason: String, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        try retryingConflicts {
            if let earlier = try retried(idempotencyKey, DrillAborted(reason: reason)) { return earlier }
            let state = try writableState(drillID)
            guard state.status == .running else { throw Self.aborted(state) }
            return try append([DrillAborted(reason: reason)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
        }
    }

    /// Ends the drill (closing its log). Without `requested`, the outcome is worked out from the
    /// state (`DrillState.conclusion`) with its reasons. `success` over a state that does not
    /// support it is refused unless `overrideReason` is given (recorded with what was missing);
    /// an aborted drill never completes as success; `no-go` and `postponed` only before any phase
    /// started; `aborted` only after an abort.
    public func completeDrill(
        outcome requested: DrillCompleted.Outcome? = nil, overrideReason: String? = nil, drill drillID: String? = nil, idempotencyKey: String? = nil
    ) throws -> AppendOutcome {
        try retryingConflicts {
            if let key = idempotencyKey, let earlier = try store.event(withIdempotencyKey: key), earlier.type == DrillCompleted.eventType {
                return .alreadyRecorded(earlier)  // the drill is closed now: the store would refuse a retry
            }
            let state = try writableState(drillID)
            // An abort interrupts the phase that was running, and so does a drill declared failed:
            // any other outcome of a drill still going must close its phase first.
            if state.status == .running, requested != .failed, let running = state.currentPhase {
                throw InvalidInput("phase \(running.id) is still running; complete it first (failback phase complete \(running.id)): nothing appended")
            }
            let concluded = state.conclusion
            let outcome = requested ?? concluded.outcome
            let started = state.phases.contains { $0.startedAt != nil }
            var reasons = concluded.outcome == outcome ? concluded.reasons : []
            var override: String?
            switch outcome {
            case .success:
                if state.status == .rollingBack {
                    throw InvalidInput("the drill was aborted (\(state.abortReason ?? "")); it cannot complete with success: nothing appended")
                }
                if concluded.outcome != .success {
                    guard let overrideReason else {
                        throw InvalidInput(
                            "the drill does not support success: \(concluded.reasons.joined(separator: "; ")) (complete it without --outcome, or pass --override --reason TEXT): nothing appended"
                        )
                    }
                    override = try Check.nonEmpty(overrideReason, "override reason")
                    reasons = concluded.reasons
                }
            case .aborted:
                guard state.status == .rollingBack else { throw InvalidInput("the drill was not aborted (failback drill abort --reason TEXT first): nothing appended") }
            case .noGo, .postponed:
                guard !started else {
                    throw InvalidInput("phases have started: a drill that went is not \(outcome.rawValue); abort it (failback drill abort --reason TEXT): nothing appended")
                }
                guard state.status == .running else { throw Self.aborted(state) }
                if reasons.isEmpty { reasons = ["declared \(outcome.rawValue) by \(context.actor)"] }
            case .failed:
                if reasons.isEmpty { reasons = ["declared failed by \(context.actor)"] }
            }
            if overrideReason != nil && override == nil {
                throw InvalidInput("--override is for an outcome the drill's state does not support; \(outcome.rawValue) needs none: nothing appended")
            }
            return try append([DrillCompleted(outcome: outcome, reasons: reasons, overrideReason: override)], checkedAgainst: state, idempotencyKey: idempotencyKey)[0]
        }
    }

    /// Runs a gated command: it reads the drill, checks its gate and appends while holding the
    /// store's write lock, so the gate it checked still holds when its events land, whoever else
    /// is recording. The drill is folded once before the lock is taken (the long part); under the
    /// lock only the events added since are folded.
    private func retryingConflicts<T>(_ body: () throws -> T) throws -> T {
        if let current = try? drillForWriting(nil) { _ = try? writableState(current.drillID) }
        return try store.exclusively(body)
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
