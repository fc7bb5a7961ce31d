/// Copies one store into another (SQLite ↔ PostgreSQL, or any two backends) with the same events:
/// the same `seq`, bytes, chain hashes and leaf hashes, the same index, and the secrets each drill
/// learned. What the copy promises, and checks before saying so:
///
/// 1. The source verifies (the store walk and every drill's chain), or nothing is copied.
/// 2. A target that already holds events verifies, and each of its drills is a prefix of the
///    source's drill (same first `seq`, and its head's hash is the source's at that event): the
///    copy resumes after the target's last `seq`. Anything else is refused, nothing written.
/// 3. The source's events up to its last `seq` when the copy began are appended in batches, each
///    one durable transaction checked by the target's own rules (`EventStore.appendCopies`); an
///    interrupted copy leaves a prefix that the next run resumes.
/// 4. The target then verifies, and its index equals the source's as the copy began.
public enum StoreCopy {
    /// What a copy did.
    public struct Report: Sendable, Equatable {
        /// Events the source held when the copy began (its last `seq`).
        public var sourceEvents: Int
        /// Events the target held already (a resumed copy), all the source's.
        public var alreadyThere: Int
        /// Events appended now.
        public var copied: Int
        /// Drills in both, with identical index entries.
        public var drills: Int
        public var source: String
        public var target: String

        /// One line: what was copied, and what was checked.
        public var summary: String {
            let what = "\(sourceEvents) event\(sourceEvents == 1 ? "" : "s") in \(drills) drill\(drills == 1 ? "" : "s")"
            let checked = "both verified, the copy's index identical to the source's"
            if copied == 0 && alreadyThere == sourceEvents && alreadyThere > 0 { return "\(target) already holds all of \(source) (\(what)); \(checked)" }
            let resumed = alreadyThere > 0 ? ", resuming after the \(alreadyThere) already there" : ""
            return "copied \(source) to \(target) (\(what)): \(copied) appended\(resumed); \(checked)"
        }
    }

