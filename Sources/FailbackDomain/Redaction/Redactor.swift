import FailbackLog

/// One way a secret shows up in text, and how to cut it out.
public struct RedactionRule {
    /// Recorded in the event as the redaction's `kind`.
    public let kind: String
    private let compiled: CompiledOnFirstUse
    var regex: Regex<AnyRegexOutput> { compiled.regex }
    /// The capture group that holds the secret (0: the whole match).
    let secretGroup: Int
    /// Cheap pre-check: the rule runs only on text that contains one of these ASCII words (compared
    /// ignoring case, unless `caseSensitiveKeywords`). Empty: always runs.
    let keywords: [[UInt8]]
    let caseSensitiveKeywords: Bool
    /// The rule applies only to text this also matches (e.g. a conninfo string).
    private let compiledCondition: CompiledOnFirstUse?
    var condition: Regex<AnyRegexOutput>? { compiledCondition?.regex }

    /// A built-in rule. Its patterns are compiled when first needed: most text never gets past the
    /// keyword check, and compiling every rule at start-up would cost each command milliseconds.
    init(kind: String, _ pattern: String, secretGroup: Int, keywords: [String] = [], caseSensitiveKeywords: Bool = false, condition: String? = nil) {
        self.kind = kind
        self.compiled = CompiledOnFirstUse(pattern)
        self.secretGroup = secretGroup
        self.keywords = keywords.map { Array($0.utf8) }
        self.caseSensitiveKeywords = caseSensitiveKeywords
        self.compiledCondition = condition.map(CompiledOnFirstUse.init)
    }

    /// A rule from configuration. `pattern` is a regular expression; when it has a group named
    /// `secret` (`(?<secret>...)`), only that group is replaced, otherwise the whole match is.
    public init(kind: String, pattern: String) throws(InvalidInput) {
        guard !kind.isEmpty, kind.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw InvalidInput("redaction kind \"\(kind)\" must be ASCII letters, digits, '_' or '-'")
        }
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch {
            throw InvalidInput("redaction pattern \(pattern.debugDescription) is not a valid regular expression: \(error)")
        }
        self.kind = kind
        self.compiled = CompiledOnFirstUse(compiled: regex)
        self.secretGroup = 0
        self.keywords = []
        self.caseSensitiveKeywords = false
        self.compiledCondition = nil
    }

    /// The range of the secret in one match: the `secret` group if the pattern names one, else `secretGroup`.
    func secretRange(in match: Regex<AnyRegexOutput>.Match) -> Range<String.Index>? {
        if let named = match.output["secret"] { return named.range }
        guard secretGroup < match.output.count else { return nil }
        return match.output[secretGroup].range
    }
}

/// A regular expression compiled the first time it is used (built-in patterns are known to be valid).
private final class CompiledOnFirstUse {
    private let pattern: String
    private var cached: Regex<AnyRegexOutput>?

    init(_ pattern: String) { self.pattern = pattern }
    init(compiled: Regex<AnyRegexOutput>) {
        self.pattern = ""
        self.cached = compiled
    }

    var regex: Regex<AnyRegexOutput> {
        if let cached { return cached }
        let compiled = try! Regex(pattern)
        cached = compiled
        return compiled
    }
}

