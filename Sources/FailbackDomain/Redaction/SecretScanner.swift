/// A secret found in text: the bytes to replace and the rule that found it.
struct Finding: Equatable {
    var start: Int
    var end: Int
    var kind: String
    /// The rule's place in the catalogue: of two findings that start at the same byte and are as
    /// long, the earlier rule names the redaction.
    var rank: Int
    /// Whether the value is looked for again, in this event and the drill's later ones (see
    /// `Redactor.learnable`): not for values redacted only for where they stand (a `kubectl
    /// create secret` literal whose key names no secret, such as `AWS_REGION=us-east-1`).
    var learnable = true
}

/// The built-in rules over the UTF-8 bytes of one text. Every rule is reached from an anchor (a
/// word it cannot match without), found by one pass of `AnchorAutomaton`, and looks around that
/// anchor by hand: no regular expression runs on built-in rules.
struct SecretScanner: Sendable {
    /// What an anchor starts.
    enum Trigger: Sendable {
        /// A name that may say its value is a secret (`password`, `token`, `key`...): an assignment.
        case secretWord
        /// A token format that starts with this prefix (case-sensitive), then `minimum`+ token chars.
        case prefix(kind: String, prefix: [UInt8], charset: Charset, minimum: Int)
        case awsKeyID
        case privateKeyBlock
        case jwt
        case url
        case slackWebhook
        case teamsWebhook
        /// A command or word that the command-line rules look at (`mysql`, `redis-cli`, `login`...).
        case command
        /// `[REDACTED:`: a marker already there.
        case marker
    }

    enum Charset: Sendable {
        case alnum, token, tokenDots, hex, base64
        func contains(_ b: UInt8) -> Bool {
            switch self {
            case .alnum: return Ascii.isAlnum(b)
            case .token: return Ascii.isTokenChar(b)
            case .tokenDots: return Ascii.isTokenChar(b) || b == 0x2E
            case .hex: return Ascii.isHex(b)
            case .base64: return Ascii.isAlnum(b) || b == 0x2B || b == 0x2F || b == 0x3D
            }
        }
    }

