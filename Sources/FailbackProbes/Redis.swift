import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// A `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` URL. As `redis-cli -u` reads it, credentials
/// without a colon are a password. The password is kept for AUTH only: `recorded` leaves it out.
public struct RedisURL: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var username: String?
    public var password: String?

    /// The URL as events record it: no credentials at all. Not even the user name: `redis://NAME@`
    /// is a password to redis-cli, so the redactor would (rightly) take it for one.
    public var recorded: String { "redis://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    public init(_ text: String) throws(InvalidInput) {
        // Errors quote the URL with its credentials cut out: it may hold a password.
        let shown = Self.withoutCredentials(Redactor().redact(text).text).debugDescription
        let lower = text.lowercased()
        if lower.hasPrefix("rediss://") { throw InvalidInput("--url \(shown): TLS (rediss://) is not supported; give a redis:// URL") }
        guard lower.hasPrefix("redis://") else { throw InvalidInput("--url \(shown): expected redis://[[USER]:PASSWORD@]HOST[:PORT]") }
        var rest = text.dropFirst("redis://".count)
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = try Self.percentDecoded(userinfo[..<colon], shown)
                username = user.isEmpty ? nil : user
                password = try Self.percentDecoded(userinfo[userinfo.index(after: colon)...], shown)
            } else {
                password = try Self.percentDecoded(userinfo, shown)
            }
            if password == "" { password = nil }
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            throw InvalidInput("--url \(shown): \(rest[end] == "?" ? "query parameters are" : "a fragment is") not supported")
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let database = rest[rest.index(after: slash)...]
            guard database.isEmpty || Int(database) != nil else { throw InvalidInput("--url \(shown): the path is a database number, not \(String(database).debugDescription)") }
        }
        var hostPart = authority, portPart: Substring?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw InvalidInput("--url \(shown): expected :PORT after the address") }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty, hostPart.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "[" && $0 != "]" && $0 != "@" && $0 != "%" }) else {
            throw InvalidInput("--url \(shown): no host")
        }
        host = String(hostPart)
        if let portPart {
            guard let p = UInt16(portPart), p > 0 else { throw InvalidInput("--url \(shown): bad port \(String(portPart).debugDescription)") }
            port = p
        } else {
            port = 6379
        }
    }

    /// `redis://user:secret@host` → `redis://user:[REDACTED:url_credentials]@host`, for messages.
    static func withoutCredentials(_ text: String) -> String {
        guard let scheme = text.firstRange(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let userinfo = text[scheme.upperBound..<at]
        if userinfo.hasPrefix("[REDACTED:") && userinfo.hasSuffix("]") && !userinfo.dropFirst().contains("[") { return text }
        let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] + ":" } ?? ""
        return text[..<scheme.upperBound] + user + Redactor.marker("url_credentials") + text[at...]
    }

    static func percentDecoded(_ text: Substring, _ shown: String) throws(InvalidInput) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let b = utf8.popFirst() {
            guard b == UInt8(ascii: "%") else { bytes.append(b); continue }
            guard utf8.count >= 2, let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                throw InvalidInput("--url \(shown): a bad %-escape in the credentials")
            }
            bytes.append(v)
            utf8 = utf8.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A RESP2 reply (the Redis protocol, as spoken without HELLO 3).
public indirect enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int)
    /// nil: the null bulk string (`$-1`).
    case bulk([UInt8]?)
    /// nil: the null array (`*-1`).
    case array([RESPValue]?)
}

/// Reads and writes RESP2 with every reply bounded: a line, a bulk string, an array's length and
/// nesting, and the whole reply have limits, and anything else than RESP2 is refused, never trusted.
public enum RESP {
    public struct Limits: Sendable {
        /// The longest simple string, error or length line, without its CRLF.
        public var line = 64 * 1024
        /// The longest bulk string, and the most bytes one reply may take in all.
        public var bulk = 1 << 20
        public var reply = (1 << 20) + 64 * 1024
        public var elements = 1024
        public var depth = 4
        public init() {}
    }

