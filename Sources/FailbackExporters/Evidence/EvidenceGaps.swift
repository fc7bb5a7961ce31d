import FailbackDomain
import FailbackLog

/// Which SOC 2 control lacks which evidence, judged from the runbook the drill followed and what
/// the drill recorded (`failback evidence gaps`).
public struct EvidenceGap: Sendable, Equatable {
    public var control: String
    public var missing: String
}

extension DrillReport {
    public var evidenceGaps: [EvidenceGap] {
        var gaps: [EvidenceGap] = []
        func gap(_ control: String, _ missing: String) { gaps.append(EvidenceGap(control: control, missing: missing)) }
        let m = metrics
        // CC9.1: the plan, the decision to run it, and its end.
        if state.approvals.isEmpty { gap("CC9.1", "no approval recorded (failback approve)") }
        if state.option == nil && state.chosen == nil && !(state.followed?.options.isEmpty ?? true) {
            gap("CC9.1", "no strategy option chosen (failback decide ... or drill start --option)")
        }
        if state.status != .completed { gap("CC9.1", "the drill is not completed (failback drill complete)") }
        // A1.2: the recovery infrastructure was measured.
        if state.lag.isEmpty { gap("A1.2", "no replication lag sample (failback observe lag)") }
        if m.writesStoppedAt != nil && m.rpoSeconds == nil { gap("A1.2", "no replication lag sample before writes resumed (RPO not measured)") }
        if let resumed = m.writesResumedAt, !(state.lag.last.map { $0.at >= resumed } ?? false) { gap("A1.2", "no post-cutover replication lag sample (after writes resumed)") }
        if !m.rowCounts.contains(where: { $0.counts.count >= 2 }) { gap("A1.2", "no row-count comparison across sites (failback observe rowcount)") }
        let usesPostgres = state.followed?.allSteps.contains { $0.step.services.contains("postgresql") } ?? false
        if usesPostgres && !checks.contains(where: { $0.kind == "recovery" }) { gap("A1.2", "no database role check (failback observe recovery)") }
        let usesRedis = state.followed?.allSteps.contains { $0.step.services.contains { $0.hasPrefix("redis") } } ?? false
        if usesRedis && !checks.contains(where: { $0.kind == "redis" || $0.kind == "wait" && $0.name.hasPrefix("redis ") }) {
            gap("A1.2", "no Redis role check (failback observe redis)")
        }
        // A1.3: the plan was tested, step by step, with proof of the cutover.
        if !state.phases.isEmpty && !state.phases.contains(where: { $0.startedAt != nil }) { gap("A1.3", "no phase of the runbook was run (failback phase start)") }
        let followedSteps = state.steps.filter { s in state.phases.contains { $0.applies && $0.id == s.section } }
        let pending = followedSteps.filter { $0.status == .pending }
        if !pending.isEmpty {
            gap(
                "A1.3",
                "\(pending.count) step(s) of the followed procedure have no record: " + pending.prefix(5).map(\.id).joined(separator: ", ") + (pending.count > 5 ? ", ..." : ""))
        }
        if followedSteps.contains(where: \.cutover) {
            if m.cutoverAt == nil {
                gap("A1.3", "the DNS cutover step is not recorded done")
            } else if m.dnsPropagationSeconds == nil {
                gap("A1.3", "no DNS cutover proof: no answer with the new address after the cutover (failback observe dns --expect)")
            }
        }
        if let resumed = m.writesResumedAt,
            !checks.contains(where: { $0.kind == "http" && $0.evidence.at >= resumed })
                && !checks.contains(where: { $0.kind == "wait" && $0.name.hasPrefix("http") && $0.evidence.at >= resumed })
        {
            gap("A1.3", "no health check after writes resumed (failback observe http)")
        }
        if !checks.contains(where: { $0.kind == "command" }) { gap("A1.3", "no command output captured (failback exec)") }
        return gaps
    }
}
