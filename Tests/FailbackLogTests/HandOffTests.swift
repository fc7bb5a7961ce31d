import CSQLite
import Dispatch
import Foundation
import Synchronization
import Testing
@testable import FailbackLog

/// The one hand-off between threads, tested once for its end, its failure, and a cancel with items
/// in flight (which once left a libdispatch semaphore below its starting value: SIGILL).
@Suite struct HandOffTests {
    struct Stop: Error, Equatable { let why: String }

    @Test func itemsArriveInOrderThenTheEndStaysTheEnd() throws {
        let q = HandOff<Int>(depth: 4)
        let producer = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            for i in 0..<1000 { precondition(q.put(i)) }
            q.close()
            producer.signal()
        }
        var got: [Int] = []
        while let i = try q.take() { got.append(i) }
        producer.wait()
        #expect(got == Array(0..<1000))
        #expect(try q.take() == nil && (try q.take()) == nil)
        #expect(!q.put(1), "nothing is taken after the end")
    }

    @Test func aFailureComesAfterTheItemsBeforeItAndStays() throws {
        let q = HandOff<Int>(depth: 8)
        #expect(q.put(1) && q.put(2))
        q.close(failure: Stop(why: "disk"))
        q.close()  // a second close changes nothing
        #expect(try q.take() == 1 && (try q.take()) == 2)
        #expect(throws: Stop(why: "disk")) { try q.take() }
        #expect(throws: Stop(why: "disk")) { try q.take() }
    }

    @Test func cancelReleasesABlockedProducerAndDropsWhatWaits() throws {
        let q = HandOff<Int>(depth: 2)
        #expect(q.put(1) && q.put(2))
        let refused = DispatchSemaphore(value: 0)
        let result = Mutex<Bool?>(nil)
        DispatchQueue.global().async {
            let accepted = q.put(3)  // blocks: the queue is full
            result.withLock { $0 = accepted }
            refused.signal()
        }
        usleep(50_000)
        #expect(result.withLock { $0 } == nil, "the producer waits while the queue is full")
        q.cancel()
        #expect(refused.wait(timeout: .now() + 5) == .success)
        #expect(result.withLock { $0 } == false)
        #expect(try q.take() == nil, "what waited is dropped")
        #expect(!q.put(4))
        #expect(q.isCancelled)
    }

    /// Cancels at random moments with items in flight and producers blocked, many times over: a
    /// hand-off freed in any of those states must not trap.
    @Test func cancellingWithItemsInFlightNeverTraps() throws {
        for round in 0..<300 {
            var q: HandOff<[UInt8]>? = HandOff(depth: 1 + round % 3)
            let finished = DispatchSemaphore(value: 0)
            let queue = q!
            DispatchQueue.global().async {
                var i = 0
                while queue.put([UInt8(truncatingIfNeeded: i)]) { i += 1 }
                finished.signal()
            }
            for _ in 0..<(round % 5) { _ = try queue.take() }
            queue.cancel()
            #expect(finished.wait(timeout: .now() + 5) == .success)
            q = nil  // freed here: its semaphores must be at or above their starting values
            _ = q
        }
    }

    /// `failback verify` of a tampered drill of 12,000 events stops its reading thread early; it
    /// once died with SIGILL in about half the runs. Twenty runs must all name the altered event.
    @Test func verifyingATamperedLongDrillStopsCleanlyEveryTime() throws {
        let dir = TemporaryDirectory()
        let store = try newStore(dir)
        _ = try store.append([draft("d", 0, lifecycle: .opens)])
        for start in stride(from: 1, to: 12_000, by: 1000) { _ = try store.append((start..<(start + 1000)).map { draft("d", $0) }) }
        let path = "\(dir.path)/ledger.sqlite"
        var db: OpaquePointer?
        #expect(sqlite3_open(path, &db) == SQLITE_OK)
        #expect(
            sqlite3_exec(
                db, "DROP TRIGGER events_refuse_update; UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'event 2000', 'event 2001') AS BLOB) WHERE seq = 2001;",
                nil, nil, nil) == SQLITE_OK)
        sqlite3_close(db)
        for _ in 0..<20 {
            let report = try SQLiteEventStore(openingAt: path).verify(drill: "d")
            #expect(report.problem == .hashMismatch && report.badSeq == 2001 && report.checked == 2000)
        }
    }
}
