import FailbackDomain
import FailbackLog

/// Two drills side by side (`failback compare`): phase durations and their deltas, RTO/RPO and the
/// other metrics, checks that failed in one and not the other, issues, decisions and the option
/// chosen. Phases are matched by id, so drills of different runbook versions compare; what does
/// not match is said.
public struct DrillComparison: Sendable {
    public enum Format: String, Sendable, CaseIterable { case text, md, json }

    /// One drill's side.
    public struct Side: Sendable {
        public var drillID: String
        public var runbook: String
        public var option: String?
        public var result: String
        public var startedAt: Timestamp?
        public var events: Int
        public var issues: [String]
    }

    public struct PhaseRow: Sendable {
        public var id: String
        public var title: String
        /// Seconds from start to completion in each drill; nil when not completed or not there.
        public var a: Double?
        public var b: Double?
        public var inA: Bool
        public var inB: Bool
        public var target: ClosedRange<Double>?
        public var delta: Double? { DrillComparison.difference(a, b) }
    }

    /// `b - a` to the millisecond the times were recorded with (no float noise: -2.023, not
    /// -2.0229999999999997).
    static func difference(_ a: Double?, _ b: Double?) -> Double? { a.flatMap { a in b.map { (($0 - a) * 1000).rounded() / 1000 } } }

    public struct MetricRow: Sendable {
        public var name: String
        public var a: Double?
        public var b: Double?
        public var target: Double?
        public var delta: Double? { DrillComparison.difference(a, b) }
    }

    /// A check (kind and name) that failed in one drill and not in the other.
    public struct CheckRow: Sendable {
        public var check: String
        public var a: String
        public var b: String
    }

    public struct DecisionRow: Sendable {
        public var question: String
        public var a: Bool?
        public var b: Bool?
    }

    public var a: Side
    public var b: Side
    public var phases: [PhaseRow] = []
    public var metrics: [MetricRow] = []
    public var checks: [CheckRow] = []
    public var decisions: [DecisionRow] = []
    /// What does not match between the two (runbooks, versions, options, phases).
    public var differences: [String] = []

