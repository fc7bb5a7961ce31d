import FailbackLog

extension DrillState.PhaseState {
    public var status: String {
        completedAt != nil ? "done" : interruptedAt != nil ? "interrupted" : startedAt != nil ? "running" : applies ? "pending" : "not-followed"
    }

    /// Seconds from start to completion, when both happened.
    public var durationSeconds: Double? {
        guard let s = startedAt, let c = completedAt else { return nil }
        return Double(c.millisecondsSinceEpoch - s.millisecondsSinceEpoch) / 1000
    }

    /// Seconds from start to completion (or interruption), or to `now` while running.
    public func elapsedSeconds(now: Timestamp) -> Double? {
        guard let s = startedAt else { return nil }
        return Double((completedAt ?? interruptedAt ?? now).millisecondsSinceEpoch - s.millisecondsSinceEpoch) / 1000
    }

    /// Longer than the runbook's target (the upper end of a range), measured to `now` while running.
    public func overran(now: Timestamp) -> Bool {
        guard let target = targetMinutes, let e = elapsedSeconds(now: now) else { return false }
        return e / 60 > target.upperBound
    }
}

extension DrillState.StepState {
    /// Seconds from its start to its outcome, or to `now` while it runs (nil: never started).
    public func elapsedSeconds(now: Timestamp) -> Double? {
        guard let s = startedAt else { return nil }
        let end = status == .running ? now : (at ?? now)
        return Double(end.millisecondsSinceEpoch - s.millisecondsSinceEpoch) / 1000
    }

    /// Longer than its target, measured to `now` while it runs.
    public func overran(now: Timestamp) -> Bool {
        guard let target = targetMinutes, let e = elapsedSeconds(now: now) else { return false }
        return e / 60 > target.upperBound
    }
}

extension DrillState {
    /// The moment running work is measured to: the drill's end, else `now`, else its last event.
    func measuredTo(_ now: Timestamp?) -> Timestamp {
        endedAt ?? now ?? lastEventAt ?? Timestamp(millisecondsSinceEpoch: 0)
    }

    /// The state as JSON: what `failback status --json` prints. Without `now` it holds no clock
    /// reading (running work is measured to the last event), so the same events always give the
    /// same bytes; with `now` (a live `status`) running work is measured to it, as the text is.
    public var json: JSONValue { json(now: nil) }

