import FailbackLog

/// What a command printed on one stream: the text kept (redacted, capped), and the whole stream's
/// size and SHA-256 (of the bytes as printed, before redaction and capping).
public struct CapturedOutput: Sendable, Equatable {
    public var text: String
    public var bytes: Int
    public var sha256: String
    public var truncated: Bool
    /// The most bytes of text the event keeps, when `text` holds more (captured beyond the cap so
    /// that redaction sees a secret that crosses it whole): cut after redaction. Not recorded.
    public var keep: Int?

    public init(text: String, bytes: Int, sha256: String, truncated: Bool, keep: Int? = nil) {
        self.text = text
        self.bytes = bytes
        self.sha256 = sha256
        self.truncated = truncated
        self.keep = keep
    }

    /// How many secrets' worth of bytes to capture past the cap: a secret that starts before the
    /// cap and ends within this is seen whole by redaction (a 4096-bit RSA key block is ~3.3 KB).
    public static let redactionLookahead = 16_384

    /// `text` (redacted) cut to at most `limit` bytes: at a character boundary, and before a
    /// marker that the cut would split.
    public static func cut(_ text: String, to limit: Int) -> String {
        var bytes = Array(text.utf8)
        guard bytes.count > limit else { return text }
        var end = limit
        while end > 0 && bytes[end] & 0xC0 == 0x80 { end -= 1 }
        // A marker open at the cut goes whole.
        let open = Array("[REDACTED:".utf8)
        var k = end - 1
        while k >= 0 && end - k <= 64 {
            if bytes[k] == 0x5D { break }
            if bytes[k] == 0x5B && k + open.count <= bytes.count && bytes[k..<(k + open.count)].elementsEqual(open) {
                end = k
                break
            }
            k -= 1
        }
        bytes.removeSubrange(end...)
        return String(decoding: bytes, as: UTF8.self)
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

    public init(
        argv: [String], cwd: String, step: String?, startedAt: Timestamp, endedAt: Timestamp, exitStatus: Int?, signal: Int?,
        stdout: CapturedOutput, stderr: CapturedOutput
    ) {
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

    public func capAfterRedaction(_ redacted: inout RedactedPayload) {
        guard case .object(var members) = redacted.value else { return }
        var changed = false
        for (name, output) in [("stdout", stdout), ("stderr", stderr)] {
            guard let keep = output.keep, case .object(var stream)? = members[name], case .string(let text)? = stream["text"],
                text.utf8.count > keep
            else { continue }
            let cut = CapturedOutput.cut(text, to: keep)
            stream["text"] = .string(cut)
            members[name] = .object(stream)
            changed = true
            // A redaction whose marker the cut took away is no longer in the event.
            let pointer = "/payload/\(name)/text"
            redacted.redactions.removeAll { $0.pointer == pointer && !cut.contains(Redactor.marker($0.kind)) }
        }
        if changed { redacted.value = .object(members) }
    }

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
