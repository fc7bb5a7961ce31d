import Foundation
import Testing
@testable import FailbackDomain
import FailbackLog

/// A sample read in one pass (`DrillSample.read`) is only a shortcut: it must never take an event
/// the general reading (`RecordedEvent`, `EventCatalogue.decode`) refuses, and what it takes must
/// fold into the same state.
@Suite struct DrillSampleTests {
    static let at = Timestamp(millisecondsSinceEpoch: 1_700_000_000_123)

    static func line(_ type: String, _ payload: JSONValue, schemaVersion: Int = 1) -> [UInt8] {
        EventDraft(type: type, schemaVersion: schemaVersion, drillID: "drill-1", recordedAt: at, actor: "ana", host: "h", payload: payload)
            .canonicalBytes(seq: 12, drillSeq: 3)
    }

    /// Samples as the recorder writes them (every member a probe records), and payloads of those
    /// types as no recorder writes them: unknown or null members, escapes, values out of range.
    static var lines: [[UInt8]] {
        let lag = "ReplicationLagSampled", rows = "RowCountSampled"
        let lagSamples = [
            try! ReplicationLagSampled(lagSeconds: 0.25, source: "dr", target: "primary"),
            try! ReplicationLagSampled(
                lagSeconds: 0, source: "dr", target: "primary", method: .senderReplayLag, lagBytes: 8192,
                idle: true, rawLagSeconds: 31.5, replayPaused: false, server: "host=10.0.0.5 password=[REDACTED]"),
            try! ReplicationLagSampled(lagSeconds: 1e-3, source: "pg-a", target: "pg-b", method: .standbyReplayTimestamp, replayPaused: true),
            try! ReplicationLagSampled(lagSeconds: nil, source: "dr", target: "primary", error: "connection refused"),
            try! ReplicationLagSampled(lagSeconds: 2, source: "dr", target: "primary", error: "stale"),
        ]
        let rowCounts = [
            try! RowCountSampled(table: "events", site: "dr", count: 1_000_001),
            try! RowCountSampled(table: "t", site: "primary", count: 0),
        ]
        var out = lagSamples.map { line(lag, $0.json, schemaVersion: 2) } + rowCounts.map { line(rows, $0.json) }
        let odd: [(String, JSONValue)] = [
            (lag, ["lag_seconds": -0.0, "source": "dr", "target": "primary"]),
            (lag, ["lag_seconds": -1, "source": "dr", "target": "primary"]),
            (lag, ["lag_seconds": "1", "source": "dr", "target": "primary", "error": "e"]),
            (lag, ["lag_seconds": .null, "source": "dr", "target": "primary", "error": "e"]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "extra": true]),
            (lag, ["lag_seconds": 1, "source": "d\"r", "target": "primary"]),
            (lag, ["lag_seconds": 1, "source": " dr", "target": "primary"]),
            (lag, ["lag_seconds": 1, "source": "", "target": "primary"]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "ré"]),
            (lag, ["lag_seconds": 1, "source": "dr"]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "method": "guess"]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "method": .null]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "lag_bytes": 1.5]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "idle": "yes"]),
            (lag, ["lag_seconds": 1, "source": "dr", "target": "primary", "server": 5]),
            (lag, ["lag_seconds": 1, "source": 7, "target": "primary"]),
            (rows, ["table": "t", "site": "dr", "count": -1]),
            (rows, ["table": "t", "site": "dr", "count": 9_007_199_254_740_992]),
            (rows, ["table": "t", "site": "dr", "count": 2.5]),
            (rows, ["table": "t", "site": "dr"]),
            (rows, ["table": "t", "site": "dr", "count": 1, "extra": 1]),
            (rows, ["table": "\t", "site": "dr", "count": 1]),
            ("NoteAdded", ["text": "not a sample"]),
        ]
        out += odd.map { line($0.0, $0.1) }
        // An escaped member name (never written by the recorder).
        out.append(
            Array(
                String(decoding: line(rows, ["table": "t", "site": "dr", "count": 1]), as: UTF8.self)
                    .replacingOccurrences(of: #""site""#, with: #""s\u0069te""#).utf8))
        return out
    }

    /// Each line, and each line with one byte removed or replaced by one that matters to JSON.
    static var corpus: [[UInt8]] {
        let specials = Array("\"\\{}[],:-.eE0 1tn\u{1}x".utf8) + [0x80]
        var out: [[UInt8]] = []
        for line in lines {
            out.append(line)
            for i in line.indices {
                var removed = line
                removed.remove(at: i)
                out.append(removed)
                var replaced = line
                replaced[i] = specials[i % specials.count]
                out.append(replaced)
            }
        }
        return out
    }

    @Test func aSampleReadInOnePassFoldsAsTheEventDoes() throws {
        var taken = 0, declined = 0
        for document in Self.corpus {
            var shared = RecordedEvent.SharedValues()
            guard let envelope = RecordedEvent.readLine(document, sharing: &shared),
                let sample = DrillSample.read(type: envelope.type, payload: envelope.payload, in: document)
            else {
                declined += 1
                continue
            }
            taken += 1
            let text = String(decoding: document, as: UTF8.self)
            let event = try #require(try? RecordedEvent(canonical: document, hash: []), "the envelope is refused: \(text)")
            let decoded = try? EventCatalogue.decode(event)
            let payload = try #require(decoded ?? nil, "the payload is refused: \(text)")
            switch (sample, payload) {
            case (.lag(let seconds, let source, let target), .replicationLagSampled(let e)):
                let read: DrillSample = .lag(seconds: e.lagSeconds ?? .nan, source: e.source, target: e.target)
                #expect(read == sample && e.lagSeconds?.sign == seconds.sign, "\(text)")
            case (.rowCount, .rowCountSampled(let e)):
                #expect(DrillSample.rowCount(table: e.table, site: e.site, count: e.count) == sample, "\(text)")
            default:
                Issue.record("read as \(sample), decoded as \(String(describing: payload)): \(text)")
            }
            #expect(envelope.recordedAt == event.recordedAt && envelope.type == event.type)
            var oneByOne = DrillState(), general = DrillState()
            oneByOne.apply(sample, at: envelope.recordedAt)
            try general.apply(event, payload: payload)
            #expect(oneByOne == general, "\(text)")
        }
        // Every sample as a probe writes it takes the shortcut (else it would be no shortcut for
        // real drills); so do some of the damaged ones, which must then still be valid events.
        #expect(taken > Self.lines.count)
        #expect(declined > 1000)
        for line in Self.lines.prefix(7) {
            var shared = RecordedEvent.SharedValues()
            let envelope = try #require(RecordedEvent.readLine(line, sharing: &shared))
            let lagWithoutReading = String(decoding: line, as: UTF8.self).contains("connection refused")
            #expect((DrillSample.read(type: envelope.type, payload: envelope.payload, in: line) == nil) == lagWithoutReading)
        }
    }

    /// Lag samples and row counts do not enter the timeline: `DrillState.apply(_:at:)` leaves it alone.
    @Test func samplesStayOutOfTheTimeline() {
        #expect(!ReplicationLagSampled.entersTimeline)
        #expect(!RowCountSampled.entersTimeline)
    }
}
