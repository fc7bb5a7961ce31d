import FailbackLog

/// A drill began: one run of a runbook. Opens the drill's chain. The runbook is recorded in full,
/// with its digest, so that editing the file later cannot change what this drill followed.
public struct DrillStarted: EventPayload, Equatable {
    public static let eventType = "DrillStarted"
    public static let schemaVersion = 2
    public static let lifecycle = DrillLifecycle.opens

    /// Which runbook, and which exact content.
    public struct RunbookReference: Sendable, Equatable {
        public var id: String
        public var version: String
        public var title: String
        /// SHA-256 of the runbook file's bytes (hex).
        public var digest: String
        /// Where it was read from.
        public var source: String
    }

    public var runbook: RunbookReference
    /// The runbook as followed (the file's YAML as JSON).
    public var document: JSONValue
    /// The strategy option chosen at start, if any (`--option B`).
    public var option: String?
    /// Who runs the drill (the incident commander), if said.
    public var operatorName: String?
    /// The change ticket that authorizes it, if any.
    public var ticket: String?

    public init(runbook loaded: LoadedRunbook, option: String? = nil, operatorName: String? = nil, ticket: String? = nil) throws(InvalidInput) {
        let rb = loaded.runbook
        if let option, !rb.options.contains(where: { $0.id == option }) {
            let known = rb.options.map(\.id)
            throw InvalidInput("runbook \(rb.id) has no option \"\(option)\"" + (known.isEmpty ? " (it defines none)" : " (it defines \(known.joined(separator: ", ")))"))
        }
        self.runbook = RunbookReference(id: rb.id, version: rb.version, title: rb.title, digest: loaded.digest, source: loaded.source)
        self.document = loaded.json
        self.option = option
        self.operatorName = operatorName
        self.ticket = ticket
    }

    public var json: JSONValue {
        .members([
            "runbook": [
                "id": .string(runbook.id), "version": .string(runbook.version), "title": .string(runbook.title),
                "digest": .string(runbook.digest), "source": .string(runbook.source),
            ],
            "runbook_document": document, "option": option.map(JSONValue.string),
            "operator": operatorName.map(JSONValue.string), "ticket": ticket.map(JSONValue.string),
        ])
    }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        guard let ref = r.object["runbook"] else { throw InvalidInput("\(Self.eventType): member \"runbook\" is missing") }
        let rr = PayloadReader(ref, context: "\(Self.eventType) runbook")
        self.runbook = RunbookReference(
            id: try rr.string("id"), version: try rr.string("version"), title: try rr.string("title"),
            digest: try rr.string("digest"), source: try rr.string("source"))
        guard let document = r.value("runbook_document") else { throw InvalidInput("\(Self.eventType): member \"runbook_document\" is missing") }
        self.document = document
        self.option = try r.optionalString("option")
        self.operatorName = try r.optionalString("operator")
        self.ticket = try r.optionalString("ticket")
    }

    /// The runbook this drill followed, read back from the event.
    public func followedRunbook() throws(InvalidInput) -> Runbook {
        try RunbookLoader.runbook(fromJSON: document, source: "drill's recorded runbook \(runbook.id)")
    }

    public var summary: String {
        "runbook \(runbook.id) v\(runbook.version) (sha256 \(runbook.digest.prefix(12))…)" + (option.map { ", option \($0)" } ?? "")
            + (operatorName.map { ", operator \($0)" } ?? "") + (ticket.map { ", ticket \($0)" } ?? "")
    }
}

/// A free-text note for the record.
public struct NoteAdded: EventPayload, Equatable {
    public static let entersTimeline = false
    public static let eventType = "NoteAdded"
    public static let schemaVersion = 1

    public var text: String

    public init(text: String) throws(InvalidInput) { self.text = try Check.nonEmpty(text, "note text") }

    public var json: JSONValue { ["text": .string(text)] }

    public init(reading r: PayloadReader) throws(InvalidInput) { self.text = try r.string("text") }

    public var summary: String { text }
}

/// Someone joined the drill (`failback drill join`, or `drill start --role`): from then on their
/// commands that name no drill record in it, and events recorded under their name (the envelope's
/// `actor`) are theirs in this role, until they join again with another.
public struct OperatorJoined: EventPayload, Equatable {
    public static let eventType = "OperatorJoined"
    public static let schemaVersion = 1

    public var role: String?

    public init(role: String?) throws(InvalidInput) {
        if let role {
            self.role = try Check.nonEmpty(role, "role")
            guard role.count <= 200 else { throw InvalidInput("the role must be at most 200 characters, got \(role.count): nothing appended") }
        } else {
            self.role = nil
        }
    }

    public var json: JSONValue { .members(["role": role.map(JSONValue.string)]) }

    public init(reading r: PayloadReader) throws(InvalidInput) { try self.init(role: try r.optionalString("role")) }

    public var summary: String { role.map { "joined as \($0)" } ?? "joined" }
}

/// A problem met during the drill (one row of the report's "issues encountered").
public struct IssueRaised: EventPayload, Equatable {
    public static let eventType = "IssueRaised"
    public static let schemaVersion = 1

    public enum Severity: String, Sendable, CaseIterable {
        case low, medium, high, critical
    }

    public var title: String
    public var severity: Severity

    public init(title: String, severity: Severity) throws(InvalidInput) {
        self.title = try Check.nonEmpty(title, "issue title")
        self.severity = severity
    }

    public var json: JSONValue { ["severity": .string(severity.rawValue), "title": .string(title)] }

    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.title = try r.string("title")
        let s = try r.string("severity")
        guard let severity = Severity(rawValue: s) else { throw InvalidInput("\(Self.eventType): unknown severity \"\(s)\"") }
        self.severity = severity
    }

    public var summary: String { "[\(severity.rawValue)] \(title)" }
}
