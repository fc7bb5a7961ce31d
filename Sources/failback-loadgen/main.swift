// Appends events in a loop for the crash, concurrency and benchmark tests.
//
//   failback-loadgen --store PATH|URL [--drill ID] [--count N] [--batch B] [--writer NAME] [--complete] [--quiet]
//
// Without --drill it starts a drill and prints "drill <id>". It then appends --count lag samples
// (in transactions of --batch events) and prints "ack <seq>" for each event once its transaction
// has committed durably; a test that kills this process checks that every acked event survived.
// --complete then completes the drill (its outcome worked out: failed, as no phase ran); --quiet
// prints no acks. The store is an SQLite file or a PostgreSQL URL, as for failback.
import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

func value(_ flag: String) -> String? {
    let args = CommandLine.arguments
    guard let i = args.firstIndex(of: flag), i + 1 < args.count else { return nil }
    return args[i + 1]
}

func say(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { p in
        var offset = 0
        while offset < p.count {
            let n = write(1, p.baseAddress! + offset, p.count - offset)
            if n <= 0 { exit(3) }
            offset += n
        }
    }
}

/// The synthetic drills of this tool follow a one-phase runbook, read like any other.
let syntheticRunbook = try! RunbookLoader.load(
    bytes: Array(
        """
        format: failback-runbook/1
        id: loadgen
        title: Synthetic loadgen drill
        version: "1"
        phases: [{id: record, title: Record samples, steps: [{id: sample, title: Sample}]}]
        """.utf8), source: "loadgen (built in)")

guard let storePath = value("--store") else {
    say("usage: failback-loadgen --store PATH [--drill ID] [--count N] [--batch B] [--writer NAME]")
    exit(64)
}
let count = Int(value("--count") ?? "") ?? Int.max
let batch = max(1, Int(value("--batch") ?? "") ?? 1)
let writer = value("--writer") ?? "w\(getpid())"

do {
    let workspace = Workspace(store: storePath)
    _ = try workspace.initialize()
    let store = try workspace.openStore()
    let recorder = Recorder(store: store, context: .fromEnvironment(actor: writer))
    var drill = value("--drill")
    if drill == nil {
        let started = try recorder.startDrill(DrillStarted(runbook: syntheticRunbook))
        drill = started.event.drillID
        say("drill \(drill!)")
    }
    var written = 0
    while written < count {
        let n = min(batch, count - written)
        let payloads: [any EventPayload] = try (0..<n).map { i in
            try RowCountSampled(table: writer, site: "loadgen", count: written + i)
        }
        let outcomes = try recorder.record(batch: payloads, drill: drill)
        if !CommandLine.arguments.contains("--quiet") { for outcome in outcomes { say("ack \(outcome.event.seq)") } }
        written += n
    }
    if CommandLine.arguments.contains("--complete") { _ = try recorder.completeDrill(drill: drill) }
} catch {
    say("error \(error)")
    exit(1)
}