    public func json(now: Timestamp?) -> JSONValue {
        func time(_ t: Timestamp?) -> JSONValue? { t.map { .string($0.description) } }
        func range(_ r: ClosedRange<Double>?) -> JSONValue? { r.map { [.number($0.lowerBound), .number($0.upperBound)] } }
        func secs(_ d: Double?) -> JSONValue? { d.map(JSONValue.number) }
        let end = measuredTo(now)
        let verdict = status == .completed ? nil : conclusion
        let estimate = followed?.options.first { $0.id == option }?.estimatedMinutes
        let elapsed = startedAt.map { Double(end.millisecondsSinceEpoch - $0.millisecondsSinceEpoch) / 1000 }
        return .members([
            "drill_id": drillID.map(JSONValue.string),
            "status": .string(status.rawValue),
            "outcome": outcome.map { .string($0.rawValue) },
            "outcome_reasons": outcome == nil ? nil : .array(outcomeReasons.map(JSONValue.string)),
            "outcome_override": outcomeOverride.map(JSONValue.string),
            "abort_reason": abortReason.map(JSONValue.string),
            "aborted_at": time(abortedAt),
            "runbook": runbook.map { ["id": .string($0.id), "version": .string($0.version), "digest": .string($0.digest)] },
            "option": option.map(JSONValue.string),
            "operator": operatorName.map(JSONValue.string),
            "ticket": ticket.map(JSONValue.string),
            "operators": .array(
                operators.map { o in
                    .members(["name": .string(o.name), "role": o.role.map(JSONValue.string), "joined_at": .string(o.joinedAt.description), "drill_seq": JSONValue(o.drillSeq)])
                }),
            "started_at": time(startedAt), "ended_at": time(endedAt), "last_event_at": time(lastEventAt),
            "measured_to": time(end),
            "elapsed_seconds": secs(elapsed),
            "estimated_minutes": range(estimate),
            "over_estimate": estimate.flatMap { e in elapsed.map { .bool($0 / 60 > e.upperBound) } },
            "events": JSONValue(eventCount),
            "current_phase": currentPhase.map { .string($0.id) },
            "phases": .array(
                phases.map { p in
                    .members([
                        "id": .string(p.id), "title": .string(p.title), "option": p.option.map(JSONValue.string), "status": .string(p.status),
                        "started_at": time(p.startedAt), "completed_at": time(p.completedAt),
                        "duration_seconds": secs(p.durationSeconds), "elapsed_seconds": secs(p.elapsedSeconds(now: end)),
                        "target_minutes": range(p.targetMinutes), "overrun": .bool(p.overran(now: end)),
                    ])
                }),
            "steps": .array(
                steps.filter { $0.status != .pending }.map { s in
                    .members([
                        "id": .string(s.id), "section": .string(s.section), "status": .string(s.status.rawValue), "started_at": time(s.startedAt),
                        "at": time(s.at), "reason": s.reason.map(JSONValue.string), "duration_seconds": secs(s.durationSeconds),
                        "elapsed_seconds": secs(s.elapsedSeconds(now: end)), "target_minutes": range(s.targetMinutes), "overrun": .bool(s.overran(now: end)),
                        "started_by": s.startedBy.map(JSONValue.string), "recorded_by": s.recordedBy.map(JSONValue.string),
                    ])
                }),
            "steps_pending": JSONValue(pendingSteps.count),
            "issues": .array(issues.map { ["severity": .string($0.severity.rawValue), "title": .string($0.title)] }),
            "answers": .object(answers.mapValues { .string($0.answer ? "yes" : "no") }),
            "checklist_verified": .array(verified.keys.sorted().map(JSONValue.string)),
            "approvals": .array(approvals.map { ["by": .string($0.by), "role": .string($0.role)] }),
            "declines": .array(declines.map(\.json)),
            "option_chosen_by_flowchart": chosen.map { $0.json },
            "overrides": .array(overrides.map(\.json)),
            "checks_failed": .array(
                failedChecks.map { c in
                    ["kind": .string(c.verdict.kind), "name": .string(c.verdict.name), "drill_seq": JSONValue(c.drillSeq)]
                }),
            "conclusion": verdict.map { ["outcome": .string($0.outcome.rawValue), "reasons": .array($0.reasons.map(JSONValue.string))] },
            "metrics": metrics.json,
            "timeline": .array(timeline.map { ["drill_seq": JSONValue($0.drillSeq), "at": .string($0.at.description), "type": .string($0.type), "summary": .string($0.summary)] }),
            "blockers": .array((phases.contains { $0.startedAt != nil } ? [] : blockers).map(JSONValue.string)),
            "notes": JSONValue(notes), "observations": JSONValue(observations),
            "redis": redis.isEmpty
                ? nil
                : .array(
                    redis.sorted { $0.key < $1.key }.map { server, r in
                        .members([
                            "server": .string(server), "at": .string(r.at.description), "role": r.observed.role.map(JSONValue.string),
                            "master_link_status": r.observed.masterLinkStatus.map(JSONValue.string),
                            "connected_replicas": r.observed.connectedReplicas.map { JSONValue($0) },
                            "offset_lag_bytes": r.observed.offsetLagBytes.map { JSONValue($0) },
                            "passed": .bool(r.observed.passed), "summary": .string(r.observed.summary),
                        ])
                    }),
        ])
    }

