import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Credentials never on a command line (issue 20 §2): every local user can read any process's
/// argv (`ps`, /proc/PID/cmdline). A probe runs against a listener that accepts and never
/// answers, so that it stays waiting, and every process's command line is read meanwhile: curl is
/// seen and the password is in none of them; the PostgreSQL probes run no child at all.
@Suite(.serialized) struct CredentialsTests {
    /// A TCP socket on loopback that listens and never accepts or answers: connections complete
    /// (the kernel's backlog), then wait.
    final class SilentListener {
        let fd: Int32
        let port: UInt16

        init() throws {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
            let listening = bound == 0 && listen(s, 16) == 0
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
            fd = s
            port = UInt16(bigEndian: address.sin_port)
            try #require(listening)
        }

        deinit { close(fd) }
    }

    /// Every process's command line (NULs as spaces) and parent, by pid.
    static func commandLines() -> [Int: (parent: Int, line: String)] {
        var lines: [Int: (parent: Int, line: String)] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int(entry), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let stat = FileManager.default.contents(atPath: "/proc/\(pid)/stat")
            else { continue }
            // "pid (comm) state ppid ...": the parent is the second field after the last ')'.
            let afterName = String(decoding: stat, as: UTF8.self).split(separator: ")").last ?? ""
            let parent = afterName.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
            lines[pid] = (parent, String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self))
        }
        return lines
    }

    /// Whether `pid` descends from `ancestor`.
    static func descends(_ pid: Int, from ancestor: Int, in table: [Int: (parent: Int, line: String)]) -> Bool {
        var at = pid, steps = 0
        while let parent = table[at]?.parent, parent > 1, steps < 64 {
            if parent == ancestor { return true }
            at = parent
            steps += 1
        }
        return false
    }

    /// Runs `failback ARGS` in the background and reads every other process's command line every
    /// 20 ms while it runs: the lines of the `child` program, and the lines that held `secret`.
    func watch(_ lab: Lab, _ arguments: [String], child: String, secret: String) throws -> (seen: [String], leaked: [String], status: Int32) {
        let process = Process()
        process.executableURL = buildDirectory.appendingPathComponent("failback")
        process.arguments = arguments + ["--store", lab.store]
        var env = ProcessInfo.processInfo.environment
        env["FAILBACK_ACTOR"] = "tester"
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        var seen: Set<String> = [], leaked: Set<String> = []
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline {
            // Not failback's own command line (where the person typed it), nor a child's before it
            // runs its program (a copy of failback's until then), nor ours.
            let failback = process.executableURL!.path + " "
            let table = Self.commandLines()
            for (pid, entry) in table where pid != Int(getpid()) && !entry.line.hasPrefix(failback) {
                let line = entry.line
                // The child: its program's name is `child` (psql is run by its full path), run by
                // this failback (not another test's or the lab's).
                if line.split(separator: " ").first?.split(separator: "/").last == Substring(child),
                    Self.descends(pid, from: Int(process.processIdentifier), in: table)
                {
                    seen.insert(line)
                }
                if line.contains(secret) { leaked.insert(line) }
            }
            usleep(20_000)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (seen.sorted(), leaked.sorted(), process.terminationStatus)
    }

    @Test(arguments: [
        "host=127.0.0.1 port=PORT dbname=x user=u password=Hunter2secretPG",
        "host=127.0.0.1 port=PORT dbname=x user=u password = 'Hunter2secretPG' sslmode=disable",
        "postgresql://u:Hunter2secretPG@127.0.0.1:PORT/x",
        "postgresql://u@127.0.0.1:PORT/x?password=Hunter2secretPG&sslmode=disable",
    ])
    func postgresProbesRunNoChildAndShowThePasswordNowhere(conninfo: String) throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let listener = try SilentListener()
        let target = conninfo.replacingOccurrences(of: "PORT", with: String(listener.port))
        let result = try watch(lab, ["observe", "recovery", "--postgres", target, "--timeout", "3s"], child: "psql", secret: "Hunter2secretPG")
        #expect(result.status == 1)
        // The probe asks through libpq in its own process: no psql, so no command line to read.
        #expect(result.seen.isEmpty, "a psql child ran: \(result.seen)")
        #expect(result.leaked.isEmpty, "the password is on a command line: \(result.leaked)")
        let observed = try #require(try lab.payloads("RecoveryStateObserved").first)
        #expect((observed["error"] as? String)?.isEmpty == false)
        #expect(!(try lab.rawStoreBytes()).contains(Data("Hunter2secretPG".utf8)))
    }

    @Test func curlNeverSeesTheURLOnItsCommandLine() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let listener = try SilentListener()
        let url = "http://monitor:Hunter2secretHTTP@127.0.0.1:\(listener.port)/health"
        let result = try watch(lab, ["observe", "http", url, "--timeout", "2s"], child: "curl", secret: "Hunter2secretHTTP")
        #expect(result.status == 1)
        // curl's command line names no URL at all (it reads it from its standard input).
        #expect(!result.seen.isEmpty, "curl was never seen running")
        #expect(result.seen.allSatisfy { $0.contains("--config -") && !$0.contains("127.0.0.1") }, "\(result.seen)")
        #expect(result.leaked.isEmpty, "the password is on a command line: \(result.leaked)")
        let check = try #require(try lab.payloads("HealthCheckObserved").first)
        #expect((check["error"] as? String)?.contains("Operation timed out") == true, "\(check)")
        #expect(!(try lab.rawStoreBytes()).contains(Data("Hunter2secretHTTP".utf8)))
    }
}
