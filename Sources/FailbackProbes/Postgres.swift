import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL, asked through the `psql` tool: the client the runbooks' own commands use, present
/// wherever they run, and nothing linked into failback's start-up (docs/decisions.md).
public enum PSQL {
    /// The rows a query returned (NULL as nil), or why there are none (psql's message, one line).
    ///
    /// A password in `conninfo` never reaches psql's command line, which every local user can read
    /// (`ps`, /proc/PID/cmdline): it is taken out (`Conninfo.withoutPassword`) and given to psql
    /// as `PGPASSWORD`, in its environment, which only our user and root can read. The connection
    /// string is passed as `--dbname=...`, so it is never read as an option of psql's.
    public static func query(_ conninfo: String, _ statements: [String], timeout: Double) -> (rows: [[String?]], error: String?) {
        let null = "\u{1E}", separator = "\u{1F}"
        let connection: (conninfo: String, password: String?)
        do { connection = try Conninfo.withoutPassword(conninfo) } catch { return ([], error.message) }
        var argv = [executable, "-X", "-q", "-A", "-t", "-F", separator, "-P", "null=\(null)", "--dbname=\(connection.conninfo)"]
        for sql in statements { argv += ["-c", sql] }
        let seconds = max(2, Int(timeout.rounded(.up)))
        let options = (getenv("PGOPTIONS").map { String(cString: $0) + " " } ?? "") + "-c statement_timeout=\(seconds * 1000)"
        var environment = ["PGCONNECT_TIMEOUT": String(seconds), "PGOPTIONS": options, "PGAPPNAME": "failback"]
        if let password = connection.password { environment["PGPASSWORD"] = password }
        let result = CommandRunner.run(argv, captureLimit: 1 << 20, live: false, timeout: Double(seconds) + 1, environment: environment)
        switch result {
        case .failedToStart(let error):
            return ([], "psql could not start: \(error) (install the PostgreSQL client)")
        case .timedOut:
            return ([], "no answer within \(seconds)s (psql killed)")
        case .finished(let exit, let signal, let stdout, let stderr, _, _):
            let rows = String(decoding: stdout.kept, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true).map { line in
                line.split(separator: Character(separator), omittingEmptySubsequences: false).map { $0 == null ? nil : String($0) }
            }
            if signal != nil { return (rows, "no answer within \(seconds)s (psql killed)") }
            let message = errorLines(stderr.kept)
            if exit != 0 || !message.isEmpty { return (rows, message.isEmpty ? "psql exited with status \(exit ?? -1)" : message.joined(separator: "; ")) }
            return (rows, nil)
        }
    }

    /// `$FAILBACK_PSQL`, else the newest `/usr/lib/postgresql/N/bin/psql` (Debian's `/usr/bin/psql`
    /// is a Perl wrapper that costs ~45 ms a call), else `psql` on the PATH.
    static let executable: String = {
        if let chosen = getenv("FAILBACK_PSQL") { return String(cString: chosen) }
        let root = "/usr/lib/postgresql"
        guard let dir = opendir(root) else { return "psql" }
        defer { closedir(dir) }
        var best: (version: Int, path: String)?
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let version = Int(name), access("\(root)/\(name)/bin/psql", X_OK) == 0, version > (best?.version ?? -1) else { continue }
            best = (version, "\(root)/\(name)/bin/psql")
        }
        return best?.path ?? "psql"
    }()

    /// psql's error messages, one line each, without its `psql: error:` prefixes and hints.
    static func errorLines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { raw in
            var line = String(raw.drop { $0 == " " || $0 == "\t" })
            for prefix in ["psql: error: ", "psql: "] where line.hasPrefix(prefix) { line = String(line.dropFirst(prefix.count)) }
            if line.isEmpty || line.hasPrefix("Is the server running") || line.hasPrefix("LINE ") || line.hasPrefix("^") || line.hasPrefix("HINT:") { return nil }
            return line.hasPrefix("ERROR:") ? String(line.dropFirst(6).drop { $0 == " " }) : line
        }
    }
}

/// A libpq connection string (key=value pairs, or a `postgres://` / `postgresql://` URI) with its
/// password taken out, read by libpq's own rules (PostgreSQL docs, "Connection Strings").
public enum Conninfo {
    /// The connection string without its password, and the password (nil when it has none). An
    /// `sslpassword` is refused: libpq reads it from nowhere but the connection string, and there it
    /// would be on psql's command line.
    public static func withoutPassword(_ conninfo: String) throws(InvalidInput) -> (conninfo: String, password: String?) {
        if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") { return try uri(conninfo) }
        var pairs = try keywordPairs(conninfo)
        if pairs.contains(where: { $0.key == "sslpassword" }) { throw sslPassword }
        let password = pairs.last(where: { $0.key == "password" })?.value
        guard password != nil else { return (conninfo, nil) }
        pairs.removeAll { $0.key == "password" }
        // Every value quoted, as libpq reads it back: \' and \\ escaped.
        let rebuilt = pairs.map { pair in
            "\(pair.key)='" + pair.value.flatMap { $0 == "\\" || $0 == "'" ? ["\\", $0] : [$0] } + "'"
        }
        return (rebuilt.joined(separator: " "), password)
    }

