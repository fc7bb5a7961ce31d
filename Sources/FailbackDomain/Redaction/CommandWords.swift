/// The command-line rules: flags and arguments that carry secrets, read word by word, in an
/// `exec` argv (one word an element) and in text (a `sh -c` string, a note, a runbook line), where
/// words are split at white space and commands end at `;`, `|`, `&&`, `||`, `&` and line ends.
///
/// Long flags whose name says they hold a secret take the next word or their `=value` in any
/// command (`--password X`, `--client-secret=X`). Short flags mean a secret only for some tools,
/// so they are read only after that tool's name (the last command word seen):
/// `mysql -pX` (attached only: `-p X` asks for the password and X is the database),
/// `redis-cli -a X` (and `AUTH [user] X`), `sshpass -p X`, `docker|podman|helm... login -p X`,
/// `curl -u user:X` / `--user` / `--proxy-user`, `curl -b 'a=b'` (a cookie string, not a file),
/// `kubectl create secret ... --from-literal=k=X`, `mc alias set NAME URL ACCESS SECRET`,
/// `aws configure set aws_secret_access_key X`. Anywhere: `requirepass X`, `masterauth X`
/// (also across a line, as `CONFIG GET` prints them), `sentinel auth-pass MASTER X`, and Redis'
/// upper-case `AUTH X`.
enum CommandWords {
    enum Tool { case mysql, redis, sshpass, registry, curl, mc, aws, kubectl, other }

    static let tools: [String: Tool] = [
        "mysql": .mysql, "mysqldump": .mysql, "mysqladmin": .mysql, "mysqlimport": .mysql, "mysqlcheck": .mysql, "mysqlshow": .mysql,
        "mysqlpump": .mysql, "mysqlbinlog": .mysql, "mariadb": .mysql, "mariadb-dump": .mysql, "mariadb-admin": .mysql,
        "redis-cli": .redis, "redis-benchmark": .redis, "keydb-cli": .redis, "valkey-cli": .redis,
        "sshpass": .sshpass,
        "docker": .registry, "podman": .registry, "nerdctl": .registry, "buildah": .registry, "skopeo": .registry, "helm": .registry,
        "oras": .registry, "crane": .registry, "regctl": .registry,
        "curl": .curl, "wget": .curl,
        "mc": .mc, "mcli": .mc,
        "aws": .aws,
        "kubectl": .kubectl, "oc": .kubectl,
        // Commands that end the previous tool's flags without rules of their own.
        "psql": .other, "pg_isready": .other, "pg_dump": .other, "pg_dumpall": .other, "pg_basebackup": .other, "pg_rewind": .other,
        "ssh": .other, "scp": .other, "rsync": .other, "patronictl": .other, "sh": .other, "bash": .other, "env": .other, "sudo": .other,
    ]

    /// Words that make a text worth reading word by word (besides the secret words).
    static let anchors = ["mysql", "mariadb", "redis", "valkey", "keydb", "sshpass", "login", "curl", "wget", "alias", "host add", "aws", "from-literal"]

    /// One word: its bytes (without the quotes, parentheses or `;` around it in text) and, in
    /// text, where it starts with its opening quote.
    struct Word {
        var start: Int
        var end: Int
        var rawStart: Int
        /// `;`, `|`, `&&`, `||`, `&` or a line end.
        var separator = false
        var lineEnd = false
    }

    /// Words that end a command's arguments: control operators and redirections.
    static let separators = [";", "|", "&", "&&", "||", ">", ">>", "<", "2>", "2>>", "&>", "2>&1", "|&"]

