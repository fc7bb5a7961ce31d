import FailbackLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The drill an operator's commands go to when they name none: the one they last started or
/// joined on this machine, for this store. Someone else's `drill start` never moves it. Kept in a
/// file per store under the state folder (`$FAILBACK_STATE_DIR`, else `$XDG_STATE_HOME/failback`,
/// else `~/.local/state/failback`), named by a digest of the store's location; `$FAILBACK_DRILL`
/// names one for a shell instead (docs/cli.md, "Which drill").
public struct JoinedDrill: Sendable {
    /// The store's location as the file records it (an SQLite store's absolute path; a URL without
    /// its password).
    public let store: String
    /// The file that holds the drill's id.
    public let path: String

    public init(store: String) {
        self.store = store
        path = Self.stateDirectory() + "/current-drill-" + Array(HashChain.sha256(Array(store.utf8)).prefix(16)).hex
    }

    /// Where per-operator state is kept.
    public static func stateDirectory() -> String {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        if let dir = env("FAILBACK_STATE_DIR") { return dir }
        if let dir = env("XDG_STATE_HOME") { return dir + "/failback" }
        return (env("HOME") ?? "/tmp") + "/.local/state/failback"
    }

    /// The drill named by `$FAILBACK_DRILL`, else by the file, else nil (none joined). A file that
    /// is not one line naming a drill is an error naming the file.
    public func read() throws(InvalidInput) -> (drill: String, source: String)? {
        if let drill = Self.environmentDrill { return (drill, "$FAILBACK_DRILL") }
        let bytes: [UInt8]
        do {
            bytes = try readFile(path, .currentDrill)
        } catch  where error.kind == .missing {
            return nil
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, lines[0] == "failback current drill v1", !lines[1].isEmpty, lines[1].allSatisfy({ !$0.isWhitespace }) else {
            throw InvalidInput("\(path) is not a current-drill file (remove it, then 'failback drill join ID')")
        }
        guard lines[2] == store else {
            throw InvalidInput("\(path) names the store \(String(lines[2]).debugDescription), not this one (remove it, then 'failback drill join ID')")
        }
        return (String(lines[1]), "joined on this machine")
    }

    /// `$FAILBACK_DRILL`, when it is set: it names the drill whatever the file says.
    public static var environmentDrill: String? {
        guard let v = getenv("FAILBACK_DRILL"), v.pointee != 0 else { return nil }
        return String(cString: v)
    }

    /// Checks that the file can be written (its folder made if need be), before anything is
    /// appended that it should then record: `drill start` and `drill join` fail whole.
    public func checkWritable() throws(InvalidInput) {
        try makeFolder()
        let probe = path + ".\(getpid()).probe"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw InvalidInput("cannot write \(probe) (the current-drill file's folder): \(String(cString: strerror(errno))): nothing appended") }
        close(fd)
        unlink(probe)
        var st = stat()
        if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw InvalidInput("\(path) is a folder, not a current-drill file: nothing appended")
        }
    }

    private func makeFolder() throws(InvalidInput) {
        let dir = Self.stateDirectory()
        var at = ""
        for part in dir.split(separator: "/", omittingEmptySubsequences: false) {
            at += at.isEmpty && part.isEmpty ? "/" : (at.hasSuffix("/") || at.isEmpty ? "" : "/") + part
            if !part.isEmpty { mkdir(at, 0o700) }
        }
    }

    /// Makes `drill` the current one: the file replaced at once (written aside, then renamed).
    public func write(_ drill: String) throws(InvalidInput) {
        try makeFolder()
        let text = "failback current drill v1\n\(drill)\n\(store)\n"
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw InvalidInput("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = text.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
        let synced = fsync(fd) == 0
        close(fd)
        guard written == text.utf8.count, synced, rename(temporary, path) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            throw InvalidInput("cannot write \(path): \(why)")
        }
    }
}