    static let catalogue: [(anchor: String, trigger: Trigger)] = {
        var c: [(String, Trigger)] = []
        for word in ["pass", "pwd", "secret", "token", "key", "auth", "credential", "cookie", "bearer", "sig", "identified"] { c.append((word, .secretWord)) }
        func prefix(_ kind: String, _ prefixes: [String], _ charset: Charset, _ minimum: Int) {
            for p in prefixes { c.append((p.lowercased(), .prefix(kind: kind, prefix: Array(p.utf8), charset: charset, minimum: minimum))) }
        }
        prefix("github_token", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"], .alnum, 20)
        prefix("github_token", ["github_pat_"], .token, 20)
        prefix("gitlab_token", ["glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glimt-", "glsoat-", "glffct-", "gloas-"], .token, 20)
        prefix("slack_token", ["xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xapp-"], .token, 10)
        prefix("stripe_key", ["sk_live_", "rk_live_", "sk_test_", "rk_test_"], .alnum, 10)
        prefix("stripe_key", ["whsec_"], .alnum, 20)
        prefix("npm_token", ["npm_"], .alnum, 30)
        prefix("pypi_token", ["pypi-AgE"], .token, 30)
        prefix("google_api_key", ["AIza"], .token, 30)
        prefix("vault_token", ["hvs.", "hvb.", "hvr."], .token, 20)
        prefix("openai_key", ["sk-proj-", "sk-svcacct-", "sk-admin-"], .token, 20)
        prefix("anthropic_key", ["sk-ant-"], .token, 20)
        prefix("huggingface_token", ["hf_"], .alnum, 30)
        prefix("digitalocean_token", ["dop_v1_", "doo_v1_", "dor_v1_"], .hex, 64)
        prefix("dockerhub_token", ["dckr_pat_"], .token, 20)
        prefix("grafana_token", ["glsa_", "glc_"], .base64, 30)
        prefix("age_secret_key", ["AGE-SECRET-KEY-1"], .alnum, 50)
        prefix("sendgrid_key", ["SG."], .tokenDots, 60)
        // Kubernetes secrets as `kubectl get secret -o yaml|json` prints them: base64 of a PEM
        // block (`ssh-privatekey`, `tls.key`) and of a Docker config (`.dockerconfigjson`).
        prefix("private_key", ["LS0tLS1CRUdJTi"], .base64, 20)
        prefix("docker_config", ["eyJhdXRocyI6"], .base64, 20)
        for p in ["akia", "asia", "abia", "acca"] { c.append((p, .awsKeyID)) }
        c.append(("-----begin", .privateKeyBlock))
        c.append(("eyj", .jwt))
        c.append(("://", .url))
        c.append(("hooks.slack.com/", .slackWebhook))
        c.append(("webhook.office.com/", .teamsWebhook))
        c.append(("outlook.office.com/webhook", .teamsWebhook))
        for word in CommandWords.anchors { c.append((word, .command)) }
        c.append(("[redacted:", .marker))
        return c
    }()

    static let automaton = AnchorAutomaton(catalogue.map(\.anchor))

    /// Rule ranks: context rules first (they know the exact extent), then formats.
    enum Rank {
        static let header = 0, privateKey = 1, format = 2, jwt = 3, url = 4, assignment = 5, command = 6
    }

    /// Whether any rule could match (the cheap pre-check; most strings stop here).
    static func mightHoldSecret(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        automaton.occurs(in: bytes)
    }

    /// Every secret the built-in rules find in `bytes`, and the markers already there.
    static func scan(_ bytes: [UInt8]) -> (findings: [Finding], markers: [Range<Int>]) {
        var scan = Scan(bytes: bytes)
        bytes.withUnsafeBufferPointer { buffer in
            automaton.scan(buffer) { anchor, end in scan.hit(anchor: anchor, start: end - automaton.lengths[anchor], end: end) }
        }
        if scan.needsWords { CommandWords.analyze(bytes, argv: false, into: &scan.findings) }
        return (scan.findings, scan.markers)
    }
}

/// One scan of one text.
struct Scan {
    let bytes: [UInt8]
    var findings: [Finding] = []
    var markers: [Range<Int>] = []
    var needsWords = false
    private var namesSeen: Set<Int> = []
    private var conninfo: Bool?
    // Where the last scans of each shape ended: an anchor inside a run already scanned is not
    // scanned again, so a pathological text (`keykeykey...`, `eyJeyJ...`) stays linear.
    private var nameRun = 0..<0
    /// The end of the last value taken: a name inside a secret is part of the secret.
    private var valueScannedTo = 0
    private var tokenScannedTo = 0
    private var jwtScannedTo = 0
    private var keyBlockScannedTo = 0
    /// The longest name, URL user info or token a rule looks at.
    static let window = 4096

    init(bytes: [UInt8]) { self.bytes = bytes }

    var n: Int { bytes.count }

    mutating func add(_ start: Int, _ end: Int, _ kind: String, _ rank: Int) {
        guard start < end else { return }
        findings.append(Finding(start: start, end: end, kind: kind, rank: rank))
    }

    mutating func hit(anchor: Int, start: Int, end: Int) {
        switch SecretScanner.catalogue[anchor].trigger {
        case .secretWord:
            needsWords = true
            assignment(around: start, end)
        case .prefix(let kind, let prefix, let charset, let minimum): token(kind: kind, prefix: prefix, charset: charset, minimum: minimum, at: start)
        case .awsKeyID: awsKeyID(at: start)
        case .privateKeyBlock: privateKeyBlock(at: start)
        case .jwt: jwt(at: start)
        case .url: url(separatorAt: start)
        case .slackWebhook: webhook(kind: "slack_webhook", after: end, paths: ["services/", "workflows/", "triggers/"])
        case .teamsWebhook: webhook(kind: "teams_webhook", after: end, paths: ["webhookb2/", "/", ""])
        case .command: needsWords = true
        case .marker:
            if let close = bytes[end...].prefix(64).firstIndex(of: 0x5D) { markers.append(start..<(close + 1)) }
        }
    }

    // MARK: Formats

    private func startsToken(_ i: Int) -> Bool { i == 0 || !Ascii.isAlnum(bytes[i - 1]) }

    private func matches(_ literal: [UInt8], at i: Int) -> Bool {
        i >= 0 && i + literal.count <= n && bytes[i..<(i + literal.count)].elementsEqual(literal)
    }

