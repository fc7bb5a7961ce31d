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
    /// The checks a payload passes before it is appended, beyond what reading one back requires
    /// (events recorded before a check existed stay readable): every field as its schema and
    /// docs/cli.md say (names, hosts, ports, counts). Called by the `Recorder`.
    func validate() throws(InvalidInput)
    /// Cuts what redaction left to the lengths the payload keeps (a command's output is redacted
    /// whole, then cut, so that no cut keeps the head of a secret). Most payloads: nothing.
    func capAfterRedaction(_ redacted: inout RedactedPayload)
    /// Members that hold a secret by where their value came from, not by their own names (paths of
    /// member names from the payload down, with the redaction's kind). Most payloads: none.
    var secretMembers: [(path: [String], kind: String)] { get }
}

extension EventPayload {
    /// Reads a payload built in memory.
    public init(json: JSONValue) throws(InvalidInput) { try self.init(reading: PayloadReader(json, context: Self.eventType)) }

    public static var lifecycle: DrillLifecycle { .continues }
    public static var entersTimeline: Bool { true }
    public func validate() throws(InvalidInput) {}
    public func capAfterRedaction(_ redacted: inout RedactedPayload) {}
    public var secretMembers: [(path: [String], kind: String)] { [] }
}

/// A stored event's payload decoded to its type. The recorder writes a closed set of types, so a
/// projection switches over this enum, with no dynamic cast per case. Its cases are `indirect`
/// (the payload in one heap box, the enum one reference): inline, the enum is as large as the
/// largest payload, and copying it on the way to the state cost about what the casts had.
public indirect enum KnownPayload: Sendable {
    case drillStarted(DrillStarted)
    case noteAdded(NoteAdded)
    case issueRaised(IssueRaised)
    case replicationLagSampled(ReplicationLagSampled)
    case rowCountSampled(RowCountSampled)
    case dnsAnswerObserved(DNSAnswerObserved)
    case podStatesObserved(PodStatesObserved)
    case jsonValuesObserved(JSONValuesObserved)
    case prometheusQueryEvaluated(PrometheusQueryEvaluated)
    case healthCheckObserved(HealthCheckObserved)
    case rowCountsCompared(RowCountsCompared)
    case recoveryStateObserved(RecoveryStateObserved)
    case redisReplicationObserved(RedisReplicationObserved)
    case phaseStarted(PhaseStarted)
    case phaseCompleted(PhaseCompleted)
    case stepStarted(StepStarted)
    case stepCompleted(StepCompleted)
    case stepSkipped(StepSkipped)
    case stepFailed(StepFailed)
    case drillAborted(DrillAborted)
    case drillCompleted(DrillCompleted)
    case questionAnswered(QuestionAnswered)
    case optionChosen(OptionChosen)
    case checklistItemVerified(ChecklistItemVerified)
    case approvalGranted(ApprovalGranted)
    case approvalDeclined(ApprovalDeclined)
    case gateOverridden(GateOverridden)
    case commandExecuted(CommandExecuted)
    case commandFailedToStart(CommandFailedToStart)
    case waitConcluded(WaitConcluded)
    case operatorJoined(OperatorJoined)

    /// The payload as its protocol (for what every payload has: its JSON, its summary).
    public var value: any EventPayload {
        switch self {
        case .drillStarted(let p): p
        case .noteAdded(let p): p
        case .issueRaised(let p): p
        case .replicationLagSampled(let p): p
        case .rowCountSampled(let p): p
        case .dnsAnswerObserved(let p): p
        case .podStatesObserved(let p): p
        case .jsonValuesObserved(let p): p
        case .prometheusQueryEvaluated(let p): p
        case .healthCheckObserved(let p): p
        case .rowCountsCompared(let p): p
        case .recoveryStateObserved(let p): p
        case .redisReplicationObserved(let p): p
        case .phaseStarted(let p): p
        case .phaseCompleted(let p): p
        case .stepStarted(let p): p
        case .stepCompleted(let p): p
        case .stepSkipped(let p): p
        case .stepFailed(let p): p
        case .drillAborted(let p): p
        case .drillCompleted(let p): p
        case .questionAnswered(let p): p
        case .optionChosen(let p): p
        case .checklistItemVerified(let p): p
        case .approvalGranted(let p): p
        case .approvalDeclined(let p): p
        case .gateOverridden(let p): p
        case .commandExecuted(let p): p
        case .commandFailedToStart(let p): p
        case .waitConcluded(let p): p
        case .operatorJoined(let p): p
        }
    }

    /// The payload's type (a metatype: the payload is not copied into an existential).
    public var type: any EventPayload.Type {
        switch self {
        case .drillStarted: DrillStarted.self
        case .noteAdded: NoteAdded.self
        case .issueRaised: IssueRaised.self
        case .replicationLagSampled: ReplicationLagSampled.self
        case .rowCountSampled: RowCountSampled.self
        case .dnsAnswerObserved: DNSAnswerObserved.self
        case .podStatesObserved: PodStatesObserved.self
        case .jsonValuesObserved: JSONValuesObserved.self
        case .prometheusQueryEvaluated: PrometheusQueryEvaluated.self
        case .healthCheckObserved: HealthCheckObserved.self
        case .rowCountsCompared: RowCountsCompared.self
        case .recoveryStateObserved: RecoveryStateObserved.self
        case .redisReplicationObserved: RedisReplicationObserved.self
        case .phaseStarted: PhaseStarted.self
        case .phaseCompleted: PhaseCompleted.self
        case .stepStarted: StepStarted.self
        case .stepCompleted: StepCompleted.self
        case .stepSkipped: StepSkipped.self
        case .stepFailed: StepFailed.self
        case .drillAborted: DrillAborted.self
        case .drillCompleted: DrillCompleted.self
        case .questionAnswered: QuestionAnswered.self
        case .optionChosen: OptionChosen.self
        case .checklistItemVerified: ChecklistItemVerified.self
        case .approvalGranted: ApprovalGranted.self
        case .approvalDeclined: ApprovalDeclined.self
        case .gateOverridden: GateOverridden.self
        case .commandExecuted: CommandExecuted.self
        case .commandFailedToStart: CommandFailedToStart.self
        case .waitConcluded: WaitConcluded.self
        case .operatorJoined: OperatorJoined.self
        }
    }
}

