import FailbackDomain
import FailbackLog

/// The report as titled tables of text: what the Markdown and HTML renderers both lay out.
struct ReportTable {
    var title: String
    var columns: [String]
    var rows: [[String]]
    /// Shown when there are no rows.
    var empty = "none recorded"

    /// A `##` section with a Markdown table (pipes in cells escaped, newlines flattened).
    var markdown: String {
        func cell(_ s: String) -> String { s.replacingAll("|", with: "\\|").replacingAll("\n", with: " ") }
        var out = "\n## \(title)\n\n"
        if rows.isEmpty { return out + "_\(empty)_\n" }
        out += "| " + columns.map(cell).joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: "---|", count: columns.count) + "\n"
        for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    /// The title, then the columns aligned with spaces, for a terminal.
    var text: String {
        var out = "\n\(title)\n"
        if rows.isEmpty { return out + "  \(empty)\n" }
        let all = [columns] + rows.map { $0.map { $0.replacingAll("\n", with: " ") } }
        let widths = columns.indices.map { i in all.map { $0[i].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { i, c in i == row.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
            out += "  " + cells.joined(separator: "  ").trimmingTrailingSpaces + "\n"
        }
        return out
    }
}

extension Array where Element == String {
    /// The elements in order, each once.
    var uniqued: [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension DrillReport {
    var title: String { "Failback report: \(state.drillID ?? "?")" }

    /// One line under the title: runbook, option, people, outcome.
    var subtitle: String {
        var parts: [String] = []
        if let r = state.runbook { parts.append("runbook \(r.id) v\(r.version) (sha256 \(r.digest))") }
        if let o = state.option { parts.append("option \(o)") }
        if let o = state.operatorName { parts.append("operator \(o)") }
        if let t = state.ticket { parts.append("ticket \(t)") }
        parts.append("status \(state.status.rawValue)" + (state.outcome.map { ", outcome \($0.rawValue)" } ?? ""))
        return parts.joined(separator: " · ")
    }

    static func time(_ t: Timestamp?) -> String { t?.description ?? "—" }
    static func seconds(_ s: Double?) -> String { s.map(formatDuration) ?? "—" }
    static func minutes(_ r: ClosedRange<Double>?) -> String {
        guard let r else { return "—" }
        func m(_ v: Double) -> String { v == v.rounded() ? "\(Int(v))" : "\(v)" }
        return r.lowerBound == r.upperBound ? "\(m(r.upperBound)) min" : "\(m(r.lowerBound))–\(m(r.upperBound)) min"
    }
    static func met(_ b: Bool?) -> String { b.map { $0 ? "yes" : "NO" } ?? "—" }
    static func evidence(_ e: EventReference) -> String { "event #\(e.drillSeq) (seq \(e.seq), \(e.hash.prefix(12)))" }

    /// The verdict in words: the outcome (recorded, or what completing now would give), and why.
    var verdictHeadline: String {
        if let o = state.outcome { return "Outcome: \(o.rawValue)" + (state.outcomeOverride != nil ? " (OVERRIDDEN)" : "") }
        return "Not completed (\(state.status.rawValue)); completing now would give: \(state.conclusion.outcome.rawValue)"
    }

    /// Why the outcome is what it is (recorded, or what completing now would give).
    var verdictReasons: [String] { state.outcome != nil ? state.outcomeReasons : state.conclusion.reasons }

    /// The verdict first: the outcome and its reasons, the override, the checks whose latest run
    /// failed (named), gate overrides and the issues raised.
    var verdictTable: ReportTable {
        let reasons = state.outcome != nil ? state.outcomeReasons : state.conclusion.reasons
        var rows: [[String]] = [["Verdict", verdictHeadline]]
        if let o = state.outcomeOverride { rows.append(["Override", o]) }
        rows.append([
            "Why",
            reasons.isEmpty
                ? "every phase of the followed procedure completed, every step done or skipped, the targets met, no rows missing, no check failed"
                : reasons.joined(separator: "; "),
        ])
        let failedNow = state.failedChecks
        rows.append(["Failed checks", failedNow.isEmpty ? "none" : failedNow.map { "\($0.verdict.kind) \($0.verdict.name) (event #\($0.drillSeq))" }.joined(separator: "; ")])
        rows.append(["Gate overrides", state.overrides.isEmpty ? "none" : state.overrides.map { "\($0.phase): \($0.reason)" }.joined(separator: "; ")])
        rows.append(["Issues raised", state.issues.isEmpty ? "none" : state.issues.map { "[\($0.severity.rawValue)] \($0.title)" }.joined(separator: "; ")])
        return ReportTable(title: "Verdict", columns: ["", ""], rows: rows)
    }

    /// The RTO row: met / MISSED, missed when writes never resumed, a rollback's time named as such.
    var rtoRow: [String] {
        let m = metrics
        let target = m.rtoTargetSeconds.map(formatDuration) ?? "—"
        if m.writesNeverResumed { return ["RTO (writes stopped → resumed)", "writes never resumed", target, "NO"] }
        if m.writesResumedByRollback {
            return ["Writes resumed on the old site (rollback, not a failback RTO)", m.rtoSeconds.map(formatDuration) ?? "—", target, "—"]
        }
        return ["RTO (writes stopped → resumed)", m.rtoSeconds.map(formatDuration) ?? "—", target, Self.met(m.rtoMet)]
    }

    /// The steps of the drill's path, and any other step that was recorded.
    var shownSteps: [DrillState.StepState] {
        let onPath = Set(state.followedSteps.map(\.id))
        return state.steps.filter { $0.status != .pending || onPath.contains($0.id) }
    }

    var tables: [ReportTable] {
        let m = metrics
        let issues = state.issues.isEmpty ? "none" : "\(state.issues.count): " + state.issues.map { "[\($0.severity.rawValue)] \($0.title)" }.joined(separator: "; ")
        var out: [ReportTable] = [verdictTable]
        out.append(
            ReportTable(
                title: "Summary", columns: ["Metric", "Value"],
                rows: [
                    ["Failback start time", Self.time(m.startedAt)],
                    ["Failback end time", Self.time(m.endedAt)],
                    ["Total duration", m.totalSeconds.map(formatDuration) ?? "—"],
                    ["Data loss", dataLoss],
                    ["Issues encountered", issues],
                    ["Services affected", servicesAffected.isEmpty ? "none recorded" : servicesAffected.joined(separator: ", ")],
                    ["Checks (latest run of each)", "\(passed) passed, \(failed) failed, \(skipped) skipped; \(checks.count) runs recorded"],
                ]))
        out.append(
            ReportTable(
                title: "Operators", columns: ["Operator", "Role", "Joined", "Event"],
                rows: state.operators.map { o in
                    [o.name, o.role ?? "—", Self.time(o.joinedAt), "#\(o.drillSeq)"]
                }))
        out.append(
            ReportTable(
                title: "Rollback metrics", columns: ["Metric", "Achieved", "Target", "Met"],
                rows: [
                    rtoRow,
                    ["RPO (last failback-direction lag before writes resumed)", m.rpoNote ?? Self.seconds(m.rpoSeconds), Self.seconds(m.rpoTargetSeconds), Self.met(m.rpoMet)],
                    [
                        "DNS cutover",
                        m.cutoverAt.map { "at \($0)" + (m.dnsPropagationSeconds.map { ", propagated in \(formatDuration($0))" } ?? ", not seen to propagate") } ?? "—", "—", "—",
                    ],
                    ["DNS after the abort", m.dnsRevertSeconds.map { "reverted in \(formatDuration($0))" } ?? "—", "—", "—"],
                    ["Reverse replication lag (samples, max, last)", m.reverseLag.map { "\($0.count), \(formatDuration($0.max)), \(formatDuration($0.last))" } ?? "—", "—", "—"],
                    ["Replication lag before / after cutover", "\(Self.seconds(lagBefore)) / \(Self.seconds(lagAfter))", "—", "—"],
                    ["Replication lag (samples, max, last)", m.lag.map { "\($0.count), \(formatDuration($0.max)), \(formatDuration($0.last))" } ?? "—", "—", "—"],
                ]))
        let followed = state.phases.filter { $0.applies || $0.startedAt != nil }
        out.append(
            ReportTable(
                title: "Phases", columns: ["Phase", "Started", "Completed", "Duration", "Target", "Over target"],
                rows: followed.map { p in
                    [
                        p.id + " — " + p.title, Self.time(p.startedAt), Self.time(p.completedAt), p.durationSeconds.map(formatDuration) ?? "—",
                        Self.minutes(p.targetMinutes), p.overran(now: state.endedAt ?? state.lastEventAt ?? Timestamp(millisecondsSinceEpoch: 0)) ? "YES" : "no",
                    ]
                }))
        let end = state.endedAt ?? state.lastEventAt ?? Timestamp(millisecondsSinceEpoch: 0)
        out.append(
            ReportTable(
                title: "Steps", columns: ["Step", "Section", "Status", "Started", "Recorded", "Duration", "Target", "Over target", "Who"],
                rows: shownSteps.map { s in
                    [
                        s.id + " — " + s.title, s.section, s.status.rawValue + (s.reason.map { ": \($0)" } ?? ""), Self.time(s.startedAt), Self.time(s.at),
                        s.durationSeconds.map(formatDuration) ?? (s.status == .pending ? "—" : "not measured (never started)"), Self.minutes(s.targetMinutes),
                        s.overran(now: end) ? "YES" : "no", [s.startedBy, s.recordedBy].compactMap { $0 }.uniqued.joined(separator: ", "),
                    ]
                }))
        out.append(
            ReportTable(
                title: "Checks", columns: ["Kind", "Check", "Result", "Detail", "Evidence"],
                rows: checks.map { c in
                    [c.kind, c.name, c.result == .pass ? "pass" : c.result == .fail ? "FAIL" : "skipped", c.detail, Self.evidence(c.evidence)]
                }))
        let sites = Array(Set(m.rowCounts.flatMap { $0.counts.keys })).sorted()
        out.append(
            ReportTable(
                title: "Row counts", columns: ["Table"] + sites + ["Delta"],
                rows: m.rowCounts.map { r in
                    [r.table] + sites.map { s in r.counts[s].map(String.init) ?? "—" } + [String(r.delta)]
                }))
        out.append(
            ReportTable(
                title: "Decisions", columns: ["Question", "Answer", "By", "Note", "Evidence"],
                rows: decisions.map { d in
                    [d.question, d.answer ? "yes" : "no", d.by ?? "—", d.note ?? "", Self.evidence(d.evidence)]
                }
                    + (state.chosen.map { [["flowchart", "option \($0.option)", "—", $0.path.map { "\($0.node): \($0.answer ? "yes" : "no")" }.joined(separator: " → "), ""]] }
                        ?? [])))
        out.append(
            ReportTable(
                title: "Checklist", columns: ["Item", "Verified by", "Notes"],
                rows: (state.followed?.checklist ?? []).map { c in
                    let v = state.verified[c.id]
                    return [c.id + " — " + c.item, v.map { $0.by ?? "(recorder)" } ?? "NOT VERIFIED", v?.notes ?? ""]
                }))
        out.append(ReportTable(title: "Approvals and declines", columns: ["Decision", "By", "Role", "Reason"], rows: approvalRows))
        if let needed = state.followed?.approvals, !needed.isEmpty {
            let gaps = state.approvalGaps
            out.append(
                ReportTable(
                    title: "Approvals required", columns: ["Role", "Count", "Met"],
                    rows: needed.map { n in
                        [n.role, String(n.count), gaps.contains { $0.hasPrefix("approval by \(n.role):") } ? "NO" : "yes"]
                    }))
        }
        out.append(
            ReportTable(
                title: "Notes", columns: ["At", "By", "Note", "Evidence"],
                rows: noteRows
                    + (notesSeen > noteRows.count
                        ? [["…", "", "\(notesSeen - noteRows.count) more notes: every note is in the log", ""]] : [])))
        out.append(
            ReportTable(title: "Gate overrides", columns: ["Phase", "Missing", "Reason"], rows: state.overrides.map { [$0.phase, $0.missing.joined(separator: "; "), $0.reason] }))
        out.append(
            ReportTable(
                title: "Abort", columns: ["When", "Reason", "Abort procedure"],
                rows: state.abortReason.map { reason in
                    let rollback = state.steps.filter { $0.section == state.followed?.rollback?.id }
                    return [[Self.time(state.abortedAt), reason, rollback.map { "\($0.id): \($0.status.rawValue)" }.joined(separator: "; ")]]
                } ?? [], empty: "the drill was not aborted"))
        if state.outcome == .noGo || state.outcome == .postponed {
            out.append(ReportTable(title: "No-go", columns: ["Conclusion", "Path"], rows: [[state.outcome?.rawValue ?? "", state.outcomeReasons.joined(separator: "; ")]]))
        }
        out.append(ReportTable(title: "Log", columns: ["Events", "Chain head (SHA-256)"], rows: [[String(state.eventCount), headHashHex ?? "—"]]))
        return out
    }
}