    /// Splits text (or, with `argv`, NUL-separated elements) into words.
    static func words(_ b: [UInt8], argv: Bool) -> [Word] {
        var words: [Word] = []
        let n = b.count
        var i = 0
        while i < n {
            let c = b[i]
            if argv ? c == 0 : Ascii.isWhite(c) {
                if !argv && Ascii.isNewline(c) && !(i > 0 && b[i - 1] == 0x5C) {  // a line end, unless continued with \
                    words.append(Word(start: i, end: i, rawStart: i, separator: true, lineEnd: true))
                }
                i += 1
                continue
            }
            let start = i
            while i < n && !(argv ? b[i] == 0 : Ascii.isWhite(b[i])) { i += 1 }
            var s = start, e = i
            let raw = b[s..<e]
            if Self.separators.contains(where: { raw.elementsEqual($0.utf8) }) {
                words.append(Word(start: s, end: e, rawStart: s, separator: true))
                continue
            }
            if argv {
                words.append(Word(start: s, end: e, rawStart: s))
                continue
            }
            var endsCommand = false
            if e > s && b[e - 1] == 0x3B {
                e -= 1
                endsCommand = true
            }
            while s < e && (Ascii.isQuote(b[s]) || b[s] == 0x28) { s += 1 }
            while e > s && (Ascii.isQuote(b[e - 1]) || b[e - 1] == 0x29) { e -= 1 }
            if e > s { words.append(Word(start: s, end: e, rawStart: start)) }
            if endsCommand { words.append(Word(start: e, end: e, rawStart: e, separator: true)) }
        }
        return words
    }

    /// The findings of the command-line rules in `b`.
    static func analyze(_ b: [UInt8], argv: Bool, into findings: inout [Finding]) {
        let words = words(b, argv: argv)
        var reader = Reader(b: b, words: words, argv: argv)
        reader.run()
        findings += reader.findings
    }

    struct Reader {
        let b: [UInt8]
        let words: [Word]
        let argv: Bool
        var findings: [Finding] = []
        var tool: Tool?
        var login = false
        var secretCommand = false
        var positional: Int?
        var awsSet: Int?
        var awsName: [UInt8] = []

        init(b: [UInt8], words: [Word], argv: Bool) {
            self.b = b
            self.words = words
            self.argv = argv
        }

        func text(_ w: Word) -> ArraySlice<UInt8> { b[w.start..<w.end] }
        func lowered(_ w: Word) -> String { String(decoding: text(w).map(Ascii.lower), as: UTF8.self) }

        mutating func add(_ start: Int, _ end: Int, _ kind: String, learnable: Bool = true) {
            guard start < end, !Placeholder.matches(b[start..<end]) else { return }
            findings.append(Finding(start: start, end: end, kind: kind, rank: SecretScanner.Rank.command, learnable: learnable))
        }

        /// An option's value: attached to word `i` from `attached` (`-uUSER:PW`, `--user=USER:PW`),
        /// else the value after it; and the word to go on from.
        func attachedOrNext(_ i: Int, attached: Int?) -> (range: Range<Int>, next: Int)? {
            if let attached, attached < words[i].end { return (attached..<words[i].end, i + 1) }
            return value(after: i).map { ($0.range, $0.last + 1) }
        }

        /// The value that follows word `i`: the next word, or in text a quoted string (`"two words"`)
        /// taken whole to its closing quote on the line. Nil at a separator or a flag.
        func value(after i: Int) -> (range: Range<Int>, last: Int)? {
            let j = i + 1
            guard j < words.count, !words[j].separator else { return nil }
            let w = words[j]
            if !argv, w.rawStart < w.start, b[w.rawStart] == 0x22 || b[w.rawStart] == 0x27 {
                let quote = b[w.rawStart]
                var k = w.rawStart + 1
                while k < b.count && k - w.rawStart < Scan.window && b[k] != quote && !Ascii.isNewline(b[k]) { k += 1 }
                if k < b.count && b[k] == quote {
                    var last = j
                    while last + 1 < words.count && words[last + 1].rawStart < k { last += 1 }
                    return ((w.rawStart + 1)..<k, last)
                }
            }
            guard b[w.start] != 0x2D else { return nil }
            return (w.start..<w.end, j)
        }

        mutating func run() {
            var i = 0
            var previous = ""
            while i < words.count {
                let w = words[i]
                if w.separator {
                    tool = nil
                    previous = ""
                    i += 1
                    continue
                }
                let word = text(w)
                let name = lowered(w)
                let base = name.split(separator: "/").last.map(String.init) ?? name
                if let t = CommandWords.tools[base] {
                    tool = t
                    login = false
                    secretCommand = false
                    positional = nil
                    awsSet = nil
                    previous = base
                    i += 1
                    continue
                }
                if let next = flag(at: i, word: word, name: name) {
                    i = next
                    previous = ""
                    continue
                }
                if let next = redisWords(at: i, name: name, word: word) {
                    i = next
                    continue
                }
                toolWord(at: i, word: word, name: name, previous: previous)
                previous = name
                i += 1
            }
        }