/// Every event type the recorder writes, for decoding and for the schema tests.
public enum EventCatalogue {
    private typealias Read = @Sendable (PayloadReader) throws(InvalidInput) -> KnownPayload

    /// A payload type with the reading of a stored payload of that type into its case.
    private static func entry<P: EventPayload>(_ type: P.Type, _ wrap: @escaping @Sendable (P) -> KnownPayload) -> (type: any EventPayload.Type, read: Read) {
        (type, { (reader) throws(InvalidInput) in wrap(try P(reading: reader)) })
    }

    /// Each payload type with the reading of a stored payload of that type.
    private static let decoders: [(type: any EventPayload.Type, read: Read)] = [
        entry(DrillStarted.self, KnownPayload.drillStarted),
        entry(NoteAdded.self, KnownPayload.noteAdded),
        entry(IssueRaised.self, KnownPayload.issueRaised),
        entry(ReplicationLagSampled.self, KnownPayload.replicationLagSampled),
        entry(RowCountSampled.self, KnownPayload.rowCountSampled),
        entry(DNSAnswerObserved.self, KnownPayload.dnsAnswerObserved),
        entry(PodStatesObserved.self, KnownPayload.podStatesObserved),
        entry(JSONValuesObserved.self, KnownPayload.jsonValuesObserved),
        entry(PrometheusQueryEvaluated.self, KnownPayload.prometheusQueryEvaluated),
        entry(HealthCheckObserved.self, KnownPayload.healthCheckObserved),
        entry(RowCountsCompared.self, KnownPayload.rowCountsCompared),
        entry(RecoveryStateObserved.self, KnownPayload.recoveryStateObserved),
        entry(RedisReplicationObserved.self, KnownPayload.redisReplicationObserved),
        entry(PhaseStarted.self, KnownPayload.phaseStarted),
        entry(PhaseCompleted.self, KnownPayload.phaseCompleted),
        entry(StepStarted.self, KnownPayload.stepStarted),
        entry(StepCompleted.self, KnownPayload.stepCompleted),
        entry(StepSkipped.self, KnownPayload.stepSkipped),
        entry(StepFailed.self, KnownPayload.stepFailed),
        entry(DrillAborted.self, KnownPayload.drillAborted),
        entry(DrillCompleted.self, KnownPayload.drillCompleted),
        entry(QuestionAnswered.self, KnownPayload.questionAnswered),
        entry(OptionChosen.self, KnownPayload.optionChosen),
        entry(ChecklistItemVerified.self, KnownPayload.checklistItemVerified),
        entry(ApprovalGranted.self, KnownPayload.approvalGranted),
        entry(ApprovalDeclined.self, KnownPayload.approvalDeclined),
        entry(GateOverridden.self, KnownPayload.gateOverridden),
        entry(CommandExecuted.self, KnownPayload.commandExecuted),
        entry(CommandFailedToStart.self, KnownPayload.commandFailedToStart),
        entry(WaitConcluded.self, KnownPayload.waitConcluded),
        entry(OperatorJoined.self, KnownPayload.operatorJoined),
    ]

