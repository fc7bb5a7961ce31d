import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection: statements with parameters (text, or binary for bytes), results read
/// whole or one row at a time (single-row mode, so a drill of a million events is read in
/// constant memory). Used by one thread at a time.
public final class PostgresConnection {
    let lib: LibPQ
    private let conn: LibPQ.Connection
    /// The connection string with any password removed: for messages.
    let label: String

    /// A parameter: text (numbers, names) or bytes (sent in binary: no escaping).
    enum Param {
        case text(String)
        case bytes([UInt8])
        case int(Int)
        case null
    }

    init(conninfo: String) throws(StoreError) {
        let lib = try LibPQ.shared()
        self.lib = lib
        label = PostgresConnection.redacted(conninfo)
        guard let c = conninfo.withCString({ lib.connectdb($0) }) else {
            throw StoreError(.database, "cannot connect to \(label): out of memory", path: label)
        }
        guard lib.status(c) == CONNECTION_OK else {
            let why = lib.errorMessage(c).map { String(cString: $0) } ?? "?"
            lib.finish(c)
            throw StoreError(
                .database, "cannot connect to PostgreSQL store \(label): \(PostgresConnection.oneLine(PostgresConnection.scrubbed(why, conninfo: conninfo)))", path: label)
        }
        conn = c
    }

    deinit { lib.finish(conn) }

    /// Whether the connection to the server was lost (a failover, a restart).
    var isBroken: Bool { lib.status(conn) != CONNECTION_OK }