    mutating func token(kind: String, prefix: [UInt8], charset: SecretScanner.Charset, minimum: Int, at i: Int) {
        guard i >= tokenScannedTo, startsToken(i), matches(prefix, at: i) else { return }
        var j = i + prefix.count
        while j < n && j - i < Self.window && charset.contains(bytes[j]) { j += 1 }
        tokenScannedTo = j
        guard j - i - prefix.count >= minimum else { return }
        add(i, j, kind, SecretScanner.Rank.format)
    }

    /// `AKIA` / `ASIA` / `ABIA` / `ACCA` and 16 upper-case letters or digits: an access key id.
    mutating func awsKeyID(at i: Int) {
        guard startsToken(i), i + 20 <= n else { return }
        for k in i..<(i + 20) where !(Ascii.isUpper(bytes[k]) || Ascii.isDigit(bytes[k])) { return }
        if i + 20 < n && Ascii.isAlnum(bytes[i + 20]) { return }
        add(i, i + 20, "aws_access_key_id", SecretScanner.Rank.format)
    }

    /// `-----BEGIN ... PRIVATE KEY-----` through its `-----END ...-----`, whole, over any number of
    /// lines (or `\n` escapes); with no end in the text, to the end of the text.
    mutating func privateKeyBlock(at i: Int) {
        let begin = Array("-----BEGIN ".utf8)
        guard i >= keyBlockScannedTo, matches(begin, at: i) else { return }
        var j = i + begin.count
        let labelStart = j
        while j < n && (Ascii.isUpper(bytes[j]) || Ascii.isDigit(bytes[j]) || bytes[j] == 0x20) { j += 1 }
        let label = String(decoding: bytes[labelStart..<j], as: UTF8.self)
        guard label.contains("PRIVATE KEY"), matches(Array("-----".utf8), at: j) else { return }
        let end = Array("-----END ".utf8)
        var k = j + 5
        while k < n {
            if bytes[k] == 0x2D, matches(end, at: k) {
                var e = k + end.count
                while e < n && (Ascii.isUpper(bytes[e]) || Ascii.isDigit(bytes[e]) || bytes[e] == 0x20) { e += 1 }
                while e < n && bytes[e] == 0x2D { e += 1 }
                add(i, e, "private_key", SecretScanner.Rank.privateKey)
                keyBlockScannedTo = e
                return
            }
            k += 1
        }
        add(i, n, "private_key", SecretScanner.Rank.privateKey)
        keyBlockScannedTo = n
    }

    /// `eyJ...` `.` `...` `.` `...`: a JSON Web Token (header, payload, signature in base64url).
    mutating func jwt(at i: Int) {
        guard i >= jwtScannedTo, i == 0 || !Ascii.isTokenChar(bytes[i - 1]), matches(Array("eyJ".utf8), at: i) else { return }
        var j = i
        defer { jwtScannedTo = j }
        var segments: [Int] = []
        var length = 0
        while j < n && j - i < Self.window {
            if Ascii.isTokenChar(bytes[j]) {
                length += 1
            } else if bytes[j] == 0x2E, segments.count < 2 {
                segments.append(length)
                length = 0
            } else {
                break
            }
            j += 1
        }
        segments.append(length)
        guard segments.count == 3, segments[0] >= 8, segments[1] >= 2 else { return }
        add(i, j, "jwt", SecretScanner.Rank.jwt)
    }

    /// After `hooks.slack.com/` or `webhook.office.com/`: the rest of the URL is the credential.
    mutating func webhook(kind: String, after i: Int, paths: [String]) {
        for path in paths {
            let p = Array(path.utf8)
            guard matches(p, at: i) else { continue }
            let start = i + p.count
            var j = start
            while j < n && !Ascii.isWhite(bytes[j]) && !Ascii.isQuote(bytes[j]) && bytes[j] != 0x3C && bytes[j] != 0x3E { j += 1 }
            if j - start >= 8 { add(start, j, kind, SecretScanner.Rank.format) }
            return
        }
    }

    /// `redis` or `rediss`, in any case.
    static func isRedisScheme(_ scheme: ArraySlice<UInt8>) -> Bool {
        let lower = scheme.map { $0 | 0x20 }
        return lower.elementsEqual("redis".utf8) || lower.elementsEqual("rediss".utf8)
    }

