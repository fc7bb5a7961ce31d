/// The checks over a whole store, fed every row in global `seq` order (apart from each drill's
/// chain, which `ChainVerifier` checks): the global sequence runs from 1 without a gap; each
/// row's columns (`seq`, `drill_id`, `drill_seq`, `type`, `recorded_at`, `idempotency_key`) are
/// what its canonical bytes say; every event belongs to a drill the index lists; and no drill has
/// more events than its index counts. Rules apart from storage: any backend feeds it its rows.
public struct StoreWalk {
    private let recordedCounts: [String: Int]
    private var expectedSeq = 1
    private var counts: [String: Int] = [:]
    private var shared = RecordedEvent.SharedValues()
    public private(set) var report = VerificationReport(drillID: nil, checked: 0, head: nil, problem: nil)

    /// `index`: the drills as the store's index lists them.
    public init(index: [DrillHead]) {
        recordedCounts = Dictionary(index.map { ($0.drillID, $0.eventCount) }, uniquingKeysWith: { a, _ in a })
    }

    /// The columns of one row as stored beside its bytes.
    public struct Columns: Sendable, Equatable {
        public var seq: Int
        public var drillID: String
        public var drillSeq: Int
        public var type: String
        public var recordedAt: String
        public var idempotencyKey: String?

        public init(seq: Int, drillID: String, drillSeq: Int, type: String, recordedAt: String, idempotencyKey: String?) {
            self.seq = seq
            self.drillID = drillID
            self.drillSeq = drillSeq
            self.type = type
            self.recordedAt = recordedAt
            self.idempotencyKey = idempotencyKey
        }
    }

    /// Feeds the next row in `seq` order. Returns false once a problem has been found.
    public mutating func feed(_ row: Columns, canonical: [UInt8]) -> Bool {
        guard report.problem == nil else { return false }
        func fail(_ p: VerificationReport.Problem, drillSeq: Int? = nil) -> Bool {
            report.problem = p
            report.badSeq = row.seq
            report.badDrillSeq = drillSeq
            return false
        }
        if row.seq != expectedSeq { return fail(.globalGap(expected: expectedSeq, found: row.seq)) }
        let event: RecordedEvent
        do { event = try RecordedEvent(canonical: canonical, hash: [], sharing: &shared) } catch { return fail(.malformed(error.description)) }
        let differing = Self.differences(between: row, and: event)
        if !differing.isEmpty { return fail(.columnMismatch(differing.joined(separator: "; ")), drillSeq: event.drillSeq) }
        guard recordedCounts[event.drillID] != nil else { return fail(.unindexedDrill(event.drillID), drillSeq: event.drillSeq) }
        counts[event.drillID, default: 0] += 1
        expectedSeq += 1
        report.checked += 1
        return true
    }

    /// How a row's columns differ from what its bytes say (none: they agree).
    public static func differences(between row: Columns, and event: RecordedEvent) -> [String] {
        var differing: [String] = []
        if event.seq != row.seq { differing.append("seq \(row.seq), bytes say \(event.seq)") }
        if event.drillID != row.drillID { differing.append("drill_id \(row.drillID.debugDescription), bytes say \(event.drillID.debugDescription)") }
        if event.drillSeq != row.drillSeq { differing.append("drill_seq \(row.drillSeq), bytes say \(event.drillSeq)") }
        if event.type != row.type { differing.append("type \(row.type.debugDescription), bytes say \(event.type.debugDescription)") }
        if event.recordedAt.description != row.recordedAt {
            differing.append("recorded_at \(row.recordedAt.debugDescription), bytes say \(event.recordedAt.description.debugDescription)")
        }
        if event.idempotencyKey != row.idempotencyKey {
            differing.append("idempotency_key \(row.idempotencyKey?.debugDescription ?? "NULL"), bytes say \(event.idempotencyKey?.debugDescription ?? "none")")
        }
        return differing
    }

    /// Ends the walk: no drill holds more events than its index counts.
    public mutating func finish() -> VerificationReport {
        guard report.problem == nil else { return report }
        for (drill, count) in counts.sorted(by: { $0.key < $1.key }) {
            if let recorded = recordedCounts[drill], count > recorded {
                report.drillID = drill
                report.problem = .beyondHead(recordedCount: recorded, found: count)
                report.badDrillSeq = recorded + 1
                return report
            }
        }
        return report
    }
}
