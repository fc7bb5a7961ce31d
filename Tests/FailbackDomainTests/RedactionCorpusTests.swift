import Foundation
import Testing
@testable import FailbackDomain
import FailbackLog
import FailbackTestSupport

/// One case of `Tests/Fixtures/redaction/secrets.jsonl`: a command line or text holding a secret.
struct SecretCase: Sendable, CustomStringConvertible {
    var kind: String
    /// The secret, with `{ID}` (6 upper-case letters and digits) or `{HEX}` (6 hex digits) to be
    /// made unique per case and way in.
    var secret: String
    var text: String

    static let all: [SecretCase] = {
        let url = fixtures.appendingPathComponent("redaction/secrets.jsonl")
        let lines = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return lines.split(separator: "\n").map { line in
            let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String] ?? [:]
            return SecretCase(kind: o["kind"] ?? "?", secret: o["secret"] ?? "?", text: o["text"] ?? "?")
        }
    }()

    /// The text and its secret for case `index` through way in `way`, and what must appear nowhere.
    func instance(_ index: Int, way: Int) -> (text: String, secret: String, marker: String) {
        let id = String(format: "Q%02dW%dZ", index, way)
        let hex = String(format: "c%03d%02d", index, way)
        let secret = self.secret.replacingOccurrences(of: "{ID}", with: id).replacingOccurrences(of: "{HEX}", with: hex)
        let text = self.text.replacingOccurrences(of: "{SECRET}", with: secret)
        return (text, secret, self.secret.contains("{ID}") ? id : secret)
    }

    var description: String { "\(kind): \(text.prefix(60))" }
}

let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

@Suite struct RedactionCorpusTests {
    let redactor = Redactor()

    @Test func corpusIsLoaded() {
        #expect(SecretCase.all.count >= 60)
        #expect(Set(SecretCase.all.map(\.kind)).count >= 35)
    }

    /// Every case, as text (a note, an output, a `sh -c` string): the secret is gone, the kind is named.
    @Test(arguments: SecretCase.all.enumerated().map { ($0.offset, $0.element) })
    func secretInTextIsRedacted(index: Int, c: SecretCase) {
        let (text, secret, marker) = c.instance(index, way: 0)
        let result = redactor.redact(.string(text), at: "/payload/text", memory: nil)
        let stored = CanonicalJSON.string(result.value)
        #expect(!stored.contains(marker) && !stored.contains(secret), "\(c.kind): \(stored)")
        #expect(result.redactions.map(\.kind).contains(c.kind), "\(c.kind): \(result.redactions.map(\.kind)) in \(stored)")
        // Idempotent: redacting what is stored changes nothing.
        let again = redactor.redact(result.value, at: "/payload/text", memory: nil)
        #expect(again.value == result.value && again.redactions.isEmpty, "\(CanonicalJSON.string(again.value))")
    }

