import FailbackLog

/// A failback runbook as data: what the recorder follows during a drill. The format is described in
/// docs/runbook-format.md and `schemas/runbook.schema.json`; nothing in the code knows a particular
/// runbook's names.
public struct Runbook: Sendable, Equatable {
    public var id: String
    public var title: String
    public var version: String
    public var updated: String?
    public var status: String?
    public var owner: String?
    public var escalation: [String]
    public var audience: [String]
    public var summary: String?
    public var targets: Targets
    public var sites: Sites?
    public var services: [String]
    public var prerequisites: [String]
    public var warnings: [String]
    public var useCases: [String]
    public var criteria: Criteria
    public var questions: [Question]
    public var checklist: [ChecklistItem]
    /// The approvals the go/no-go gate needs (empty: one approval of any role).
    public var approvals: [ApprovalRequirement]
    public var options: [StrategyOption]
    public var flowchart: Flowchart?
    public var phases: [Phase]
    public var postTasks: [Section]
    public var validation: [Section]
    public var rollback: Section?
    public var troubleshooting: [Trouble]
    public var report: [String]
    public var evidence: Evidence?
    public var contacts: [Contact]
    public var related: [RelatedDocument]
    public var history: [Revision]

    /// Recovery objectives and time frame.
    public struct Targets: Sendable, Equatable {
        public var rtoMinutes: Double?
        public var rpoSeconds: Double?
        public var windowHours: Double?
        public var notes: [String]
    }

    /// The direction of the failback: from the site serving now back to the primary.
    public struct Sites: Sendable, Equatable {
        public var from: String
        public var to: String
    }

    public struct Criteria: Sendable, Equatable {
        public var when: [Criterion]
        public var whenNot: [String]
    }

    public struct Criterion: Sendable, Equatable {
        public var criterion: String
        public var requirement: String
    }

    /// A yes/no question answered before deciding (a "no" blocks the failback).
    public struct Question: Sendable, Equatable {
        public var id: String
        public var text: String
        public var hint: String?
    }

    /// `count` distinct people with `role` must approve before the first phase starts.
    public struct ApprovalRequirement: Sendable, Equatable {
        public var role: String
        public var count: Int
    }

    public struct ChecklistItem: Sendable, Equatable {
        public var id: String
        public var item: String
        public var notes: String?
    }

    /// One strategy of the decision matrix.
    public struct StrategyOption: Sendable, Equatable {
        public var id: String
        public var title: String
        public var recommended: Bool
        public var pros: [String]
        public var cons: [String]
        public var useWhen: String?
        public var estimatedMinutes: ClosedRange<Double>?
        public var window: String?
    }

    /// Questions leading to an option, or to waiting.
    public struct Flowchart: Sendable, Equatable {
        public var start: String
        public var nodes: [Node]

        public struct Node: Sendable, Equatable {
            public var id: String
            public var question: String
            public var yes: Branch
            public var no: Branch
        }

        public enum Branch: Sendable, Equatable {
            case next(String)
            case option(String)
            /// The flowchart ends without an option: `wait`, `schedule`...
            case outcome(String, text: String)
        }
    }

    public struct Phase: Sendable, Equatable {
        public var id: String
        public var title: String
        /// The strategy option whose procedure this phase belongs to (nil: every drill).
        public var option: String?
        /// When the phase starts relative to the cutover, as written (`T-30m`, `T-0`).
        public var offset: String?
        public var targetMinutes: ClosedRange<Double>?
        /// The phases that must complete before this one starts (nil: the previous phase the
        /// drill follows, in the runbook's order).
        public var after: [String]?
        public var steps: [Step]
    }

    public struct Step: Sendable, Equatable {
        public var id: String
        public var title: String
        /// What a person does when it is not a command (`Check Grafana`).
        public var action: String?
        public var commands: [Command]
        public var expect: String?
        public var notes: [String]
        public var sites: [String]
        public var services: [String]
        /// Whether this step stops or resumes application writes (RTO is measured between them).
        public var writes: WriteEffect?
        /// This step switches traffic to the other site (DNS): propagation is measured from it.
        public var cutover: Bool
        /// How long the step should take.
        public var targetMinutes: ClosedRange<Double>?
        /// Steps of the same section that must be done (or skipped) before this one starts.
        public var after: [String]
        /// The failback commands that record this step's checks (`failback observe ...`), as an
        /// operator adapts and runs them: how "expect" becomes an observation with a verdict.
        public var probes: [String] = []
    }

    public enum WriteEffect: String, Sendable, Equatable {
        case stop, resume
    }

    /// A command as the runbook writes it, and what it should print.
    public struct Command: Sendable, Equatable {
        public var run: String
        public var expect: String?
    }

    /// A titled group of steps (post tasks, validation, the abort procedure).
    public struct Section: Sendable, Equatable {
        public var id: String
        public var title: String
        public var notes: [String]
        public var steps: [Step]
    }

    public struct Trouble: Sendable, Equatable {
        public var issue: String
        public var cause: String
        public var resolution: String
        public var commands: [Command]
    }

    /// What the runbook asks to keep as evidence, and for which controls.
    public struct Evidence: Sendable, Equatable {
        public var controls: [String]
        public var requirements: [String]
        public var artifacts: [String]
        public var storage: String?
    }

    public struct Contact: Sendable, Equatable {
        public var role: String
        public var contact: String
    }

    public struct RelatedDocument: Sendable, Equatable {
        public var document: String
        public var purpose: String
        public var location: String?
    }

    public struct Revision: Sendable, Equatable {
        public var date: String
        public var version: String
        public var author: String
        public var changes: String
    }

    /// Every step of the runbook, in document order, with the section it belongs to.
    public var allSteps: [(section: String, step: Step)] {
        phases.flatMap { p in p.steps.map { (p.id, $0) } } + postTasks.flatMap { s in s.steps.map { (s.id, $0) } }
            + validation.flatMap { s in s.steps.map { (s.id, $0) } } + (rollback.map { r in r.steps.map { (r.id, $0) } } ?? [])
    }

    /// Every command written in the runbook (steps and troubleshooting).
    public var allCommands: [Command] {
        allSteps.flatMap(\.step.commands) + troubleshooting.flatMap(\.commands)
    }
}