    /// `scheme://user:password@host`: the password, whatever it holds (`/`, `@`, `:`): the user
    /// info runs to the *last* `@` of the URL. A Sentry DSN's key (`https://KEY@o1.ingest.sentry.io/1`)
    /// is its user name.
    mutating func url(separatorAt i: Int) {
        var s = i
        while s > 0 && (Ascii.isAlnum(bytes[s - 1]) || bytes[s - 1] == 0x2B || bytes[s - 1] == 0x2E || bytes[s - 1] == 0x2D) { s -= 1 }
        guard s < i, Ascii.isLetter(bytes[s]) else { return }
        let infoStart = i + 3
        var end = infoStart
        var lastAt = -1
        while end < n && end - infoStart < Self.window && !Ascii.isWhite(bytes[end]) && bytes[end] != 0x22 && bytes[end] != 0x27
            && bytes[end] != 0x60 && bytes[end] != 0x3C && bytes[end] != 0x3E
        {
            if bytes[end] == 0x40 { lastAt = end }
            end += 1
        }
        guard lastAt > infoStart else { return }
        let info = bytes[infoStart..<lastAt]
        guard let colon = info.firstIndex(of: 0x3A) else {
            // No password: a Sentry DSN keeps its key as the user name, and redis-cli -u reads
            // `redis://SECRET@host` (no colon) as a password, not a user name.
            if info.count >= 32, info.allSatisfy(Ascii.isHex) {
                add(infoStart, lastAt, "sentry_dsn", SecretScanner.Rank.url)
            } else if Self.isRedisScheme(bytes[s..<i]), !info.isEmpty, !info.contains(0x2F), !Placeholder.matches(info) {
                add(infoStart, lastAt, "url_credentials", SecretScanner.Rank.url)
            }
            return
        }
        let user = bytes[infoStart..<colon]
        if user.contains(0x2F) || user.contains(0x3F) || user.contains(0x23) { return }  // a path, query or fragment, not user info
        let password = (colon + 1)..<lastAt
        guard !password.isEmpty else { return }
        // host:port/path@...: a port, not a password.
        var digits = password.lowerBound
        while digits < lastAt && Ascii.isDigit(bytes[digits]) { digits += 1 }
        if digits > password.lowerBound, digits - password.lowerBound <= 5, digits < lastAt, bytes[digits] == 0x2F,
            user.contains(0x2E) || user.elementsEqual("localhost".utf8)
        {
            return
        }
        if Placeholder.matches(bytes[password]) { return }
        if user.count == 32, user.allSatisfy(Ascii.isHex) {
            add(infoStart, lastAt, "sentry_dsn", SecretScanner.Rank.url)
        } else {
            add(password.lowerBound, password.upperBound, "url_credentials", SecretScanner.Rank.url)
        }
    }

    // MARK: Names and values

