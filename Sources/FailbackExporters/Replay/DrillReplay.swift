import FailbackDomain
import FailbackLog

/// A drill's events as a timeline a person can follow, one frame per event: when it happened
/// (offset from the drill's first event), in which phase, what happened with its key values,
/// whether it failed or overran, and the phase progress it left. Events come in log order: a clock
/// that ran behind shows as a mark on the event, never as a reordering.
public struct DrillReplay {
    /// One event of the timeline.
    public struct Frame: Sendable, Equatable {
        public var drillSeq: Int
        public var seq: Int
        public var type: String
        public var at: Timestamp
        /// Milliseconds since the drill's first event (negative if its clock was behind that one's).
        public var offset: Int64
        /// Milliseconds of drill time since the event before it (0 when its clock was behind).
        public var wait: Int64
        /// When the event's time is earlier than the event before it: by how many milliseconds.
        public var clockBehind: Int64?
        /// The phase running when it happened (the phase itself for phase events).
        public var phase: String?
        public var summary: String
        /// Who recorded it (the envelope's `actor`), and the role they had joined the drill in.
        public var actor: String
        public var role: String?
        public var marks: [Mark]
        public var progress: Progress
        /// A command's captured output, for playing back in place.
        public var output: CapturedText?
    }

    /// What a command wrote, as `exec` captured it.
    public struct CapturedText: Sendable, Equatable {
        public var stdout: String
        public var stderr: String
    }

    /// What makes an event stand out.
    public enum Mark: String, Sendable, Equatable {
        /// A check, command or step that failed.
        case failed = "FAILED"
        /// A phase or step that took longer than the runbook's target.
        case overrun = "OVERRUN"
        case aborted = "ABORTED"
        /// A gate passed with something missing.
        case overridden = "OVERRIDDEN"
        case issue = "ISSUE"
    }

    /// Where the drill stood after an event.
    public struct Progress: Sendable, Equatable {
        public var phasesDone: Int
        public var phasesFollowed: Int
        public var currentPhase: String?
        /// Milliseconds the current phase has been running, and its target (upper end, minutes).
        public var phaseElapsed: Int64?
        public var phaseTargetMinutes: Double?
        /// Milliseconds since the drill's first event.
        public var elapsed: Int64
        public var status: DrillState.Status
        public var failures: Int

        /// `phase 2/3 b-wait-replication-catch-up 1m10s of 5 min · drill 12m05s · 1 failed`
        public var line: String {
            var parts: [String] = []
            if let current = currentPhase {
                var p = "phase \(min(phasesDone + 1, phasesFollowed))/\(phasesFollowed) \(current)"
                if let e = phaseElapsed { p += " \(formatDuration(Double(e) / 1000))" }
                if let t = phaseTargetMinutes { p += " of \(trimmedNumber(t)) min" + (phaseElapsed.map { Double($0) / 60_000 > t } == true ? " OVERRUN" : "") }
                parts.append(p)
            } else if phasesFollowed > 0 {
                parts.append("\(phasesDone)/\(phasesFollowed) phases done")
            } else {
                parts.append("no phase yet")
            }
            parts.append("drill \(formatDuration(Double(elapsed) / 1000))")
            if status != .running { parts.append(status.rawValue) }
            if failures > 0 { parts.append("\(failures) failed") }
            return parts.joined(separator: " · ")
        }
    }

    /// The drill folded so far; its checks count failures as the report does (samples a wait
    /// loop went through before it was met are not failures).
    private var report = DrillReport(keepsEventIndex: false)
    public var state: DrillState { report.state }
    private var first: Timestamp?
    private var previous: Timestamp?
    private var failures = 0

    public init() {}

