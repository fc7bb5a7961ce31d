import FailbackDomain
import FailbackExporters
import FailbackLog
import Foundation
import Testing

/// Every report format against its golden file, rendered from `FixedDrill`.
/// To accept a deliberate change: `FAILBACK_UPDATE_GOLDEN=1 swift test --filter ReportGoldenTests`, then review the diff.
@Suite struct ReportGoldenTests {
    @Test(arguments: ReportFormat.allCases)
    func formatMatchesItsGoldenFile(format: ReportFormat) throws {
        let folder = TemporaryFolder()
        let report = try DrillReport(events: FixedDrill.record(in: folder))
        try expectGolden(format.render(report), "report.\(format.rawValue == "junit" ? "junit.xml" : format.rawValue)")
    }

    /// Rebuilding from the same events gives the same bytes, and a second recording of the same
    /// drill (same clock, same ids) gives the same events.
    @Test func sameEventsGiveTheSameBytes() throws {
        let a = TemporaryFolder(), b = TemporaryFolder()
        let first = try FixedDrill.record(in: a), second = try FixedDrill.record(in: b)
        #expect(first.map(\.hash) == second.map(\.hash))
        for format in ReportFormat.allCases {
            #expect(format.render(try DrillReport(events: first)) == format.render(try DrillReport(events: second)))
        }
    }

    @Test func reportSaysWhatTheDrillDid() throws {
        let folder = TemporaryFolder()
        let report = try DrillReport(events: FixedDrill.record(in: folder))
        #expect(report.metrics.rpoSeconds == 0.4 && report.metrics.rpoMet == true)
        #expect(report.metrics.rowsMissing == 0)
        #expect(report.lagBefore == 0.9 && report.lagAfter == 0.2)
        #expect(report.servicesAffected == ["postgresql", "reporting-service", "route53"])
        // The DNS loop's samples are folded into its verdict; the failed step and health check stay.
        #expect(report.checks.filter { $0.kind == "dns" }.isEmpty)
        #expect(report.checks.filter { $0.result == .fail }.map(\.kind) == ["step", "http"])
        #expect(report.checks.filter { $0.result == .skipped }.map(\.name) == ["run-e2e-tests"])
        // Secrets never reach a report: they were redacted before they were recorded.
        for format in ReportFormat.allCases {
            let text = format.render(report)
            for secret in ["Repl1c4te!", "s3cret", "abc123secret"] { #expect(!text.contains(secret), "\(format) shows \(secret)") }
        }
    }

    @Test func asOfReportsTheDrillAsItWas() throws {
        let folder = TemporaryFolder()
        let all = try FixedDrill.record(in: folder)
        let early = try DrillReport(events: all, asOf: .drillSeq(12))
        #expect(early.state.eventCount == 12 && early.events.count == 12)
        #expect(early.headHashHex == all[11].hash.hex)
        #expect(early.state.status == .running)
        #expect(try DrillReport(events: all, asOf: .time(all[4].recordedAt)).state.eventCount == 5)
    }

    /// The machine formats parse with real tools: JSON with Python, JUnit XML with Python's XML parser.
    @Test func machineFormatsParse() throws {
        let folder = TemporaryFolder()
        let report = try DrillReport(events: FixedDrill.record(in: folder))
        let json = try JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(report).utf8)) as! [String: Any]
        #expect((json["chain"] as! [String: Any])["head"] as? String == report.headHashHex)
        let xmlFile = "\(folder.path)/r.xml", csvFile = "\(folder.path)/r.csv"
        try ReportFormat.junit.render(report).write(toFile: xmlFile, atomically: true, encoding: .utf8)
        try ReportFormat.csv.render(report).write(toFile: csvFile, atomically: true, encoding: .utf8)
        let script = """
            import csv, sys, xml.etree.ElementTree as ET
            root = ET.parse(sys.argv[1]).getroot()
            cases = root.findall('.//testcase')
            print(root.get('tests'), len(cases), len(root.findall('.//failure')), len(root.findall('.//skipped')))
            rows = list(csv.reader(open(sys.argv[2], newline='')))
            print(len(rows) - 1, rows[0][0], rows[-1][3])
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, xmlFile, csvFile]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(text == "\(report.checks.count) \(report.checks.count) \(report.failed) \(report.skipped)\n\(report.events.count) drill_seq DrillCompleted\n")
    }
}

/// Evidence gaps follow what the drill recorded.
@Suite struct EvidenceGapTests {
    @Test func theFixedDrillHasNoGapsAndItsPrefixesHaveTheRightOnes() throws {
        let folder = TemporaryFolder()
        let all = try FixedDrill.record(in: folder)
        #expect(try DrillReport(events: all).evidenceGaps == [])
        // Cut just after the cutover step: no DNS proof, no post-cutover lag or health check, not completed.
        let cutover = try #require(all.firstIndex { $0.type == "StepCompleted" && $0.payload["step"]?.stringValue == "b-update-dns" })
        let gaps = try DrillReport(events: all.prefix(cutover + 1)).evidenceGaps.map { "\($0.control) \($0.missing)" }
        #expect(gaps.contains { $0.hasPrefix("A1.3 no DNS cutover proof") })
        #expect(gaps.contains("A1.2 no post-cutover replication lag sample (after writes resumed)"))
        #expect(gaps.contains("A1.3 no health check after writes resumed (failback observe http)"))
        #expect(gaps.contains("CC9.1 the drill is not completed (failback drill complete)"))
        #expect(!gaps.contains { $0.hasPrefix("A1.2 no row-count") })
    }
}

/// A drill with many lag samples keeps the report's series bounded, its peak, and exact metrics.
@Suite struct LongDrillReportTests {
    @Test func lagSeriesIsBoundedAndKeepsThePeak() throws {
        let folder = TemporaryFolder()
        let path = "\(folder.path)/long.sqlite"
        try SQLiteEventStore.create(at: path)
        let clock = FixedClock()
        let r = Recorder(
            store: try SQLiteEventStore(openingAt: path), context: RecordingContext(actor: "a", host: "h", clock: { clock.next() }, makeDrillID: { _ in "drill-long" }))
        _ = try r.startDrill(DrillStarted(runbook: shippedRunbook(), option: "B"))
        let samples = 7_001
        for start in stride(from: 0, to: samples, by: 1000) {
            _ = try r.record(
                batch: (start..<min(samples, start + 1000)).map { i in
                    try ReplicationLagSampled(lagSeconds: i == 4_321 ? 99 : Double(i % 10) / 10, source: "eu", target: "us")
                })
        }
        let report = try DrillReport.build(drill: "drill-long", from: try SQLiteEventStore(openingAt: path))
        #expect(report.lag.count < 2 * DrillReport.lagPoints && report.lag.count >= DrillReport.lagPoints / 2)
        #expect(report.lag.map(\.seconds).max() == 99)
        // The runbook's sites are eu-central-1 → us-east-1: these readings name other sites, so
        // they are all "another direction" and none is the RPO.
        #expect(report.metrics.lag == nil && report.metrics.rpoSeconds == nil)
        #expect(report.metrics.reverseLag?.count == samples && report.metrics.reverseLag?.max == 99)
        #expect(report.state.lag.count == samples)
        #expect(
            (try JSONSerialization.jsonObject(with: Data(ReportFormat.json.render(report).utf8)) as! [String: Any])["replication_lag"].map { ($0 as! [Any]).count }
                == report.lag.count)
    }
}
