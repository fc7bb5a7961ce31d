import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `observe prometheus` against answers a real Prometheus would not give, or gives rarely: a
/// fake server (Python's http.server) answers each case by the path prefix in `--url`.
@Suite struct PrometheusAnswersTests {
    /// Canned answers, by case.
    static let answers: [String: String] = [
        "hugetime": #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e300,"0"]}]}}"#,
        "empty": #"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        "nan": #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796594377.5,"NaN"]}]}}"#,
        "inf": #"{"status":"success","data":{"resultType":"scalar","result":[1796594377.5,"+Inf"]}}"#,
        "hex": #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796594377.5,"0x1p-20"]}]}}"#,
        "warned": #"{"status":"success","warnings":["partial response: store down"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1796594377.5,"0"]}]}}"#,
        "duplicate": #"{"status":"success","status":"error"}"#,
        "big": #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1796594377.5,"9007199254740993"]}]}}"#,
    ]

    /// A fake Prometheus on a free port; returns its base URL and the process.
    static func fake(in dir: String) throws -> (String, Process) {
        let data = try JSONSerialization.data(withJSONObject: answers)
        try data.write(to: URL(fileURLWithPath: "\(dir)/answers.json"))
        let script = """
            import http.server, json, os, signal, sys
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
            answers = json.load(open(sys.argv[1]))
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    self.rfile.read(int(self.headers.get("Content-Length", 0)))
                    case = self.path.strip("/").split("/")[0]
                    body = answers.get(case, "{}").encode()
                    self.send_response(200 if case in answers else 404)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.serve_forever()
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool("python3"))
        p.arguments = ["-c", script, "\(dir)/answers.json"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let port = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return ("http://127.0.0.1:\(port)", p)
    }

    @Test func oddAnswersGetTrueVerdicts() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let (base, server) = try Self.fake(in: lab.dir)
        defer { server.terminate() }
        func ask(_ name: String, _ more: [String] = []) throws -> Outcome {
            try lab.failback(["observe", "prometheus", "--url", "\(base)/\(name)", "--name", name, "--query", "up"] + more)
        }
        // A time no Prometheus gives: a failed observation, not a crash.
        let huge = try ask("hugetime", ["--expect", "value<0.1%"])
        #expect(huge.status == 1 && summaries(huge) == ["hugetime: a series without a [time, value]"], "\(huge.stdout) \(huge.stderr)")
        // No series: no condition holds, not even `!=`, and `--until` is not met.
        let empty = try ask("empty", ["--expect", "value!=1"])
        #expect(empty.status == 1 && summaries(empty) == ["empty: no series (value!=1 ✗)"], "\(empty.stdout)")
        let waited = try ask("empty", ["--until", "value!=1", "--every", "100ms", "--timeout", "1s"])
        #expect(waited.status == 1 && summaries(waited).last?.hasPrefix("prometheus empty: until value!=1 TIMED OUT") == true, "\(waited.stdout)")
        // NaN and +Inf kept as the text Prometheus wrote; they meet no numeric condition, nor null.
        let nan = try ask("nan", ["--expect", "value<1", "--expect", "value=null"])
        #expect(nan.status == 1 && summaries(nan) == [#"nan: "NaN" (value<1 ✗, value=null ✗)"#], "\(nan.stdout)")
        let inf = try ask("inf", ["--expect", "value=+Inf"])
        #expect(inf.status == 0 && summaries(inf) == [#"inf: "+Inf" (value=+Inf ✓)"#], "\(inf.stdout)")
        // Hex is not how Prometheus writes numbers: kept as written, not read as 9.5e-7.
        let hex = try ask("hex", ["--expect", "value<1"])
        #expect(hex.status == 1 && summaries(hex) == [#"hex: "0x1p-20" (value<1 ✗)"#], "\(hex.stdout)")
        // Warnings: kept, and no pass.
        let warned = try ask("warned", ["--expect", "value=0"])
        #expect(warned.status == 1 && summaries(warned) == ["warned: 0 (value=0 ✓); Prometheus warns: partial response: store down"], "\(warned.stdout)")
        // Not an answer: named as such.
        let dup = try ask("duplicate")
        #expect(
            dup.status == 1 && summaries(dup) == [#"duplicate: HTTP 200: not an answer of Prometheus's API: no JSON: line 1, column 21: duplicate object key "status""#],
            "\(dup.stdout)")
        try lab.expectValidAgainstSchemas()
        let events = try lab.payloads("PrometheusQueryEvaluated")
        let nanSeries = try #require((events.first { $0["name"] as? String == "nan" })?["series"] as? [[String: Any]])
        #expect(nanSeries.first?["value"] as? String == "NaN")
    }

    @Test func aBadURLIsOneLineWithoutItsPassword() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let ftp = try lab.failback(["observe", "prometheus", "--url", "ftp://admin:ErrPw77@127.0.0.1:9", "--query", "up"])
        #expect(ftp.status == 65 && ftp.stderr == "failback: error: --url \"ftp://127.0.0.1:9\" is not an http:// or https:// URL\n", "\(ftp.stderr)")
        let query = try lab.failback(["observe", "prometheus", "--url", "http://u:pw@127.0.0.1:9/x?token=abc", "--query", "up"])
        #expect(query.status == 65 && query.stderr == "failback: error: --url \"http://127.0.0.1:9/x?token=abc\": the server's address, without a query or fragment\n")
        let http = try lab.failback(["observe", "http", "ftp://admin:ErrPw77@127.0.0.1:9/"])
        #expect(http.status == 65 && !http.stderr.contains("ErrPw77"), "\(http.stderr)")
        let name = try lab.failback(["observe", "prometheus", "--url", "http://127.0.0.1:9", "--query", "up", "--expect", "rate<1"])
        #expect(name.status == 64 && name.stderr == "failback: error: --expect \"rate<1\": no value named \"rate\" (this probe reads value; its one value)\n", "\(name.stderr)")
    }
}