    /// Folds the drill's next event and returns its frame.
    public mutating func next(_ event: RecordedEvent) throws(InvalidInput) -> Frame {
        let payload = try EventCatalogue.decode(event)
        let phaseBefore = state.currentPhase?.id
        try report.apply(event, payload: payload)
        let at = event.recordedAt.millisecondsSinceEpoch
        let start = first?.millisecondsSinceEpoch ?? at
        if first == nil { first = event.recordedAt }
        let since = previous.map { at - $0.millisecondsSinceEpoch } ?? 0
        previous = event.recordedAt

        var marks: [Mark] = []
        var phase = state.currentPhase?.id ?? phaseBefore
        switch payload {
        case .phaseStarted(let e)?: phase = e.phase
        case .phaseCompleted(let e)?:
            phase = e.phase
            if state.phase(e.phase)?.overran(now: event.recordedAt) == true { marks.append(.overrun) }
        case .stepCompleted(let e)?: if state.step(e.step)?.overran == true { marks.append(.overrun) }
        case .drillAborted?: marks.append(.aborted)
        case .gateOverridden?: marks.append(.overridden)
        case .issueRaised?: marks.append(.issue)
        default: break
        }
        if let payload, let verdict = state.judged(payload) {
            if verdict.result == .fail { marks.insert(.failed, at: 0) }
            // As the report counts them: each check by its latest run, a loop by its verdict.
            failures = report.failed
        }
        var frame = Frame(
            drillSeq: event.drillSeq, seq: event.seq, type: event.type, at: event.recordedAt, offset: at - start, wait: max(0, since),
            clockBehind: since < 0 ? -since : nil, phase: phase, summary: payload?.value.summary ?? "(event type unknown to this version)",
            actor: event.actor, role: state.role(of: event.actor), marks: marks, progress: progress(at: event.recordedAt))
        if case .commandExecuted(let c)? = payload { frame.output = CapturedText(stdout: c.stdout.text, stderr: c.stderr.text) }
        return frame
    }

    /// The progress as of `now` (a terminal's clock while it waits for the next event).
    public func progress(at now: Timestamp) -> Progress {
        let followed = state.phases.filter(\.applies)
        let current = state.currentPhase
        return Progress(
            phasesDone: followed.filter { $0.completedAt != nil }.count, phasesFollowed: followed.count, currentPhase: current?.id,
            phaseElapsed: current?.startedAt.map { now.millisecondsSinceEpoch - $0.millisecondsSinceEpoch },
            phaseTargetMinutes: current?.targetMinutes?.upperBound,
            elapsed: first.map { now.millisecondsSinceEpoch - $0.millisecondsSinceEpoch } ?? 0, status: state.status, failures: failures)
    }

    /// The last line of a replay: how the drill ended, or that it is still open; or, when the
    /// replay stopped before the drill's last event (of `events`), where the drill stood then.
    public func ending(of events: Int) -> String {
        let m = state.metrics
        var parts: [String] = []
        if state.eventCount < events {
            parts.append("drill as of event #\(state.eventCount) of \(events): \(state.status.rawValue)")
        } else {
            switch state.status {
            case .completed: parts.append("drill completed: \(state.outcome?.rawValue ?? "?")" + (state.outcomeOverride != nil ? " (OVERRIDDEN)" : ""))
            case .notStarted: parts.append("drill not started")
            case .running, .rollingBack:
                parts.append("drill still open (\(state.status.rawValue)): \(state.eventCount) events so far" + (state.lastEventAt.map { ", the last at \($0)" } ?? ""))
            }
        }
        if let total = m.totalSeconds { parts.append("took \(formatDuration(total))") }
        // The status's wording: a rollback's resumption is never an RTO met.
        if let rto = m.rtoText { parts.append(rto) }
        if let rpo = m.rpoSeconds {
            parts.append("RPO \(formatDuration(rpo))" + (m.rpoTargetSeconds.map { " (target \(formatDuration($0)): \(rpo <= $0 ? "met" : "MISSED"))" } ?? ""))
        }
        parts.append(failures == 0 ? "no failed checks" : "\(failures) failed")
        return parts.joined(separator: " · ")
    }
}

extension DrillReplay.Frame {
    /// `+00:12:05.250` (or `-00:00:01.200` for a clock behind the drill's first event).
    public var offsetText: String { Self.offset(offset) }

    static func offset(_ ms: Int64) -> String {
        let a = abs(ms)
        let h = a / 3_600_000, m = a / 60_000 % 60, s = a / 1000 % 60, f = a % 1000
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return (ms < 0 ? "-" : "+") + "\(two(h)):\(two(m)):\(two(s)).\(f < 10 ? "00" : f < 100 ? "0" : "")\(f)"
    }

