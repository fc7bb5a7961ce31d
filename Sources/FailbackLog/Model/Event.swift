#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A secret that was replaced before the event was written: where it was (a JSON Pointer, RFC 6901,
/// into the envelope, e.g. `/payload/text`) and which rule found it. Never the secret itself.
public struct Redaction: Sendable, Hashable {
    public var pointer: String
    public var kind: String

    public init(pointer: String, kind: String) {
        self.pointer = pointer
        self.kind = kind
    }

    var json: JSONValue { ["kind": .string(kind), "pointer": .string(pointer)] }
}

/// A secret a drill redacted, as the store remembers it (never in clear): its length in bytes, a
/// 16-bit fingerprint of a rolling hash, and a salted SHA-256 (see `LearnedSecrets` in the domain).
/// Kept beside the log, not in any chain.
public struct LearnedSecretRecord: Sendable, Hashable {
    public var length: Int
    public var fingerprint: Int
    public var digest: [UInt8]

    public init(length: Int, fingerprint: Int, digest: [UInt8]) {
        self.length = length
        self.fingerprint = fingerprint
        self.digest = digest
    }
}

/// What an event does to its drill's place in the store's index of drills.
public enum DrillLifecycle: Sendable, Equatable {
    /// An ordinary event of an open drill.
    case continues
    /// The first event of a new drill (`drill_seq` 1).
    case opens
    /// The last event of a drill: nothing may be appended after it.
    case closes
}

/// An event as the domain hands it to the log, before the log gives it its place
/// (global `seq`, `drill_seq`) and its link in the drill's hash chain.
public struct EventDraft: Sendable {
    public var type: String
    public var schemaVersion: Int
    public var drillID: String
    public var recordedAt: Timestamp
    public var actor: String
    public var host: String
    public var payload: JSONValue
    public var redactions: [Redaction]
    public var idempotencyKey: String?
    public var lifecycle: DrillLifecycle
    /// When set, the append is refused (`.conflict`) unless the drill's last event is still this
    /// `drill_seq`: a command checked against the drill's state appends only if that state still holds.
    public var expectedDrillSeq: Int?
    /// Secrets redacted in this event, for the store to remember for its drill (in the same transaction).
    public var learnedSecrets: [LearnedSecretRecord] = []
    /// RFC 8785 bytes of `payload`, computed once, outside the store's write lock.
    public let canonicalPayload: [UInt8]
    /// `recordedAt` as written in the event (RFC 3339, milliseconds, UTC), formatted once.
    public let recordedAtText: String

