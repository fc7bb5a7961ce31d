import Foundation
import Testing
@testable import FailbackLog

/// The scanner (positions, no values) must accept exactly what the parser accepts and refuse the rest
/// with the same error at the same place; the in-place reads must give what the parsed tree holds.
@Suite struct JSONScannerTests {
    /// Objects of every shape the grammar allows: escapes, surrogates, whitespace, nesting, numbers
    /// of each form, names out of order, an escaped name, non-ASCII text.
    static let seeds: [String] = [
        #"{"actor":"ana","drill_id":"d-1","drill_seq":7,"payload":{"lag_seconds":1.5,"source":"dr","target":"primary"},"seq":42,"type":"ReplicationLagSampled"}"#,
        #"{ "b" : [1, -2.5e3, 0, true, false, null, {"x": {}}, []] , "a" : "t\u00e9\"\\\/\b\f\n\r\t\ud83d\ude00" }"#,
        #"{"n":{"deep":[[[{"k":"v"}]]]},"m":-0,"l":123456789012345678,"k":1E+2,"j":0.000001,"i":"\u0061"}"#,
        #"{"p\u0061yload":{"a":1},"z":"ünïcødé ✓","":""}"#,
        "{\n\t\"payload\"\r: { \"b\" :1, \"a\":2 } ,\"q\":[ ]\n}",
        #"{}"#,
        // More members than a look along them is used for: searched by halves.
        #"{"a":1,"b":2.5,"c":"three","d":true,"e":null,"f":[6],"g":{"h":7},"h":-8,"i":"nine","j":false}"#,
    ]

    /// `bytes` broken in the ways inputs break: cut short (every `cutEvery` bytes), and, every `step`
    /// bytes, a byte removed or replaced by one that matters to the grammar.
    static func broken(_ bytes: [UInt8], cutEvery: Int, step: Int) -> [[UInt8]] {
        let specials: [UInt8] = Array("\"\\{}[],:-.eE0 \t\u{1}x".utf8) + [0x80, 0xC3, 0xED]
        var out: [[UInt8]] = []
        for cut in stride(from: 0, to: bytes.count, by: cutEvery) { out.append(Array(bytes[..<cut])) }
        for i in stride(from: 0, to: bytes.count, by: step) {
            var removed = bytes
            removed.remove(at: i)
            out.append(removed)
            var replaced = bytes
            replaced[i] = specials[i % specials.count]
            out.append(replaced)
        }
        return out
    }

