import Dispatch
import FailbackDomain
import FailbackLog
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A bundle's bytes on their way out: tar entries, gzip, then the output file, written whole or
/// not at all (`OutputFile`).
final class BundleArchive {
    private let file: OutputFile
    private let gzip: GzipWriter
    private var tar: TarWriter
    private let counter = Counter()

    private final class Counter { var bytes = 0 }

    init(path: String, mtime: Int64) throws(ExportError) {
        let file = try OutputFile(path: path), counter = counter
        let gzip = try GzipWriter { (bytes: [UInt8]) throws(ExportError) in
            counter.bytes += bytes.count
            try file.write(bytes)
        }
        self.file = file
        self.gzip = gzip
        tar = TarWriter(mtime: mtime) { (bytes: [UInt8]) throws(ExportError) in try gzip.write(bytes) }
    }

    func beginFile(_ path: String, size: Int) throws(ExportError) { try tar.beginFile(path, size: size) }
    func write(_ bytes: [UInt8]) throws(ExportError) { try tar.write(bytes) }
    func file(_ path: String, _ bytes: [UInt8]) throws(ExportError) { try tar.file(path, bytes) }

    /// Leaves nothing behind (after a failure; no thread may be writing).
    func discard() { file.discard() }

    /// Ends the archive and puts the file in place; returns its size.
    func commit() throws(ExportError) -> Int {
        try tar.finish()
        try gzip.finish()
        try file.commit()
        return counter.bytes
    }
}

/// Chunks consumed on another thread, in order: an export reads events on one thread while others
/// fold them, hash and deflate. The consumer's first error stops it; `send` and `finish` then throw it.
final class ChunkPipe<Chunk: Sendable, Failure: Error>: @unchecked Sendable {
    // `consumer` runs only on the pipe's thread until `finish` returns (the queue and the
    // semaphore order the hand-overs); `failure` is written there before `drained` is signalled.
    private let consumer: (Chunk) throws(Failure) -> Void
    private let queue: HandOff<Chunk>
    private let drained = DispatchSemaphore(value: 0)
    private var failure: Failure?
    private let niceness: Int32

    /// `niceness` above 0 lowers the consuming thread's priority (Linux: `nice` is per thread) for
    /// as long as it consumes: on fewer cores than threads, a consumer that can wait yields to
    /// one that cannot.
    init(depth: Int, niceness: Int32 = 0, consumer: @escaping (Chunk) throws(Failure) -> Void) {
        self.consumer = consumer
        self.niceness = niceness
        queue = HandOff(depth: depth)
        // A queue of its own gets a thread of its own at once (the shared pool may wait to add one
        // while its threads are blocked, as the consumer is between chunks).
        DispatchQueue(label: "failback.chunk-pipe").async { self.consume() }
    }

    private func consume() {
        #if os(Linux)
        // The thread is the pool's: its priority is given back when the pipe is done.
        if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness) }
        defer { if niceness != 0 { setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 0) } }
        #endif
        while let chunk = (try? queue.take()) ?? nil {
            do throws(Failure) { try consumer(chunk) } catch {
                failure = error
                queue.cancel()
                break
            }
        }
        drained.signal()
    }

    /// Queues `chunk`, waiting while `depth` chunks are queued.
    func send(_ chunk: Chunk) throws(Failure) {
        guard queue.put(chunk) else {
            drained.wait()
            drained.signal()
            // The queue refuses chunks only once the consumer failed, which it records first.
            throw failure!
        }
    }

    /// Waits until every queued chunk is consumed; throws the consumer's error, if any.
    func finish() throws(Failure) {
        queue.close()
        drained.wait()
        drained.signal()
        if let failure { throw failure }
    }
}
