import FailbackLog

/// The payload of one kind of event: a fact in the past tense, with a JSON Schema in
/// `schemas/payloads/<eventType>.schema.json` and a schema version that changes when its shape does.
public protocol EventPayload: Sendable {
    /// The event type, past tense: `ReplicationLagSampled`.
    static var eventType: String { get }
    static var schemaVersion: Int { get }
    /// What the event does to its drill's lifecycle (most events: nothing).
    static var lifecycle: DrillLifecycle { get }
    /// The payload as JSON (snake_case members, as in the schema).
    var json: JSONValue { get }
    /// Reads a stored payload back.
    init(reading r: PayloadReader) throws(InvalidInput)
    /// One line for a person: the key values.
    var summary: String { get }
    /// Whether the drill's timeline lists the event (samples and notes stay out of it).
    static var entersTimeline: Bool { get }
}

extension EventPayload {
    /// Reads a payload built in memory.
    public init(json: JSONValue) throws(InvalidInput) { try self.init(reading: PayloadReader(json, context: Self.eventType)) }

    public static var lifecycle: DrillLifecycle { .continues }
    public static var entersTimeline: Bool { true }
}

/// Every event type the recorder writes, for decoding and for the schema tests.
public enum EventCatalogue {
    public static let payloadTypes: [any EventPayload.Type] = [
        DrillStarted.self, NoteAdded.self, IssueRaised.self,
        ReplicationLagSampled.self, RowCountSampled.self, DNSAnswerObserved.self, PodStatesObserved.self, HealthCheckObserved.self,
        RowCountsCompared.self, RecoveryStateObserved.self,
        PhaseStarted.self, PhaseCompleted.self, StepCompleted.self, StepSkipped.self, StepFailed.self, DrillAborted.self, DrillCompleted.self,
        QuestionAnswered.self, OptionChosen.self, ChecklistItemVerified.self, ApprovalGranted.self, GateOverridden.self,
        CommandExecuted.self, CommandFailedToStart.self, WaitConcluded.self,
    ]

    /// The payload types by the UTF-8 length of their names: a type is found by comparing a few
    /// names of its length (hashing every event's type name cost more than reading some payloads).
    private static let byNameLength: [[any EventPayload.Type]] = {
        var table: [[any EventPayload.Type]] = []
        for type in payloadTypes {
            let length = type.eventType.utf8.count
            while table.count <= length { table.append([]) }
            table[length].append(type)
        }
        return table
    }()

    /// The payload type named `name`, or nil for a type this build does not know.
    static func payloadType(named name: String) -> (any EventPayload.Type)? {
        let length = name.utf8.count
        guard length < byNameLength.count else { return nil }
        return byNameLength[length].first { $0.eventType == name }
    }

    /// The typed payload of a stored event, or nil for a type this build does not know.
    public static func payload(of event: RecordedEvent) throws(InvalidInput) -> (any EventPayload)? {
        guard let type = payloadType(named: event.type) else { return nil }
        return try type.init(reading: PayloadReader(event.payloadView, context: type.eventType))
    }

    /// One line describing a stored event's payload.
    public static func summary(of event: RecordedEvent) -> String {
        do {
            if let payload = try payload(of: event) { return payload.summary }
            return "(event type unknown to this version)"
        } catch {
            return "(unreadable payload: \(error.message))"
        }
    }
}

/// Reads typed members out of a JSON object, naming the member in its errors. It reads in place
/// (`JSONObjectView`): a stored payload is never built into a tree of values to be read.
public struct PayloadReader {
    public let object: JSONObjectView
    public let context: String

    public init(_ object: JSONObjectView, context: String) {
        self.object = object
        self.context = context
    }

    /// Reads a member read in place; a missing member or a non-object has no members.
    public init(_ value: JSONValueView?, context: String) {
        self.init(value?.object ?? JSONObjectView(.object([:])), context: context)
    }

    /// Reads a value built in memory (a non-object has no members).
    public init(_ value: JSONValue, context: String) {
        self.init(JSONObjectView(value), context: context)
    }

