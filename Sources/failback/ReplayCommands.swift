import ArgumentParser
import FailbackDomain
import FailbackExporters
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Play a drill's timeline: each event as a line, with the phase progress.",
        discussion: """
            On a terminal the drill plays at its own pace times --speed (gaps longer than --max-wait
            are shortened), or one event per key with --step (q quits), with colour (unless NO_COLOR
            is set) and a progress bar. In a pipe: plain lines, no control codes, no waiting.
            """)
    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
    @Option(parsing: .unconditional, help: "Play at this multiple of the drill's own pace.") var speed: Double = 1
    @Flag(help: "One event per key press (q quits).") var step = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Shorten any wait longer than this many seconds.", valueName: "seconds")) var maxWait: Double = 5
    @Option(help: ArgumentHelp("Start at drill event #SEQ or at an RFC 3339 time (earlier events are folded, not shown).", valueName: "seq|time"))
    var from: String?
    @Option(help: ArgumentHelp("Stop after drill event #SEQ or the last event at or before an RFC 3339 time.", valueName: "seq|time"))
    var until: String?
    @Flag(help: "Show commands' captured output under their lines.") var outputs = false
    @Flag(help: "One JSON object per event.") var json = false

    func validate() throws {
        for (name, value) in [("--from", from), ("--until", until)] {
            if let value, DrillState.Moment(value) == nil { throw ValidationError("\(name) takes a drill event number or an RFC 3339 time, not '\(value)'") }
        }
        guard speed > 0, speed.isFinite else { throw ValidationError("--speed must be a number above 0, not \(speed)") }
        guard maxWait >= 0, maxWait.isFinite else { throw ValidationError("--max-wait must be 0 or more seconds, not \(maxWait)") }
        if step, json { throw ValidationError("--step plays on a terminal; --json prints every event at once") }
    }

    func run() throws {
        let (recorder, head) = try storeOptions.drillForReading(drill)
        try Output.warnIfChainBroken(recorder, head.drillID)
        let onTerminal = isatty(1) == 1
        let mode: ReplayPlayer.Mode =
            json
            ? .json
            : onTerminal
                ? .terminal(colour: ConsoleTerminal.wantsColour, pace: step ? nil : ReplayPace(speed: speed, maxWait: maxWait), step: step)
                : .plain
        let player = ReplayPlayer(mode: mode, outputs: outputs, from: from.flatMap(DrillState.Moment.init), until: until.flatMap(DrillState.Moment.init))
        // On a terminal, keys are read in both modes (q and ctrl-C stop a paced replay too, with
        // its last line), and lines are cut to its width.
        let keys = onTerminal && !json ? ConsoleTerminal.KeyReader() : nil
        defer { keys?.restore() }
        try player.play(
            drill: head.drillID, from: recorder.store,
            on: ReplayPlayer.Console(
                write: ConsoleTerminal.write, sleep: ConsoleTerminal.sleep, readKey: { keys?.read() }, pollKey: { keys?.poll() },
                columns: onTerminal ? ConsoleTerminal.columns : nil))
    }
}

struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Two drills side by side: phases, RTO/RPO, checks, issues, decisions.",
        discussion: "Phases are matched by id, so drills of different runbook versions compare; what does not match is listed.")
    @OptionGroup var storeOptions: StoreOptions
    @Argument(help: "The first drill (A).", completion: Completions.drills) var drillA: String
    @Argument(help: "The second drill (B); deltas are B − A.", completion: Completions.drills) var drillB: String
    @Option(help: "text, md or json.", completion: .list(["text", "md", "json"])) var format = "text"
    @Flag(help: "Same as --format json.") var json = false

    func validate() throws {
        if DrillComparison.Format(rawValue: format) == nil { throw ValidationError("--format must be one of text, md, json, not '\(format)'") }
    }

    func run() throws {
        let recorder = try storeOptions.workspace.openRecorder()
        let a = try recorder.drillForReading(drillA), b = try recorder.drillForReading(drillB)
        try Output.warnIfChainBroken(recorder, a.drillID)
        try Output.warnIfChainBroken(recorder, b.drillID)
        let comparison = try DrillComparison.build(a.drillID, b.drillID, from: recorder.store)
        print(comparison.render(json ? .json : DrillComparison.Format(rawValue: format)!), terminator: "")
    }
}

/// The process's terminal: output, colour, sleeping, and single keys in raw mode.
enum ConsoleTerminal {
    /// Colour on a terminal unless NO_COLOR is set to anything (https://no-color.org).
    static var wantsColour: Bool { (getenv("NO_COLOR").map { String(cString: $0).isEmpty } ?? true) && getenv("TERM").map { String(cString: $0) != "dumb" } ?? true }

    /// The terminal's width (standard output's), if it says.
    static var columns: Int? {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    static func write(_ text: String) {
        var t = text
        t.withUTF8 { p in
            var offset = 0
            while offset < p.count {
                let n = Glibc.write(1, p.baseAddress! + offset, p.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    static func sleep(_ seconds: Double) {
        var left = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var rest = timespec()
        while nanosleep(&left, &rest) != 0 && errno == EINTR { left = rest }
    }

    /// Reads single key presses from the controlling terminal, with echo and line buffering off
    /// until `restore` (also on ctrl-C, which then still ends the process).
    final class KeyReader {
        let fd: Int32
        init?() {
            fd = open("/dev/tty", O_RDWR | O_CLOEXEC)
            guard fd >= 0, tcgetattr(fd, &savedTerminal) == 0 else { return nil }
            savedTerminalFD = fd
            var raw = savedTerminal
            // No line editing, no echo, and ctrl-C as a key (ISIG off): the player stops on it and
            // prints where the drill stood.
            raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            withUnsafeMutableBytes(of: &raw.c_cc) { cc in
                cc[Int(VMIN)] = 1
                cc[Int(VTIME)] = 0
            }
            tcsetattr(fd, TCSANOW, &raw)
            signal(SIGINT) { sig in
                tcsetattr(savedTerminalFD, TCSANOW, &savedTerminal)
                signal(sig, SIG_DFL)
                raise(sig)
            }
        }

        func read() -> UInt8? {
            var byte: UInt8 = 0
            while true {
                let n = Glibc.read(fd, &byte, 1)
                if n == 1 { return byte }
                if n < 0, errno == EINTR { continue }
                return nil
            }
        }

        /// A byte already typed, or nil at once.
        func poll() -> UInt8? {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard Glibc.poll(&p, 1, 0) == 1 else { return nil }
            return read()
        }

        func restore() {
            tcsetattr(fd, TCSANOW, &savedTerminal)
            close(fd)
        }
    }
}

// The terminal's settings before raw mode, for the SIGINT handler (a C function: no captures).
nonisolated(unsafe) private var savedTerminal = termios()
nonisolated(unsafe) private var savedTerminalFD: Int32 = -1