    /// The frame as one plain line: `+00:12:05.250  #34  phase  Type  summary  FAILED`.
    public var line: String { line(colour: false) }

    /// The line, with ANSI colour when asked: offsets dim, phase and drill events bold,
    /// failures red, overruns and the rest yellow.
    func line(colour: Bool) -> String {
        let phaseEvent = type == PhaseStarted.eventType || type == PhaseCompleted.eventType || type.hasPrefix("Drill")
        // What was recorded is escaped (`terminalSafe`); only the player's own codes go out raw.
        let type = terminalSafe(type)
        var text =
            Terminal.dim(offsetText, colour) + "  " + Terminal.dim("#\(drillSeq)", colour) + "  \(terminalSafe(phase ?? "-"))  "
            + (phaseEvent ? Terminal.bold(type, colour) : type) + "  \(terminalSafe(summary))"
            + Terminal.dim("  · " + terminalSafe(role.map { "\(actor) (\($0))" } ?? actor), colour)
        if !marks.isEmpty {
            text += "  " + marks.map { Terminal.sgr($0 == .failed || $0 == .aborted ? "1;31" : "1;33", $0.rawValue, colour) }.joined(separator: colour ? "  " : " ")
        }
        if let behind = clockBehind { text += "  " + Terminal.sgr("33", "[clock \(formatDuration(Double(behind) / 1000)) behind the event before]", colour) }
        return text
    }

    /// The command's captured output, indented under its line (nothing for other events): a line
    /// at each line feed (a CR LF ending taken as one), every other control character and escape
    /// sequence shown escaped (a tab stays): a command's colours and cursor moves are not replayed.
    public var outputLines: [String] {
        guard let output else { return [] }
        var lines: [String] = []
        for (name, text) in [("stdout", output.stdout), ("stderr", output.stderr)] where !text.isEmpty {
            var body = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                String(String.UnicodeScalarView(line.last == "\r" ? line.dropLast() : line))
            }
            if body.last == "" { body.removeLast() }
            lines += body.map { "    \(name) | \(terminalSafe($0, keepTabs: true))" }
        }
        return lines
    }

    /// The frame as one JSON object (`failback replay --json`).
    public var json: JSONValue {
        .members([
            "drill_seq": JSONValue(drillSeq), "seq": JSONValue(seq), "type": .string(type), "at": .string(at.description),
            "offset_ms": JSONValue(Int(offset)), "wait_ms": JSONValue(Int(wait)), "clock_behind_ms": clockBehind.map { JSONValue(Int($0)) },
            "phase": phase.map(JSONValue.string), "summary": .string(summary), "actor": .string(actor), "role": role.map(JSONValue.string),
            "marks": .array(marks.map { .string($0.rawValue) }),
            "progress": .members([
                "phases_done": JSONValue(progress.phasesDone), "phases_followed": JSONValue(progress.phasesFollowed),
                "current_phase": progress.currentPhase.map(JSONValue.string), "phase_elapsed_ms": progress.phaseElapsed.map { JSONValue(Int($0)) },
                "phase_target_minutes": progress.phaseTargetMinutes.map(JSONValue.number), "elapsed_ms": JSONValue(Int(progress.elapsed)),
                "status": .string(progress.status.rawValue), "failures": JSONValue(progress.failures),
            ]),
        ])
    }
}

/// How long a replay waits before showing each event: the drill's own gap scaled by `speed`,
/// never more than `maxWait` seconds (a quiet hour is not replayed as an hour).
public struct ReplayPace: Sendable, Equatable {
    public var speed: Double
    public var maxWait: Double

    public init(speed: Double, maxWait: Double) {
        self.speed = speed
        self.maxWait = maxWait
    }

    /// Seconds to wait for a gap of `milliseconds` of drill time.
    public func delay(forGap milliseconds: Int64) -> Double {
        min(Double(max(0, milliseconds)) / 1000 / speed, maxWait)
    }
}

func trimmedNumber(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : String(v) }
