import FailbackLog

/// A drill began: one run of a runbook. Opens the drill's chain.
public struct DrillStarted: EventPayload, Equatable {
    public static let eventType = "DrillStarted"
    public static let schemaVersion = 1
    public static let lifecycle = DrillLifecycle.opens

    /// The runbook followed (its id or name).
    public var runbook: String
    /// Who runs the drill (the incident commander), if said.
    public var operatorName: String?
    /// The change ticket that authorizes it, if any.
    public var ticket: String?

    public init(runbook: String, operatorName: String? = nil, ticket: String? = nil) throws(InvalidInput) {
        self.runbook = try Check.nonEmpty(runbook, "runbook")
        self.operatorName = operatorName
        self.ticket = ticket
    }

    public var json: JSONValue {
        .members(["runbook": .string(runbook), "operator": operatorName.map(JSONValue.string), "ticket": ticket.map(JSONValue.string)])
    }

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        self.runbook = try r.string("runbook")
        self.operatorName = try r.optionalString("operator")
        self.ticket = try r.optionalString("ticket")
    }

    public var summary: String {
        "runbook \(runbook)" + (operatorName.map { ", operator \($0)" } ?? "") + (ticket.map { ", ticket \($0)" } ?? "")
    }
}

/// A free-text note for the record.
public struct NoteAdded: EventPayload, Equatable {
    public static let eventType = "NoteAdded"
    public static let schemaVersion = 1

    public var text: String

    public init(text: String) throws(InvalidInput) { self.text = try Check.nonEmpty(text, "note text") }

    public var json: JSONValue { ["text": .string(text)] }

    public init(json: JSONValue) throws(InvalidInput) { self.text = try PayloadReader(json, context: Self.eventType).string("text") }

    public var summary: String { text }
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

    public init(json: JSONValue) throws(InvalidInput) {
        let r = PayloadReader(json, context: Self.eventType)
        self.title = try r.string("title")
        let s = try r.string("severity")
        guard let severity = Severity(rawValue: s) else { throw InvalidInput("\(Self.eventType): unknown severity \"\(s)\"") }
        self.severity = severity
    }

    public var summary: String { "[\(severity.rawValue)] \(title)" }
}