    static let sslPassword = InvalidInput("an sslpassword in the connection string would show on psql's command line: put it in a service file (PGSERVICEFILE) instead")

    /// `key = value` pairs: white space between pairs and around `=`; a value single-quoted (with
    /// \' and \\ inside) or up to the next white space (a backslash escapes the next character).
    static func keywordPairs(_ text: String) throws(InvalidInput) -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        var chars = Array(text.unicodeScalars)[...]
        func skipSpace() { while let c = chars.first, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0B}" || c == "\u{0C}" { chars = chars.dropFirst() } }
        while true {
            skipSpace()
            guard !chars.isEmpty else { return pairs }
            var key = ""
            while let c = chars.first, c != "=", c != " ", c != "\t", c != "\n", c != "\r" { key.unicodeScalars.append(c); chars = chars.dropFirst() }
            skipSpace()
            guard chars.first == "=" else { throw InvalidInput("connection string: \"=\" expected after \(key.debugDescription)") }
            chars = chars.dropFirst()
            skipSpace()
            var value = ""
            if chars.first == "'" {
                chars = chars.dropFirst()
                while true {
                    guard let c = chars.first else { throw InvalidInput("connection string: unterminated quoted value of \(key.debugDescription)") }
                    chars = chars.dropFirst()
                    if c == "'" { break }
                    if c == "\\", let next = chars.first { value.unicodeScalars.append(next); chars = chars.dropFirst(); continue }
                    value.unicodeScalars.append(c)
                }
            } else {
                while let c = chars.first, c != " ", c != "\t", c != "\n", c != "\r" {
                    chars = chars.dropFirst()
                    if c == "\\", let next = chars.first { value.unicodeScalars.append(next); chars = chars.dropFirst(); continue }
                    value.unicodeScalars.append(c)
                }
            }
            pairs.append((key, value))
        }
    }

    /// A URI: the password of its user info (`user:password@`, up to the first `@` before any `/`,
    /// as libpq finds it), and a `password` query parameter, percent-decoded.
    static func uri(_ text: String) throws(InvalidInput) -> (conninfo: String, password: String?) {
        guard let schemeEnd = text.firstRange(of: "://")?.upperBound else { return (text, nil) }
        var rest = text[schemeEnd...]
        var prefix = String(text[..<schemeEnd])
        var password: String?
        if let stop = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[stop] == "@" {
            let userInfo = rest[..<stop]
            if let colon = userInfo.firstIndex(of: ":") {
                password = try percentDecoded(userInfo[userInfo.index(after: colon)...])
                prefix += userInfo[..<colon] + "@"
            } else {
                prefix += userInfo + "@"
            }
            rest = rest[rest.index(after: stop)...]
        }
        if let q = rest.firstIndex(of: "?") {
            var kept: [Substring] = []
            for parameter in rest[rest.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false) {
                let name = try percentDecoded(parameter.prefix { $0 != "=" })
                if name == "sslpassword" { throw sslPassword }
                if name == "password" {
                    password = try percentDecoded(parameter.drop { $0 != "=" }.dropFirst())
                } else {
                    kept.append(parameter)
                }
            }
            rest = rest[..<q] + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
        }
        return (prefix + rest, password)
    }

    static func percentDecoded(_ text: Substring) throws(InvalidInput) -> String {
        var bytes: [UInt8] = []
        var utf8 = text.utf8[...]
        while let b = utf8.first {
            utf8 = utf8.dropFirst()
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16), v != 0 else {
                throw InvalidInput("connection string: a bad percent-escape in the URI")
            }
            bytes.append(v)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A short name for a server from its connection string (`host:port/dbname`, either form).
public func serverLabel(_ conninfo: String) -> String {
    var host = "localhost", port = "5432", db: String?
    if conninfo.hasPrefix("postgres://") || conninfo.hasPrefix("postgresql://") {
        var rest = conninfo[conninfo.index(after: conninfo.firstIndex(of: "/")!)...].dropFirst()
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        let hostPort = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if hostPort.count > 1, !hostPort[1].isEmpty { db = String(hostPort[1]) }
        let hp = hostPort[0].split(separator: ":")
        if let h = hp.first, !h.isEmpty { host = String(h) }
        if hp.count > 1 { port = String(hp[1]) }
    } else {
        for pair in conninfo.split(separator: " ") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "host", "hostaddr": host = String(kv[1])
            case "port": port = String(kv[1])
            case "dbname": db = String(kv[1])
            default: break
            }
        }
    }
    return "\(host):\(port)" + (db.map { "/\($0)" } ?? "")
}

