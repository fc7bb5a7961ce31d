import Foundation
import Testing
import FailbackTestSupport

/// The secrets corpus (Tests/Fixtures/redaction/secrets.jsonl) recorded through every way in —
/// note, issue title, `exec` argv, `exec` output, `record health --target`, `record dns --answer` —
/// each way in its own drill (so that a secret learned through one way cannot hide a miss in
/// another), each value unique: no byte of the store (database and WAL), of any report format or
/// of the evidence bundle holds any of them.
@Suite struct RedactionCorpusCLITests {
    struct Case {
        var kind: String
        var secret: String
        var text: String
    }

    static let cases: [Case] = {
        let url = repositoryRoot.appendingPathComponent("Tests/Fixtures/redaction/secrets.jsonl")
        let lines = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return lines.split(separator: "\n").map { line in
            let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String] ?? [:]
            return Case(kind: o["kind"] ?? "?", secret: o["secret"] ?? "?", text: o["text"] ?? "?")
        }
    }()

    /// Case `index` through way `way`: its text, and what must appear nowhere (its unique id, or
    /// the whole secret where the format allows no id).
    static func instance(_ index: Int, way: Int) -> (text: String, marker: String) {
        let c = cases[index]
        let id = String(format: "Q%02dW%dZ", index, way)
        let hex = String(format: "c%03d%02d", index, way)
        let secret = c.secret.replacingOccurrences(of: "{ID}", with: id).replacingOccurrences(of: "{HEX}", with: hex)
        return (c.text.replacingOccurrences(of: "{SECRET}", with: secret), c.secret.contains("{ID}") ? id : secret)
    }

    /// The ways in: free text, a command's argv and output, a recorded field (a lag sample's site
    /// name), and a decline's reason. (`record health --target` takes only URLs and `record dns
    /// --answer` only addresses for A records since fields are checked before append: those
    /// ways are covered by the URL cases of `note` and by RedactionTests.)
    static let ways = ["note", "issue", "exec-argv", "exec-output", "record-lag-source", "decline-reason"]

    @Test func noSecretReachesTheStoreReportsOrBundle() throws {
        #expect(Self.cases.count >= 60)
        let lab = try Lab()
        // Stand-ins for every command the corpus names: nothing real runs (curl, docker...).
        let stubs = "\(lab.dir)/bin"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        var markers: [String] = []
        var drills: [String] = []
        for (w, way) in Self.ways.enumerated() {
            let drill = try lab.startDrill()
            drills.append(drill)
            for index in Self.cases.indices {
                let (text, marker) = Self.instance(index, way: w)
                markers.append(marker)
                let args: [String]
                switch way {
                case "note": args = ["note", text]
                case "issue": args = ["issue", "add", text, "--severity", "high"]
                case "exec-argv":
                    let argv = shellWords(text)
                    let stub = "\(stubs)/\(argv[0].split(separator: "/").last ?? "")"
                    if !argv[0].contains("="), !FileManager.default.fileExists(atPath: stub) {
                        try "#!/bin/sh\nexit 0\n".write(toFile: stub, atomically: true, encoding: .utf8)
                        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub)
                    }
                    args = ["exec", "--"] + argv
                case "exec-output":
                    let file = "\(lab.dir)/output-\(index).txt"
                    try text.write(toFile: file, atomically: true, encoding: .utf8)
                    args = ["exec", "--", "/bin/cat", file]
                case "record-lag-source": args = ["record", "lag", "--seconds", "1", "--source", text, "--target", "primary"]
                default: args = ["decline", "--by", "ops", "--role", "sre", "--reason", text]
                }
                let o = try lab.failback(args, env: ["PATH": "\(stubs):/usr/bin:/bin"])
                // exec exits with the command's status (127 for an assignment word that is no command).
                #expect(way.hasPrefix("exec") || o.status == 0, "\(way) \(index): \(o.stderr)")
                #expect(o.stderr.contains("REDACTED") || o.stdout.contains("REDACTED") || o.stderr.contains("[redacted:"), "\(way) \(index): \(o.stdout)\(o.stderr)")
            }
        }
        // Every event names the kind of the case it records.
        for (w, drill) in drills.enumerated() {
            let recorded = try lab.expectSuccess(["log", "--json", "--drill", drill]).stdout.split(separator: "\n")
                .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
                .filter { $0["type"] as? String != "DrillStarted" }
            #expect(recorded.count == Self.cases.count, "\(Self.ways[w]): \(recorded.count) events")
            for (index, event) in recorded.enumerated() where index < Self.cases.count {
                let kinds = (event["redactions"] as? [[String: String]] ?? []).compactMap { $0["kind"] }
                #expect(
                    kinds.contains(Self.cases[index].kind) || (Self.ways[w] == "exec-argv" && !kinds.isEmpty),
                    "\(Self.ways[w]) \(index) \(Self.cases[index].kind): \(kinds)")
            }
        }
        // Everything written from the store.
        var written: [(String, Data)] = [("store", try lab.rawStoreBytes())]
        for drill in drills {
            for format in ["md", "json", "html", "csv", "junit"] {
                let file = "\(lab.dir)/report-\(drill).\(format)"
                try lab.expectSuccess(["report", "--drill", drill, "--format", format, "-o", file])
                written.append(("\(drill) report.\(format)", try Data(contentsOf: URL(fileURLWithPath: file))))
            }
            let bundle = "\(lab.dir)/\(drill).tar.gz"
            try lab.expectSuccess(["evidence", "export", "--drill", drill, "-o", bundle])
            let unpacked = "\(lab.dir)/unpacked-\(drill)"
            try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
            #expect(try run(tool("tar"), ["-xzf", bundle, "-C", unpacked]).status == 0)
            let files = FileManager.default.enumerator(atPath: unpacked)?.compactMap { $0 as? String } ?? []
            #expect(files.count >= 5)
            for f in files {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: "\(unpacked)/\(f)", isDirectory: &isDirectory), !isDirectory.boolValue {
                    written.append(("\(drill) bundle \(f)", try Data(contentsOf: URL(fileURLWithPath: "\(unpacked)/\(f)"))))
                }
            }
        }
        #expect(written.count > 6 * 6)
        for (name, bytes) in written {
            for marker in markers {
                #expect(bytes.range(of: Data(marker.utf8)) == nil, "\(marker) is in \(name)")
            }
        }
    }
}