    /// A name around a secret word, and what follows it: `NAME=value`, `name: value`,
    /// `"name": "value"`, `name = value`, `name := value`; headers (`Authorization:`, `Cookie:`);
    /// `bearer TOKEN`. Flags (`--password`) are the command-line rules' (CommandWords).
    mutating func assignment(around s: Int, _ e: Int) {
        if (nameRun.contains(s) && e <= nameRun.upperBound) || s < valueScannedTo { return }
        var ns = s
        while ns > 0 && s - ns < 256 && Ascii.isNameChar(bytes[ns - 1]) { ns -= 1 }
        var ne = e
        while ne < n && ne - e < 256 && Ascii.isNameChar(bytes[ne]) { ne += 1 }
        nameRun = ns..<ne
        while ne > ns && (bytes[ne - 1] == 0x2E || bytes[ne - 1] == 0x2D) { ne -= 1 }
        guard ne > ns, namesSeen.insert(ns).inserted else { return }
        if bytes[ns] == 0x2D { return }  // a flag
        let name = bytes[ns..<ne]
        let lowered = String(decoding: name.map(Ascii.lower), as: UTF8.self)
        switch lowered {
        case "bearer":
            bearer(after: ne)
            return
        default: break
        }
        // The name's closing quote (JSON, or JSON inside a shell string: \"name\").
        var i = ne
        if i < n && (bytes[i] == 0x22 || bytes[i] == 0x27) {
            i += 1
        } else if i + 1 < n && bytes[i] == 0x5C && bytes[i + 1] == 0x22 {
            i += 2
        }
        let nameEnd = i
        while i < n && Ascii.isBlank(bytes[i]) { i += 1 }
        guard i < n else { return }
        let spacedBefore = i > nameEnd
        let separator: UInt8
        if bytes[i] == 0x3D {
            if i + 1 < n && (bytes[i + 1] == 0x3D || bytes[i + 1] == 0x3E) { return }  // == or =>
            separator = 0x3D
            i += 1
        } else if bytes[i] == 0x3A {
            if i + 1 < n && (bytes[i + 1] == 0x3A || bytes[i + 1] == 0x2F) { return }  // :: or ://
            separator = 0x3A
            i += 1
            if i < n && bytes[i] == 0x3D { i += 1 }  // :=
        } else {
            if lowered == "password" || lowered == "identified" { sqlPassword(after: nameEnd, identified: lowered == "identified") }
            envEntry(named: name, from: ns, to: nameEnd)
            return
        }
        let spaced = spacedBefore || (i < n && Ascii.isBlank(bytes[i]))
        while i < n && Ascii.isBlank(bytes[i]) { i += 1 }
        if separator == 0x3A {
            switch lowered {
            case "authorization", "proxy-authorization":
                authorization(valueAt: i)
                return
            case "cookie", "set-cookie":
                if let value = restOfValue(at: i) { add(value.lowerBound, value.upperBound, "cookie", SecretScanner.Rank.header) }
                return
            default: break
            }
        }
        let environment = separator == 0x3D && !spaced && SecretName.isEnvironmentStyle(name)
        let queryParameter = separator == 0x3D && ns > 0 && (bytes[ns - 1] == 0x3F || bytes[ns - 1] == 0x26)
        guard SecretName.isSecret(name, environment: environment) || (queryParameter && SecretName.isSignatureParameter(name)) else { return }
        // A YAML block scalar (`password: |`, `>-`): the value is the lines below, indented deeper.
        if separator == 0x3A, i < n, bytes[i] == 0x7C || bytes[i] == 0x3E, let block = blockScalar(indicatorAt: i, keyAt: ns) {
            valueScannedTo = block.upperBound
            add(block.lowerBound, block.upperBound, kind(name: name, lowered: lowered, separator: separator, environment: false, spaced: true), SecretScanner.Rank.assignment)
            return
        }
        guard let value = value(at: i, separator: separator) else { return }
        // A placeholder is not skipped: what it holds is scanned as any text is (`X=%sTOKEN=c`
        // holds `TOKEN=c`), or a second pass, the placeholder's name gone, would find it.
        guard !Placeholder.matches(bytes[value]) else { return }
        valueScannedTo = value.upperBound
        add(value.lowerBound, value.upperBound, kind(name: name, lowered: lowered, separator: separator, environment: environment, spaced: spaced), SecretScanner.Rank.assignment)
    }

    /// The content of a YAML block scalar whose indicator (`|`, `>`, with `+`, `-` or a digit) is at
    /// `i`, for a key at `keyAt`: the lines after it indented deeper than the key's line (blank
    /// lines among them), from the first one's first character to the last one's end.
    func blockScalar(indicatorAt i: Int, keyAt: Int) -> Range<Int>? {
        var j = i + 1
        while j < n && (bytes[j] == 0x2B || bytes[j] == 0x2D || Ascii.isDigit(bytes[j])) { j += 1 }
        while j < n && Ascii.isBlank(bytes[j]) { j += 1 }
        guard j < n, Ascii.isNewline(bytes[j]) else { return nil }
        var lineStart = keyAt
        while lineStart > 0 && !Ascii.isNewline(bytes[lineStart - 1]) { lineStart -= 1 }
        var keyIndent = 0
        while lineStart + keyIndent < keyAt && (bytes[lineStart + keyIndent] == 0x20 || bytes[lineStart + keyIndent] == 0x2D) { keyIndent += 1 }
        var start: Int?, end = j
        var line = j
        while line < n && Ascii.isNewline(bytes[line]) { line += 1 }
        while line < n && line - j < 64 * 1024 {
            var indent = 0
            while line + indent < n && bytes[line + indent] == 0x20 { indent += 1 }
            var lineEnd = line + indent
            while lineEnd < n && !Ascii.isNewline(bytes[lineEnd]) { lineEnd += 1 }
            let blank = lineEnd == line + indent
            if !blank {
                guard indent > keyIndent else { break }
                if start == nil { start = line + indent }
                end = lineEnd
            }
            line = lineEnd < n ? lineEnd + 1 : n  // past its line break (a CRLF's LF is a blank line)
        }
        guard let start, end > start else { return nil }
        return start..<end
    }

