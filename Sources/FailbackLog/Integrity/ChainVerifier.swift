#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of recomputing a chain: intact, or the first place it breaks and why.
public struct VerificationReport: Sendable, Equatable {
    /// Why a chain is not intact.
    public enum Problem: Sendable, Equatable {
        /// The stored hash is not SHA-256(previous hash || canonical bytes): bytes were changed.
        case hashMismatch
        /// The stored leaf hash is not SHA-256(0x00 || canonical bytes) (RFC 9162): it was changed,
        /// and a bundle exported from it would have a Merkle root its events do not give.
        case leafHashMismatch
        /// The next event of the drill is not the one expected: an event is missing or out of place.
        case sequenceBreak(expectedDrillSeq: Int, found: Int)
        /// The canonical bytes disagree with the row that holds them (seq, drill id or drill_seq).
        case misplaced(String)
        /// The stored bytes do not parse as an event envelope.
        case malformed(String)
        /// The bytes parse but are not in RFC 8785 canonical form.
        case notCanonical
        /// The chain ends before the drill's recorded head: trailing events are missing
        /// (the drill's index says its last event was global `seq` `recordedHeadSeq`).
        case truncated(recordedCount: Int, found: Int, recordedHeadSeq: Int)
        /// The drill's recorded head hash differs from the recomputed one.
        case headMismatch
        /// The drill's index records another total size of its events' bytes than they have.
        case sizeMismatch(recorded: Int, found: Int)
        /// A global sequence number is missing.
        case globalGap(expected: Int, found: Int)
        /// The store holds more events of the drill than its index counts (a rewound head).
        case beyondHead(recordedCount: Int, found: Int)
        /// The drill's closing event is not its last, or the index's `closed_seq` disagrees with it
        /// (a reopened drill).
        case lifecycle(String)
        /// A row's column (`type`, `recorded_at`, `idempotency_key`, `drill_id`, `drill_seq`)
        /// differs from the member of its canonical bytes.
        case columnMismatch(String)
        /// An event belongs to a drill the index does not list (its index row was deleted).
        case unindexedDrill(String)
        /// The drill's index says it started at another seq or time than its first event says.
        case startMismatch(String)
        /// The store's own record of its last `seq` (PostgreSQL's `failback.log` row) is not the
        /// last event's: the next append would leave a gap or collide.
        case lastSeqMismatch(recorded: Int, found: Int)
    }

    public var drillID: String?
    /// Events checked.
    public var checked: Int
    /// The recomputed hash of the last event (the chain head), when intact.
    public var head: [UInt8]?
    /// The first problem, with the global `seq` it was found at (nil when intact).
    public var problem: Problem?
    public var badSeq: Int?
    public var badDrillSeq: Int?

    public var isIntact: Bool { problem == nil }

    /// The result as JSON (`failback verify --json`).
    public var json: JSONValue {
        .members([
            "drill_id": drillID.map(JSONValue.string), "intact": .bool(isIntact), "checked": JSONValue(checked),
            "head": head.map { .string($0.hex) }, "bad_seq": badSeq.map { JSONValue($0) }, "bad_drill_seq": badDrillSeq.map { JSONValue($0) },
            "summary": .string(summary),
        ])
    }

    /// One line for a person: the subject (the drill, or the store), then `finding`.
    public var summary: String { (drillID.map { "drill \($0)" } ?? "store") + ": " + finding }

