import Foundation
import Testing

/// Each kind of secret, recorded through the CLI: absent from every byte of the store files, and
/// the event says which kind of redaction happened where.
@Suite struct RedactionCLITests {
    /// An error line quotes what it could not take (a command line, a tool's stderr): the rules go
    /// over it as over what is recorded (terminals and CI logs keep it). A failing `observe pods`
    /// printed the token and the URL password of its kubectl command in clear.
    @Test func anErrorLineKeepsNoSecret() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        try FileManager.default.createDirectory(atPath: "\(lab.dir)/stub", withIntermediateDirectories: true)
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
        try "#!/bin/sh\necho \"error: Unauthorized, token=\(jwt)\" >&2\nexit 1\n".write(toFile: "\(lab.dir)/stub/kubectl", atomically: true, encoding: .utf8)
        chmod("\(lab.dir)/stub/kubectl", 0o755)
        let o = try lab.failback(
            ["observe", "pods", "--", "kubectl", "get", "pods", "--token=\(jwt)", "--server", "https://admin:Kx9pw@k8s:6443"],
            env: ["PATH": "\(lab.dir)/stub:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")])
        #expect(o.status == 65)
        #expect(
            o.stderr
                == "failback: error: kubectl get pods --token=[REDACTED:jwt] --server https://admin:[REDACTED:url_credentials]@k8s:6443: error: Unauthorized, token=[REDACTED:jwt]\n"
        )
    }

    /// The actor and the idempotency key are stored as given: one that holds a secret is refused
    /// with one line and nothing appended (both were stored verbatim, in every export).
    @Test func anActorOrAKeyHoldingASecretIsRefused() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        let before = try lab.eventCount
        for (args, env, line) in [
            (
                ["note", "--actor", "ghp_0123456789abcdefghijABCDEFGHIJ0123", "x"], [String: String](),
                "the actor (--actor, $FAILBACK_ACTOR) holds what looks like a secret (github_token)"
            ),
            (["note", "x"], ["FAILBACK_ACTOR": "dana DB_PASSWORD=hunter22"], "the actor (--actor, $FAILBACK_ACTOR) holds what looks like a secret (env_secret)"),
            (["note", "--idempotency-key", "AKIAZZZ7EXAMPLE7IDEM", "x"], [:], "the idempotency key holds what looks like a secret (aws_access_key_id)"),
        ] {
            let o = try lab.failback(args, env: env)
            #expect(o.status == 65 && o.stdout.isEmpty)
            #expect(o.stderr == "failback: error: \(line): nothing appended\n", "\(o.stderr)")
        }
        #expect(try lab.eventCount == before)
        try lab.expectSuccess(["note", "--actor", "dana", "--idempotency-key", "step-3-retry", "x"])
    }

    @Test func secretsNeverReachTheStoreFiles() throws {
        let lab = try Lab()
        try #"{"redaction": {"patterns": [{"kind": "vault_token", "regex": "hvs\\.[A-Za-z0-9]{8,}"}]}}"#
            .write(toFile: "\(lab.dir)/config.json", atomically: true, encoding: .utf8)
        _ = try lab.startDrill()
        // (command as typed, the secret in it, the kind expected)
        let cases: [(args: [String], secret: String, kind: String)] = [
            (["note", #"curl https://api/v1/projects -H "Authorization: Bearer eyJbearerSecret01""#], "eyJbearerSecret01", "authorization_header"),
            (["note", "Proxy-Authorization: Basic cHJveHlTZWNyZXQwMg=="], "cHJveHlTZWNyZXQwMg", "authorization_header"),
            (["note", "got a bearer tokenSecret03xyz from keycloak"], "tokenSecret03xyz", "bearer_token"),
            (["note", #"curl -X POST https://api/auth/token -d "username=test&password=formSecret04""#], "formSecret04", "password_parameter"),
            (["note", "login with passwd=passwdSecret05"], "passwdSecret05", "password_parameter"),
            (["record", "health", "--target", "https://api.example.com/health?token=querySecret06", "--status", "200", "--latency-ms", "12"], "querySecret06", "token_parameter"),
            (["record", "health", "--target", "https://monitor:urlSecret07@api.example.com/health", "--status", "200", "--latency-ms", "12"], "urlSecret07", "url_credentials"),
            // A resolver is HOST:PORT (a URL with credentials is refused there): the URL goes in a note.
            (["note", "asked dns://admin:dnsSecret08@127.0.0.1:5353 for api.example.com"], "dnsSecret08", "url_credentials"),
            (["note", "pg_rewind --source-server=\"host=eu port=5432 user=replicator password=connSecret09\""], "connSecret09", "conninfo_password"),
            (["issue", "add", "CF_API_TOKEN=envTokenSecret10 was printed by the script", "--severity", "high"], "envTokenSecret10", "env_secret"),
            (["note", "export CLIENT_SECRET=envSecret11"], "envSecret11", "env_secret"),
            (["note", "PGPASSWORD=envPassword12 psql -h primary"], "envPassword12", "env_secret"),
            (["note", "AWS_SECRET_ACCESS_KEY=envKey13"], "envKey13", "env_secret"),
            (["note", "vault login hvs.configured14"], "hvs.configured14", "vault_token"),
        ]
        for c in cases { try lab.expectSuccess(c.args) }
        let raw = try lab.rawStoreBytes()
        #expect(raw.count > 4096)
        for c in cases {
            #expect(raw.range(of: Data(c.secret.utf8)) == nil, "\(c.secret) is in the store file")
        }
        // The log says what kind of redaction happened, event by event.
        let events = try lab.expectSuccess(["log", "--json"]).stdout.split(separator: "\n").dropFirst()
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(events.count == cases.count)
        for (event, c) in zip(events, cases) {
            let kinds = (event["redactions"] as? [[String: String]] ?? []).compactMap { $0["kind"] }
            #expect(kinds.contains(c.kind), "\(c.secret): kinds \(kinds)")
            let payload = try JSONSerialization.data(withJSONObject: event["payload"]!)
            #expect(String(decoding: payload, as: UTF8.self).contains("REDACTED:\(c.kind)"))
        }
    }

    @Test func podListingsKeepNoEnvironmentSecrets() throws {
        let lab = try Lab()
        _ = try lab.startDrill()
        try lab.expectSuccess(["record", "pods", "--from-file", repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl/pods-mixed.json").path])
        let raw = try lab.rawStoreBytes()
        for secret in ["Pg-s3cret-42", "k8s-jwt-signing-secret-value"] { #expect(raw.range(of: Data(secret.utf8)) == nil) }
    }
}
