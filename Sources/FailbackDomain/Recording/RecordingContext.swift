import FailbackLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who records, from where, and by which clock: everything an event takes from its surroundings.
/// Tests pass a fixed clock and ids; the CLI uses `RecordingContext.fromEnvironment()`.
public struct RecordingContext: Sendable {
    public var actor: String
    public var host: String
    public var clock: @Sendable () -> Timestamp
    /// Makes a new drill id from the drill's start time.
    public var makeDrillID: @Sendable (Timestamp) -> String

    public init(
        actor: String, host: String, clock: @escaping @Sendable () -> Timestamp = Timestamp.now,
        makeDrillID: @escaping @Sendable (Timestamp) -> String = RecordingContext.randomDrillID
    ) {
        self.actor = actor
        self.host = host
        self.clock = clock
        self.makeDrillID = makeDrillID
    }

    /// Refuses an actor no event can carry: empty or blank (`--actor ''`), longer than 200
    /// characters, or with control characters.
    public func validate() throws(InvalidInput) {
        guard !actor.allSatisfy(\.isWhitespace) else {
            throw InvalidInput("the actor is empty (--actor, $FAILBACK_ACTOR or $USER names who records): nothing appended")
        }
        guard actor.count <= 200 else { throw InvalidInput("the actor must be at most 200 characters, got \(actor.count): nothing appended") }
        if let c = actor.unicodeScalars.first(where: isControl) {
            throw InvalidInput("the actor \(actor.debugDescription) holds the control character U+\(String(c.value, radix: 16, uppercase: true)): nothing appended")
        }
    }

    /// `drill-20261123-182100-3fa9c1`: sortable by start time, unique by its random tail.
    @Sendable public static func randomDrillID(at time: Timestamp) -> String {
        let t = time.description  // 2026-11-23T18:21:00.123Z
        let date = t.prefix(10).filter { $0 != "-" }
        let clock = t.dropFirst(11).prefix(8).filter { $0 != ":" }
        let tail = String(UInt32.random(in: 0...0xFF_FFFF), radix: 16)
        return "drill-\(date)-\(clock)-\(String(repeating: "0", count: 6 - tail.count))\(tail)"
    }

    /// The actor from `explicitActor`, else `FAILBACK_ACTOR`, `USER` or `LOGNAME`; the host from the system.
    public static func fromEnvironment(actor explicitActor: String? = nil) -> RecordingContext {
        func env(_ name: String) -> String? {
            guard let v = getenv(name) else { return nil }
            let s = String(cString: v)
            return s.isEmpty ? nil : s
        }
        let actor = explicitActor ?? env("FAILBACK_ACTOR") ?? env("USER") ?? env("LOGNAME") ?? accountName() ?? "uid-\(getuid())"
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "unknown-host"
        return RecordingContext(actor: actor, host: host)
    }

    private static func accountName() -> String? {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return nil }
        return String(cString: name)
    }
}
