import Foundation
import Testing

/// Learned secrets, capped output and `failback redact test`, through the CLI.
@Suite struct RedactionEngineCLITests {
    /// A password given on a command line is redacted where a later event of the drill shows it
    /// again; the store keeps only salted hashes of it; another drill does not inherit it.
    @Test func secretsAreLearnedForTheDrill() throws {
        let lab = try Lab()
        let drill = try lab.startDrill()
        let stubs = "\(lab.dir)/bin"
        try FileManager.default.createDirectory(atPath: stubs, withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"connected with $4\"\n".write(toFile: "\(stubs)/redis-cli", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: "\(stubs)/redis-cli")
        let exec = try lab.failback(["exec", "--", "redis-cli", "-h", "cache", "-a", "Lrn9Secret!", "PING"], env: ["PATH": "\(stubs):/usr/bin:/bin"])
        #expect(exec.status == 0)
        #expect(exec.stdout == "connected with Lrn9Secret!\n")  // shown live, as printed
        #expect(exec.stderr.contains("[redacted: learned_secret, redis_password]"), "\(exec.stderr)")
        let note = try lab.expectSuccess(["note", "pasted Lrn9Secret! into the ticket by mistake"])
        #expect(note.stdout.contains("pasted [REDACTED:learned_secret] into the ticket by mistake"), "\(note.stdout)")
        // Short or plain values are not learned; the note's own secret is.
        try lab.expectSuccess(["note", "PGPASSWORD=Second2pw psql -h db"])
        let third = try lab.expectSuccess(["issue", "add", "Second2pw was in the shell history", "--severity", "low"])
        #expect(third.stdout.contains("[REDACTED:learned_secret] was in the shell history"))
        let raw = try lab.rawStoreBytes()
        for secret in ["Lrn9Secret", "Second2pw"] { #expect(raw.range(of: Data(secret.utf8)) == nil, "\(secret) in the store") }
        // What the store remembers: lengths, fingerprints and digests, for this drill only.
        let rows = try lab.sqlite("SELECT drill_id, length, length(digest) FROM learned_secrets ORDER BY length").stdout
        #expect(rows == "\(drill)|9|32\n\(drill)|11|32\n")
        // The chain does not include them: the drill verifies.
        #expect(try lab.failback(["verify"]).status == 0)
        // Another drill starts with nothing learned.
        try lab.expectSuccess(["drill", "abort", "--reason", "test"])
        _ = try lab.startDrill()
        let other = try lab.expectSuccess(["note", "Lrn9Secret! again"])
        #expect(other.stdout.contains("Lrn9Secret! again"))
    }

    /// Output is capped per stream after redaction: a URL password across the cap leaves no head;
    /// size and SHA-256 are the original stream's. A key block written in two writes goes whole.
    @Test func outputIsRedactedWholeThenCut() throws {
        let lab = try Lab()
        try #"{"limits": {"max_output_bytes": 50}}"#.write(toFile: "\(lab.dir)/config.json", atomically: true, encoding: .utf8)
        _ = try lab.startDrill()
        let line = String(repeating: "x", count: 30) + " postgres://app:HeadOfPw1234@db/app\n"
        let file = "\(lab.dir)/out.txt"
        try line.write(toFile: file, atomically: true, encoding: .utf8)
        try lab.failback(["exec", "--", "/bin/cat", file])
        let script = "printf -- '-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADAN'; sleep 0.2; printf 'BgkqhkiG9w0B\\n-----END PRIVATE KEY-----\\nok\\n'"
        try lab.failback(["exec", "--", "/bin/sh", "-c", script])
        let payloads = try lab.payloads("CommandExecuted")
        let stdout = payloads[0]["stdout"] as! [String: Any]
        // Cut, then redacted, it would keep "postgres://app:HeadO": no rule could see the password.
        #expect(stdout["text"] as? String == String(repeating: "x", count: 30) + " postgres://app:")
        #expect(stdout["bytes"] as? Int == line.utf8.count)
        #expect(stdout["truncated"] as? Bool == true)
        let digest = try run(tool("sha256sum"), [file]).stdout.prefix(64)
        #expect(stdout["sha256"] as? String == String(digest))
        let key = payloads[1]["stdout"] as! [String: Any]
        #expect(key["text"] as? String == "[REDACTED:private_key]\nok\n")
        let raw = try lab.rawStoreBytes()
        for s in ["HeadO", "MIIEvQIBADAN", "BgkqhkiG9w0B"] { #expect(raw.range(of: Data(s.utf8)) == nil, "\(s) in the store") }
    }

    @Test func redactTestPrintsWhatWouldBeStored() throws {
        let lab = try Lab()
        var o = try lab.failback(["redact", "test", "curl -u admin:Pw1secret -H 'X-API-Key: k3y-abc' https://api/health"])
        #expect(o.status == 0)
        #expect(o.stdout == "curl -u admin:[REDACTED:basic_auth_password] -H 'X-API-Key: [REDACTED:api_key_header]' https://api/health\n")
        #expect(o.stderr == "redacted: basic_auth_password ×1, api_key_header ×1\n")
        o = try lab.failback(["redact", "test", "kubectl get pods -n bud"])
        #expect(o.status == 0 && o.stdout == "kubectl get pods -n bud\n" && o.stderr == "redacted: nothing\n")
        // A file, or standard input; the text as it is, with the same final line break.
        try "password: Yaml1pw\nhost: db\n".write(toFile: "\(lab.dir)/c.yaml", atomically: true, encoding: .utf8)
        o = try lab.failback(["redact", "test", "--file", "\(lab.dir)/c.yaml"])
        #expect(o.stdout == "password: [REDACTED:secret_field]\nhost: db\n" && o.stderr == "redacted: secret_field ×1\n")
        o = try lab.failback(["redact", "test", "--file", "-"], stdin: Data("AKIAIOSFODNN7EXAMPLE".utf8))
        #expect(o.stdout == "[REDACTED:aws_access_key_id]\n")
        // An argv, as exec records it; a secret it names is found again in the rest.
        o = try lab.failback(["redact", "test", "--json", "--", "sh", "-c", "redis-cli -a Rds9pass PING && echo Rds9pass"])
        #expect(o.status == 0)
        #expect(
            o.stdout
                == #"{"argv":["sh","-c","redis-cli -a [REDACTED:redis_password] PING && echo [REDACTED:learned_secret]"],"redactions":[{"count":1,"kind":"redis_password"},{"count":1,"kind":"learned_secret"}]}"#
                + "\n")
        // Configured rules apply; input is bounded; one input only.
        try #"{"redaction": {"patterns": [{"kind": "ticket_secret", "regex": "TS-[0-9]{4}"}]}, "limits": {"max_payload_bytes": 256}}"#
            .write(toFile: "\(lab.dir)/config.json", atomically: true, encoding: .utf8)
        o = try lab.failback(["redact", "test", "code TS-1234"])
        #expect(o.stdout == "code [REDACTED:ticket_secret]\n")
        o = try lab.failback(["redact", "test", String(repeating: "a", count: 300)])
        #expect(o.status == 65 && o.stdout.isEmpty && o.stderr == "failback: error: text is over the limit of 256 bytes\n")
        o = try lab.failback(["redact", "test"])
        #expect(o.status == 64 && o.stdout.isEmpty)
    }
}