    /// A command as RESP sends it: an array of bulk strings.
    public static func command(_ arguments: [String]) -> [UInt8] {
        var out = Array("*\(arguments.count)\r\n".utf8)
        for a in arguments {
            let bytes = Array(a.utf8)
            out += Array("$\(bytes.count)\r\n".utf8) + bytes + [13, 10]
        }
        return out
    }

    /// The reply at the start of `bytes` and how many bytes it took; nil when it is not all there
    /// yet. Throws when the bytes are not a RESP2 reply within `limits` (more bytes cannot help).
    public static func parse(_ bytes: [UInt8], limits: Limits = Limits()) throws(InvalidInput) -> (value: RESPValue, length: Int)? {
        var at = 0
        guard let value = try parse(bytes, &at, limits, depth: 0) else {
            if bytes.count > limits.reply { throw InvalidInput("a reply longer than \(limits.reply) bytes") }
            return nil
        }
        if at > limits.reply { throw InvalidInput("a reply longer than \(limits.reply) bytes") }
        return (value, at)
    }

    private static func parse(_ bytes: [UInt8], _ at: inout Int, _ limits: Limits, depth: Int) throws(InvalidInput) -> RESPValue? {
        guard at < bytes.count else { return nil }
        let kind = bytes[at]
        // An unknown first byte is refused at once, not waited on for a line end that may never come.
        guard "+-:$*".utf8.contains(kind) else { throw notRESP(bytes, at) }
        guard let line = try line(bytes, at + 1, limits) else { return nil }
        let text = bytes[(at + 1)..<line.end]
        switch kind {
        case UInt8(ascii: "+"):
            at = line.next
            return .simple(printable(text))
        case UInt8(ascii: "-"):
            at = line.next
            return .error(printable(text))
        case UInt8(ascii: ":"):
            guard let n = integer(text) else { throw InvalidInput("a malformed integer reply") }
            at = line.next
            return .integer(n)
        case UInt8(ascii: "$"):
            guard let n = integer(text), n >= -1 else { throw InvalidInput("a malformed bulk length") }
            if n == -1 { at = line.next; return .bulk(nil) }
            guard n <= limits.bulk else { throw InvalidInput("a bulk reply of \(n) bytes, over the limit of \(limits.bulk)") }
            let end = line.next + n
            guard bytes.count >= end + 2 else { return nil }
            guard bytes[end] == 13, bytes[end + 1] == 10 else { throw InvalidInput("a bulk reply not ended by CRLF") }
            at = end + 2
            return .bulk(Array(bytes[line.next..<end]))
        case UInt8(ascii: "*"):
            guard let n = integer(text), n >= -1 else { throw InvalidInput("a malformed array length") }
            if n == -1 { at = line.next; return .array(nil) }
            guard n <= limits.elements else { throw InvalidInput("an array of \(n) elements, over the limit of \(limits.elements)") }
            guard depth < limits.depth else { throw InvalidInput("arrays nested deeper than \(limits.depth)") }
            var next = line.next
            var elements: [RESPValue] = []
            for _ in 0..<n {
                guard let element = try parse(bytes, &next, limits, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            at = next
            return .array(elements)
        default:
            throw notRESP(bytes, at)
        }
    }

    private static func notRESP(_ bytes: [UInt8], _ at: Int) -> InvalidInput {
        InvalidInput("not a Redis reply: it starts with \"\(printable(bytes[at..<min(bytes.count, at + 24)]))\"")
    }

    /// The end of the line starting at `from` (before its CRLF) and where the next one starts;
    /// nil when its CRLF has not come yet.
    private static func line(_ bytes: [UInt8], _ from: Int, _ limits: Limits) throws(InvalidInput) -> (end: Int, next: Int)? {
        var i = from
        let end = min(bytes.count, from + limits.line + 2)
        while i + 1 < end {
            if bytes[i] == 13 && bytes[i + 1] == 10 { return (i, i + 2) }
            i += 1
        }
        // No CRLF yet: the line is at least this long (less a CR that may start its CRLF).
        let known = bytes.count - from - (bytes.last == 13 ? 1 : 0)
        if known > limits.line { throw InvalidInput("a reply line longer than \(limits.line) bytes") }
        return nil
    }

    /// A decimal integer of at most 19 digits with an optional minus sign; nil otherwise.
    private static func integer(_ digits: ArraySlice<UInt8>) -> Int? {
        guard digits.count <= 20 else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }

    /// Text from the server as one line: invalid UTF-8 replaced, control characters escaped, cut
    /// at 300 characters.
    static func printable<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            if out.unicodeScalars.count >= 300 { out += "..."; break }
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F: out += "\\x" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// What `INFO replication` says, read without trusting it: unknown lines are passed over, and a
/// number that does not read, or is out of its range (a count or an offset outside 0...2^53-1, a
/// port outside 0...65535), is absent.
public struct RedisReplicationInfo: Sendable, Equatable {
    public struct Replica: Sendable, Equatable {
        public var ip: String
        public var port: Int?
        public var state: String
        public var offset: Int?
    }

    /// `master` or `slave`, as Redis says.
    public var role: String?
    public var masterHost: String?
    public var masterPort: Int?
    public var masterLinkStatus: String?
    public var slaveReplicationOffset: Int?
    public var masterReplicationOffset: Int?
    public var connectedSlaves: Int?
    public var slaves: [Replica] = []

    public init(_ text: [UInt8]) {
        for raw in text.split(separator: 10, omittingEmptySubsequences: true) {
            var line = raw
            if line.last == 13 { line = line.dropLast() }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line.first != UInt8(ascii: "#") else { continue }
            let key = String(decoding: line[..<colon], as: UTF8.self), value = RESP.printable(line[(colon + 1)...])
            switch key {
            case "role": role = value
            case "master_host": masterHost = value
            case "master_port": masterPort = Self.number(value, upTo: 65_535)
            case "master_link_status": masterLinkStatus = value
            case "slave_repl_offset": slaveReplicationOffset = Self.number(value)
            case "master_repl_offset": masterReplicationOffset = Self.number(value)
            case "connected_slaves": connectedSlaves = Self.number(value)
            default:
                // slave0:ip=10.0.0.2,port=6379,state=online,offset=1234,lag=0
                guard key.hasPrefix("slave"), key.count > 5, key.dropFirst(5).allSatisfy(\.isNumber) else { continue }
                var fields: [Substring: Substring] = [:]
                for pair in value.split(separator: ",") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2 { fields[kv[0]] = kv[1] }
                }
                slaves.append(
                    Replica(
                        ip: fields["ip"].map(String.init) ?? "?", port: fields["port"].flatMap { Self.number($0, upTo: 65_535) },
                        state: fields["state"].map(String.init) ?? "?", offset: fields["offset"].flatMap { Self.number($0) }))
            }
        }
    }

    /// A whole number from 0 to `limit` (by default 2^53-1, what an event holds exactly), else nil.
    static func number<S: StringProtocol>(_ text: S, upTo limit: Int = 9_007_199_254_740_991) -> Int? {
        guard let n = Int(text), n >= 0, n <= limit else { return nil }
        return n
    }
}

/// A connection to a Redis server speaking RESP2 over TCP, every step within one deadline.
final class RedisConnection {
    struct Failure: Error {
        var message: String
    }

    private let fd: Int32
    private let deadline: Double
    private let timeout: Double
    private var buffer: [UInt8] = []

    /// Connects to `host:port` (resolved by the system, each address in turn) before `deadline`.
    init(host: String, port: UInt16, deadline: Double, timeout: Double) throws(Failure) {
        self.deadline = deadline
        self.timeout = timeout
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else { throw Failure(message: "cannot resolve \(host): \(String(cString: gai_strerror(resolved)))") }
        defer { freeaddrinfo(list) }
        var lastError = "no address for \(host)"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let a = next {
            next = a.pointee.ai_next
            let s = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), a.pointee.ai_protocol)
            guard s >= 0 else { lastError = Self.describe(errno); continue }
            if connect(s, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 {
                fd = s
                return
            }
            guard errno == EINPROGRESS else { lastError = Self.describe(errno); close(s); continue }
            guard Self.wait(s, POLLOUT, deadline) else {
                close(s)
                throw Failure(message: "no connection within \(DNSProbe.formatTimeout(timeout))")
            }
            var e: Int32 = 0
            var l = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l)
            if e == 0 {
                fd = s
                return
            }
            lastError = Self.describe(e)
            close(s)
        }
        throw Failure(message: lastError)
    }