    /// SQL that sets a password: `CREATE ROLE r LOGIN PASSWORD 'x'`, `ALTER USER u WITH PASSWORD
    /// 'x'` (PostgreSQL), `CREATE USER 'u'@'%' IDENTIFIED BY 'x'` (MySQL): the quoted literal.
    private mutating func sqlPassword(after i: Int, identified: Bool) {
        var j = i
        while j < n && Ascii.isBlank(bytes[j]) { j += 1 }
        if identified {
            guard j + 2 < n, Ascii.lower(bytes[j]) == 0x62, Ascii.lower(bytes[j + 1]) == 0x79, Ascii.isBlank(bytes[j + 2]) else { return }  // BY
            j += 2
            while j < n && Ascii.isBlank(bytes[j]) { j += 1 }
        }
        guard j < n, bytes[j] == 0x27 || bytes[j] == 0x22, let value = value(at: j, separator: 0x3A), !Placeholder.matches(bytes[value]) else { return }
        valueScannedTo = max(valueScannedTo, value.upperBound)
        add(value.lowerBound, value.upperBound, "sql_password", SecretScanner.Rank.assignment)
    }

    /// A secret name that is the value of a `name` member, and the `value` member after it in the
    /// same entry: Kubernetes env entries as `kubectl get -o yaml|json` prints them
    /// (`- name: DB_PASSWORD` / `  value: x`, `{"name": "DB_PASSWORD", "value": "x"}`).
    private mutating func envEntry(named name: ArraySlice<UInt8>, from ns: Int, to nameEnd: Int) {
        guard SecretName.isSecret(name, environment: true) else { return }
        // Back: `name:` or `"name":` before it (the name's opening quote and blanks between).
        var j = ns
        if j > 0 && (bytes[j - 1] == 0x22 || bytes[j - 1] == 0x27) { j -= 1 }
        while j > 0 && Ascii.isBlank(bytes[j - 1]) { j -= 1 }
        guard j > 0, bytes[j - 1] == 0x3A else { return }
        j -= 1
        if j > 0 && (bytes[j - 1] == 0x22 || bytes[j - 1] == 0x27) { j -= 1 }
        let key = Array("name".utf8)
        guard j >= key.count, bytes[(j - key.count)..<j].elementsEqual(key), j == key.count || !Ascii.isNameChar(bytes[j - key.count - 1]) else { return }
        // Forward, within the entry (no brace, at most a few lines): `value:` or `"value":`.
        let word = Array("value".utf8)
        var k = nameEnd
        while k + word.count < n && k - nameEnd < 256 && bytes[k] != 0x7B && bytes[k] != 0x7D {
            if bytes[k] == 0x2D && k + 1 < n && bytes[k + 1] == 0x20 && (k == 0 || Ascii.isBlank(bytes[k - 1]) || Ascii.isNewline(bytes[k - 1])) { return }  // the next `- ` item
            if bytes[k..<(k + word.count)].elementsEqual(word), !Ascii.isNameChar(bytes[k - 1]) {
                var i = k + word.count
                if i < n && (bytes[i] == 0x22 || bytes[i] == 0x27) { i += 1 }
                while i < n && Ascii.isBlank(bytes[i]) { i += 1 }
                guard i < n, bytes[i] == 0x3A else { return }
                i += 1
                while i < n && Ascii.isBlank(bytes[i]) { i += 1 }
                guard i < n, bytes[i] != 0x7C, bytes[i] != 0x3E, let value = value(at: i, separator: 0x3A), !Placeholder.matches(bytes[value]) else { return }
                valueScannedTo = max(valueScannedTo, value.upperBound)
                add(value.lowerBound, value.upperBound, "env_secret", SecretScanner.Rank.assignment)
                return
            }
            k += 1
        }
    }

