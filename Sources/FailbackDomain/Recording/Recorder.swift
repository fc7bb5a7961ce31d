import Dispatch
import FailbackLog

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
    /// The last state of each drill this recorder rebuilt: a gated command tried again after the
    /// drill moved on folds only the events added since (see `writableState`).
    var latestStates: [String: DrillState] = [:]
    /// Each drill's learned secrets (salted hashes), read from the store once and kept up to date
    /// with what this recorder's events learn.
    private var learned: [String: LearnedSecrets] = [:]
    /// This operator's current drill (`JoinedDrill`) and where it was named; nil: none joined.
    public var joined: (drill: String, source: String)?
    /// Called when a command that names no drill, by an operator who has joined none, goes to the
    /// store's one open drill: the workspace keeps it as their current drill from then on, so that
    /// a drill started later by someone else does not take their next command.
    public var keepChosenDrill: ((String) -> Void)?

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
        try payload.validate()
        try context.validate()
        // Who records and the retry key are stored as given, never redacted (a redacted actor
        // says no one): one that holds a secret is refused, before anything is appended.
        for (what, kinds) in [("the actor (--actor, $FAILBACK_ACTOR)", actorSecretKinds), ("the idempotency key", idempotencyKey.map { redactor.redact($0).kinds } ?? [])]
        where !kinds.isEmpty {
            throw InvalidInput("\(what) holds what looks like a secret (\(kinds.joined(separator: ", "))): nothing appended")
        }
        var memory = try learnedSecrets(drillID)
        var result = redactor.redact(payload.json, at: "/payload", memory: memory)
        for member in payload.secretMembers { result.redactMember(member.path, kind: member.kind, pointer: "/payload") }
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
        try Self.checkLine(draft)
        return draft
    }

    /// An event is one line of a bundle's events.jsonl, which both verifiers read only within
    /// `EventLine`'s bounds: an event past them is refused here. The payload is bounded by
    /// `limits.max_payload_bytes` (at most 8 MiB); the rest of the envelope is its redactions and a
    /// few short members (an upper bound is counted: every byte of a name escaped, six bytes).
    static func checkLine(_ draft: EventDraft) throws(InvalidInput) {
        let payload = draft.canonicalPayload.count
        let redactions = draft.redactions.reduce(0) { $0 + 6 * ($1.pointer.utf8.count + $1.kind.utf8.count) + 32 }
        let others = 6 * (draft.actor.utf8.count + draft.host.utf8.count + draft.drillID.utf8.count + (draft.idempotencyKey?.utf8.count ?? 0)) + 512
        if payload + redactions + others > EventLine.maximumBytes {
            throw InvalidInput("\(draft.type) event would be over \(byteSize(EventLine.maximumBytes)) with its \(draft.redactions.count) redactions: nothing appended")
        }
        // The payload sits one level inside the event's object.
        let depth = draft.canonicalPayload.withUnsafeBytes { jsonNestingDepth($0) } + 1
        if depth > EventLine.maximumDepth {
            throw InvalidInput("\(draft.type) event would nest \(depth) levels deep, over the limit of \(EventLine.maximumDepth): nothing appended")
        }
        if payload > EventLine.maximumValues {
            let values = draft.canonicalPayload.withUnsafeBytes { jsonValueCount($0) } + 3 * draft.redactions.count + 16
            if values > EventLine.maximumValues {
                throw InvalidInput("\(draft.type) payload holds \(values) JSON values, over the limit of \(EventLine.maximumValues): nothing appended")
            }
        }
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

    /// The drill to append to: the one named (which must exist and be open), else this operator's
    /// current drill (which must too), else the store's one open drill. With none joined and
    /// several open, the command must say which: another operator's `drill start` never
    /// retargets it.
    /// Whether the drill being recorded to has its cutover done (the first cutover step of the
    /// failback recorded done), as its events say.
    public func cutoverDone(_ id: String?) throws -> Bool {
        try DrillState.rebuild(drill: try drillForWriting(id).drillID, from: store).cutoverDoneAt != nil
    }

    /// What the rules find in the actor, once a recorder (the actor does not change).
    private lazy var actorSecretKinds: [String] = redactor.redact(context.actor).kinds

    public func drillForWriting(_ id: String?) throws -> DrillHead {
        if let id {
            guard let drill = try store.drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in this store: nothing appended", subject: .drill(id)) }
            guard drill.isOpen else { throw StoreError(.drillClosed, "drill \(id) is closed: nothing appended", subject: .drill(id)) }
            return drill
        }
        if let joined {
            guard let drill = try store.drill(joined.drill) else {
                throw StoreError(
                    .unknownDrill,
                    "your current drill \(joined.drill) (\(joined.source)) is not in this store: join one with 'failback drill join ID' or pass --drill ID: nothing appended")
            }
            guard drill.isOpen else {
                throw StoreError(
                    .drillClosed,
                    "your current drill \(joined.drill) (\(joined.source)) is closed: join an open one ('failback drill list', then 'failback drill join ID') or pass --drill ID: nothing appended"
                )
            }
            return drill
        }
        let open = try store.drills().filter(\.isOpen)
        guard let only = open.first else {
            throw StoreError(.unknownDrill, "no open drill: start one with 'failback drill start --runbook NAME' or pass --drill ID")
        }
        guard open.count == 1 else {
            let named = open.suffix(3).map(\.drillID).joined(separator: ", ")
            throw InvalidInput(
                "\(open.count) drills are open (\(open.count > 3 ? "latest: " : "")\(named)) and you have joined none: 'failback drill join ID', or pass --drill ID: nothing appended"
            )
        }
        keepChosenDrill?(only.drillID)
        joined = (only.drillID, "the one open drill when you first recorded")
        return only
    }

    /// The drill to read: the one named, else this operator's current drill, else the store's
    /// latest open one, else its latest.
    /// What is wrong with the drill's chain (its fast walk, as `failback verify`), as the line a
    /// reading command warns with and a report's banner: "chain BROKEN at seq N ...: this is not
    /// evidence". Nil when the chain is intact.
    public func chainWarning(_ drillID: String) throws -> String? {
        let report = try store.verify(drill: drillID, deep: false, closingTypes: EventCatalogue.closingTypes)
        guard !report.isIntact else { return nil }
        return report.finding + ": this is not evidence (run 'failback verify')"
    }

    public func drillForReading(_ id: String?) throws -> DrillHead {
        if let id {
            guard let drill = try store.drill(id) else { throw StoreError(.unknownDrill, "no drill \(id) in this store", subject: .drill(id)) }
            return drill
        }
        if let joined {
            guard let drill = try store.drill(joined.drill) else {
                throw StoreError(
                    .unknownDrill, "your current drill \(joined.drill) (\(joined.source)) is not in this store: join one with 'failback drill join ID' or pass --drill ID")
            }
            return drill
        }
        if let current = try store.currentDrill() { return current }
        guard let latest = try store.drills().last else { throw StoreError(.unknownDrill, "the store has no drills yet") }
        return latest
    }

    /// Joins the drill `id` (which must be open): records `OperatorJoined` with `role`. The caller
    /// keeps it as this operator's current drill (`JoinedDrill.write`).
    public func joinDrill(_ id: String, role: String?, idempotencyKey: String? = nil) throws -> AppendOutcome {
        let drill = try drillForWriting(id)
        return try record(try OperatorJoined(role: role), drill: drill.drillID, idempotencyKey: idempotencyKey)
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
        // At most two batches prepared ahead of the committing thread.
        let prepared = HandOff<[EventDraft]>(depth: 2)
        // The preparing thread alone uses this recorder's redactor until it finishes (`done`).
        let preparer = HandedOver(self)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            defer { done.signal() }
            let recorder = preparer.value
            while !prepared.isCancelled, let payloads = nextBatch() {
                do {
                    let time = recorder.context.clock()
                    let drafts = try payloads.map { try recorder.draft($0, drillID: drill, at: time, idempotencyKey: nil) }
                    guard prepared.put(drafts) else { return }
                } catch {
                    prepared.close(failure: PreparationFailure(error: HandedOver(error)))
                    return
                }
            }
            prepared.close()
        }
        defer {
            prepared.cancel()
            done.wait()
        }
        do {
            while let drafts = try prepared.take() { committed(try store.append(drafts)) }
        } catch let failure as PreparationFailure {
            throw failure.error.value
        }
    }
}

/// Why the preparing thread stopped: the error a payload's draft threw.
private struct PreparationFailure: Error {
    let error: HandedOver<any Error>
}