/// Removes secrets from payloads before they reach the append-only log, and says where it did.
///
/// Text rules run on every string in the payload, in order; structural rules look at JSON members
/// whose names say they hold a secret (`"password": ...`, `{"name": "CF_API_TOKEN", "value": ...}`).
/// A secret becomes `[REDACTED:<kind>]`; text that is already a marker is left as it is, so
/// redacting twice changes nothing.
public struct Redactor {
    public static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }

    public let rules: [RedactionRule]
    /// Every rule's keywords, flattened, and whether some rule has none (then every string is looked at).
    private let keywords: [(word: [UInt8], ignoringCase: Bool)]
    private let someRuleAlwaysRuns: Bool

    public init(extraRules: [RedactionRule] = []) {
        self.rules = Self.builtInRules() + extraRules
        self.keywords = rules.flatMap { rule in rule.keywords.map { ($0, !rule.caseSensitiveKeywords) } }
        self.someRuleAlwaysRuns = rules.contains { $0.keywords.isEmpty }
    }

    /// The built-in text rules, in the order they run.
    public static func builtInRules() -> [RedactionRule] { [
        RedactionRule(kind: "url_credentials", #"(?i)\b([a-z][a-z0-9+.\-]*://)([^\s/@:]*):([^\s/@]+)@"#, secretGroup: 3, keywords: ["://"]),
        // redis-cli -u reads `redis://SECRET@host` (no colon) as a password, not a user name.
        RedactionRule(kind: "url_credentials", #"(?i)\b(rediss?://)([^\s/@:]+)@"#, secretGroup: 2, keywords: ["redis"]),
        RedactionRule(
            kind: "authorization_header",
            #"(?i)\b(?:proxy-)?authorization\s*:\s*(?:(?:bearer|basic|token|digest|negotiate|apikey)\s+)?(?!(?:bearer|basic|token|digest|negotiate|apikey)\b)([^\s"'$][^\s"']*)"#,
            secretGroup: 1, keywords: ["authorization"]),
        RedactionRule(kind: "bearer_token", #"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)"#, secretGroup: 1, keywords: ["bearer"]),
        RedactionRule(
            kind: "conninfo_password", #"(?i)(?:^|[\s"'])password\s*=\s*('(?:[^'\\]|\\.)*'|[^\s'"]+)"#, secretGroup: 1, keywords: ["password"],
            condition: #"(?i)\b(?:host|hostaddr|dbname|port|user|sslmode)\s*=\s*\S"#),
        RedactionRule(
            kind: "env_secret", #"\b([A-Z][A-Z0-9_]*(?:TOKEN|SECRET|PASSWORD|PASSWD|KEY))=("[^"]*"|'[^']*'|[^\s"'&;$][^\s"'&;]*)"#,
            secretGroup: 2, keywords: ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"], caseSensitiveKeywords: true),
        RedactionRule(kind: "password_parameter", ##"(?i)\b([a-z0-9_\-]*(?:password|passwd)|pwd)=([^&\s'"#]+)"##, secretGroup: 2, keywords: ["pass", "pwd"]),
        RedactionRule(
            kind: "token_parameter",
            ##"(?i)\b([a-z0-9_\-]*token|api[_\-]?key|apikey|client_secret|secret)=([^&\s'"#]+)"##, secretGroup: 2, keywords: ["token", "key", "secret"]),
    ] }

    /// Redacts one string: the new text and the kinds of secret found in it.
    public func redact(_ text: String) -> (text: String, kinds: [String]) {
        var text = text
        var kinds: [String] = []
        guard mightHoldSecret(text) else { return (text, []) }
        for rule in rules {
            if !rule.keywords.isEmpty, !rule.keywords.contains(where: { Self.contains(text, $0, ignoringCase: !rule.caseSensitiveKeywords) }) { continue }
            if let condition = rule.condition, (try? condition.firstMatch(in: text)) == nil { continue }
            var ranges: [Range<String.Index>] = []
            for match in text.matches(of: rule.regex) {
                guard let range = rule.secretRange(in: match) else { continue }
                let secret = text[range]
                if secret.isEmpty || secret.hasPrefix("[REDACTED") || secret.hasPrefix("'[REDACTED") { continue }
                // Inside a marker already there (`redis://[REDACTED:url_credentials]@h` is no user:password).
                if text[..<range.lowerBound].hasSuffix("[REDACTED:") { continue }
                ranges.append(range)
            }
            guard !ranges.isEmpty else { continue }
            for range in ranges.reversed() { text.replaceSubrange(range, with: Self.marker(rule.kind)) }
            kinds.append(rule.kind)
        }
        return (text, kinds)
    }

    /// Whether `text` contains the ASCII `keyword` (lowercase when `ignoringCase`), by a plain byte scan:
    /// the pre-check runs on every string of every event, so it stays off Foundation and the regex engine.
    static func contains(_ text: String, _ needle: [UInt8], ignoringCase: Bool) -> Bool {
        var text = text
        return text.withUTF8 { hay in
            guard needle.count <= hay.count, let first = needle.first else { return needle.isEmpty }
            var i = 0
            let last = hay.count - needle.count
            while i <= last {
                var b = hay[i]
                if ignoringCase, b >= 0x41, b <= 0x5A { b |= 0x20 }
                if b == first {
                    var j = 1
                    while j < needle.count {
                        var c = hay[i + j]
                        if ignoringCase, c >= 0x41, c <= 0x5A { c |= 0x20 }
                        if c != needle[j] { break }
                        j += 1
                    }
                    if j == needle.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    /// Redacts every string in a JSON value. `pointer` is where `value` sits in the event envelope
    /// (e.g. `/payload`); the redactions name the exact members changed.
    public func redact(_ value: JSONValue, at pointer: String) -> (value: JSONValue, redactions: [Redaction]) {
        var found: [Redaction] = []
        let result = redacted(value, at: pointer, into: &found)
        return (result ?? value, found)
    }

    /// The redacted value, or nil when nothing in it changed (no copy is made then). Pointers are
    /// built only where a redaction is recorded or a container entered: this runs on every event.
    private func redacted(_ value: JSONValue, at pointer: String, into found: inout [Redaction]) -> JSONValue? {
        switch value {
        case .string(let s):
            let (text, kinds) = redact(s)
            guard !kinds.isEmpty else { return nil }
            for kind in kinds { found.append(Redaction(pointer: pointer, kind: kind)) }
            return .string(text)
        case .array(let elements):
            var copy: [JSONValue]? = nil
            for (i, element) in elements.enumerated() where element.isContainerOrString {
                // Command lines: `--password VALUE`, `--token VALUE`... the value is the next argument.
                if i > 0, case .string(let flag) = elements[i - 1], Self.isSecretFlag(flag), case .string(let v) = element, !v.hasPrefix("[REDACTED") {
                    if copy == nil { copy = elements }
                    copy![i] = .string(Self.marker("argument_secret"))
                    found.append(Redaction(pointer: "\(pointer)/\(i)", kind: "argument_secret"))
                    continue
                }
                if let changed = redacted(element, at: "\(pointer)/\(i)", into: &found) {
                    if copy == nil { copy = elements }
                    copy![i] = changed
                }
            }
            return copy.map(JSONValue.array)
        case .object(let members):
            var copy: [String: JSONValue]? = nil
            func set(_ key: String, _ v: JSONValue) {
                if copy == nil { copy = members }
                copy![key] = v
            }
            // {"name": "CF_API_TOKEN", "value": "..."}: Kubernetes env entries and the like.
            if let name = members["name"]?.stringValue, Self.isEnvironmentSecretName(name),
                let v = members["value"]?.stringValue, !v.isEmpty, !v.hasPrefix("[REDACTED")
            {
                set("value", .string(Self.marker("env_secret")))
                found.append(Redaction(pointer: "\(pointer)/value", kind: "env_secret"))
            }
            // Sorted, so that the redactions list is in a stable order.
            let keys = members.count == 1 ? Array(members.keys) : members.keys.sorted()
            for key in keys {
                let current = copy?[key] ?? members[key]!
                guard current.isContainerOrString else { continue }
                if case .string(let s) = current, !s.isEmpty, !s.hasPrefix("[REDACTED"),
                    let kind = Self.isEnvironmentSecretName(key) ? "env_secret" : Self.isSecretFieldName(key) ? "secret_field" : nil
                {
                    set(key, .string(Self.marker(kind)))
                    found.append(Redaction(pointer: "\(pointer)/\(Self.escapePointerToken(key))", kind: kind))
                    continue
                }
                if case .string(let s) = current, !mightHoldSecret(s) { continue }
                if let changed = redacted(current, at: "\(pointer)/\(Self.escapePointerToken(key))", into: &found) { set(key, changed) }
            }
            return copy.map(JSONValue.object)
        case .null, .bool, .number:
            return nil
        }
    }

    /// False when no text rule can match `text` (every rule has keywords and none occurs).
    private func mightHoldSecret(_ text: String) -> Bool {
        if someRuleAlwaysRuns { return true }
        for k in keywords where Self.contains(text, k.word, ignoringCase: k.ignoringCase) { return true }
        return false
    }

    /// `--password`, `-password`, `--token`, `--api-key`, `--client-secret`... (a flag whose value follows it).
    static func isSecretFlag(_ arg: String) -> Bool {
        guard arg.hasPrefix("-"), !arg.contains("=") else { return false }
        let name = arg.drop { $0 == "-" }.lowercased()
        return ["password", "passwd", "pass", "token", "secret", "api-key", "apikey", "api_key", "client-secret", "access-token", "auth-token", "bearer"]
            .contains(String(name))
    }

    /// `CF_API_TOKEN`, `PGPASSWORD`, `AWS_SECRET_ACCESS_KEY`: upper-case names ending in a secret word.
    static func isEnvironmentSecretName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("A"..."Z").contains(first),
            name.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" })
        else { return false }
        return ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY"].contains { name.hasSuffix($0) }
    }

    static let secretFieldNames: [[UInt8]] = [
        "password", "passwd", "pwd", "secret", "token", "apikey", "api_key", "api-key", "access_token", "accesstoken",
        "refresh_token", "client_secret", "clientsecret", "private_key", "privatekey", "authorization", "bearer",
    ].map { Array($0.utf8) }

    /// Member names that say their value is a secret: `password`, `apiKey`, `client_secret`...
    static func isSecretFieldName(_ name: String) -> Bool {
        let n = name.utf8.count
        guard n >= 3, n <= 14 else { return false }  // the lengths in secretFieldNames
        return secretFieldNames.contains { $0.count == n && contains(name, $0, ignoringCase: true) }
    }

    /// RFC 6901: `~` → `~0`, `/` → `~1`.
    static func escapePointerToken(_ token: String) -> String {
        token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}

extension JSONValue {
    fileprivate var isContainerOrString: Bool {
        switch self {
        case .string, .array, .object: return true
        case .null, .bool, .number: return false
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard contains(target) else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