    /// Each seed, and each seed broken (`broken`), and members repeated.
    static var corpus: [[UInt8]] {
        var out: [[UInt8]] = []
        for seed in seeds {
            let bytes = Array(seed.utf8)
            out.append(bytes)
            out += broken(bytes, cutEvery: 3, step: 2)
        }
        out.append(Array(#"{"a":1,"b":{"c":1,"c":2},"a":3}"#.utf8))
        out.append(Array(#"{"a":1,"\u0061":2}"#.utf8))
        out.append(Array(#"{"payload":{"c":1,"c":2},"a":[}"#.utf8))
        out.append(Array(#"{"payload":{"b":1,"a":2,"b":3}}"#.utf8))
        out.append(Array(#"{"payload":{"b":1,"a":2},"payload":{}}"#.utf8))
        out.append(Array(#"{"b":1,"a":2,"b":3}"#.utf8))
        out.append(Array(("{\"a\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}").utf8))
        out.append(Array(#"{"a":1e400}"#.utf8))
        out.append(Array(("{\"a\":" + String(repeating: "9", count: 320) + "}").utf8))
        out.append(Array(#"{"a":"\ud800x"}"#.utf8))
        out.append(Array("[1]".utf8))
        out.append(Array(#"{"a":1} {}"#.utf8))
        return out
    }

    @Test func acceptsAndRefusesExactlyAsTheParserDoes() {
        var accepted = 0, refused = 0
        for document in Self.corpus {
            let parsed = Result { () throws(JSONParseError) in try JSONParser.parseObjectMembers(document) }
            let scanned = Result { () throws(JSONParseError) in try JSONScanner.members(ofDocument: document, nestedName: "payload") }
            switch (parsed, scanned) {
            case (.success(let members), .success(let found)):
                accepted += 1
                #expect(found.members.spans.count == members.count, "\(String(decoding: document, as: UTF8.self))")
                for (span, member) in zip(found.members.spans, members) {
                    let name =
                        span.nameIsEscaped
                        ? JSONParser.string(in: document, openingQuoteAt: span.name.lowerBound - 1)
                        : String(decoding: document[span.name], as: UTF8.self)
                    #expect(name == member.key)
                    #expect(JSONParser.value(in: document, at: span.value.lowerBound) == member.value)
                }
            case (.failure(let p), .failure(let s)):
                refused += 1
                #expect(p == s, "\(String(decoding: document, as: UTF8.self))")
            default:
                Issue.record("parser and scanner disagree on \(String(decoding: document, as: UTF8.self)): \(parsed) vs \(scanned)")
            }
        }
        // The corpus exercises both sides.
        #expect(accepted > 20)
        #expect(refused > 100)
    }

    @Test func findsTheNestedObjectsMembersInTheSamePass() throws {
        let document = Array(Self.seeds[0].utf8)
        let found = try JSONScanner.members(ofDocument: document, nestedName: "payload")
        let nested = try #require(found.nested)
        #expect(nested.spans.map { String(decoding: document[$0.name], as: UTF8.self) } == ["lag_seconds", "source", "target"])
        #expect(nested.ascending)
        #expect(found.members.ascending)
        // An escaped name is not searched by halves, and is still found by its text.
        let escaped = try JSONScanner.members(ofDocument: Array(Self.seeds[3].utf8), nestedName: "payload")
        #expect(!escaped.members.ascending)
    }

    @Test func readsInPlaceWhatTheTreeHolds() throws {
        for seed in Self.seeds {
            let value = try JSONParser.parse(seed)
            guard case .object(let members) = value else { continue }
            let document = Array(seed.utf8)
            let view = JSONObjectView(
                document: document, range: 0..<document.count, members: try JSONScanner.members(ofDocument: document).members)
            #expect(view.value == value)
            for (name, member) in members {
                #expect(view[name]?.value == member, "\(name) of \(seed)")
                #expect(view.string(name) == member.stringValue)
                #expect(view.number(name) == member.numberValue)
                #expect(view.integer(name) == member.integerValue)
                #expect(view.bool(name) == member.boolValue)
                #expect(view.has(name) == (member != .null))
                // Optional reads: nil when absent or null, .some(nil) when of another type.
                #expect(view.stringIfPresent(name) == (member == .null ? nil : .some(member.stringValue)))
                #expect(view.integerIfPresent(name) == (member == .null ? nil : .some(member.integerValue)))
                #expect(view.boolIfPresent(name) == (member == .null ? nil : .some(member.boolValue)))
                if case .object = member { #expect(view[name]?.object?.value == member) }
                if case .array(let elements) = member { #expect(view[name]?.elements?.map(\.value) == elements) }
            }
            #expect(view["absent"] == nil)
            #expect(view.string("absent") == nil)
            #expect(!view.has("absent"))
            #expect(view.stringIfPresent("absent") == nil && view.integerIfPresent("absent") == nil && view.boolIfPresent("absent") == nil)
        }
    }

    /// Names are looked up past a filter of their bits (length, first and last byte): every
    /// name of an object is found, whatever its bit, and a name that is not one of them is not,
    /// whether or not it shares a bit with one (escaped names, which have no bit, included).
    @Test func everyMemberIsFoundAndNoOtherName() throws {
        var random = SystemRandomNumberGenerator()
        let letters = Array("abyz_é0".unicodeScalars).map(String.init)
        func name() -> String { (0..<Int.random(in: 0...9, using: &random)).map { _ in letters.randomElement(using: &random)! }.joined() }
        for round in 0..<400 {
            var members: [String: JSONValue] = [:]
            for i in 0..<Int.random(in: 0...12, using: &random) { members[name()] = JSONValue(i) }
            var document = CanonicalJSON.encode(.object(members))
            if round % 4 == 0, let key = members.keys.first(where: { !$0.isEmpty }) {
                // The same object with one name written with an escape (not in RFC 8785's order).
                let written = Array(CanonicalJSON.string(.string(key)).utf8)
                let escaped = Array(("\"\\u" + String(format: "%04x", key.unicodeScalars.first!.value) + String(key.dropFirst()) + "\"").utf8)
                if let at = document.firstRange(of: written + [UInt8(ascii: ":")]) { document.replaceSubrange(at, with: escaped + [UInt8(ascii: ":")]) }
            }
            let view = JSONObjectView(document: document, range: 0..<document.count, members: try JSONScanner.members(ofDocument: document).members)
            for (key, value) in members { #expect(view.integer(key) == value.integerValue, "\(key) in \(String(decoding: document, as: UTF8.self))") }
            for _ in 0..<20 {
                let other = name()
                if members[other] == nil { #expect(view[other] == nil, "\(other) in \(String(decoding: document, as: UTF8.self))") }
            }
        }
    }

    @Test func anEventReadInPlaceEqualsTheEventAsWritten() throws {
        let draft = EventDraft(
            type: "NoteAdded", schemaVersion: 1, drillID: "drill-x", recordedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_123),
            actor: "ana", host: "h", payload: ["text": "a \"quoted\" note ✓", "n": 3, "flags": [true, .null]],
            redactions: [Redaction(pointer: "/payload/text", kind: "token")], idempotencyKey: "k-1")
        let (bytes, payloadStart) = draft.placedBytes(seq: 9, drillSeq: 4)
        let read = try RecordedEvent(canonical: bytes, hash: [1])
        #expect(read.payload == draft.payload)
        #expect(read.payloadView.range.lowerBound == payloadStart)
        #expect(read.redactions == draft.redactions)
        #expect(read.idempotencyKey == "k-1")
        #expect(read.recordedAt == draft.recordedAt)
        #expect((read.seq, read.drillSeq, read.drillID, read.type, read.actor, read.host) == (9, 4, "drill-x", "NoteAdded", "ana", "h"))
        // Read after another event, sharing its strings: the same event.
        var shared = RecordedEvent.SharedValues()
        let other = EventDraft(type: "NoteAdded", schemaVersion: 1, drillID: "drill-x", recordedAt: draft.recordedAt, actor: "bo", host: "h", payload: ["text": "x"])
        _ = try RecordedEvent(canonical: other.canonicalBytes(seq: 8, drillSeq: 3), hash: [0], sharing: &shared)
        #expect(try RecordedEvent(canonical: bytes, hash: [1], sharing: &shared) == read)
    }

    /// Events of a run share the reading of a second: each time read in a run equals the time
    /// read alone, whatever came before it (the same second, the next, an earlier one, before 1970,
    /// a leap second, a time not in the log's own form).
    @Test func timesReadInARunEqualTimesReadAlone() throws {
        let base = Timestamp(millisecondsSinceEpoch: 1_700_000_000_123)
        var times = [0, 1, 876, 877, 1_000, 999, 60_000, -1_700_000_000_123, -1_700_000_000_000, -1_800_000_000_000, -1_800_000_000_001, -1, 86_400_000].map {
            Timestamp(millisecondsSinceEpoch: base.millisecondsSinceEpoch + Int64($0))
        }
        times += times.reversed()
        var envelopes = times.map { at in
            EventDraft(type: "NoteAdded", schemaVersion: 1, drillID: "d", recordedAt: at, actor: "a", host: "h", payload: [:]).canonicalBytes(seq: 1, drillSeq: 1)
        }
        // Written by hand: a leap second, then the same second in another form, then the next.
        let written = envelopes[0]
        let at = written.firstRange(of: Array(times[0].description.utf8))!
        for text in ["2016-12-31T23:59:60.500Z", "2016-12-31T23:59:60.5Z", "2016-12-31T23:59:60.501Z", "2016-12-31T23:59:59.999+00:00", "2017-01-01T00:00:00.000Z"] {
            var bytes = written
            bytes.replaceSubrange(at, with: Array(text.utf8))
            envelopes.append(bytes)
        }
        var shared = RecordedEvent.SharedValues()
        for envelope in envelopes + envelopes.reversed() {
            let alone = try RecordedEvent(canonical: envelope, hash: [0])
            let inRun = try RecordedEvent(canonical: envelope, hash: [0], sharing: &shared)
            #expect(inRun.recordedAt == alone.recordedAt, "\(String(decoding: envelope, as: UTF8.self))")
        }
    }

    /// Strings a run shares, the empty one too: each event read in a run equals the event read alone.
    @Test func stringsReadInARunEqualStringsReadAlone() throws {
        let at = Timestamp(millisecondsSinceEpoch: 1_700_000_000_123)
        let texts = ["", "a", "", "ab", "a\"b", "é", "a", "b", ""]
        var shared = RecordedEvent.SharedValues()
        for (i, text) in (texts + texts.reversed()).enumerated() {
            let bytes = EventDraft(type: "NoteAdded", schemaVersion: 1, drillID: text, recordedAt: at, actor: text, host: "h", payload: [:])
                .canonicalBytes(seq: i + 1, drillSeq: i + 1)
            let inRun = try RecordedEvent(canonical: bytes, hash: [0], sharing: &shared)
            #expect(inRun == (try RecordedEvent(canonical: bytes, hash: [0])))
            #expect((inRun.actor, inRun.drillID) == (text, text))
        }
    }

    /// Envelopes as the log writes them, one of each shape: optional members present and absent,
    /// escapes and non-ASCII text, an empty payload, a nested payload.
    static var envelopes: [[UInt8]] {
        let at = Timestamp(millisecondsSinceEpoch: 1_700_000_000_123)
        let drafts = [
            EventDraft(
                type: "ReplicationLagSampled", schemaVersion: 2, drillID: "drill-1", recordedAt: at, actor: "ana", host: "h",
                payload: ["lag_seconds": 1.5, "source": "dr", "target": "primary"]),
            EventDraft(
                type: "NoteAdded", schemaVersion: 1, drillID: "drill-é", recordedAt: at, actor: "bo \"b\"", host: "h✓",
                payload: ["text": "tab\there", "n": [1, ["k": .null]]], redactions: [Redaction(pointer: "/payload/text", kind: "token")],
                idempotencyKey: "k-1"),
            EventDraft(type: "DrillCompleted", schemaVersion: 1, drillID: "d", recordedAt: at, actor: "a", host: "h", payload: [:]),
        ]
        return drafts.enumerated().map { i, d in d.canonicalBytes(seq: 10 + i, drillSeq: 1 + i) }
    }

    /// The envelope read by its fixed layout must never accept what the general reading refuses, and
    /// where it accepts it must find the same members: it is only a shortcut.
    @Test func theEnvelopeLayoutIsAShortcutToTheSameMembers() throws {
        var shortcuts = 0, declined = 0
        var documents: [[UInt8]] = []
        for envelope in Self.envelopes {
            documents.append(envelope)
            documents += Self.broken(envelope, cutEvery: 1, step: 1)
            for i in 0..<envelope.count {
                // A space anywhere: where JSON allows one, still valid but not the log's layout.
                var spaced = envelope
                spaced.insert(0x20, at: i)
                documents.append(spaced)
            }
        }
        for document in documents {
            var spans = EnvelopeMember.Spans(repeating: nil)
            var payload: JSONScanner.ObjectMembers?
            let general = try? JSONScanner.members(ofDocument: document, nestedName: "payload")
            guard EnvelopeMember.readCanonical(document, into: &spans, payload: &payload) else {
                declined += 1
                continue
            }
            shortcuts += 1
            let found = try #require(general, "the shortcut accepted what the general reading refuses: \(String(decoding: document, as: UTF8.self))")
            var expected = EnvelopeMember.Spans(repeating: nil)
            for span in found.members.spans {
                if let m = EnvelopeMember(named: span, in: document) { expected[m.rawValue] = span.value }
            }
            for m in EnvelopeMember.all { #expect(spans[m.rawValue] == expected[m.rawValue], "\(m) of \(String(decoding: document, as: UTF8.self))") }
            #expect(payload?.spans == found.nested?.spans)
            #expect(payload?.ascending == found.nested?.ascending)
        }
        // Every envelope as written takes the shortcut; most broken ones do not.
        #expect(shortcuts >= Self.envelopes.count)
        #expect(declined > 1000)
        for envelope in Self.envelopes {
            var spans = EnvelopeMember.Spans(repeating: nil)
            var payload: JSONScanner.ObjectMembers?
            #expect(EnvelopeMember.readCanonical(envelope, into: &spans, payload: &payload))
        }
    }

    /// A line read alone (`RecordedEvent.readLine`) must take only what the event's own reading
    /// takes, and read the same envelope from it.
    @Test func aLineReadsAsItsEventReads() throws {
        var documents: [[UInt8]] = []
        for envelope in Self.envelopes {
            documents.append(envelope)
            documents += Self.broken(envelope, cutEvery: 1, step: 1)
            let text = String(decoding: envelope, as: UTF8.self)
            // Valid JSON in the log's layout whose values the envelope refuses.
            for (from, to) in [
                (#""seq":1"#, #""seq":1.5"#), (#""seq":1"#, #""seq":"1""#), (#""recorded_at":"2"#, #""recorded_at":"x2"#),
                (#""type":""#, #""type":7,"x":""#), (#""actor":"#, #""actor":null,"z":"#), (#""drill_seq":"#, #""drill_seq":-"#),
            ] {
                documents.append(Array(text.replacingOccurrences(of: from, with: to).utf8))
            }
        }
        var taken = 0
        for document in documents {
            var shared = RecordedEvent.SharedValues()
            guard let line = RecordedEvent.readLine(document, sharing: &shared) else { continue }
            taken += 1
            let text = String(decoding: document, as: UTF8.self)
            let event = try #require(try? RecordedEvent(canonical: document, hash: []), "read alone, refused as an event: \(text)")
            #expect(
                line
                    == EnvelopeLine(
                        seq: event.seq, drillSeq: event.drillSeq, type: event.type, schemaVersion: event.schemaVersion,
                        recordedAt: event.recordedAt, actor: event.actor, payload: event.payloadView.members), "\(text)")
        }
        for envelope in Self.envelopes {
            var shared = RecordedEvent.SharedValues()
            #expect(RecordedEvent.readLine(envelope, sharing: &shared) != nil)
        }
        #expect(taken >= Self.envelopes.count)
    }
}
