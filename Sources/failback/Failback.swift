import ArgumentParser
import FailbackDomain
import FailbackLog

@main
struct Failback: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "failback",
        abstract: "Record a disaster-recovery failback drill in a tamper-evident event log.",
        discussion: """
            Every action and observation is appended to an append-only, hash-chained log
            (default ./.failback/ledger.sqlite). --drill defaults to the current (latest open) drill.
            """,
        version: "0.1.0",
        subcommands: [
            Init.self, Drill.self, Decide.self, Checklist.self, Approve.self, Decline.self, Phase.self, Step.self, Exec.self, Observe.self, Record.self, Note.self, Issue.self,
            Status.self, Log.self, Replay.self, Compare.self, Verify.self, Report.self, Evidence.self, Keys.self, RunbookCommand.self, RedactCommand.self, StoreCommand.self,
        ])

    static func main() { CommandLine.run(Failback.self) }
}

/// Where the store is: shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The store file (default: $FAILBACK_STORE, else ./.failback/ledger.sqlite).", valueName: "path"))
    var store: String?

    @Option(help: ArgumentHelp("A configuration file (default: $FAILBACK_CONFIG, else config.json beside the store).", valueName: "path"))
    var config: String?

    var workspace: Workspace { Workspace(store: store, config: config) }

    /// The store's recorder and the drill a reading command is about (`id`, else the current
    /// drill, else the latest).
    func drillForReading(_ id: String?) throws -> (recorder: Recorder, drill: DrillHead) {
        let recorder = try workspace.openRecorder()
        return (recorder, try recorder.drillForReading(id))
    }
}

/// Options of every command that appends an event.
struct AppendOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The drill to record in (default: the current drill).", valueName: "id"), completion: Completions.drills)
    var drill: String?

    @Option(help: ArgumentHelp("Who records this (default: $FAILBACK_ACTOR, else $USER).", valueName: "name"))
    var actor: String?

    @Option(help: ArgumentHelp("Makes a retried command a no-op that prints the event first recorded with this key.", valueName: "key"))
    var idempotencyKey: String?

    @Flag(help: "Print the recorded event as JSON.")
    var json = false
}

