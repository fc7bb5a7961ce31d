import ArgumentParser
import FailbackDomain
import FailbackLog
import FailbackProbes

#if canImport(Glibc)
import Glibc
#endif

struct Phase: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "phase", abstract: "Start and complete the runbook's phases.", subcommands: [Start.self, Complete.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start",
            abstract: "Start a phase (the previous one must be complete).",
            discussion: "The first phase is gated: questions answered yes, checklist verified, an approval, an option chosen.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Argument(help: "The phase id.", completion: Completions.phases) var phase: String
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
        @Argument(help: "The phase id.", completion: Completions.phases) var phase: String

        func run() throws {
            try Output.printing(storeOptions, appendOptions) { try $0.completePhase(phase, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey) }
        }
    }
}

extension DrillCompleted.Outcome: ExpressibleByArgument {}

/// What `failback step` records of a step.
enum StepAction: String, ExpressibleByArgument, CaseIterable {
    case start, done, skip, fail
}

struct Step: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Record that a step started, or that it was done, skipped or failed.",
        discussion: """
            failback step start b-promote-us      # its duration runs from here (exec --step starts it too)
            failback step done b-promote-us
            failback step skip run-e2e-tests --reason "no e2e suite in the lab"
            A step whose after: steps are not done is refused (start, done) unless --override --reason TEXT (recorded).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Argument(help: "start, done, skip or fail.") var action: StepAction
    @Argument(help: "The step id.", completion: Completions.steps) var step: String
    @Option(help: "Why (required for skip and fail; with --override, why the gate is passed).") var reason: String?
    @Flag(help: "Start (or record done) a step whose after: steps are not done (needs --reason; recorded).") var override = false

    func validate() throws {
        if override && reason == nil { throw ValidationError("--override needs --reason TEXT") }
        if override && (action == .skip || action == .fail) { throw ValidationError("--override goes with start or done") }
    }

    func run() throws {
        try Output.printing(storeOptions, appendOptions) { recorder in
            let key = appendOptions.idempotencyKey, drill = appendOptions.drill
            switch action {
            case .start: return try recorder.startStep(step, overrideReason: override ? reason : nil, drill: drill, idempotencyKey: key)
            case .done: return try recorder.recordStep(.done, step, reason: override ? nil : reason, overrideReason: override ? reason : nil, drill: drill, idempotencyKey: key)
            case .skip: return try recorder.recordStep(.skip, step, reason: reason, drill: drill, idempotencyKey: key)
            case .fail: return try recorder.recordStep(.fail, step, reason: reason, drill: drill, idempotencyKey: key)
            }
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
        static let configuration = CommandConfiguration(
            commandName: "complete",
            abstract: "End the drill (nothing can be recorded in it afterwards).",
            discussion: """
                Without --outcome the outcome is worked out from the drill and printed with its reasons:
                success only when the followed procedure ran whole (every phase completed, every step done or
                skipped), writes resumed and no check's latest run failed; aborted after an abort; no-go or
                postponed when no phase started and the decision was not to go; else failed.
                --outcome success over a drill that does not support it is refused unless --override --reason TEXT.
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: "success, failed, aborted, no-go or postponed (default: worked out from the drill).") var outcome: DrillCompleted.Outcome?
        @Flag(help: "Record --outcome success although the drill does not support it (needs --reason; recorded).") var override = false
        @Option(help: "Why the outcome is overridden.") var reason: String?

        func validate() throws {
            if override && reason == nil { throw ValidationError("--override needs --reason TEXT") }
            if reason != nil && !override { throw ValidationError("--reason goes with --override") }
            if override && outcome == nil { throw ValidationError("--override goes with --outcome") }
        }

        func run() throws {
            try Output.printing(storeOptions, appendOptions) {
                try $0.completeDrill(outcome: outcome, overrideReason: override ? reason : nil, drill: appendOptions.drill, idempotencyKey: appendOptions.idempotencyKey)
            }
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "A drill's state, rebuilt from its events.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
    @Option(help: ArgumentHelp("The state as it was after drill event #SEQ, or at an RFC 3339 time.", valueName: "seq|time"))
    var asOf: String?
    @Flag(help: "The state as JSON.") var json = false
    @Flag(help: "Show the state again whenever someone records into the drill, until it is closed (Ctrl-C stops).") var watch = false
    @Option(help: ArgumentHelp("With --watch: how often to look (at least 100ms).", valueName: "duration")) var every = "2s"

    func validate() throws {
        if let asOf, DrillState.Moment(asOf) == nil { throw ValidationError("--as-of takes a drill event number or an RFC 3339 time, not '\(asOf)'") }
        if watch && asOf != nil { throw ValidationError("--watch follows the drill as it goes on; --as-of shows a past moment: give one of them") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder()
        if watch { return try watching(recorder) }
        let moment = asOf.flatMap(DrillState.Moment.init)
        if let moment, let note = try recorder.check(moment, of: try recorder.drillForReading(drill)) { Output.note(note) }
        let state = try recorder.state(of: drill, asOf: moment)
        if let id = state.drillID { try Output.warnIfChainBroken(recorder, id) }
        // Live (no --as-of): running work is measured to now, in the text and the JSON alike.
        let now = asOf == nil ? Timestamp.now() : nil
        print(json ? CanonicalJSON.string(state.json(now: now)) : state.render(now: now ?? state.lastEventAt ?? Timestamp.now()))
    }

    /// `--watch`: the state each time the drill's head moves (on a terminal, redrawn in place every
    /// `--every`, so running times tick), until the drill is closed.
    func watching(_ recorder: Recorder) throws {
        let interval = try parseDuration(every, option: "--every")
        guard interval >= 0.1, interval <= 3600 else { throw InvalidInput("--every must be from 100ms to 1h, got \(every)", kind: .usage) }
        let id = try recorder.drillForReading(drill).drillID
        let redraw = !json && isatty(1) != 0 && getenv("NO_COLOR") == nil
        var shown: Int?
        while true {
            guard let head = try recorder.store.drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in this store", subject: .drill(id)) }
            if redraw || head.eventCount != shown {
                let state = try recorder.foldedState(head)
                let now = Timestamp.now()
                if json {
                    print(CanonicalJSON.string(state.json(now: head.isOpen ? now : nil)))
                } else if redraw {
                    print("\u{1B}[H\u{1B}[2J" + state.render(now: now) + "\n\nwatching: \(head.eventCount) events; Ctrl-C to stop")
                } else {
                    print((shown == nil ? "" : "\n") + state.render(now: head.isOpen ? now : state.lastEventAt ?? now))
                }
                fflush(nil)
                shown = head.eventCount
            }
            if !head.isOpen { return }
            usleep(UInt32(interval * 1_000_000))  // at most 3.6e9 µs: within UInt32
        }
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