    deinit { close(fd) }

    /// Sends a command and reads its reply.
    func call(_ arguments: [String]) throws(Failure) -> RESPValue {
        let packet = RESP.command(arguments)
        var sent = 0
        while sent < packet.count {
            let n = packet[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                guard Self.wait(fd, POLLOUT, deadline) else { throw Failure(message: "no reply within \(DNSProbe.formatTimeout(timeout))") }
                continue
            }
            throw Failure(message: Self.describe(errno))
        }
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            do {
                if let (value, length) = try RESP.parse(buffer) {
                    buffer.removeFirst(length)
                    return value
                }
            } catch {
                throw Failure(message: error.message)
            }
            guard Self.wait(fd, POLLIN, deadline) else { throw Failure(message: "no reply within \(DNSProbe.formatTimeout(timeout))") }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { throw Failure(message: "the server closed the connection") }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw Failure(message: Self.describe(errno))
            }
            buffer += chunk[0..<n]
        }
    }

    /// Waits until `fd` is ready for `events`; false when the deadline passes first.
    static func wait(_ fd: Int32, _ events: Int32, _ deadline: Double) -> Bool {
        while true {
            let left = deadline - CommandRunner.monotonicSeconds()
            if left <= 0 { return false }
            var p = pollfd(fd: fd, events: Int16(events), revents: 0)
            let n = poll(&p, 1, Int32(max(1, (left * 1000).rounded(.up))))
            if n > 0 { return true }
            if n < 0 && errno != EINTR { return false }
        }
    }

    static func describe(_ code: Int32) -> String { String(cString: strerror(code)).lowercased() }
}

