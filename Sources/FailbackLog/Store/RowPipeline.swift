import Dispatch
import Synchronization

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

/// A value handed to another thread that alone uses it until it signals back (see `verify`).
struct HandedOver<T>: @unchecked Sendable {
    let value: T
}

/// A bounded hand-over of batches between two threads.
final class BatchQueue: Sendable {
    private struct State {
        var filled: [RowBatch] = []
        var free: [RowBatch] = []
        var finished = false
        var cancelled = false
        var failure: String?
    }

    private let state: Mutex<State>
    private let filledSignal = DispatchSemaphore(value: 0)
    private let freeSignal: DispatchSemaphore

    init(depth: Int) {
        state = Mutex(State(free: (0..<depth).map { _ in RowBatch() }))
        freeSignal = DispatchSemaphore(value: depth)
    }

    /// Reader: a batch to fill, or nil once the consumer has stopped.
    func takeFree() -> RowBatch? {
        freeSignal.wait()
        return state.withLock { s in
            if s.cancelled { return nil }
            let b = s.free.removeLast()
            b.removeAll()
            return b
        }
    }

    func putFilled(_ b: RowBatch) {
        state.withLock { $0.filled.append(b) }
        filledSignal.signal()
    }

    /// Reader: no more rows (or `failure` stopped the reading).
    func finish(failure: String? = nil) {
        state.withLock {
            $0.finished = true
            $0.failure = failure
        }
        filledSignal.signal()
    }

    /// Consumer: the next batch in order, or nil at the end (with the reader's failure, if any).
    func takeFilled() -> (batch: RowBatch?, failure: String?) {
        while true {
            filledSignal.wait()
            let next: (RowBatch?, String?, Bool) = state.withLock { s in
                if !s.filled.isEmpty { return (s.filled.removeFirst(), nil, false) }
                return (nil, s.failure, s.finished)
            }
            if next.0 != nil || next.2 { return (next.0, next.1) }
        }
    }

    func putFree(_ b: RowBatch) {
        state.withLock { $0.free.append(b) }
        freeSignal.signal()
    }

    /// Consumer: stop the reader early (a problem was found).
    func cancel() {
        state.withLock { $0.cancelled = true }
        freeSignal.signal()
    }
}
