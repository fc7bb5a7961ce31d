import FailbackLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the store and its configuration are, and opening them: the one place that knows the
/// defaults (`--store` > `FAILBACK_STORE` > `./.failback/ledger.sqlite`; `--config` >
/// `FAILBACK_CONFIG` > `config.json` beside the store, if present).
public struct Workspace: Sendable {
    public static let defaultStorePath = ".failback/ledger.sqlite"

    public var storePath: String
    public var configPath: String?
    /// Folders searched for runbooks named by id: `$FAILBACK_RUNBOOKS` (colon-separated), then `./runbooks`.
    public var runbookSearchPath: [String]

    public init(store: String? = nil, config: String? = nil) {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        self.storePath = store ?? env("FAILBACK_STORE") ?? Self.defaultStorePath
        self.configPath = config ?? env("FAILBACK_CONFIG")
        self.runbookSearchPath = (env("FAILBACK_RUNBOOKS").map { $0.split(separator: ":").map(String.init) } ?? []) + ["runbooks"]
    }

    /// A runbook by path or id (see `runbookSearchPath`).
    public func runbook(_ nameOrPath: String) throws(InvalidInput) -> LoadedRunbook {
        try RunbookLoader.resolve(nameOrPath, searchPath: runbookSearchPath)
    }

    /// Whether the store is a PostgreSQL database (`postgresql://…` or `postgres://…`); else it is
    /// an SQLite file.
    public var isPostgres: Bool { PostgresStorage.isConnectionString(storePath) }

    /// The store as messages may show it (a connection string without its password).
    public var storeLabel: String { isPostgres ? PostgresConnection.redacted(storePath) : storePath }

    /// Creates the store if there is none (and an SQLite store's folder, unless `creatingFolder` is
    /// false: then a folder that is not there is refused). True when it was created now.
    public func initialize(creatingFolder: Bool = true) throws -> Bool {
        if isPostgres { return try PostgresStorage.create(at: storePath) }
        var st = stat()
        let folder = SQLiteEventStore.directory(of: storePath)
        if !creatingFolder, stat(storePath, &st) != 0, stat(folder, &st) != 0 {
            throw StoreError(.missing, "no folder \(folder) for the store \(storePath)", path: folder)
        }
        return try SQLiteEventStore.create(at: storePath)
    }

    /// Reads the configuration: the named file (which must exist), else `config.json` beside the
    /// store if there is one (an SQLite store's folder).
    public func configuration() throws -> Configuration {
        if let configPath { return try Configuration.load(path: configPath) }
        if isPostgres { return Configuration() }
        let beside = SQLiteEventStore.directory(of: storePath) + "/config.json"
        var st = stat()
        return stat(beside, &st) == 0 ? try Configuration.load(path: beside) : Configuration()
    }

    /// Opens the store: the backend its form names, with the log's rules above it. `readOnly` opens
    /// an SQLite store for reading only (an older format is then read as it is, not upgraded).
    public func openStore(readOnly: Bool = false) throws -> any EventStore {
        isPostgres ? try PostgresEventStore(connectingTo: storePath) : try SQLiteEventStore(openingAt: storePath, readOnly: readOnly)
    }

    /// Opens the store and the recorder over it, aimed at this operator's current drill (unless
    /// `joining`: `drill start` and `drill join` set it, and replace a damaged file).
    public func openRecorder(actor: String? = nil, joining: Bool = false) throws -> Recorder {
        let configuration = try configuration()
        let recorder = Recorder(store: try openStore(), context: .fromEnvironment(actor: actor), configuration: configuration)
        if !joining {
            let pointer = joinedDrill
            recorder.joined = try pointer.read()
            // Best effort: an operator whose state folder cannot be written is asked again next time.
            recorder.keepChosenDrill = { drill in try? pointer.write(drill) }
        }
        return recorder
    }

    /// This operator's current drill in this store (`drill start`, `drill join`).
    public var joinedDrill: JoinedDrill {
        // A URL without its password (with one or without, the same store).
        if isPostgres { return JoinedDrill(store: storeLabel.replacingAll(":[REDACTED]@", with: "@")) }
        if let resolved = realpath(storePath, nil) {
            defer { free(resolved) }
            return JoinedDrill(store: String(cString: resolved))
        }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let cwd = getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
        return JoinedDrill(store: storePath.hasPrefix("/") ? storePath : cwd + "/" + storePath)
    }
}