    /// Copies `source` into `target` (see the type's comment). `batchBytes`: the canonical bytes
    /// of events appended per transaction (memory stays within about this much). `progress` is
    /// called after each batch with the events copied so far.
    /// `openTarget` is called once the source has verified (so that a refused copy creates
    /// nothing).
    public static func copy(
        from source: any EventStore, to openTarget: () throws(StoreError) -> any EventStore, closingTypes: Set<String>, batchBytes: Int = 4 << 20,
        progress: ((Int) -> Void)? = nil
    ) throws(StoreError) -> Report {
        // The source as the copy began: the index, read at once, fixes the events copied (every
        // row up to its last seq was committed with the index entries read).
        let index = try source.drills()
        let lastSeq = index.map(\.headSeq).max() ?? 0
        try requireIntact(source, closingTypes: closingTypes, role: "the source")
        var learned: [String: [LearnedSecretRecord]] = [:]
        for drill in index {
            let secrets = try source.learnedSecrets(drill: drill.drillID)
            if !secrets.isEmpty { learned[drill.drillID] = secrets }
        }
        let closedSeqs = Dictionary(index.compactMap { d in d.closedSeq.map { (d.drillID, $0) } }, uniquingKeysWith: { a, _ in a })
        let target = try openTarget()
        guard source.location != target.location else {
            throw StoreError(.mismatch, "the source and the target are the same store (\(source.location)): nothing copied", path: target.location)
        }

        // What the target holds already must be the source's, drill by drill.
        let held = try target.drills()
        var alreadyThere = 0
        if !held.isEmpty {
            try requireIntact(target, closingTypes: closingTypes, role: "the target")
            let sourceDrills = Dictionary(index.map { ($0.drillID, $0) }, uniquingKeysWith: { a, _ in a })
            for drill in held {
                func notACopy(_ why: String) -> StoreError {
                    StoreError(
                        .mismatch, "store \(target.location) is not a copy of \(source.location): drill \(drill.drillID) \(why); nothing copied",
                        path: target.location)
                }
                guard let theirs = sourceDrills[drill.drillID] else { throw notACopy("is not in the source (as the copy began)") }
                guard drill.startedSeq == theirs.startedSeq else { throw notACopy("starts at seq \(drill.startedSeq), the source's at \(theirs.startedSeq)") }
                guard drill.eventCount <= theirs.eventCount else { throw notACopy("has \(drill.eventCount) events, the source's \(theirs.eventCount)") }
                var sourceHash: [UInt8]?
                do {
                    try source.forEachStoredEvent(drill: drill.drillID, drillSeqs: drill.eventCount...drill.eventCount) { sourceHash = Array($0.hash) }
                } catch let error as StoreError {
                    throw error
                } catch {
                    throw StoreError(.database, "cannot read store \(source.location): \(error)", path: source.location)
                }
                guard sourceHash == drill.headHash else { throw notACopy("event #\(drill.eventCount) has another chain hash than the source's") }
                if let closed = drill.closedSeq, closed != theirs.closedSeq { throw notACopy("is closed at seq \(closed), the source's is not") }
                alreadyThere = max(alreadyThere, drill.headSeq)
            }
            guard alreadyThere <= lastSeq else {
                throw StoreError(
                    .mismatch, "store \(target.location) holds \(alreadyThere) events, more than \(source.location) (\(lastSeq)): nothing copied",
                    path: target.location)
            }
        }

        // The rest, in batches.
        var copied = 0
        var batch: [CopiedRow] = []
        var batchSize = 0
        var failure: StoreError?
        func flush(last: Bool) {
            guard failure == nil, !batch.isEmpty || (last && !learned.isEmpty) else { return }
            do {
                try target.appendCopies(batch, closedSeqs: closedSeqs, learnedSecrets: last ? learned : [:])
                copied += batch.count
                batch.removeAll(keepingCapacity: true)
                batchSize = 0
                progress?(copied)
            } catch {
                failure = error
            }
        }
        if alreadyThere < lastSeq {
            try source.forEachRow(seqs: (alreadyThere + 1)...lastSeq) { columns, row in
                batch.append(CopiedRow(columns, row))
                batchSize += row.canonical.count
                if batchSize >= batchBytes { flush(last: false) }
                return failure == nil
            }
        }
        flush(last: true)
        if let failure { throw failure }
        guard alreadyThere + copied == lastSeq else {
            throw StoreError(
                .integrity, "store \(source.location) gave \(copied) events after seq \(alreadyThere), not \(lastSeq - alreadyThere)", path: source.location)
        }

        // The copy, checked as a whole: it verifies, and its index is the source's.
        try requireIntact(target, closingTypes: closingTypes, role: "the copy", outcome: "run 'failback verify' on it")
        let copyIndex = try target.drills()
        guard copyIndex.count == index.count else {
            throw StoreError(.integrity, "the copy \(target.location) has \(copyIndex.count) drills, the source \(index.count)", path: target.location)
        }
        for (mine, theirs) in zip(copyIndex, index) {
            var a = mine, b = theirs
            if a.canonicalBytes == nil || b.canonicalBytes == nil { (a.canonicalBytes, b.canonicalBytes) = (nil, nil) }
            guard a == b else {
                throw StoreError(
                    .integrity, "the copy \(target.location) differs from the source in drill \(theirs.drillID)'s index entry", path: target.location)
            }
        }
        return Report(
            sourceEvents: lastSeq, alreadyThere: alreadyThere, copied: copied, drills: index.count, source: source.location, target: target.location)
    }

    /// Throws unless the whole store verifies: the store walk, then every drill's chain.
    static func requireIntact(_ store: any EventStore, closingTypes: Set<String>, role: String, outcome: String = "nothing copied") throws(StoreError) {
        var reports = [try store.verifyStore()]
        for drill in try store.drills() where reports.allSatisfy(\.isIntact) {
            reports.append(try store.verify(drill: drill.drillID, deep: false, closingTypes: closingTypes))
        }
        if let bad = reports.first(where: { !$0.isIntact }) {
            throw StoreError(.integrity, "\(role), \(store.location), does not verify: \(bad.summary); \(outcome)", path: store.location)
        }
    }
}
