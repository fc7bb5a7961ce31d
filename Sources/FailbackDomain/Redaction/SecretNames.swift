/// What a name says about its value: an environment variable (`PGPASSWORD`), a JSON, YAML or INI
/// member (`client_secret`, `apiKey`), a header (`X-API-Key`), a flag (`--db-password`).
///
/// A name is read as words (split at `_ - .` and at camelCase humps, compared upper-case). Its
/// last word decides: a secret word (`PASSWORD`, `SECRET`, `TOKEN`...) or a word ending in one
/// (`PGPASSWORD`, `AUTHTOKEN`) makes it **strong**; `KEY` is strong after a word that says what
/// key (`API_KEY`, `SecretAccessKey`, `ENCRYPTION_KEY`) and **weak** otherwise (`SSH_KEY`,
/// `primaryKey`); `PASS`, `PWD` and `AUTH` are strong after another word (`DB_PASS`, `MYSQL_PWD`)
/// and weak alone. A last word that says the value is *about* a secret (`_FILE`, `_PATH`, `_ID`,
/// `_URL`, `_NAME`, `_TTL`, `-stdin`...) makes it no secret at all, and so does a plural
/// (`KEYS`, `max_tokens`). Weak names count only in the shell's `NAME=value` with an upper-case
/// name (`SSH_KEY=...`, `REDIS_AUTH=...`), where such names are nearly always secrets.
enum SecretName {
    enum Strength: Comparable { case none, weak, strong }

    static let strongWords: Set<String> = [
        "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "CREDENTIAL", "APIKEY", "PASSWORT", "CONTRASENA", "MOTDEPASSE",
    ]
    /// A last word ending in one of these (longer than it) is strong: `PGPASSWORD`, `AUTHTOKEN`.
    static let strongSuffixes = [
        "PASSWORD", "PASSWD", "SECRET", "TOKEN", "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "ACCOUNTKEY", "MASTERKEY",
        "AUTHKEY", "CLIENTKEY", "SIGNINGKEY", "ENCRYPTIONKEY", "SESSIONKEY", "REQUIREPASS", "MASTERAUTH",
    ]
    /// Words before `KEY` that make it a secret key.
    static let keyQualifiers: Set<String> = [
        "API", "ACCESS", "SECRET", "PRIVATE", "ACCOUNT", "CLIENT", "MASTER", "SHARED", "ENCRYPTION", "SIGNING", "SESSION",
        "STORAGE", "LICENSE", "SUBSCRIPTION", "AUTH", "APP", "APPLICATION", "SERVICE", "DB", "DATABASE", "SAS", "HMAC",
        "WEBHOOK", "DEPLOY", "ADMIN", "ROOT", "BOT", "INGEST", "CRYPT", "CIPHER", "AES", "JWT", "SIGN", "SECURITY", "TLS", "SSL",
    ]
    /// Last words saying the value is about a secret, not the secret.
    static let aboutWords: Set<String> = [
        "FILE", "FILES", "PATH", "DIR", "DIRECTORY", "STDIN", "ID", "IDS", "NAME", "NAMES", "TYPE", "KIND", "URL", "URI",
        "ENDPOINT", "HOST", "PORT", "USER", "USERNAME", "LENGTH", "LEN", "SIZE", "TTL", "TIMEOUT", "EXPIRY", "EXPIRES",
        "EXPIRATION", "EXPIRESIN", "AGE", "METHOD", "MODE", "FORMAT", "ALGORITHM", "ALG", "HEADER", "PREFIX", "FIELD", "REF",
        "COUNT", "VERSION", "POLICY", "ENABLED", "DISABLED", "REQUIRED", "SET", "ENV", "COMMAND", "CMD", "REGEX", "PATTERN",
        "LOCATION", "STORE", "PROVIDER", "SOURCE", "HINT", "RESET", "CHANGED", "ROTATED", "STATUS", "LABEL", "FROM", "HASH",
        "FINGERPRINT", "DIGEST", "ISSUER", "AUDIENCE", "SCOPE", "SCOPES", "VAULT", "RING", "PAIR", "SELECTOR", "REFERENCE",
    ]

