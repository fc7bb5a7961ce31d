import FailbackDomain
@testable import FailbackExporters
import FailbackLog
import Foundation
import Synchronization
import Testing

/// A console that records what the player writes, how long it sleeps, and hands it keys.
final class RecordingConsole: @unchecked Sendable {
    var written = ""
    var sleeps: [Double] = []
    var keys: [UInt8]
    var keysAsked = 0
    /// Bytes typed while a paced replay waits, one handed over per poll.
    var typed: [UInt8]
    var columns: Int?

    init(keys: String = "", typed: String = "", columns: Int? = nil) {
        self.keys = Array(keys.utf8)
        self.typed = Array(typed.utf8)
        self.columns = columns
    }

    var console: ReplayPlayer.Console {
        ReplayPlayer.Console(
            write: { self.written += $0 }, sleep: { self.sleeps.append($0) },
            readKey: {
                self.keysAsked += 1
                return self.keys.isEmpty ? nil : self.keys.removeFirst()
            },
            pollKey: { self.typed.isEmpty ? nil : self.typed.removeFirst() },
            columns: columns)
    }

    var lines: [String] { written.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
}

/// `failback replay`'s player, driven without a terminal.
@Suite struct ReplayTests {
    static func fixedStore() throws -> (TemporaryFolder, SQLiteEventStore, [RecordedEvent]) {
        let folder = TemporaryFolder()
        let events = try FixedDrill.record(in: folder)
        return (folder, try SQLiteEventStore(openingAt: "\(folder.path)/golden.sqlite"), events)
    }

    @Test func pipeLinesMatchTheGoldenFile() throws {
        let (_, store, events) = try Self.fixedStore()
        let out = RecordingConsole()
        try ReplayPlayer(mode: .plain, outputs: true).play(drill: FixedDrill.id, from: store, on: out.console)
        try expectGolden(out.written, "replay.txt")
        #expect(out.sleeps.isEmpty && out.keysAsked == 0, "a pipe never waits")
        #expect(!out.written.contains("\u{1B}"), "no control codes in a pipe")
        // One line per event (plus captured output lines), in log order, then the ending.
        let eventLines = out.lines.filter { $0.hasPrefix("+") }
        #expect(eventLines.count == events.count)
        let numbers = eventLines.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
        #expect(numbers == events.map { "#\($0.drillSeq)" })
        #expect(out.lines.contains("    stdout | pg_rewind: Done!"))
        #expect(out.lines.dropLast().last?.hasPrefix("drill completed: failed · took ") == true)
    }

    @Test func replayingTwiceGivesTheSameBytes() throws {
        let (_, store, _) = try Self.fixedStore()
        for mode in [ReplayPlayer.Mode.plain, .json] {
            let a = RecordingConsole(), b = RecordingConsole()
            try ReplayPlayer(mode: mode).play(drill: FixedDrill.id, from: store, on: a.console)
            try ReplayPlayer(mode: mode).play(drill: FixedDrill.id, from: store, on: b.console)
            #expect(a.written == b.written)
        }
    }

    @Test func jsonIsOneObjectPerEvent() throws {
        let (_, store, events) = try Self.fixedStore()
        let out = RecordingConsole()
        try ReplayPlayer(mode: .json).play(drill: FixedDrill.id, from: store, on: out.console)
        let objects = try out.lines.filter { !$0.isEmpty }.map { try JSONParser.parse($0) }
        #expect(objects.count == events.count)
        #expect(objects.map { $0["drill_seq"]?.integerValue } == events.map(\.drillSeq))
        #expect(objects.map { $0["offset_ms"]?.integerValue } == events.map { Int($0.recordedAt.millisecondsSinceEpoch - events[0].recordedAt.millisecondsSinceEpoch) })
        let failed = objects.filter { $0["marks"]?.arrayValue?.contains(.string("FAILED")) == true }.map { $0["type"]?.stringValue }
        // Samples that did not match yet are marked too (the wait that follows says MET).
        #expect(failed == ["DNSAnswerObserved", "DNSAnswerObserved", "StepFailed", "HealthCheckObserved"])
        #expect(objects.last?["progress"]?["status"]?.stringValue == "completed")
    }

    @Test func stepModeShowsOneEventPerKeyAndStopsOnQ() throws {
        let (_, store, _) = try Self.fixedStore()
        let out = RecordingConsole(keys: " xq")
        let ending = try ReplayPlayer(mode: .terminal(colour: false, pace: nil, step: true)).play(drill: FixedDrill.id, from: store, on: out.console)
        #expect(ending == .quit)
        #expect(out.keysAsked == 3)
        #expect(out.sleeps.isEmpty)
        let shown = out.written.components(separatedBy: "\r\u{1B}[2K").compactMap { $0.split(separator: "\n").first }.filter { $0.hasPrefix("+") }
        #expect(shown.map { String($0.prefix(19)) } == ["+00:00:00.000  #1  ", "+00:00:01.500  #2  ", "+00:00:03.000  #3  "])
        #expect(out.written.contains("[no phase yet · drill 3s   [→ next · ← back · q quit]]"))
        #expect(out.written.hasSuffix("drill as of event #3 of 46: running · no failed checks (replay stopped)\n"))
    }