/// The lag probe, measured either way the runbooks do (see `ReplicationLagSampled.Method`).
public enum LagProbe {
    public static let measures = ["lag": "s", "bytes": "B"]

    public enum Role: String, Sendable { case primary, standby }

    public static func check(conninfo: String, role: Role, source: String?, target: String?, timeout: Double) throws(InvalidInput) -> ProbeSample {
        let here = serverLabel(conninfo)
        func sample(_ event: ReplicationLagSampled) -> ProbeSample {
            var values: [String: Double] = [:]
            if let l = event.lagSeconds { values["lag"] = l }
            if let b = event.lagBytes { values["bytes"] = Double(b) }
            return ProbeSample(payload: event, passed: event.lagSeconds != nil, values: values)
        }
        switch role {
        case .primary:
            let sql = """
                SELECT coalesce(nullif(application_name, ''), host(client_addr), 'standby'), state, extract(epoch FROM replay_lag),
                  CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END,
                  pg_is_in_recovery()
                FROM pg_stat_replication ORDER BY 1
                """
            func failed(_ message: String) throws(InvalidInput) -> ProbeSample {
                sample(try ReplicationLagSampled(
                    lagSeconds: nil, source: source ?? here, target: target ?? "standby", method: .senderReplayLag, server: conninfo, error: message))
            }
            // A standby that starts receiving again after an idle spell is behind before the sender
            // has measured its replay_lag (NULL until the standby's next reply, milliseconds later):
            // asked again every 0.1 s for up to 2 s (within the timeout), then recorded as unmeasured.
            let deadline = CommandRunner.monotonicSeconds() + min(2, timeout)
            var rows: [[String?]] = []
            var worst: (name: String, lag: Double?, bytes: Int?, idle: Bool?)?
            while true {
                let (found, error) = PSQL.query(conninfo, [sql], timeout: timeout)
                if let error { return try failed(error) }
                rows = found
                if rows.first?[4] == "t" { return try failed("\(here) is in recovery (a standby): ask the sender, or use --role standby") }
                guard !rows.isEmpty else { return try failed("no standby is streaming from \(here) (pg_stat_replication is empty)") }
                // The standby furthest behind decides.
                worst = nil
                for row in rows {
                    let bytes = row[3].flatMap { Int($0) }, replayLag = row[2].flatMap { Double($0) }
                    let caughtUp = bytes == 0
                    let lag = replayLag.map { caughtUp ? 0 : $0 } ?? (caughtUp ? 0 : nil)
                    let candidate = (name: row[0] ?? "standby", lag: lag, bytes: bytes, idle: caughtUp && (replayLag ?? 1) > 0 ? true : nil)
                    if worst == nil || (candidate.lag ?? .infinity) > (worst!.lag ?? .infinity) { worst = candidate }
                }
                if worst!.lag != nil || CommandRunner.monotonicSeconds() >= deadline { break }
                usleep(100_000)
            }
            let w = worst!
            let names = rows.compactMap { $0[0] }.joined(separator: ",")
            guard let lag = w.lag else { return try failed("\(w.name) is \(w.bytes ?? 0) bytes behind and replay_lag is not measured yet") }
            return sample(try ReplicationLagSampled(
                lagSeconds: rounded(lag), source: source ?? here, target: target ?? names, method: .senderReplayLag, lagBytes: w.bytes,
                idle: w.idle, rawLagSeconds: w.idle == true ? rows.first { $0[0] == w.name }?[2].flatMap { Double($0) }.map(rounded) : nil,
                server: conninfo))
        case .standby:
            let sql = """
                SELECT pg_is_in_recovery(), extract(epoch FROM now() - pg_last_xact_replay_timestamp()),
                  pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
                  CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
                  (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver LIMIT 1)
                """
            let (rows, error) = PSQL.query(conninfo, [sql], timeout: timeout)
            let sender = rows.first?[4] ?? nil
            func failed(_ message: String) throws(InvalidInput) -> ProbeSample {
                sample(try ReplicationLagSampled(
                    lagSeconds: nil, source: source ?? sender ?? "primary", target: target ?? here, method: .standbyReplayTimestamp, server: conninfo,
                    error: message))
            }
            if let error { return try failed(error) }
            guard let row = rows.first, row.count == 5 else { return try failed("unexpected psql output") }
            guard row[0] == "t" else { return try failed("\(here) is not in recovery (a primary): ask a standby, or use --role primary") }
            let raw = row[1].flatMap { Double($0) }.map { max(0, $0) }, bytes = row[2].flatMap { Int($0) }
            let paused = row[3] == "t"
            // Nothing received is waiting to be replayed: caught up, however old the last transaction.
            let caughtUp = bytes == 0
            guard let lag = caughtUp ? 0 : raw else { return try failed("no transaction replayed yet and \(bytes.map { "\($0) bytes" } ?? "WAL") waiting") }
            return sample(try ReplicationLagSampled(
                lagSeconds: rounded(lag), source: source ?? sender ?? "primary", target: target ?? here, method: .standbyReplayTimestamp,
                lagBytes: bytes, idle: caughtUp && (raw ?? 0) > 0 ? true : nil, rawLagSeconds: caughtUp ? raw.map(rounded) : nil,
                replayPaused: paused, server: conninfo))
        }
    }