    public init(_ ra: DrillReport, _ rb: DrillReport) {
        func side(_ r: DrillReport) -> Side {
            let s = r.state
            return Side(
                drillID: s.drillID ?? "?", runbook: s.runbook.map { "\($0.id) v\($0.version)" } ?? "?", option: s.option,
                result: s.status == .completed ? (s.outcome?.rawValue ?? "completed") + (s.outcomeOverride != nil ? " (OVERRIDDEN)" : "") : "\(s.status.rawValue) (open)",
                startedAt: s.startedAt, events: s.eventCount, issues: s.issues.map { "[\($0.severity.rawValue)] \($0.title)" })
        }
        a = side(ra)
        b = side(rb)
        let sa = ra.state, sb = rb.state

        if sa.runbook?.id != sb.runbook?.id {
            differences.append("different runbooks: \(a.runbook) and \(b.runbook); phases are matched by id")
        } else if sa.runbook?.version != sb.runbook?.version || sa.runbook?.digest != sb.runbook?.digest {
            differences.append("different versions of runbook \(sa.runbook?.id ?? "?"): \(a.runbook) and \(b.runbook); phases are matched by id")
        }
        if a.option != b.option { differences.append("different options: \(a.option ?? "none") and \(b.option ?? "none")") }

        // Phases: A's order, then those only B has, where B has them.
        let followedA = sa.phases.filter(\.applies), followedB = sb.phases.filter(\.applies)
        var ids = followedA.map(\.id)
        for (i, p) in followedB.enumerated() where !ids.contains(p.id) {
            let after = followedB[..<i].last { ids.contains($0.id) }.flatMap { prev in ids.firstIndex(of: prev.id) }
            ids.insert(p.id, at: after.map { $0 + 1 } ?? ids.count)
        }
        for id in ids {
            let pa = followedA.first { $0.id == id }, pb = followedB.first { $0.id == id }
            phases.append(
                PhaseRow(
                    id: id, title: (pa ?? pb)!.title, a: pa?.durationSeconds, b: pb?.durationSeconds, inA: pa != nil, inB: pb != nil,
                    target: pb?.targetMinutes ?? pa?.targetMinutes))
            if pa == nil { differences.append("phase \(id) is only in \(b.drillID)") }
            if pb == nil { differences.append("phase \(id) is only in \(a.drillID)") }
            if let pa, let pb, pa.targetMinutes != pb.targetMinutes {
                func target(_ p: DrillState.PhaseState) -> String { p.targetMinutes == nil ? "no target" : "a target of \(DrillReport.minutes(p.targetMinutes))" }
                differences.append("phase \(id) has \(target(pa)) in \(a.drillID) and \(target(pb)) in \(b.drillID)")
            }
        }

        let ma = ra.metrics, mb = rb.metrics
        for (m, drill) in [(ma, a.drillID), (mb, b.drillID)] where m.writesResumedByRollback {
            differences.append("in \(drill) writes were resumed on the old site by the rollback: no failback RTO to compare")
        }
        metrics = [
            MetricRow(name: "total duration", a: ma.totalSeconds, b: mb.totalSeconds),
            MetricRow(name: "RTO (writes stopped → resumed)", a: ma.failbackRTOSeconds, b: mb.failbackRTOSeconds, target: mb.rtoTargetSeconds ?? ma.rtoTargetSeconds),
            MetricRow(name: "RPO (lag when writes resumed)", a: ma.rpoSeconds, b: mb.rpoSeconds, target: mb.rpoTargetSeconds ?? ma.rpoTargetSeconds),
            MetricRow(name: "DNS propagation", a: ma.dnsPropagationSeconds, b: mb.dnsPropagationSeconds),
            MetricRow(name: "replication lag, max", a: ma.lag?.max, b: mb.lag?.max),
            MetricRow(name: "replication lag before cutover", a: ra.lagBefore, b: rb.lagBefore),
            MetricRow(name: "replication lag after", a: ra.lagAfter, b: rb.lagAfter),
            MetricRow(name: "rows missing", a: ma.rowsMissing.map(Double.init), b: mb.rowsMissing.map(Double.init)),
        ]

        // Checks by kind and name, as their latest run left them: failed, passed, skipped, or not run.
        func outcomes(_ r: DrillReport) -> [String: String] {
            var o: [String: String] = [:]
            for (c, _) in r.latestChecks {
                o["\(c.kind): \(c.name)"] = c.result == .fail ? "failed" : c.result == .pass ? "passed" : "skipped"
            }
            return o
        }
        let oa = outcomes(ra), ob = outcomes(rb)
        for key in Set(oa.keys).union(ob.keys).sorted() where (oa[key] == "failed") != (ob[key] == "failed") {
            checks.append(CheckRow(check: key, a: oa[key] ?? "not run", b: ob[key] ?? "not run"))
        }

        for q in Set(sa.answers.keys).union(sb.answers.keys).sorted() {
            decisions.append(DecisionRow(question: q, a: sa.answers[q]?.answer, b: sb.answers[q]?.answer))
        }
    }

