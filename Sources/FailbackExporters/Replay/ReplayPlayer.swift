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
        /// Waits for a key press (a byte); nil when no key can be read (the player then stops waiting).
        public var readKey: () -> UInt8?
        /// A byte already typed, without waiting; nil when there is none (paced mode polls it).
        public var pollKey: () -> UInt8?
        /// The terminal's width: lines and the bar are cut to it (nil: not cut).
        public var columns: Int?

        public init(
            write: @escaping (String) -> Void, sleep: @escaping (Double) -> Void, readKey: @escaping () -> UInt8?,
            pollKey: @escaping () -> UInt8? = { nil }, columns: Int? = nil
        ) {
            self.write = write
            self.sleep = sleep
            self.readKey = readKey
            self.pollKey = pollKey
            self.columns = columns
        }
    }

    /// What a key press asks of a replay. Arrow keys come as escape sequences (ESC [ A…D, or
    /// ESC O A…D), read whole: one press, one step.
    public enum Key: Sendable, Equatable {
        case next, back, quit, ignored

        /// The key that begins with `byte`, reading the rest of an escape sequence from `more`.
        public static func decode(_ byte: UInt8, more: () -> UInt8?) -> Key {
            switch byte {
            case UInt8(ascii: "q"), UInt8(ascii: "Q"), 3, 4: return .quit  // q, ctrl-C, ctrl-D
            case UInt8(ascii: "b"), UInt8(ascii: "k"), 0x7F: return .back  // b, k, backspace
            case 0x1B:
                guard let introducer = more(), introducer == UInt8(ascii: "[") || introducer == UInt8(ascii: "O") else { return .ignored }
                var final = more()
                // Parameters (ESC [ 1 ; 5 C): digits and ';' before the final byte.
                while let b = final, (0x30...0x3F).contains(b) { final = more() }
                switch final {
                case UInt8(ascii: "A")?, UInt8(ascii: "D")?: return .back  // up, left
                case UInt8(ascii: "B")?, UInt8(ascii: "C")?: return .next  // down, right
                default: return .ignored
                }
            default: return .next
            }
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

    /// Thrown when the viewer quits.
    struct Quit: Error {}

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
        // Step mode: what was shown, to step back through (the latest 1,000 events), and where.
        var history: [(line: String, bar: String)] = []
        var position = -1
        func fit(_ text: String) -> String { console.columns.map { Terminal.fit(text, columns: $0) } ?? text }
        do {
            try store.forEachEvent(drill: drill, through: until) { (event: RecordedEvent) throws in
                // Keys and waits come before the event is folded: the bar shows the drill as shown
                // so far, and quitting leaves it there.
                if case .terminal(let colour, let pace, let step) = mode, shown >= 1, event.drillSeq >= firstShown {
                    if step {
                        keys: while let byte = console.readKey() {
                            switch Key.decode(byte, more: console.readKey) {
                            case .quit: throw Quit()
                            case .ignored: continue
                            case .back:
                                guard position > 0 else { continue }
                                position -= 1
                            case .next:
                                guard position < history.count - 1 else { break keys }
                                position += 1
                            }
                            // Through what was shown already: back, or forward again to the newest.
                            console.write(Terminal.clearLine + fit(Terminal.dim("◀ ", colour) + history[position].line) + "\n" + history[position].bar)
                        }
                    } else if let pace, let last = replay.state.lastEventAt {
                        try wait(until: event.recordedAt, from: last, replay: replay, pace: pace, colour: colour, console: console)
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
                    let line = fit(frame.line(colour: colour))
                    console.write(line + "\n")
                    if outputs { for l in frame.outputLines { console.write(fit(Terminal.dim(l, colour)) + "\n") } }
                    let progress = fit(Terminal.bar(frame.progress.line + (step ? "   [→ next · ← back · q quit]" : ""), colour: colour))
                    console.write(progress)
                    bar = true
                    if step {
                        history.append((frame.line(colour: colour), progress))
                        if history.count > 1000 { history.removeFirst() }
                        position = history.count - 1
                    }
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
    /// A key typed meanwhile that quits (q, ctrl-C, ctrl-D) stops the replay.
    private func wait(until next: Timestamp, from last: Timestamp, replay: DrillReplay, pace: ReplayPace, colour: Bool, console: Console) throws {
        let seconds = pace.delay(forGap: next.millisecondsSinceEpoch - last.millisecondsSinceEpoch)
        var waited = 0.0
        while waited < seconds {
            let slice = min(0.25, seconds - waited)
            console.sleep(slice)
            waited += slice
            while let byte = console.pollKey() {
                if Key.decode(byte, more: console.pollKey) == .quit { throw Quit() }
            }
            // Drill time advanced by the wait, scaled, never past the next event.
            let now = min(next.millisecondsSinceEpoch, last.millisecondsSinceEpoch + Int64(waited * pace.speed * 1000))
            let progress = Terminal.bar(replay.progress(at: Timestamp(millisecondsSinceEpoch: now)).line, colour: colour)
            console.write(Terminal.clearLine + (console.columns.map { Terminal.fit(progress, columns: $0) } ?? progress))
        }
    }
}

/// ANSI terminal sequences; colour only when asked for.
enum Terminal {
    static let clearLine = "\r\u{1B}[2K"
    static func sgr(_ code: String, _ text: String, _ on: Bool) -> String { on ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    static func dim(_ text: String, _ on: Bool) -> String { sgr("2", text, on) }
    static func bold(_ text: String, _ on: Bool) -> String { sgr("1", text, on) }
    /// `text` cut to `columns` visible characters (escape sequences kept, not counted), ending
    /// in "…" (and a colour reset) when cut.
    static func fit(_ text: String, columns: Int) -> String {
        guard columns > 1 else { return text }
        var out = "", visible = 0
        var scalars = text.unicodeScalars.makeIterator()
        while let s = scalars.next() {
            if s == "\u{1B}" {
                out.unicodeScalars.append(s)
                // A CSI sequence runs to its final byte (@ to ~).
                while let t = scalars.next() {
                    out.unicodeScalars.append(t)
                    if t != "[" && (0x40...0x7E).contains(t.value) { break }
                }
                continue
            }
            if s == "\r" || s == "\n" { out.unicodeScalars.append(s); continue }
            if visible == columns - 1 {
                return out + "…" + (text.contains("\u{1B}[") ? "\u{1B}[0m" : "")
            }
            out.unicodeScalars.append(s)
            visible += 1
        }
        return out
    }

    /// The progress bar: reverse video with colour, in brackets without.
    static func bar(_ text: String, colour: Bool) -> String { colour ? sgr("7", " \(text) ", true) : "[\(text)]" }
}
