import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// Questions to a PostgreSQL server that is observed (a probe), not the store: a connection made
/// for them through libpq, each statement answered or refused on its own, all within one
/// deadline. Nothing runs as another process, so no password is ever on a command line or in a
/// child's environment; the connection string is read by libpq exactly as an operator wrote it.
public enum PostgresQuery {
    /// What one statement gave: its rows (text values, NULL as nil), or its error (one line).
    public typealias Answer = Result<[[String?]], Failure>

    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    /// Connects (within `timeout`) and runs each of `statements` in turn, each bounded by what is
    /// left of `timeout` (and by `statement_timeout` on the server). Returns each statement's
    /// answer, or why there are none (the connection failed, or the deadline passed).
    public static func run(_ conninfo: String, _ statements: [String], timeout: Double) -> (answers: [Answer], error: String?) {
        let lib: LibPQ
        do { lib = try LibPQ.shared() } catch { return ([], error.message) }
        let deadline = monotonicSeconds() + max(1, timeout)
        let seconds = max(2, Int(timeout.rounded(.up)))
        let options = (getenv("PGOPTIONS").map { String(cString: $0) + " " } ?? "") + "-c statement_timeout=\(seconds * 1000)"
        // The operator's connection string first, expanded; then what a probe sets (last wins).
        let keywords = ["dbname", "connect_timeout", "application_name", "options"]
        let values = [conninfo, String(seconds), "failback", options]
        func cStrings<T>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
            withArrayOfPointers(strings.map { Array($0.utf8) + [0] } + [[0]], strings.map { _ in false } + [true], body)  // NULL-terminated
        }
        let conn = cStrings(keywords) { k in cStrings(values) { v in lib.connectdbParams(k, v, 1) } }
        guard let conn else { return ([], "out of memory") }
        defer { lib.finish(conn) }
        guard lib.status(conn) == CONNECTION_OK else { return ([], message(lib.errorMessage(conn), conninfo)) }
        var answers: [Answer] = []
        for sql in statements {
            guard sql.withCString({ lib.sendQuery(conn, $0) }) == 1 else { return (answers, message(lib.errorMessage(conn), conninfo)) }
            var rows: [[String?]] = []
            var failure: String?
            while true {
                // Wait for the whole answer, no longer than the deadline.
                while lib.isBusy(conn) == 1 {
                    let left = deadline - monotonicSeconds()
                    guard left > 0 else { return (answers, "no answer within \(seconds)s") }
                    var pfd = pollfd(fd: lib.socket(conn), events: Int16(POLLIN), revents: 0)
                    let ready = poll(&pfd, 1, Int32(min(left, 1) * 1000) + 1)
                    if ready < 0 && errno != EINTR { return (answers, "waiting for the server: \(String(cString: strerror(errno)))") }
                    guard lib.consumeInput(conn) == 1 else { return (answers, message(lib.errorMessage(conn), conninfo)) }
                }
                guard let r = lib.getResult(conn) else { break }
                defer { lib.clear(r) }
                switch lib.resultStatus(r) {
                case PGRES_TUPLES_OK:
                    let columns = lib.nfields(r)
                    for i in 0..<lib.ntuples(r) {
                        rows.append((0..<columns).map { c in lib.getisnull(r, i, c) == 1 ? nil : lib.getvalue(r, i, c).map { String(cString: $0) } ?? "" })
                    }
                case PGRES_COMMAND_OK: break
                default:
                    if failure == nil {
                        let primary = lib.resultErrorField(r, Int32(UInt8(ascii: "M")))
                        failure = primary.map { String(cString: $0) } ?? message(lib.resultErrorMessage(r), conninfo)
                    }
                }
            }
            answers.append(failure.map { .failure(Failure(message: PostgresConnection.oneLine($0))) } ?? .success(rows))
        }
        return (answers, nil)
    }

    private static func message(_ text: UnsafeMutablePointer<CChar>?, _ conninfo: String) -> String {
        let raw = text.map { String(cString: $0) } ?? "?"
        // libpq's hints ("Is the server running...") are not the reason.
        let lines = raw.split(whereSeparator: \.isNewline).map { $0.drop { $0 == " " || $0 == "\t" } }.filter { !$0.hasPrefix("Is the server running") && !$0.isEmpty }
        return PostgresConnection.oneLine(PostgresConnection.scrubbed(lines.joined(separator: "\n"), conninfo: conninfo))
    }
}
