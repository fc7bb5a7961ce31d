import Testing
@testable import FailbackDomain
import FailbackLog

@Suite struct RedactionTests {
    let redactor = Redactor()

    /// Each built-in kind, in the shapes the runbooks use.
    @Test(arguments: [
        ("curl https://api.example.com -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc\"", "eyJhbGciOiJIUzI1NiJ9.e30.abc", "authorization_header"),
        ("Authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz", "authorization_header"),
        ("token sent as bearer ghp_abcdefghijklmnop1234", "ghp_abcdefghijklmnop1234", "bearer_token"),
        ("curl -X POST https://api.budai.example.com/auth/token -d \"username=test&password=hunter2\"", "hunter2", "password_parameter"),
        ("login?user=a&passwd=letmein&x=1", "letmein", "password_parameter"),
        ("https://api.example.com/v1/items?token=tok_live_123&page=2", "tok_live_123", "token_parameter"),
        ("git clone https://deploy:gh-pat-999@github.example.com/org/repo.git", "gh-pat-999", "url_credentials"),
        ("postgresql://replicator:Repl1cate!@10.0.0.5:5432/postgres", "Repl1cate!", "url_credentials"),
        ("redis-cli -u redis://failback:lab-s3cret@127.0.0.1:6379 PING", "lab-s3cret", "url_credentials"),
        ("redis-cli -u redis://:lab-s3cret@127.0.0.1:6379 PING", "lab-s3cret", "url_credentials"),
        ("redis-cli -u rediss://lab-s3cret@redis.example.com:6380 INFO replication", "lab-s3cret", "url_credentials"),
        ("psql \"host=primary port=5432 user=replicator password=s3cr3t dbname=postgres\"", "s3cr3t", "conninfo_password"),
        ("host=db password='two words' sslmode=require", "two words", "conninfo_password"),
        ("export CF_API_TOKEN=cf-abcdef0123456789", "cf-abcdef0123456789", "env_secret"),
        ("PGPASSWORD=pw123 psql -h db", "pw123", "env_secret"),
        ("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG", "env_secret"),
        ("MY_APP_SECRET=\"quoted secret value\"", "quoted secret value", "env_secret"),
    ])
    func redactsEachKind(text: String, secret: String, kind: String) {
        let (clean, kinds) = redactor.redact(text)
        #expect(!clean.contains(secret), "secret survived in \(clean)")
        #expect(kinds.contains(kind), "kinds \(kinds)")
        #expect(clean.contains(Redactor.marker(kind)))
    }

    /// Text from the runbooks without secrets is left alone, variable references included.
    @Test(arguments: [
        "kubectl get pods -n bud --context=primary",
        "curl https://api.budai.example.com/api/v1/projects -H \"Authorization: Bearer $TOKEN\"",
        "curl -H \"Authorization: Bearer ${CF_API_TOKEN}\" https://api.cloudflare.com/client/v4/zones/${ZONE_ID}",
        "SELECT client_addr, state, replay_lag FROM pg_stat_replication;",
        "aws route53 change-resource-record-sets --hosted-zone-id $HOSTED_ZONE_ID",
        "the token bucket refilled; keys rotated",
    ])
    func leavesTextWithoutSecretsAlone(text: String) {
        let (clean, kinds) = redactor.redact(text)
        #expect(clean == text)
        #expect(kinds.isEmpty)
    }

    @Test func redactingTwiceChangesNothing() {
        let text = "CF_API_TOKEN=abc curl -H 'Authorization: Bearer xyz' 'https://u:p@h/?token=t&password=q' host=h password=w redis://pw@h redis://:pw@h"
        let once = redactor.redact(text).text
        let twice = redactor.redact(once)
        #expect(twice.text == once)
        #expect(twice.kinds.isEmpty)
    }

    @Test func redactsJSONMembersAndNamesWhereItDid() {
        let payload: JSONValue = [
            "command": "curl -u x -H \"Authorization: Bearer abc.def\"",
            "env": [["name": "CF_API_TOKEN", "value": "cf-secret"], ["name": "LOG_LEVEL", "value": "info"]],
            "config": ["password": "p4ss", "apiKey": "k3y", "user": "app", "DB_PASSWORD": "x1"],
        ]
        let (clean, redactions) = redactor.redact(payload, at: "/payload")
        let text = CanonicalJSON.string(clean)
        for secret in ["abc.def", "cf-secret", "p4ss", "k3y", "x1"] { #expect(!text.contains(secret)) }
        #expect(text.contains("info") && text.contains("\"app\""))
        #expect(
            Set(redactions) == [
                Redaction(pointer: "/payload/command", kind: "authorization_header"),
                Redaction(pointer: "/payload/env/0/value", kind: "env_secret"),
                Redaction(pointer: "/payload/config/password", kind: "secret_field"),
                Redaction(pointer: "/payload/config/apiKey", kind: "secret_field"),
                Redaction(pointer: "/payload/config/DB_PASSWORD", kind: "env_secret"),
            ])
    }

    @Test func escapesPointerTokens() {
        let (_, redactions) = redactor.redact(["a/b~c": "password=x"], at: "/payload")
        #expect(redactions == [Redaction(pointer: "/payload/a~1b~0c", kind: "password_parameter")])
    }

    @Test func configuredPatternsExtendTheRules() throws {
        let extra = try RedactionRule(kind: "vault_token", pattern: #"vault token (?<secret>hvs\.[A-Za-z0-9]+)"#)
        let whole = try RedactionRule(kind: "ticket_secret", pattern: #"SECRET-[0-9]{4}"#)
        let r = Redactor(extraRules: [extra, whole])
        let (clean, kinds) = r.redact("use vault token hvs.AbC123 for SECRET-1234")
        #expect(clean == "use vault token [REDACTED:vault_token] for [REDACTED:ticket_secret]")
        #expect(kinds == ["vault_token", "ticket_secret"])
    }

    @Test func refusesBadConfiguredPatterns() {
        #expect(throws: InvalidInput.self) { try RedactionRule(kind: "x", pattern: "(unclosed") }
        #expect(throws: InvalidInput.self) { try RedactionRule(kind: "bad kind!", pattern: "x") }
    }
}
