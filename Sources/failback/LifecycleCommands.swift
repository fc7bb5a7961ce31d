import ArgumentParser
import FailbackDomain
import FailbackLog

struct Phase: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "phase", abstract: "Start and complete the runbook's phases.", subcommands: [Start.self, Complete.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", 
            abstract: "Start a phase (the previous one must be complete).",
            discussion: "The first phase is gated: questions answered yes, checklist verified, an approval, an option chosen.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Argument(help: "The phase id.") var phase: String
        @Flag(help: "Pass the gate although something is missing (needs --reason; recorded).") var override = false
        @Option(help: "Why the gate is overridden.") var reason: String?

        func validate() throws {
            if override && reason == nil { throw ValidationError("--override needs --reason TEXT") }
            if reason != nil && !override { throw ValidationError("--reason goes with --override") }
        }

        func run() throws {
            try Output.printing(storeOptions, appendOptions) {
                try $0.startPhase(phase, overrideReason: override ? reason : nil, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey)
            }
        }
    }

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "complete", abstract: "Complete the running phase.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Argument(help: "The phase id.") var phase: String

        func run() throws {
            try Output.printing(storeOptions, appendOptions) { try $0.completePhase(phase, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey) }
        }
    }
}

extension Recorder.StepOutcome: ExpressibleByArgument {}
extension DrillCompleted.Outcome: ExpressibleByArgument {}

struct Step: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "step", abstract: "Record a step of the running phase (or of the abort procedure) as done, skipped or failed.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Argument(help: "done, skip or fail.") var outcome: Recorder.StepOutcome
    @Argument(help: "The step id.") var step: String
    @Option(help: "Why (required for skip and fail).") var reason: String?

    func run() throws {
        try Output.printing(storeOptions, appendOptions) {
            try $0.recordStep(outcome, step, reason: reason, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey)
        }
    }
}

extension Drill {
    struct Abort: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "abort", abstract: "Abort the drill; it switches to the runbook's abort (rollback) procedure.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: "Why the drill is aborted.") var reason: String

        func run() throws {
            try Output.printing(storeOptions, appendOptions) { try $0.abortDrill(reason: reason, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey) }
        }
    }

    struct Complete: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "complete", abstract: "End the drill (nothing can be recorded in it afterwards).")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: "success, failed or aborted (default: success, or aborted after an abort).") var outcome: DrillCompleted.Outcome?

        func run() throws {
            try Output.printing(storeOptions, appendOptions) { try $0.completeDrill(outcome: outcome, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey) }
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "A drill's state, rebuilt from its events.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id")) var drill: String?
    @Option(help: ArgumentHelp("The state as it was after drill event #SEQ, or at an RFC 3339 time.", valueName: "seq|time"))
    var asOf: String?
    @Flag(help: "The state as JSON.") var json = false

    func validate() throws {
        if let asOf, DrillState.Moment(asOf) == nil { throw ValidationError("--as-of takes a drill event number or an RFC 3339 time, not '\(asOf)'") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder()
        let state = try recorder.state(of: drill, asOf: asOf.flatMap(DrillState.Moment.init))
        print(json ? CanonicalJSON.string(state.json) : state.render(now: asOf == nil ? Timestamp.now() : state.lastEventAt ?? Timestamp.now()))
    }
}

extension Drill {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every drill in the store, oldest first.")
        @OptionGroup var storeOptions: StoreOptions
        @Flag(help: "One JSON object a line.") var json = false

        func run() throws {
            for summary in try storeOptions.workspace.openRecorder().drillSummaries() {
                print(json ? CanonicalJSON.string(summary.json) : summary.line)
            }
        }
    }
}
