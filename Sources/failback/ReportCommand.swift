import ArgumentParser
import FailbackDomain
import FailbackExporters
import FailbackLog

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The failback report of a drill: md, json, html, csv (evidence index) or junit (checks).",
        discussion: "Written to standard output, or whole to -o FILE (never half-written). See docs/report.md.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id")) var drill: String?
    @Option(help: "md, json, html, csv or junit.") var format = "md"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to this file.", valueName: "file")) var output: String?
    @Option(help: ArgumentHelp("The drill as it was after drill event #SEQ, or at an RFC 3339 time.", valueName: "seq|time")) var asOf: String?

    func validate() throws {
        if ReportFormat(rawValue: format) == nil { throw ValidationError("--format must be one of md, json, html, csv, junit, not \(format.debugDescription)") }
        if let asOf, DrillState.Moment(asOf) == nil { throw ValidationError("--as-of takes a drill event number or an RFC 3339 time, not \(asOf.debugDescription)") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder()
        let head = try recorder.drillForReading(drill)
        let moment = asOf.flatMap(DrillState.Moment.init)
        var report = DrillReport()
        var failure: InvalidInput?
        try recorder.store.forEachEvent(drill: head.drillID) { event in
            guard failure == nil, moment.map({ DrillReport.includes($0, event) }) ?? true else { return }
            do throws(InvalidInput) { try report.apply(event) } catch { failure = error }
        }
        if let failure { throw failure }
        report.finish()
        let text = ReportFormat(rawValue: format)!.render(report)
        if let output {
            let file = try OutputFile(path: output)
            try file.write(text)
            try file.commit()
        } else {
            print(text, terminator: "")
        }
    }
}
