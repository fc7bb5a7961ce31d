import FailbackLog

/// Settings a team keeps in a JSON file beside the store (`<store folder>/config.json`) or names
/// with `--config` / `FAILBACK_CONFIG`. Every member is optional; unknown members are refused,
/// so a typo cannot silently disable a redaction rule. See docs/configuration.md.
///
///     {
///       "redaction": { "patterns": [ { "kind": "vault_token", "regex": "hvs\\.[A-Za-z0-9]{20,}" } ] },
///       "limits": { "max_payload_bytes": 1048576, "max_output_bytes": 65536 }
///     }
public struct Configuration: Sendable {
    /// The default cap on one event's payload (RFC 8785 bytes, after redaction).
    public static let defaultMaxPayloadBytes = 1_048_576
    /// The most `limits.max_payload_bytes` may be: an event, envelope and all, stays within one
    /// line of a bundle's events.jsonl (`EventLine.maximumBytes`, 16 MiB).
    public static let maximumPayloadBytes = 8 << 20

    public var extraRedactionPatterns: [(kind: String, pattern: String)] = []
    /// The same patterns, compiled (when read from a file, as it is checked).
    public var extraRedactionRules: [RedactionRule] = []
    public var maxPayloadBytes = Configuration.defaultMaxPayloadBytes
    /// The default cap on each captured output stream of `failback exec`.
    public static let defaultMaxOutputBytes = 65_536
    public var maxOutputBytes = Configuration.defaultMaxOutputBytes
    /// Fingerprints of the keys evidence is trusted from (`evidence verify`, `verify-proof`).
    public var trustedKeys: [String] = []
    /// The file this was read from, for error messages.
    public var source: String?

    public init() {}

    /// Reads a configuration file; errors name the file and what in it is wrong.
    public static func load(path: String) throws(InvalidInput) -> Configuration {
        let bytes = try readFile(path, .configuration)
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw InvalidInput("\(path): \(error.description)") }
        var config = Configuration()
        config.source = path
        guard case .object(let top) = json else { throw InvalidInput("\(path): expected a JSON object") }
        for key in top.keys where !["redaction", "limits", "trusted_keys"].contains(key) {
            throw InvalidInput("\(path): unknown member \"\(key)\" (expected \"redaction\", \"limits\" or \"trusted_keys\")")
        }
        if let keys = top["trusted_keys"] {
            guard let list = keys.arrayValue else { throw InvalidInput("\(path): \"trusted_keys\" must be an array of key fingerprints") }
            for (i, entry) in list.enumerated() {
                guard let text = entry.stringValue, Self.isKeyFingerprint(text) else {
                    throw InvalidInput("\(path): trusted_keys[\(i)] is not a key fingerprint (sha256: and 64 lowercase hex digits)")
                }
                config.trustedKeys.append(text)
            }
        }
        if let redaction = top["redaction"] {
            guard case .object(let r) = redaction else { throw InvalidInput("\(path): \"redaction\" must be an object") }
            for key in r.keys where key != "patterns" { throw InvalidInput("\(path): unknown member \"redaction.\(key)\"") }
            for (i, entry) in (r["patterns"]?.arrayValue ?? []).enumerated() {
                let at = "\(path): redaction.patterns[\(i)]"
                guard let kind = entry["kind"]?.stringValue, let regex = entry["regex"]?.stringValue, entry.objectValue?.count == 2 else {
                    throw InvalidInput("\(at) must be {\"kind\": string, \"regex\": string}")
                }
                do { config.extraRedactionRules.append(try RedactionRule(kind: kind, pattern: regex)) } catch { throw InvalidInput("\(at): \(error.message)") }
                config.extraRedactionPatterns.append((kind, regex))
            }
        }
        if let limits = top["limits"] {
            guard case .object(let l) = limits else { throw InvalidInput("\(path): \"limits\" must be an object") }
            for key in l.keys where key != "max_payload_bytes" && key != "max_output_bytes" { throw InvalidInput("\(path): unknown member \"limits.\(key)\"") }
            if let m = l["max_payload_bytes"] {
                guard let n = m.integerValue, n >= 256, n <= Configuration.maximumPayloadBytes else {
                    throw InvalidInput("\(path): limits.max_payload_bytes must be an integer from 256 to \(Configuration.maximumPayloadBytes) (8 MiB)")
                }
                config.maxPayloadBytes = n
            }
            if let m = l["max_output_bytes"] {
                guard let n = m.integerValue, n >= 0 else { throw InvalidInput("\(path): limits.max_output_bytes must be an integer ≥ 0") }
                config.maxOutputBytes = n
            }
        }
        return config
    }

    /// `sha256:` and 64 lowercase hex digits: a signing key's fingerprint (docs/evidence-bundle.md §4).
    public static func isKeyFingerprint(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.utf8.count == 71 && text.utf8.dropFirst(7).allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The redactor these settings ask for: the built-in rules, then the configured ones.
    public func makeRedactor() -> Redactor {
        Redactor(extraRules: extraRedactionRules)
    }
}
