// The log benchmark (run by scripts/bench-log; prints one JSON object).
//
//   failback-bench --dir DIR [--events N] [--batch B] [--single N]
//
// 1. Batched appends: N events through the whole recorder path (payload, redaction, RFC 8785,
//    SHA-256 chain, SQLite) in transactions of B events, against a baseline of raw SQLite prepared
//    INSERTs of the very same rows (same schema, same pragmas, same transaction size), in this
//    process. Runs alternate (baseline, ours, baseline, ours); the best of each counts.
// 2. Durable single-event appends: one event per transaction (fsync per commit), events/second.
// Leaves DIR/ours.sqlite (N events in one drill) for the verify benchmark.
//
//   failback-bench --read-phases STORE
//   failback-bench --redaction [EVENTS]   (redaction alone: RedactionBench.swift)
//
// 3. Reading a store's largest drill, phase by phase: raw SQLite rows (the baseline), + event
//    envelopes, + typed payloads, + the drill's state; each as ms and as a multiple of the rows.
import CSQLite
import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

func warn(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

func argument(_ flag: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: flag), i + 1 < args.count, let v = Int(args[i + 1]) else { return fallback }
    return v
}

func seconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

func check(_ rc: Int32, _ db: OpaquePointer?, _ what: String) {
    if rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW {
        warn("bench: \(what): \(String(cString: sqlite3_errmsg(db)))")
        exit(1)
    }
}

let args = CommandLine.arguments
if let i = args.firstIndex(of: "--read-phases"), i + 1 < args.count {
    readPhases(args[i + 1])
    exit(0)
}
if args.contains("--redaction") {
    redactionBench(events: argument("--redaction", 1_000_000))
    exit(0)
}
guard let dirIndex = args.firstIndex(of: "--dir"), dirIndex + 1 < args.count else {
    warn("usage: failback-bench --dir DIR [--events N] [--batch B] [--single N]")
    exit(64)
}
let dir = args[dirIndex + 1]
let total = argument("--events", 1_000_000)
let batchSize = argument("--batch", 1000)
let singles = argument("--single", 2000)
/// The synthetic drills of this tool follow a one-phase runbook, read like any other.
let syntheticRunbook = try! RunbookLoader.load(
    bytes: Array(
        """
        format: failback-runbook/1
        id: bench
        title: Synthetic bench drill
        version: "1"
        phases: [{id: record, title: Record samples, steps: [{id: sample, title: Sample}]}]
        """.utf8), source: "bench (built in)")

let context = RecordingContext(actor: "bench", host: "bench-host")

/// The payloads of the benchmark drill: replication lag samples and row counts, as a drill records them.
@Sendable func payloads(_ start: Int, _ count: Int) -> [any EventPayload] {
    var result: [any EventPayload] = []
    result.reserveCapacity(count)
    for i in start..<(start + count) {
        if i % 2 == 0 {
            result.append(try! ReplicationLagSampled(lagSeconds: Double(i % 1000) / 100, source: "dr", target: "primary"))
        } else {
            let site = i % 4 == 1 ? "dr" : "primary"
            result.append(try! RowCountSampled(table: "events", site: site, count: 1_000_000 + i))
        }
    }
    return result
}

/// Ours: the recorder's batched append path into a new store. Returns seconds.
func runOurs(_ path: String) throws -> Double {
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    try SQLiteEventStore.create(at: path)
    let recorder = Recorder(store: try SQLiteEventStore(openingAt: path), context: context)
    let drill = try recorder.startDrill(DrillStarted(runbook: syntheticRunbook)).event.drillID
    let t0 = seconds()
    let next = BatchCounter(total: total, size: batchSize)
    try recorder.record(batchesFrom: { next.take().map { payloads($0.start, $0.count) } }, drill: drill) { _ in }
    return seconds() - t0
}

