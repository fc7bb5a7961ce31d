@testable import FailbackExporters
import Glibc
import Synchronization
import Testing

/// The hand-over between the thread that reads events and the one that compresses them.
@Suite struct ChunkPipeTests {
    @Test func chunksArriveWholeAndInOrder() throws {
        let seen = Mutex<[[UInt8]]>([])
        let pipe = ChunkPipe(depth: 2) { (chunk: [UInt8]) throws(ExportError) in seen.withLock { $0.append(chunk) } }
        let sent = (0..<200).map { i in [UInt8](repeating: UInt8(i % 251), count: i) }
        for chunk in sent { try pipe.send(chunk) }
        try pipe.finish()
        #expect(seen.withLock { $0 } == sent)
    }

    /// A pipe asked to yield consumes at that niceness; one not asked, at the process's.
    @Test func aYieldingConsumerRunsAtItsNiceness() throws {
        let seen = Mutex<[Int32]>([])
        let pipe = ChunkPipe(depth: 2, niceness: 3) { (_: [UInt8]) throws(ExportError) in
            seen.withLock { $0.append(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
        }
        for _ in 0..<3 { try pipe.send([1]) }
        try pipe.finish()
        #expect(seen.withLock { $0 } == [3, 3, 3])
        let plain = ChunkPipe(depth: 2) { (_: [UInt8]) throws(ExportError) in
            seen.withLock { $0.append(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
        }
        try plain.send([1])
        try plain.finish()
        #expect(seen.withLock { $0.last } == 0)
    }

    @Test func theConsumersErrorReachesTheSenderAndNothingMoreIsConsumed() {
        let consumed = Mutex(0)
        let pipe = ChunkPipe(depth: 3) { (_: [UInt8]) throws(ExportError) in
            let n = consumed.withLock { n in
                n += 1
                return n
            }
            if n == 5 { throw ExportError("disk full") }
        }
        var refusedAt: Int?
        for i in 0..<100 {
            do throws(ExportError) { try pipe.send([UInt8(i)]) } catch {
                #expect(error.message == "disk full")
                refusedAt = i
                break
            }
        }
        // At most `depth` chunks are queued behind the one that failed.
        #expect(refusedAt.map { $0 >= 5 && $0 <= 5 + 3 } == true)
        #expect(throws: ExportError.self) { try pipe.finish() }
        #expect(consumed.withLock { $0 } == 5)
    }

    @Test func aProducerThatStopsEarlyLeavesNoThreadWaiting() throws {
        // finish after a partial send (the export's error path) returns, consuming what was sent.
        let seen = Mutex(0)
        let pipe = ChunkPipe(depth: 4) { (_: [UInt8]) throws(ExportError) in seen.withLock { $0 += 1 } }
        try pipe.send([1])
        try pipe.send([2])
        try pipe.finish()
        try pipe.finish()
        #expect(seen.withLock { $0 } == 2)
    }
}