    /// An arrow key is one key (its escape sequence read whole); left goes back through what was
    /// shown, right comes forward again, then on to the next event.
    @Test func arrowKeysStepBackAndForth() throws {
        let (_, store, _) = try Self.fixedStore()
        let right = "\u{1B}[C", left = "\u{1B}[D"
        let out = RecordingConsole(keys: right + right + left + left + right + right + "\u{1B}[1;5C" + "q")
        let ending = try ReplayPlayer(mode: .terminal(colour: false, pace: nil, step: true)).play(drill: FixedDrill.id, from: store, on: out.console)
        #expect(ending == .quit)
        let shown = out.written.components(separatedBy: "\r\u{1B}[2K").compactMap { $0.split(separator: "\n").first }.filter { $0.hasPrefix("+") || $0.hasPrefix("◀") }
        #expect(
            shown.map { String($0.prefix(21)) } == [
                "+00:00:00.000  #1  - ", "+00:00:01.500  #2  - ", "+00:00:03.000  #3  - ",  // → →
                "◀ +00:00:01.500  #2  ", "◀ +00:00:00.000  #1  ",  // ← ←
                "◀ +00:00:01.500  #2  ", "◀ +00:00:03.000  #3  ",  // → → (back to the newest)
                "+00:00:04.500  #4  - ",  // ctrl-→ (ESC [ 1 ; 5 C): the next event
            ], "\(shown)")
        #expect(out.written.hasSuffix("drill as of event #4 of 46: running · no failed checks (replay stopped)\n"))
        #expect(ReplayPlayer.Key.decode(3, more: { nil }) == .quit && ReplayPlayer.Key.decode(0x1B, more: { nil }) == .ignored)
    }

    /// A paced replay stops on q (or ctrl-C, a byte: the terminal's ISIG is off) typed while it
    /// waits, with its last line; lines are cut to the terminal's width.
    @Test func pacedModeStopsOnQAndFitsTheWidth() throws {
        let (_, store, _) = try Self.fixedStore()
        for quit in ["q", "\u{03}"] {
            let out = RecordingConsole(typed: "x" + quit, columns: 40)
            let ending = try ReplayPlayer(mode: .terminal(colour: false, pace: ReplayPace(speed: 1, maxWait: 5), step: false)).play(
                drill: FixedDrill.id, from: store, on: out.console)
            #expect(ending == .quit)
            #expect(out.written.hasSuffix("(replay stopped)\n"), "\(out.written.suffix(200))")
            let lines = out.written.components(separatedBy: "\r\u{1B}[2K").flatMap { $0.split(separator: "\n") }.filter { $0.hasPrefix("+") || $0.hasPrefix("[") }
            #expect(!lines.isEmpty && lines.allSatisfy { $0.count <= 40 }, "\(lines)")
            #expect(lines.contains { $0.hasSuffix("…") })
        }
        #expect(Terminal.fit("\u{1B}[1mabcdef\u{1B}[0m", columns: 4) == "\u{1B}[1mabc…\u{1B}[0m")
    }

    @Test func pacedModeWaitsTheDrillsGapsScaledAndCapped() throws {
        let (_, store, events) = try Self.fixedStore()
        for (speed, maxWait, each) in [(10.0, 5.0, 0.15), (1.0, 0.5, 0.5)] {
            let out = RecordingConsole()
            try ReplayPlayer(mode: .terminal(colour: true, pace: ReplayPace(speed: speed, maxWait: maxWait), step: false))
                .play(drill: FixedDrill.id, from: store, on: out.console)
            // The fixed clock reads 1.5 s apart; events appended together share a reading.
            let gaps = zip(events, events.dropFirst()).filter { $0.recordedAt != $1.recordedAt }.count
            #expect(abs(out.sleeps.reduce(0, +) - each * Double(gaps)) < 1e-9, "speed \(speed), max wait \(maxWait)")
            #expect(out.sleeps.allSatisfy { $0 <= 0.25 + 1e-12 }, "the bar is redrawn at least every 0.25 s")
            #expect(out.written.contains("\u{1B}[1;31mFAILED\u{1B}[0m"), "failures in red")
            #expect(out.written.contains("\u{1B}[7m phase 3/3 b-controlled-switchover"), "the progress bar")
        }
    }

