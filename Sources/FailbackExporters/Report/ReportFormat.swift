import FailbackDomain
import FailbackLog

/// The formats `failback report` writes (docs/report.md). Each is a pure function of the report:
/// the same events always give the same bytes.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown = "md", json, html, csv, junit

    public func render(_ report: DrillReport) -> String {
        switch self {
        case .markdown: return report.markdown
        case .json: return CanonicalJSON.string(report.json) + "\n"
        case .html: return report.html
        case .csv: return report.evidenceCSV
        case .junit: return report.junitXML
        }
    }
}

extension DrillReport {
    // MARK: Markdown

    /// Recorded text is shown with its control characters, escape sequences and bidi overrides
    /// escaped (`terminalSafe`), as on a terminal: the report is read with `cat` too.
    var markdown: String {
        ("# \(title)\n\n" + (chainBroken.map { "> **WARNING: \($0)**\n\n" } ?? "") + "\(subtitle)\n" + tables.map(\.markdown).joined())
            .split(separator: "\n", omittingEmptySubsequences: false).map { terminalSafe(String($0), keepTabs: true) }.joined(separator: "\n")
    }

    // MARK: JSON

    public var json: JSONValue {
        func ref(_ e: EventReference) -> JSONValue { ["drill_seq": JSONValue(e.drillSeq), "seq": JSONValue(e.seq), "hash": .string(e.hash)] }
        return .members([
            "format": .string("failback-report/1"),
            "drill": state.json,
            "verdict": .members([
                "headline": .string(verdictHeadline), "reasons": .array(verdictReasons.map(JSONValue.string)),
                "failed_checks": .array(
                    state.failedChecks.map {
                        ["kind": .string($0.verdict.kind), "name": .string($0.verdict.name), "drill_seq": JSONValue($0.drillSeq)]
                    }),
            ]),
            "summary": .members([
                "data_loss": .string(dataLoss), "services_affected": .array(servicesAffected.map(JSONValue.string)),
                "checks": ["passed": JSONValue(passed), "failed": JSONValue(failed), "skipped": JSONValue(skipped), "runs": JSONValue(checks.count)],
                "lag_before_seconds": lagBefore.map(JSONValue.number), "lag_after_seconds": lagAfter.map(JSONValue.number),
            ]),
            "checks": .array(
                checks.map { c in
                    ["kind": .string(c.kind), "name": .string(c.name), "result": .string(c.result.rawValue), "detail": .string(c.detail), "evidence": ref(c.evidence)]
                }),
            "replication_lag": .array(lag.map { ["at": .string($0.at.description), "seconds": .number($0.seconds), "source": .string($0.source), "target": .string($0.target)] }),
            "chain": .members(["events": JSONValue(eventCount), "head": headHashHex.map(JSONValue.string), "broken": chainBroken.map(JSONValue.string)]),
        ])
    }

    // MARK: CSV (RFC 4180): the evidence index

    var evidenceCSV: String { EvidenceIndexCSV.header + events.map(EvidenceIndexCSV.row).joined() }
    // (A broken chain is not marked in the CSV, whose first line is its header: the command warns
    // on standard error instead.)

    // MARK: JUnit XML: the checks, one suite per kind

    /// One test case a check, as its latest run left it (a CI job gating on failures agrees with
    /// the verdict); the runs it replaced are told in its output.
    var junitXML: String {
        let latest = latestChecks
        let kinds = latest.reduce(into: [String]()) { if !$0.contains($1.latest.kind) { $0.append($1.latest.kind) } }
        let stamp = state.startedAt.map { " timestamp=\"\(xml($0.description))\"" } ?? ""
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + (chainBroken.map { "<!-- WARNING: \(xml($0).replacingAll("--", with: "- -")) -->\n" } ?? "")
        out += "<testsuites name=\"\(xml(title))\" tests=\"\(latest.count)\" failures=\"\(failed)\" skipped=\"\(skipped)\">\n"
        for kind in kinds {
            let cs = latest.filter { $0.latest.kind == kind }
            out +=
                "  <testsuite name=\"\(xml(kind))\" tests=\"\(cs.count)\" failures=\"\(cs.filter { $0.latest.result == .fail }.count)\" skipped=\"\(cs.filter { $0.latest.result == .skipped }.count)\"\(stamp)>\n"
            for (c, earlier) in cs {
                out += "    <testcase classname=\"failback.\(xml(kind))\" name=\"\(xml(c.name)) (event #\(c.evidence.drillSeq))\">"
                switch c.result {
                case .pass: out += "\n"
                case .fail: out += "\n      <failure message=\"\(xml(c.detail))\">\(xml(Self.evidence(c.evidence)))</failure>\n"
                case .skipped: out += "\n      <skipped message=\"\(xml(c.detail))\"/>\n"
                }
                let before = earlier.map { "\n\($0.result.rawValue) earlier: \($0.detail) — \(Self.evidence($0.evidence))" }.joined()
                out += "      <system-out>\(xml(c.detail + " — " + Self.evidence(c.evidence) + before))</system-out>\n    </testcase>\n"
            }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }
}

/// Text escaped for XML and HTML content and attributes.
func xml(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.utf8.count)
    for ch in s.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        // XML 1.0 forbids most control characters, even escaped.
        case _ where ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r": out += "\u{FFFD}"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}

/// The evidence index (RFC 4180 CSV, CRLF line ends): one row an event, written by `failback
/// report --format csv` and into a bundle as `evidence-index.csv`. Control characters and escape
/// sequences in recorded text are written escaped (`terminalSafe`); a cell that a spreadsheet
/// would take for a formula (beginning with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// written with a `'` before it.
public enum EvidenceIndexCSV {
    public static let header = "drill_seq,seq,recorded_at,type,actor,summary,sha256_chain_hash\r\n"

    static func row(_ e: DrillReport.EventReference) -> String {
        [String(e.drillSeq), String(e.seq), e.at.description, e.type, e.actor, e.summary, e.hash].map(field).joined(separator: ",") + "\r\n"
    }

    /// One cell: neutralised, then quoted when it holds a comma, a quote or a line break.
    public static func field(_ raw: String) -> String {
        // Most cells (numbers, times, types, hashes, plain summaries) are printable ASCII with no
        // comma or quote and no formula start: they are their own cell, found in one pass over
        // the bytes (walking Characters costs grapheme breaking, a row at a time).
        var plain = true
        for b in raw.utf8 where b < 0x20 || b > 0x7E || b == UInt8(ascii: ",") || b == UInt8(ascii: "\"") {
            plain = false
            break
        }
        if plain {
            guard let first = raw.utf8.first else { return raw }
            if first != UInt8(ascii: "="), first != UInt8(ascii: "+"), first != UInt8(ascii: "-"), first != UInt8(ascii: "@") { return raw }
        }
        var s = terminalSafe(raw, keepTabs: true)
        // Bytes, not Characters: these are ASCII, which UTF-8 never uses inside another character.
        if let first = s.utf8.first, [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains(first) {
            s = "'" + s
        }
        let quoted = s.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        return quoted ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
    }
}
