import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// PostgreSQL, asked through libpq in this process (`PostgresQuery`): no `psql` child, so no
/// password on a command line or in another process's environment, and each statement's answer
/// or error apart (docs/decisions.md).
public enum PostgresProbeQuery {
    /// The rows the statements returned, in order (NULL as nil), and the errors of those that
    /// failed, in order, as one line; or why there are none (the connection, the deadline).
    public static func query(_ conninfo: String, _ statements: [String], timeout: Double) -> (rows: [[String?]], error: String?) {
        let (answers, error) = PostgresQuery.run(conninfo, statements, timeout: timeout)
        var rows: [[String?]] = []
        var failures: [String] = []
        for answer in answers {
            switch answer {
            case .success(let r): rows += r
            case .failure(let f): failures.append(f.message)
            }
        }
        if let error { failures.append(error) }
        return (rows, failures.isEmpty ? nil : failures.joined(separator: "; "))
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
                sample(
                    try ReplicationLagSampled(
                        lagSeconds: nil, source: source ?? here, target: target ?? "standby", method: .senderReplayLag, server: conninfo, error: message))
            }
            // A standby that starts receiving again after an idle spell is behind before the sender
            // has measured its replay_lag (NULL until the standby's next reply, milliseconds later):
            // asked again every 0.1 s for up to 2 s (within the timeout), then recorded as unmeasured.
            let deadline = CommandRunner.monotonicSeconds() + min(2, timeout)
            var rows: [[String?]] = []
            var worst: (name: String, lag: Double?, bytes: Int?, idle: Bool?)?
            while true {
                let (found, error) = PostgresProbeQuery.query(conninfo, [sql], timeout: timeout)
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
            return sample(
                try ReplicationLagSampled(
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
            let (rows, error) = PostgresProbeQuery.query(conninfo, [sql], timeout: timeout)
            let sender = rows.first?[4] ?? nil
            func failed(_ message: String) throws(InvalidInput) -> ProbeSample {
                sample(
                    try ReplicationLagSampled(
                        lagSeconds: nil, source: source ?? sender ?? "primary", target: target ?? here, method: .standbyReplayTimestamp, server: conninfo,
                        error: message))
            }
            if let error { return try failed(error) }
            guard let row = rows.first, row.count == 5 else { return try failed("unexpected answer from the server") }
            guard row[0] == "t" else { return try failed("\(here) is not in recovery (a primary): ask a standby, or use --role primary") }
            let raw = row[1].flatMap { Double($0) }.map { max(0, $0) }, bytes = row[2].flatMap { Int($0) }
            let paused = row[3] == "t"
            // Nothing received is waiting to be replayed: caught up, however old the last transaction.
            let caughtUp = bytes == 0
            guard let lag = caughtUp ? 0 : raw else { return try failed("no transaction replayed yet and \(bytes.map { "\($0) bytes" } ?? "WAL") waiting") }
            return sample(
                try ReplicationLagSampled(
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
        let (rows, error) = PostgresProbeQuery.query(conninfo, ["SELECT pg_is_in_recovery()"], timeout: timeout)
        let state: Bool? = error == nil ? rows.first?.first.flatMap { $0 == "t" ? true : $0 == "f" ? false : nil } : nil
        let event = try RecoveryStateObserved(
            server: conninfo, inRecovery: state, expected: expected, error: state == nil ? (error ?? "unexpected answer from the server") : nil)
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
            let (rows, error) = PostgresProbeQuery.query(conninfo, statements, timeout: left)
            var counts = [Int?](repeating: nil, count: tables.count), errors = [String?](repeating: nil, count: tables.count)
            for row in rows where row.count == 2 { if let i = row[0].flatMap({ Int($0) }), i < tables.count { counts[i] = row[1].flatMap { Int($0) } } }
            // Each statement is answered on its own; the errors of those that failed come in order.
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
        name.split(separator: ".", omittingEmptySubsequences: false).map { "\"" + $0.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" }
            .joined(separator: ".")
    }
}
