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

    /// Creates the store if there is none. True when it was created now.
    public func initialize() throws -> Bool {
        try SQLiteEventStore.create(at: storePath)
    }

    /// Reads the configuration: the named file (which must exist), else `config.json` beside the store if there is one.
    public func configuration() throws -> Configuration {
        if let configPath { return try Configuration.load(path: configPath) }
        let beside = SQLiteEventStore.directory(of: storePath) + "/config.json"
        var st = stat()
        return stat(beside, &st) == 0 ? try Configuration.load(path: beside) : Configuration()
    }

    /// Opens the store and the recorder over it.
    public func openRecorder(actor: String? = nil) throws -> Recorder {
        let configuration = try configuration()
        let store = try SQLiteEventStore(openingAt: storePath)
        return Recorder(store: store, context: .fromEnvironment(actor: actor), configuration: configuration)
    }
}
