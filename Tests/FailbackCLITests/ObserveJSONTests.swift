import Foundation
import Testing

/// `observe json` over output in the formats the runbooks' tools print (Tests/Fixtures/json), with
/// the recipes of docs/cli.md; and its failures, each recorded as a failed observation.
@Suite struct ObserveJSONTests {
    let fixtures = repositoryRoot.appendingPathComponent("Tests/Fixtures/json").path

    /// Every recipe of docs/cli.md against its tool's output: the values read, each condition's
    /// verdict, the exit status.
    @Test func theRecipesReadTheRealFormats() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let recipes: [(file: String, args: [String], status: Int32, summary: String)] = [
            (
                "nats-stream-info.json", ["--name", "CSR_EVENTS stream", "--value", "messages=.state.messages", "--value", "last_seq=.state.last_seq", "--expect", "messages>0"],
                0, "CSR_EVENTS stream: last_seq=1204331, messages=1204331 (messages>0 ✓)"
            ),
            (
                "mc-admin-replicate-status.json",
                [
                    "--name", "minio site replication", "--value", "enabled=.Enabled", "--value", "mismatched=.BucketStats | length", "--expect", "enabled=true", "--expect",
                    "mismatched=0",
                ],
                0, "minio site replication: enabled=true, mismatched=0 (enabled=true ✓, mismatched=0 ✓)"
            ),
            (
                "mc-admin-replicate-status-mismatch.json",
                [
                    "--name", "minio site replication", "--value", "enabled=.Enabled", "--value", "mismatched=.BucketStats | length", "--expect", "enabled=true", "--expect",
                    "mismatched=0",
                ],
                1, "minio site replication: enabled=true, mismatched=1 (enabled=true ✓, mismatched=0 ✗)"
            ),
            ("aws-health-outages-none.json", ["--name", "AWS outages", "--value", "outages=.", "--expect", "outages=empty"], 0, "AWS outages: outages=[] (outages=empty ✓)"),
            (
                "aws-health-outages-open.json", ["--name", "AWS outages", "--value", "outages=.", "--expect", "outages=empty"], 1,
                #"AWS outages: outages=[{"arn":"arn:aws:health:us-east-1::event/EC2/AWS_OUTAGE/AWS_OUTAGE_ab12cd34","a…"#
                    + " (outages=empty ✗)"
            ),
            (
                "aws-eks-cluster-status.json", ["--name", "EKS teei-prod-us", "--value", "status=.", "--expect", "status=ACTIVE"], 0,
                #"EKS teei-prod-us: status="ACTIVE" (status=ACTIVE ✓)"#
            ),
            (
                "aws-eks-describe-cluster.json", ["--name", "EKS teei-prod-us", "--value", "status=.cluster.status", "--expect", #"status="ACTIVE""#], 0,
                #"EKS teei-prod-us: status="ACTIVE" (status="ACTIVE" ✓)"#
            ),
            (
                "patronictl-list.json",
                [
                    "--name", "patroni bud", "--value", "members=. | length", "--value", "timelines=.[].TL", "--value", "lag_mb=.[-1].\"Lag in MB\"", "--expect", "members=3",
                    "--expect", "timelines=7", "--expect", "lag_mb<1MB",
                ],
                0, "patroni bud: lag_mb=0, members=3, timelines=[7,7,7] (members=3 ✓, timelines=7 ✓, lag_mb<1MB ✓)"
            ),
            (
                "clickhouse-count.json", ["--name", "events last hour", "--value", #"events=.data[0]."count()""#, "--expect", "events>0"], 0,
                #"events last hour: events="48211" (events>0 ✓)"#
            ),
            (
                "kubectl-deployment.json", ["--name", "api deployment", "--value", "ready=.status.readyReplicas", "--value", "wanted=.spec.replicas", "--expect", "ready>=3"],
                0, "api deployment: ready=3, wanted=3 (ready>=3 ✓)"
            ),
            (
                "jsonlines.jsonl", ["--name", "streams", "--value", "messages=.[].messages", "--expect", "messages>1000000"], 0,
                "streams: messages=[1204331,1204331] (messages>1000000 ✓)"
            ),
        ]
        for r in recipes {
            let o = try lab.failback(["observe", "json"] + r.args + ["--", "cat", "\(fixtures)/\(r.file)"])
            #expect(o.status == r.status && o.stderr == "", "\(r.file): \(o.status) \(o.stderr)")
            #expect(summaries(o) == [r.summary], "\(r.file)")
        }
        // Each recorded what it read, byte for byte: the size and SHA-256 of the output.
        let events = try lab.failback(["log", "--json"]).stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let observed = events.filter { $0["type"] as? String == "JSONValuesObserved" }
        #expect(observed.count == recipes.count)
        let first = try #require(observed.first?["payload"] as? [String: Any])
        let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(fixtures)/nats-stream-info.json"))
        #expect(first["stdout_bytes"] as? Int == bytes.count)
        #expect(first["stdout_sha256"] as? String == (try run(tool("sha256sum"), ["\(fixtures)/nats-stream-info.json"]).stdout.prefix(64)).description)
        #expect(first["argv"] as? [String] == ["cat", "\(fixtures)/nats-stream-info.json"])
        #expect(first["paths"] as? [String: String] == ["messages": ".state.messages", "last_seq": ".state.last_seq"])
        try lab.expectValidAgainstSchemas()
        // In the bundle, each is A1.2 evidence (monitoring), with its verdict.
        try lab.expectSuccess(["evidence", "export", "-o", "\(lab.dir)/b.tar.gz"])
        let controls = try run(tool("tar"), ["-xzOf", "\(lab.dir)/b.tar.gz", "--wildcards", "*/controls.csv"]).stdout
        let rows = controls.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("A1.2,") && $0.contains(",JSONValuesObserved,") }
        #expect(rows.count == recipes.count)
        #expect(rows.filter { $0.contains(",fail,") }.count == recipes.filter { $0.status == 1 }.count, "\(rows)")
    }