    /// The comparison of two stored drills, each read event by event.
    public static func build(_ drillA: String, _ drillB: String, from store: any EventStore) throws -> DrillComparison {
        DrillComparison(
            try DrillReport.build(drill: drillA, from: store, keepsEventIndex: false),
            try DrillReport.build(drill: drillB, from: store, keepsEventIndex: false))
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .text: return "compare \(a.drillID) (A) with \(b.drillID) (B)\n" + tables.map(\.text).joined()
        case .md: return "# Drill comparison: \(a.drillID) (A) and \(b.drillID) (B)\n" + tables.map(\.markdown).joined()
        case .json: return CanonicalJSON.string(json) + "\n"
        }
    }

    static func seconds(_ s: Double?) -> String { s.map(formatDuration) ?? "—" }
    static func delta(_ d: Double?) -> String {
        guard let d else { return "—" }
        return d == 0 ? "0" : (d > 0 ? "+" : "-") + seconds(abs(d))
    }

    var tables: [ReportTable] {
        var out: [ReportTable] = []
        out.append(
            ReportTable(
                title: "Drills", columns: ["", "A", "B"],
                rows: [
                    ["drill", a.drillID, b.drillID],
                    ["runbook", a.runbook, b.runbook],
                    ["option", a.option ?? "—", b.option ?? "—"],
                    ["result", a.result, b.result],
                    ["started", DrillReport.time(a.startedAt), DrillReport.time(b.startedAt)],
                    ["events", String(a.events), String(b.events)],
                ]))
        out.append(ReportTable(title: "Differences", columns: ["what does not match"], rows: differences.map { [$0] }, empty: "none: same runbook, version and option"))
        out.append(
            ReportTable(
                title: "Phases (matched by id)", columns: ["phase", "A", "B", "B − A", "target"],
                rows: phases.map { p in
                    [p.id, p.inA ? Self.seconds(p.a) : "not in A", p.inB ? Self.seconds(p.b) : "not in B", Self.delta(p.delta), DrillReport.minutes(p.target)]
                }))
        out.append(
            ReportTable(
                title: "Metrics", columns: ["metric", "A", "B", "B − A", "target"],
                rows: metrics.map { m in
                    let rows = m.name == "rows missing"
                    return [
                        m.name, rows ? m.a.map { String(Int($0)) } ?? "—" : Self.seconds(m.a), rows ? m.b.map { String(Int($0)) } ?? "—" : Self.seconds(m.b),
                        rows ? m.delta.map { String(Int($0)) } ?? "—" : Self.delta(m.delta), m.target.map { Self.seconds($0) } ?? "—",
                    ]
                }))
        out.append(ReportTable(title: "Checks that failed in one drill only", columns: ["check", "A", "B"], rows: checks.map { [$0.check, $0.a, $0.b] }, empty: "none"))
        out.append(
            ReportTable(
                title: "Issues", columns: ["drill", "issues"],
                rows: [
                    ["A", a.issues.isEmpty ? "none" : a.issues.joined(separator: "; ")],
                    ["B", b.issues.isEmpty ? "none" : b.issues.joined(separator: "; ")],
                ]))
        func answer(_ v: Bool?) -> String { v.map { $0 ? "yes" : "no" } ?? "—" }
        out.append(
            ReportTable(
                title: "Decisions", columns: ["question", "A", "B", ""],
                rows: decisions.map { d in
                    [d.question, answer(d.a), answer(d.b), d.a == d.b ? "" : "differs"]
                }))
        return out
    }

    public var json: JSONValue {
        func side(_ s: Side) -> JSONValue {
            .members([
                "drill_id": .string(s.drillID), "runbook": .string(s.runbook), "option": s.option.map(JSONValue.string), "result": .string(s.result),
                "started_at": s.startedAt.map { .string($0.description) }, "events": JSONValue(s.events), "issues": .array(s.issues.map(JSONValue.string)),
            ])
        }
        func n(_ v: Double?) -> JSONValue? { v.map(JSONValue.number) }
        return .members([
            "format": .string("failback-compare/1"),
            "a": side(a), "b": side(b),
            "differences": .array(differences.map(JSONValue.string)),
            "phases": .array(
                phases.map { p in
                    .members([
                        "id": .string(p.id), "title": .string(p.title), "in_a": .bool(p.inA), "in_b": .bool(p.inB),
                        "a_seconds": n(p.a), "b_seconds": n(p.b), "delta_seconds": n(p.delta),
                        "target_minutes": p.target.map { [.number($0.lowerBound), .number($0.upperBound)] },
                    ])
                }),
            "metrics": .array(
                metrics.map { m in
                    .members(["name": .string(m.name), "a": n(m.a), "b": n(m.b), "delta": n(m.delta), "target": n(m.target)])
                }),
            "checks_failed_in_one": .array(checks.map { ["check": .string($0.check), "a": .string($0.a), "b": .string($0.b)] }),
            "decisions": .array(
                decisions.map { d in
                    .members(["question": .string(d.question), "a": d.a.map(JSONValue.bool), "b": d.b.map(JSONValue.bool)])
                }),
        ])
    }
}
