import FailbackLog

/// What a command printed on one stream: the text kept (redacted, capped), and the whole stream's
/// size and SHA-256 (of the bytes as printed, before redaction and capping).
public struct CapturedOutput: Sendable, Equatable {
    public var text: String
    public var bytes: Int
    public var sha256: String
    public var truncated: Bool

    public init(text: String, bytes: Int, sha256: String, truncated: Bool) {
        self.text = text
        self.bytes = bytes
        self.sha256 = sha256
        self.truncated = truncated
    }

    var json: JSONValue { ["text": .string(text), "bytes": JSONValue(bytes), "sha256": .string(sha256), "truncated": .bool(truncated)] }

    init(reading r: PayloadReader) throws(InvalidInput) {
        self.init(text: try r.string("text"), bytes: try r.integer("bytes"), sha256: try r.string("sha256"), truncated: try r.optionalBool("truncated") ?? false)
    }
}

/// A command was run (by `failback exec`): what, where, when, how it ended, what it printed.
public struct CommandExecuted: EventPayload, Equatable {
    public static let eventType = "CommandExecuted"
    public static let schemaVersion = 1

    public var argv: [String]
    public var cwd: String
    /// The runbook step the command belongs to, if said.
    public var step: String?
    public var startedAt: Timestamp
    public var endedAt: Timestamp
    /// The exit status, or nil when a signal ended it.
    public var exitStatus: Int?
    public var signal: Int?
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput

    public init(argv: [String], cwd: String, step: String?, startedAt: Timestamp, endedAt: Timestamp, exitStatus: Int?, signal: Int?,
                stdout: CapturedOutput, stderr: CapturedOutput) {
        self.argv = argv
        self.cwd = cwd
        self.step = step
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitStatus = exitStatus
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { exitStatus == 0 }

    public var json: JSONValue {
        .members([
            "argv": .array(argv.map(JSONValue.string)), "cwd": .string(cwd), "step": step.map(JSONValue.string),
            "started_at": .string(startedAt.description), "ended_at": .string(endedAt.description),
            "duration_ms": JSONValue(Int(endedAt.millisecondsSinceEpoch - startedAt.millisecondsSinceEpoch)),
            "exit_status": exitStatus.map { JSONValue($0) }, "signal": signal.map { JSONValue($0) },
            "stdout": stdout.json, "stderr": stderr.json,
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        guard let started = Timestamp(rfc3339: try r.string("started_at")), let ended = Timestamp(rfc3339: try r.string("ended_at")) else {
            throw InvalidInput("\(Self.eventType): started_at / ended_at are not RFC 3339")
        }
        self.init(
            argv: try r.strings("argv"), cwd: try r.string("cwd"), step: try r.optionalString("step"), startedAt: started, endedAt: ended,
            exitStatus: try r.optionalInteger("exit_status"), signal: try r.optionalInteger("signal"),
            stdout: try CapturedOutput(reading: PayloadReader(r.object["stdout"], context: "\(Self.eventType) stdout")),
            stderr: try CapturedOutput(reading: PayloadReader(r.object["stderr"], context: "\(Self.eventType) stderr")))
    }

    public var summary: String {
        let ended = exitStatus.map { "exit \($0)" } ?? signal.map { "killed by signal \($0)" } ?? "?"
        let ms = endedAt.millisecondsSinceEpoch - startedAt.millisecondsSinceEpoch
        return "$ \(argv.joined(separator: " ")) → \(ended) in \(ms)ms, \(stdout.bytes)+\(stderr.bytes) bytes of output" + (step.map { " (step \($0))" } ?? "")
    }
}

/// A command could not be started at all (not found, not executable...).
public struct CommandFailedToStart: EventPayload, Equatable {
    public static let eventType = "CommandFailedToStart"
    public static let schemaVersion = 1

    public var argv: [String]
    public var cwd: String
    public var step: String?
    public var error: String

    public init(argv: [String], cwd: String, step: String?, error: String) {
        self.argv = argv
        self.cwd = cwd
        self.step = step
        self.error = error
    }

    public var json: JSONValue {
        .members(["argv": .array(argv.map(JSONValue.string)), "cwd": .string(cwd), "step": step.map(JSONValue.string), "error": .string(error)])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.init(argv: try r.strings("argv"), cwd: try r.string("cwd"), step: try r.optionalString("step"), error: try r.string("error"))
    }

    public var summary: String { "$ \(argv.joined(separator: " ")) could not start: \(error)" }
}