    /// What was found, without its subject: "chain intact, N events…", or "chain BROKEN at …: why".
    public var finding: String {
        guard let problem else {
            if drillID == nil { return "\(checked) events, global sequence gapless, every row matches its bytes and belongs to an indexed drill" }
            return "chain intact, \(checked) events" + (head.map { ", head \($0.hex)" } ?? "")
        }
        let at = badSeq.map { "seq \($0)" + (badDrillSeq.map { " (drill event #\($0))" } ?? "") } ?? "end of chain"
        let why: String
        switch problem {
        case .hashMismatch: why = "stored hash does not match SHA-256(previous hash || canonical bytes): the event was altered"
        case .leafHashMismatch: why = "stored leaf hash does not match SHA-256(0x00 || canonical bytes): the leaf hash was altered"
        case .sequenceBreak(let expected, let found):
            why =
                found > expected
                ? "expected drill event #\(expected) but found #\(found): event(s) missing"
                : "expected drill event #\(expected) but found #\(found): events out of order or duplicated"
        case .misplaced(let what): why = "event bytes do not match their row: \(what)"
        case .malformed(let what): why = "stored bytes are not an event: \(what)"
        case .notCanonical: why = "stored bytes are not in RFC 8785 canonical form"
        case .truncated(let recorded, let found, let headSeq):
            let missing = found + 1 == recorded ? "drill event #\(recorded)" : "drill events #\(found + 1)–#\(recorded)"
            why = "the drill's index records \(recorded) events ending at seq \(headSeq) but the chain has \(found): \(missing) missing"
        case .headMismatch: why = "drill index head hash differs from the recomputed chain head"
        case .sizeMismatch(let recorded, let found):
            why = "the drill's index records \(recorded) bytes of events but they hold \(found) (an export would write a wrong events.jsonl size)"
        case .globalGap(let expected, let found): why = "global sequence jumps from \(expected - 1) to \(found): event(s) missing"
        case .beyondHead(let recorded, let found):
            why = "the drill's index records \(recorded) events but the store holds its event #\(found): the index was rewound"
        case .lifecycle(let what): why = what
        case .columnMismatch(let what): why = "a column differs from the event's bytes: \(what)"
        case .unindexedDrill(let drill): why = "the event belongs to drill \(drill), which the store's index does not list (its index row was deleted)"
        case .startMismatch(let what): why = "the drill's index differs from its first event: \(what)"
        case .lastSeqMismatch(let recorded, let found): why = "the store records its last seq as \(recorded) but its last event is seq \(found)"
        }
        return "chain BROKEN at \(at): \(why)"
    }
}

/// Recomputes a drill's chain from stored rows, in order, and stops at the first problem.
/// Store implementations feed it rows; it holds the rules (see docs/log-format.md, "Verifying").
///
/// Every event gets the hash link, a check that its bytes say the seq, drill and drill_seq of the
/// row holding them (read by a scan of the envelope's top level, the payload skipped unparsed), and
/// a one-pass check of its RFC 8785 form (`CanonicalJSON.isCanonical`). With `deep`, each event is
/// instead fully parsed as an envelope and written again (the reference way: the same verdict on
/// the form, and the envelope's members each of their type).
public struct ChainVerifier {
    public let drillID: String
    public let deep: Bool
    /// Event types that close a drill (the domain's: `DrillCompleted`): one must be the last event.
    public let closingTypes: Set<String>
    private let closingTypeBytes: [[UInt8]]
    /// The global `seq` of the closing event met, if any.
    private var closedAt: Int?
    private let drillIDBytes: [UInt8]
    private var previous = HashChain.genesis
    private let hasher = SHA256Hasher()
    private var expectedDrillSeq = 1
    private var lastSeq = 0
    private var canonicalBytes = 0
    /// Where the first event says the drill started.
    private var started: (seq: Int, at: Timestamp)?
    public private(set) var report: VerificationReport

    public init(drillID: String, deep: Bool = false, closingTypes: Set<String> = []) {
        self.drillID = drillID
        self.deep = deep
        self.closingTypes = closingTypes
        self.closingTypeBytes = closingTypes.map { Array($0.utf8) }
        self.drillIDBytes = Array(drillID.utf8)
        self.report = VerificationReport(drillID: drillID, checked: 0, head: nil, problem: nil)
    }

    /// Feeds the next stored row. Returns false once a problem has been found (stop feeding).
    public mutating func feed(seq: Int, drillSeq: Int, drillIDColumn: String, canonical: [UInt8], storedHash: [UInt8], storedLeafHash: [UInt8]? = nil) -> Bool {
        canonical.withUnsafeBytes { c in
            storedHash.withUnsafeBytes { h in
                func feed(_ l: UnsafeRawBufferPointer?) -> Bool {
                    self.feed(seq: seq, drillSeq: drillSeq, drillIDColumnMatches: drillIDColumn == drillID, canonical: c, storedHash: h, storedLeafHash: l)
                }
                return storedLeafHash.map { $0.withUnsafeBytes(feed) } ?? feed(nil)
            }
        }
    }