    /// A connection string as it can be shown: `password=...` and URL passwords replaced.
    public static func redacted(_ conninfo: String) -> String {
        var out = conninfo
        if let scheme = out.firstRange(of: "://"), let at = out[scheme.upperBound...].lastIndex(of: "@") {
            let userInfo = out[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") { out.replaceSubrange(colon..<at, with: ":[REDACTED]") }
        }
        // key=value form, and ?password= in a URL.
        var result = ""
        var rest = Substring(out)
        while let r = rest.firstRange(of: "password=") {
            result += rest[..<r.upperBound] + "[REDACTED]"
            rest = rest[r.upperBound...]
            let end = rest.firstIndex { $0 == " " || $0 == "&" } ?? rest.endIndex
            rest = rest[end...]
        }
        return result + rest
    }

    /// libpq's message with nothing of the connection string's password in it: libpq quotes what
    /// it could not read, and a password it misread (a `/`, `@` or `%` in it) comes back in part
    /// ("invalid integer value "Pr3fix" for connection option "port""), or the whole URL with it.
    public static func scrubbed(_ message: String, conninfo: String) -> String {
        var secrets: [String] = []
        if let scheme = conninfo.firstRange(of: "://"), let at = conninfo[scheme.upperBound...].lastIndex(of: "@") {
            let userInfo = conninfo[scheme.upperBound..<at]
            if let colon = userInfo.firstIndex(of: ":") { secrets.append(String(userInfo[userInfo.index(after: colon)...])) }
        }
        var rest = Substring(conninfo)
        while let r = rest.firstRange(of: "password=") {
            rest = rest[r.upperBound...]
            // Quoted (it may hold spaces) to its closing quote, else to a space, `&` or `#`.
            let value = rest.first == "'" ? rest.dropFirst().prefix { $0 != "'" } : rest.prefix { $0 != " " && $0 != "&" && $0 != "#" }
            secrets.append(String(value))
        }
        // The password whole, and each piece of it libpq may have split it into.
        let pieces = secrets.flatMap { s in [s] + s.split(whereSeparator: { "/@:?#% '\\".contains($0) }).map(String.init) }.filter { $0.count >= 3 }
        var out = message.replacing(conninfo, with: redacted(conninfo))
        for piece in Set(pieces).sorted(by: { $0.count > $1.count }) { out = out.replacing(piece, with: "[REDACTED]") }
        return out
    }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { line in
            line.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        }.map { String($0) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// Runs statements without parameters (a script: several separated by `;`).
    func execute(_ sql: String) throws(StoreError) {
        let r = sql.withCString { lib.exec(conn, $0) }
        defer { lib.clear(r) }
        try check(r, doing: sql)
    }

    /// Runs one statement with parameters; returns its rows (text values; bytea as raw bytes when
    /// `binaryResults`).
    @discardableResult
    func query(_ sql: String, _ params: [Param] = [], binaryResults: Bool = false) throws(StoreError) -> PostgresRows {
        let r = try withParams(params) { (types, values, lengths, formats) in
            sql.withCString { lib.execParams(conn, $0, Int32(params.count), types, values, lengths, formats, binaryResults ? 1 : 0) }
        }
        do { try check(r, doing: sql) } catch {
            lib.clear(r)
            throw error
        }
        return PostgresRows(lib: lib, result: r)
    }

    /// Runs one query and calls `body` with each row as it arrives (single-row mode), until
    /// `body` returns false; the rest of the result is then drained. Results in binary.
    func forEachRow(_ sql: String, _ params: [Param], _ body: (PostgresRow) -> Bool) throws(StoreError) {
        let sent = try withParams(params) { (types, values, lengths, formats) in
            sql.withCString { lib.sendQueryParams(conn, $0, Int32(params.count), types, values, lengths, formats, 1) }
        }
        guard sent == 1 else { throw failure(doing: sql, nil) }
        _ = lib.setSingleRowMode(conn)
        var wanted = true
        var problem: StoreError?
        while let r = lib.getResult(conn) {
            defer { lib.clear(r) }
            switch lib.resultStatus(r) {
            case PGRES_SINGLE_TUPLE:
                if wanted && problem == nil { wanted = body(PostgresRow(lib: lib, result: r, row: 0)) }
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK: break
            default: if problem == nil { problem = failure(doing: sql, r) }
            }
        }
        if let problem { throw problem }
    }

    /// Runs `COPY ... FROM STDIN` (text format) with `data` as its rows (see `CopyText`).
    func copyIn(_ sql: String, _ data: [UInt8]) throws(StoreError) {
        let started = sql.withCString { lib.exec(conn, $0) }
        defer { lib.clear(started) }
        guard started != nil, lib.resultStatus(started) == PGRES_COPY_IN else { throw failure(doing: sql, started) }
        var offset = 0
        while offset < data.count {
            let n = min(1 << 20, data.count - offset)
            let sent = data.withUnsafeBytes { lib.putCopyData(conn, $0.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self), Int32(n)) }
            guard sent == 1 else { break }
            offset += n
        }
        let ended = lib.putCopyEnd(conn, offset == data.count ? nil : "failback: sending the rows failed")
        var problem: StoreError? = ended == 1 ? nil : failure(doing: sql, nil)
        while let r = lib.getResult(conn) {
            defer { lib.clear(r) }
            if lib.resultStatus(r) != PGRES_COMMAND_OK, problem == nil { problem = failure(doing: sql, r) }
        }
        if let problem { throw problem }
    }

    private func withParams<T>(
        _ params: [Param], _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> T
    ) throws(StoreError) -> T {
        // Each value's bytes, kept alive for the call.
        var storage: [[UInt8]] = []
        var formats: [Int32] = []
        var types: [Oid] = []
        var isNull: [Bool] = []
        for p in params {
            switch p {
            case .text(let s): storage.append(Array(s.utf8) + [0]); formats.append(0); types.append(0); isNull.append(false)
            case .int(let i): storage.append(Array(String(i).utf8) + [0]); formats.append(0); types.append(20); isNull.append(false)  // int8
            case .bytes(let b): storage.append(b.isEmpty ? [0] : b); formats.append(1); types.append(17); isNull.append(false)  // bytea
            case .null: storage.append([0]); formats.append(0); types.append(0); isNull.append(true)
            }
        }
        var lengths: [Int32] = []
        for (i, p) in params.enumerated() {
            if case .bytes(let b) = p { lengths.append(Int32(b.count)) } else { lengths.append(Int32(storage[i].count - 1)) }
        }
        return withArrayOfPointers(storage, isNull) { values in
            types.withUnsafeBufferPointer { t in
                lengths.withUnsafeBufferPointer { l in
                    formats.withUnsafeBufferPointer { f in body(t.baseAddress, values, l.baseAddress, f.baseAddress) }
                }
            }
        }
    }

    private func check(_ r: LibPQ.Result?, doing sql: String) throws(StoreError) {
        let status = lib.resultStatus(r)
        guard r != nil, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw failure(doing: sql, r) }
    }

