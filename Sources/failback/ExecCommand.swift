import ArgumentParser
import FailbackDomain
import FailbackLog
import FailbackProbes

#if canImport(Glibc)
import Glibc
#endif

struct Exec: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command, show its output live, and record it; exits with its exit status.",
        discussion: """
            failback exec [--step STEP] -- COMMAND ARGS...
            With --step, the step is started first (StepStarted) unless it already runs; a step that cannot start yet is refused and nothing runs.
            Records argv (redacted), working directory, start and end, exit status, and each output stream
            (redacted, kept up to limits.max_output_bytes, with the whole stream's size and SHA-256).
            A command that cannot start is recorded too (exit status 127).
            """)
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var appendOptions: AppendOptions
    @Option(help: "The runbook step the command belongs to.", completion: Completions.steps) var step: String?
    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.") var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command after --: failback exec -- COMMAND ARGS...") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
        let drill = try recorder.drillForWriting(appendOptions.drill)  // refuse before running anything
        if let step {
            if try recorder.state(of: drill.drillID).step(step) == nil {
                throw InvalidInput("the drill's runbook has no step \(step): nothing run, nothing appended")
            }
            // The step's time runs from here, unless it was started before (failback step start).
            if let started = try recorder.startStepIfNeeded(step, drill: drill.drillID) {
                Output.printError(Output.render(started.event, json: appendOptions.json))
            }
        }
        var path = [CChar](repeating: 0, count: 4096)
        let cwd = getcwd(&path, path.count) != nil ? String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "."
        // Captured past the cap, redacted whole, then cut: no cut keeps the head of a secret.
        let lookahead = recorder.maxOutputBytes > 0 ? CapturedOutput.redactionLookahead : 0
        let result = CommandRunner.run(command, captureLimit: recorder.maxOutputBytes + lookahead, live: true)
        let payload = result.payload(argv: command, cwd: cwd, step: step, keep: recorder.maxOutputBytes)
        let outcome = try recorder.record(payload, drill: drill.drillID, idempotencyKey: appendOptions.idempotencyKey)
        Output.printError(Output.render(outcome.event, json: appendOptions.json))
        if case .failedToStart(let error) = result { Output.printError("failback: error: \(command[0]): \(error) (recorded)") }
        throw ExitCode(result.exitCode)
    }
}
