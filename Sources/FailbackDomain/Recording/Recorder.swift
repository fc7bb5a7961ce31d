import Dispatch
import FailbackLog
import Synchronization

/// Turns domain facts into log events: picks the drill, redacts secrets, enforces the payload
/// limit, and appends. Everything a command does goes through here; the CLI only parses and prints.
///
/// Throws `InvalidInput` for input that cannot become an event and `StoreError` for the store's
/// refusals; in both cases nothing is appended.
public final class Recorder {
    public let store: any EventStore
    public let context: RecordingContext
    public let redactor: Redactor
    public let maxPayloadBytes: Int
    /// The cap on each captured output stream of a command.
    public let maxOutputBytes: Int
    /// Where limits are configured, for the error message.
    private let configSource: String?
    /// Each drill's learned secrets (salted hashes), read from the store once and kept up to date
    /// with what this recorder's events learn.
    private var learned: [String: LearnedSecrets] = [:]

    public init(store: any EventStore, context: RecordingContext, configuration: Configuration = Configuration()) {
        self.store = store
        self.context = context
        self.redactor = configuration.makeRedactor()
        self.maxPayloadBytes = configuration.maxPayloadBytes
        self.maxOutputBytes = configuration.maxOutputBytes
        self.configSource = configuration.source
    }

    /// Starts a new drill; it becomes the current drill.
    public func startDrill(_ started: DrillStarted, idempotencyKey: String? = nil) throws -> AppendOutcome {
        let at = context.clock()
        return try append(draft(started, drillID: context.makeDrillID(at), at: at, idempotencyKey: idempotencyKey))
    }

    /// Records `payload` in the drill `drillID`, or in the current drill when nil.
    public func record(_ payload: any EventPayload, drill drillID: String? = nil, idempotencyKey: String? = nil) throws -> AppendOutcome {
        let drill = try drillForWriting(drillID)
        return try append(draft(payload, drillID: drill.drillID, at: context.clock(), idempotencyKey: idempotencyKey))
    }

    /// Records several payloads in one transaction (all or none).
    public func record(batch payloads: [any EventPayload], drill drillID: String? = nil) throws -> [AppendOutcome] {
        let drill = try drillForWriting(drillID)
        let drafts = try payloads.map { try draft($0, drillID: drill.drillID, at: context.clock(), idempotencyKey: nil) }
        return try store.append(drafts)
    }

    /// The event a payload becomes: redacted, size-checked, not yet placed in the log.
    public func draft(_ payload: any EventPayload, drillID: String, at time: Timestamp, idempotencyKey: String?) throws -> EventDraft {
        var memory = try learnedSecrets(drillID)
        var result = redactor.redact(payload.json, at: "/payload", memory: memory)
        payload.capAfterRedaction(&result)
        var records: [LearnedSecretRecord] = []
        for secret in result.learned {
            let record = memory.record(for: secret)
            if memory.add(record) { records.append(record) }
        }
        let kind = type(of: payload)
        var draft = EventDraft(
            type: kind.eventType, schemaVersion: kind.schemaVersion, drillID: drillID, recordedAt: time,
            actor: context.actor, host: context.host, payload: result.value, redactions: result.redactions, idempotencyKey: idempotencyKey,
            lifecycle: kind.lifecycle)
        draft.learnedSecrets = records
        if draft.canonicalPayload.count > maxPayloadBytes {
            let setting = configSource.map { "limits.max_payload_bytes in \($0)" } ?? "limits.max_payload_bytes in the store's config.json"
            throw InvalidInput(
                "\(draft.type) payload is \(draft.canonicalPayload.count) bytes, over the limit of \(maxPayloadBytes) bytes (\(setting)): nothing appended")
        }
        if let key = idempotencyKey, key.isEmpty || key.count > 200 {
            throw InvalidInput("idempotency key must be 1 to 200 characters")
        }
        learned[drillID] = memory
        return draft
    }

    /// The drill's learned secrets: read from the store the first time, then kept here.
    func learnedSecrets(_ drillID: String) throws -> LearnedSecrets {
        if let known = learned[drillID] { return known }
        let memory = LearnedSecrets(drillID: drillID, records: try store.learnedSecrets(drill: drillID))
        learned[drillID] = memory
        return memory
    }

