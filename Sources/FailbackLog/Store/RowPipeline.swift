/// Stored rows handed from a reading thread to the verifying one in batches, so that stepping
/// through SQLite and hashing overlap on two cores. The chain itself is checked in order, on the
/// calling thread; only the reading runs ahead, at most `depth` batches.
final class RowBatch: @unchecked Sendable {
    // Owned by one thread at a time: the reader fills it and hands it over through the queue, the
    // verifier reads it and hands it back; the queue's mutex orders those hand-overs.
    private(set) var seqs: [Int] = []
    private(set) var drillSeqs: [Int] = []
    private var canonical: [UInt8] = []
    private var canonicalEnds: [Int] = []
    private var hashes: [UInt8] = []
    private var hashEnds: [Int] = []
    /// Each row's stored leaf hash, if it has one: where it is in `leafHashes`.
    private var leafHashes: [UInt8] = []
    private var leafHashRanges: [Range<Int>?] = []

    var count: Int { seqs.count }

    func removeAll() {
        seqs.removeAll(keepingCapacity: true)
        drillSeqs.removeAll(keepingCapacity: true)
        canonical.removeAll(keepingCapacity: true)
        canonicalEnds.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        hashEnds.removeAll(keepingCapacity: true)
        leafHashes.removeAll(keepingCapacity: true)
        leafHashRanges.removeAll(keepingCapacity: true)
    }

    func append(seq: Int, drillSeq: Int, canonical c: UnsafeRawBufferPointer, hash h: UnsafeRawBufferPointer, leafHash l: UnsafeRawBufferPointer?) {
        seqs.append(seq)
        drillSeqs.append(drillSeq)
        canonical.append(contentsOf: c)
        canonicalEnds.append(canonical.count)
        hashes.append(contentsOf: h)
        hashEnds.append(hashes.count)
        if let l {
            leafHashes.append(contentsOf: l)
            leafHashRanges.append((leafHashes.count - l.count)..<leafHashes.count)
        } else {
            leafHashRanges.append(nil)
        }
    }

    /// Calls `body` with row `i`'s seq, drill_seq, canonical bytes, stored hash and stored leaf hash.
    func withRow<T>(_ i: Int, _ body: (Int, Int, UnsafeRawBufferPointer, UnsafeRawBufferPointer, UnsafeRawBufferPointer?) -> T) -> T {
        let c0 = i == 0 ? 0 : canonicalEnds[i - 1], h0 = i == 0 ? 0 : hashEnds[i - 1]
        return canonical.withUnsafeBytes { c in
            hashes.withUnsafeBytes { h in
                leafHashes.withUnsafeBytes { l in
                    body(
                        seqs[i], drillSeqs[i], UnsafeRawBufferPointer(rebasing: c[c0..<canonicalEnds[i]]), UnsafeRawBufferPointer(rebasing: h[h0..<hashEnds[i]]),
                        leafHashRanges[i].map { UnsafeRawBufferPointer(rebasing: l[$0]) })
                }
            }
        }
    }
}

/// Why the reading thread stopped: SQLite's message.
struct SQLiteReadFailure: Error {
    let message: String
}