        /// A long flag with a secret name: `--password X`, `--password=X`, `-password X`. Returns the
        /// index of the word after it (and its value), or nil when it is no such flag.
        mutating func flag(at i: Int, word: ArraySlice<UInt8>, name: String) -> Int? {
            guard word.count > 2, word.first == 0x2D else { return nil }
            let dashes = word.prefix { $0 == 0x2D }.count
            guard dashes <= 2 else { return nil }
            let body = word.dropFirst(dashes)
            let equals = body.firstIndex(of: 0x3D)
            let flagName = body[body.startIndex..<(equals ?? body.endIndex)]
            // A flag's name is a name (`-K/etc/passwd` is a path glued to `-K`, not a flag `passwd`).
            guard flagName.count >= (dashes == 1 ? 4 : 2), flagName.first.map(Ascii.isLetter) == true, flagName.allSatisfy(Ascii.isNameChar) else { return nil }
            let lowerName = String(decoding: flagName.map(Ascii.lower), as: UTF8.self)
            let kind: String
            if tool == .redis && ["pass", "askpass"].contains(lowerName) || lowerName == "requirepass" || lowerName == "masterauth" {
                if lowerName == "askpass" { return nil }
                kind = "redis_password"
            } else if SecretName.isSecretFlag(flagName) {
                kind = tool == .registry && login ? "registry_password" : "argument_secret"
            } else if tool == .curl, ["user", "proxy-user"].contains(lowerName) {
                return userPassword(at: i, attached: equals.map { $0 + 1 }, kind: "basic_auth_password")
            } else if tool == .curl, lowerName == "cookie" {
                return cookie(at: i, attached: equals.map { $0 + 1 })
            } else if lowerName == "from-literal" {
                return literal(at: i, attached: equals.map { $0 + 1 })
            } else if lowerName == "masterauth" {
                kind = "redis_password"
            } else {
                return nil
            }
            if let equals {
                add(equals + 1, word.endIndex, kind)
                return i + 1
            }
            if let (range, last) = value(after: i) {
                add(range.lowerBound, range.upperBound, kind)
                return last + 1
            }
            return i + 1
        }

        /// `user:password` (curl `-u`, `--user`): the password.
        mutating func userPassword(at i: Int, attached: Int?, kind: String) -> Int {
            guard let (range, next) = attachedOrNext(i, attached: attached) else { return i + 1 }
            if let colon = b[range].firstIndex(of: 0x3A) { add(colon + 1, range.upperBound, kind) }
            return next
        }

        /// curl `-b 'name=value; ...'`: a cookie string (without `=` it is a file to read).
        mutating func cookie(at i: Int, attached: Int?) -> Int {
            guard let (range, next) = attachedOrNext(i, attached: attached) else { return i + 1 }
            if b[range].contains(0x3D) { add(range.lowerBound, range.upperBound, "cookie") }
            return next
        }

        /// kubectl `--from-literal=key=VALUE`: the value, in a `create secret` command always, else
        /// when its key says it is a secret.
        mutating func literal(at i: Int, attached: Int?) -> Int {
            guard let (range, next) = attachedOrNext(i, attached: attached) else { return i + 1 }
            guard let equals = b[range].firstIndex(of: 0x3D) else { return next }
            let key = b[range.lowerBound..<equals]
            let named = SecretName.isSecret(key, environment: true)
            if secretCommand || named {
                // Every literal of a secret is redacted; only those whose key names a secret are
                // looked for again (a region or a user name beside a password is no secret elsewhere).
                add(equals + 1, range.upperBound, secretCommand ? "kubectl_secret_literal" : "argument_secret", learnable: named)
            }
            return next
        }