/// Hands out the ranges of the benchmark's batches, in order (called from the preparing thread).
final class BatchCounter: @unchecked Sendable {
    private var written = 0
    let total: Int, size: Int
    init(total: Int, size: Int) {
        self.total = total
        self.size = size
    }
    func take() -> (start: Int, count: Int)? {
        guard written < total else { return nil }
        let n = min(size, total - written)
        defer { written += n }
        return (written, n)
    }
}

/// The rows a store holds, to replay as raw INSERTs.
struct Row { var seq: Int64; var drill: String; var drillSeq: Int64; var type: String; var at: String; var canonical: [UInt8]; var hash: [UInt8]; var leafHash: [UInt8] }

func readRows(_ path: String) -> [Row] {
    var db: OpaquePointer?
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil), db, "open")
    var stmt: OpaquePointer?
    check(sqlite3_prepare_v2(db, "SELECT seq, drill_id, drill_seq, type, recorded_at, canonical, hash, leaf_hash FROM events ORDER BY seq", -1, &stmt, nil), db, "prepare")
    var rows: [Row] = []
    rows.reserveCapacity(total + 1)
    func text(_ i: Int32) -> String { String(cString: sqlite3_column_text(stmt, i)) }
    func blob(_ i: Int32) -> [UInt8] { Array(UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, i), count: Int(sqlite3_column_bytes(stmt, i)))) }
    while sqlite3_step(stmt) == SQLITE_ROW {
        rows.append(
            Row(
                seq: sqlite3_column_int64(stmt, 0), drill: text(1), drillSeq: sqlite3_column_int64(stmt, 2), type: text(3), at: text(4), canonical: blob(5), hash: blob(6),
                leafHash: blob(7)))
    }
    sqlite3_finalize(stmt)
    sqlite3_close(db)
    return rows
}

/// The baseline: the same rows, raw prepared INSERTs, same schema, pragmas and transaction size. Returns seconds.
func runRaw(_ path: String, _ rows: [Row]) throws -> Double {
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    try SQLiteEventStore.create(at: path)  // the identical schema
    var db: OpaquePointer?
    check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, nil), db, "open")
    check(sqlite3_exec(db, "PRAGMA synchronous = FULL", nil, nil, nil), db, "pragma")
    var stmt: OpaquePointer?
    check(
        sqlite3_prepare_v2(
            db, "INSERT INTO events (seq, drill_id, drill_seq, type, recorded_at, idempotency_key, canonical, hash, leaf_hash) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)", -1, &stmt,
            nil), db, "prepare")
    let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    let t0 = seconds()
    var i = 0
    while i < rows.count {
        check(sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil), db, "begin")
        for row in rows[i..<min(i + batchSize, rows.count)] {
            sqlite3_reset(stmt)
            sqlite3_bind_int64(stmt, 1, row.seq)
            sqlite3_bind_text(stmt, 2, row.drill, -1, transient)
            sqlite3_bind_int64(stmt, 3, row.drillSeq)
            sqlite3_bind_text(stmt, 4, row.type, -1, transient)
            sqlite3_bind_text(stmt, 5, row.at, -1, transient)
            row.canonical.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, 6, $0.baseAddress, Int32($0.count), transient) }
            row.hash.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, 7, $0.baseAddress, Int32($0.count), transient) }
            row.leafHash.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, 8, $0.baseAddress, Int32($0.count), transient) }
            check(sqlite3_step(stmt), db, "insert")
        }
        check(sqlite3_exec(db, "COMMIT", nil, nil, nil), db, "commit")
        i += batchSize
    }
    let elapsed = seconds() - t0
    sqlite3_finalize(stmt)
    sqlite3_close(db)
    return elapsed
}

/// Durable single-event appends through the recorder (one transaction, one fsync each).
func runSingles(_ path: String) throws -> Double {
    for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) }
    try SQLiteEventStore.create(at: path)
    let recorder = Recorder(store: try SQLiteEventStore(openingAt: path), context: context)
    _ = try recorder.startDrill(DrillStarted(runbook: syntheticRunbook))
    let t0 = seconds()
    for i in 0..<singles { _ = try recorder.record(ReplicationLagSampled(lagSeconds: Double(i % 100) / 10, source: "dr", target: "primary")) }
    return seconds() - t0
}

