import ArgumentParser
import FailbackDomain
import FailbackExporters
import FailbackLog

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Printing, and the one-line errors and exit statuses of docs/cli.md.
enum Output {
    /// Records `payload` as the options say and prints the event.
    static func record(_ payload: some EventPayload, _ store: StoreOptions, _ options: AppendOptions) throws {
        try printing(store, options) { try $0.record(payload, drill: options.drill, idempotencyKey: options.idempotencyKey) }
    }

    /// Runs a recorder action that appends one event, and prints the event.
    static func printing(_ store: StoreOptions, _ options: AppendOptions, _ action: (Recorder) throws -> AppendOutcome) throws {
        let outcome = try action(store.workspace.openRecorder(actor: options.actor))
        print(render(outcome.event, json: options.json))
        note(outcome, nil)
    }

    /// An event as the commands print it: one line for a person, or its JSON with the chain hash.
    static func render(_ event: RecordedEvent, json: Bool) -> String {
        json ? CanonicalJSON.string(event.jsonWithHash) : EventCatalogue.line(for: event)
    }

    /// A remark on standard error: that a retried append changed nothing, or `text`.
    static func note(_ outcome: AppendOutcome, _ text: String?) {
        if case .alreadyRecorded(let e) = outcome {
            printError("already recorded with idempotency key \"\(e.idempotencyKey ?? "")\" at seq \(e.seq); nothing appended")
        } else if let text {
            printError(text)
        }
    }

    /// Warnings printed on standard error once the command has succeeded (a failure prints only
    /// its one error line).
    nonisolated(unsafe) static var warnings: [String] = []

    /// A note printed on standard error once the command has succeeded.
    static func note(_ text: String) { warnings.append("failback: note: \(text)") }

    /// Checks the drill's chain before a reading command shows it; when it is broken, a warning
    /// (one line on standard error when the command ends) and the text for the output's banner.
    @discardableResult
    static func warnIfChainBroken(_ recorder: Recorder, _ drillID: String) throws -> String? {
        guard let warning = try recorder.chainWarning(drillID) else { return nil }
        warnings.append("failback: warning: drill \(drillID): \(oneLine(warning))")
        return warning
    }

    /// A progress line on standard error, redrawn in place; cleared when `done`.
    static func printProgress(_ line: String, done: Bool) { writeStandardError("\r\u{1B}[2K" + (done ? "" : line)) }

    static func printError(_ line: String) { writeStandardError(line + "\n") }

    private static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// `text` on one line: control characters (a line break in a damaged stored value quoted by an
    /// error, say), escape sequences and bidi overrides written as escapes (`terminalSafe`), so that
    /// an error or a problem is always exactly one line and nothing in it acts on the terminal.
    static func oneLine(_ text: String) -> String { terminalSafe(text) }
}

extension CommandLine {
    /// Parses and runs the command; every failure ends as one line on standard error,
    /// `failback: error: ...`, and a non-zero exit status.
    static func run(_ root: Failback.Type) -> Never {
        if let problem = firstNonUTF8Argument() { fail(problem, .dataError) }
        let arguments = CommandLineWords.hoistingStoreOptions(Array(CommandLine.arguments.dropFirst()))
        if let problem = CommandLineWords.unknownSubcommand(arguments, root: root) { fail(problem, .usage) }
        if let help = HelpExamples.help(for: arguments, root: root) {
            print(help)
            exitAfterFlushing(0)
        }
        do {
            var command = try root.parseAsRoot(arguments)
            try command.run()
            exitAfterFlushing(0)
        } catch let error as ExitCode {
            exitAfterFlushing(error.rawValue)
        } catch let error as any FailbackError {
            fail(error.description, error.exitStatus)
        } catch {
            let code = root.exitCode(for: error)
            if code == .success { root.exit(withError: error) }  // --help, --version
            let message = root.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            // A command-line error is 64; any other error no case above foresaw is the software's
            // (70), never 1, which means "a chain is broken".
            fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message, code == .validationFailure ? .usage : .software)
        }
    }

    /// Exits once standard output is written out: a write that failed (a full disk, an I/O error)
    /// is one line and exit 74, whatever the command's own status. A reader that quit (a closed
    /// pipe) ends the process by SIGPIPE as usual.
    static func exitAfterFlushing(_ status: Int32) -> Never {
        if fflush(nil) != 0 || ferror(stdout) != 0 {
            fail("cannot write to standard output: \(String(cString: strerror(errno)))", .ioError)
        }
        for warning in Output.warnings { Output.printError(warning) }
        exit(status)
    }

    static func fail(_ message: String, _ status: ExitStatus) -> Never {
        Output.printError("failback: error: \(Output.oneLine(message))")
        exit(status.rawValue)
    }

    /// Swift decodes arguments leniently (invalid bytes become U+FFFD); refuse them instead.
    static func firstNonUTF8Argument() -> String? {
        for i in 1..<Int(argc) {
            guard let arg = unsafeArgv[i] else { continue }
            let bytes = Array(UnsafeBufferPointer(start: UnsafeRawPointer(arg).assumingMemoryBound(to: UInt8.self), count: strlen(arg)))
            if let offset = firstInvalidUTF8Offset(bytes) {
                return "argument \(i) is not valid UTF-8 (byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset))"
            }
        }
        return nil
    }
}

/// The command line's words before ArgumentParser reads them: options people put before the
/// subcommand, and subcommands mistyped.
enum CommandLineWords {
    /// `failback --store S status` is `failback status --store S`: `--store` and `--config` (with
    /// their value, or `=value`) before the first subcommand move after the subcommands, before any
    /// `--`.
    static func hoistingStoreOptions(_ words: [String]) -> [String] {
        var hoisted: [String] = [], rest = words[...]
        while let first = rest.first, first.hasPrefix("--") {
            if first == "--store" || first == "--config", rest.count >= 2 {
                hoisted += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--store=") || first.hasPrefix("--config=") {
                hoisted.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !hoisted.isEmpty else { return words }
        var out = Array(rest)
        out.insert(contentsOf: hoisted, at: out.firstIndex(of: "--") ?? out.count)
        return out
    }

    /// The command the words name: the subcommands read from the start, up to the first option,
    /// `--` or a word that is not one of the command's subcommands (`stray`, when it has some).
    static func command(
        named words: some Sequence<String>, root: any ParsableCommand.Type
    ) -> (command: any ParsableCommand.Type, path: [String], stray: String?) {
        var command: any ParsableCommand.Type = root
        var path: [String] = []
        for word in words {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty, !word.hasPrefix("-") else { break }
            guard let next = subcommands.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) }) else {
                return (command, path, word)
            }
            command = next
            path.append(word)
        }
        return (command, path, nil)
    }

    /// "unknown command 'staus' (did you mean 'status'?)" when a word where a subcommand goes is
    /// none of them; nil otherwise (ArgumentParser reads the rest).
    static func unknownSubcommand(_ words: [String], root: any ParsableCommand.Type) -> String? {
        if words.first == "help" { return nil }
        let (command, path, stray) = self.command(named: words, root: root)
        guard let word = stray else { return nil }
        let names = command.configuration.subcommands.map { $0._commandName }
        let close = names.map { ($0, editDistance($0, word)) }.filter { $0.1 <= max(1, word.count / 3) }.min { $0.1 < $1.1 }?.0
        return "unknown command '\(word)' for '\((["failback"] + path).joined(separator: " "))'" + (close.map { " (did you mean '\($0)'?)" } ?? "")
            + "; the commands: " + names.joined(separator: ", ")
    }

    /// Levenshtein distance, by characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
