import Foundation
import Testing

/// The folder holding the built `failback` and `failback-loadgen` (beside the test bundle).
let buildDirectory: URL = {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
}()

let repositoryRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
    var stderrLines: [Substring] { stderr.split(separator: "\n") }
}

/// Runs a program to completion and captures what it printed.
@discardableResult
func run(_ executable: String, _ arguments: [String], cwd: String? = nil, env: [String: String] = [:], stdin: Data? = nil) throws -> Outcome {
    let process = Process()
    process.executableURL = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : buildDirectory.appendingPathComponent(executable)
    process.arguments = arguments
    if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    var environment = ProcessInfo.processInfo.environment
    environment["FAILBACK_STORE"] = nil
    environment["FAILBACK_CONFIG"] = nil
    environment["FAILBACK_ACTOR"] = "tester"
    environment["FAILBACK_DRILL"] = nil
    // Operators' current drills (`drill join`) kept apart from the machine's own.
    environment["FAILBACK_STATE_DIR"] = FileManager.default.temporaryDirectory.appendingPathComponent("failback-test-state").path
    for (k, v) in env { environment[k] = v }
    process.environment = environment
    // Output goes to temporary files: no pipe can fill up and stall the child.
    let outURL = FileManager.default.temporaryDirectory.appendingPathComponent("out-\(UUID().uuidString)")
    let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("err-\(UUID().uuidString)")
    #expect(FileManager.default.createFile(atPath: outURL.path, contents: nil), "made \(outURL.path)")
    #expect(FileManager.default.createFile(atPath: errURL.path, contents: nil), "made \(errURL.path)")
    defer {
        try? FileManager.default.removeItem(at: outURL)
        try? FileManager.default.removeItem(at: errURL)
    }
    let outHandle = try FileHandle(forWritingTo: outURL), errHandle = try FileHandle(forWritingTo: errURL)
    let input = Pipe()
    process.standardOutput = outHandle
    process.standardError = errHandle
    process.standardInput = input
    try process.run()
    try outHandle.close()
    try errHandle.close()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
    return Outcome(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// Locates a tool on PATH.
/// The summary column of each line a recording command printed (the event's one-line summary).
func summaries(_ o: Outcome) -> [String] {
    o.stdout.split(separator: "\n").map { line in
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        return fields.count > 4 ? String(fields[4]) : String(line)
    }
}

func tool(_ name: String) -> String {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return "/usr/bin/\(name)"
}

/// A fresh folder with a store in it, and `failback` run against that store.
final class Lab {
    let dir: String
    var store: String { "\(dir)/ledger.sqlite" }

    init(initialize: Bool = true) throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("failback-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if initialize { try expectSuccess(["init"]) }
    }

    deinit {
        _ = try? run("/bin/chmod", ["-R", "u+w", dir])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `failback` with `--store` pointing here.
    @discardableResult
    func failback(_ arguments: [String], env: [String: String] = [:], stdin: Data? = nil) throws -> Outcome {
        // An option may follow the arguments of any subcommand; only what comes after `--` is not ours.
        var args = arguments
        args.insert(contentsOf: ["--store", store], at: arguments.firstIndex(of: "--") ?? arguments.count)
        return try run("failback", args, cwd: dir, env: env, stdin: stdin)
    }

    @discardableResult
    func expectSuccess(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> Outcome {
        let o = try failback(arguments)
        #expect(o.status == 0, "failback \(arguments.joined(separator: " ")) failed: \(o.stderr)", sourceLocation: sourceLocation)
        return o
    }

    /// Starts a drill of a shipped runbook (by id, found in the repository's runbooks/) and returns its id.
    func startDrill(_ runbook: String = "failback-bud", option: String? = nil) throws -> String {
        let args = ["drill", "start", "--runbook", runbook, "--operator", "alice", "--ticket", "CHG-1"] + (option.map { ["--option", $0] } ?? [])
        let o = try failback(args, env: ["FAILBACK_RUNBOOKS": repositoryRoot.appendingPathComponent("runbooks").path])
        #expect(o.status == 0, "drill start failed: \(o.stderr)")
        return o.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every event of the store, as `failback log --json` prints them.
    func events() throws -> [[String: Any]] {
        try expectSuccess(["log", "--json"]).stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// The payloads of the events of one type, in order.
    func payloads(_ type: String) throws -> [[String: Any]] {
        try events().filter { $0["type"] as? String == type }.map { $0["payload"] as! [String: Any] }
    }

    /// Requires every event of the store to validate against `schemas/` (Python jsonschema).
    func expectValidAgainstSchemas(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = "\(dir)/events.jsonl"
        try expectSuccess(["log", "--json"]).stdout.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try python("validate-events.py", [file])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
    }

    /// Runs SQL with the real `sqlite3` command-line shell.
    @discardableResult
    func sqlite(_ sql: String, store: String? = nil) throws -> Outcome {
        try run(tool("sqlite3"), [store ?? self.store, sql])
    }

    var eventCount: Int {
        get throws { Int(try sqlite("SELECT count(*) FROM events").stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1 }
    }

    /// The store's files as raw bytes (the database and any WAL).
    func rawStoreBytes() throws -> Data {
        var data = Data()
        for suffix in ["", "-wal", "-journal"] where FileManager.default.fileExists(atPath: store + suffix) {
            data.append(try Data(contentsOf: URL(fileURLWithPath: store + suffix)))
        }
        return data
    }
}

func python(_ script: String, _ arguments: [String]) throws -> Outcome {
    try run(tool("python3"), [repositoryRoot.appendingPathComponent("scripts/\(script)").path] + arguments)
}

/// A command run under `timeout` and GNU time: what it printed, its peak memory and how long it took.
struct Measured {
    var outcome: Outcome
    /// Peak resident memory (`/usr/bin/time -f %M`), KiB.
    var peakKiB: Int
    var seconds: Double
    var peakMiB: Double { Double(peakKiB) / 1024 }
}

/// Runs `executable arguments` (a path, or a name built beside the tests) with `timeout -s KILL
/// limit` and `/usr/bin/time -f %M` around it; `feeder`, a shell command, writes its standard input
/// when given (`yes` for an input that never ends). GNU time is installed by scripts/setup.
func measured(_ executable: String, _ arguments: [String], feeder: String? = nil, limit: Int = 60, env: [String: String] = [:]) throws -> Measured {
    let time = "/usr/bin/time"
    try #require(FileManager.default.isExecutableFile(atPath: time), "GNU time is missing (scripts/setup installs it)")
    let memory = FileManager.default.temporaryDirectory.appendingPathComponent("mem-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: memory) }
    let path = executable.hasPrefix("/") ? executable : buildDirectory.appendingPathComponent(executable).path
    let command = "timeout -s KILL \(limit) \(time) -f %M -o \"$0\" \"$@\""
    let script = feeder.map { "\($0) | \(command)" } ?? "\(command) </dev/null"
    let started = Date()
    let outcome = try run("/bin/sh", ["-c", script, memory, path] + arguments, env: env)
    let seconds = Date().timeIntervalSince(started)
    // GNU time writes "Command exited with non-zero status N" before the number when it did.
    let text = (try? String(contentsOfFile: memory, encoding: .utf8)) ?? ""
    let peak = text.split(separator: "\n").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } ?? -1
    return Measured(outcome: outcome, peakKiB: peak, seconds: seconds)
}

extension Lab {
    /// `failback ARGS --store STORE`, measured (see `measured`).
    func measuredFailback(_ arguments: [String], feeder: String? = nil, limit: Int = 60, env: [String: String] = [:]) throws -> Measured {
        var args = arguments
        args.insert(contentsOf: ["--store", store], at: arguments.firstIndex(of: "--") ?? arguments.count)
        return try measured("failback", args, feeder: feeder, limit: limit, env: env)
    }
}

/// Starts `failback-loadgen` with `args`, returning the process and the pipe it prints acks to.
func startLoadgen(_ args: [String]) throws -> (Process, Pipe) {
    let p = Process()
    p.executableURL = buildDirectory.appendingPathComponent("failback-loadgen")
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    return (p, out)
}

/// The complete `ack N` lines a writer printed (a line cut by a kill is not an ack).
func loadgenAcks(_ text: String) -> [Int] {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if !text.hasSuffix("\n") { lines.removeLast() }
    return lines.compactMap { $0.hasPrefix("ack ") ? Int($0.dropFirst(4)) : nil }
}
