import CLibPQ

#if canImport(Glibc)
import Glibc
#endif

/// libpq (PostgreSQL's client library), loaded with `dlopen` the first time a PostgreSQL store is
/// opened. Linked into the binary, libpq and what it pulls in (Kerberos, LDAP, its own TLS) cost
/// every command ~15 ms of start-up, on SQLite stores too (docs/decisions.md); loaded on demand,
/// only PostgreSQL stores pay. The declarations come from libpq-dev's header (`CLibPQ`).
final class LibPQ: @unchecked Sendable {
    typealias Connection = OpaquePointer
    typealias Result = OpaquePointer
    typealias ExecParams =
        @convention(c) (
            Connection?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?, Int32
        ) -> Result?
    typealias SendQueryParams =
        @convention(c) (
            Connection?, UnsafePointer<CChar>?, Int32, UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?,
            UnsafePointer<Int32>?, Int32
        ) -> Int32

    let connectdb: @convention(c) (UnsafePointer<CChar>?) -> Connection?
    let status: @convention(c) (Connection?) -> ConnStatusType
    let errorMessage: @convention(c) (Connection?) -> UnsafeMutablePointer<CChar>?
    let finish: @convention(c) (Connection?) -> Void
    let exec: @convention(c) (Connection?, UnsafePointer<CChar>?) -> Result?
    let execParams: ExecParams
    let sendQueryParams: SendQueryParams
    let setSingleRowMode: @convention(c) (Connection?) -> Int32
    let getResult: @convention(c) (Connection?) -> Result?
    let resultStatus: @convention(c) (Result?) -> ExecStatusType
    let resultErrorMessage: @convention(c) (Result?) -> UnsafeMutablePointer<CChar>?
    let resultErrorField: @convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?
    let ntuples: @convention(c) (Result?) -> Int32
    let getvalue: @convention(c) (Result?, Int32, Int32) -> UnsafeMutablePointer<CChar>?
    let getlength: @convention(c) (Result?, Int32, Int32) -> Int32
    let getisnull: @convention(c) (Result?, Int32, Int32) -> Int32
    let clear: @convention(c) (Result?) -> Void
    let putCopyData: @convention(c) (Connection?, UnsafePointer<CChar>?, Int32) -> Int32
    let putCopyEnd: @convention(c) (Connection?, UnsafePointer<CChar>?) -> Int32
    let connectdbParams: @convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Connection?
    let sendQuery: @convention(c) (Connection?, UnsafePointer<CChar>?) -> Int32
    let socket: @convention(c) (Connection?) -> Int32
    let consumeInput: @convention(c) (Connection?) -> Int32
    let isBusy: @convention(c) (Connection?) -> Int32
    let nfields: @convention(c) (Result?) -> Int32

    private init(_ handle: UnsafeMutableRawPointer) throws(StoreError) {
        func load<T>(_ name: String, as: T.Type) throws(StoreError) -> T {
            guard let symbol = dlsym(handle, name) else { throw StoreError(.database, "libpq has no \(name) (is libpq5 too old?)") }
            return unsafeBitCast(symbol, to: T.self)
        }
        connectdb = try load("PQconnectdb", as: (@convention(c) (UnsafePointer<CChar>?) -> Connection?).self)
        status = try load("PQstatus", as: (@convention(c) (Connection?) -> ConnStatusType).self)
        errorMessage = try load("PQerrorMessage", as: (@convention(c) (Connection?) -> UnsafeMutablePointer<CChar>?).self)
        finish = try load("PQfinish", as: (@convention(c) (Connection?) -> Void).self)
        exec = try load("PQexec", as: (@convention(c) (Connection?, UnsafePointer<CChar>?) -> Result?).self)
        execParams = try load("PQexecParams", as: ExecParams.self)
        sendQueryParams = try load("PQsendQueryParams", as: SendQueryParams.self)
        setSingleRowMode = try load("PQsetSingleRowMode", as: (@convention(c) (Connection?) -> Int32).self)
        getResult = try load("PQgetResult", as: (@convention(c) (Connection?) -> Result?).self)
        resultStatus = try load("PQresultStatus", as: (@convention(c) (Result?) -> ExecStatusType).self)
        resultErrorMessage = try load("PQresultErrorMessage", as: (@convention(c) (Result?) -> UnsafeMutablePointer<CChar>?).self)
        resultErrorField = try load("PQresultErrorField", as: (@convention(c) (Result?, Int32) -> UnsafeMutablePointer<CChar>?).self)
        ntuples = try load("PQntuples", as: (@convention(c) (Result?) -> Int32).self)
        getvalue = try load("PQgetvalue", as: (@convention(c) (Result?, Int32, Int32) -> UnsafeMutablePointer<CChar>?).self)
        getlength = try load("PQgetlength", as: (@convention(c) (Result?, Int32, Int32) -> Int32).self)
        getisnull = try load("PQgetisnull", as: (@convention(c) (Result?, Int32, Int32) -> Int32).self)
        clear = try load("PQclear", as: (@convention(c) (Result?) -> Void).self)
        putCopyData = try load("PQputCopyData", as: (@convention(c) (Connection?, UnsafePointer<CChar>?, Int32) -> Int32).self)
        putCopyEnd = try load("PQputCopyEnd", as: (@convention(c) (Connection?, UnsafePointer<CChar>?) -> Int32).self)
        connectdbParams = try load(
            "PQconnectdbParams", as: (@convention(c) (UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?, Int32) -> Connection?).self)
        sendQuery = try load("PQsendQuery", as: (@convention(c) (Connection?, UnsafePointer<CChar>?) -> Int32).self)
        socket = try load("PQsocket", as: (@convention(c) (Connection?) -> Int32).self)
        consumeInput = try load("PQconsumeInput", as: (@convention(c) (Connection?) -> Int32).self)
        isBusy = try load("PQisBusy", as: (@convention(c) (Connection?) -> Int32).self)
        nfields = try load("PQnfields", as: (@convention(c) (Result?) -> Int32).self)
    }

    private static let loaded = Locked<LibPQ?>(nil)

    /// The library, loaded once.
    static func shared() throws(StoreError) -> LibPQ {
        try loaded.withLock { (cached) throws(StoreError) -> LibPQ in
            if let cached { return cached }
            guard let handle = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL) else {
                let why = dlerror().map { String(cString: $0) } ?? "not found"
                throw StoreError(.database, "a PostgreSQL store needs libpq (Debian: apt-get install libpq5): \(why)")
            }
            let lib = try LibPQ(handle)
            cached = lib
            return lib
        }
    }
}