/// The Redis probe: AUTH when the URL has a password, PING (timed), `INFO replication`; for a
/// replica, its master's `INFO replication` too, for the offset it has reached.
public enum RedisProbe {
    public static let measures = ["offset_lag": "B", "replicas": "", "latency": "ms"]
    /// At most this many of a master's replicas are listed in the event (all count for the lag).
    static let listedReplicas = 100

    public static func check(url: RedisURL, expected: String?, timeout: Double) throws(InvalidInput) -> ProbeSample {
        let deadline = CommandRunner.monotonicSeconds() + timeout
        let server = url.recorded
        func failed(_ message: String) throws(InvalidInput) -> ProbeSample {
            ProbeSample(payload: try RedisReplicationObserved(server: server, role: nil, expected: expected, error: message), passed: false, values: [:])
        }
        let asked: (info: RedisReplicationInfo, ping: Double)
        do {
            asked = try ask(url.host, url.port, url, deadline: deadline, timeout: timeout)
        } catch {
            return try failed(error.message)
        }
        let info = asked.info
        let ping = (asked.ping * 100).rounded() / 100
        let event: RedisReplicationObserved
        switch info.role {
        case "master":
            let offset = info.masterReplicationOffset
            // Offsets are in 0...2^53-1 (as read): a difference cannot overflow.
            let lags = info.slaves.compactMap { r in r.offset.flatMap { o in offset.map { max(0, $0 - o) } } }
            event = try RedisReplicationObserved(
                server: server, role: "master", expected: expected, connectedReplicas: info.connectedSlaves ?? info.slaves.count,
                replicas: info.slaves.prefix(listedReplicas).map {
                    .init(address: ($0.ip.contains(":") ? "[\($0.ip)]" : $0.ip) + ($0.port.map { ":\($0)" } ?? ""), state: $0.state, offset: $0.offset)
                },
                replicationOffset: offset, offsetLagBytes: lags.max(), pingMilliseconds: ping)
        case "slave":
            guard let link = info.masterLinkStatus, link == "up" || link == "down" else {
                return try failed("INFO replication: master_link_status \"\(info.masterLinkStatus ?? "")\" is neither up nor down")
            }
            let master = info.masterHost.map { h in (h.contains(":") ? "[\(h)]" : h) + (info.masterPort.map { ":\($0)" } ?? "") }
            var masterOffset: Int?, lagError: String?
            if let host = info.masterHost, let port = info.masterPort.flatMap({ UInt16(exactly: $0) }) {
                do {
                    let m = try ask(host, port, url, deadline: deadline, timeout: timeout).info
                    masterOffset = m.masterReplicationOffset
                    if masterOffset == nil { lagError = "master \(master ?? host): INFO replication has no master_repl_offset" }
                } catch {
                    lagError = "master \(master ?? host): \(error.message)"
                }
            } else {
                lagError = "INFO replication names no master"
            }
            let own = info.slaveReplicationOffset
            if own == nil && lagError == nil { lagError = "INFO replication has no slave_repl_offset" }
            event = try RedisReplicationObserved(
                server: server, role: "replica", expected: expected, master: master, masterLinkStatus: link,
                connectedReplicas: info.connectedSlaves, replicationOffset: own, masterReplicationOffset: masterOffset,
                offsetLagBytes: own.flatMap { o in masterOffset.map { max(0, $0 - o) } }, offsetLagError: lagError, pingMilliseconds: ping)
        default:
            return try failed(info.role.map { "INFO replication: unknown role \($0.debugDescription)" } ?? "INFO replication names no role (a Sentinel, or not Redis)")
        }
        var values: [String: Double] = ["latency": ping]
        if let lag = event.offsetLagBytes { values["offset_lag"] = Double(lag) }
        if let n = event.connectedReplicas { values["replicas"] = Double(n) }
        return ProbeSample(payload: event, passed: event.passed, values: values)
    }

