import FailbackLog

/// A rule from configuration: a regular expression for the shapes a team's own secrets take.
public struct RedactionRule: Sendable {
    /// Recorded in the event as the redaction's `kind`.
    public let kind: String
    private let compiled: CompiledRegex

    /// `pattern` is a regular expression; when it has a group named `secret` (`(?<secret>...)`),
    /// only that group is replaced, otherwise the whole match is.
    public init(kind: String, pattern: String) throws(InvalidInput) {
        guard !kind.isEmpty, kind.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw InvalidInput("redaction kind \"\(kind)\" must be ASCII letters, digits, '_' or '-'")
        }
        let regex: Regex<AnyRegexOutput>
        do { regex = try Regex(pattern) } catch {
            throw InvalidInput("redaction pattern \(pattern.debugDescription) is not a valid regular expression: \(error)")
        }
        self.kind = kind
        self.compiled = CompiledRegex(regex)
    }

    /// The ranges of the secrets this rule finds in `text` (markers already there excepted).
    func secretRanges(in text: String) -> [Range<String.Index>] {
        var ranges: [Range<String.Index>] = []
        for match in text.matches(of: compiled.regex) {
            guard let range = match.output["secret"]?.range ?? match.range as Range<String.Index>?, !range.isEmpty else { continue }
            let secret = text[range]
            if secret.hasPrefix("[REDACTED") || secret.hasPrefix("'[REDACTED") { continue }
            ranges.append(range)
        }
        return ranges
    }
}

/// A compiled expression: immutable once made, so shared across threads.
private final class CompiledRegex: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) { self.regex = regex }
}

/// One string as redaction leaves it.
public struct RedactedText: Sendable, Equatable {
    public var text: String
    /// The kinds of secret replaced, in the order they first occur.
    public var kinds: [String]
    /// How many secrets each kind replaced.
    public var counts: [String: Int]
}

/// An event's payload as redaction leaves it.
public struct RedactedPayload {
    public var value: JSONValue
    public var redactions: [Redaction]
    /// The secrets replaced that are long and varied enough to look for elsewhere (`Redactor.learnable`).
    public var learned: [String]

    /// Replaces the member at `path` (member names from the payload down) with the marker of
    /// `kind`, whatever it holds: a value that is a secret by where it was read from, which a
    /// payload knows and the rules cannot (`observe json --value pw=.data.password`). Redactions
    /// recorded inside it are replaced by this one; its strings are learned.
    public mutating func redactMember(_ path: [String], kind: String, pointer base: String) {
        var found: [String] = []
        func replaced(_ v: JSONValue, _ rest: ArraySlice<String>) -> JSONValue? {
            guard let key = rest.first else {
                if case .string(let s) = v, s == Redactor.marker(kind) { return nil }
                func strings(_ v: JSONValue) {
                    switch v {
                    case .string(let s): found.append(s)
                    case .array(let a): a.forEach(strings)
                    case .object(let o): o.values.forEach(strings)
                    default: break
                    }
                }
                strings(v)
                return .string(Redactor.marker(kind))
            }
            guard case .object(var members) = v, let inner = members[key], let changed = replaced(inner, rest.dropFirst()) else { return nil }
            members[key] = changed
            return .object(members)
        }
        guard let changed = replaced(value, path[...]) else { return }
        value = changed
        let pointer = base + path.map { "/" + Redactor.escapePointerToken($0) }.joined()
        redactions.removeAll { $0.pointer == pointer || $0.pointer.hasPrefix(pointer + "/") }
        redactions.append(Redaction(pointer: pointer, kind: kind))
        learned = Array(Set(learned + found.filter { !$0.hasPrefix("[REDACTED") && Redactor.learnable($0) })).sorted()
    }
}

/// Removes secrets from payloads before they reach the append-only log, and says where it did.
///
/// Built-in rules (`SecretScanner`, `CommandWords`: token formats, names and their values,
/// headers, URL credentials, command-line flags) run on every string of a payload, then the
/// configured rules; structural rules look at JSON members whose names say they hold a secret
/// (`"password": ...`, `{"name": "CF_API_TOKEN", "value": ...}`) and at arrays of strings as
/// command lines. A secret becomes `[REDACTED:<kind>]`; markers already there are left as they
/// are, so redacting twice changes nothing. A secret found in one place of an event is then
/// replaced wherever else it occurs in the event, and so are the secrets the drill learned before
/// (`LearnedSecrets`), as `[REDACTED:learned_secret]`.
public struct Redactor: Sendable {
    public static func marker(_ kind: String) -> String { "[REDACTED:\(kind)]" }
    /// The kind of a secret replaced because it was found elsewhere (in the event or the drill).
    public static let learnedKind = "learned_secret"
    /// Shorter secrets are not looked for elsewhere: too likely to occur by chance.
    public static let minimumLearnedLength = 6

