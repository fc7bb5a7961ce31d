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
    public func canonicalBytes(seq: Int, drillSeq: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(canonicalPayload.count + 256)
        func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        }
        out.append(UInt8(ascii: "{"))
        key("actor", first: true); CanonicalJSON.writeString(actor, into: &out)
        key("drill_id"); CanonicalJSON.writeString(drillID, into: &out)
        key("drill_seq"); CanonicalJSON.writeNumber(Double(drillSeq), into: &out)
        key("host"); CanonicalJSON.writeString(host, into: &out)
        if let idempotencyKey { key("idempotency_key"); CanonicalJSON.writeString(idempotencyKey, into: &out) }
        key("payload"); out.append(contentsOf: canonicalPayload)
        key("recorded_at"); CanonicalJSON.writeString(recordedAtText, into: &out)
        if !redactions.isEmpty { key("redactions"); CanonicalJSON.write(.array(redactions.map(\.json)), into: &out) }
        key("schema_version"); CanonicalJSON.writeNumber(Double(schemaVersion), into: &out)
        key("seq"); CanonicalJSON.writeNumber(Double(seq), into: &out)
        key("type"); CanonicalJSON.writeString(type, into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The envelope as a JSON value (the slow, obviously-correct form of `canonicalBytes`).
    public func envelope(seq: Int, drillSeq: Int) -> JSONValue {
        envelopeValue(
            actor: actor, drillID: drillID, drillSeq: drillSeq, host: host, idempotencyKey: idempotencyKey, payload: payload,
            recordedAt: recordedAt, redactions: redactions, schemaVersion: schemaVersion, seq: seq, type: type)
    }
}

/// The event envelope as a JSON value; absent optional members stay absent (never `null`).
func envelopeValue(
    actor: String, drillID: String, drillSeq: Int, host: String, idempotencyKey: String?, payload: JSONValue,
    recordedAt: Timestamp, redactions: [Redaction], schemaVersion: Int, seq: Int, type: String
) -> JSONValue {
    .members([
        "actor": .string(actor),
        "drill_id": .string(drillID),
        "drill_seq": JSONValue(drillSeq),
        "host": .string(host),
        "idempotency_key": idempotencyKey.map(JSONValue.string),
        "payload": payload,
        "recorded_at": .string(recordedAt.description),
        "redactions": redactions.isEmpty ? nil : .array(redactions.map(\.json)),
        "schema_version": JSONValue(schemaVersion),
        "seq": JSONValue(seq),
        "type": .string(type),
    ])
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
    public var payload: JSONValue
    public var redactions: [Redaction]
    public var idempotencyKey: String?
    /// RFC 8785 bytes of the envelope: exactly what was hashed.
    public var canonical: [UInt8]
    /// `SHA-256(previous hash || canonical)`.
    public var hash: [UInt8]

    /// Reads an event back from its canonical bytes, checking that they hold a well-formed envelope.
    public init(canonical: [UInt8], hash: [UInt8]) throws(EnvelopeError) {
        let members: [(key: String, value: JSONValue)]
        do { members = try JSONParser.parseObjectMembers(canonical) } catch { throw EnvelopeError("not a JSON object (\(error))") }
        // Each member visited once (no dictionary: this runs for every event read).
        var seq: Int?, drillSeq: Int?, schemaVersion: Int?
        var drillID: String?, type: String?, recordedAt: String?, actor: String?, host: String?
        var payload: JSONValue?, redactions: JSONValue?, idempotencyKey: String?
        for (key, value) in members {
            switch key {
            case "seq": seq = value.integerValue
            case "drill_seq": drillSeq = value.integerValue
            case "schema_version": schemaVersion = value.integerValue
            case "drill_id": drillID = value.stringValue
            case "type": type = value.stringValue
            case "recorded_at": recordedAt = value.stringValue
            case "actor": actor = value.stringValue
            case "host": host = value.stringValue
            case "payload": payload = value
            case "redactions": redactions = value
            case "idempotency_key": idempotencyKey = value.stringValue
            default: break
            }
        }
        func string(_ k: String, _ v: String?) throws(EnvelopeError) -> String {
            guard let v else { throw EnvelopeError("member \"\(k)\" missing or not a string") }
            return v
        }
        func int(_ k: String, _ v: Int?) throws(EnvelopeError) -> Int {
            guard let v else { throw EnvelopeError("member \"\(k)\" missing or not an integer") }
            return v
        }
        self.seq = try int("seq", seq)
        self.drillSeq = try int("drill_seq", drillSeq)
        self.drillID = try string("drill_id", drillID)
        self.type = try string("type", type)
        self.schemaVersion = try int("schema_version", schemaVersion)
        let at = try string("recorded_at", recordedAt)
        guard let ts = Timestamp(rfc3339: at) else { throw EnvelopeError("recorded_at \"\(at)\" is not RFC 3339") }
        self.recordedAt = ts
        self.actor = try string("actor", actor)
        self.host = try string("host", host)
        guard let payload, case .object = payload else { throw EnvelopeError("member \"payload\" missing or not an object") }
        self.payload = payload
        self.redactions = (redactions?.arrayValue ?? []).compactMap { r in
            guard let p = r["pointer"]?.stringValue, let k = r["kind"]?.stringValue else { return nil }
            return Redaction(pointer: p, kind: k)
        }
        self.idempotencyKey = idempotencyKey
        self.canonical = canonical
        self.hash = hash
    }

    /// The envelope plus its `hash` (hex): one line of `failback log --json`.
    public var jsonWithHash: JSONValue {
        guard case .object(var o) = (try? JSONParser.parse(canonical)) ?? .null else { return .null }
        o["hash"] = .string(hash.hex)
        return .object(o)
    }
}

/// Stored bytes that do not hold a well-formed event envelope.
public struct EnvelopeError: Error, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