    /// Feeds a row as a reader of the store gets it (`forEachStoredEvent`), filed under this drill,
    /// at `drillSeq`: how an export or a proof checks what it reads.
    public mutating func feed(_ row: StoredEvent, drillSeq: Int) -> Bool {
        feed(seq: row.seq, drillSeq: drillSeq, drillIDColumnMatches: true, canonical: row.canonical, storedHash: row.hash, storedLeafHash: row.leafHash)
    }

    /// Feeds the next stored row from buffers owned by the caller (no copy). `storedLeafHash` is
    /// nil for a row stored without one (before format 3).
    public mutating func feed(
        seq: Int, drillSeq: Int, drillIDColumnMatches: Bool, canonical: UnsafeRawBufferPointer, storedHash: UnsafeRawBufferPointer,
        storedLeafHash: UnsafeRawBufferPointer?
    ) -> Bool {
        guard report.problem == nil else { return false }
        func fail(_ p: VerificationReport.Problem, drillSeq: Int? = nil) -> Bool {
            report.problem = p
            report.badSeq = seq
            report.badDrillSeq = drillSeq
            return false
        }
        // Where the bytes say the event belongs: scanned, or (for bytes of an unusual shape) parsed.
        func equal(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Bool {
            a.withUnsafeBytes { mine in mine.count == b.count && (mine.isEmpty || memcmp(mine.baseAddress!, b.baseAddress!, mine.count) == 0) }
        }
        let place: (seq: Int, drillSeq: Int, drillIDMatches: Bool, closes: Bool)
        if let scanned = EnvelopePlace(scanning: canonical) {
            place = (scanned.seq, scanned.drillSeq, equal(drillIDBytes, scanned.drillID), closingTypeBytes.contains { equal($0, scanned.type) })
        } else {
            do {
                let event = try RecordedEvent(canonical: Array(canonical), hash: [])
                place = (event.seq, event.drillSeq, event.drillID == drillID, closingTypes.contains(event.type))
            } catch {
                return fail(.malformed(error.description))
            }
        }
        if let closedAt {
            return fail(.lifecycle("the drill was closed by its event at seq \(closedAt), yet an event follows it"), drillSeq: place.drillSeq)
        }
        if place.drillSeq != expectedDrillSeq {
            return fail(.sequenceBreak(expectedDrillSeq: expectedDrillSeq, found: place.drillSeq), drillSeq: place.drillSeq)
        }
        hasher.update(previous)
        hasher.update(canonical)
        guard hasher.finalize(equals: storedHash) else { return fail(.hashMismatch, drillSeq: drillSeq) }
        if let storedLeafHash {
            var prefix: UInt8 = 0
            withUnsafeBytes(of: &prefix) { hasher.update($0) }
            hasher.update(canonical)
            guard hasher.finalize(equals: storedLeafHash) else { return fail(.leafHashMismatch, drillSeq: drillSeq) }
        }
        if place.seq != seq { return fail(.misplaced("bytes say seq \(place.seq), row is seq \(seq)"), drillSeq: drillSeq) }
        if !drillIDColumnMatches || !place.drillIDMatches {
            return fail(.misplaced("the bytes name another drill than the row is filed under"), drillSeq: drillSeq)
        }
        if drillSeq != place.drillSeq { return fail(.misplaced("bytes say drill event #\(place.drillSeq), row says #\(drillSeq)"), drillSeq: drillSeq) }
        if seq <= lastSeq { return fail(.misplaced("seq \(seq) does not follow \(lastSeq)"), drillSeq: drillSeq) }
        // The envelope's members (one rule for both ways: the same verdict and the same words),
        // then the form: checked in the same pass, or (`deep`) the reference way.
        let form = CanonicalJSON.envelopeProblem(canonical)
        if case .envelope(let what)? = form { return fail(.malformed("envelope: \(what)"), drillSeq: drillSeq) }
        if deep {
            let bytes = Array(canonical)
            let event: RecordedEvent
            do { event = try RecordedEvent(canonical: bytes, hash: Array(storedHash)) } catch { return fail(.malformed(error.description), drillSeq: drillSeq) }
            if CanonicalJSON.encode(event.envelopeValue) != bytes { return fail(.notCanonical, drillSeq: drillSeq) }
        } else if form != nil {
            return fail(.notCanonical, drillSeq: drillSeq)
        }
        if expectedDrillSeq == 1 {
            // The index's start is read from the first event: parsed once.
            guard let first = try? RecordedEvent(canonical: Array(canonical), hash: []) else {
                return fail(.malformed("the drill's first event is not readable"), drillSeq: drillSeq)
            }
            started = (seq, first.recordedAt)
        }
        previous.withUnsafeMutableBytes { $0.copyMemory(from: storedHash) }  // equal to the recomputed link, 32 bytes
        if place.closes { closedAt = seq }
        lastSeq = seq
        canonicalBytes += canonical.count
        expectedDrillSeq += 1
        report.checked += 1
        return true
    }

    /// Ends the walk: checks the recomputed head (and, when the index keeps it, the total size of the
    /// events' bytes) against the drill's index entry.
    /// `storedCount` is the highest `drill_seq` the store holds for the drill (read apart from the
    /// walk, which ends at the recorded head): above the index's count means a rewound head.
    /// `recordedClosedSeq` is the index's `closed_seq` (checked against the closing event when
    /// `closingTypes` were given).
    /// `recordedStart` is the index's `started_seq` and `started_at`, checked against the first event.
    public mutating func finish(
        recordedCount: Int, recordedHeadSeq: Int, recordedHeadHash: [UInt8], recordedCanonicalBytes: Int? = nil, recordedClosedSeq: Int? = nil,
        storedCount: Int? = nil, recordedStart: (seq: Int, at: Timestamp)? = nil
    ) -> VerificationReport {
        guard report.problem == nil else { return report }
        if let recordedStart, let started, recordedStart.seq != started.seq || recordedStart.at != started.at {
            report.problem = .startMismatch(
                recordedStart.seq != started.seq
                    ? "started_seq \(recordedStart.seq), the first event is seq \(started.seq)"
                    : "started_at \(recordedStart.at), the first event was recorded at \(started.at)")
            report.badSeq = started.seq
            report.badDrillSeq = 1
            return report
        }
        if let storedCount, storedCount > recordedCount, report.checked == recordedCount {
            report.problem = .beyondHead(recordedCount: recordedCount, found: storedCount)
            report.badSeq = nil
            report.badDrillSeq = recordedCount + 1
            return report
        }
        if !closingTypes.isEmpty, report.checked == recordedCount, closedAt != recordedClosedSeq {
            report.problem = .lifecycle(
                closedAt.map { at in
                    recordedClosedSeq == nil
                        ? "the drill was closed by its event at seq \(at) but its index says it is open (a reopened drill)"
                        : "the drill was closed by its event at seq \(at) but its index says seq \(recordedClosedSeq!)"
                } ?? "the drill's index says it was closed at seq \(recordedClosedSeq ?? 0) but no event closes it")
            report.badSeq = closedAt ?? recordedClosedSeq
            report.badDrillSeq = nil
            return report
        }
        if report.checked != recordedCount {
            report.problem = .truncated(recordedCount: recordedCount, found: report.checked, recordedHeadSeq: recordedHeadSeq)
            // The first missing event's seq is known when only the last one is missing.
            report.badSeq = report.checked + 1 == recordedCount ? recordedHeadSeq : nil
            report.badDrillSeq = report.checked + 1
            return report
        }
        if previous != recordedHeadHash {
            report.problem = .headMismatch
            report.badSeq = lastSeq
            report.badDrillSeq = report.checked
            return report
        }
        if let recorded = recordedCanonicalBytes, recorded != canonicalBytes {
            report.problem = .sizeMismatch(recorded: recorded, found: canonicalBytes)
            report.badSeq = nil
            report.badDrillSeq = nil
            return report
        }
        report.head = previous
        return report
    }
}

extension RecordedEvent {
    /// The envelope as a JSON value, rebuilt from the fields (used to check canonical form).
    var envelopeValue: JSONValue {
        FailbackLog.envelopeValue(
            actor: actor, drillID: drillID, drillSeq: drillSeq, host: host, idempotencyKey: idempotencyKey, payload: payload,
            recordedAt: recordedAt, redactions: redactions, schemaVersion: schemaVersion, seq: seq, type: type)
    }
}

/// Where an event's bytes say it belongs (`seq`, `drill_seq`, `drill_id`), read by one pass over the
/// top level of the envelope object; nested values (the payload) are skipped, not parsed. Nil when the
/// bytes are not an object of that shape (or use escapes in those members: then the full parser decides).
struct EnvelopePlace {
    var seq: Int
    var drillSeq: Int
    var drillID: UnsafeRawBufferPointer
    /// The `type` member's text (empty when the forward scan found it escaped: never a type name).
    var type: UnsafeRawBufferPointer

