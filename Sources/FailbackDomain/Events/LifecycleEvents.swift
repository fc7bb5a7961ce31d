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
    public static let schemaVersion = 1
    public static let lifecycle = DrillLifecycle.closes

    public enum Outcome: String, Sendable, CaseIterable {
        case success, failed, aborted
    }

    public var outcome: Outcome

    public init(outcome: Outcome) { self.outcome = outcome }
    public var json: JSONValue { ["outcome": .string(outcome.rawValue)] }
    public init(reading r: PayloadReader) throws(InvalidInput) {
        let s = try r.string("outcome")
        guard let o = Outcome(rawValue: s) else { throw InvalidInput("\(Self.eventType): unknown outcome \"\(s)\"") }
        self.outcome = o
    }
    public var summary: String { "drill completed: \(outcome.rawValue)" }
}
