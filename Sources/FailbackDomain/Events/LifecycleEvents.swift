import FailbackLog

/// A phase of the runbook began.
public struct PhaseStarted: EventPayload, Equatable {
    public static let eventType = "PhaseStarted"
    public static let schemaVersion = 1
    public var phase: String

    public init(phase: String) { self.phase = phase }
    public var json: JSONValue { ["phase": .string(phase)] }
    public init(reading r: PayloadReader) throws(InvalidInput) { self.phase = try r.string("phase") }
    public var summary: String { "phase \(phase) started" }
}

/// A phase of the runbook ended.
public struct PhaseCompleted: EventPayload, Equatable {
    public static let eventType = "PhaseCompleted"
    public static let schemaVersion = 1
    public var phase: String

    public init(phase: String) { self.phase = phase }
    public var json: JSONValue { ["phase": .string(phase)] }
    public init(reading r: PayloadReader) throws(InvalidInput) { self.phase = try r.string("phase") }
    public var summary: String { "phase \(phase) completed" }
}

/// Someone began a step (`failback step start`, or `exec --step` on a step not yet begun): its
/// duration runs from here to its outcome.
public struct StepStarted: EventPayload, Equatable {
    public static let eventType = "StepStarted"
    public static let schemaVersion = 1
    public var step: String

    public init(step: String) { self.step = step }
    public var json: JSONValue { ["step": .string(step)] }
    public init(reading r: PayloadReader) throws(InvalidInput) { self.step = try r.string("step") }
    public var summary: String { "step \(step) started" }
}

/// What became of a step: done, skipped or failed (three event types, one shape).
public protocol StepOutcomeEvent: EventPayload {
    var step: String { get }
    var reason: String? { get }
    init(step: String, reason: String?)
    static var verb: String { get }
}

extension StepOutcomeEvent {
    public static var schemaVersion: Int { 1 }
    public var json: JSONValue { .members(["step": .string(step), "reason": reason.map(JSONValue.string)]) }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        self.init(step: try r.string("step"), reason: try r.optionalString("reason"))
    }
    public var summary: String { "step \(step) \(Self.verb)" + (reason.map { ": \($0)" } ?? "") }
}

public struct StepCompleted: StepOutcomeEvent, Equatable {
    public static let eventType = "StepCompleted"
    public static let verb = "done"
    public var step: String
    public var reason: String?
    public init(step: String, reason: String?) {
        self.step = step
        self.reason = reason
    }
}

public struct StepSkipped: StepOutcomeEvent, Equatable {
    public static let eventType = "StepSkipped"
    public static let verb = "skipped"
    public var step: String
    public var reason: String?
    public init(step: String, reason: String?) {
        self.step = step
        self.reason = reason
    }
}

public struct StepFailed: StepOutcomeEvent, Equatable {
    public static let eventType = "StepFailed"
    public static let verb = "FAILED"
    public var step: String
    public var reason: String?
    public init(step: String, reason: String?) {
        self.step = step
        self.reason = reason
    }
}

/// The drill was aborted: from here on it follows the runbook's rollback (abort) procedure.
public struct DrillAborted: EventPayload, Equatable {
    public static let eventType = "DrillAborted"
    public static let schemaVersion = 1
    public var reason: String

    public init(reason: String) throws(InvalidInput) { self.reason = try Check.nonEmpty(reason, "abort reason") }
    public var json: JSONValue { ["reason": .string(reason)] }
    public init(reading r: PayloadReader) throws(InvalidInput) { self.reason = try r.string("reason") }
    public var summary: String { "ABORTED: \(reason)" }
}

/// The drill ended. Closes its chain: nothing can be appended after it.
public struct DrillCompleted: EventPayload, Equatable {
    public static let eventType = "DrillCompleted"
    public static let schemaVersion = 2
    public static let lifecycle = DrillLifecycle.closes

    /// `success`: the followed procedure ran whole and held; `failed`: it ran but did not;
    /// `aborted`: it was abandoned for the rollback; `no-go`: the decision was not to fail back;
    /// `postponed`: the flowchart said to schedule it for later.
    public enum Outcome: String, Sendable, CaseIterable {
        case success, failed, aborted
        case noGo = "no-go"
        case postponed
    }

    public var outcome: Outcome
    /// Why: what is missing or failed (for any outcome but a clean success), or the path that
    /// led to no-go.
    public var reasons: [String]
    /// Set when `--outcome` was given over a state that does not support it: the reason given.
    public var overrideReason: String?

    public init(outcome: Outcome, reasons: [String] = [], overrideReason: String? = nil) {
        self.outcome = outcome
        self.reasons = reasons
        self.overrideReason = overrideReason
    }
    public var json: JSONValue {
        .members([
            "outcome": .string(outcome.rawValue), "reasons": reasons.isEmpty ? nil : .array(reasons.map(JSONValue.string)),
            "override_reason": overrideReason.map(JSONValue.string),
        ])
    }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        let s = try r.string("outcome")
        guard let o = Outcome(rawValue: s) else { throw InvalidInput("\(Self.eventType): unknown outcome \"\(s)\"") }
        self.outcome = o
        self.reasons = r.object["reasons"] == nil ? [] : try r.strings("reasons")
        self.overrideReason = try r.optionalString("override_reason")
    }
    public var summary: String {
        "drill completed: \(outcome.rawValue)" + (overrideReason.map { " (OVERRIDDEN: \($0))" } ?? "")
            + (reasons.isEmpty ? "" : " — " + reasons.joined(separator: "; "))
    }
}