    /// The words of a name, upper-case.
    static func words(_ name: some Collection<UInt8>) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var previous: UInt8 = 0
        let bytes = Array(name)
        for (i, b) in bytes.enumerated() {
            if b == 0x5F || b == 0x2D || b == 0x2E || b == 0x2F || b == 0x3A {
                if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
                current = []
                previous = b
                continue
            }
            // A hump: aB, or the last capital of a run before a lower-case letter (AWSSecret → AWS Secret).
            let hump =
                Ascii.isUpper(b) && !current.isEmpty
                && (Ascii.isLowerLetter(previous) || Ascii.isDigit(previous)
                    || (Ascii.isUpper(previous) && i + 1 < bytes.count && Ascii.isLowerLetter(bytes[i + 1])))
            if hump {
                words.append(String(decoding: current, as: UTF8.self))
                current = []
            }
            current.append(Ascii.upper(b))
            previous = b
        }
        if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
        return words
    }

    static func strength(_ name: some Collection<UInt8>) -> Strength {
        strength(words: words(name))
    }

    static func strength(words: [String]) -> Strength {
        guard let last = words.last else { return .none }
        // The secret's own content: `SecretString`, `SecretBinary` (AWS Secrets Manager),
        // `password_value`, `token_text`.
        if words.count > 1, ["STRING", "BINARY", "VALUE", "DATA", "TEXT"].contains(last), strongWords.contains(words[words.count - 2]) { return .strong }
        if aboutWords.contains(last) { return .none }
        if strongWords.contains(last) { return .strong }
        let qualified = words.count > 1
        switch last {
        case "KEY": return qualified && keyQualifiers.contains(words[words.count - 2]) ? .strong : .weak
        case "PASS", "PWD", "PW": return qualified ? .strong : .weak
        case "AUTH": return .weak
        default: break
        }
        if strongSuffixes.contains(where: { last.count > $0.count && last.hasSuffix($0) }) { return .strong }
        if last.count > 4, last.hasSuffix("PASS") { return .weak }
        return .none
    }

    /// `NAME` in the shell's `NAME=value`: an upper-case letter, then upper-case letters, digits and `_`.
    static func isEnvironmentStyle(_ name: some Collection<UInt8>) -> Bool {
        guard let first = name.first, Ascii.isUpper(first) else { return false }
        return name.allSatisfy { Ascii.isUpper($0) || Ascii.isDigit($0) || $0 == 0x5F }
    }

    /// Whether a name says its value is a secret: strong names always; weak ones only in the shell's
    /// upper-case `NAME=value` (`environment`), except the shell's own `PWD` and `OLDPWD`.
    static func isSecret(_ name: some Collection<UInt8>, environment: Bool) -> Bool {
        switch strength(name) {
        case .strong: return true
        case .weak:
            guard environment, isEnvironmentStyle(name) else { return false }
            let text = String(decoding: Array(name), as: UTF8.self)
            return text != "PWD" && text != "OLDPWD"
        case .none: return false
        }
    }

    /// A flag whose value is a secret: `--password`, `--db-password`, `--client-secret`,
    /// `--api-key`, `--auth-token`, `--requirepass`, `--pass` (not `--password-stdin`,
    /// `--token-file`, `--key`: a file).
    static func isSecretFlag(_ name: some Collection<UInt8>) -> Bool {
        let w = words(name)
        switch strength(words: w) {
        case .strong: return true
        case .weak: return w.count == 1 && (w[0] == "PASS" || w[0] == "PWD")
        case .none: return false
        }
    }

    /// Names whose value is a query-string signature (a presigned URL's credential).
    static func isSignatureParameter(_ name: some Collection<UInt8>) -> Bool {
        let lowered = String(decoding: name.map(Ascii.lower), as: UTF8.self)
        return ["sig", "signature", "x-amz-signature", "x-goog-signature", "x-amz-security-token", "x-amz-credential"].contains(lowered)
    }
}
