import FailbackDomain
import FailbackLog

/// The HTML report: one self-contained file (inline CSS and SVG, no script, no network) with a
/// timeline of the phases and a chart of replication lag above the report's tables.
extension DrillReport {
    var html: String {
        var out = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(xml(title))</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2330}
            h1{font-size:1.5rem;margin-bottom:.2rem} h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #d8dce5;padding-bottom:.2rem}
            .sub{color:#5b6478} table{border-collapse:collapse;width:100%;margin:.5rem 0} th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eceef3;vertical-align:top}
            th{background:#f5f6f9;font-weight:600} td.FAIL,td.NO,td.YES{color:#b42318;font-weight:600} td.pass{color:#067647} .empty{color:#5b6478;font-style:italic}
            svg{width:100%;height:auto;background:#fbfbfd;border:1px solid #eceef3} svg text{font:11px system-ui,sans-serif;fill:#5b6478}
            .verdict{display:inline-block;padding:.15rem .5rem;border-radius:.3rem;font-weight:600} .ok{background:#dcfae6;color:#067647} .bad{background:#fee4e2;color:#b42318}
            a{color:#175cd3} tr:target{background:#fef0c7}
            @media print{body{margin:0;max-width:none;font-size:11px} h2{break-after:avoid} svg,tr{break-inside:avoid} .verdict{border:1px solid currentColor} a{color:inherit;text-decoration:none}}
            </style></head><body>
            <h1>\(xml(title))</h1>\(chainBroken.map { "\n<p class=\"verdict bad\">WARNING: " + xml($0) + "</p>" } ?? "")
            <p class="sub">\(xml(subtitle))</p>
            <p><span class="verdict \(state.outcome == .success && state.outcomeOverride == nil ? "ok" : "bad")">\(xml(verdictHeadline))</span> <span class="verdict \(failed == 0 ? "ok" : "bad")">\(passed) checks passed, \(failed) failed, \(skipped) skipped</span></p>
            \(verdictReasons.isEmpty ? "" : "<p class=\"sub\">" + xml(verdictReasons.joined(separator: "; ")) + "</p>")

            """
        out += "<h2>Timeline</h2>\n" + phaseTimelineSVG + "\n<h2>Replication lag</h2>\n" + lagChartSVG + "\n"
        for t in tables {
            out += "<h2>\(xml(t.title))</h2>\n"
            if t.rows.isEmpty { out += "<p class=\"empty\">\(xml(t.empty))</p>\n"; continue }
            out += "<table>" + (t.columns.allSatisfy(\.isEmpty) ? "" : "<thead><tr>" + t.columns.map { "<th>\(xml($0))</th>" }.joined() + "</tr></thead>") + "<tbody>\n"
            let evidenceColumn = t.columns.firstIndex(of: "Evidence")
            for row in t.rows {
                out +=
                    "<tr>"
                    + row.enumerated().map { i, v in
                        if ["FAIL", "NO", "YES", "pass"].contains(v) { return "<td class=\"\(v)\">\(xml(v))</td>" }
                        if i == evidenceColumn, keepsEventIndex, let n = Self.citedDrillSeq(v) { return "<td><a href=\"#event-\(n)\">\(xml(v))</a></td>" }
                        return "<td>\(xml(v))</td>"
                    }.joined() + "</tr>\n"
            }
            out += "</tbody></table>\n"
        }
        if keepsEventIndex {
            // The appendix the evidence references point into: every event, with its chain hash.
            out +=
                "<h2>Events</h2>\n<table><thead><tr><th>#</th><th>Seq</th><th>Recorded at</th><th>Type</th><th>Actor</th><th>Summary</th><th>Chain hash (SHA-256)</th></tr></thead><tbody>\n"
            for e in events {
                out +=
                    "<tr id=\"event-\(e.drillSeq)\"><td>\(e.drillSeq)</td><td>\(e.seq)</td><td>\(xml(e.at.description))</td><td>\(xml(e.type))</td><td>\(xml(e.actor))</td><td>\(xml(e.summary))</td><td><code>\(xml(e.hash))</code></td></tr>\n"
            }
            out += "</tbody></table>\n"
        }
        return out + "</body></html>\n"
    }

    /// The drill event number an evidence cell (`event #12 (seq ...)`) cites.
    static func citedDrillSeq(_ cell: String) -> Int? {
        guard cell.hasPrefix("event #") else { return nil }
        return Int(cell.dropFirst(7).prefix { $0.isNumber })
    }

    /// The time axis the timeline and the lag chart share, so that a moment sits at the same x in
    /// both: the drill's start to its end (or last event), between `left` and `right`.
    struct TimeAxis {
        let start: Timestamp
        let spanMilliseconds: Double
        let left = 250.0, right = 890.0

        init?(_ state: DrillState) {
            guard let start = state.startedAt, let end = state.endedAt ?? state.lastEventAt else { return nil }
            self.start = start
            spanMilliseconds = max(1, Double(end.millisecondsSinceEpoch - start.millisecondsSinceEpoch))
        }

        func x(_ t: Timestamp) -> Double {
            left + (right - left) * min(1, max(0, Double(t.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / spanMilliseconds))
        }

        /// Ticks every round interval (1 s … 6 h) with at most 8 of them, labelled as time since start.
        var ticks: [(x: Double, label: String)] {
            let steps: [Double] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600]
            let span = spanMilliseconds / 1000
            let step = steps.first { span / $0 <= 8 } ?? (span / 8).rounded(.up)
            return stride(from: 0.0, through: span, by: step).map { s in (left + (right - left) * s * 1000 / spanMilliseconds, "+" + formatDuration(s)) }
        }

        /// The axis line with its ticks and labels at `y`, and a grid line up to `top`.
        func svg(y: Double, top: Double) -> String {
            var out = "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(right))\" y2=\"\(f(y))\" stroke=\"#98a2b3\"/>"
            for t in ticks {
                out += "<line x1=\"\(f(t.x))\" y1=\"\(f(top))\" x2=\"\(f(t.x))\" y2=\"\(f(y + 4))\" stroke=\"#eceef3\"/>"
                out += "<text x=\"\(f(t.x))\" y=\"\(f(y + 16))\" text-anchor=\"middle\">\(xml(t.label))</text>"
            }
            return out + "<text x=\"\(f(right))\" y=\"\(f(y + 30))\" text-anchor=\"end\">time since the drill started (\(xml(start.description)))</text>\n"
        }
    }

    /// The moments marked on the timeline: writes stopped and resumed, the DNS cutover, the abort.
    var timelineMarks: [(label: String, at: Timestamp, colour: String)] {
        var marks: [(String, Timestamp?, String)] = [
            ("writes stopped", metrics.writesStoppedAt, "#667085"),
            (metrics.writesResumedByRollback ? "writes resumed (rollback)" : "writes resumed", metrics.writesResumedAt, "#667085"),
            ("DNS cutover", metrics.cutoverAt, "#667085"), ("ABORTED", state.abortedAt, "#b42318"),
        ]
        marks.sort { ($0.1?.millisecondsSinceEpoch ?? 0) < ($1.1?.millisecondsSinceEpoch ?? 0) }
        return marks.compactMap { m in m.1.map { (m.0, $0, m.2) } }
    }

    /// The drill's span on the shared time axis, one bar per phase that ran (labelled with its
    /// title), the marks as vertical lines whose labels are stacked in lanes so that none overlaps.
    var phaseTimelineSVG: String {
        let ran = state.phases.filter { $0.startedAt != nil }
        guard let axis = TimeAxis(state), !ran.isEmpty else { return "<p class=\"empty\">no phase was started</p>" }
        let end = state.endedAt ?? state.lastEventAt ?? axis.start
        let row = 24.0, top = 10.0
        let bottom = top + Double(ran.count) * row
        // Labels: about 6 px a character at 11 px, to the right of their line (to the left near the
        // right edge); each goes in the first lane where it overlaps no other label.
        var lanes: [[ClosedRange<Double>]] = []
        var placed: [(label: String, x: Double, lane: Int, colour: String, leftward: Bool)] = []
        for m in timelineMarks {
            let x = axis.x(m.at), width = Double(m.label.count) * 6 + 6
            let leftward = x + width > 896
            let span = leftward ? (x - width)...x : x...(x + width)
            let lane = lanes.firstIndex { $0.allSatisfy { !$0.overlaps(span) } } ?? lanes.count
            if lane == lanes.count { lanes.append([]) }
            lanes[lane].append(span)
            placed.append((m.label, x, lane, m.colour, leftward))
        }
        let axisY = bottom + 14 + Double(lanes.count) * 14
        let height = axisY + 38
        var svg = "<svg viewBox=\"0 0 900 \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"phase timeline\">\n"
        svg += axis.svg(y: axisY, top: top)
        for (i, p) in ran.enumerated() {
            let y = top + Double(i) * row
            let x0 = axis.x(p.startedAt ?? axis.start), x1 = axis.x(p.completedAt ?? p.interruptedAt ?? end)
            let color = p.overran(now: end) ? "#f04438" : p.completedAt == nil ? "#f79009" : "#2e90fa"
            let title = p.title.count > 40 ? String(p.title.prefix(39)) + "…" : p.title
            svg += "<text x=\"4\" y=\"\(f(y + 14))\">\(xml(title))<title>\(xml(p.id))</title></text>"
            svg +=
                "<rect x=\"\(f(x0))\" y=\"\(f(y + 3))\" width=\"\(f(max(2, x1 - x0)))\" height=\"16\" rx=\"3\" fill=\"\(color)\"><title>\(xml(p.title + ": " + (p.durationSeconds.map(formatDuration) ?? "not completed")))</title></rect>\n"
        }
        for m in placed {
            let labelY = bottom + 12 + Double(m.lane) * 14
            svg += "<line x1=\"\(f(m.x))\" y1=\"\(f(top - 4))\" x2=\"\(f(m.x))\" y2=\"\(f(labelY - 9))\" stroke=\"\(m.colour)\" stroke-dasharray=\"3 3\"/>"
            svg += "<text x=\"\(f(m.leftward ? m.x - 3 : m.x + 3))\" y=\"\(f(labelY))\" fill=\"\(m.colour)\"\(m.leftward ? " text-anchor=\"end\"" : "")>\(xml(m.label))</text>\n"
        }
        return svg + "</svg>"
    }

    /// Lag samples on the shared time axis, one line per direction (the failback's first) with a
    /// legend, a labelled value axis with ticks, and the RPO target as a dashed line.
    var lagChartSVG: String {
        guard !lag.isEmpty, let axis = TimeAxis(state) else { return "<p class=\"empty\">no replication lag was sampled</p>" }
        let height = 260.0, top = 30.0, plotBottom = 200.0
        let highest = max(lag.map(\.seconds).max() ?? 0, metrics.rpoTargetSeconds ?? 0, 0.001)
        // A round value-axis step: 1, 2 or 5 × 10^k, four or five ticks.
        let magnitude = pow10(floorLog10(highest / 4))
        let unit = [1.0, 2, 5, 10].map { $0 * magnitude }.first { highest / $0 <= 5 } ?? magnitude * 10
        // At most ten steps, whatever the values (a lag near the largest double has no round top).
        let steps = Int(min(10, max(1, (highest / unit).rounded(.up))))
        let maxLag = Double(steps) * unit < .infinity ? Double(steps) * unit : highest
        func y(_ v: Double) -> Double { plotBottom - (plotBottom - top) * v / maxLag }
        var svg = "<svg viewBox=\"0 0 900 \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"replication lag\">\n"
        svg += axis.svg(y: plotBottom, top: top)
        for step in 0...steps {
            let v = min(Double(step) * unit, maxLag)
            svg += "<line x1=\"\(f(axis.left - 4))\" y1=\"\(f(y(v)))\" x2=\"\(f(axis.right))\" y2=\"\(f(y(v)))\" stroke=\"#eceef3\"/>"
            svg += "<text x=\"\(f(axis.left - 8))\" y=\"\(f(y(v) + 4))\" text-anchor=\"end\">\(xml(formatDuration(v)))</text>"
        }
        svg += "<text x=\"\(f(axis.left - 8))\" y=\"\(f(top - 14))\" text-anchor=\"end\">replication lag</text>\n"
        if let rpo = metrics.rpoTargetSeconds {
            svg +=
                "<line x1=\"\(f(axis.left))\" y1=\"\(f(y(rpo)))\" x2=\"\(f(axis.right))\" y2=\"\(f(y(rpo)))\" stroke=\"#f04438\" stroke-dasharray=\"5 4\"/><text x=\"\(f(axis.right - 2))\" y=\"\(f(y(rpo) - 4))\" text-anchor=\"end\">RPO target \(xml(formatDuration(rpo)))</text>\n"
        }
        let failback = state.followed?.sites.map { "\($0.from) → \($0.to)" }
        var directions: [String] = []
        for s in lag where !directions.contains("\(s.source) → \(s.target)") { directions.append("\(s.source) → \(s.target)") }
        directions.sort { a, b in a == failback ? true : b == failback ? false : a < b }
        let palette = ["#2e90fa", "#f79009", "#7a5af8", "#12b76a", "#667085"]
        var legendX = axis.left
        for (k, direction) in directions.enumerated() {
            let colour = palette[min(k, palette.count - 1)]
            let series = lag.filter { "\($0.source) → \($0.target)" == direction }
            // At most ~2,000 points: a drill with more samples keeps each stretch's maximum.
            let step = max(1, series.count / 2000)
            var points: [String] = []
            var i = 0
            while i < series.count {
                let chunk = series[i..<min(series.count, i + step)]
                if let peak = chunk.max(by: { $0.seconds < $1.seconds }) { points.append("\(f(axis.x(peak.at))),\(f(y(peak.seconds)))") }
                i += step
            }
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            if series.count <= 200 {
                for s in series {
                    svg +=
                        "<circle cx=\"\(f(axis.x(s.at)))\" cy=\"\(f(y(s.seconds)))\" r=\"3\" fill=\"\(colour)\"><title>\(xml(s.at.description + ": " + formatDuration(s.seconds) + " " + direction))</title></circle>"
                }
                svg += "\n"
            }
            let label = direction + (direction == failback ? " (failback: the RPO)" : failback == nil ? "" : " (other direction)")
            svg += "<rect x=\"\(f(legendX))\" y=\"6\" width=\"10\" height=\"10\" fill=\"\(colour)\"/><text x=\"\(f(legendX + 14))\" y=\"15\">\(xml(label))</text>\n"
            legendX += Double(label.count) * 6 + 34
        }
        return svg + "</svg>"
    }
}

private func floorLog10(_ v: Double) -> Int {
    var e = 0, x = v
    while x >= 10 { x /= 10; e += 1 }
    while x < 1 && e > -6 { x *= 10; e -= 1 }
    return e
}

private func pow10(_ e: Int) -> Double {
    var r = 1.0
    if e >= 0 { for _ in 0..<e { r *= 10 } } else { for _ in 0..<(-e) { r /= 10 } }
    return r
}

/// A coordinate with one decimal, the same on every machine.
private func f(_ v: Double) -> String {
    // Coordinates are scaled to the chart; a value past any chart (or not finite) is clamped.
    let clamped = v.isFinite ? min(max(v, -1e12), 1e12) : 0
    let tenths = Int((abs(clamped) * 10).rounded()), sign = clamped < 0 && tenths > 0 ? "-" : ""
    return sign + (tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)")
}