do {
    let ours = "\(dir)/ours.sqlite", raw = "\(dir)/raw.sqlite"
    var oursBest = Double.infinity, rawBest = Double.infinity
    oursBest = min(oursBest, try runOurs(ours))
    let rows = readRows(ours)
    rawBest = min(rawBest, try runRaw(raw, rows))
    oursBest = min(oursBest, try runOurs(ours))
    rawBest = min(rawBest, try runRaw(raw, rows))
    let singleSeconds = try runSingles("\(dir)/singles.sqlite")
    for suffix in ["", "-wal", "-shm"] { unlink(raw + suffix) }
    let bytes = rows.reduce(0) { $0 + $1.canonical.count }
    print(
        """
        {"events": \(total), "batch": \(batchSize), "mean_event_bytes": \(bytes / max(rows.count, 1)), \
        "ours_seconds": \(oursBest), "raw_seconds": \(rawBest), "ours_events_per_second": \(Int(Double(total) / oursBest)), \
        "raw_rows_per_second": \(Int(Double(rows.count) / rawBest)), "append_ratio": \(rawBest / oursBest), \
        "single_appends": \(singles), "single_appends_per_second": \(Int(Double(singles) / singleSeconds))}
        """)
} catch {
    warn("bench: \(error)")
    exit(1)
}

/// `--read-phases STORE`: where the time of reading a drill goes, phase by phase (each run adds one
/// phase to the one before): rows, envelopes, typed payloads, the drill's state. Best of 3 each.
func readPhases(_ path: String) {
    do {
        let store = try SQLiteEventStore(openingAt: path)
        guard let drill = try store.drills().max(by: { $0.eventCount < $1.eventCount }) else { return warn("bench: no drill") }
        var rowsMs = 0.0
        func best(_ name: String, _ body: () throws -> Void) throws {
            var times: [Double] = []
            for _ in 0..<3 { let t0 = seconds(); try body(); times.append(seconds() - t0) }
            let ms = times.min()! * 1000
            if rowsMs == 0 { rowsMs = ms }
            print("\(name): \(Int(ms)) ms (\((ms / rowsMs * 10).rounded() / 10)x the rows)")
        }
        var n = 0
        try best("rows (SQLite, blobs copied)") {
            var db: OpaquePointer?, stmt: OpaquePointer?
            check(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil), db, "open")
            check(
                sqlite3_prepare_v2(db, "SELECT seq, canonical, hash FROM events WHERE drill_id = ? AND drill_seq BETWEEN 1 AND ? ORDER BY drill_seq", -1, &stmt, nil), db, "prepare"
            )
            sqlite3_bind_text(stmt, 1, drill.drillID, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
            sqlite3_bind_int64(stmt, 2, Int64.max)
            while sqlite3_step(stmt) == SQLITE_ROW {
                let c = [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, 1), count: Int(sqlite3_column_bytes(stmt, 1))))
                let h = [UInt8](UnsafeRawBufferPointer(start: sqlite3_column_blob(stmt, 2), count: Int(sqlite3_column_bytes(stmt, 2))))
                n += (c.count + h.count) > 0 ? 1 : 0
            }
            sqlite3_finalize(stmt)
            sqlite3_close(db)
        }
        try best("rows + envelopes") { try store.forEachEvent(drill: drill.drillID) { _ in n += 1 } }
        try best("+ typed payloads") { try store.forEachEvent(drill: drill.drillID) { e in if try! EventCatalogue.decode(e) != nil { n += 1 } } }
        try best("+ drill state") {
            var state = DrillState()
            try store.forEachEvent(drill: drill.drillID) { e in try! state.apply(e) }
            n += state.eventCount
        }
        print("events read: \(n / 12)")
    } catch {
        warn("bench: \(error)")
        exit(1)
    }
}
