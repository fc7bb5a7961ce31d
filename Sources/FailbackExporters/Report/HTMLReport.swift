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
            </style></head><body>
            <h1>\(xml(title))</h1>
            <p class="sub">\(xml(subtitle))</p>
            <p><span class="verdict \(state.outcome == .success && state.outcomeOverride == nil ? "ok" : "bad")">\(xml(verdictHeadline))</span> <span class="verdict \(failed == 0 ? "ok" : "bad")">\(passed) checks passed, \(failed) failed, \(skipped) skipped</span></p>
            \(verdictReasons.isEmpty ? "" : "<p class=\"sub\">" + xml(verdictReasons.joined(separator: "; ")) + "</p>")

            """
        out += "<h2>Timeline</h2>\n" + phaseTimelineSVG + "\n<h2>Replication lag</h2>\n" + lagChartSVG + "\n"
        for t in tables {
            out += "<h2>\(xml(t.title))</h2>\n"
            if t.rows.isEmpty { out += "<p class=\"empty\">\(xml(t.empty))</p>\n"; continue }
            out += "<table><thead><tr>" + t.columns.map { "<th>\(xml($0))</th>" }.joined() + "</tr></thead><tbody>\n"
            for row in t.rows {
                out += "<tr>" + row.map { v in ["FAIL", "NO", "YES", "pass"].contains(v) ? "<td class=\"\(v)\">\(xml(v))</td>" : "<td>\(xml(v))</td>" }.joined() + "</tr>\n"
            }
            out += "</tbody></table>\n"
        }
        return out + "</body></html>\n"
    }

    /// The drill's span on a time axis, one bar per phase that ran; writes stopped/resumed and the
    /// DNS cutover as vertical marks.
    var phaseTimelineSVG: String {
        let ran = state.phases.filter { $0.startedAt != nil }
        guard let start = state.startedAt, let end = state.endedAt ?? state.lastEventAt, !ran.isEmpty else { return "<p class=\"empty\">no phase was started</p>" }
        let width = 900.0, left = 230.0, row = 24.0, height = Double(ran.count) * row + 40
        let span = max(1, Double(end.millisecondsSinceEpoch - start.millisecondsSinceEpoch))
        func x(_ t: Timestamp) -> Double { left + (width - left - 10) * Double(t.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / span }
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"phase timeline\">\n"
        for (i, p) in ran.enumerated() {
            let y = 10 + Double(i) * row
            let x0 = x(p.startedAt!), x1 = x(p.completedAt ?? end)
            let color = p.overran(now: end) ? "#f04438" : p.completedAt == nil ? "#f79009" : "#2e90fa"
            svg += "<text x=\"4\" y=\"\(f(y + 14))\">\(xml(p.id))</text>"
            svg += "<rect x=\"\(f(x0))\" y=\"\(f(y + 3))\" width=\"\(f(max(2, x1 - x0)))\" height=\"16\" rx=\"3\" fill=\"\(color)\"><title>\(xml(p.title + ": " + (p.durationSeconds.map(formatDuration) ?? "not completed")))</title></rect>\n"
        }
        let bottom = 10 + Double(ran.count) * row
        for (label, at) in [("writes stopped", metrics.writesStoppedAt), ("writes resumed", metrics.writesResumedAt), ("DNS cutover", metrics.cutoverAt)] {
            guard let at else { continue }
            svg += "<line x1=\"\(f(x(at)))\" y1=\"6\" x2=\"\(f(x(at)))\" y2=\"\(f(bottom))\" stroke=\"#667085\" stroke-dasharray=\"3 3\"/><text x=\"\(f(x(at) + 3))\" y=\"\(f(bottom + 12))\">\(label)</text>\n"
        }
        svg += "<text x=\"\(Int(left))\" y=\"\(f(height - 2))\">\(xml(start.description))</text><text x=\"\(Int(width - 10))\" y=\"\(f(height - 2))\" text-anchor=\"end\">\(xml(formatDuration(span / 1000)))</text>\n"
        return svg + "</svg>"
    }

    /// Lag samples over time as a line, with the RPO target as a dashed line.
    var lagChartSVG: String {
        guard let start = lag.first?.at, let end = lag.last?.at else { return "<p class=\"empty\">no replication lag was sampled</p>" }
        let width = 900.0, height = 240.0, left = 50.0, bottom = 30.0, top = 10.0
        let maxLag = max(lag.map(\.seconds).max() ?? 0, metrics.rpoTargetSeconds ?? 0, 0.001) * 1.1
        let span = max(1, Double(end.millisecondsSinceEpoch - start.millisecondsSinceEpoch))
        func x(_ t: Timestamp) -> Double { left + (width - left - 10) * Double(t.millisecondsSinceEpoch - start.millisecondsSinceEpoch) / span }
        func y(_ v: Double) -> Double { height - bottom - (height - bottom - top) * v / maxLag }
        var svg = "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"replication lag\">\n"
        svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(0)))\" x2=\"\(f(width - 10))\" y2=\"\(f(y(0)))\" stroke=\"#98a2b3\"/>"
        svg += "<text x=\"\(f(left - 4))\" y=\"\(f(y(0)))\" text-anchor=\"end\">0</text><text x=\"\(f(left - 4))\" y=\"\(f(top + 10))\" text-anchor=\"end\">\(xml(formatDuration(maxLag / 1.1)))</text>\n"
        if let rpo = metrics.rpoTargetSeconds {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(rpo)))\" x2=\"\(f(width - 10))\" y2=\"\(f(y(rpo)))\" stroke=\"#f04438\" stroke-dasharray=\"5 4\"/><text x=\"\(f(width - 12))\" y=\"\(f(y(rpo) - 4))\" text-anchor=\"end\">RPO target \(xml(formatDuration(rpo)))</text>\n"
        }
        // At most ~2,000 points: a drill with more samples keeps each pixel's maximum.
        let step = max(1, lag.count / 2000)
        var points: [String] = []
        var i = 0
        while i < lag.count {
            let chunk = lag[i..<min(lag.count, i + step)]
            let top = chunk.max { $0.seconds < $1.seconds }!
            points.append("\(f(x(top.at))),\(f(y(top.seconds)))")
            i += step
        }
        svg += "<polyline fill=\"none\" stroke=\"#2e90fa\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        if lag.count <= 200 {
            for s in lag { svg += "<circle cx=\"\(f(x(s.at)))\" cy=\"\(f(y(s.seconds)))\" r=\"3\" fill=\"#2e90fa\"><title>\(xml(s.at.description + ": " + formatDuration(s.seconds)))</title></circle>" }
            svg += "\n"
        }
        svg += "<text x=\"\(f(left))\" y=\"\(f(height - 8))\">\(xml(start.description))</text><text x=\"\(f(width - 10))\" y=\"\(f(height - 8))\" text-anchor=\"end\">\(xml(end.description))</text>\n"
        return svg + "</svg>"
    }
}

/// A coordinate with one decimal, the same on every machine.
private func f(_ v: Double) -> String {
    let tenths = Int((abs(v) * 10).rounded()), sign = v < 0 && tenths > 0 ? "-" : ""
    return sign + (tenths % 10 == 0 ? String(tenths / 10) : "\(tenths / 10).\(tenths % 10)")
}