    /// The configured rules, run after the built-in ones.
    public let rules: [RedactionRule]

    public init(extraRules: [RedactionRule] = []) {
        self.rules = extraRules
    }

    // MARK: Text

    /// Redacts one string: the new text and the kinds of secret found in it.
    public func redact(_ text: String) -> (text: String, kinds: [String]) {
        let result = redactText(text)
        return (result.text, result.kinds)
    }

    /// Redacts one string, with how many secrets of each kind it replaced (`failback redact test`).
    public func redactText(_ text: String) -> RedactedText {
        var secrets: [String] = []
        return redacted(text, secrets: &secrets) ?? RedactedText(text: text, kinds: [], counts: [:])
    }

    /// The text with its secrets replaced, or nil when there is none. `secrets` gets the values replaced.
    ///
    /// Replacing a secret can change how the text around it reads (a value that ran on, a
    /// placeholder's closing `>`, a quote left alone): the result is scanned again, up to four
    /// passes in all, until nothing more is found, so that redacting it once more changes nothing.
    /// (FuzzRedactor found four such shapes in a day; each is a regression test. The passes make
    /// the property hold for shapes not found yet; text without secrets is scanned once.)
    func redacted(_ text: String, secrets: inout [String]) -> RedactedText? {
        guard var result = redactedOnce(text, secrets: &secrets) else { return nil }
        for _ in 0..<3 {
            guard let more = redactedOnce(result.text, secrets: &secrets) else { break }
            result.text = more.text
            for kind in more.kinds where result.counts[kind] == nil { result.kinds.append(kind) }
            for (kind, count) in more.counts { result.counts[kind, default: 0] += count }
        }
        return result
    }

    private func redactedOnce(_ text: String, secrets: inout [String]) -> RedactedText? {
        var result: RedactedText?
        if SecretScanner.automaton.occurs(in: text) {
            let bytes = Array(text.utf8)
            let (findings, markers) = SecretScanner.scan(bytes)
            if !findings.isEmpty {
                result = Self.apply(Self.spans(findings, markers: markers, in: bytes), to: bytes, secrets: &secrets)
            }
        }
        for rule in rules {
            var current = result?.text ?? text
            let ranges = rule.secretRanges(in: current)
            guard !ranges.isEmpty else { continue }
            for range in ranges.reversed() {
                secrets.append(String(current[range]))
                current.replaceSubrange(range, with: Self.marker(rule.kind))
            }
            var r = result ?? RedactedText(text: text, kinds: [], counts: [:])
            r.text = current
            if r.counts[rule.kind] == nil { r.kinds.append(rule.kind) }
            r.counts[rule.kind, default: 0] += ranges.count
            result = r
        }
        return result
    }

    /// Findings merged into the spans to replace: sorted, overlapping ones joined (the first, longest,
    /// highest-ranked names it), none touching a marker already in the text: a finding that starts
    /// inside a marker is dropped, and one that runs into a marker is cut where the marker begins.
    /// (Dropping it whole would leave what it covered before the marker, which a second pass then
    /// finds: redacting twice must change nothing.)
    /// A finding cut down to nothing but quotes and backslashes (the opening quote of a value
    /// that is all marker) is dropped: a quote is no secret, and the next pass would not see one.
    static func spans(_ findings: [Finding], markers: [Range<Int>], in bytes: [UInt8]) -> [Finding] {
        let sorted =
            findings
            .compactMap { f -> Finding? in
                var f = f
                if markers.contains(where: { $0.contains(f.start) }) { return nil }
                if let cut = markers.lazy.map(\.lowerBound).filter({ $0 > f.start && $0 < f.end }).min() {
                    f.end = cut
                    if bytes[f.start..<f.end].allSatisfy({ $0 == 0x22 || $0 == 0x27 || $0 == 0x5C }) { return nil }
                }
                return f
            }
            .sorted { ($0.start, -$0.end, $0.rank) < ($1.start, -$1.end, $1.rank) }
        var spans: [Finding] = []
        for f in sorted {
            if let last = spans.last, f.start < last.end {
                spans[spans.count - 1].end = max(last.end, f.end)
            } else {
                spans.append(f)
            }
        }
        return spans
    }