    /// A command that fails, prints no JSON, runs past the timeout, prints too much, or whose path
    /// matches nothing: one failed observation each, saying why, and exit 1.
    @Test func failuresAreRecordedAsFailedObservations() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let cases: [(args: [String], command: [String], summary: String)] = [
            (
                ["--value", "m=.state.messages"], ["sh", "-c", "echo 'nats: error: stream not found' >&2; exit 2"],
                "sh -c echo 'nats: error: stream not found' >&2; exit 2: exit 2: nats: error: stream not found"
            ),
            (
                ["--value", "m=.state"], ["sh", "-c", "echo 'Error: connection refused'"],
                #"sh -c echo 'Error: connection refused': printed no JSON: line 1, column 1: unexpected character "E""#
            ),
            (["--value", "m=."], ["true"], "true: printed no JSON (nothing on standard output)"),
            (["--name", "nats", "--value", "m=.state.msgs", "--value", "b=.state.bytes"], ["cat", "\(fixtures)/nats-stream-info.json"], "nats: no match for m (.state.msgs)"),
            (["--name", "slow", "--value", "m=.", "--timeout", "1s"], ["sleep", "30"], "slow: did not finish within 1s (killed)"),
            (["--name", "nope", "--value", "m=."], ["/nonexistent/tool"], "nope: /nonexistent/tool could not start: No such file or directory"),
        ]
        for c in cases {
            let o = try lab.failback(["observe", "json"] + c.args + ["--"] + c.command)
            #expect(o.status == 1 && o.stderr == "", "\(c.command): \(o.status) \(o.stderr)")
            #expect(summaries(o) == [c.summary], "\(c.command)")
        }
        // Too much output: killed as soon as it passes the cap, and recorded.
        try #"{"limits":{"max_output_bytes":4096}}"#.write(toFile: "\(lab.dir)/small.json", atomically: true, encoding: .utf8)
        let flood = try lab.failback(["--config", "\(lab.dir)/small.json", "observe", "json", "--name", "flood", "--value", "m=.", "--", "sh", "-c", "yes '[1,2,3]'"])
        #expect(
            flood.status == 1 && summaries(flood) == ["flood: printed more than 1 MiB (limits.max_output_bytes or max_payload_bytes, the larger): killed"],
            "\(flood.stdout) \(flood.stderr)")
        // A value too large to record: refused by name, the observation still recorded.
        let big = "{\"blob\":\"" + String(repeating: "x", count: 70_000) + "\"}"
        try big.write(toFile: "\(lab.dir)/big.json", atomically: true, encoding: .utf8)
        let large = try lab.failback(["observe", "json", "--name", "big", "--value", "blob=.blob", "--", "cat", "\(lab.dir)/big.json"])
        try lab.expectValidAgainstSchemas()
        #expect(large.status == 1 && summaries(large) == ["big: blob (.blob) is 70002 bytes of JSON, over 64 KiB: read a smaller part"], "\(large.stdout)")
    }

    /// Paths and conditions that cannot be read are refused before anything runs (64, one line).
    /// Every output counts checks alike: each by its latest run, a `--until` loop by its verdict.
    /// A check that failed and then passed, and a loop met on its third sample, leave no failure in
    /// the report's verdict and summary, in JUnit, or in replay (the report said "Failed checks:
    /// none" beside "2 failed", JUnit said failures="2", and the loop's samples were checks).
    @Test func everyOutputCountsChecksByTheirLatestRun() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        try #"{"v": 1}"#.write(toFile: "\(lab.dir)/f.json", atomically: true, encoding: .utf8)
        let check = ["observe", "json", "--name", "v", "--value", "v=.v", "--expect", "v=2", "--", "cat", "f.json"]
        #expect(try lab.failback(check).status == 1)
        try #"{"v": 2}"#.write(toFile: "\(lab.dir)/f.json", atomically: true, encoding: .utf8)
        #expect(try lab.failback(check).status == 0)
        try "1".write(toFile: "\(lab.dir)/c", atomically: true, encoding: .utf8)
        let loop = try lab.failback([
            "observe", "json", "--name", "loop", "--value", "v=.v", "--until", "v=3", "--every", "100ms", "--timeout", "20s", "--",
            "sh", "-c", #"n=$(cat c); echo $((n+1)) > c; echo "{\"v\": $n}""#,
        ])
        #expect(loop.status == 0, "\(loop.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["report", "--format", "json"]).stdout.utf8)) as! [String: Any]
        let summary = (report["summary"] as! [String: Any])["checks"] as! [String: Any]
        #expect(summary["failed"] as? Int == 0 && summary["passed"] as? Int == 2 && summary["runs"] as? Int == 3, "\(summary)")
        #expect(((report["verdict"] as! [String: Any])["failed_checks"] as! [Any]).isEmpty)
        let junit = try lab.expectSuccess(["report", "--format", "junit"]).stdout
        #expect(junit.contains(#"tests="2" failures="0" skipped="0">"#), "\(junit.prefix(400))")
        #expect(junit.contains("fail earlier: v: v=1 (v=2 ✗)"), "\(junit)")
        #expect(try lab.expectSuccess(["replay"]).stdout.split(separator: "\n").last?.contains("no failed checks") == true)
        // A loop that times out is one failed check, its verdict, in every output (its last
        // sample was listed beside it in the verdict and the status).
        let never = try lab.failback(["observe", "json", "--name", "never", "--value", "v=.v", "--until", "v=99", "--every", "100ms", "--timeout", "300ms", "--", "cat", "f.json"])
        #expect(never.status == 1)
        let after = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["report", "--format", "json"]).stdout.utf8)) as! [String: Any]
        let failed = ((after["verdict"] as! [String: Any])["failed_checks"] as! [[String: Any]]).map { "\($0["kind"]!) \($0["name"]!)" }
        #expect(failed == ["wait json never until v=99"], "\(failed)")
        #expect(((after["summary"] as! [String: Any])["checks"] as! [String: Any])["failed"] as? Int == 1)
        let status = try JSONSerialization.jsonObject(with: Data(try lab.expectSuccess(["status", "--json"]).stdout.utf8)) as! [String: Any]
        #expect((status["checks_failed"] as! [Any]).count == 1)
        #expect(try lab.expectSuccess(["report", "--format", "junit"]).stdout.contains(#"failures="1""#))
        #expect(try lab.expectSuccess(["replay"]).stdout.split(separator: "\n").last?.contains("1 failed") == true)
    }

    /// A value read from under a secret's name is redacted whatever the value is called: the
    /// names a user gives (`pw`, `t`) said nothing, and the values were stored in clear.
    @Test func aValueReadFromASecretIsRedactedWhateverItIsCalled() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        try #"{"SecretString":"Sm9-aws-value","data":{"password":"Pw9-data-pw","user":"app"},"auth":{"client_token":"hvs.Tok9TokenTokenToken"}}"#
            .write(toFile: "\(lab.dir)/secret.json", atomically: true, encoding: .utf8)
        let o = try lab.failback([
            "observe", "json", "--name", "replicated secret", "--value", "s=.SecretString", "--value", "pw=.data.password", "--value", "t=.auth.client_token",
            "--value", "u=.data.user", "--value", "n=.data.password | length", "--", "cat", "secret.json",
        ])
        #expect(o.status == 0, "\(o.stderr)")
        let e = try #require(try lab.events().last)
        let values = (e["payload"] as! [String: Any])["values"] as! [String: Any]
        #expect(values["s"] as? String == "[REDACTED:secret_field]")
        #expect(values["pw"] as? String == "[REDACTED:secret_field]")
        #expect(values["t"] as? String == "[REDACTED:secret_field]")
        #expect(values["u"] as? String == "app" && values["n"] as? Int == 11)
        let pointers = (e["redactions"] as! [[String: Any]]).map { $0["pointer"] as! String }
        #expect(pointers.sorted() == ["/payload/values/pw", "/payload/values/s", "/payload/values/t"])
        let stored = try [lab.store, lab.store + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }.map { try String(contentsOfFile: $0, encoding: .isoLatin1) }.joined()
        for secret in ["Sm9-aws-value", "Pw9-data-pw", "Tok9TokenTokenToken"] { #expect(!stored.contains(secret)) }
    }

    /// An event nests at most 512 levels (its own object level 1), as every reader parses: a value
    /// deep enough to pass that is refused before anything is appended; one just within is recorded
    /// and verifies. (A value 511 deep was recorded, and then `verify` called the chain broken.)
    @Test func aValueTooDeepForTheLogIsRefusedBeforeItIsAppended() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        for (depth, fits) in [(511, false), (509, true)] {
            try (String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).write(toFile: "\(lab.dir)/deep.json", atomically: true, encoding: .utf8)
            let o = try lab.failback(["observe", "json", "--name", "deep", "--value", "v=.", "--", "cat", "deep.json"])
            if fits {
                #expect(o.status == 0, "\(o.stderr)")
            } else {
                #expect(o.status == 65 && o.stdout.isEmpty)
                #expect(o.stderr == "failback: error: JSONValuesObserved event would nest 514 levels deep, over the limit of 512: nothing appended\n")
            }
        }
        #expect(try lab.events().map { $0["type"] as? String } == ["DrillStarted", "JSONValuesObserved"])
        #expect(try lab.failback(["verify"]).status == 0)
    }

    @Test func badPathsAndConditionsAreRefusedUpFront() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let before = try lab.eventCount
        let cases: [([String], String)] = [
            (["--value", "m=state.messages"], #"failback: error: --value m: path "state.messages": a path starts with a dot (`.state.messages`, `.items[0]`)"#),
            (["--value", "m=.a[1"], #"failback: error: --value m: path ".a[1": a [ with no ]"#),
            (["--value", "m=.a | keys"], #"failback: error: --value m: path ".a | keys": only `| length` may follow the path"#),
            (["--value", "m=.a-b"], #"failback: error: --value m: path ".a-b": unexpected "-" (steps are .name, [N], [] and | length)"#),
            (["--value", "=.a"], #"failback: error: --value "=.a": expected NAME=PATH, NAME letters, digits, _ and -"#),
            (["--value", "m=.a", "--value", "m=.b"], "failback: error: --value m is given twice"),
            (["--value", "m=.a", "--expect", "n>1"], #"failback: error: --expect "n>1": no value named "n" (this probe reads m; name them with --value NAME=PATH)"#),
            (["--value", "m=.a", "--expect", "m<ACTIVE"], #"failback: error: --expect "m<ACTIVE": < compares numbers; ACTIVE is not one"#),
            (
                ["--value", "m=.a", "--until", "m"],
                #"failback: error: --until "m": expected NAME OP VALUE, OP one of < <= > >= = != (like messages>0, status=ACTIVE, events=empty)"#
            ),
            ([], "failback: error: give at least one --value NAME=PATH"),
            (["--value", "m=.a", "--until", "m=1", "--until", "m=2"], "failback: error: --until is given 2 times: a loop waits for one condition"),
        ]
        for (args, message) in cases {
            let o = try lab.failback(["observe", "json"] + args + ["--", "touch", "\(lab.dir)/ran"])
            #expect(o.status == 64 && o.stderr == message + "\n", "\(args): \(o.stderr)")
        }
        #expect(
            try lab.failback(["observe", "json", "--value", "m=."]).stderr
                == "failback: error: give the command after --: failback observe json --value NAME=PATH -- COMMAND ARGS...\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/ran"))
        #expect(try lab.eventCount == before)
    }

    /// What a command leaves running, even outside its process group, does not keep the probe
    /// waiting, and does not outlive it.
    @Test func whatACommandLeavesRunningIsKilled() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        // The processes whose command line is `sleep MARKER` (read from /proc, as pgrep -f would).
        func left(_ marker: String) throws -> String {
            let pids = try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { Int($0) != nil }
            return pids.filter { pid in
                let line = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
                return line == Data("sleep\u{0}\(marker)\u{0}".utf8)
            }.joined(separator: " ")
        }
        var started = Date()
        let done = try lab.failback(["observe", "json", "--name", "esc", "--value", "n=.n", "--timeout", "20s", "--", "sh", "-c", #"setsid sleep 61.25 & echo '{"n":1}'"#])
        #expect(done.status == 0 && summaries(done) == ["esc: n=1"], "\(done.stdout)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(try left("61.25") == "")
        started = Date()
        let hung = try lab.failback(["observe", "json", "--name", "hung", "--value", "n=.n", "--timeout", "1s", "--", "sh", "-c", "setsid sleep 62.25 & sleep 62.25"])
        #expect(hung.status == 1 && summaries(hung) == ["hung: did not finish within 1s (killed)"], "\(hung.stdout)")
        #expect(Date().timeIntervalSince(started) < 4)
        #expect(try left("62.25") == "")
        // The other way: what a command started and that finishes on its own within the moment
        // given is not killed, and what it printed is read.
        let late = try lab.failback(["observe", "json", "--name", "late", "--value", "n=.n", "--timeout", "20s", "--", "sh", "-c", #"(sleep 0.05; echo '{"n":3}') & exit 0"#])
        #expect(late.status == 0 && summaries(late) == ["late: n=3"], "\(late.stdout)")
    }

    /// A condition met by `--until` does not make a failed `--expect` pass: exit 1.
    @Test func aMetConditionDoesNotHideAFailedExpectation() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let o = try lab.failback([
            "observe", "json", "--name", "n", "--value", "n=.n", "--expect", "n=2", "--until", "n=1", "--every", "100ms", "--timeout", "5s", "--", "echo", #"{"n":1}"#,
        ])
        #expect(o.status == 1, "\(o.stdout)")
        #expect(summaries(o) == ["n: n=1 (n=2 ✗)", "json n: until n=1 MET after 1 samples, \(summaries(o).last?.split(separator: ",").last.map { String($0.dropFirst()) } ?? "")"])
    }

    /// `--until` over a string: the stream's state changes between samples; the loop records each
    /// sample and then the verdict.
    @Test func waitsUntilAConditionOverTextHolds() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let script =
            "n=$(cat \(lab.dir)/n 2>/dev/null || echo 0); echo $((n+1)) > \(lab.dir)/n; "
            + "if [ $n -lt 2 ]; then echo '\"UPDATING\"'; else echo '\"ACTIVE\"'; fi"
        let o = try lab.failback([
            "observe", "json", "--name", "eks", "--value", "status=.", "--until", "status=ACTIVE", "--every", "100ms", "--timeout", "20s", "--", "sh", "-c", script,
        ])
        #expect(o.status == 0, "\(o.stderr)")
        let s = summaries(o)
        #expect(Array(s.prefix(3)) == [#"eks: status="UPDATING""#, #"eks: status="UPDATING""#, #"eks: status="ACTIVE""#])
        #expect(s.count == 4 && s[3].hasPrefix("json eks: until status=ACTIVE MET after 3 samples"), "\(s)")
        // Timed out: exit 1, and the verdict says so.
        let never = try lab.failback([
            "observe", "json", "--name", "eks", "--value", "status=.", "--until", "status=ACTIVE", "--every", "100ms", "--timeout", "1s", "--", "echo", "\"FAILED\"",
        ])
        #expect(never.status == 1 && summaries(never).last?.hasPrefix("json eks: until status=ACTIVE TIMED OUT") == true, "\(never.stdout)")
    }

    /// The check in the report (with its values and thresholds) and in compare, by name: passed in
    /// one drill, failed in the other.
    @Test func theCheckIsInTheReportAndInCompareByName() throws {
        let lab = try Lab()
        let args = ["observe", "json", "--name", "CSR_EVENTS stream", "--value", "messages=.state.messages", "--expect", "messages>1000000", "--"]
        let first = try lab.startDrill("rollback-teei")
        #expect(try lab.failback(args + ["cat", "\(fixtures)/nats-stream-info.json"]).status == 0)
        try lab.expectSuccess(["drill", "abort", "--reason", "drill over"])
        let second = try lab.startDrill("rollback-teei")
        #expect(try lab.failback(args + ["echo", #"{"state":{"messages":12}}"#]).status == 1)
        let report = try lab.expectSuccess(["report", "--drill", second, "--format", "csv"]).stdout
        #expect(report.contains(#"json,CSR_EVENTS stream,fail"#) || report.contains("CSR_EVENTS stream: messages=12 (messages>1000000 ✗)"), "\(report)")
        let markdown = try lab.expectSuccess(["report", "--drill", second]).stdout
        #expect(markdown.contains("CSR_EVENTS stream: messages=12 (messages>1000000 ✗)"), "\(markdown)")
        let compared = try lab.expectSuccess(["compare", first, second, "--json"]).stdout
        let json = try #require(try JSONSerialization.jsonObject(with: Data(compared.utf8)) as? [String: Any])
        let rows = try #require(json["checks_failed_in_one"] as? [[String: String]])
        #expect(rows == [["check": "json: CSR_EVENTS stream", "a": "passed", "b": "failed"]], "\(rows)")
    }
}