    /// Secrets as commands print them (text only: no command line has them): Kubernetes env
    /// entries (`kubectl get -o yaml|json`), YAML block scalars, an AWS Secrets Manager answer.
    /// Each was stored whole; the tool even said "[redacted: secret_field]" for the block scalar,
    /// having replaced only its `|`.
    @Test(arguments: [
        ("spec:\n  containers:\n  - env:\n    - name: DB_PASSWORD\n      value: Ke7envpw\n    - name: REGION\n      value: eu-central-1\n", "Ke7envpw", "env_secret"),
        (#"[{"name": "REGION", "value": "eu-central-1"}, {"name": "CF_API_TOKEN", "value": "Kj7envtok"}]"#, "Kj7envtok", "env_secret"),
        ("db:\n  password: |\n    Yb7-block-pw\n    and-a-second-line\n  user: app\n", "Yb7-block-pw", "secret_field"),
        ("- password: >-\n    Yf7-folded-pw\n  host: db\n", "Yf7-folded-pw", "secret_field"),
        (#"{"ARN": "arn:aws:secretsmanager:eu-central-1:1:secret:db", "SecretString": "Sm7awsvalue"}"#, "Sm7awsvalue", "secret_field"),
    ])
    func secretsAsCommandsPrintThemAreRedacted(text: String, secret: String, kind: String) {
        let result = redactor.redact(.string(text), at: "/payload/text", memory: nil)
        let stored = CanonicalJSON.string(result.value)
        #expect(!stored.contains(secret), "\(stored)")
        #expect(result.redactions.map(\.kind) == [kind])
        // What is around the secret stays: the region, the user, the next key.
        for kept in ["eu-central-1", "user: app", "host: db", "DB_PASSWORD", "CF_API_TOKEN", "and-a-second-line"] where text.contains(kept) && kept != "and-a-second-line" {
            #expect(stored.contains(kept), "\(kept) lost: \(stored)")
        }
        #expect(!stored.contains("and-a-second-line"))
    }

    /// The other way: a block scalar or an env entry under a name that is no secret's is kept whole.
    @Test func blocksAndEntriesOfOrdinaryNamesAreKept() {
        for text in ["script: |\n  echo hi\n  psql -c 'select 1'\nuser: app\n", "- name: REGION\n  value: eu-central-1\n", #"{"name": "LOG_LEVEL", "value": "debug"}"#] {
            let result = redactor.redact(.string(text), at: "/payload/text", memory: nil)
            #expect(result.value == .string(text) && result.redactions.isEmpty, "\(CanonicalJSON.string(result.value))")
        }
    }

    /// Every case as the argv a shell would have run (`exec`): the secret is gone from every element.
    @Test(arguments: SecretCase.all.enumerated().map { ($0.offset, $0.element) })
    func secretInArgvIsRedacted(index: Int, c: SecretCase) {
        let (text, secret, marker) = c.instance(index, way: 1)
        let argv = shellWords(text)
        let result = redactor.redact(.array(argv.map(JSONValue.string)), at: "/payload/argv", memory: nil)
        let stored = CanonicalJSON.string(result.value)
        #expect(!stored.contains(marker) && !stored.contains(secret), "\(c.kind): \(argv) → \(stored)")
        #expect(!result.redactions.isEmpty)
    }

    /// Ordinary commands and outputs come through unchanged.
    @Test func ordinaryTextIsLeftAlone() throws {
        let lines = try String(contentsOf: fixtures.appendingPathComponent("redaction/ordinary.txt"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("# ") }
        #expect(lines.count > 60)
        for line in lines {
            let result = redactor.redact(String(line))
            #expect(result.text == String(line) && result.kinds.isEmpty, "changed: \(line) → \(result.text)")
            let argv = redactor.redact(.array(shellWords(String(line)).map(JSONValue.string)), at: "/payload/argv")
            #expect(argv.redactions.isEmpty, "argv changed: \(line) → \(CanonicalJSON.string(argv.value))")
        }
    }

    /// Every line of both source runbooks, and every string of the shipped runbooks, is stored as it
    /// is, except the one secret the runbook itself types (`password=test`).
    @Test func runbooksComeThroughUnchanged() throws {
        var checked = 0
        for name in ["failback-bud.md", "rollback-teei.md"] {
            let text = try String(contentsOf: fixtures.appendingPathComponent("seeds/\(name)"), encoding: .utf8)
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let result = redactor.redact(String(line))
                checked += 1
                if line.contains("password=test") {
                    #expect(result.text == line.replacingOccurrences(of: "password=test", with: "password=[REDACTED:password_parameter]"))
                    continue
                }
                #expect(result.text == String(line), "changed: \(line) → \(result.text)")
            }
        }
        let runbooks = fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("runbooks")
        for file in try FileManager.default.contentsOfDirectory(atPath: runbooks.path) where file.hasSuffix(".yaml") {
            let document = try YAMLReader.read(Array(try Data(contentsOf: runbooks.appendingPathComponent(file))), source: file)
            var strings: [String] = []
            func walk(_ v: JSONValue) {
                switch v {
                case .string(let s): strings.append(s)
                case .array(let a): a.forEach(walk)
                case .object(let o): o.values.forEach(walk)
                default: break
                }
            }
            walk(document.value)
            for s in strings {
                checked += 1
                let result = redactor.redact(s)
                if s.contains("password=test") { continue }
                #expect(result.text == s, "\(file): \(s) → \(result.text)")
            }
        }
        #expect(checked > 700)
    }

    /// Exact results where the rules must be precise.
    @Test(arguments: [
        // A URL password holding '/', '@' and ':' goes whole; a port is not a password.
        ("psql postgres://app:pa/ss@wo:rd@db:5432/app", "psql postgres://app:[REDACTED:url_credentials]@db:5432/app"),
        ("https://host.example.com:8443/path/@user", "https://host.example.com:8443/path/@user"),
        // -p: a port for psql and ssh, a password for mysql (attached) and sshpass.
        ("psql -h db -p 5432 && mysql -h db -pS3cret app", "psql -h db -p 5432 && mysql -h db -p[REDACTED:mysql_password] app"),
        ("sshpass -p Hunter22 ssh -p 2222 admin@host", "sshpass -p [REDACTED:sshpass_password] ssh -p 2222 admin@host"),
        ("docker run -p 8080:80 nginx; docker login -p Dock3r registry", "docker run -p 8080:80 nginx; docker login -p [REDACTED:registry_password] registry"),
        // As CONFIG GET prints it, over two lines.
        ("1) \"requirepass\"\n2) \"GetPass1\"", "1) \"requirepass\"\n2) \"[REDACTED:redis_password]\""),
        // A private key block goes whole, lines and all; what follows stays.
        ("-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\nIDx\n-----END EC PRIVATE KEY-----\nok", "[REDACTED:private_key]\nok"),
        // Cut before its end (a capped output): to the end of the text.
        ("key:\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN", "key:\n[REDACTED:private_key]"),
        // References and placeholders are not secrets.
        ("PGPASSWORD=$PGPASS psql; password: <your password>; token: {{ .Values.token }}", "PGPASSWORD=$PGPASS psql; password: <your password>; token: {{ .Values.token }}"),
        ("X-API-Key: ${API_KEY}", "X-API-Key: ${API_KEY}"),
        // JSON inside a shell string, escaped.
        (#"curl -d "{\"password\": \"Esc4ped\"}""#, #"curl -d "{\"password\": \"[REDACTED:secret_field]\"}""#),
    ])
    func exactResults(text: String, expected: String) {
        #expect(redactor.redact(text).text == expected)
    }

    /// In an argv, the element after `-a` is the secret, whole; `--password=X` and `-pX` only after the prefix.
    @Test func argvElementsAreReadAsWords() {
        let argv: [String] = ["redis-cli", "-h", "cache", "-a", "pw-Elem1", "PING"]
        let result = redactor.redact(.array(argv.map(JSONValue.string)), at: "/payload/argv")
        #expect(result.value == .array(["redis-cli", "-h", "cache", "-a", "[REDACTED:redis_password]", "PING"].map(JSONValue.string)))
        #expect(result.redactions == [Redaction(pointer: "/payload/argv/4", kind: "redis_password")])
        let mysql = redactor.redact(.array(["mysql", "-pS3cret", "--password=Two2", "-P", "3306"].map(JSONValue.string)), at: "/a")
        #expect(mysql.value == .array(["mysql", "-p[REDACTED:mysql_password]", "--password=[REDACTED:argument_secret]", "-P", "3306"].map(JSONValue.string)))
    }

    /// A secret found in one place of an event is replaced wherever else it occurs in it.
    @Test func secretsAreReplacedEverywhereInTheEvent() {
        let payload: JSONValue = [
            "argv": .array(["redis-cli", "-a", "Rd5ecret!", "CONFIG", "GET", "requirepass"].map(JSONValue.string)),
            "stdout": ["text": "1) \"requirepass\"\n2) \"Rd5ecret!\"\nWarning: using Rd5ecret! on the command line\n"],
        ]
        let result = redactor.redact(payload, at: "/payload", memory: nil)
        let stored = CanonicalJSON.string(result.value)
        #expect(!stored.contains("Rd5ecret"))
        #expect(stored.contains("Warning: using [REDACTED:learned_secret] on the command line"))
        #expect(result.learned == ["Rd5ecret!"])
        #expect(result.redactions.contains(Redaction(pointer: "/payload/stdout/text", kind: "learned_secret")))
    }

    /// Secrets a drill redacted are found again in its later events, by salted hash only.
    @Test func learnedSecretsAreRememberedAsHashes() throws {
        var memory = LearnedSecrets(drillID: "drill-1")
        let record = memory.record(for: "Rd5ecret!")
        #expect(record.length == 9 && record.digest.count == 32)
        #expect(!record.digest.elementsEqual(Array("Rd5ecret!".utf8).prefix(32)))
        let first = memory.add(record)
        let second = memory.add(record)
        #expect(first && !second)
        // Another drill's salt gives another digest.
        #expect(LearnedSecrets(drillID: "drill-2").record(for: "Rd5ecret!").digest != record.digest)
        let later = redactor.redact(.string("login ok; echo Rd5ecret!|Rd5ecret!x and Rd5ecre"), at: "/payload/text", memory: memory)
        #expect(later.value == .string("login ok; echo [REDACTED:learned_secret]|[REDACTED:learned_secret]x and Rd5ecre"))
        #expect(later.redactions == [Redaction(pointer: "/payload/text", kind: "learned_secret")])
        // Found as a word of its own, never inside a longer run of letters and digits: a short
        // learned value does not eat into a SHA-256 the recorder computed, nor into a name.
        var short = LearnedSecrets(drillID: "drill-1")
        short.add(short.record(for: "801d4845"))
        let digest = "801d4845ecb73ee5a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718"
        for kept in [digest, "x801d4845", "801d4845z", "sha 801d48451"] {
            #expect(redactor.redact(.string(kept), at: "/p", memory: short).value == .string(kept), "\(kept)")
        }
        #expect(redactor.redact(.string("pw 801d4845-eu9, (801d4845)"), at: "/p", memory: short).value == .string("pw [REDACTED:learned_secret]-eu9, ([REDACTED:learned_secret])"))
        // Read back from records, as the store gives them.
        let reread = LearnedSecrets(drillID: "drill-1", records: [record])
        #expect(reread.count == 1)
        #expect(redactor.redact(.string("x Rd5ecret! y"), at: "/p", memory: reread).value == .string("x [REDACTED:learned_secret] y"))
    }

    /// A `kubectl create secret` literal is redacted whatever its key, but learned only when its key
    /// names a secret: `AWS_REGION=us-east-1` beside a key must not make the region vanish from the
    /// rest of the drill (it did: a lag sample's target became a marker, and the RPO verdict changed).
    @Test func literalsOfASecretAreLearnedOnlyUnderSecretNames() {
        let argv = [
            "kubectl", "create", "secret", "generic", "aws-creds", "--from-literal=AWS_REGION=us-east-1", "--from-literal=AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG",
        ]
        let result = redactor.redact(["argv": .array(argv.map(JSONValue.string))], at: "/payload", memory: nil)
        #expect(
            result.value["argv"]
                == .array(
                    Array(argv.prefix(5)).map(JSONValue.string) + [
                        "--from-literal=AWS_REGION=[REDACTED:kubectl_secret_literal]", "--from-literal=AWS_SECRET_ACCESS_KEY=[REDACTED:kubectl_secret_literal]",
                    ]))
        #expect(result.learned == ["wJalrXUtnFEMI/K7MDENG"])
    }

    /// Only values long and varied enough are learned: a word or a number would vanish from the drill.
    @Test func onlyVariedSecretsAreLearned() {
        #expect(Redactor.learnable("Rd5ecret!"))
        #expect(Redactor.learnable("hunter2"))
        #expect(!Redactor.learnable("pw1"))
        #expect(!Redactor.learnable("expired"))
        #expect(!Redactor.learnable("123456789"))
        #expect(!Redactor.learnable("[REDACTED:jwt]"))
        let result = redactor.redact(.string("token: expired; PGPASSWORD=hunter2"), at: "/t", memory: nil)
        #expect(result.learned == ["hunter2"])
    }

    /// An output captured past the cap is cut after redaction, never inside a marker or a character.
    @Test func cutsAfterRedaction() {
        #expect(CapturedOutput.cut("abcdef", to: 4) == "abcd")
        #expect(CapturedOutput.cut("ab[REDACTED:jwt] tail", to: 8) == "ab")
        #expect(CapturedOutput.cut("ab[REDACTED:jwt] tail", to: 17) == "ab[REDACTED:jwt] ")
        #expect(CapturedOutput.cut("aé", to: 2) == "a")
        // A URL password crossing the cap: redacted whole, then cut; no head of it is kept.
        let text = String(repeating: "x", count: 20) + " postgres://app:HeadOfPw1234@db/app"
        let output = CapturedOutput(text: text, bytes: text.utf8.count, sha256: "", truncated: true, keep: 36)
        let event = CommandExecuted(
            argv: ["cat", "f"], cwd: "/", step: nil, startedAt: Timestamp(millisecondsSinceEpoch: 0), endedAt: Timestamp(millisecondsSinceEpoch: 1),
            exitStatus: 0, signal: nil, stdout: output, stderr: CapturedOutput(text: "", bytes: 0, sha256: "", truncated: false))
        var result = redactor.redact(event.json, at: "/payload", memory: nil)
        event.capAfterRedaction(&result)
        let stdout = result.value["stdout"]?["text"]?.stringValue ?? ""
        #expect(stdout == String(repeating: "x", count: 20) + " postgres://app:")
        #expect(!stdout.contains("Head"))
        // The marker was cut away, so the event no longer claims it.
        #expect(result.redactions.isEmpty)
    }

    /// Text made of anchors end to end costs no more than a pass per rule over it: no rule scans
    /// again a run another anchor of its shape already scanned (quadratic, 256 KiB would take minutes).
    @Test(arguments: ["key", "eyJ", "glpat-", "://", "-----BEGIN PRIVATE KEY-----", "password=", "redis-cli -a ", "AKIA"])
    func pathologicalTextStaysLinear(unit: String) {
        let text = String(repeating: unit, count: 262_144 / unit.utf8.count)
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = redactor.redact(.string(text), at: "/t", memory: nil) }
        #expect(elapsed < .seconds(10), "\(unit): \(elapsed)")
    }

    /// Names: which say their value is a secret.
    @Test(arguments: [
        ("PGPASSWORD", true), ("DB_PASS", true), ("MYSQL_PWD", true), ("CF_API_TOKEN", true), ("AWS_SECRET_ACCESS_KEY", true),
        ("client_secret", true), ("apiKey", true), ("SecretAccessKey", true), ("X-API-Key", true), ("X-Auth-Token", true),
        ("private_key", true), ("ENCRYPTION_KEY", true), ("SSH_KEY", true), ("REDIS_AUTH", true),
        ("KEYS", false), ("MAX_TOKENS", false), ("TOKEN_TTL", false), ("AWS_ACCESS_KEY_ID", false), ("DB_PASSWORD_FILE", false),
        ("secretKeyRef", false), ("primaryKey", false), ("key", false), ("auth", false), ("pass", false), ("PWD", false),
        ("author", false), ("tokenizer", false), ("passed", false), ("keyboard", false), ("password-stdin", false),
    ])
    func namesSayWhatTheyHold(name: String, secret: Bool) {
        #expect(SecretName.isSecret(Array(name.utf8), environment: true) == secret)
    }
}
