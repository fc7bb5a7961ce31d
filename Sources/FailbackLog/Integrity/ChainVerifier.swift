/// The outcome of recomputing a chain: intact, or the first place it breaks and why.
public struct VerificationReport: Sendable, Equatable {
    /// Why a chain is not intact.
    public enum Problem: Sendable, Equatable {
        /// The stored hash is not SHA-256(previous hash || canonical bytes): bytes were changed.
        case hashMismatch
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
        /// A global sequence number is missing.
        case globalGap(expected: Int, found: Int)
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

    /// One line for a person.
    public var summary: String {
        let subject = drillID.map { "drill \($0)" } ?? "store"
        guard let problem else {
            if drillID == nil { return "store: global sequence gapless, \(checked) events" }
            return "\(subject): chain intact, \(checked) events" + (head.map { ", head \($0.hex)" } ?? "")
        }
        let at = badSeq.map { "seq \($0)" + (badDrillSeq.map { " (drill event #\($0))" } ?? "") } ?? "end of chain"
        let why: String
        switch problem {
        case .hashMismatch: why = "stored hash does not match SHA-256(previous hash || canonical bytes): the event was altered"
        case .sequenceBreak(let expected, let found):
            why = found > expected
                ? "expected drill event #\(expected) but found #\(found): event(s) missing"
                : "expected drill event #\(expected) but found #\(found): events out of order or duplicated"
        case .misplaced(let what): why = "event bytes do not match their row: \(what)"
        case .malformed(let what): why = "stored bytes are not an event: \(what)"
        case .notCanonical: why = "stored bytes are not in RFC 8785 canonical form"
        case .truncated(let recorded, let found, let headSeq):
            let missing = found + 1 == recorded ? "drill event #\(recorded)" : "drill events #\(found + 1)–#\(recorded)"
            why = "the drill's index records \(recorded) events ending at seq \(headSeq) but the chain has \(found): \(missing) missing"
        case .headMismatch: why = "drill index head hash differs from the recomputed chain head"
        case .globalGap(let expected, let found): why = "global sequence jumps from \(expected - 1) to \(found): event(s) missing"
        }
        return "\(subject): chain BROKEN at \(at): \(why)"
    }
}

/// Recomputes a drill's chain from stored rows, in order, and stops at the first problem.
/// Store implementations feed it rows; it holds the rules (see docs/log-format.md, "Verifying").
public struct ChainVerifier {
    public let drillID: String
    private var previous = HashChain.genesis
    private var expectedDrillSeq = 1
    private var lastSeq = 0
    public private(set) var report: VerificationReport

    public init(drillID: String) {
        self.drillID = drillID
        self.report = VerificationReport(drillID: drillID, checked: 0, head: nil, problem: nil)
    }

    /// Feeds the next stored row. Returns false once a problem has been found (stop feeding).
    public mutating func feed(seq: Int, drillSeq: Int, drillIDColumn: String, canonical: [UInt8], storedHash: [UInt8]) -> Bool {
        guard report.problem == nil else { return false }
        func fail(_ p: VerificationReport.Problem, drillSeq: Int? = nil) -> Bool {
            report.problem = p
            report.badSeq = seq
            report.badDrillSeq = drillSeq
            return false
        }
        let event: RecordedEvent
        do { event = try RecordedEvent(canonical: canonical, hash: storedHash) } catch { return fail(.malformed(error.description)) }
        if event.drillSeq != expectedDrillSeq {
            return fail(.sequenceBreak(expectedDrillSeq: expectedDrillSeq, found: event.drillSeq), drillSeq: event.drillSeq)
        }
        let recomputed = HashChain.link(previous: previous, canonical: canonical)
        if recomputed != storedHash { return fail(.hashMismatch, drillSeq: drillSeq) }
        if event.seq != seq { return fail(.misplaced("bytes say seq \(event.seq), row is seq \(seq)"), drillSeq: drillSeq) }
        if event.drillID != drillIDColumn || event.drillID != drillID {
            return fail(.misplaced("bytes say drill \(event.drillID), row is filed under \(drillIDColumn)"), drillSeq: drillSeq)
        }
        if drillSeq != event.drillSeq { return fail(.misplaced("bytes say drill event #\(event.drillSeq), row says #\(drillSeq)"), drillSeq: drillSeq) }
        if seq <= lastSeq { return fail(.misplaced("seq \(seq) does not follow \(lastSeq)"), drillSeq: drillSeq) }
        if CanonicalJSON.encode(event.envelopeValue) != canonical { return fail(.notCanonical, drillSeq: drillSeq) }
        previous = recomputed
        lastSeq = seq
        expectedDrillSeq += 1
        report.checked += 1
        return true
    }

    /// Ends the walk: checks the recomputed head against the drill's index entry.
    public mutating func finish(recordedCount: Int, recordedHeadSeq: Int, recordedHeadHash: [UInt8]) -> VerificationReport {
        guard report.problem == nil else { return report }
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