    private mutating func kind(name: ArraySlice<UInt8>, lowered: String, separator: UInt8, environment: Bool, spaced: Bool) -> String {
        let joined = lowered.replacingAll("_", with: "").replacingAll("-", with: "")
        if environment { return "env_secret" }
        if joined.hasSuffix("secretaccesskey") { return "aws_secret_access_key" }
        if joined == "accountkey" || joined == "sharedaccesskey" || joined == "sharedaccesssignature" { return "azure_connection_string" }
        if joined == "privatekey" { return "private_key" }
        if separator == 0x3D && !spaced {
            let words = SecretName.words(name)
            if let last = words.last, ["PASSWORD", "PASSWD", "PASS", "PWD", "PW", "PASSPHRASE"].contains(last) || last.hasSuffix("PASSWORD") {
                if lowered == "password" && isConninfo() { return "conninfo_password" }
                return "password_parameter"
            }
            return "token_parameter"
        }
        if name.contains(0x2D) && !name.contains(0x5F) && name.first.map(Ascii.isLetter) == true { return "api_key_header" }
        return "secret_field"
    }

    /// A PostgreSQL conninfo string (`host=... port=... password=...`).
    private mutating func isConninfo() -> Bool {
        if let conninfo { return conninfo }
        let text = String(decoding: bytes, as: UTF8.self)
        let found = ["host=", "hostaddr=", "dbname=", "port=", "user=", "sslmode="].contains { text.contains($0) }
        conninfo = found
        return found
    }

    /// The value after a separator: quoted (`"..."`, `'...'`, `\"...\"`, to its closing quote on the
    /// line, or the line's end when it has none), else a run of characters up to white space, a
    /// quote or, after `=`, `&` and `;` (after `:`, also `,` `}` `]`).
    /// The value ends where a marker already in the text begins (`KEY=q[REDACTED:x]KEY=a`: the
    /// value is `q`): what follows the marker is scanned as text, on this pass as on any later one.
    func value(at i: Int, separator: UInt8) -> Range<Int>? {
        guard let found = valueUpToAMarker(at: i, separator: separator) else { return nil }
        guard let marker = firstMarker(in: found) else { return found }
        return marker > found.lowerBound ? found.lowerBound..<marker : nil
    }

    /// Where the first `[REDACTED` in `range` begins.
    func firstMarker(in range: Range<Int>) -> Int? {
        let mark = Self.markerPrefix
        var j = range.lowerBound
        while j + mark.count <= range.upperBound {
            if bytes[j] == 0x5B, bytes[j..<(j + mark.count)].elementsEqual(mark) { return j }
            j += 1
        }
        return nil
    }

    static let markerPrefix = Array("[REDACTED".utf8)

    private func valueUpToAMarker(at i: Int, separator: UInt8) -> Range<Int>? {
        guard i < n else { return nil }
        let c = bytes[i]
        if c == 0x22 || c == 0x27 {
            var j = i + 1
            while j < n && j - i < Self.window && bytes[j] != c && !Ascii.isNewline(bytes[j]) {
                // An escape inside a JSON string, or a libpq conninfo value (`'it\'s'`): in a shell's
                // single quotes a backslash is no escape, and the value then runs on: more is
                // redacted, never less.
                if bytes[j] == 0x5C && j + 1 < n { j += 1 }
                j += 1
            }
            return j > i + 1 ? (i + 1)..<min(j, n) : nil
        }
        if c == 0x5C && i + 1 < n && bytes[i + 1] == 0x22 {
            var j = i + 2
            while j + 1 < n && j - i < Self.window && !(bytes[j] == 0x5C && bytes[j + 1] == 0x22) && !Ascii.isNewline(bytes[j]) { j += 1 }
            if j + 1 >= n { j = n }
            return j > i + 2 ? (i + 2)..<j : nil
        }
        if c == 0x60 { return nil }  // `command`
        if c == 0x3C, let close = bytes[i...].prefix(80).firstIndex(where: { $0 == 0x3E || Ascii.isNewline($0) }), bytes[close] == 0x3E {
            return i..<(close + 1)  // <a placeholder>
        }
        var j = i
        while j < n && j - i < Self.window {
            let b = bytes[j]
            if Ascii.isWhite(b) || b == 0x22 || b == 0x27 || b == 0x60 || b == 0x26 || b == 0x3B { break }
            if separator == 0x3A && (b == 0x2C || b == 0x7D || b == 0x5D) { break }
            if b == 0x5C && j + 1 < n && bytes[j + 1] == 0x22 { break }
            j += 1
        }
        return j > i ? i..<j : nil
    }