    @Test func fromAndUntilSelectByDrillSeqOrTime() throws {
        let (_, store, events) = try Self.fixedStore()
        func shown(_ from: DrillState.Moment?, _ until: DrillState.Moment?) throws -> [String] {
            let out = RecordingConsole()
            try ReplayPlayer(mode: .plain, from: from, until: until).play(drill: FixedDrill.id, from: store, on: out.console)
            return out.lines.filter { $0.hasPrefix("+") }.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[1]) }
        }
        #expect(try shown(.drillSeq(10), .drillSeq(12)) == ["#10", "#11", "#12"])
        // A time: from the first event after it; until the last event at or before it.
        let t = Timestamp(millisecondsSinceEpoch: events[9].recordedAt.millisecondsSinceEpoch + 700)
        #expect(try shown(.time(t), .drillSeq(12)) == ["#11", "#12"])
        #expect(try shown(nil, .time(t)).last == "#10")
        // Folded before `from`: the phase column and progress still know where the drill stood.
        let out = RecordingConsole()
        try ReplayPlayer(mode: .plain, from: .drillSeq(21), until: .drillSeq(21)).play(drill: FixedDrill.id, from: store, on: out.console)
        #expect(out.lines[0].contains("  #21  b-wait-replication-catch-up  "))
        #expect(out.lines[1] == "drill as of event #21 of 46: running · RPO 3.4s (target 10s: met) · no failed checks")
    }

    /// Events are shown in log order whatever their clocks say: across midnight, across a DST
    /// change of the recording host's zone (times are UTC), with a host clock behind.
    @Test func clockSkewMidnightAndDSTKeepLogOrder() throws {
        let folder = TemporaryFolder()
        let path = "\(folder.path)/skew.sqlite"
        try SQLiteEventStore.create(at: path)
        // 2026-03-29: Europe's clocks go from 02:00 CET to 03:00 CEST at 01:00 UTC.
        let times = ["2026-03-28T23:59:58.000Z", "2026-03-29T00:00:01.000Z", "2026-03-29T00:00:00.500Z", "2026-03-29T03:30:00+02:00", "2026-03-29T01:30:02.250Z"]
            .map { Timestamp(rfc3339: $0)! }
        let next = Mutex(0)
        let r = Recorder(
            store: try SQLiteEventStore(openingAt: path),
            context: RecordingContext(
                actor: "a", host: "h",
                clock: {
                    next.withLock { i in
                        defer { i += 1 }
                        return times[min(i, times.count - 1)]
                    }
                }, makeDrillID: { _ in "drill-skew" }))
        _ = try r.startDrill(DrillStarted(runbook: shippedRunbook()))
        for text in ["after midnight", "host clock behind", "after the DST change", "still open"] { _ = try r.record(NoteAdded(text: text)) }

        let out = RecordingConsole()
        try ReplayPlayer(mode: .plain).play(drill: "drill-skew", from: r.store, on: out.console)
        #expect(
            out.lines.map { String($0.prefix(22)) }.prefix(5) == [
                "+00:00:00.000  #1  -  ", "+00:00:03.000  #2  -  ", "+00:00:02.500  #3  -  ", "+01:30:02.000  #4  -  ", "+01:30:04.250  #5  -  ",
            ])
        #expect(out.lines[2].hasSuffix("host clock behind  · a  [clock 500ms behind the event before]"))
        #expect(out.lines[5].hasPrefix("drill still open (running): 5 events so far, the last at 2026-03-29T01:30:02.250Z"))

        // No wait before the event whose clock is behind; the others wait their gap (capped).
        let paced = RecordingConsole()
        try ReplayPlayer(mode: .terminal(colour: false, pace: ReplayPace(speed: 1, maxWait: 5), step: false))
            .play(drill: "drill-skew", from: r.store, on: paced.console)
        let slept: Double = paced.sleeps.reduce(0, +)
        #expect(abs(slept - 10.25) < 1e-9, "3 s, then none (clock behind), 5 s (capped), 2.25 s")

        // --until as a time with an offset is the same instant in UTC; the last event at or before it.
        let until = RecordingConsole()
        try ReplayPlayer(mode: .plain, until: DrillState.Moment("2026-03-29T02:00:00.700+01:00")).play(drill: "drill-skew", from: r.store, on: until.console)
        #expect(until.lines.filter { $0.hasPrefix("+") }.count == 3)
        // Status as of that time is the same prefix (by sequence, never by wall time).
        #expect(try DrillState.rebuild(drill: "drill-skew", from: r.store, asOf: DrillState.Moment("2026-03-29T00:00:00.700Z")).eventCount == 3)
        #expect(try DrillReport.build(drill: "drill-skew", from: r.store, asOf: DrillState.Moment("2026-03-29T00:00:00.700Z")).state.eventCount == 3)
    }
}