    init?(scanning b: UnsafeRawBufferPointer) {
        if let quick = Self.fromEnds(b) { self = quick; return }
        var i = 0
        let n = b.count
        var seq: Int?, drillSeq: Int?, drillID: UnsafeRawBufferPointer?, type = UnsafeRawBufferPointer(start: nil, count: 0)
        guard n > 1, b[0] == UInt8(ascii: "{") else { return nil }
        i = 1
        while i < n {
            // key
            guard b[i] == UInt8(ascii: "\"") else { return nil }
            let keyStart = i + 1
            var j = keyStart
            while j < n, b[j] != UInt8(ascii: "\""), b[j] != UInt8(ascii: "\\") { j += 1 }
            guard j < n, b[j] == UInt8(ascii: "\""), j + 1 < n, b[j + 1] == UInt8(ascii: ":") else { return nil }
            // The members looked for, by the names `EnvelopeMember` gives them.
            let key = UnsafeRawBufferPointer(rebasing: b[keyStart..<j])
            func named(_ m: EnvelopeMember) -> Bool { Self.equal(key, m.name) }
            let isSeq = named(.seq), isDrillSeq = named(.drillSeq), isDrillID = named(.drillID), isType = named(.type)
            i = j + 2
            guard i < n else { return nil }
            if isSeq || isDrillSeq {
                var v = 0
                let start = i
                while i < n, b[i] >= 0x30, b[i] <= 0x39, i - start < 16 { v = v * 10 + Int(b[i] - 0x30); i += 1 }
                guard i > start else { return nil }
                if isSeq { seq = v } else { drillSeq = v }
            } else if isDrillID {
                guard b[i] == UInt8(ascii: "\"") else { return nil }
                var k = i + 1
                while k < n, b[k] != UInt8(ascii: "\""), b[k] != UInt8(ascii: "\\") { k += 1 }
                guard k < n, b[k] == UInt8(ascii: "\"") else { return nil }
                drillID = UnsafeRawBufferPointer(rebasing: b[(i + 1)..<k])
                i = k + 1
            } else {
                guard let end = Self.skipValue(b, from: i) else { return nil }
                if isType, end - i >= 2, b[i] == UInt8(ascii: "\""), b[end - 1] == UInt8(ascii: "\"") {
                    type = UnsafeRawBufferPointer(rebasing: b[(i + 1)..<(end - 1)])
                }
                i = end
            }
            guard i < n else { return nil }
            if b[i] == UInt8(ascii: "}") {
                guard i == n - 1, let seq, let drillSeq, let drillID else { return nil }
                self.seq = seq
                self.drillSeq = drillSeq
                self.drillID = drillID
                self.type = type
                return
            }
            guard b[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
        return nil
    }

    private init(seq: Int, drillSeq: Int, drillID: UnsafeRawBufferPointer, type: UnsafeRawBufferPointer) {
        self.seq = seq
        self.drillSeq = drillSeq
        self.drillID = drillID
        self.type = type
    }

    /// The usual case, read from both ends without touching the payload: the layout
    /// (`EnvelopeMember`, canonical order) puts `{"actor":"…","drill_id":"…","drill_seq":N,` first
    /// and `,"seq":N,"type":"…"}` last. Nil when the bytes are not exactly of that shape (escapes,
    /// other members): the forward scan decides then.
    static func fromEnds(_ b: UnsafeRawBufferPointer) -> EnvelopePlace? {
        let n = b.count
        func match(_ literal: StaticString, at i: Int) -> Bool {
            let count = literal.utf8CodeUnitCount
            return i >= 0 && i + count <= n && memcmp(b.baseAddress! + i, literal.utf8Start, count) == 0
        }
        func length(_ m: EnvelopeMember) -> Int { m.key.utf8CodeUnitCount }
        // The layout this reading relies on: these members first, and these last, in this order.
        let all = EnvelopeMember.all
        guard all.count > 5, all[0] == .actor, all[1] == .drillID, all[2] == .drillSeq, all[all.count - 2] == .seq, all[all.count - 1] == .type
        else { return nil }
        func stringEnd(from i: Int) -> Int? {  // index of the closing quote of a string with no escapes
            var k = i
            while k < n, b[k] != UInt8(ascii: "\""), b[k] != UInt8(ascii: "\\") { k += 1 }
            return k < n && b[k] == UInt8(ascii: "\"") ? k : nil
        }
        func number(from i: Int) -> (value: Int, end: Int)? {
            var k = i, v = 0
            while k < n, b[k] >= 0x30, b[k] <= 0x39, k - i < 16 { v = v * 10 + Int(b[k] - 0x30); k += 1 }
            return k > i ? (v, k) : nil
        }
        // Front: `{` then each member's key (its comma included) and value.
        let actorStart = 1 + length(.actor) + 1  // past `{"actor":"`
        guard match("{", at: 0), match(EnvelopeMember.actor.key, at: 1), actorStart <= n, b[actorStart - 1] == UInt8(ascii: "\""),
            let actorEnd = stringEnd(from: actorStart),
            match(EnvelopeMember.drillID.key, at: actorEnd + 1), actorEnd + 1 + length(.drillID) < n,
            b[actorEnd + 1 + length(.drillID)] == UInt8(ascii: "\""), let idEnd = stringEnd(from: actorEnd + 2 + length(.drillID)),
            match(EnvelopeMember.drillSeq.key, at: idEnd + 1), let drillSeq = number(from: idEnd + 1 + length(.drillSeq)), drillSeq.end < n,
            b[drillSeq.end] == UInt8(ascii: ",")
        else { return nil }
        // Back: the type is an identifier (letters and digits), so its quotes are found without ambiguity.
        guard n >= 2, b[n - 1] == UInt8(ascii: "}"), b[n - 2] == UInt8(ascii: "\"") else { return nil }
        var k = n - 3
        while k >= 0, (b[k] >= 0x30 && b[k] <= 0x39) || ((b[k] | 0x20) >= 0x61 && (b[k] | 0x20) <= 0x7A) { k -= 1 }
        // b[k] is the type's opening quote, preceded by its key.
        let typeKey = k - length(.type)
        guard k > 0, b[k] == UInt8(ascii: "\""), match(EnvelopeMember.type.key, at: typeKey) else { return nil }
        var d = typeKey - 1
        while d >= 0, b[d] >= 0x30, b[d] <= 0x39 { d -= 1 }
        let seqKey = d + 1 - length(.seq)
        guard d < typeKey - 1, match(EnvelopeMember.seq.key, at: seqKey), let seq = number(from: d + 1), seq.end == typeKey,
            drillSeq.end < seqKey
        else { return nil }
        return EnvelopePlace(
            seq: seq.value, drillSeq: drillSeq.value, drillID: UnsafeRawBufferPointer(rebasing: b[(actorEnd + 2 + length(.drillID))..<idEnd]),
            type: UnsafeRawBufferPointer(rebasing: b[(k + 1)..<(n - 2)]))
    }

    static func equal(_ a: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        a.count == name.utf8CodeUnitCount && (a.isEmpty || memcmp(a.baseAddress!, name.utf8Start, a.count) == 0)
    }

    /// The index just past the JSON value starting at `i` (strings, numbers, literals, nested containers).
    static func skipValue(_ b: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        var depth = 0
        let n = b.count
        while i < n {
            switch b[i] {
            case UInt8(ascii: "\""):
                i += 1
                while i < n, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard i < n else { return nil }
                i += 1
                if depth == 0 { return i }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return i }
                depth -= 1
                i += 1
                if depth == 0 { return i }
            case UInt8(ascii: ","):
                if depth == 0 { return i }
                i += 1
            default:
                i += 1
            }
        }
        return depth == 0 ? i : nil
    }
}

/// Where an event's canonical bytes say it belongs, read without parsing the payload: its `seq`,
/// `drill_seq` and `drill_id`. Nil when the bytes are not an envelope of that shape.
public func envelopePlace(of bytes: [UInt8]) -> (seq: Int, drillSeq: Int, drillID: String)? {
    bytes.withUnsafeBytes { envelopePlace(of: $0) }
}

public func envelopePlace(of raw: UnsafeRawBufferPointer) -> (seq: Int, drillSeq: Int, drillID: String)? {
    guard let p = EnvelopePlace(scanning: raw) else { return nil }
    return (p.seq, p.drillSeq, String(decoding: p.drillID, as: UTF8.self))
}
