import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// The one bounded hand-off between threads: a queue in order, at most `depth` items waiting. One
/// side `put`s and ends it with `close` (and why it stopped, if it failed); the other `take`s and
/// may `cancel`, after which `put` returns false at once and `take` returns nil. Every pipeline of
/// the project (verify's reader, the recorder's preparing thread, an export's and a bundle check's
/// stages) is built on it, so its close and cancel rules are tested once (`HandOffTests`).
///
/// Its semaphores are made at 0 and raised: libdispatch traps (SIGILL) when a semaphore is freed
/// below the value it was made with, which a cancel with items in flight would otherwise leave.
public final class HandOff<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var closed = false
        var cancelled = false
        var failure: (any Error)?
    }

    private let state = Locked(State())
    private let available = DispatchSemaphore(value: 0)
    private let space = DispatchSemaphore(value: 0)

    public init(depth: Int) {
        precondition(depth > 0, "a hand-off holds at least one item")
        for _ in 0..<depth { space.signal() }
    }

    /// Queues `item`, waiting while `depth` items wait; false (the item dropped) once cancelled.
    public func put(_ item: Element) -> Bool {
        space.wait()
        let accepted = state.withLock { s in
            if !s.cancelled && !s.closed { s.items.append(item) }
            return !s.cancelled && !s.closed
        }
        if accepted { available.signal() } else { space.signal() }  // wake the next waiting put too
        return accepted
    }

    /// No more items (`failure`: why the producer stopped). Items queued before stay to be taken.
    public func close(failure: (any Error)? = nil) {
        let first = state.withLock { s in
            defer { s.closed = true }
            if !s.closed { s.failure = failure }
            return !s.closed
        }
        if first { available.signal() }
    }

    /// The next item, waiting for it; nil at the end, or at once after `cancel`. Once the items
    /// queued before `close` are taken, throws the producer's failure (every time), else nil.
    public func take() throws -> Element? {
        available.wait()
        let next: (item: Element?, end: Bool) = state.withLock { s in
            if s.cancelled { return (nil, true) }
            return s.items.isEmpty ? (nil, true) : (s.items.removeFirst(), false)
        }
        if let item = next.item {
            space.signal()
            return item
        }
        available.signal()  // the end stays the end for any later take
        if let failure = state.withLock({ $0.cancelled ? nil : $0.failure }) { throw failure }
        return nil
    }

    /// The consumer stops: items waiting are dropped, a waiting `put` returns false, `take` nil.
    public func cancel() {
        let first = state.withLock { s in
            defer { s.cancelled = true }
            s.items.removeAll()
            return !s.cancelled
        }
        guard first else { return }
        space.signal()
        available.signal()
    }

    /// Whether the consumer cancelled.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }
}

/// A value behind a pthread mutex. (Not `Synchronization.Mutex`: on Linux it locks with futexes
/// that ThreadSanitizer does not see, so every access through it was reported as a race, which
/// would make a TSan run of the threaded tests useless.)
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}

/// A value handed to another thread, which alone uses it until it hands it back through a
/// `HandOff` or a semaphore (the hand-over orders the accesses).
public struct HandedOver<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}
