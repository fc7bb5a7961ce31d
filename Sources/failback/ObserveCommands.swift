import ArgumentParser
import FailbackDomain
import FailbackLog
import FailbackProbes

struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Probe the world and record what it says (every sample an event).", subcommands: [HTTP.self, Pods.self])

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
            try loop.sample(probe: "http \(url)", measures: HTTPProbe.measures, storeOptions, appendOptions) { recorder, remaining in
                HTTPProbe.check(url: url, expectStatus: expectStatus, expectBody: expectBody, timeout: remaining, bodyLimit: recorder.maxOutputBytes)
            }
        }
    }

    struct Pods: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record pod states from a kubectl listing (a file, or the command after --).",
            discussion: "failback observe pods --from-file pods.json | failback observe pods -- kubectl get pods -n bud -o json\nExit 0 when every pod is ready (or --until is met), else 1.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("What `kubectl get pods -o json` printed.", valueName: "file")) var fromFile: String?
        @Argument(parsing: .postTerminator, help: "A command printing a kubectl pod listing, after --.") var command: [String] = []

        func validate() throws {
            if (fromFile == nil) == command.isEmpty { throw ValidationError("give --from-file FILE or a command after --, not both") }
        }

        func run() throws {
            try loop.sample(probe: "pods \(fromFile ?? command.joined(separator: " "))", measures: PodsProbe.measures, storeOptions, appendOptions) { recorder, _ in
                try PodsProbe.check(file: fromFile, command: command, outputLimit: max(recorder.maxOutputBytes, recorder.maxPayloadBytes))
            }
        }
    }
}

extension Observe.Loop {
    /// Runs a probe as these options say, recording and printing every sample and the verdict;
    /// exits 1 when the check fails or the condition times out.
    func sample(
        probe: String, measures: [String: String], _ storeOptions: StoreOptions, _ appendOptions: AppendOptions,
        _ check: (Recorder, _ remaining: Double) throws -> ProbeSample
    ) throws {
        let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
        let drill = try recorder.drillForWriting(appendOptions.drill)
        let condition = try until.map { (u) throws(InvalidInput) in try UntilCondition(u, names: measures) }
        let pause = try parseDuration(every, option: "--every"), limit = try parseDuration(timeout, option: "--timeout")
        let ok = try Sampler.run(probe: probe, until: condition, every: pause, timeout: limit, record: { payload in
            let outcome = try recorder.record(payload, drill: drill.drillID)
            print(Output.render(outcome.event, json: appendOptions.json))
        }) { remaining in try check(recorder, remaining) }
        if !ok { throw ExitCode(1) }
    }
}