    /// Connects, authenticates when the URL has a password, PINGs (timed, in ms) and reads `INFO replication`.
    static func ask(_ host: String, _ port: UInt16, _ url: RedisURL, deadline: Double, timeout: Double) throws(RedisConnection.Failure) -> (
        info: RedisReplicationInfo, ping: Double
    ) {
        let connection = try RedisConnection(host: host, port: port, deadline: deadline, timeout: timeout)
        if let password = url.password {
            switch try connection.call(["AUTH"] + (url.username.map { [$0] } ?? []) + [password]) {
            case .simple("OK"): break
            case .error(let e): throw .init(message: "AUTH refused: \(e)")
            default: throw .init(message: "AUTH: an unexpected reply")
            }
        }
        let started = CommandRunner.monotonicSeconds()
        switch try connection.call(["PING"]) {
        case .simple("PONG"): break
        case .error(let e): throw .init(message: e)
        default: throw .init(message: "PING: an unexpected reply")
        }
        let ping = (CommandRunner.monotonicSeconds() - started) * 1000
        switch try connection.call(["INFO", "replication"]) {
        case .bulk(let text?): return (RedisReplicationInfo(text), ping)
        case .error(let e): throw .init(message: "INFO: \(e)")
        default: throw .init(message: "INFO: an unexpected reply")
        }
    }
}