struct Init: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the store (nothing happens if it exists).",
        discussion: """
            failback init                                             # ./.failback/ledger.sqlite
            failback init --store postgresql://failback@db.example/ops   # the team's store on PostgreSQL
            failback init --print-sql                                 # the PostgreSQL schema and writer role, for a DBA
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Flag(help: "Print the PostgreSQL schema (and the writer role's grants) instead of creating anything.") var printSQL = false

    func run() throws {
        if printSQL {
            print(PostgresStorage.schema + "\n\n-- The role recorders connect as:\n" + PostgresStorage.writerRoleSQL)
            return
        }
        let workspace = storeOptions.workspace
        if try workspace.initialize() {
            print("initialized empty store at \(workspace.storeLabel)")
        } else {
            print("store at \(workspace.storeLabel) already exists; left as it is")
        }
    }
}

extension Drill {
    /// What `drill start` and `drill join` say of the current drill: that it is now `drill`, unless
    /// `$FAILBACK_DRILL` names another, which commands follow while it is set.
    static func becomesCurrent(_ drill: String) -> String {
        if let named = JoinedDrill.environmentDrill, named != drill {
            return "kept as your current drill, but $FAILBACK_DRILL names \(named), which your commands follow while it is set"
        }
        return "it is now your current drill"
    }
}

struct Drill: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drill", abstract: "Start, abort and complete drills.", subcommands: [Start.self, Join.self, Abort.self, Complete.self, List.self])

    struct Start: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "start", abstract: "Start a drill; prints its id. It becomes your current drill (on this machine, for this store).")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The runbook followed: a file, or an id found as runbooks/ID.yaml ($FAILBACK_RUNBOOKS, then ./runbooks).", valueName: "id|file")) var runbook:
            String
        @Option(help: ArgumentHelp("The strategy option chosen (from the runbook's decision matrix).", valueName: "id")) var option: String?
        @Option(name: .customLong("operator"), help: ArgumentHelp("Who runs the drill.", valueName: "name")) var operatorName: String?
        @Option(help: ArgumentHelp("The change ticket.", valueName: "id")) var ticket: String?
        @Option(help: ArgumentHelp("Who records this (default: $FAILBACK_ACTOR, else $USER).", valueName: "name")) var actor: String?
        @Option(help: ArgumentHelp("Makes a retried start a no-op.", valueName: "key")) var idempotencyKey: String?
        @Option(help: ArgumentHelp("The role you act in (recorded as you joining the drill).", valueName: "role")) var role: String?

        func run() throws {
            let workspace = storeOptions.workspace
            let recorder = try workspace.openRecorder(actor: actor, joining: true)
            let started = try DrillStarted(runbook: workspace.runbook(runbook), option: option, operatorName: operatorName, ticket: ticket)
            // Checked before anything is appended: the role, and that the current drill can be kept.
            let roleJoined = try role.map { try OperatorJoined(role: $0) }
            try workspace.joinedDrill.checkWritable()
            let outcome = try recorder.startDrill(started, idempotencyKey: idempotencyKey)
            let drill = outcome.event.drillID
            try workspace.joinedDrill.write(drill)
            if let roleJoined, case .appended = outcome { _ = try recorder.record(roleJoined, drill: drill) }
            print(drill)
            Output.note(outcome, "started drill \(drill) (\(started.summary)); " + Drill.becomesCurrent(drill))
        }
    }

    struct Join: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "join", abstract: "Make an open drill your current drill (on this machine, for this store) and record that you joined it.",
            discussion: """
                failback drill join drill-20261123-182100-3fa9c1 --role DBA
                Your commands that name no --drill then record in it, whatever drills others start.
                $FAILBACK_DRILL, when set, names the drill instead (for one shell).
                """)
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: ArgumentHelp("The drill ('failback drill list' shows the open ones).", valueName: "id"), completion: Completions.drills) var id: String
        @Option(help: ArgumentHelp("The role you act in: DBA, network, incident commander...", valueName: "role")) var role: String?
        @Option(help: ArgumentHelp("Who joins (default: $FAILBACK_ACTOR, else $USER).", valueName: "name")) var actor: String?
        @Flag(help: "Print the recorded event as JSON.") var json = false

        func run() throws {
            let workspace = storeOptions.workspace
            let recorder = try workspace.openRecorder(actor: actor, joining: true)
            try workspace.joinedDrill.checkWritable()
            let outcome = try recorder.joinDrill(id, role: role)
            try workspace.joinedDrill.write(id)
            print(Output.render(outcome.event, json: json))
            Output.note(outcome, "drill \(id): " + Drill.becomesCurrent(id))
        }
    }
}

struct Note: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Add a note to the drill.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Argument(help: "The note.") var text: String

    func run() throws {
        try Output.record(NoteAdded(text: text), storeOptions, appendOptions)
    }
}

struct Issue: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "issue", abstract: "Record issues encountered.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Record an issue encountered during the drill.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Argument(help: "What went wrong.") var title: String
        @Option(help: "low, medium, high or critical.") var severity: IssueRaised.Severity = .medium

        func run() throws {
            try Output.record(IssueRaised(title: title, severity: severity), storeOptions, appendOptions)
        }
    }
}

extension IssueRaised.Severity: ExpressibleByArgument {}

struct Log: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "Print a drill's events in order.")
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
    @Flag(help: "One JSON object a line: the event as stored, with its chain hash.") var json = false

    func run() throws {
        let (recorder, drill) = try storeOptions.drillForReading(drill)
        try recorder.store.forEachEvent(drill: drill.drillID) { event in
            print(Output.render(event, json: json))
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Recompute the store's hash chains from the stored bytes; exit 0 only if everything holds.",
        discussion: """
            failback verify                 # the whole store: every drill's chain, and every row against its bytes
            failback verify --drill ID      # one drill's chain only (says so)
            Exit status 1 when anything is broken; each problem names the first bad sequence number.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("Verify this drill's chain only.", valueName: "id"), completion: Completions.drills) var drill: String?
    @Flag(help: "The whole store (the default when no --drill is given).") var all = false
    @Flag(help: "Check each event's RFC 8785 form by parsing it and writing it again (slower; the same verdict as the one-pass check).") var deep = false
    @Flag(help: "One JSON object a line, per drill (and the store).") var json = false

    func validate() throws {
        if all && drill != nil { throw ValidationError("--all checks every drill; give it or --drill ID, not both") }
    }

    func run() throws {
        let store = try storeOptions.workspace.openRecorder().store
        let closing = EventCatalogue.closingTypes
        var reports: [VerificationReport] = []
        if let drill {
            reports.append(try store.verify(drill: drill, deep: deep, closingTypes: closing))
        } else {
            reports.append(try store.verifyStore())
            for d in try store.drills() { reports.append(try store.verify(drill: d.drillID, deep: deep, closingTypes: closing)) }
        }
        for report in reports {
            let line = json ? CanonicalJSON.string(report.json) : report.summary
            print(drill != nil && !json && report.isIntact ? line + " (this drill only: failback verify checks the whole store)" : line)
        }
        if reports.contains(where: { !$0.isIntact }) { throw ExitCode(1) }
    }
}
