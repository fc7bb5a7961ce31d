import ArgumentParser
import FailbackDomain
import FailbackLog
import FailbackProbes

struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe the world and record what it says (every sample an event).", subcommands: [HTTP.self])

    /// The sampling options every probe takes.
    struct Loop: ParsableArguments {
        @Option(help: ArgumentHelp("Sample until this holds: pass, or NAME<VALUE like status=200, latency<250ms.", valueName: "condition"))
        var until: String?
        @Option(help: ArgumentHelp("Pause between samples.", valueName: "duration")) var every = "2s"
        @Option(help: ArgumentHelp("Give up after this long (also each request's limit).", valueName: "duration")) var timeout = "30s"
    }

    struct HTTP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "http", abstract: "Request a URL (through curl) and record its status and latency, or the error.",
            discussion: "Exit status 0 when the check passes (or --until is met), 1 when it fails or times out.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Argument(help: "The URL.") var url: String
        @Option(help: "The status that passes (default: any 2xx).") var expectStatus: Int?
        @Option(help: "Text the body must contain.") var expectBody: String?

        func run() throws {
            let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
            let drill = try recorder.drillForWriting(appendOptions.drill)
            let until = try loop.until.map { (u) throws(InvalidInput) in try UntilCondition(u, names: HTTPProbe.measures) }
            let every = try parseDuration(loop.every, option: "--every"), timeout = try parseDuration(loop.timeout, option: "--timeout")
            let ok = try Sampler.run(probe: "http \(url)", until: until, every: every, timeout: timeout, record: { payload in
                let outcome = try recorder.record(payload, drill: drill.drillID)
                print(appendOptions.json ? CanonicalJSON.string(outcome.event.jsonWithHash) : EventCatalogue.line(for: outcome.event))
            }) { remaining in
                HTTPProbe.check(url: url, expectStatus: expectStatus, expectBody: expectBody, timeout: remaining, bodyLimit: recorder.maxOutputBytes)
            }
            if !ok { throw ExitCode(1) }
        }
    }
}
