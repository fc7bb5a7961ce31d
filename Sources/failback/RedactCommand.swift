import ArgumentParser
import FailbackDomain
import FailbackLog

struct RedactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact", abstract: "Try the redaction rules.", subcommands: [RedactTest.self])
}

/// `failback redact test`: what the log would keep of a text, a file or a command line, and which
/// rules fired. Records nothing; needs no store (the configuration's rules apply).
struct RedactTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Print what would be stored of TEXT (or --file FILE, or the command after --) and the rules that fired.",
        discussion: """
            failback redact test 'curl -u admin:s3cret https://host'
            failback redact test --file output.txt          ('-': standard input)
            failback redact test -- redis-cli -a s3cret PING   (an argv, as exec records it)
            Standard output: the text as it would be stored (a command line: its argv as JSON).
            Standard error: one line, the kinds of secret replaced and how many of each, or that nothing was.
            Input over limits.max_payload_bytes is refused (exit 65). Exit 0 otherwise, whatever was found.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The text to try.") var text: String?
    @Option(help: ArgumentHelp("A file to try ('-': standard input).", valueName: "file")) var file: String?
    @Flag(help: "Print the result as JSON: {\"text\" or \"argv\", \"redactions\": [{\"kind\", \"count\"}]}.") var json = false
    @Argument(parsing: .postTerminator, help: "A command line, after --.") var command: [String] = []

    func validate() throws {
        if [text != nil, file != nil, !command.isEmpty].filter({ $0 }).count != 1 {
            throw ValidationError("give one of TEXT, --file FILE or a command after --")
        }
    }

    func run() throws {
        let configuration = try storeOptions.workspace.configuration()
        let redactor = configuration.makeRedactor()
        let limit = configuration.maxPayloadBytes
        let input: JSONValue
        if let file {
            input = .string(String(decoding: try readFile(file, FileInput("file", limit: limit)), as: UTF8.self))
        } else if let text {
            guard text.utf8.count <= limit else { throw InvalidInput("text is over the limit of \(limit) bytes") }
            input = .string(text)
        } else {
            input = .array(command.map(JSONValue.string))
        }
        let result = redactor.redact(input, at: "", memory: nil)
        // How many of each kind the stored value holds (in the order the kinds were first named).
        let stored = CanonicalJSON.string(result.value)
        var kinds: [String] = []
        for r in result.redactions where !kinds.contains(r.kind) { kinds.append(r.kind) }
        let counts = kinds.map { ($0, stored.components(separatedBy: Redactor.marker($0)).count - 1) }
        if json {
            let member = command.isEmpty ? "text" : "argv"
            print(
                CanonicalJSON.string([
                    member: result.value,
                    "redactions": .array(counts.map { ["kind": .string($0.0), "count": JSONValue($0.1)] }),
                ]))
            return
        }
        switch result.value {
        case .string(let s): print(s, terminator: s.hasSuffix("\n") ? "" : "\n")
        default: print(stored)
        }
        Output.printError(counts.isEmpty ? "redacted: nothing" : "redacted: " + counts.map { "\($0.0) ×\($0.1)" }.joined(separator: ", "))
    }
}

extension String {
    fileprivate func components(separatedBy separator: String) -> [Substring] {
        split(separator: separator, omittingEmptySubsequences: false)
    }
}
