import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Evidence bundles through the CLI, checked by the tools an auditor has (tar, sha256sum, openssl,
/// asciinema) and by both verifiers; every kind of tampering must be caught by both.
@Suite struct EvidenceBundleTests {
    /// A small finished drill with commands run (so outputs), signed with a fresh key.
    func exportedDrill() throws -> (lab: Lab, bundle: String, pub: String) {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try lab.expectSuccess(["record", "lag", "--seconds", "2.5", "--source", "eu", "--target", "us"])
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo 'replica caught up'; echo 'warn: slow' >&2"]).status == 0)
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo failing; exit 3"]).status == 3)
        try lab.expectSuccess(["record", "rowcount", "--table", "events", "--site", "eu", "--count", "10"])
        try lab.expectSuccess(["drill", "complete"])
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/k.key"]).status == 0)
        let bundle = "\(lab.dir)/bundle.tar.gz"
        try lab.expectSuccess(["evidence", "export", "-o", bundle, "--key", "\(lab.dir)/k.key"])
        return (lab, bundle, "\(lab.dir)/k.key.pub.pem")
    }

    /// `failback evidence verify`: the bundle alone, no store.
    func swiftVerify(_ lab: Lab, _ bundle: String, _ extra: [String] = []) throws -> Outcome { try run("failback", ["evidence", "verify", bundle] + extra) }
    func pythonVerify(_ bundle: String, _ extra: [String] = []) throws -> Outcome { try python("verify-bundle.py", [bundle] + extra) }

    @Test func standardToolsAcceptTheBundle() throws {
        let (lab, bundle, pub) = try exportedDrill()
        let listing = try run(tool("tar"), ["-tzf", bundle])
        #expect(listing.status == 0)
        let names = listing.stdout.split(separator: "\n").map { String($0.split(separator: "/", maxSplits: 1)[1]) }
        #expect(
            names == [
                "events.jsonl", "VERIFY.md", "runbook.json", "report.md", "report.html", "report.json", "evidence-index.csv", "checks.xml",
                "controls.md", "controls.csv", "outputs/000003.stdout.txt", "outputs/000003.stderr.txt", "outputs/000003.cast",
                "outputs/000004.stdout.txt", "outputs/000004.cast", "manifest.json", "checkpoint", "public-key.pem", "SHA256SUMS", "SHA256SUMS.sig",
            ])
        let out = "\(lab.dir)/unpacked"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        #expect(try run(tool("tar"), ["-xzf", bundle, "-C", out]).status == 0)
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: out).first).description
        let sums = try run(tool("sha256sum"), ["-c", "SHA256SUMS"], cwd: "\(out)/\(folder)")
        #expect(sums.status == 0 && !sums.stdout.contains("FAILED"), "\(sums.stdout)\(sums.stderr)")
        let signature = try run(
            tool("openssl"), ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", "SHA256SUMS", "-sigfile", "SHA256SUMS.sig"], cwd: "\(out)/\(folder)")
        #expect(signature.status == 0 && signature.stdout.contains("Signature Verified Successfully"))
        // The bundle's public key is the one generated.
        #expect(try String(contentsOfFile: "\(out)/\(folder)/public-key.pem", encoding: .utf8) == String(contentsOfFile: pub, encoding: .utf8))
        // Each captured output replays in asciinema (which wants a terminal: `script` gives it one).
        for cast in names.filter({ $0.hasSuffix(".cast") }) {
            let played = try run(tool("script"), ["-qec", "asciinema cat '\(out)/\(folder)/\(cast)'", "/dev/null"])
            #expect(played.status == 0, "asciinema cat \(cast): \(played.stdout)")
            #expect(played.stdout.contains("exit status"))
        }
        #expect(try swiftVerify(lab, bundle, ["--pubkey", pub]).status == 0)
        let independent = try pythonVerify(bundle, ["--pubkey", pub])
        #expect(independent.status == 0, "\(independent.stdout)\(independent.stderr)")
        #expect(independent.stdout == (try swiftVerify(lab, bundle, ["--pubkey", pub])).stdout, "the two verifiers report differently")
        // VERIFY.md: the commands it gives, run as written, say what the manifest says.
        let dir = "\(out)/\(folder)"
        let guide = try String(contentsOfFile: "\(dir)/VERIFY.md", encoding: .utf8)
        let fingerprint = try run("failback", ["keys", "fingerprint", pub]).stdout.trimmingCharacters(in: .newlines)
        #expect(guide.contains("This bundle says its\nkey is `\(fingerprint)`."), "\(guide)")
        #expect(guide.contains("    openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig\n"))
        let snippet = guide.components(separatedBy: "\n    python3 - <<'PY'\n")[1].components(separatedBy: "    PY\n")[0]
            .split(separator: "\n", omittingEmptySubsequences: false).map { $0.dropFirst(4) }.joined(separator: "\n")
        let recomputed = try run(tool("python3"), ["-c", snippet], cwd: dir)
        let manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(dir)/manifest.json"))) as? [String: Any])
        #expect(recomputed.status == 0)
        let checkpointRoot = try String(contentsOfFile: "\(dir)/checkpoint", encoding: .utf8).split(separator: "\n")[2]
        #expect(
            recomputed.stdout
                == "chain head   \(manifest["chain_head"] as? String ?? "?")\nmerkle root  \(manifest["merkle_root"] as? String ?? "?")\ncheckpoint   \(checkpointRoot)\n",
            "\(recomputed.stdout)\(recomputed.stderr)")
        #expect(manifest["key_fingerprint"] as? String == fingerprint)
        // The evidence index is the report's CSV; the controls matrix names each control's gaps.
        #expect(try String(contentsOfFile: "\(dir)/evidence-index.csv", encoding: .utf8) == lab.expectSuccess(["report", "--format", "csv"]).stdout)
        #expect(try String(contentsOfFile: "\(dir)/checks.xml", encoding: .utf8) == lab.expectSuccess(["report", "--format", "junit"]).stdout)
        let controls = try String(contentsOfFile: "\(dir)/controls.csv", encoding: .utf8)
        #expect(controls.hasPrefix("control,drill_seq,seq,recorded_at,type,actor,summary,result,file\r\nCC9.1,1,"))
        #expect(controls.contains("\r\nA1.2,,,,,,no database role check (failback observe recovery),gap,\r\n"), "\(controls)")
        #expect(controls.contains(",CommandExecuted,tester,\"$ sh -c echo failing; exit 3 → exit 3 in "), "\(controls)")
        #expect(controls.contains(",fail,outputs/000004.cast\r\n"), "\(controls)")
        // Private key file mode.
        let attributes = try FileManager.default.attributesOfItem(atPath: "\(lab.dir)/k.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    /// Spreadsheet formula injection: no cell of a CSV (the evidence index, the controls matrix)
    /// begins with `=`, `+`, `-`, `@`, a tab or a carriage return, read with Python's `csv` module.
    @Test func csvCellsNeverStartAFormula() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try lab.expectSuccess(["note", "=HYPERLINK(\"http://evil.example/\",\"open\")"])
        #expect(try lab.failback(["note", "+1+cmd|' /C calc'!A0"], env: ["FAILBACK_ACTOR": "@admin"]).status == 0)
        try lab.expectSuccess(["note", "\tindented"])
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo -x"]).status == 0)
        try lab.expectSuccess(["evidence", "export", "-o", "\(lab.dir)/b.tar.gz"])
        #expect(try run(tool("tar"), ["-xzf", "\(lab.dir)/b.tar.gz", "-C", lab.dir]).status == 0)
        let csv = "\(lab.dir)/index.csv"
        try lab.expectSuccess(["report", "--format", "csv"]).stdout.write(toFile: csv, atomically: true, encoding: .utf8)
        let folder = try #require(try FileManager.default.contentsOfDirectory(atPath: lab.dir).first { $0.hasPrefix("drill-") })
        let check = """
            import csv, sys
            bad = 0
            cells = 0
            for path in sys.argv[1:]:
                with open(path, newline="", encoding="utf-8") as f:
                    for row in csv.reader(f):
                        for cell in row:
                            cells += 1
                            if cell[:1] in ("=", "+", "-", "@", "\\t", "\\r"):
                                print(path, repr(cell)); bad += 1
            print(cells, "cells,", bad, "formulas")
            """
        let o = try run(tool("python3"), ["-c", check, csv, "\(lab.dir)/\(folder)/evidence-index.csv", "\(lab.dir)/\(folder)/controls.csv"])
        #expect(o.status == 0 && o.stdout.hasSuffix(" cells, 0 formulas\n"), "\(o.stdout)\(o.stderr)")
        let report = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(report.contains(",NoteAdded,tester,\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"open\"\")\","), "\(report)")
        #expect(report.contains(",NoteAdded,'@admin,'+1+cmd|' /C calc'!A0,"), "\(report)")
    }

    @Test func exportingTwiceGivesTheSameBytes() throws {
        let (lab, bundle, _) = try exportedDrill()
        let again = "\(lab.dir)/again.tar.gz"
        try lab.expectSuccess(["evidence", "export", "-o", again, "--key", "\(lab.dir)/k.key"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)) == Data(contentsOf: URL(fileURLWithPath: again)))
        // Without the stored leaf hashes (as in events stored before the store kept them), the
        // export hashes the events itself, and the bundle is the same bytes.
        let cleared = try lab.sqlite(TamperTests.dropTriggers + "UPDATE events SET leaf_hash = NULL;")
        #expect(cleared.status == 0, "\(cleared.stderr)")
        let computed = "\(lab.dir)/computed.tar.gz"
        try lab.expectSuccess(["evidence", "export", "-o", computed, "--key", "\(lab.dir)/k.key"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: bundle)) == Data(contentsOf: URL(fileURLWithPath: computed)))
        // Unsigned: complete, says so, and verifies as unsigned (but not against a --pubkey).
        let unsigned = "\(lab.dir)/unsigned.tar.gz"
        #expect(try lab.expectSuccess(["evidence", "export", "-o", unsigned]).stdout.contains("UNSIGNED"))
        // Unsigned, nothing says who made it: not verified (exit 3), in both verifiers alike.
        let unsignedLine = "UNSIGNED: no signature, so nothing says who made it (exported without --key)"
        for v in [try swiftVerify(lab, unsigned), try pythonVerify(unsigned)] {
            #expect(v.status == 3 && v.stdout.hasSuffix("\n\(unsignedLine)\n"), "\(v.stdout)")
        }
        #expect(try swiftVerify(lab, unsigned).stderr == "failback: \(unsigned): \(unsignedLine): not verified\n")
        #expect(try pythonVerify(unsigned).stderr == "verify-bundle: \(unsigned): \(unsignedLine): not verified\n")
        let integrityOnly = "INTEGRITY ONLY: UNSIGNED: no signature, so nothing says who made it (--allow-unpinned)"
        for v in [try swiftVerify(lab, unsigned, ["--allow-unpinned"]), try pythonVerify(unsigned, ["--allow-unpinned"])] {
            #expect(v.status == 0 && v.stdout.hasSuffix("\n\(integrityOnly)\n") && v.stderr.isEmpty, "\(v.stdout)")
        }
        #expect(try swiftVerify(lab, unsigned, ["--pubkey", "\(lab.dir)/k.key.pub.pem"]).status == 1)
        #expect(try pythonVerify(unsigned, ["--pubkey", "\(lab.dir)/k.key.pub.pem"]).status == 1)
    }

    /// Rewrites a bundle: unpack, change, pack again in a given order with GNU tar.
    func tampered(_ lab: Lab, _ bundle: String, name: String, order reorder: (([String]) -> [String])? = nil, _ change: (String) throws -> Void) throws -> String {
        let work = "\(lab.dir)/t-\(name)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        #expect(try run(tool("tar"), ["-xzf", bundle, "-C", work]).status == 0)
        let listing = try run(tool("tar"), ["-tzf", bundle]).stdout.split(separator: "\n").map(String.init)
        let folder = "\(work)/\(listing[0].split(separator: "/")[0])"
        try change(folder)
        var names = listing.filter { FileManager.default.fileExists(atPath: "\(work)/\($0)") }
        for extra in try FileManager.default.subpathsOfDirectory(atPath: folder) where !listing.contains("\(listing[0].split(separator: "/")[0])/\(extra)") {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: "\(folder)/\(extra)", isDirectory: &isDir), !isDir.boolValue {
                names.append("\(listing[0].split(separator: "/")[0])/\(extra)")
            }
        }
        if let reorder { names = reorder(names) }
        let out = "\(lab.dir)/\(name).tar.gz"
        #expect(try run(tool("tar"), ["--format=ustar", "--no-recursion", "-czf", out, "-C", work] + names).status == 0)
        return out
    }

    func rewrite(_ file: String, _ transform: (String) -> String) throws {
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try transform(text).write(toFile: file, atomically: true, encoding: .utf8)
    }

    /// Rewrites SHA256SUMS to match the files as they now are (an attacker without the key).
    func resum(_ folder: String) throws {
        let names = try String(contentsOfFile: "\(folder)/SHA256SUMS", encoding: .utf8).split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1].dropFirst()) }
        let o = try run(tool("sha256sum"), names.filter { FileManager.default.fileExists(atPath: "\(folder)/\($0)") }, cwd: folder)
        try o.stdout.write(toFile: "\(folder)/SHA256SUMS", atomically: true, encoding: .utf8)
    }

    @Test func everyTamperingIsCaughtByBothVerifiers() throws {
        let (lab, bundle, pub) = try exportedDrill()
        let cases: [(String, String, (([String]) -> [String])?, (String) throws -> Void)] = [
            ("event-byte", "events.jsonl", nil, { f in try rewrite("\(f)/events.jsonl") { $0.replacingOccurrences(of: "\"lag_seconds\":2.5", with: "\"lag_seconds\":0.5") } }),
            (
                "event-byte-resummed", "signature", nil,
                { f in
                    try rewrite("\(f)/events.jsonl") { $0.replacingOccurrences(of: "\"count\":10", with: "\"count\":11") }
                    try resum(f)
                }
            ),
            (
                "events-swapped", "order", nil,
                { f in
                    try rewrite("\(f)/events.jsonl") { text in
                        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                        lines.swapAt(1, 2)
                        return lines.joined(separator: "\n")
                    }
                }
            ),
            (
                "event-dropped", "events", nil,
                { f in
                    try rewrite("\(f)/events.jsonl") { text in
                        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                        lines.remove(at: 2)
                        return lines.joined(separator: "\n")
                    }
                }
            ),
            ("report-changed", "report.md", nil, { f in try rewrite("\(f)/report.md") { $0 + "\nAll good.\n" } }),
            ("file-missing", "missing", nil, { f in try FileManager.default.removeItem(atPath: "\(f)/report.html") }),
            ("file-extra", "extra", nil, { f in try "x".write(toFile: "\(f)/notes.txt", atomically: true, encoding: .utf8) }),
            (
                "files-reordered", "order",
                { names in
                    var n = names; n.swapAt(1, 2); return n
                }, { _ in }
            ),
            (
                "manifest-root", "manifest.json", nil,
                { f in
                    try rewrite("\(f)/manifest.json") { text in
                        let r = text.range(of: "\"merkle_root\":\"")!
                        var t = text
                        t.replaceSubrange(r.upperBound..<text.index(r.upperBound, offsetBy: 1), with: text[r.upperBound] == "0" ? "1" : "0")
                        return t
                    }
                }
            ),
            (
                "checkpoint-size", "checkpoint", nil,
                { f in
                    try rewrite("\(f)/checkpoint") { text in
                        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                        lines[1] = String(Int(lines[1])! - 1)
                        return lines.joined(separator: "\n")
                    }
                }
            ),
            (
                "signature-flipped", "SHA256SUMS.sig", nil,
                { f in
                    var sig = try Data(contentsOf: URL(fileURLWithPath: "\(f)/SHA256SUMS.sig"))
                    sig[10] ^= 1
                    try sig.write(to: URL(fileURLWithPath: "\(f)/SHA256SUMS.sig"))
                }
            ),
            // Files that are not what they say, rather than changed in place: still named, never a crash.
            ("key-not-a-key", "public-key.pem", nil, { f in try "garbage\n".write(toFile: "\(f)/public-key.pem", atomically: true, encoding: .utf8) }),
            (
                "checkpoint-signature-not-base64", "checkpoint", nil,
                { f in
                    try rewrite("\(f)/checkpoint") { text in
                        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                            line.hasPrefix("\u{2014} ") ? line.split(separator: " ").prefix(2).joined(separator: " ") + " %%%not-base64" : String(line)
                        }.joined(separator: "\n")
                    }
                }
            ),
            ("checkpoint-not-utf8", "checkpoint", nil, { f in try Data([0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: "\(f)/checkpoint")) }),
            ("manifest-not-an-object", "manifest.json", nil, { f in try "[]\n".write(toFile: "\(f)/manifest.json", atomically: true, encoding: .utf8) }),
            (
                "citation-malformed", "citation", nil,
                { f in
                    try rewrite("\(f)/manifest.json") { $0.replacingOccurrences(of: #""leaf_index":0}"#, with: #""leaf_index":"0"}"#) }
                    try resum(f)
                }
            ),
            (
                "event-nested-deep", "events.jsonl", nil,
                { f in
                    try rewrite("\(f)/events.jsonl") { text in
                        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                        lines[1] = Substring(String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000))
                        return lines.joined(separator: "\n")
                    }
                }
            ),
            (
                "event-not-an-object", "events.jsonl", nil,
                { f in
                    try rewrite("\(f)/events.jsonl") { text in
                        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                        lines[1] = "[1]"
                        return lines.joined(separator: "\n")
                    }
                }
            ),
        ]
        for (name, mentions, order, change) in cases {
            let bad = try tampered(lab, bundle, name: name, order: order, change)
            let ours = try swiftVerify(lab, bad), theirs = try pythonVerify(bad)
            #expect(ours.status == 1, "\(name): failback evidence verify passed: \(ours.stdout)")
            #expect(theirs.status == 1, "\(name): verify-bundle.py passed: \(theirs.stdout)")
            #expect(ours.stderr.contains(mentions) || ours.stderr.lowercased().contains(mentions), "\(name): \(ours.stderr)")
            #expect(theirs.stderr.contains(mentions) && !theirs.stderr.contains("Traceback"), "\(name): \(theirs.stderr)")
        }
        // A key file that holds no key is wrong input: one line, status 65, and no bundle written.
        let junk = "\(lab.dir)/junk.pem"
        try "not a key\n".write(toFile: junk, atomically: true, encoding: .utf8)
        let ours = try swiftVerify(lab, bundle, ["--pubkey", junk]), theirs = try pythonVerify(bundle, ["--pubkey", junk])
        #expect(ours.status == 65 && ours.stderrLines.count == 1 && ours.stderr.contains("junk.pem: not a PEM public key"), "\(ours.stderr)")
        #expect(theirs.status == 65 && theirs.stderrLines.count == 1 && theirs.stderr.contains("junk.pem"), "\(theirs.stderr)")
        let signedByJunk = try lab.failback(["evidence", "export", "-o", "\(lab.dir)/junk.tar.gz", "--key", junk])
        #expect(signedByJunk.status == 65 && signedByJunk.stderrLines.count == 1 && !FileManager.default.fileExists(atPath: "\(lab.dir)/junk.tar.gz"))
        // Both read a public key by one rule: CRLF line ends and text around the block are fine...
        let pem = try String(contentsOfFile: pub, encoding: .utf8)
        let crlf = "\(lab.dir)/crlf.pem", damaged = "\(lab.dir)/damaged.pem"
        try ("issued by ops\r\n" + pem.replacingOccurrences(of: "\n", with: "\r\n") + "end\r\n").write(toFile: crlf, atomically: true, encoding: .utf8)
        #expect(try swiftVerify(lab, bundle, ["--pubkey", crlf]).status == 0)
        #expect(try pythonVerify(bundle, ["--pubkey", crlf]).status == 0)
        // ...a line of damage inside it is not (OpenSSL's own reader passes over this one).
        try pem.replacingOccurrences(of: "\n-----END", with: "\n-----Eb6I=\n-----END").write(toFile: damaged, atomically: true, encoding: .utf8)
        #expect(try swiftVerify(lab, bundle, ["--pubkey", damaged]).status == 65)
        #expect(try pythonVerify(bundle, ["--pubkey", damaged]).status == 65)
        // A bundle re-signed by someone else's key verifies alone, but not against the real key.
        let other = "\(lab.dir)/other.key"
        #expect(try run("failback", ["keys", "generate", "-o", other]).status == 0)
        let resigned = try tampered(lab, bundle, name: "resigned") { f in
            try rewrite("\(f)/events.jsonl") { $0 }
            #expect(try run(tool("openssl"), ["pkey", "-in", other, "-pubout", "-out", "\(f)/public-key.pem"]).status == 0)
            #expect(try run(tool("openssl"), ["pkeyutl", "-sign", "-inkey", other, "-rawin", "-in", "\(f)/SHA256SUMS", "-out", "\(f)/SHA256SUMS.sig"]).status == 0)
            try resum(f)
        }
        #expect(try swiftVerify(lab, resigned, ["--pubkey", "\(lab.dir)/k.key.pub.pem"]).status == 1)
        #expect(try pythonVerify(resigned, ["--pubkey", "\(lab.dir)/k.key.pub.pem"]).status == 1)
    }

    /// The spec is the behaviour: a bundle whose files all agree with each other (SHA256SUMS made
    /// again: an unsigned bundle, checked for integrity only) but that breaks one rule of
    /// docs/evidence-bundle.md fails in both verifiers, naming the rule.
    @Test func everyRuleOfTheSpecIsEnforcedByBothVerifiers() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try lab.expectSuccess(["record", "lag", "--seconds", "2.5", "--source", "eu", "--target", "us"])
        #expect(try lab.failback(["exec", "--", "sh", "-c", "echo done"]).status == 0)
        let bundle = "\(lab.dir)/unsigned.tar.gz"
        try lab.expectSuccess(["evidence", "export", "-o", bundle])
        func manifest(_ f: String, _ from: String, _ to: String) throws {
            try rewrite("\(f)/manifest.json") { text in
                #expect(text.contains(from), "manifest lacks \(from)")
                return text.replacingOccurrences(of: from, with: to)
            }
        }
        let cases: [(String, String, (String) throws -> Void)] = [
            (
                "sums-order", "SHA256SUMS: the files are not listed in the archive's order",
                { f in
                    try rewrite("\(f)/SHA256SUMS") { text in
                        var lines = text.split(separator: "\n").map(String.init)
                        lines.swapAt(1, 2)
                        return lines.joined(separator: "\n") + "\n"
                    }
                }
            ),
            (
                "sums-capitals", "SHA256SUMS: malformed line",
                { f in
                    try rewrite("\(f)/SHA256SUMS") { text in
                        let first = text.prefix(64)
                        return first.uppercased() + text.dropFirst(64)
                    }
                }
            ),
            ("sums-one-space", "SHA256SUMS: malformed line", { f in try rewrite("\(f)/SHA256SUMS") { $0.replacingOccurrences(of: "  VERIFY.md", with: " VERIFY.md") } }),
            ("control-extra-member", "controls CC9.1: not {id, title, files, events}", { f in try manifest(f, #""id":"CC9.1","#, #""id":"CC9.1","note":"x","#) }),
            ("control-files-not-strings", "controls A1.2: not {id, title, files, events}", { f in try manifest(f, #""files":["events.jsonl","#, #""files":[1,"events.jsonl","#) }),
            (
                "controls-not-array", "manifest.json: controls is not an array",
                { f in
                    try rewrite("\(f)/manifest.json") { text in
                        let start = text.range(of: #""controls":["#)!, end = text.range(of: #"],"drill_id""#)!
                        return text.replacingCharacters(in: start.lowerBound..<end.upperBound, with: #""controls":{},"drill_id""#)
                    }
                }
            ),
            ("citation-drill-seq", "controls CC9.1: a malformed citation", { f in try manifest(f, #""drill_seq":1,"#, #""drill_seq":2,"#) }),
            (
                "control-cites-manifest", "controls CC9.1: cites SHA256SUMS, which is not evidence",
                { f in try manifest(f, #""files":["runbook.json","#, #""files":["SHA256SUMS","runbook.json","#) }
            ),
            ("tree-size", "manifest.json: tree_size is not the number of events (3)", { f in try manifest(f, #""tree_size":3"#, #""tree_size":4"#) }),
            (
                "origin-unbound", "manifest.json: checkpoint_origin is not failback/",
                { f in
                    let drill = try String(contentsOfFile: "\(f)/checkpoint", encoding: .utf8).split(separator: "\n")[0]
                    try manifest(f, #""checkpoint_origin":"\#(drill)""#, #""checkpoint_origin":"failback/other""#)
                    try rewrite("\(f)/checkpoint") { $0.replacingOccurrences(of: drill + "\n", with: "failback/other\n") }
                }
            ),
            ("runbook-version", "manifest.json: runbook is not the one the drill started with (event #1)", { f in try manifest(f, #""version":"1.0""#, #""version":"1.1""#) }),
            (
                "runbook-document", "runbook.json is not the runbook document the drill started with (event #1)",
                { f in
                    try rewrite("\(f)/runbook.json") { $0.replacingOccurrences(of: #""title":"#, with: #""title":"(edited) "#) }
                    // The manifest's entry for it made again too: only the event can tell.
                    let digest = try run(tool("sha256sum"), ["runbook.json"], cwd: f).stdout.prefix(64)
                    let size = try Data(contentsOf: URL(fileURLWithPath: "\(f)/runbook.json")).count
                    try rewrite("\(f)/manifest.json") { text in
                        let entry = try! NSRegularExpression(pattern: #"\{"bytes":[0-9]+,"path":"runbook.json","sha256":"[0-9a-f]{64}"\}"#)
                        return entry.stringByReplacingMatches(
                            in: text, range: NSRange(text.startIndex..., in: text),
                            withTemplate: #"{"bytes":\#(size),"path":"runbook.json","sha256":"\#(digest)"}"#)
                    }
                }
            ),
            (
                "file-entry-extra-member", "manifest.json: a file entry is not {path, bytes, sha256}",
                { f in
                    try manifest(f, #"{"bytes":"#, #"{"mode":420,"bytes":"#)
                }
            ),
            ("signed-but-not", "manifest.json: signed is not false, though the bundle is unsigned", { f in try manifest(f, #""signed":false"#, #""signed":true"#) }),
            (
                "key-name-unsigned", "manifest.json: key_name or key_fingerprint, though the bundle is unsigned",
                { f in try manifest(f, #""signed":false"#, #""key_name":"x","signed":false"#) }
            ),
            ("sums-crlf", "events.jsonl\\r is listed in SHA256SUMS but missing", { f in try rewrite("\(f)/SHA256SUMS") { $0.replacingOccurrences(of: "\n", with: "\r\n") } }),
            ("sums-blank-line", "SHA256SUMS: malformed line", { f in try rewrite("\(f)/SHA256SUMS") { $0 + "\n" } }),
            ("manifest-not-canonical", "manifest.json is not canonical JSON (RFC 8785) and a line feed", { f in try manifest(f, #""tree_size":3"#, #""tree_size":3.0"#) }),
            ("manifest-spaces", "manifest.json is not canonical JSON (RFC 8785) and a line feed", { f in try manifest(f, #"{"chain_head""#, #"{ "chain_head""#) }),
            // Event lines that are JSON, and events, but not in RFC 8785 form (the chain and the
            // tree made again over them are not what the manifest says either; the form is named).
            (
                "event-number-form", "events.jsonl: line 2 is not an event in canonical JSON",
                { f in try rewrite("\(f)/events.jsonl") { $0.replacingOccurrences(of: #""lag_seconds":2.5,"#, with: #""lag_seconds":2.50,"#) } }
            ),
            (
                // "e" + U+0301 and "é" in UTF-16 order: distinct code units, one name as Unicode text.
                "event-equivalent-names", "events.jsonl: line 2 is not an event in canonical JSON",
                { f in
                    try rewrite("\(f)/events.jsonl") { text in
                        #expect(text.contains(#""payload":{"lag_seconds":2.5,"#) && text.contains(#""target":"us"},"#))
                        return text.replacingOccurrences(of: #""payload":{"lag_seconds""#, with: "\"payload\":{\"e\u{301}\":1,\"lag_seconds\"")
                            .replacingOccurrences(of: #""target":"us"},"#, with: "\"target\":\"us\",\"\u{E9}\":2},")
                    }
                }
            ),
            // A drill's bundle holds its events: an empty events.jsonl verified "ok" everywhere.
            ("events-none", "events.jsonl holds no event", { f in try Data().write(to: URL(fileURLWithPath: "\(f)/events.jsonl")) }),
            // `true` is no sequence number (Python's bool is an int: its verifier took it for 1).
            (
                "event-drill-seq-boolean", "events.jsonl: line 1 is not an event in canonical JSON",
                { f in try rewrite("\(f)/events.jsonl") { $0.replacingOccurrences(of: #""drill_seq":1,"#, with: #""drill_seq":true,"#) } }
            ),
            // Nested past 512 levels (the event's object level 1): no event, to either verifier
            // (Python's parser, within its recursion limit, took 331 levels at most).
            (
                "event-too-deep", "events.jsonl: line 2 is not an event in canonical JSON",
                { f in
                    try rewrite("\(f)/events.jsonl") {
                        $0.replacingOccurrences(
                            of: #""lag_seconds":2.5,"#, with: #""lag_seconds":2.5,"lag_x":"# + String(repeating: "[", count: 511) + String(repeating: "]", count: 511) + ",")
                    }
                }
            ),
            (
                "checkpoint-no-newline", "checkpoint: not three lines each ending in a newline",
                { f in
                    try rewrite("\(f)/checkpoint") { String($0.dropLast()) }
                }
            ),
        ]
        for (name, message, change) in cases {
            let bad = try tampered(lab, bundle, name: name) { f in
                // The sums made again, but for the cases about SHA256SUMS itself.
                if !name.hasPrefix("sums-") { try change(f); try resum(f) } else { try change(f) }
            }
            let ours = try swiftVerify(lab, bad, ["--allow-unpinned"]), theirs = try pythonVerify(bad, ["--allow-unpinned"])
            #expect(ours.status == 1 && ours.stderr.contains(message), "\(name): \(ours.status) \(ours.stderr)")
            #expect(theirs.status == 1 && theirs.stderr.contains(message), "\(name): \(theirs.status) \(theirs.stderr)")
        }
        // The archive: every ustar number octal, and no lone zero block before an entry (both 65).
        let archive = """
            import gzip, sys
            plain = bytearray(gzip.decompress(open(sys.argv[1], "rb").read()))
            size = int(plain[124:136].strip(b"\\0 ") or b"0", 8)
            second = 512 + (size + 511) // 512 * 512
            def checksum(at):
                plain[at + 148:at + 156] = b"        "
                plain[at + 148:at + 156] = (b"%06o" % sum(plain[at:at + 512])) + b"\\0 "
            kind = sys.argv[3]
            if kind == "mode":
                plain[100:108] = b"0000x44\\0"
                checksum(0)
            elif kind == "size-space":  # "3 000": GNU tar reads 3, a lax reader 3000
                plain[second + 124:second + 136] = b"%05o %05o\\0" % (0, int(plain[second + 124:second + 135], 8))
                checksum(second)
            elif kind == "magic":  # GNU's magic: its prefix field is not a prefix
                plain[257:265] = b"ustar  \\0"
                checksum(0)
            elif kind == "folder":  # every entry under another folder (the sums are relative)
                at = 0
                while plain[at:at + 512] != bytes(512):
                    name = plain[at:at + 100]
                    cut = name.index(b"/")
                    plain[at + cut - 1:at + cut] = b"X"
                    checksum(at)
                    at += 512 + (int(plain[at + 124:at + 135], 8) + 511) // 512 * 512
            else:
                plain[second:second] = bytes(512)
            open(sys.argv[2], "wb").write(gzip.compress(bytes(plain), mtime=0))
            """
        let renamed = "\(lab.dir)/tar-folder.tar.gz"
        #expect(try run(tool("python3"), ["-c", archive, bundle, renamed, "folder"]).status == 0)
        for o in [try swiftVerify(lab, renamed, ["--allow-unpinned"]), try pythonVerify(renamed, ["--allow-unpinned"])] {
            #expect(o.status == 1 && o.stderr.contains("not the drill's ("), "folder: \(o.status) \(o.stderr)")
        }
        for (kind, message) in [
            ("mode", "tar: bad number in a header"), ("zero", "tar: a lone zero block before an entry"),
            ("size-space", "tar: bad number in a header"), ("magic", "tar: a header that is not POSIX ustar"),
        ] {
            let bad = "\(lab.dir)/tar-\(kind).tar.gz"
            #expect(try run(tool("python3"), ["-c", archive, bundle, bad, kind]).status == 0)
            let ours = try swiftVerify(lab, bad, ["--allow-unpinned"]), theirs = try pythonVerify(bad, ["--allow-unpinned"])
            #expect(ours.status == 65 && ours.stderr == "failback: error: \(bad): \(message)\n", "\(kind): \(ours.stderr)")
            #expect(theirs.status == 65 && theirs.stderr == "verify-bundle: \(bad): \(message)\n", "\(kind): \(theirs.stderr)")
        }
    }

    /// A public key of small order (here the identity) has no private key: its "signature" R =
    /// identity, S = 0 verifies any message. Both verifiers refuse such a key, in a bundle and as
    /// --pubkey; and a tar entry's name is printed escaped by both.
    @Test func keysOfSmallOrderAndEscapeSequencesAreRefused() throws {
        let (lab, bundle, _) = try exportedDrill()
        let identity = Data(base64Encoded: "MCowBQYDK2VwAyEAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")!
        let pem = "-----BEGIN PUBLIC KEY-----\n\(identity.base64EncodedString())\n-----END PUBLIC KEY-----\n"
        try pem.write(toFile: "\(lab.dir)/weak.pem", atomically: true, encoding: .utf8)
        for o in [try swiftVerify(lab, bundle, ["--pubkey", "\(lab.dir)/weak.pem"]), try pythonVerify(bundle, ["--pubkey", "\(lab.dir)/weak.pem"])] {
            #expect(o.status == 65 && o.stderr.contains("not an acceptable Ed25519 public key"), "\(o.stderr)")
        }
        let forged = try tampered(lab, bundle, name: "weak-key") { f in
            try rewrite("\(f)/report.md") { $0 + "\nForged.\n" }
            try resum(f)
            try pem.write(toFile: "\(f)/public-key.pem", atomically: true, encoding: .utf8)
            try Data([1] + [UInt8](repeating: 0, count: 63)).write(to: URL(fileURLWithPath: "\(f)/SHA256SUMS.sig"))
        }
        for o in [try swiftVerify(lab, forged, ["--allow-unpinned"]), try pythonVerify(forged, ["--allow-unpinned"])] {
            #expect(o.status == 1 && o.stderr.contains("not an acceptable Ed25519 public key"), "\(o.status) \(o.stderr)")
        }
        // An entry named with an escape sequence: shown escaped, never sent to the terminal.
        let named = try tampered(lab, bundle, name: "escape") { f in try "x".write(toFile: "\(f)/\u{1B}[2Kok", atomically: true, encoding: .utf8) }
        for o in [try swiftVerify(lab, named, ["--allow-unpinned"]), try pythonVerify(named, ["--allow-unpinned"])] {
            #expect(o.status == 1 && o.stderr.contains("\\u{1b}[2Kok is an extra file") && !o.stderr.contains("\u{1B}"), "\(o.stderr)")
        }
    }

    /// Differential fuzzing, seeded (scripts/fuzz-verifiers.py): every mutated bundle fails in both
    /// verifiers, and on every mutated proof they agree; none crashes. Longer runs: the script alone.
    @Test func bothVerifiersAgreeOnMutatedBundlesAndProofs() throws {
        let (lab, bundle, _) = try exportedDrill()
        let proof = "\(lab.dir)/proof.json"
        try lab.expectSuccess(["evidence", "prove", "--seq", "3", "--key", "\(lab.dir)/k.key"]).stdout.write(toFile: proof, atomically: true, encoding: .utf8)
        let fuzz = try python(
            "fuzz-verifiers.py",
            [
                "--failback", buildDirectory.appendingPathComponent("failback").path, "--bundle", bundle, "--proof", proof, "--iterations", "40", "--seed", "2026", "--pubkey",
                "\(lab.dir)/k.key.pub.pem",
            ])
        #expect(fuzz.status == 0 && fuzz.stdout.contains(": 0 disagreements or crashes"), "\(fuzz.stdout)\(fuzz.stderr)")
    }

    /// Archives with links, devices, absolute paths or `..` are refused by both, and nothing is written.
    @Test func maliciousArchivesAreRefused() throws {
        let lab = try Lab()
        let maker = """
            import io, sys, tarfile
            kind, out = sys.argv[1], sys.argv[2]
            with tarfile.open(out, "w:gz", format=tarfile.USTAR_FORMAT) as t:
                info = tarfile.TarInfo({"abs": "/tmp/evil", "dotdot": "d/../../evil", "link": "d/evil", "device": "d/evil", "hardlink": "d/evil"}[kind])
                if kind == "link": info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                if kind == "hardlink": info.type, info.linkname = tarfile.LNKTYPE, "d/x"
                if kind == "device": info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
                data = b"evil"
                info.size = len(data) if info.type == tarfile.REGTYPE else 0
                t.addfile(info, io.BytesIO(data) if info.size else None)
            """
        for kind in ["abs", "dotdot", "link", "device", "hardlink"] {
            let out = "\(lab.dir)/\(kind).tar.gz"
            #expect(try run(tool("python3"), ["-c", maker, kind, out]).status == 0)
            let ours = try swiftVerify(lab, out)
            #expect(ours.status == 65 && ours.stderrLines.count == 1 && ours.stderr.contains("refused"), "\(kind): \(ours.stderr)")
            let theirs = try pythonVerify(out)
            #expect(theirs.status == 65, "\(kind): \(theirs.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/evil"))
        // Not gzip, or cut short.
        try "not a bundle".write(toFile: "\(lab.dir)/junk.tar.gz", atomically: true, encoding: .utf8)
        #expect(try swiftVerify(lab, "\(lab.dir)/junk.tar.gz").status == 65)
    }

    /// A bundle is one gzip member holding one ustar archive, read by one rule in both verifiers
    /// (Python's tarfile and gzip modules take more: each case here passed there, or in Swift).
    @Test func archivesOutsideTheFormatAreRefusedByBoth() throws {
        let (lab, bundle, _) = try exportedDrill()
        let maker = """
            import gzip, io, sys, tarfile
            kind, src, out = sys.argv[1:4]
            data = open(src, "rb").read()
            raw = bytearray(gzip.decompress(data))
            end = 0
            while raw[end:end + 512] != bytes(512):
                end += 512 + (int(raw[end + 124:end + 136].strip(b"\\0 ") or b"0", 8) + 511) // 512 * 512
            if kind == "trailing-bytes": result = data + b"junk"
            elif kind == "two-members": result = data + data
            else:
                if kind == "garbage-at-the-end": raw[end:end + 512] = b"x" * 512
                if kind == "signed-checksum":  # a byte over 0x7F, the checksum summed with signed chars
                    raw[500] = 0xE9
                    raw[148:156] = b" " * 8
                    raw[148:156] = b"%06o\\0 " % sum(b - 256 if b > 127 else b for b in raw[0:512])
                if kind == "pax-header":  # an extended header before the first file
                    t = io.BytesIO()
                    with tarfile.open(fileobj=t, mode="w", format=tarfile.PAX_FORMAT) as tar:
                        info = tarfile.TarInfo("x"); info.pax_headers = {"comment": "hello"}; tar.addfile(info)
                    raw[0:0] = t.getvalue()[:1024]
                result = gzip.compress(bytes(raw), mtime=0)
            open(out, "wb").write(result)
            """
        for kind in ["trailing-bytes", "two-members", "garbage-at-the-end", "signed-checksum", "pax-header"] {
            let out = "\(lab.dir)/\(kind).tar.gz"
            let made = try run(tool("python3"), ["-c", maker, kind, bundle, out])
            #expect(made.status == 0, "\(made.stderr)")
            let ours = try swiftVerify(lab, out), theirs = try pythonVerify(out)
            #expect(ours.status == 65 && ours.stderrLines.count == 1, "\(kind): \(ours.status) \(ours.stderr)")
            #expect(theirs.status == 65 && theirs.stderrLines.count == 1, "\(kind): \(theirs.status) \(theirs.stderr)")
        }
    }

    /// Bundles made to exhaust a verifier: a 1 MB gzip whose events.jsonl is one line of 1,000 MiB
    /// (2.38 GB and 4.5 s in Swift, 1.3 GB and over 120 s in Python before lines were bounded),
    /// a line of small values, a kept file past its bound, more files than a bundle holds. Both
    /// verifiers refuse each with one line (65) in bounded time and under 100 MiB.
    @Test func bundlesBuiltToExhaustAVerifierAreRefusedWithinBounds() throws {
        let lab = try Lab()
        let maker = """
            import sys, zlib
            kind, out = sys.argv[1], sys.argv[2]
            def header(name, size):
                h = bytearray(512)
                h[0:len(name)] = name.encode()
                h[100:108], h[108:116], h[116:124] = b"0000644\\0", b"0000000\\0", b"0000000\\0"
                h[124:136], h[136:148] = b"%011o\\0" % size, b"00000000000\\0"
                h[156], h[257:263], h[263:265] = ord("0"), b"ustar\\0", b"00"
                h[148:156] = b" " * 8
                h[148:156] = b"%06o\\0 " % sum(h)
                return bytes(h)
            f, z = open(out, "wb"), zlib.compressobj(9, zlib.DEFLATED, 31)
            def entry(name, size, chunks):
                f.write(z.compress(header("d/" + name, size)))
                for c in chunks: f.write(z.compress(c))
                f.write(z.compress(bytes((512 - size % 512) % 512)))
            if kind == "long-line":
                entry("events.jsonl", 1000 << 20, (b"a" * (1 << 20) for _ in range(1000)))
            elif kind == "many-values":
                line = b"[" + b"0," * 300000 + b"0]\\n"
                entry("events.jsonl", len(line), [line])
            elif kind == "big-manifest":
                entry("events.jsonl", 0, [])
                entry("manifest.json", 9 << 20, (b" " * (1 << 20) for _ in range(9)))
            elif kind == "many-files":
                for i in range(30001): entry("outputs/%06d.cast" % i, 0, [])
            f.write(z.compress(bytes(1024)) + z.flush())
            """
        let cases = [
            ("long-line", "events.jsonl: line 1 is longer than 16 MiB"),
            ("many-values", "events.jsonl: line 1 holds more than 262144 JSON values"),
            ("big-manifest", "manifest.json is over the limit of 8 MiB"),
            ("many-files", "tar: more than 30000 files"),
        ]
        for (kind, message) in cases {
            let bundle = "\(lab.dir)/\(kind).tar.gz"
            let made = try run(tool("python3"), ["-c", maker, kind, bundle])
            try #require(made.status == 0, "\(made.stderr)")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: bundle)[.size] as? Int)
            #expect(size < 1_100_000, "\(kind): \(size) bytes")
            let ours = try measured("failback", ["evidence", "verify", bundle], limit: 60)
            #expect(ours.outcome.status == 65 && ours.outcome.stderr == "failback: error: \(bundle): \(message)\n", "\(kind): \(ours.outcome.status) \(ours.outcome.stderr)")
            #expect(ours.peakKiB > 0 && ours.peakMiB < 100, "\(kind): Swift peak \(ours.peakMiB) MiB")
            #expect(ours.seconds < 20, "\(kind): Swift took \(ours.seconds) s")
            let theirs = try measured(tool("python3"), [repositoryRoot.appendingPathComponent("scripts/verify-bundle.py").path, bundle], limit: 60)
            #expect(theirs.outcome.status == 65 && theirs.outcome.stderr == "verify-bundle: \(bundle): \(message)\n", "\(kind): \(theirs.outcome.status) \(theirs.outcome.stderr)")
            #expect(theirs.peakKiB > 0 && theirs.peakMiB < 100, "\(kind): Python peak \(theirs.peakMiB) MiB")
            #expect(theirs.seconds < 20, "\(kind): Python took \(theirs.seconds) s")
        }
        // Not a regular file: refused before it is read (a FIFO with no writer never blocks).
        let fifo = "\(lab.dir)/fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let verifier = repositoryRoot.appendingPathComponent("scripts/verify-bundle.py").path
        for (args, message) in [
            ([fifo], "verify-bundle: \(fifo): is a FIFO, not a regular file\n"),
            (["/dev/zero"], "verify-bundle: /dev/zero: is a character device, not a regular file\n"),
            (["--proof", fifo], "verify-bundle: \(fifo): not a proof (is a FIFO, not a regular file)\n"),
        ] {
            let theirs = try measured(tool("python3"), [verifier] + args, limit: 20)
            #expect(theirs.outcome.status == 65 && theirs.outcome.stderr == message && theirs.seconds < 10, "\(args): \(theirs.outcome.stderr)")
        }
    }

    @Test func truncatedBundleIsRefused() throws {
        let (lab, bundle, _) = try exportedDrill()
        let data = try Data(contentsOf: URL(fileURLWithPath: bundle))
        let cut = "\(lab.dir)/cut.tar.gz"
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: cut))
        let o = try swiftVerify(lab, cut)
        #expect(o.status == 65 && o.stderr.contains("ends early"), "\(o.stderr)")
        #expect(try pythonVerify(cut).status == 65)
    }
}

/// One event's inclusion proof, checked alone by both verifiers; every corruption fails.
@Suite struct InclusionProofTests {
    @Test func proofOfOneEventVerifiesAloneAndCorruptionsFail() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        for s in ["3.5", "1.5", "0.5"] { try lab.expectSuccess(["record", "lag", "--seconds", s, "--source", "eu", "--target", "us"]) }
        let seq = try #require(try lab.events().first { ($0["payload"] as? [String: Any])?["lag_seconds"] as? Double == 1.5 }?["seq"] as? Int)
        try lab.expectSuccess(["note", "after"])
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/k.key"]).status == 0)
        let printed = try lab.expectSuccess(["evidence", "prove", "--seq", String(seq), "--key", "\(lab.dir)/k.key"]).stdout
        let good = "\(lab.dir)/proof.json"
        try printed.write(toFile: good, atomically: true, encoding: .utf8)
        let pub = "\(lab.dir)/k.key.pub.pem"
        let ours = try run("failback", ["evidence", "verify-proof", good, "--pubkey", pub]), theirs = try python("verify-bundle.py", ["--proof", good, "--pubkey", pub])
        #expect(ours.status == 0 && theirs.status == 0, "\(ours.stderr)\(theirs.stderr)")
        #expect(ours.stdout == theirs.stdout && ours.stdout.contains("event #3"))
        // The proof names nothing but that event: no other event's content is in it.
        #expect(!printed.contains("\"text\":\"after\"") && !printed.contains("\"lag_seconds\":3.5"))

        var object = try JSONSerialization.jsonObject(with: Data(printed.utf8)) as! [String: Any]
        let path = object["audit_path"] as! [String]
        let corruptions: [(String, ([String: Any]) -> [String: Any])] = [
            (
                "event edited",
                {
                    var o = $0; o["event"] = (o["event"] as! String).replacingOccurrences(of: "1.5", with: "0.5"); return o
                }
            ),
            (
                "index moved",
                {
                    var o = $0; o["leaf_index"] = (o["leaf_index"] as! Int) + 1; return o
                }
            ),
            (
                "path element dropped",
                {
                    var o = $0; o["audit_path"] = Array(path.dropLast()); return o
                }
            ),
            (
                "path element flipped",
                {
                    var o = $0; var p = path; p[0] = String(p[0].reversed()); o["audit_path"] = p; return o
                }
            ),
            (
                "tree size changed",
                {
                    var o = $0; o["tree_size"] = (o["tree_size"] as! Int) + 1; return o
                }
            ),
            (
                "checkpoint root changed",
                {
                    var o = $0
                    var lines = (o["checkpoint"] as! String).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    lines[2] = String(lines[2].reversed())
                    o["checkpoint"] = lines.joined(separator: "\n"); return o
                }
            ),
            (
                "checkpoint root not base64",
                {
                    var o = $0
                    var lines = (o["checkpoint"] as! String).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                    lines[2] = "%%%"
                    o["checkpoint"] = lines.joined(separator: "\n"); return o
                }
            ),
            (
                "checkpoint signature not base64",
                {
                    var o = $0
                    o["checkpoint"] = (o["checkpoint"] as! String).split(separator: "\n", omittingEmptySubsequences: false).map { line in
                        line.hasPrefix("\u{2014} ") ? line.split(separator: " ").prefix(2).joined(separator: " ") + " %%%" : String(line)
                    }.joined(separator: "\n"); return o
                }
            ),
            (
                "checkpoint with a second blank line",
                {
                    var o = $0
                    o["checkpoint"] = (o["checkpoint"] as! String).replacingOccurrences(of: "\n\n", with: "\n\n\u{2014} junk\n\n"); return o
                }
            ),
            (
                "public key not a key",
                {
                    var o = $0; o["public_key"] = "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n"; return o
                }
            ),
            (
                "key name not a string",
                {
                    var o = $0; o["key_name"] = 7; return o
                }
            ),
            // Stripped of its key, a signed proof is not an unsigned one; a key without its name checks nothing.
            (
                "public key removed",
                {
                    var o = $0; o["public_key"] = nil; return o
                }
            ),
            (
                "key name removed",
                {
                    var o = $0; o["key_name"] = nil; return o
                }
            ),
            (
                "path element with a line break",
                {
                    var o = $0; var p = path; p[0] = String(p[0].prefix(32)) + "\n" + String(p[0].dropFirst(32)); o["audit_path"] = p; return o
                }
            ),
        ]
        for (name, corrupt) in corruptions {
            object = try JSONSerialization.jsonObject(with: Data(printed.utf8)) as! [String: Any]
            let bad = "\(lab.dir)/bad.json"
            try JSONSerialization.data(withJSONObject: corrupt(object)).write(to: URL(fileURLWithPath: bad))
            #expect(try run("failback", ["evidence", "verify-proof", bad]).status != 0, "\(name): failback accepted it")
            let theirs = try python("verify-bundle.py", ["--proof", bad])
            #expect(theirs.status != 0 && !theirs.stderr.contains("Traceback"), "\(name): verify-bundle.py: \(theirs.status) \(theirs.stderr)")
        }
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/other.key"]).status == 0)
        #expect(try run("failback", ["evidence", "verify-proof", good, "--pubkey", "\(lab.dir)/other.key.pub.pem"]).status == 1)
        #expect(try python("verify-bundle.py", ["--proof", good, "--pubkey", "\(lab.dir)/other.key.pub.pem"]).status == 1)
        // An event of another drill, or no such seq: a clear error.
        let missing = try lab.failback(["evidence", "prove", "--seq", "999"])
        #expect(missing.status == 65 && missing.stderr.contains("no event with seq 999"))
    }

    @Test func gapsNameWhatEachControlLacks() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei", option: "B")
        let o = try lab.failback(["evidence", "gaps"])
        #expect(o.status == 1)
        for expected in [
            "CC9.1\tno approval recorded", "A1.2\tno row-count comparison across sites", "A1.2\tno replication lag sample",
            "A1.3\tno command output captured", "A1.3\t",
        ] {
            #expect(o.stdout.contains(expected), "missing gap \(expected.debugDescription) in \(o.stdout)")
        }
        #expect(o.stdout.contains("step(s) of the followed procedure have no record: b-demote-us"))
        // No phase run yet: a gap of its own, gone once one starts.
        #expect(o.stdout.contains("A1.3\tno phase of the runbook was run (failback phase start)\n"))
        try lab.expectSuccess(["phase", "start", "b-configure-us-standby", "--override", "--reason", "test"])
        #expect(!(try lab.failback(["evidence", "gaps"]).stdout.contains("no phase of the runbook was run")))
    }
}