    private func fail(_ key: String, _ what: String) -> InvalidInput {
        InvalidInput("\(context): member \"\(key)\" \(what)")
    }

    public func string(_ key: String) throws(InvalidInput) -> String {
        guard let s = object.string(key) else { throw fail(key, "is missing or not a string") }
        return s
    }

    public func optionalString(_ key: String) throws(InvalidInput) -> String? {
        guard let found = object.stringIfPresent(key) else { return nil }
        guard let s = found else { throw fail(key, "is not a string") }
        return s
    }

    public func number(_ key: String) throws(InvalidInput) -> Double {
        guard let d = object.number(key) else { throw fail(key, "is missing or not a number") }
        return d
    }

    /// The number `key`, or nil when it is absent or not a number.
    public func numberIfAny(_ key: String) -> Double? { object.number(key) }

    public func integer(_ key: String) throws(InvalidInput) -> Int {
        guard let i = object.integer(key) else { throw fail(key, "is missing or not an integer") }
        return i
    }

    public func optionalInteger(_ key: String) throws(InvalidInput) -> Int? {
        guard let found = object.integerIfPresent(key) else { return nil }
        guard let i = found else { throw fail(key, "is not an integer") }
        return i
    }

    public func optionalBool(_ key: String) throws(InvalidInput) -> Bool? {
        guard let found = object.boolIfPresent(key) else { return nil }
        guard let b = found else { throw fail(key, "is not a boolean") }
        return b
    }

    public func strings(_ key: String) throws(InvalidInput) -> [String] {
        guard let elements = object[key]?.elements else { throw fail(key, "is missing or not an array") }
        var out: [String] = []
        out.reserveCapacity(elements.count)
        for element in elements {
            guard let s = element.string else { throw fail(key, "holds a non-string") }
            out.append(s)
        }
        return out
    }

    /// The elements of the array `key`, each read in place.
    public func elements(_ key: String) throws(InvalidInput) -> [JSONValueView] {
        guard let elements = object[key]?.elements else { throw fail(key, "is missing or not an array") }
        return elements
    }

    /// The member `key` as a tree of values (parsed now), or nil when absent.
    public func value(_ key: String) -> JSONValue? { object[key]?.value }
}

/// Input that cannot become an event: what was wrong, and where. Nothing is appended.
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks shared by the payload initializers.
enum Check {
    static func nonNegative(_ value: Double, _ name: String) throws(InvalidInput) -> Double {
        guard value.isFinite, value >= 0 else { throw InvalidInput("\(name) must be a finite number ≥ 0, got \(value)") }
        return value
    }

    /// Integers in the range every JSON implementation (and RFC 8785) holds exactly.
    static func count(_ value: Int, _ name: String) throws(InvalidInput) -> Int {
        guard value >= 0, value <= 9_007_199_254_740_991 else { throw InvalidInput("\(name) must be an integer from 0 to 2^53-1, got \(value)") }
        return value
    }

    static func nonEmpty(_ value: String, _ name: String) throws(InvalidInput) -> String {
        // Most values start with a visible ASCII character: no need to walk their characters.
        if let first = value.utf8.first, first > 0x20, first < 0x7F { return value }
        guard !value.allSatisfy(\.isWhitespace) else { throw InvalidInput("\(name) must not be empty") }
        return value
    }
}

/// A duration in seconds for people: `3.2s`, `41ms`.
public func formatSeconds(_ s: Double) -> String {
    if s < 1 && s > 0 { return "\(trimmed(s * 1000))ms" }
    return "\(trimmed(s))s"
}

func trimmed(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
}

extension EventCatalogue {
    /// One line for a person: `seq  #drill_seq  time  type  summary  (actor@host)`, with redactions noted.
    public static func line(for event: RecordedEvent) -> String {
        let redacted = event.redactions.isEmpty ? "" : "  [redacted: " + Set(event.redactions.map(\.kind)).sorted().joined(separator: ", ") + "]"
        return "\(event.seq)\t#\(event.drillSeq)\t\(event.recordedAt)\t\(event.type)\t\(summary(of: event))\t(\(event.actor)@\(event.host))\(redacted)"
    }
}
