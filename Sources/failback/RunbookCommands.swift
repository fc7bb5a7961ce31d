import ArgumentParser
import FailbackDomain
import FailbackLog

struct RunbookCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runbook", abstract: "Check and read runbook files (docs/runbook-format.md).", subcommands: [Validate.self, Show.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate", abstract: "Check runbook files; exit 0 only if all are valid.")
        @Argument(help: "Runbook files (YAML), or ids found as drill start finds them.") var files: [String]
        @Flag(help: "One JSON object a valid file (the first invalid one still ends with its error).") var json = false

        func run() throws {
            for file in files {
                let loaded = try Workspace().runbook(file)
                print(
                    json
                        ? CanonicalJSON.string([
                            "file": .string(file), "valid": true, "id": .string(loaded.runbook.id), "version": .string(loaded.runbook.version), "sha256": .string(loaded.digest),
                        ]) : loaded.validationSummary)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a runbook's outline (or, with --json, the runbook as JSON).")
        @Argument(help: "A runbook file (YAML), or an id found as drill start finds it.") var file: String
        @Flag(help: "The runbook as canonical JSON (RFC 8785), one line.") var json = false

        func run() throws {
            let loaded = try Workspace().runbook(file)
            // Text from a file somebody else wrote reaches the terminal escaped, as in status and log.
            print(
                json
                    ? CanonicalJSON.string(loaded.json)
                    : loaded.outline.split(separator: "\n", omittingEmptySubsequences: false).map { terminalSafe(String($0), keepTabs: true) }.joined(separator: "\n"))
        }
    }
}