        /// Redis: `requirepass X`, `masterauth X` (also as `CONFIG GET` prints them, over lines:
        /// `1) "requirepass"` / `2) "X"`), `auth-pass MASTER X`, and `AUTH [user] X` (upper-case,
        /// or any case after redis-cli).
        mutating func redisWords(at i: Int, name: String, word: ArraySlice<UInt8>) -> Int? {
            switch name {
            case "requirepass", "masterauth":
                // The value is the one word left on its line (`requirepass X`, `CONFIG SET requirepass X`),
                // or on the next line as CONFIG GET prints it; in prose more words follow.
                var j = i + 1
                while j < words.count {
                    let w = words[j]
                    if w.lineEnd || isListNumber(w) {
                        j += 1
                        continue
                    }
                    if w.separator { return i + 1 }
                    guard j + 1 == words.count || words[j + 1].separator else { return i + 1 }
                    add(w.start, w.end, "redis_password")
                    return j + 1
                }
                return i + 1
            case "auth-pass":
                // sentinel.conf: `sentinel auth-pass MASTER X`; SENTINEL SET MASTER auth-pass X.
                let skip = i > 0 && lowered(words[i - 1]) == "sentinel" ? 2 : 1
                guard i + skip < words.count, !words[i + 1].separator, !words[i + skip].separator else { return i + 1 }
                add(words[i + skip].start, words[i + skip].end, "redis_password")
                return i + skip + 1
            case "auth":
                guard word.elementsEqual("AUTH".utf8) || tool == .redis else { return nil }
                var args: [Int] = []
                var j = i + 1
                while j < words.count && !words[j].separator && args.count < 3 {
                    args.append(j)
                    j += 1
                }
                guard !args.isEmpty, args.count <= 2 else { return i + 1 }
                let secret = words[args.count == 2 ? args[1] : args[0]]
                add(secret.start, secret.end, "redis_password")
                return j
            default:
                return nil
            }
        }

        func isListNumber(_ w: Word) -> Bool {
            let t = text(w)
            return !t.isEmpty && t.allSatisfy(Ascii.isDigit) && w.end < b.count && b[w.end] == 0x29
        }

        /// Short flags and arguments that mean a secret only for the tool in front of them.
        mutating func toolWord(at i: Int, word: ArraySlice<UInt8>, name: String, previous: String) {
            guard let tool else { return }
            let w = words[i]
            switch tool {
            case .mysql:
                // -pSECRET (attached; `-p` alone prompts). Bundled short flags are not read.
                if word.count > 2, word.first == 0x2D, word[word.startIndex + 1] == 0x70 { add(w.start + 2, w.end, "mysql_password") }
            case .redis:
                if name == "-a", let (range, _) = value(after: i) { add(range.lowerBound, range.upperBound, "redis_password") }
            case .sshpass:
                if name == "-p", let (range, _) = value(after: i) {
                    add(range.lowerBound, range.upperBound, "sshpass_password")
                } else if word.count > 2, word.first == 0x2D, word[word.startIndex + 1] == 0x70 {
                    add(w.start + 2, w.end, "sshpass_password")
                }
            case .registry:
                if name == "login" { login = true }
                guard login else { return }
                if name == "-p", let (range, _) = value(after: i) {
                    add(range.lowerBound, range.upperBound, "registry_password")
                } else if word.count > 2, word.first == 0x2D, word[word.startIndex + 1] == 0x70, word[word.startIndex + 2] != 0x2D {
                    add(w.start + 2, w.end, "registry_password")
                }
            case .curl:
                if name == "-u" || name == "-U" {
                    _ = userPassword(at: i, attached: nil, kind: "basic_auth_password")
                } else if word.count > 2, word.first == 0x2D, word[word.startIndex + 1] == 0x75 || word[word.startIndex + 1] == 0x55 {
                    if let colon = word.firstIndex(of: 0x3A) { add(colon + 1, w.end, "basic_auth_password") }
                } else if name == "-b" {
                    _ = cookie(at: i, attached: nil)
                }
            case .mc:
                if positional != nil, word.first != 0x2D {
                    positional! += 1
                    if positional == 3 || positional == 4 { add(w.start, w.end, "minio_credentials") }
                } else if (previous == "alias" && name == "set") || (previous == "host" && name == "add") {
                    positional = 0
                }
            case .aws:
                if let n = awsSet, word.first != 0x2D {
                    if n == 0 {
                        awsName = Array(word)
                        awsSet = 1
                    } else if n == 1 {
                        let key = awsName.split(separator: 0x2E).last.map(Array.init) ?? awsName
                        if SecretName.isSecret(key, environment: false) {
                            let joined = String(decoding: key.map(Ascii.lower), as: UTF8.self)
                            add(w.start, w.end, joined.contains("secret_access_key") ? "aws_secret_access_key" : "argument_secret")
                        }
                        awsSet = nil
                    }
                } else if previous == "configure" && name == "set" {
                    awsSet = 0
                }
            case .kubectl:
                if name == "secret" { secretCommand = true }
            case .other:
                break
            }
        }
    }
}