    public init(
        type: String, schemaVersion: Int, drillID: String, recordedAt: Timestamp, actor: String, host: String,
        payload: JSONValue, redactions: [Redaction] = [], idempotencyKey: String? = nil, lifecycle: DrillLifecycle = .continues
    ) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.drillID = drillID
        self.recordedAt = recordedAt
        self.actor = actor
        self.host = host
        self.payload = payload
        self.redactions = redactions
        self.idempotencyKey = idempotencyKey
        self.lifecycle = lifecycle
        self.canonicalPayload = CanonicalJSON.encode(payload)
        self.recordedAtText = recordedAt.description
    }

    /// The RFC 8785 bytes of the whole event once placed at `seq` / `drillSeq`.
    ///
    /// The envelope's member names are ASCII and fixed, so their canonical order is fixed too:
    /// this writes them in that order around the payload's canonical bytes instead of sorting a
    /// dictionary per event. `CanonicalJSON.encode(envelope(...))` gives the same bytes (tested).
    public func canonicalBytes(seq: Int, drillSeq: Int) -> [UInt8] { placedBytes(seq: seq, drillSeq: drillSeq).bytes }

    /// `canonicalBytes`, and where the payload's bytes begin in them.
    func placedBytes(seq: Int, drillSeq: Int) -> (bytes: [UInt8], payloadStart: Int) {
        var payloadStart = 0
        var out: [UInt8] = []
        out.reserveCapacity(canonicalPayload.count + 256)
        out.append(UInt8(ascii: "{"))
        // The members in the layout `EnvelopeMember` defines (their canonical order), each key with
        // its comma; an absent optional member is left out. The first member is never optional.
        for member in EnvelopeMember.all {
            switch member {
            case .idempotencyKey where idempotencyKey == nil, .redactions where redactions.isEmpty: continue
            default: break
            }
            let key = member.key
            out.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            switch member {
            case .actor: CanonicalJSON.writeString(actor, into: &out)
            case .drillID: CanonicalJSON.writeString(drillID, into: &out)
            case .drillSeq: CanonicalJSON.writeNumber(Double(drillSeq), into: &out)
            case .host: CanonicalJSON.writeString(host, into: &out)
            case .idempotencyKey: CanonicalJSON.writeString(idempotencyKey ?? "", into: &out)
            case .payload:
                payloadStart = out.count
                out.append(contentsOf: canonicalPayload)
            case .recordedAt: CanonicalJSON.writeString(recordedAtText, into: &out)
            case .redactions: CanonicalJSON.write(.array(redactions.map(\.json)), into: &out)
            case .schemaVersion: CanonicalJSON.writeNumber(Double(schemaVersion), into: &out)
            case .seq: CanonicalJSON.writeNumber(Double(seq), into: &out)
            case .type: CanonicalJSON.writeString(type, into: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
        return (out, payloadStart)
    }

    /// The envelope as a JSON value (the slow, obviously-correct form of `canonicalBytes`).
    public func envelope(seq: Int, drillSeq: Int) -> JSONValue {
        envelopeValue(
            actor: actor, drillID: drillID, drillSeq: drillSeq, host: host, idempotencyKey: idempotencyKey, payload: payload,
            recordedAt: recordedAt, redactions: redactions, schemaVersion: schemaVersion, seq: seq, type: type)
    }
}

/// The event envelope as a JSON value (members named by `EnvelopeMember`); absent optional members
/// stay absent (never `null`).
func envelopeValue(
    actor: String, drillID: String, drillSeq: Int, host: String, idempotencyKey: String?, payload: JSONValue,
    recordedAt: Timestamp, redactions: [Redaction], schemaVersion: Int, seq: Int, type: String
) -> JSONValue {
    var members: [String: JSONValue] = [:]
    for member in EnvelopeMember.all {
        let value: JSONValue? =
            switch member {
            case .actor: .string(actor)
            case .drillID: .string(drillID)
            case .drillSeq: JSONValue(drillSeq)
            case .host: .string(host)
            case .idempotencyKey: idempotencyKey.map(JSONValue.string)
            case .payload: payload
            case .recordedAt: .string(recordedAt.description)
            case .redactions: redactions.isEmpty ? nil : .array(redactions.map(\.json))
            case .schemaVersion: JSONValue(schemaVersion)
            case .seq: JSONValue(seq)
            case .type: .string(type)
            }
        if let value { members[member.nameString] = value }
    }
    return .object(members)
}

/// An event as stored: its canonical bytes (the source of truth), its chain hash, and the envelope
/// fields read back from those bytes.
public struct RecordedEvent: Sendable, Equatable {
    public var seq: Int
    public var drillSeq: Int
    public var drillID: String
    public var type: String
    public var schemaVersion: Int
    public var recordedAt: Timestamp
    public var actor: String
    public var host: String
    /// The payload object, read in place from `canonical`: typed readers decode only what they ask for.
    public var payloadView: JSONObjectView
    public var redactions: [Redaction]
    public var idempotencyKey: String?
    /// RFC 8785 bytes of the envelope: exactly what was hashed.
    public var canonical: [UInt8]
    /// `SHA-256(previous hash || canonical)`.
    public var hash: [UInt8]

    /// The payload as a tree of values (parsed from `canonical` on each use).
    public var payload: JSONValue { payloadView.value }

    /// Reads an event back from its canonical bytes, checking that they hold a well-formed envelope.
    ///
    /// The bytes are validated whole (the same rules as `JSONParser`), then only the envelope's own
    /// members are decoded; the payload stays in place until a reader asks for its members.
    public init(canonical: [UInt8], hash: [UInt8]) throws(EnvelopeError) {
        var shared = SharedValues()
        try self.init(canonical: canonical, hash: hash, sharing: &shared)
    }

    /// Envelope values a run of events shares: a drill's id, its types, actors and hosts repeat
    /// from event to event, and are made once (up to `capacity` distinct strings), then shared;
    /// events recorded in the same second share the reading of that second.
    public struct SharedValues {
        private var known: [String] = []
        /// Each known string's UTF-8, compared with a candidate's bytes.
        private var knownBytes: [[UInt8]] = []
        private static let capacity = 64
        /// The last time read as the log writes times (`YYYY-MM-DDTHH:MM:SS.mmmZ`): its first 20
        /// bytes (to the second and the point, as three words), and that second in milliseconds.
        private var second: (text: (UInt64, UInt64, UInt32), milliseconds: Int64)?
        public init() {}

        /// The time in the string value at `range` of `document` (`doc` is its bytes); nil when it
        /// is not a string or not an RFC 3339 time.
        mutating func timestamp(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, of document: [UInt8]) -> Timestamp? {
            // The log's own form: 24 bytes between the quotes, milliseconds and Z at the end.
            let start = range.lowerBound + 1
            guard range.count == 26, doc[range.lowerBound] == UInt8(ascii: "\""), doc[start + 19] == UInt8(ascii: "."),
                doc[start + 23] == UInt8(ascii: "Z")
            else { return Timestamp(jsonString: doc, range, of: document) }
            let d0 = doc[start + 20] &- 0x30, d1 = doc[start + 21] &- 0x30, d2 = doc[start + 22] &- 0x30
            let p = UnsafeRawPointer(doc.baseAddress! + start)
            let text = (p.loadUnaligned(as: UInt64.self), p.loadUnaligned(fromByteOffset: 8, as: UInt64.self), p.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            if let second, second.text == text, d0 <= 9, d1 <= 9, d2 <= 9 {
                return Timestamp(millisecondsSinceEpoch: second.milliseconds + Int64(d0) * 100 + Int64(d1) * 10 + Int64(d2))
            }
            guard let time = Timestamp(jsonString: doc, range, of: document) else { return nil }
            let ms = time.millisecondsSinceEpoch
            second = (text, ms - (ms % 1000 + 1000) % 1000)
            return time
        }

        /// The text of the string value at `range` of `document` (`doc` is its bytes), shared when
        /// already known; nil when the value is not a string.
        mutating func string(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, of document: [UInt8]) -> String? {
            guard range.count >= 2, doc[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
            let start = doc.baseAddress! + range.lowerBound + 1, count = range.count - 2
            if count == 0 { return "" }
            for i in knownBytes.indices where knownBytes[i].count == count {
                if knownBytes[i].withUnsafeBufferPointer({ bytesEqual($0.baseAddress!, start, count) }) { return known[i] }
            }
            guard let made = JSONValueView.string(in: doc, range, of: document) else { return nil }
            // Text written with escapes is not kept: its bytes are not its text.
            if known.count < Self.capacity && memchr(start, Int32(UInt8(ascii: "\\")), count) == nil {
                known.append(made)
                knownBytes.append(Array(UnsafeBufferPointer(start: start, count: count)))
            }
            return made
        }
    }

    /// `init(canonical:hash:)` for one of a run of events, sharing envelope values with the
    /// events read before it (`SharedValues`).
    @inline(__always)
    public init(canonical: [UInt8], hash: [UInt8], sharing shared: inout SharedValues) throws(EnvelopeError) {
        // Constants, not variables: the reads below capture them, and a captured variable is boxed
        // and checked for exclusive access at run time on every use.
        let (spans, nested) = try EnvelopeMember.locate(in: canonical)
        (seq, drillSeq, drillID, type, schemaVersion, recordedAt, actor, host) = try Self.envelopeValues(of: canonical, at: spans, sharing: &shared)
        func value(_ m: EnvelopeMember) -> JSONValueView? { spans[m.rawValue].map { JSONValueView(document: canonical, range: $0) } }
        let payload = value(.payload)
        guard let payload, let object = nested.map({ JSONObjectView(document: canonical, range: payload.range, members: $0) }) ?? payload.object else {
            throw EnvelopeError("member \"payload\" missing or not an object")
        }
        self.payloadView = object
        self.redactions =
            spans[EnvelopeMember.redactions.rawValue] == nil
            ? []
            : (value(.redactions)?.elements ?? []).compactMap { r in
                guard let o = r.object, let p = o["pointer"]?.string, let k = o["kind"]?.string else { return nil }
                return Redaction(pointer: p, kind: k)
            }
        self.idempotencyKey = spans[EnvelopeMember.idempotencyKey.rawValue] == nil ? nil : value(.idempotencyKey)?.string
        self.canonical = canonical
        self.hash = hash
    }

    /// The envelope's own values, read from the bytes where they lie (`spans`: where each member's
    /// value is). The first fault found is the one named.
    @inline(__always)
    static func envelopeValues(of canonical: [UInt8], at spans: EnvelopeMember.Spans, sharing shared: inout SharedValues) throws(EnvelopeError)
        -> (seq: Int, drillSeq: Int, drillID: String, type: String, schemaVersion: Int, recordedAt: Timestamp, actor: String, host: String)
    {
        try canonical.withUnsafeBufferPointer { (doc) throws(EnvelopeError) in
            func string(_ m: EnvelopeMember) throws(EnvelopeError) -> String {
                guard let range = spans[m.rawValue], let s = shared.string(in: doc, range, of: canonical) else {
                    throw EnvelopeError("member \"\(m.name)\" missing or not a string")
                }
                return s
            }
            func int(_ m: EnvelopeMember) throws(EnvelopeError) -> Int {
                guard let range = spans[m.rawValue], let v = JSONValueView.integer(exactly: JSONValueView.number(in: doc, range)) else {
                    throw EnvelopeError("member \"\(m.name)\" missing or not an integer")
                }
                return v
            }
            // (In this order: the first fault found is the one named.)
            let (seq, drillSeq, drillID, type, schemaVersion) = (try int(.seq), try int(.drillSeq), try string(.drillID), try string(.type), try int(.schemaVersion))
            let at = spans[EnvelopeMember.recordedAt.rawValue]
            guard let at, let recordedAt = shared.timestamp(in: doc, at, of: canonical) else {
                guard let at, let text = JSONValueView.string(in: doc, at, of: canonical) else { throw EnvelopeError("member \"recorded_at\" missing or not a string") }
                throw EnvelopeError("recorded_at \(text.debugDescription) is not RFC 3339")
            }
            return (seq, drillSeq, drillID, type, schemaVersion, recordedAt, try string(.actor), try string(.host))
        }
    }

    /// An event line in the log's own layout (`EnvelopeMember.readCanonical`), read without making
    /// a `RecordedEvent`: the envelope's values by the same reads as `init(canonical:hash:)`, and
    /// where the payload's members are. Nil for anything else (another layout, a value the envelope
    /// refuses): the general reading then reads it, or names its fault. For folds over millions
    /// of events, with one `line` buffer refilled for each.
    public static func readLine(_ line: [UInt8], sharing shared: inout SharedValues) -> EnvelopeLine? {
        var spans = EnvelopeMember.Spans(repeating: nil)
        var payload: JSONScanner.ObjectMembers?
        guard EnvelopeMember.readCanonical(line, into: &spans, payload: &payload), let payload,
            let v = try? envelopeValues(of: line, at: spans, sharing: &shared)
        else { return nil }
        return EnvelopeLine(seq: v.seq, drillSeq: v.drillSeq, type: v.type, schemaVersion: v.schemaVersion, recordedAt: v.recordedAt, actor: v.actor, payload: payload.spans)
    }

    /// The envelope plus its `hash` (hex): one line of `failback log --json`.
    public var jsonWithHash: JSONValue {
        guard case .object(var o) = (try? JSONParser.parse(canonical)) ?? .null else { return .null }
        o["hash"] = .string(hash.hex)
        return .object(o)
    }
}

/// An event line's envelope as `RecordedEvent.readLine` reads it: no payload view, no bytes kept.
public struct EnvelopeLine: Sendable, Equatable {
    public var seq: Int
    public var drillSeq: Int
    public var type: String
    public var schemaVersion: Int
    public var recordedAt: Timestamp
    public var actor: String
    /// The payload's members, in name order (the log's layout), as positions in the line.
    public var payload: [JSONMemberSpan]
}

/// Stored bytes that do not hold a well-formed event envelope.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The members of an event envelope, found by their names' bytes.
enum EnvelopeMember: Int, CaseIterable {
    case actor, drillID, drillSeq, host, idempotencyKey, payload, recordedAt, redactions, schemaVersion, seq, type

    /// Made once (`allCases` makes a new array each time it is asked).
    static let all = allCases

    var name: StaticString {
        switch self {
        case .actor: "actor"
        case .drillID: "drill_id"
        case .drillSeq: "drill_seq"
        case .host: "host"
        case .idempotencyKey: "idempotency_key"
        case .payload: "payload"
        case .recordedAt: "recorded_at"
        case .redactions: "redactions"
        case .schemaVersion: "schema_version"
        case .seq: "seq"
        case .type: "type"
        }
    }

    /// Where each member's value is, by `rawValue`.
    typealias Spans = InlineArray<11, Range<Int>?>

    /// The member's name as `EventDraft.canonicalBytes` writes it: quoted, with the comma before it
    /// (but the first) and the colon after.
    var key: StaticString {
        switch self {
        case .actor: #""actor":"#
        case .drillID: #","drill_id":"#
        case .drillSeq: #","drill_seq":"#
        case .host: #","host":"#
        case .idempotencyKey: #","idempotency_key":"#
        case .payload: #","payload":"#
        case .recordedAt: #","recorded_at":"#
        case .redactions: #","redactions":"#
        case .schemaVersion: #","schema_version":"#
        case .seq: #","seq":"#
        case .type: #","type":"#
        }
    }

    var isOptional: Bool { self == .idempotencyKey || self == .redactions }

    /// `name` as a String.
    var nameString: String { String(decoding: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount), as: UTF8.self) }

    /// Where each envelope member's value is in `document` (no value views made: they would retain
    /// the bytes), and the payload's members.
    static func locate(in document: [UInt8]) throws(EnvelopeError) -> (Spans, JSONScanner.ObjectMembers?) {
        var spans = Spans(repeating: nil)
        var nested: JSONScanner.ObjectMembers?
        if readCanonical(document, into: &spans, payload: &nested) { return (spans, nested) }
        // Not in the log's own layout (or not valid): read by the general rules, which name the fault.
        let found: JSONScanner.DocumentMembers
        do { found = try JSONScanner.members(ofDocument: document, nestedName: "payload") } catch { throw EnvelopeError("not a JSON object (\(error))") }
        spans = Spans(repeating: nil)
        for span in found.members.spans {
            if let m = EnvelopeMember(named: span, in: document) { spans[m.rawValue] = span.value }
        }
        return (spans, found.nested)
    }

    /// Reads an envelope in the one layout the log writes (RFC 8785: no space, members in name
    /// order, the optional ones left out when absent), checking every value by the parser's rules
    /// and the payload's members too. False for anything else, valid or not: the general reading
    /// then takes over, so both accept and refuse the same bytes (tested side by side).
    static func readCanonical(_ document: [UInt8], into spans: inout Spans, payload: inout JSONScanner.ObjectMembers?) -> Bool {
        document.withUnsafeBufferPointer { buffer in
            let utf8 = checkUTF8(buffer)
            guard utf8.invalidAt == nil else { return false }
            var scanner = JSONScanner(buffer, at: 0, asciiDocument: utf8.isASCII)
            guard scanner.skip(ifNext: "{") else { return false }
            do throws(JSONParseError) {
                for member in all {
                    guard scanner.skip(ifNext: member.key) else {
                        if member.isOptional { continue }
                        return false
                    }
                    let start = scanner.index
                    if member == .payload {
                        guard scanner.peek() == UInt8(ascii: "{") else { return false }
                        payload = try scanner.recordObject()
                    } else {
                        try scanner.skipValue()
                    }
                    spans[member.rawValue] = start..<scanner.index
                }
            } catch {
                return false
            }
            return scanner.skip(ifNext: "}") && scanner.isAtEnd
        }
    }

    /// The member a span names, or nil for a name the envelope does not have.
    init?(named span: JSONMemberSpan, in document: [UInt8]) {
        if span.nameIsEscaped {
            guard let text = JSONParser.string(in: document, openingQuoteAt: span.name.lowerBound - 1),
                let m = Self.all.first(where: { $0.name.description == text })
            else { return nil }
            self = m
            return
        }
        let found = document.withUnsafeBufferPointer { doc in
            Self.all.first {
                $0.name.utf8CodeUnitCount == span.name.count
                    && bytesEqual(doc.baseAddress! + span.name.lowerBound, $0.name.utf8Start, span.name.count)
            }
        }
        guard let found else { return nil }
        self = found
    }
}
