import CSQLite

// SQLITE_TRANSIENT is a C macro Swift cannot import.
private let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A failure reported by SQLite, with its extended result code and message.
struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { "\(message) (SQLite code \(code))" }

    var primaryCode: Int32 { code & 0xFF }
}

/// One SQLite connection: a thin, synchronous wrapper over the C API with a statement cache.
/// Not thread-safe; a store owns one connection and is used from one thread at a time.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    private var cache: [String: SQLiteStatement] = [:]

    init(path: String, flags: Int32) throws(SQLiteError) {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close_v2(db)
            throw SQLiteError(code: rc, message: message)
        }
        sqlite3_extended_result_codes(db, 1)
        handle = db
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(handle)
    }

    func execute(_ sql: String) throws(SQLiteError) {
        var errmsg: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &errmsg)
        if rc != SQLITE_OK {
            let message = errmsg.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(errmsg)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: message)
        }
    }

    /// A prepared statement for `sql`, reset and cleared, cached for reuse. Callers reset it when
    /// done (`defer { s.reset() }`): a SELECT left mid-way keeps its read snapshot open, and a later
    /// `BEGIN IMMEDIATE` on this connection would then fail at once with SQLITE_BUSY_SNAPSHOT.
    func statement(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        if let cached = cache[sql] {
            cached.reset()
            return cached
        }
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw lastError(rc) }
        let statement = SQLiteStatement(stmt, connection: self)
        cache[sql] = statement
        return statement
    }

    /// The single integer a query returns, or nil when it returns no row (or NULL).
    func integer(_ sql: String, _ bindings: SQLiteValue...) throws(SQLiteError) -> Int? {
        let s = try statement(sql)
        defer { s.reset() }
        try s.bind(bindings)
        guard try s.step() else { return nil }
        return s.isNull(0) ? nil : s.int(0)
    }

    func lastError(_ rc: Int32? = nil) -> SQLiteError {
        SQLiteError(code: sqlite3_extended_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// A value to bind to a statement parameter.
enum SQLiteValue {
    case int(Int)
    case text(String)
    case blob([UInt8])
    case null
}

final class SQLiteStatement {
    private let stmt: OpaquePointer
    private unowned let connection: SQLiteConnection

    init(_ stmt: OpaquePointer, connection: SQLiteConnection) {
        self.stmt = stmt
        self.connection = connection
    }

    deinit { sqlite3_finalize(stmt) }

    func reset() {
        sqlite3_reset(stmt)
        sqlite3_clear_bindings(stmt)
    }

    /// Resets the statement and binds `values` to its parameters, in order.
    func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        reset()
        for (i, value) in values.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .int(let v): rc = sqlite3_bind_int64(stmt, index, Int64(v))
            case .text(let v): rc = sqlite3_bind_text(stmt, index, v, -1, SQLITE_TRANSIENT)
            case .blob(let v):
                rc = v.withUnsafeBytes { sqlite3_bind_blob(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), SQLITE_TRANSIENT) }
            case .null: rc = sqlite3_bind_null(stmt, index)
            }
            guard rc == SQLITE_OK else { throw connection.lastError(rc) }
        }
    }

    /// Binds one value to parameter `index` (1-based) without resetting: for hot loops that bind
    /// parameters one by one after `reset()`.
    func bind(_ index: Int32, _ value: Int) { sqlite3_bind_int64(stmt, index, Int64(value)) }
    func bind(_ index: Int32, _ value: String) { sqlite3_bind_text(stmt, index, value, -1, SQLITE_TRANSIENT) }
    func bind(_ index: Int32, _ value: [UInt8]) {
        value.withUnsafeBytes { _ = sqlite3_bind_blob(stmt, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), SQLITE_TRANSIENT) }
    }
    func bindNull(_ index: Int32) { sqlite3_bind_null(stmt, index) }

    /// Steps once: true when a row is available, false when done.
    func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(stmt) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw connection.lastError(rc)
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [SQLiteValue]) throws(SQLiteError) {
        try bind(values)
        _ = try step()
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(stmt, column) == SQLITE_NULL }
    func int(_ column: Int32) -> Int { Int(sqlite3_column_int64(stmt, column)) }

    func text(_ column: Int32) -> String {
        guard let p = sqlite3_column_text(stmt, column) else { return "" }
        let n = Int(sqlite3_column_bytes(stmt, column))
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// The blob in place: valid until the next step or reset.
    func blobBytes(_ column: Int32) -> UnsafeRawBufferPointer {
        let n = Int(sqlite3_column_bytes(stmt, column))
        return UnsafeRawBufferPointer(start: n > 0 ? sqlite3_column_blob(stmt, column) : nil, count: n)
    }

    /// The blob in place, or nil when the column is NULL.
    func optionalBlobBytes(_ column: Int32) -> UnsafeRawBufferPointer? {
        sqlite3_column_type(stmt, column) == SQLITE_NULL ? nil : blobBytes(column)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(stmt, column))
        guard n > 0, let p = sqlite3_column_blob(stmt, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }
}
