import ArgumentParser
import FailbackDomain
import FailbackLog

enum YesNo: String, ExpressibleByArgument, CaseIterable {
    case yes, no
}

struct Decide: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decide",
        abstract: "Answer a yes/no question of the runbook (pre-decision question or flowchart node).",
        discussion: "When the answers lead the flowchart to an option, the choice is recorded with them.")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Argument(help: "The question (or flowchart node) id.") var question: String
    @Argument(help: "yes or no.") var answer: YesNo
    @Option(help: "Who answered, when not the one recording.") var by: String?
    @Option(help: "A note for the record.") var note: String?
    @Flag(help: "Change an earlier answer (needs --reason; recorded). The flowchart is walked again.") var revise = false
    @Option(help: "Why the answer changed.") var reason: String?

    func validate() throws {
        if revise && reason == nil { throw ValidationError("--revise needs --reason TEXT") }
        if reason != nil && !revise { throw ValidationError("--reason goes with --revise") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
        for outcome in try recorder.decide(question, answer == .yes, by: by, note: note, revisionReason: revise ? reason : nil, drill: appendOptions.drill) {
            print(Output.render(outcome.event, json: appendOptions.json))
        }
    }
}

struct Checklist: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "checklist", abstract: "The runbook's checklist.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Record a checklist item as verified.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Argument(help: "The checklist item id.") var item: String
        @Option(help: "Notes for the record.") var notes: String?
        @Option(help: "Who verified it, when not the one recording.") var by: String?

        func run() throws {
            try Output.printing(storeOptions, appendOptions) { try $0.verifyChecklistItem(item, by: by, notes: notes, drill: appendOptions.drill) }
        }
    }
}

struct Approve: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Record an approval of the failback.",
        discussion:
            "failback approve --by 'Morgan Lee' --role incident-commander\nA role the runbook's approvals: do not ask for is recorded but opens nothing (said on standard error).")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Option(help: "Who approves.") var by: String
    @Option(help: "Their role (change manager, VP Engineering...).") var role: String

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
        let (outcome, notice) = try recorder.approve(by: by, role: role, drill: appendOptions.drill)
        print(Output.render(outcome.event, json: appendOptions.json))
        Output.note(outcome, notice)
    }
}

struct Decline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decline",
        abstract: "Record that someone declined the failback: approvals before it count no more.",
        discussion: "failback decline --by 'Sam Ortiz' --role incident-commander --reason 'EU backup is 3 h old'")
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Option(help: "Who declines.") var by: String
    @Option(help: "Their role.") var role: String
    @Option(help: "Why.") var reason: String

    func run() throws {
        try Output.printing(storeOptions, appendOptions) { try $0.decline(by: by, role: role, reason: reason, drill: appendOptions.drill) }
    }
}