    /// A header's value to the end of its line, or to the quote that closes the string it is in.
    func restOfValue(at i: Int) -> Range<Int>? {
        var j = i
        while j < n && j - i < Self.window && !Ascii.isNewline(bytes[j]) && bytes[j] != 0x22 && bytes[j] != 0x27 && !(bytes[j] == 0x5C && j + 1 < n && bytes[j + 1] == 0x22) {
            j += 1
        }
        if let marker = firstMarker(in: i..<j), marker > i { j = marker }
        while j > i && Ascii.isBlank(bytes[j - 1]) { j -= 1 }
        guard j > i, !Placeholder.matches(bytes[i..<j]) else { return nil }
        return i..<j
    }

    static let authorizationSchemes: Set<String> = ["bearer", "basic", "token", "digest", "negotiate", "apikey", "ntlm", "hoba", "mutual", "vapid", "dpop", "sso-key", "key"]

    /// `Authorization: [scheme] credentials`: the credentials.
    mutating func authorization(valueAt start: Int) {
        var i = start
        if i < n && bytes[i] == 0x22 {
            i += 1
        }  // JSON: "Authorization": "Bearer ..."
        else if i + 1 < n && bytes[i] == 0x5C && bytes[i + 1] == 0x22 {
            i += 2
        }
        var j = i
        while j < n && (Ascii.isTokenChar(bytes[j])) { j += 1 }
        if j < n && j > i && Ascii.isBlank(bytes[j]),
            Self.authorizationSchemes.contains(String(decoding: bytes[i..<j].map(Ascii.lower), as: UTF8.self)) || bytes[i..<j].elementsEqual("AWS4-HMAC-SHA256".utf8)
        {
            i = j
            while i < n && Ascii.isBlank(bytes[i]) { i += 1 }
        }
        guard i < n, bytes[i] != 0x24 else { return }  // $TOKEN: a reference
        var k = i
        while k < n && k - i < Self.window && !Ascii.isWhite(bytes[k]) && bytes[k] != 0x22 && bytes[k] != 0x27 && !(bytes[k] == 0x5C && k + 1 < n && bytes[k + 1] == 0x22) {
            k += 1
        }
        guard k > i, !Placeholder.matches(bytes[i..<k]) else { return }
        add(i, k, "authorization_header", SecretScanner.Rank.header)
    }

    /// `bearer TOKEN` anywhere.
    mutating func bearer(after i: Int) {
        var j = i
        while j < n && Ascii.isBlank(bytes[j]) { j += 1 }
        guard j > i else { return }
        let start = j
        while j < n && (Ascii.isTokenChar(bytes[j]) || bytes[j] == 0x2E || bytes[j] == 0x7E || bytes[j] == 0x2B || bytes[j] == 0x2F) { j += 1 }
        while j < n && bytes[j] == 0x3D { j += 1 }
        // A word after "bearer" in prose (`Bearer token expired`) is no token: a token is long and varied.
        guard j - start >= 8, Redactor.learnable(String(decoding: bytes[start..<j], as: UTF8.self)), !Placeholder.matches(bytes[start..<j]) else { return }
        add(start, j, "bearer_token", SecretScanner.Rank.header)
    }
}

/// Values that stand for a secret without being one: references (`$TOKEN`, `${X}`, `$(cmd)`),
/// placeholders (`<password>`, `{{ .Values.token }}`, `%s`), masks (`****`, `xxxx`), markers
/// already there, and words such as `true`, `null`, `none`, `required`.
enum Placeholder {
    static let words: Set<String> = [
        "true", "false", "null", "nil", "none", "undefined", "yes", "no", "on", "off", "required", "optional", "redacted",
        "hidden", "masked", "string", "str", "empty", "unset", "prompt", "stdin",
    ]

    static func matches(_ value: some Collection<UInt8>) -> Bool {
        guard let first = value.first else { return true }
        if first == 0x24 { return true }  // $
        if value.count > 64 { return value.starts(with: "[REDACTED".utf8) || value.starts(with: "{{".utf8) }
        let text = String(decoding: Array(value), as: UTF8.self)
        if text.hasPrefix("[REDACTED") || text.hasPrefix("{{") || text.hasPrefix("%s") || text.hasPrefix("%(") { return true }
        if first == 0x3C && value.count > 2 && text.hasSuffix(">") { return true }
        if value.count >= 3, let c = value.first, [0x2A, 0x78, 0x58, 0x2E, 0x23].contains(c), value.allSatisfy({ $0 == c }) { return true }
        return words.contains(text.lowercased())
    }
}

extension String {
    /// Every occurrence of `target` replaced (without Foundation).
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
