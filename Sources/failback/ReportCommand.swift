import ArgumentParser
import FailbackDomain
import FailbackExporters
import FailbackLog

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "The failback report of a drill: md, json, html, csv (evidence index) or junit (checks).",
        discussion: "Written to standard output, or whole to -o FILE (never half-written). See docs/report.md.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
    @Option(help: "md, json, html, csv or junit.", completion: .list(ReportFormat.allCases.map(\.rawValue))) var format = "md"
    @Option(name: .shortAndLong, help: ArgumentHelp("Write the report to this file.", valueName: "file")) var output: String?
    @Option(help: ArgumentHelp("The drill as it was after drill event #SEQ, or at an RFC 3339 time.", valueName: "seq|time")) var asOf: String?

    func validate() throws {
        if ReportFormat(rawValue: format) == nil { throw ValidationError("--format must be one of md, json, html, csv, junit, not \(format.debugDescription)") }
        if let asOf, DrillState.Moment(asOf) == nil { throw ValidationError("--as-of takes a drill event number or an RFC 3339 time, not \(asOf.debugDescription)") }
    }

    func run() throws {
        let (recorder, head) = try storeOptions.drillForReading(drill)
        let moment = asOf.flatMap(DrillState.Moment.init)
        if let moment, let note = try recorder.check(moment, of: head) { Output.note(note) }
        var report = try DrillReport.build(drill: head.drillID, from: recorder.store, asOf: moment)
        report.chainBroken = try Output.warnIfChainBroken(recorder, head.drillID)
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
