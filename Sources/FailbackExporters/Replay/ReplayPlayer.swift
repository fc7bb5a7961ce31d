import FailbackDomain
import FailbackLog

/// Plays a stored drill's timeline (`failback replay`): plain lines for a pipe (no control codes,
/// no waiting), JSON lines, or a terminal view with colour, the drill's pace (`ReplayPace`) or one
/// event per key, and a progress bar kept at the bottom. The terminal itself is behind `Console`.
public struct ReplayPlayer {
    public enum Mode: Sendable, Equatable {
        case plain
        case json
        /// On a terminal: colour unless NO_COLOR; paced, or one event per key with `step`.
        case terminal(colour: Bool, pace: ReplayPace?, step: Bool)
    }

    /// What the player needs of a terminal, so that tests can stand in for one.
    public struct Console {
        public var write: (String) -> Void
        /// Waits this many seconds.
        public var sleep: (Double) -> Void
        /// Waits for a key press; nil when no key can be read (the player then stops waiting).
        public var readKey: () -> UInt8?

        public init(write: @escaping (String) -> Void, sleep: @escaping (Double) -> Void, readKey: @escaping () -> UInt8?) {
            self.write = write
            self.sleep = sleep
            self.readKey = readKey
        }
    }

    public var mode: Mode
    /// Show commands' captured output under their lines.
    public var outputs: Bool
    /// Events shown: from this moment on (earlier ones are folded, not shown), up to that one.
    public var from: DrillState.Moment?
    public var until: DrillState.Moment?

    public init(mode: Mode, outputs: Bool = false, from: DrillState.Moment? = nil, until: DrillState.Moment? = nil) {
        self.mode = mode
        self.outputs = outputs
        self.from = from
        self.until = until
    }

    /// How the replay ended: every event shown, or the viewer quit.
    public enum Ending: Sendable, Equatable { case finished, quit }

    @discardableResult
    public func play(drill: String, from store: any EventStore, on console: Console) throws -> Ending {
        var replay = DrillReplay()
        let total = try store.drill(drill)?.eventCount ?? 0
        // `from` as a time: the first event after the last one recorded at or before it.
        let firstShown: Int
        switch from {
        case .drillSeq(let n)?: firstShown = n
        case .time(let t)?: firstShown = try store.lastDrillSeq(drill: drill, recordedAtOrBefore: t) + 1
        case nil: firstShown = 1
        }
        var shown = 0
        var ending = Ending.finished
        var bar = false
        struct Quit: Error {}
        do {
            try store.forEachEvent(drill: drill, through: until) { (event: RecordedEvent) throws in
                // Keys and waits come before the event is folded: the bar shows the drill as shown
                // so far, and quitting leaves it there.
                if case .terminal(let colour, let pace, let step) = mode, shown >= 1, event.drillSeq >= firstShown {
                    if step {
                        if let key = console.readKey(), key == UInt8(ascii: "q") || key == 3 || key == 4 { throw Quit() }  // q, ctrl-C, ctrl-D
                    } else if let pace, let last = replay.state.lastEventAt {
                        wait(until: event.recordedAt, from: last, replay: replay, pace: pace, colour: colour, console: console)
                    }
                }
                let frame = try replay.next(event)
                guard event.drillSeq >= firstShown else { return }
                shown += 1
                switch mode {
                case .plain:
                    console.write(frame.line + "\n")
                    if outputs { for l in frame.outputLines { console.write(l + "\n") } }
                case .json:
                    console.write(CanonicalJSON.string(frame.json) + "\n")
                case .terminal(let colour, _, let step):
                    if bar { console.write(Terminal.clearLine) }
                    console.write(frame.line(colour: colour) + "\n")
                    if outputs { for l in frame.outputLines { console.write(Terminal.dim(l, colour) + "\n") } }
                    console.write(Terminal.bar(frame.progress.line + (step ? "   [any key: next · q: quit]" : ""), colour: colour))
                    bar = true
                }
            }
        } catch is Quit {
            ending = .quit
        }
        if bar { console.write(Terminal.clearLine) }
        switch mode {
        case .json: break
        case .plain: console.write(replay.ending(of: total) + "\n")
        case .terminal(let colour, _, _): console.write(Terminal.bold(replay.ending(of: total) + (ending == .quit ? " (replay stopped)" : ""), colour) + "\n")
        }
        if shown == 0, mode != .json { console.write("(no events in the range asked for)\n") }
        return ending
    }

    /// Waits for the gap between the drill's last event shown (`from`) and the next one, the
    /// progress bar's clocks running meanwhile in drill time.
    private func wait(until next: Timestamp, from last: Timestamp, replay: DrillReplay, pace: ReplayPace, colour: Bool, console: Console) {
        let seconds = pace.delay(forGap: next.millisecondsSinceEpoch - last.millisecondsSinceEpoch)
        var waited = 0.0
        while waited < seconds {
            let slice = min(0.25, seconds - waited)
            console.sleep(slice)
            waited += slice
            // Drill time advanced by the wait, scaled, never past the next event.
            let now = min(next.millisecondsSinceEpoch, last.millisecondsSinceEpoch + Int64(waited * pace.speed * 1000))
            console.write(Terminal.clearLine + Terminal.bar(replay.progress(at: Timestamp(millisecondsSinceEpoch: now)).line, colour: colour))
        }
    }
}

/// ANSI terminal sequences; colour only when asked for.
enum Terminal {
    static let clearLine = "\r\u{1B}[2K"
    static func sgr(_ code: String, _ text: String, _ on: Bool) -> String { on ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String, _ on: Bool) -> String { sgr("2", text, on) }
    static func bold(_ text: String, _ on: Bool) -> String { sgr("1", text, on) }
    /// The progress bar: reverse video with colour, in brackets without.
    static func bar(_ text: String, colour: Bool) -> String { colour ? sgr("7", " \(text) ", true) : "[\(text)]" }
}
