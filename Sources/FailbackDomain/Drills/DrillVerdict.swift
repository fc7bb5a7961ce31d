import FailbackLog

/// The rules that decide what a drill may do next and what it came to: approvals, the order of
/// phases and steps, the steps of the path the drill follows, and its outcome with the reasons.
extension DrillState {
    /// A role (or a person's name) as compared: `Incident Commander`, `incident-commander` and
    /// `incident_commander` are one; characters that show as nothing (a zero-width space, a
    /// soft hyphen, a joiner) are not there, so `Mor\u{200B}gan` is Morgan and cannot approve twice.
    public static func normalizedRole(_ role: String) -> String {
        var out = ""
        var gap = false
        for ch in role.lowercased() {
            if ch.unicodeScalars.allSatisfy({ $0.properties.isDefaultIgnorableCodePoint || $0.properties.generalCategory == .format }) { continue }
            if ch.isLetter || ch.isNumber {
                if gap && !out.isEmpty { out.append("-") }
                out.append(ch)
                gap = false
            } else {
                gap = true
            }
        }
        return out
    }

    /// What the approvals still lack (empty: the approval part of the gate is met). A runbook's
    /// `approvals` asks for `count` distinct people of each role; without it, one approval of any
    /// role. Approvals recorded before the latest decline do not count.
    public var approvalGaps: [String] {
        guard let rb = followed else { return [] }
        var gaps: [String] = []
        if rb.approvals.isEmpty {
            if approvalsInForce.isEmpty { gaps.append("no approval (failback approve --by NAME --role ROLE)") }
        } else {
            for need in rb.approvals {
                let role = Self.normalizedRole(need.role)
                let people = Set(approvalsInForce.filter { Self.normalizedRole($0.role) == role }.map { Self.normalizedRole($0.by) })
                if people.count < need.count {
                    gaps.append("approval by \(need.role): \(people.count) of \(need.count) (failback approve --by NAME --role \(need.role))")
                }
            }
        }
        if !gaps.isEmpty, let d = declines.last {
            gaps.insert("declined by \(d.by) (\(d.role)): \(d.reason); approvals before it no longer count", at: 0)
        }
        return gaps
    }

    /// Whether an approval with `role` counts toward the runbook's gate.
    public func roleOpensGate(_ role: String) -> Bool {
        guard let rb = followed, !rb.approvals.isEmpty else { return true }
        return rb.approvals.contains { Self.normalizedRole($0.role) == Self.normalizedRole(role) }
    }

    /// The phases that must complete before `id` starts: its `after:` (those the drill follows),
    /// else the previous phase the drill follows in the runbook's order.
    public func predecessors(ofPhase id: String) -> [String] {
        let followedPhases = phases.filter(\.applies)
        guard let i = followedPhases.firstIndex(where: { $0.id == id }) else { return [] }
        if let after = followedPhases[i].after { return after.filter { dep in followedPhases.contains { $0.id == dep } } }
        return i == 0 ? [] : [followedPhases[i - 1].id]
    }

    /// The steps the drill's path holds: those of the phases it follows, the post tasks and the
    /// validation; after an abort, the abort procedure's instead of the phases not yet started.
    public var followedSteps: [StepState] {
        let rollback = followed?.rollback?.id
        let followedPhases = Set(phases.filter(\.applies).map(\.id))
        let allPhases = Set(phases.map(\.id))
        return steps.filter { s in
            if s.section == rollback { return status == .rollingBack || (status == .completed && abortedAt != nil) }
            if allPhases.contains(s.section) { return followedPhases.contains(s.section) }
            return true
        }
    }

    /// Steps of the path not yet done, skipped or failed.
    public var pendingSteps: [StepState] { followedSteps.filter { $0.status == .pending || $0.status == .running } }

    /// What the drill comes to if it is completed now, and why.
    public struct Conclusion: Sendable, Equatable {
        public var outcome: DrillCompleted.Outcome
        public var reasons: [String]
    }

    /// `success` only when an option was followed (if the runbook has options), every phase of its
    /// procedure completed, every step of its path done or skipped, writes that were stopped
    /// resumed, and no check's latest run failed; `aborted` after an abort; `no-go` or `postponed`
    /// when no phase started and the decision was not to go; otherwise `failed`.
    public var conclusion: Conclusion {
        guard let rb = followed else { return Conclusion(outcome: .failed, reasons: ["the drill has no runbook"]) }
        if status == .rollingBack || abortedAt != nil {
            var reasons = ["aborted: \(abortReason ?? "")"]
            for s in pendingSteps where s.section == rb.rollback?.id { reasons.append("abort step \(s.id) not done") }
            for s in steps where s.section == rb.rollback?.id && s.status == .failed { reasons.append("abort step \(s.id) failed: \(s.reason ?? "")") }
            return Conclusion(outcome: .aborted, reasons: reasons)
        }
        if !phases.contains(where: { $0.startedAt != nil }) {
            let walk = flowchartWalk
            let path = walk.path.map { "\($0.node): \($0.answer ? "yes" : "no")" }.joined(separator: " → ")
            if case .outcome(let name, let text)? = walk.end {
                let later = ["schedule", "postpone", "postponed", "later", "reschedule"].contains(name.lowercased())
                return Conclusion(outcome: later ? .postponed : .noGo, reasons: ["the flowchart says: \(text) (\(path))"])
            }
            let noes = rb.questions.filter { answers[$0.id]?.answer == false }.map { "question \($0.id) answered no: \($0.text)" }
            if !noes.isEmpty { return Conclusion(outcome: .noGo, reasons: noes) }
            if let d = declines.last, approvalsInForce.isEmpty {
                return Conclusion(outcome: .noGo, reasons: ["declined by \(d.by) (\(d.role)): \(d.reason)"])
            }
            return Conclusion(outcome: .failed, reasons: ["no phase was started"])
        }
        var reasons: [String] = []
        if !rb.options.isEmpty && option == nil { reasons.append("no option was followed") }
        for p in phases where p.applies && p.completedAt == nil {
            reasons.append("phase \(p.id) \(p.startedAt == nil ? "not started" : "not completed")")
        }
        for s in followedSteps {
            switch s.status {
            case .pending: reasons.append("step \(s.id) not done")
            case .running: reasons.append("step \(s.id) started, not finished")
            case .failed: reasons.append("step \(s.id) failed: \(s.reason ?? "")")
            case .done, .skipped: break
            }
        }
        let m = metrics
        if let stopped = m.writesStoppedAt, m.writesResumedAt == nil { reasons.append("writes stopped at \(stopped) never resumed") }
        // The runbook's targets are part of success: a failback that missed them did not succeed.
        if m.rtoMet == false, let rto = m.rtoSeconds, let target = m.rtoTargetSeconds {
            reasons.append("RTO missed: \(formatDuration(rto)) against a target of \(formatDuration(target))")
        }
        if m.rpoMet == false, let rpo = m.rpoSeconds, let target = m.rpoTargetSeconds {
            reasons.append("RPO missed: \(formatDuration(rpo)) against a target of \(formatDuration(target))")
        }
        if let missing = m.rowsMissing, missing > 0 { reasons.append("row counts differ: \(missing) rows missing between the sites") }
        for c in failedChecks where c.verdict.kind != "step" {
            reasons.append("check failed: \(c.verdict.kind) \(c.verdict.name) (#\(c.drillSeq))")
        }
        return Conclusion(outcome: reasons.isEmpty ? .success : .failed, reasons: reasons)
    }
}