    /// The server's error as a store error (SQLSTATE decides the code).
    private func failure(doing sql: String, _ r: LibPQ.Result?) -> StoreError {
        let message = r.flatMap { lib.resultErrorMessage($0) }.map { String(cString: $0) } ?? lib.errorMessage(conn).map { String(cString: $0) } ?? "?"
        let state = r.flatMap { lib.resultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        let text = PostgresConnection.oneLine(message)
        let code: StoreError.Code
        switch state {
        case "25006", "42501": code = .readOnly  // read-only transaction (a standby), insufficient privilege
        case "40001", "40P01", "55P03": code = .busy  // serialization failure, deadlock, lock not available
        case let s where s.hasPrefix("08"): code = .database  // connection exception
        default: code = .database
        }
        return StoreError(code, "PostgreSQL store \(label): \(text)", path: label)
    }
}

/// Rows in COPY's text format: columns separated by tabs, a row per line, `\N` for NULL, text
/// with backslash, tab, newline and carriage return escaped, bytea as `\\x` and hex.
struct CopyText {
    private(set) var bytes: [UInt8] = []
    private var first = true
    private static let hex = Array("0123456789abcdef".utf8)

    private mutating func separate() {
        if !first { bytes.append(0x09) }
        first = false
    }

    mutating func int(_ v: Int) {
        separate()
        bytes += Array(String(v).utf8)
    }

    mutating func text(_ s: String?) {
        separate()
        guard let s else { return bytes += [0x5C, 0x4E] }  // \N
        for b in s.utf8 {
            switch b {
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x09: bytes += [0x5C, 0x74]
            case 0x0A: bytes += [0x5C, 0x6E]
            case 0x0D: bytes += [0x5C, 0x72]
            default: bytes.append(b)
            }
        }
    }

    mutating func bytea(_ v: [UInt8]) {
        separate()
        bytes += [0x5C, 0x5C, 0x78]  // \\x: COPY reads \\ as one backslash, then bytea reads \x
        bytes.reserveCapacity(bytes.count + 2 * v.count + 64)
        for b in v {
            bytes.append(Self.hex[Int(b >> 4)])
            bytes.append(Self.hex[Int(b & 15)])
        }
    }

    mutating func endRow() {
        bytes.append(0x0A)
        first = true
    }
}

/// Runs `body` with a C array of pointers to each element's bytes (NULL where `isNull`).
func withArrayOfPointers<T>(_ items: [[UInt8]], _ isNull: [Bool], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> T) -> T {
    var pointers: [UnsafePointer<CChar>?] = []
    func recurse(_ i: Int) -> T {
        if i == items.count { return pointers.withUnsafeBufferPointer { body($0.baseAddress) } }
        return items[i].withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { c in
                pointers.append(isNull[i] ? nil : c.baseAddress)
                return recurse(i + 1)
            }
        }
    }
    return recurse(0)
}

/// A whole result, freed when the value goes.
final class PostgresRows {
    let lib: LibPQ
    let result: LibPQ.Result?
    init(lib: LibPQ, result: LibPQ.Result?) {
        self.lib = lib
        self.result = result
    }
    deinit { lib.clear(result) }
    var count: Int { Int(lib.ntuples(result)) }
    func row(_ i: Int) -> PostgresRow { PostgresRow(lib: lib, result: result, row: Int32(i), owner: self) }
}

/// One row of a result; its values are valid while the result is (a row of a whole result keeps
/// it alive; a row read in single-row mode is valid only during the call that gets it).
struct PostgresRow {
    let lib: LibPQ
    let result: LibPQ.Result?
    let row: Int32
    var owner: PostgresRows? = nil

    func isNull(_ column: Int32) -> Bool { lib.getisnull(result, row, column) == 1 }

    func bytes(_ column: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: lib.getvalue(result, row, column), count: Int(lib.getlength(result, row, column)))
    }

    func text(_ column: Int32) -> String { String(decoding: bytes(column), as: UTF8.self) }

    /// A text-format integer.
    func int(_ column: Int32) -> Int { Int(text(column)) ?? 0 }

    /// A binary-format int8 (network byte order).
    func int8(_ column: Int32) -> Int {
        let b = bytes(column)
        guard b.count == 8 else { return Int(text(column)) ?? 0 }
        var v: UInt64 = 0
        for byte in b { v = v << 8 | UInt64(byte) }
        return Int(Int64(bitPattern: v))
    }
}

/// Seconds on the monotonic clock (deadlines: reconnecting, a probe's answer, a command's run).
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