    /// The state for a person in a terminal; durations of running work are measured to `now`.
    public func render(now: Timestamp) -> String {
        var out: [String] = []
        let end = endedAt ?? now
        let headline = status == .completed ? "completed: \(outcome?.rawValue ?? "?")" : status == .rollingBack ? "ABORTED, rolling back" : status.rawValue
        out.append("drill \(drillID ?? "?")  \(headline)")
        if let o = outcomeOverride { out.append("outcome OVERRIDDEN: \(o)") }
        if status == .completed, !outcomeReasons.isEmpty { out.append("because: " + outcomeReasons.joined(separator: "; ")) }
        if let rb = runbook {
            out.append(
                "runbook \(rb.id) v\(rb.version) (sha256 \(rb.digest.prefix(12))…)" + (option.map { " · option \($0)" } ?? "")
                    + (operatorName.map { " · operator \($0)" } ?? "") + (ticket.map { " · ticket \($0)" } ?? ""))
        }
        if let s = startedAt {
            let elapsed = Double(end.millisecondsSinceEpoch - s.millisecondsSinceEpoch) / 1000
            let estimate = followed?.options.first { $0.id == option }?.estimatedMinutes
            let against =
                estimate.map { e in
                    " (estimate \(e.lowerBound == e.upperBound ? trimmed(e.upperBound) : "\(trimmed(e.lowerBound))–\(trimmed(e.upperBound))") min"
                        + (elapsed / 60 > e.upperBound ? ", OVER)" : ")")
                } ?? ""
            out.append("started \(s) · elapsed \(formatDuration(elapsed))\(against)" + (abortReason.map { " · abort reason: \($0)" } ?? ""))
        }
        if !operators.isEmpty {
            out.append("operators: " + operators.map { o in terminalSafe(o.role.map { "\(o.name) (\($0))" } ?? o.name) }.joined(separator: ", "))
        }
        if status == .running, !phases.contains(where: { $0.startedAt != nil }) {
            out.append("")
            let missing = blockers
            if missing.isEmpty {
                out.append("go/no-go: GO — every question answered yes, checklist verified, approved" + (option.map { ", option \($0)" } ?? ""))
            } else {
                out.append("go/no-go: blocked by")
                for m in missing { out.append("  - \(m)") }
            }
        }
        if let c = chosen { out.append("option \(c.option) chosen by the flowchart: " + c.path.map { "\($0.node) \($0.answer ? "yes" : "no")" }.joined(separator: " → ")) }
        for o in overrides { out.append("gate of \(o.phase) OVERRIDDEN: \(o.reason) (missing: \(o.missing.joined(separator: "; ")))") }
        out.append("")
        out.append("phases")
        let width = phases.map(\.id.count).max() ?? 0
        for p in phases where p.applies {
            var line = "  \(p.status.uppercased() == "RUNNING" ? "RUNNING" : p.status.padding(7))  \(p.id.padding(width))  \(p.title)"
            if let s = p.startedAt { line += "  \(Self.duration(s, p.completedAt ?? end))" }
            if let t = p.targetMinutes { line += "  (target \(t.lowerBound == t.upperBound ? trimmed(t.upperBound) : "\(trimmed(t.lowerBound))–\(trimmed(t.upperBound))") min)" }
            if p.overran(now: end) { line += "  OVERRUN" }
            out.append(line)
        }
        let skipped = phases.filter { !$0.applies }.count
        if skipped > 0 { out.append("  (\(skipped) phases of other options not followed)") }
        if let current = currentPhase {
            let mine = steps.filter { $0.section == current.id }
            out.append("")
            out.append("phase \(current.id): \(mine.filter { $0.status != .pending }.count)/\(mine.count) steps recorded")
            for s in mine {
                out.append(
                    "  \(s.status.rawValue.padding(7))  \(s.id)  \(s.title)" + (s.reason.map { " — \($0)" } ?? "")
                        + (s.elapsedSeconds(now: end).map { "  \(formatDuration($0))" } ?? "")
                        + (s.targetMinutes.map { "  (target \(trimmed($0.upperBound)) min)" } ?? "") + (s.overran(now: end) ? "  OVERRUN" : ""))
            }
        }
        let late = steps.filter { $0.overran(now: end) }
        if !late.isEmpty {
            out.append("")
            out.append(
                "overruns: "
                    + late.map { s in
                        "\(s.id) \(s.status == .running ? "running for" : "took") \(formatDuration(s.elapsedSeconds(now: end) ?? 0)) (target \(trimmed(s.targetMinutes?.upperBound ?? 0)) min)"
                    }.joined(separator: "; "))
        }
        let failedNow = failedChecks.filter { $0.verdict.kind != "step" }
        if !failedNow.isEmpty {
            out.append("")
            out.append("failed checks (latest run): " + failedNow.map { "\($0.verdict.kind) \($0.verdict.name) (#\($0.drillSeq))" }.joined(separator: "; "))
        }
        let failed = steps.filter { $0.status == .failed }
        if !failed.isEmpty { out.append(""); out.append("failed steps: " + failed.map(\.id).joined(separator: ", ")) }
        if !issues.isEmpty {
            out.append("")
            out.append("issues: " + issues.map { "[\($0.severity.rawValue)] \($0.title)" }.joined(separator: "; "))
        }
        let m = metrics
        var figures: [String] = []
        if let rto = m.rtoText { figures.append(rto) }
        if let rpo = m.rpoSeconds {
            figures.append("RPO \(formatDuration(rpo))" + (m.rpoTargetSeconds.map { " (target \(formatDuration($0)): \(rpo <= $0 ? "met" : "MISSED"))" } ?? ""))
        }
        if let note = m.rpoNote { figures.append(note) }
        if let missing = m.rowsMissing { figures.append("rows missing \(missing)") }
        if let dns = m.dnsPropagationSeconds { figures.append("DNS propagated in \(formatDuration(dns))") }
        if let dns = m.dnsRevertSeconds { figures.append("DNS reverted in \(formatDuration(dns)) (rollback)") }
        let direction = followed?.sites.map { " \($0.from) → \($0.to)" } ?? ""
        if let lag = m.lag {
            figures.append("lag\(direction) \(formatDuration(lag.last)) last, \(formatDuration(lag.max)) max over \(lag.count) sample\(lag.count == 1 ? "" : "s")")
        }
        if let r = m.reverseLag { figures.append("other direction \(formatDuration(r.last)) last, \(formatDuration(r.max)) max over \(r.count) sample\(r.count == 1 ? "" : "s")") }
        if !figures.isEmpty {
            out.append("")
            out.append(figures.joined(separator: " · "))
        }
        if !redis.isEmpty {
            out.append("")
            out.append("redis, as last observed")
            for (_, r) in redis.sorted(by: { $0.key < $1.key }) { out.append("  \(r.at)  \(r.observed.summary)") }
        }
        out.append("")
        out.append("\(eventCount) events (\(observations) observations, \(notes) notes)" + (nextAction.map { " · next: \($0)" } ?? ""))
        // Text recorded by anyone (issues, reasons, names) is shown escaped, never sent raw.
        return out.map { terminalSafe($0, keepTabs: true) }.joined(separator: "\n")
    }

    /// The command that moves the drill on, as a hint.
    public var nextAction: String? {
        switch status {
        case .notStarted, .completed: return nil
        case .rollingBack:
            let pending = pendingSteps.first { $0.section == followed?.rollback?.id }
            return pending.map { "failback step done \($0.id)" } ?? "failback drill complete"
        case .running:
            if let current = currentPhase {
                let pending = steps.first { $0.section == current.id && ($0.status == .pending || $0.status == .running) }
                return pending.map { "failback step done \($0.id)" } ?? "failback phase complete \(current.id)"
            }
            if !phases.contains(where: { $0.startedAt != nil }), let first = blockers.first, let hint = first.firstRange(of: "(failback ") {
                return String(first[hint.lowerBound...].dropFirst().dropLast())
            }
            if let phase = phases.first(where: { $0.applies && $0.startedAt == nil }) { return "failback phase start \(phase.id)" }
            return pendingSteps.first.map { "failback step done \($0.id)" } ?? "failback drill complete"
        }
    }

    static func duration(_ from: Timestamp, _ to: Timestamp) -> String {
        formatDuration(Double(to.millisecondsSinceEpoch - from.millisecondsSinceEpoch) / 1000)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