    static func apply(_ spans: [Finding], to bytes: [UInt8], secrets: inout [String]) -> RedactedText {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var kinds: [String] = []
        var counts: [String: Int] = [:]
        var at = 0
        for span in spans {
            out += bytes[at..<span.start]
            out += Array(marker(span.kind).utf8)
            if span.learnable { secrets.append(String(decoding: bytes[span.start..<span.end], as: UTF8.self)) }
            if counts[span.kind] == nil { kinds.append(span.kind) }
            counts[span.kind, default: 0] += 1
            at = span.end
        }
        out += bytes[at...]
        return RedactedText(text: String(decoding: out, as: UTF8.self), kinds: kinds, counts: counts)
    }

    /// Whether a secret is worth looking for elsewhere: at least `minimumLearnedLength` bytes and
    /// two kinds of character (lower case, upper case, digits, others), so that a word or a number
    /// that happened to be a value (`expired`, `123456`) does not vanish from the whole drill.
    public static func learnable(_ secret: String) -> Bool {
        guard secret.utf8.count >= minimumLearnedLength, !secret.hasPrefix("[REDACTED"), !secret.hasPrefix("$") else { return false }
        var classes = 0
        var seen = [false, false, false, false]
        for b in secret.utf8 {
            let c = Ascii.isLowerLetter(b) ? 0 : Ascii.isUpper(b) ? 1 : Ascii.isDigit(b) ? 2 : 3
            if !seen[c] {
                seen[c] = true
                classes += 1
            }
        }
        return classes >= 2
    }

    // MARK: Payloads

    /// Redacts every string in a JSON value. `pointer` is where `value` sits in the event envelope
    /// (e.g. `/payload`); the redactions name the exact members changed.
    public func redact(_ value: JSONValue, at pointer: String) -> (value: JSONValue, redactions: [Redaction]) {
        let result = redact(value, at: pointer, memory: nil)
        return (result.value, result.redactions)
    }

    /// Redacts every string in a JSON value, then replaces, wherever they occur in it, the secrets
    /// found in it and those `memory` holds (a drill's learned secrets).
    public func redact(_ value: JSONValue, at pointer: String, memory: LearnedSecrets?) -> RedactedPayload {
        var found: [Redaction] = []
        var secrets: [String] = []
        var result = redacted(value, at: pointer, into: &found, secrets: &secrets) ?? value
        let learned = secrets.isEmpty ? [] : Array(Set(secrets.filter(Self.learnable))).sorted()
        if !learned.isEmpty || !(memory?.isEmpty ?? true) {
            let known = KnownSecrets(values: learned, memory: memory)
            if let again = known.replaced(in: result, at: pointer, into: &found) { result = again }
        }
        return RedactedPayload(value: result, redactions: found, learned: learned)
    }

