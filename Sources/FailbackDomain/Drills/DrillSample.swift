import FailbackLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a lag sample or a row count adds to a drill's state, read from a stored event line in one
/// pass over its payload's members: the observations a long drill is mostly made of, folded by an
/// export a million at a time.
///
/// It reads only payloads it can read exactly as their types do (`ReplicationLagSampled(reading:)`,
/// `RowCountSampled(reading:)`), and only what the fold keeps of them; it says nil for anything
/// else (an unknown member, a null, an escaped string, a value the type refuses), which then goes
/// the general way (`EventCatalogue.decode`) to be read or refused with its reason. So the two ways
/// accept the same events and fold them alike (a differential test holds them together).
public enum DrillSample: Sendable, Equatable {
    case lag(seconds: Double, source: String, target: String)
    case rowCount(table: String, site: String, count: Int)

    /// The sample an event of `type` holds, its payload's members (`payload`, positions in `line`)
    /// read in one pass; nil when it is not a sample, or not one read here (see above).
    public static func read(type: String, payload: [JSONMemberSpan], in line: [UInt8]) -> DrillSample? {
        line.withUnsafeBufferPointer { doc in
            switch type {
            case ReplicationLagSampled.eventType: lag(payload, doc)
            case RowCountSampled.eventType: rowCount(payload, doc)
            default: nil
            }
        }
    }

    /// The summary the event's payload gives (`EventPayload.summary`), for a sample `read` took:
    /// the same text as reading the payload whole, from its members in place.
    public static func summary(of sample: DrillSample, payload members: [JSONMemberSpan], in line: [UInt8]) -> String {
        switch sample {
        case .rowCount(let table, let site, let count):
            return "\(table)@\(site): \(count) rows"
        case .lag(let seconds, let source, let target):
            var lagBytes: Int?, idle: Bool?, paused: Bool?
            line.withUnsafeBufferPointer { doc in
                for m in members {
                    if m.isNamed("lag_bytes", in: doc) {
                        lagBytes = JSONValueView.integer(exactly: JSONValueView.number(in: doc, m.value))
                    } else if m.isNamed("idle", in: doc) {
                        idle = JSONValueView.bool(in: doc, m.value)
                    } else if m.isNamed("replay_paused", in: doc) {
                        paused = JSONValueView.bool(in: doc, m.value)
                    }
                }
            }
            return ReplicationLagSampled.summary(seconds: seconds, source: source, target: target, lagBytes: lagBytes, idle: idle, replayPaused: paused)
        }
    }

    /// Whether an event line ends as a sample's does (`"type":"RowCountSampled"}`, the last member
    /// in the log's layout): a hint, so that other events are not read twice; `read` decides.
    public static func mayBeSample(_ line: ArraySlice<UInt8>) -> Bool {
        line.withUnsafeBufferPointer { ends($0, #""type":"ReplicationLagSampled"}"#) || ends($0, #""type":"RowCountSampled"}"#) }
    }

    private static func ends(_ line: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Bool {
        let n = suffix.utf8CodeUnitCount
        return line.count >= n && memcmp(line.baseAddress! + line.count - n, suffix.utf8Start, n) == 0
    }

    /// `ReplicationLagSampled` with a reading: every member known and of its type, the method one
    /// of its names, the sites not blank.
    private static func lag(_ members: [JSONMemberSpan], _ doc: UnsafeBufferPointer<UInt8>) -> DrillSample? {
        var seconds: Double?, source: String?, target: String?
        for m in members {
            let v = m.value
            if m.isNamed("lag_seconds", in: doc) {
                guard let s = JSONValueView.number(in: doc, v), s.isFinite, s >= 0 else { return nil }
                seconds = s
            } else if m.isNamed("source", in: doc) {
                guard let s = nonBlank(doc, v) else { return nil }
                source = s
            } else if m.isNamed("target", in: doc) {
                guard let s = nonBlank(doc, v) else { return nil }
                target = s
            } else if m.isNamed("method", in: doc) {
                guard let s = JSONValueView.plainString(in: doc, v), ReplicationLagSampled.Method(rawValue: s) != nil else { return nil }
            } else if m.isNamed("lag_bytes", in: doc) {
                guard JSONValueView.integer(exactly: JSONValueView.number(in: doc, v)) != nil else { return nil }
            } else if m.isNamed("raw_lag_seconds", in: doc) {
                guard JSONValueView.number(in: doc, v) != nil else { return nil }
            } else if m.isNamed("idle", in: doc) || m.isNamed("replay_paused", in: doc) {
                guard JSONValueView.bool(in: doc, v) != nil else { return nil }
            } else if m.isNamed("server", in: doc) || m.isNamed("error", in: doc) {
                guard doc[v.lowerBound] == UInt8(ascii: "\"") else { return nil }
            } else {
                return nil
            }
        }
        guard let seconds, let source, let target else { return nil }
        return .lag(seconds: seconds, source: source, target: target)
    }

    /// `RowCountSampled`: its three members, the names not blank, the count in range.
    private static func rowCount(_ members: [JSONMemberSpan], _ doc: UnsafeBufferPointer<UInt8>) -> DrillSample? {
        guard members.count == 3 else { return nil }
        var table: String?, site: String?, count: Int?
        for m in members {
            if m.isNamed("table", in: doc) {
                table = nonBlank(doc, m.value)
            } else if m.isNamed("site", in: doc) {
                site = nonBlank(doc, m.value)
            } else if m.isNamed("count", in: doc) {
                count = JSONValueView.integer(exactly: JSONValueView.number(in: doc, m.value)).flatMap { (0...9_007_199_254_740_991).contains($0) ? $0 : nil }
            }
        }
        guard let table, let site, let count else { return nil }
        return .rowCount(table: table, site: site, count: count)
    }

    /// A string that starts with a visible ASCII character (what `Check.nonEmpty` passes without
    /// looking further), with no escape.
    private static func nonBlank(_ doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard range.count > 2, doc[range.lowerBound + 1] > 0x20, doc[range.lowerBound + 1] < 0x7F else { return nil }
        return JSONValueView.plainString(in: doc, range)
    }
}