    /// Every payload type, in the catalogue's order (the schema tests walk them).
    public static let payloadTypes: [any EventPayload.Type] = decoders.map(\.type)

    /// The types whose event closes a drill (`verify` requires it to be the drill's last).
    public static var closingTypes: Set<String> { Set(payloadTypes.filter { $0.lifecycle == .closes }.map { $0.eventType }) }

    /// The decoders by the UTF-8 length of their type's name: a type is found by comparing a few
    /// names of its length (hashing every event's type name cost more than reading some payloads).
    private static let byNameLength: [[(name: String, read: Read)]] = {
        var table: [[(name: String, read: Read)]] = []
        for decoder in decoders {
            let name = decoder.type.eventType
            while table.count <= name.utf8.count { table.append([]) }
            table[name.utf8.count].append((name, decoder.read))
        }
        return table
    }()

    /// The typed payload of a stored event, or nil for a type this build does not know. A payload
    /// its type refuses is named by the event's place (a stored event was checked when appended:
    /// one that no longer reads was damaged since).
    public static func decode(_ event: RecordedEvent) throws(InvalidInput) -> KnownPayload? {
        let length = event.type.utf8.count
        guard length < byNameLength.count, let decoder = byNameLength[length].first(where: { $0.name == event.type }) else { return nil }
        do {
            return try decoder.read(PayloadReader(event.payloadView, context: decoder.name))
        } catch {
            throw InvalidInput("stored event at seq \(event.seq) (\(event.type)) is not readable: \(error.message) (run 'failback verify')")
        }
    }

    /// The typed payload of a stored event as its protocol, or nil for a type this build does not know.
    public static func payload(of event: RecordedEvent) throws(InvalidInput) -> (any EventPayload)? {
        try decode(event)?.value
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
    /// What is wrong: the input (exit 65), that something named is not there (exit 66), or the
    /// command line (a value an option cannot take: exit 64).
    public enum Kind: Sendable, Equatable, CaseIterable { case invalid, missing, usage }

    public var message: String
    public var kind: Kind
    /// The file the input came from, when it came from one.
    public var subject: ErrorSubject?
    public init(_ message: String, kind: Kind = .invalid, subject: ErrorSubject? = nil) {
        self.message = message
        self.kind = kind
        self.subject = subject
    }
    public var description: String { message }
}

extension InvalidInput: FailbackError {
    public var errorCode: String {
        switch kind {
        case .invalid: "input.invalid"
        case .missing: "input.missing"
        case .usage: "input.usage"
        }
    }

    public var exitStatus: ExitStatus {
        switch kind {
        case .invalid: .dataError
        case .missing: .noInput
        case .usage: .usage
        }
    }
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

func trimmed(_ d: Double) -> String {
    d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
}

extension EventCatalogue {
    /// One line for a person: `seq  #drill_seq  time  type  summary  (actor@host)`, with redactions
    /// noted. What anyone recorded is shown escaped (`terminalSafe`): a control character or an
    /// escape sequence in a note, a name or a command's output never reaches the terminal raw, and
    /// a tab or line break in a field cannot shift the columns.
    public static func line(for event: RecordedEvent) -> String {
        let redacted = event.redactions.isEmpty ? "" : "  [redacted: " + Set(event.redactions.map(\.kind)).sorted().joined(separator: ", ") + "]"
        return "\(event.seq)\t#\(event.drillSeq)\t\(event.recordedAt)\t"
            + [event.type, summary(of: event), "(\(event.actor)@\(event.host))\(redacted)"]
            .map { terminalSafe($0) }.joined(separator: "\t")
    }
}