    /// The redacted value, or nil when nothing in it changed (no copy is made then). Pointers are
    /// built only where a redaction is recorded or a container entered: this runs on every event.
    private func redacted(_ value: JSONValue, at pointer: String, into found: inout [Redaction], secrets: inout [String]) -> JSONValue? {
        switch value {
        case .string(let s):
            guard let r = redacted(s, secrets: &secrets) else { return nil }
            for kind in r.kinds { found.append(Redaction(pointer: pointer, kind: kind)) }
            return .string(r.text)
        case .array(let elements):
            var copy: [JSONValue]? = nil
            // A command line: the command-line rules read its elements as words.
            if elements.count > 1, let argv = Self.strings(elements), argv.contains(where: { $0.hasPrefix("-") || $0.count > 2 }) {
                for (i, range, kind, learnable) in Self.argvFindings(argv) {
                    let element = argv[i]
                    let utf8 = Array(element.utf8)
                    if learnable { secrets.append(String(decoding: utf8[range], as: UTF8.self)) }
                    let text = String(decoding: utf8[..<range.lowerBound] + Array(Self.marker(kind).utf8) + utf8[range.upperBound...], as: UTF8.self)
                    if copy == nil { copy = elements }
                    copy![i] = .string(text)
                    found.append(Redaction(pointer: "\(pointer)/\(i)", kind: kind))
                }
            }
            for (i, element) in (copy ?? elements).enumerated() where element.isContainerOrString {
                if case .string(let s) = element, rules.isEmpty, !SecretScanner.automaton.occurs(in: s) { continue }
                if let changed = redacted(element, at: "\(pointer)/\(i)", into: &found, secrets: &secrets) {
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
            if let name = members["name"]?.stringValue, SecretName.isSecret(Array(name.utf8), environment: true),
                let v = members["value"]?.stringValue, !Placeholder.matches(Array(v.utf8))
            {
                secrets.append(v)
                set("value", .string(Self.marker("env_secret")))
                found.append(Redaction(pointer: "\(pointer)/value", kind: "env_secret"))
            }
            // Sorted, so that the redactions list is in a stable order.
            let keys = members.count == 1 ? Array(members.keys) : members.keys.sorted()
            for key in keys {
                let current = copy?[key] ?? members[key]!
                guard current.isContainerOrString else { continue }
                if case .string(let s) = current, let kind = Self.memberKind(key), !Placeholder.matches(Array(s.utf8)) {
                    secrets.append(s)
                    set(key, .string(Self.marker(kind)))
                    found.append(Redaction(pointer: "\(pointer)/\(Self.escapePointerToken(key))", kind: kind))
                    continue
                }
                // No pointer is built for a string no rule can match: this runs on every member of every event.
                if case .string(let s) = current, rules.isEmpty, !SecretScanner.automaton.occurs(in: s) { continue }
                if let changed = redacted(current, at: "\(pointer)/\(Self.escapePointerToken(key))", into: &found, secrets: &secrets) { set(key, changed) }
            }
            return copy.map(JSONValue.object)
        case .null, .bool, .number:
            return nil
        }
    }

    /// `env_secret` for an upper-case secret name (`DB_PASSWORD`), `secret_field` for other secret
    /// names (`password`, `apiKey`, `client_secret`), nil for the rest.
    public static func memberKind(_ key: String) -> String? {
        // Most member names (`source`, `lag_seconds`) hold no anchor: one table walk says so.
        guard SecretScanner.automaton.occurs(in: key) else { return nil }
        let bytes = Array(key.utf8)
        if SecretName.isEnvironmentStyle(bytes) { return SecretName.isSecret(bytes, environment: true) ? "env_secret" : nil }
        return SecretName.isSecret(bytes, environment: false) ? "secret_field" : nil
    }

    static func strings(_ elements: [JSONValue]) -> [String]? {
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for e in elements {
            guard case .string(let s) = e else { return nil }
            strings.append(s)
        }
        return strings
    }

    /// The command-line rules over an argv: (element, byte range in it, kind).
    static func argvFindings(_ argv: [String]) -> [(element: Int, range: Range<Int>, kind: String, learnable: Bool)] {
        var joined: [UInt8] = []
        var starts: [Int] = []
        for (i, a) in argv.enumerated() {
            if i > 0 { joined.append(0) }
            starts.append(joined.count)
            joined += a.utf8
        }
        let gate = joined.withUnsafeBufferPointer { SecretScanner.automaton.occurs(in: $0) }
        guard gate else { return [] }
        var findings: [Finding] = []
        CommandWords.analyze(joined, argv: true, into: &findings)
        var result: [(element: Int, range: Range<Int>, kind: String, learnable: Bool)] = []
        var taken: Set<Int> = []
        // A private key pasted unquoted is split over elements: each element of the block goes whole.
        let begin = Array("-----BEGIN ".utf8)
        let spaced = joined.map { $0 == 0 ? 0x20 : $0 }
        let blocks = KnownSecrets.occurrences(of: begin, in: spaced)
        if !blocks.isEmpty {
            var scan = Scan(bytes: spaced)
            for r in blocks { scan.privateKeyBlock(at: r.lowerBound) }
            for block in scan.findings {
                for (i, start) in starts.enumerated() where start < block.end && start + argv[i].utf8.count > block.start {
                    if taken.insert(i).inserted { result.append((i, 0..<argv[i].utf8.count, "private_key", true)) }
                }
            }
        }
        for f in findings.sorted(by: { $0.start < $1.start }) {
            guard let i = starts.lastIndex(where: { $0 <= f.start }), taken.insert(i).inserted else { continue }
            let range = (f.start - starts[i])..<(f.end - starts[i])
            guard range.upperBound <= argv[i].utf8.count, !argv[i].hasPrefix("[REDACTED") else { continue }
            // A flag's whole value element becomes the marker; a value inside an element (`-pX`,
            // `--password=X`, `user:X`) only that part.
            result.append((i, range, f.kind, f.learnable))
        }
        return result
    }

    /// RFC 6901: `~` → `~0`, `/` → `~1`.
    static func escapePointerToken(_ token: String) -> String {
        token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }
}

/// The secrets to look for again in a redacted payload: those found in it, in clear (they are
/// only in memory), and a drill's learned ones, by salted hash.
struct KnownSecrets {
    let values: [[UInt8]]
    let memory: LearnedSecrets?

    init(values: [String], memory: LearnedSecrets?) {
        self.values = values.map { Array($0.utf8) }
        self.memory = memory
    }

    func replaced(in value: JSONValue, at pointer: String, into found: inout [Redaction]) -> JSONValue? {
        switch value {
        case .string(let s):
            guard s.utf8.count >= Redactor.minimumLearnedLength else { return nil }
            let bytes = Array(s.utf8)
            var ranges: [Range<Int>] = []
            for v in values { ranges += Self.occurrences(of: v, in: bytes) }
            if let memory { ranges += memory.occurrences(in: bytes) }
            // A secret is found again as a word of its own, not inside a longer run of letters
            // and digits: a learned `801d4845` must not eat into a SHA-256 the recorder computed,
            // nor a short value into a host or a site name.
            // (A word boundary as in regular expressions: a letter or digit at the secret's edge
            // must not have one beside it.)
            ranges.removeAll { r in
                (r.lowerBound > 0 && Ascii.isAlnum(bytes[r.lowerBound]) && Ascii.isAlnum(bytes[r.lowerBound - 1]))
                    || (r.upperBound < bytes.count && Ascii.isAlnum(bytes[r.upperBound - 1]) && Ascii.isAlnum(bytes[r.upperBound]))
            }
            guard !ranges.isEmpty else { return nil }
            let markers = Self.markers(in: bytes)
            let findings = ranges.map { Finding(start: $0.lowerBound, end: $0.upperBound, kind: Redactor.learnedKind, rank: 0) }
            let spans = Redactor.spans(findings, markers: markers, in: bytes)
            guard !spans.isEmpty else { return nil }
            var ignored: [String] = []
            let r = Redactor.apply(spans, to: bytes, secrets: &ignored)
            found.append(Redaction(pointer: pointer, kind: Redactor.learnedKind))
            return .string(r.text)
        case .array(let elements):
            var copy: [JSONValue]? = nil
            for (i, e) in elements.enumerated() {
                if let changed = replaced(in: e, at: "\(pointer)/\(i)", into: &found) {
                    if copy == nil { copy = elements }
                    copy![i] = changed
                }
            }
            return copy.map(JSONValue.array)
        case .object(let members):
            var copy: [String: JSONValue]? = nil
            for key in members.keys.sorted() {
                if let changed = replaced(in: members[key]!, at: "\(pointer)/\(Redactor.escapePointerToken(key))", into: &found) {
                    if copy == nil { copy = members }
                    copy![key] = changed
                }
            }
            return copy.map(JSONValue.object)
        case .null, .bool, .number:
            return nil
        }
    }

    static func occurrences(of needle: [UInt8], in hay: [UInt8]) -> [Range<Int>] {
        guard let first = needle.first, needle.count <= hay.count else { return [] }
        var found: [Range<Int>] = []
        var i = 0
        let last = hay.count - needle.count
        while i <= last {
            if hay[i] == first && hay[i..<(i + needle.count)].elementsEqual(needle) {
                found.append(i..<(i + needle.count))
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    static func markers(in bytes: [UInt8]) -> [Range<Int>] {
        let open = Array("[REDACTED:".utf8)
        var found: [Range<Int>] = []
        for r in occurrences(of: open, in: bytes) {
            if let close = bytes[r.upperBound...].prefix(64).firstIndex(of: 0x5D) { found.append(r.lowerBound..<(close + 1)) }
        }
        return found
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