    static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}

/// The recovery probe: `pg_is_in_recovery()`, against an expected role.
public enum RecoveryProbe {
    public static let measures = ["in_recovery": ""]

    public static func check(conninfo: String, expected: String?, timeout: Double) throws(InvalidInput) -> ProbeSample {
        let (rows, error) = PSQL.query(conninfo, ["SELECT pg_is_in_recovery()"], timeout: timeout)
        let state: Bool? = error == nil ? rows.first?.first.flatMap { $0 == "t" ? true : $0 == "f" ? false : nil } : nil
        let event = try RecoveryStateObserved(
            server: conninfo, inRecovery: state, expected: expected, error: state == nil ? (error ?? "unexpected psql output") : nil)
        return ProbeSample(payload: event, passed: event.passed, values: state.map { ["in_recovery": $0 ? 1 : 0] } ?? [:])
    }
}

/// The row-count probe: `count(*)` of each table at both sites, compared.
public enum RowCountProbe {
    public static let measures = ["delta": ""]

    public static func check(source: String, target: String, tables: [String], sourceSite: String?, targetSite: String?, timeout: Double) throws(InvalidInput) -> ProbeSample {
        let started = CommandRunner.monotonicSeconds()
        func counts(_ conninfo: String) -> (counts: [Int?], errors: [String?], error: String?) {
            let left = max(1, timeout - (CommandRunner.monotonicSeconds() - started))
            let statements = tables.enumerated().map { "SELECT \($0.offset), count(*) FROM \(quotedName($0.element))" }
            let (rows, error) = PSQL.query(conninfo, statements, timeout: left)
            var counts = [Int?](repeating: nil, count: tables.count), errors = [String?](repeating: nil, count: tables.count)
            for row in rows where row.count == 2 { if let i = row[0].flatMap({ Int($0) }), i < tables.count { counts[i] = row[1].flatMap { Int($0) } } }
            // psql runs every -c in turn; each one that failed printed one error, in order.
            let failed = counts.indices.filter { counts[$0] == nil }
            let messages = error?.components(separatedBy: "; ") ?? []
            if failed.count == tables.count && rows.isEmpty, let error { return (counts, errors, error) }
            for (n, i) in failed.enumerated() { errors[i] = n < messages.count ? messages[n] : "not counted" }
            return (counts, errors, nil)
        }
        let s = counts(source), t = counts(target)
        let sourceName = sourceSite ?? serverLabel(source), targetName = targetSite ?? serverLabel(target)
        let whole = [s.error.map { "\(sourceName): \($0)" }, t.error.map { "\(targetName): \($0)" }].compactMap { $0 }
        let rows = tables.indices.map { i in
            let problems = [s.errors[i].map { "\(sourceName): \($0)" }, t.errors[i].map { "\(targetName): \($0)" }].compactMap { $0 }
            return RowCountsCompared.Table(
                table: tables[i], sourceCount: s.counts[i], targetCount: t.counts[i], error: problems.isEmpty ? nil : problems.joined(separator: "; "))
        }
        let event = try RowCountsCompared(source: sourceName, target: targetName, tables: rows, error: whole.isEmpty ? nil : whole.joined(separator: "; "))
        return ProbeSample(payload: event, passed: event.matched, values: event.largestDelta.map { ["delta": Double($0)] } ?? [:])
    }

    /// `schema.table` as quoted identifiers.
    static func quotedName(_ name: String) -> String {
        name.split(separator: ".", omittingEmptySubsequences: false).map { "\"" + $0.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" }.joined(separator: ".")
    }
}
