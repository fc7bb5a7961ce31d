import FailbackLog

extension LoadedRunbook {
    /// `runbooks/x.yaml: valid runbook x v1.0 (8 phases, 38 steps, 50 commands), sha256 …`
    public var validationSummary: String {
        let rb = runbook
        return "\(source): valid runbook \(rb.id) v\(rb.version) (\(rb.phases.count) phases, \(rb.allSteps.count) steps, "
            + "\(rb.allCommands.count) commands), sha256 \(digest)"
    }

    /// A readable outline of the runbook, for a terminal.
    public var outline: String {
        let rb = runbook
        var out: [String] = []
        func add(_ s: String) { out.append(s) }
        func minutes(_ r: ClosedRange<Double>?) -> String? {
            r.map { $0.lowerBound == $0.upperBound ? "\(trimmed($0.lowerBound)) min" : "\(trimmed($0.lowerBound))–\(trimmed($0.upperBound)) min" }
        }
        func steps(_ list: [Runbook.Step], indent: String) {
            for s in list {
                var tags: [String] = []
                if !s.commands.isEmpty { tags.append(s.commands.count == 1 ? "1 command" : "\(s.commands.count) commands") }
                if let a = s.action { tags.append("do: \(a)") }
                if let e = s.expect ?? s.commands.compactMap(\.expect).first { tags.append("expect: \(e)") }
                if let w = s.writes { tags.append("writes \(w == .stop ? "STOP" : "RESUME")") }
                add("\(indent)\(s.id)  \(s.title)" + (tags.isEmpty ? "" : "  (\(tags.joined(separator: "; ")))"))
                for probe in s.probes { add("\(indent)  probe: \(probe)") }
            }
        }
        add("\(rb.id) v\(rb.version): \(rb.title)" + (rb.updated.map { " (updated \($0))" } ?? ""))
        add("sha256 \(digest)")
        var facts: [String] = []
        if let s = rb.sites { facts.append("failback \(s.from) → \(s.to)") }
        if let rto = rb.targets.rtoMinutes { facts.append("RTO < \(trimmed(rto)) min") }
        if let rpo = rb.targets.rpoSeconds { facts.append("RPO < \(trimmed(rpo)) s") }
        if let w = rb.targets.windowHours { facts.append("window ≥ \(trimmed(w)) h") }
        if !facts.isEmpty { add(facts.joined(separator: " · ")) }
        if !rb.services.isEmpty { add("services: " + rb.services.joined(separator: ", ")) }
        add("")
        add(
            "Decide: \(rb.criteria.when.count) criteria, \(rb.criteria.whenNot.count) reasons not to, \(rb.questions.count) yes/no questions, \(rb.checklist.count) checklist items"
        )
        for q in rb.questions { add("  ? \(q.id)  \(q.text)") }
        for c in rb.checklist { add("  [ ] \(c.id)  \(c.item)" + (c.notes.map { "  (\($0))" } ?? "")) }
        for o in rb.options {
            add(
                "  option \(o.id): \(o.title)" + (o.recommended ? " (recommended)" : "") + (minutes(o.estimatedMinutes).map { ", \($0)" } ?? "")
                    + (o.useWhen.map { " — use when: \($0)" } ?? ""))
        }
        if let f = rb.flowchart { add("  flowchart: \(f.nodes.count) questions from \(f.start)") }
        add("")
        add("Phases:")
        for (i, p) in rb.phases.enumerated() {
            var tags: [String] = []
            if let o = p.option { tags.append("option \(o)") }
            if let off = p.offset { tags.append(off) }
            if let t = minutes(p.targetMinutes) { tags.append("target \(t)") }
            add("  \(i + 1). \(p.id)  \(p.title)" + (tags.isEmpty ? "" : "  [\(tags.joined(separator: ", "))]"))
            steps(p.steps, indent: "       ")
        }
        for (label, sections) in [("Post tasks", rb.postTasks), ("Validation", rb.validation)] where !sections.isEmpty {
            add("")
            add("\(label):")
            for s in sections {
                add("  \(s.id)  \(s.title)")
                steps(s.steps, indent: "       ")
            }
        }
        if let r = rb.rollback {
            add("")
            add("Abort / rollback: \(r.id)  \(r.title)")
            steps(r.steps, indent: "       ")
        }
        if !rb.report.isEmpty {
            add("")
            add("Report: " + rb.report.joined(separator: " · "))
        }
        if let e = rb.evidence { add("Evidence for \(e.controls.joined(separator: ", ")): " + e.artifacts.joined(separator: " · ")) }
        if !rb.troubleshooting.isEmpty { add("Troubleshooting: \(rb.troubleshooting.count) known issues") }
        return out.joined(separator: "\n")
    }
}
