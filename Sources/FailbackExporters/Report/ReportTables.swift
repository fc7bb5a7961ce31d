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
    static func seconds(_ s: Double?) -> String { s.map(formatSeconds) ?? "—" }
    static func minutes(_ r: ClosedRange<Double>?) -> String {
        guard let r else { return "—" }
        func m(_ v: Double) -> String { v == v.rounded() ? "\(Int(v))" : "\(v)" }
        return r.lowerBound == r.upperBound ? "\(m(r.upperBound)) min" : "\(m(r.lowerBound))–\(m(r.upperBound)) min"
    }
    static func met(_ b: Bool?) -> String { b.map { $0 ? "yes" : "NO" } ?? "—" }
    static func evidence(_ e: EventReference) -> String { "event #\(e.drillSeq) (seq \(e.seq), \(e.hash.prefix(12)))" }

    var tables: [ReportTable] {
        let m = metrics
        let issues = state.issues.isEmpty ? "none" : "\(state.issues.count): " + state.issues.map { "[\($0.severity.rawValue)] \($0.title)" }.joined(separator: "; ")
        var out: [ReportTable] = []
        out.append(ReportTable(title: "Summary", columns: ["Metric", "Value"], rows: [
            ["Failback start time", Self.time(m.startedAt)],
            ["Failback end time", Self.time(m.endedAt)],
            ["Total duration", m.totalSeconds.map(DrillState.duration) ?? "—"],
            ["Data loss", dataLoss],
            ["Issues encountered", issues],
            ["Services affected", servicesAffected.isEmpty ? "none recorded" : servicesAffected.joined(separator: ", ")],
            ["Checks", "\(passed) passed, \(failed) failed, \(skipped) skipped"],
        ]))
        out.append(ReportTable(title: "Rollback metrics", columns: ["Metric", "Achieved", "Target", "Met"], rows: [
            ["RTO (writes stopped → resumed)", m.rtoSeconds.map(DrillState.duration) ?? "—", m.rtoTargetSeconds.map(DrillState.duration) ?? "—", Self.met(m.rtoMet)],
            ["RPO (last lag before writes resumed)", Self.seconds(m.rpoSeconds), Self.seconds(m.rpoTargetSeconds), Self.met(m.rpoMet)],
            ["DNS cutover", m.cutoverAt.map { "at \($0)" + (m.dnsPropagationSeconds.map { ", propagated in \(formatSeconds($0))" } ?? ", not seen to propagate") } ?? "—", "—", "—"],
            ["Replication lag before / after cutover", "\(Self.seconds(lagBefore)) / \(Self.seconds(lagAfter))", "—", "—"],
            ["Replication lag (samples, max, last)", m.lag.map { "\($0.count), \(formatSeconds($0.max)), \(formatSeconds($0.last))" } ?? "—", "—", "—"],
        ]))
        let followed = state.phases.filter { $0.applies || $0.startedAt != nil }
        out.append(ReportTable(title: "Phases", columns: ["Phase", "Started", "Completed", "Duration", "Target", "Over target"], rows: followed.map { p in
            [p.id + " — " + p.title, Self.time(p.startedAt), Self.time(p.completedAt), p.durationSeconds.map(DrillState.duration) ?? "—",
             Self.minutes(p.targetMinutes), p.overran(now: state.endedAt ?? state.lastEventAt ?? Timestamp(millisecondsSinceEpoch: 0)) ? "YES" : "no"]
        }))
        out.append(ReportTable(title: "Checks", columns: ["Kind", "Check", "Result", "Detail", "Evidence"], rows: checks.map { c in
            [c.kind, c.name, c.result == .pass ? "pass" : c.result == .fail ? "FAIL" : "skipped", c.detail, Self.evidence(c.evidence)]
        }))
        let sites = Array(Set(m.rowCounts.flatMap { $0.counts.keys })).sorted()
        out.append(ReportTable(title: "Row counts", columns: ["Table"] + sites + ["Delta"], rows: m.rowCounts.map { r in
            [r.table] + sites.map { s in r.counts[s].map(String.init) ?? "—" } + [String(r.delta)]
        }))
        out.append(ReportTable(title: "Decisions", columns: ["Question", "Answer", "By", "Note", "Evidence"], rows: decisions.map { d in
            [d.question, d.answer ? "yes" : "no", d.by ?? "—", d.note ?? "", Self.evidence(d.evidence)]
        } + (state.chosen.map { [["flowchart", "option \($0.option)", "—", $0.path.map { "\($0.node): \($0.answer ? "yes" : "no")" }.joined(separator: " → "), ""]] } ?? [])))
        out.append(ReportTable(title: "Approvals", columns: ["By", "Role"], rows: state.approvals.map { [$0.by, $0.role] }))
        out.append(ReportTable(title: "Gate overrides", columns: ["Phase", "Missing", "Reason"], rows: state.overrides.map { [$0.phase, $0.missing.joined(separator: "; "), $0.reason] }))
        out.append(ReportTable(title: "Abort", columns: ["Reason"], rows: state.abortReason.map { [[$0]] } ?? [], empty: "the drill was not aborted"))
        out.append(ReportTable(title: "Log", columns: ["Events", "Chain head (SHA-256)"], rows: [[String(state.eventCount), headHashHex ?? "—"]]))
        return out
    }
}