    private func append(_ draft: EventDraft) throws -> AppendOutcome {
        try store.append([draft])[0]
    }

    /// The drill to append to: the one named (which must exist and be open), else the current one.
    public func drillForWriting(_ id: String?) throws -> DrillHead {
        if let id {
            guard let drill = try store.drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in this store: nothing appended") }
            guard drill.isOpen else { throw StoreError(.drillClosed, "drill \(id) is closed: nothing appended") }
            return drill
        }
        guard let current = try store.currentDrill() else {
            throw StoreError(.unknownDrill, "no open drill: start one with 'failback drill start --runbook NAME' or pass --drill ID")
        }
        return current
    }

    /// The drill to read: the one named, else the current (open) one, else the latest one.
    public func drillForReading(_ id: String?) throws -> DrillHead {
        if let id {
            guard let drill = try store.drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in this store") }
            return drill
        }
        if let current = try store.currentDrill() { return current }
        guard let latest = try store.drills().last else { throw StoreError(.unknownDrill, "the store has no drills yet") }
        return latest
    }
}

extension Recorder {
    /// Records many batches, each in its own durable transaction, in order. While one batch
    /// commits (and waits for the disk), the next is prepared (redaction, RFC 8785 bytes) on another
    /// thread, so the two overlap on two cores. `committed` is called with each batch's outcomes once
    /// that batch is durable; an error stops the run after the last batch that committed.
    ///
    /// `nextBatch` is called on the preparing thread, in order, until it returns nil.
    public func record(
        batchesFrom nextBatch: @escaping @Sendable () -> [any EventPayload]?, drill drillID: String? = nil,
        committed: ([AppendOutcome]) -> Void
    ) throws {
        let drill = try drillForWriting(drillID).drillID
        // Read here: the preparing thread must not use the store's connection while this one appends.
        _ = try learnedSecrets(drill)
        let prepared = PreparedBatches()
        // The preparing thread alone uses this recorder's redactor until it finishes (`done`).
        let preparer = UncheckedSendable(self)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { done.signal() }
            let recorder = preparer.value
            while !prepared.isCancelled, let payloads = nextBatch() {
                do {
                    let time = recorder.context.clock()
                    let drafts = try payloads.map { try recorder.draft($0, drillID: drill, at: time, idempotencyKey: nil) }
                    prepared.put(.success(drafts))
                } catch {
                    prepared.put(.failure(UncheckedSendable(error)))
                    return
                }
            }
            prepared.finish()
        }
        defer {
            prepared.cancel()
            done.wait()
        }
        while let next = prepared.take() {
            switch next {
            case .success(let drafts): committed(try store.append(drafts))
            case .failure(let error): throw error.value
            }
        }
    }
}

/// A value used by one thread at a time, handed over with a happens-before edge (a semaphore).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Prepared batches waiting to be committed: at most two ahead of the committing thread.
private final class PreparedBatches: Sendable {
    enum Item: Sendable {
        case success([EventDraft])
        case failure(UncheckedSendable<any Error>)
    }

    private let items = Mutex<(queue: [Item], finished: Bool, cancelled: Bool)>(([], false, false))
    private let available = DispatchSemaphore(value: 0)
    private let room = DispatchSemaphore(value: 2)

    var isCancelled: Bool { items.withLock { $0.cancelled } }

    func put(_ item: Item) {
        room.wait()
        items.withLock { $0.queue.append(item) }
        available.signal()
    }

    func finish() {
        items.withLock { $0.finished = true }
        available.signal()
    }

    /// The next prepared item, or nil when the preparing thread has finished.
    func take() -> Item? {
        while true {
            available.wait()
            let next: (Item?, Bool) = items.withLock { s in
                s.queue.isEmpty ? (nil, s.finished) : (s.queue.removeFirst(), false)
            }
            if let item = next.0 {
                room.signal()
                return item
            }
            if next.1 { return nil }
        }
    }

    func cancel() {
        items.withLock { $0.cancelled = true }
        room.signal()
        room.signal()
    }
}
