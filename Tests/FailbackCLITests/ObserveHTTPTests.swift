import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `observe http` against a real HTTP server on loopback (Tests/Fixtures/http/health-server.py).
@Suite struct ObserveHTTPTests {
    /// Starts the server; `status` is the file whose content is the status it answers with.
    final class Server {
        let process = Process()
        let dir: String
        var status: String { "\(dir)/status" }
        let port: Int

        init(dir: String) throws {
            self.dir = dir
            process.executableURL = URL(fileURLWithPath: tool("python3"))
            process.arguments = [repositoryRoot.appendingPathComponent("Tests/Fixtures/http/health-server.py").path, "\(dir)/port", "\(dir)/status"]
            // Not our stdout or stderr: a server holding the runner's output pipe would keep its reader waiting.
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            var port: Int?
            for _ in 0..<100 where port == nil {
                usleep(50_000)
                port = (try? String(contentsOfFile: "\(dir)/port", encoding: .utf8)).flatMap { Int($0) }
            }
            self.port = try #require(port)
        }

        func answer(_ code: Int) throws { try "\(code)".write(toFile: status, atomically: true, encoding: .utf8) }
        var url: String { "http://127.0.0.1:\(port)/health" }

        /// Stops the server (tests call it in `defer`: a test process may end before deinit runs).
        func stop() {
            if process.isRunning { process.terminate() }  // SIGTERM ends it at once; waiting here would hold a test thread
        }

        deinit { stop() }
    }

    @Test func records200And503() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let server = try Server(dir: lab.dir)
        defer { server.stop() }
        try server.answer(200)
        #expect(try lab.failback(["observe", "http", server.url, "--expect-body", "ok"]).status == 0)
        try server.answer(503)
        #expect(try lab.failback(["observe", "http", server.url]).status == 1)
        #expect(try lab.failback(["observe", "http", server.url, "--expect-status", "503"]).status == 0)
        let checks = try lab.events().filter { $0["type"] as? String == "HealthCheckObserved" }.map { $0["payload"] as! [String: Any] }
        #expect(checks.map { $0["status"] as? Int } == [200, 503, 503])
        #expect(checks.map { $0["passed"] as? Bool } == [true, false, true])
        #expect(checks[0]["body_matched"] as? Bool == true)
        #expect((checks[0]["latency_ms"] as! Double) >= 0)
    }

    /// A body longer than what is kept (64 KiB) is a response like any other: its status passes,
    /// and `--expect-body` looks in its first 64 KiB. (The status and time were read after the
    /// body, which the cap cut off: a 200 of 70,000 bytes was recorded as "no response", FAIL.)
    @Test func aLongBodyIsAResponse() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let server = try Server(dir: lab.dir)
        defer { server.stop() }
        let big = server.url.replacingOccurrences(of: "/health", with: "/big")
        #expect(try lab.failback(["observe", "http", big]).status == 0)
        #expect(try lab.failback(["observe", "http", big, "--expect-body", "big-start"]).status == 0)
        #expect(try lab.failback(["observe", "http", big, "--expect-body", "big-end"]).status == 1)
        let checks = try lab.events().filter { $0["type"] as? String == "HealthCheckObserved" }.map { $0["payload"] as! [String: Any] }
        #expect(checks.map { $0["status"] as? Int } == [200, 200, 200])
        #expect(checks.map { $0["passed"] as? Bool } == [true, true, false])
        #expect(checks.map { $0["body_matched"] as? Bool } == [nil, true, false])
    }

    @Test func untilLoopRecordsEverySampleThenTheVerdict() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let server = try Server(dir: lab.dir)
        defer { server.stop() }
        try server.answer(503)
        let flip = DispatchWorkItem { try? server.answer(200) }
        DispatchQueue.global().asyncAfter(deadline: .now() + 1.0, execute: flip)
        let o = try lab.failback(["observe", "http", server.url, "--until", "status=200", "--every", "300ms", "--timeout", "20s"])
        #expect(o.status == 0)
        let all = try lab.events()
        let samples = all.filter { $0["type"] as? String == "HealthCheckObserved" }
        #expect(samples.count >= 3)
        #expect((samples.last!["payload"] as! [String: Any])["status"] as? Int == 200)
        let verdict = all.last!
        #expect(verdict["type"] as? String == "WaitConcluded")
        let v = verdict["payload"] as! [String: Any]
        #expect(v["met"] as? Bool == true && v["samples"] as? Int == samples.count && v["condition"] as? String == "status=200")
    }

    @Test func anUnreachableOrSlowTargetIsAnObservationAndNeverAHang() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let refused = try lab.failback(["observe", "http", "http://127.0.0.1:9/health"])
        #expect(refused.status == 1)
        let e = try lab.events().last!["payload"] as! [String: Any]
        #expect(e["status"] == nil && (e["error"] as! String).contains("Failed to connect"))
        let server = try Server(dir: lab.dir)
        defer { server.stop() }
        let t0 = Date()
        let slow = try lab.failback(["observe", "http", "http://127.0.0.1:\(server.port)/slow", "--until", "pass", "--timeout", "1s", "--every", "200ms"])
        #expect(slow.status == 1)
        #expect(Date().timeIntervalSince(t0) < 2.5, "observe ran past its timeout")
        let verdict = try lab.events().last!
        #expect(verdict["type"] as? String == "WaitConcluded" && (verdict["payload"] as! [String: Any])["met"] as? Bool == false)
    }

    @Test func badConditionsAndDurationsAreRefused() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let before = try lab.eventCount
        for (args, message) in [
            (["--until", "lag<5s"], "this probe measures latency, status, not \"lag\""),
            (["--until", "status=two"], "\"two\" is not a number"),
            (["--until", "pass", "--every", "soon"], "--every \"soon\" is not a duration"),
        ] {
            let o = try lab.failback(["observe", "http", "http://127.0.0.1:9/"] + args)
            // A duration that is not one is a command-line error (64), like `--seconds abc`.
            #expect(o.status == (args.contains("--every") ? 64 : 65) && o.stderr.contains(message), "\(o.stderr)")
        }
        #expect(try lab.eventCount == before)
    }
}
