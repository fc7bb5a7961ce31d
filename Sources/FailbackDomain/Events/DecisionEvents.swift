import FailbackLog

/// A yes/no question of the runbook (a pre-decision question, a flowchart node, or both) was
/// answered, or an earlier answer was revised (`revised`, with its reason).
public struct QuestionAnswered: EventPayload, Equatable {
    public static let eventType = "QuestionAnswered"
    public static let schemaVersion = 2
    public var question: String
    public var answer: Bool
    /// Who answered, when not the one recording.
    public var by: String?
    public var note: String?
    /// Set when this answer replaces an earlier one: why it changed.
    public var revisionReason: String?

    public init(question: String, answer: Bool, by: String? = nil, note: String? = nil, revisionReason: String? = nil) {
        self.question = question
        self.answer = answer
        self.by = by
        self.note = note
        self.revisionReason = revisionReason
    }
    public var json: JSONValue {
        .members([
            "question": .string(question), "answer": .string(answer ? "yes" : "no"), "by": by.map(JSONValue.string), "note": note.map(JSONValue.string),
            "revision_reason": revisionReason.map(JSONValue.string),
        ])
    }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        let answer = try r.string("answer")
        guard answer == "yes" || answer == "no" else { throw InvalidInput("\(Self.eventType): answer must be yes or no") }
        self.init(
            question: try r.string("question"), answer: answer == "yes", by: try r.optionalString("by"), note: try r.optionalString("note"),
            revisionReason: try r.optionalString("revision_reason"))
    }
    public var summary: String {
        "\(question): \(answer ? "yes" : "NO")" + (revisionReason.map { " (REVISED: \($0))" } ?? "") + (by.map { " (by \($0))" } ?? "")
            + (note.map { " — \($0)" } ?? "")
    }
}

/// The runbook's flowchart led to an option, through these answers.
public struct OptionChosen: EventPayload, Equatable {
    public static let eventType = "OptionChosen"
    public static let schemaVersion = 1
    public var option: String
    /// The flowchart nodes passed, each with its answer, in order.
    public var path: [(node: String, answer: Bool)]

    public init(option: String, path: [(node: String, answer: Bool)]) {
        self.option = option
        self.path = path
    }
    public static func == (a: Self, b: Self) -> Bool {
        a.option == b.option && a.path.map(\.node) == b.path.map(\.node) && a.path.map(\.answer) == b.path.map(\.answer)
    }
    public var json: JSONValue {
        ["option": .string(option), "path": .array(path.map { ["node": .string($0.node), "answer": .string($0.answer ? "yes" : "no")] })]
    }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.option = try r.string("option")
        var path: [(String, Bool)] = []
        for step in try r.elements("path") {
            let s = PayloadReader(step, context: "\(Self.eventType) path")
            path.append((try s.string("node"), try s.string("answer") == "yes"))
        }
        self.path = path
    }
    public var summary: String { "option \(option) chosen by the flowchart (" + path.map { "\($0.node): \($0.answer ? "yes" : "no")" }.joined(separator: " → ") + ")" }
}

/// A checklist item was verified.
public struct ChecklistItemVerified: EventPayload, Equatable {
    public static let eventType = "ChecklistItemVerified"
    public static let schemaVersion = 1
    public var item: String
    public var by: String?
    public var notes: String?

    public init(item: String, by: String? = nil, notes: String? = nil) {
        self.item = item
        self.by = by
        self.notes = notes
    }
    public var json: JSONValue { .members(["item": .string(item), "by": by.map(JSONValue.string), "notes": notes.map(JSONValue.string)]) }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.init(item: try r.string("item"), by: try r.optionalString("by"), notes: try r.optionalString("notes"))
    }
    public var summary: String { "checklist \(item) verified" + (by.map { " by \($0)" } ?? "") + (notes.map { " — \($0)" } ?? "") }
}

/// Someone with authority approved the failback.
public struct ApprovalGranted: EventPayload, Equatable {
    public static let eventType = "ApprovalGranted"
    public static let schemaVersion = 1
    public var by: String
    public var role: String

    public init(by: String, role: String) throws(InvalidInput) {
        self.by = try Check.nonEmpty(by, "approver")
        self.role = try Check.nonEmpty(role, "approver's role")
    }
    public var json: JSONValue { ["by": .string(by), "role": .string(role)] }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(by: try r.string("by"), role: try r.string("role"))
    }
    public var summary: String { "approved by \(by) (\(role))" }
}

/// Someone with authority declined the failback: approvals recorded before this count no more.
public struct ApprovalDeclined: EventPayload, Equatable {
    public static let eventType = "ApprovalDeclined"
    public static let schemaVersion = 1
    public var by: String
    public var role: String
    public var reason: String

    public init(by: String, role: String, reason: String) throws(InvalidInput) {
        self.by = try Check.nonEmpty(by, "decliner")
        self.role = try Check.nonEmpty(role, "decliner's role")
        self.reason = try Check.nonEmpty(reason, "decline reason")
    }
    public var json: JSONValue { ["by": .string(by), "role": .string(role), "reason": .string(reason)] }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(by: try r.string("by"), role: try r.string("role"), reason: try r.string("reason"))
    }
    public var summary: String { "DECLINED by \(by) (\(role)): \(reason)" }
}

/// A gate was passed although its preconditions were not met: what was missing, and why.
public struct GateOverridden: EventPayload, Equatable {
    public static let eventType = "GateOverridden"
    public static let schemaVersion = 1
    public var phase: String
    public var missing: [String]
    public var reason: String

    public init(phase: String, missing: [String], reason: String) throws(InvalidInput) {
        self.phase = phase
        self.missing = missing
        self.reason = try Check.nonEmpty(reason, "override reason")
    }
    public var json: JSONValue { ["phase": .string(phase), "missing": .array(missing.map(JSONValue.string)), "reason": .string(reason)] }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        try self.init(phase: try r.string("phase"), missing: try r.strings("missing"), reason: try r.string("reason"))
    }
    public var summary: String { "gate of phase \(phase) OVERRIDDEN (\(reason)); missing: " + missing.joined(separator: "; ") }
}
