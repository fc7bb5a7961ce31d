import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// A DNS message as the probe needs it (RFC 1035 §4): one question out; the header, the answer
/// section and nothing else back.
public struct DNSMessage: Sendable, Equatable {
    public struct Record: Sendable, Equatable {
        public var name: String
        public var type: UInt16
        public var ttl: UInt32
        /// The data as text: an address, a name, quoted TXT strings, `PREF NAME` for MX.
        public var value: String
    }

    public var id: UInt16
    public var truncated: Bool
    public var responseCode: UInt8
    public var answers: [Record]

    public static let types: [String: UInt16] = ["A": 1, "NS": 2, "CNAME": 5, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28]
    static let responseCodes = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]

    public static func responseCodeName(_ code: UInt8) -> String { Int(code) < responseCodes.count ? responseCodes[Int(code)] : "RCODE\(code)" }

    /// A query for `name` and `type` (class IN, recursion desired).
    public static func query(id: UInt16, name: String, type: UInt16) throws(InvalidInput) -> [UInt8] {
        var out: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        let labels = name.split(separator: ".", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        guard !labels.isEmpty else { throw InvalidInput("DNS name \(name.debugDescription) is empty") }
        for label in labels {
            let bytes = Array(label.utf8)
            guard bytes.count <= 63 else { throw InvalidInput("DNS name \(name.debugDescription): label \(label.debugDescription) is longer than 63 bytes") }
            out.append(UInt8(bytes.count))
            out += bytes
        }
        out.append(0)
        guard out.count - 12 <= 255 else { throw InvalidInput("DNS name \(name.debugDescription) is longer than 255 bytes") }
        out += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return out
    }

    /// Parses a response; throws on anything malformed.
    public init(parsing bytes: [UInt8]) throws(InvalidInput) {
        var reader = Reader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        guard flags & 0x8000 != 0 else { throw InvalidInput("DNS: not a response") }
        truncated = flags & 0x0200 != 0
        responseCode = UInt8(flags & 0x000F)
        let questions = try reader.u16(), answerCount = try reader.u16()
        _ = try reader.u16()
        _ = try reader.u16()
        for _ in 0..<questions {
            _ = try reader.name()
            try reader.skip(4)
        }
        answers = []
        // A truncated UDP answer may stop part-way: keep the records that are whole.
        for _ in 0..<answerCount {
            guard let record = try? reader.record() else {
                if truncated { break }
                throw InvalidInput("DNS: malformed answer record")
            }
            answers.append(record)
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func u8() throws(InvalidInput) -> UInt8 {
            guard offset < bytes.count else { throw InvalidInput("DNS: message ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() throws(InvalidInput) -> UInt16 { UInt16(try u8()) << 8 | UInt16(try u8()) }
        mutating func u32() throws(InvalidInput) -> UInt32 { UInt32(try u16()) << 16 | UInt32(try u16()) }

        mutating func skip(_ n: Int) throws(InvalidInput) {
            guard offset + n <= bytes.count else { throw InvalidInput("DNS: message ends early") }
            offset += n
        }

        /// A domain name, following compression pointers (never backwards into a loop).
        mutating func name() throws(InvalidInput) -> String {
            var labels: [String] = []
            var at = offset, jumped = false, hops = 0
            while true {
                guard at < bytes.count else { throw InvalidInput("DNS: name runs past the message") }
                let length = bytes[at]
                if length & 0xC0 == 0xC0 {
                    guard at + 1 < bytes.count else { throw InvalidInput("DNS: name runs past the message") }
                    let target = Int(length & 0x3F) << 8 | Int(bytes[at + 1])
                    if !jumped { offset = at + 2 }
                    jumped = true
                    hops += 1
                    guard hops < 64, target < bytes.count else { throw InvalidInput("DNS: bad name compression") }
                    at = target
                    continue
                }
                guard length & 0xC0 == 0 else { throw InvalidInput("DNS: bad label") }
                if length == 0 {
                    if !jumped { offset = at + 1 }
                    return labels.isEmpty ? "." : labels.joined(separator: ".")
                }
                let end = at + 1 + Int(length)
                guard end <= bytes.count else { throw InvalidInput("DNS: label runs past the message") }
                labels.append(String(decoding: bytes[(at + 1)..<end], as: UTF8.self))
                at = end
            }
        }

        mutating func record() throws(InvalidInput) -> Record {
            let name = try name()
            let type = try u16()
            _ = try u16()
            let ttl = try u32()
            let length = Int(try u16())
            let start = offset
            try skip(length)
            let data = Array(bytes[start..<(start + length)])
            var value: String
            switch type {
            case 1 where length == 4:
                value = data.map(String.init).joined(separator: ".")
            case 28 where length == 16:
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                _ = data.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
                value = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            case 2, 5, 12:
                var inner = self
                inner.offset = start
                value = try inner.name()
            case 15 where length >= 3:
                var inner = self
                inner.offset = start + 2
                value = "\(UInt16(data[0]) << 8 | UInt16(data[1])) \(try inner.name())"
            case 16:
                var strings: [String] = [], i = 0
                while i < data.count {
                    let n = Int(data[i])
                    guard i + 1 + n <= data.count else { throw InvalidInput("DNS: TXT string runs past its record") }
                    strings.append("\"" + String(decoding: data[(i + 1)..<(i + 1 + n)], as: UTF8.self) + "\"")
                    i += 1 + n
                }
                value = strings.joined(separator: " ")
            default:
                value = "\\# \(length) " + data.hex
            }
            return Record(name: name, type: type, ttl: ttl, value: value)
        }
    }
}

/// The DNS probe: asks one server directly over UDP, and again over TCP when the answer was
/// truncated; records every answer with its TTL.
public enum DNSProbe {
    public static let measures = ["answers": "", "latency": "ms"]

    /// Splits `HOST:PORT`, `[V6]:PORT` or `HOST` (port 53); the host must be an IP address.
    public static func parseServer(_ text: String) throws(InvalidInput) -> (host: String, port: UInt16) {
        var host = text, port: UInt16 = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()) else { throw InvalidInput("--server \(text.debugDescription): bad port") }
                port = p
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = UInt16(text[text.index(after: colon)...]), p > 0 else { throw InvalidInput("--server \(text.debugDescription): bad port") }
            port = p
        }
        var v4 = in_addr(), v6 = in6_addr()
        guard inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 else {
            throw InvalidInput("--server \(text.debugDescription): give the server's IP address (and :PORT)")
        }
        return (host, port)
    }

    public static func check(
        name: String, type: String, server: String, expected: String?, expectation: DNSAnswerObserved.Expectation = .now, timeout: Double
    ) throws(InvalidInput) -> ProbeSample {
        let typeName = type.uppercased()
        guard let code = DNSMessage.types[typeName] else {
            throw InvalidInput("--type \(type.debugDescription): one of \(DNSMessage.types.keys.sorted().joined(separator: ", "))")
        }
        let (host, port) = try parseServer(server)
        try FieldCheck.dnsName(name, "DNS name")
        // Recorded as asked: HOST:PORT, the port said even when it was left to its default.
        let resolver = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let id = UInt16.random(in: 0...UInt16.max)
        let query = try DNSMessage.query(id: id, name: name, type: code)
        let started = CommandRunner.monotonicSeconds()
        var transport = "udp"
        var outcome = exchange(query, host: host, port: port, tcp: false, timeout: timeout)
        if case .success(let m) = outcome, m.truncated {
            transport = "tcp"
            outcome = exchange(query, host: host, port: port, tcp: true, timeout: max(0.1, timeout - (CommandRunner.monotonicSeconds() - started)))
        }
        let latency = ((CommandRunner.monotonicSeconds() - started) * 100_000).rounded() / 100
        var event: DNSAnswerObserved
        switch outcome {
        case .failure(let error):
            event = try DNSAnswerObserved(
                name: name, recordType: typeName, resolver: resolver, answers: [], expected: expected, transport: transport, error: error.message)
        case .success(let message):
            guard message.id == id else { throw InvalidInput("DNS: answer for another query") }
            event = try DNSAnswerObserved(
                name: name, recordType: typeName, resolver: resolver, answers: message.answers.map { .init(value: $0.value, ttl: Int($0.ttl)) },
                expected: expected, responseCode: DNSMessage.responseCodeName(message.responseCode), transport: transport,
                latencyMilliseconds: latency)
        }
        event.expectation = expectation
        let passed = event.error == nil && event.responseCode == "NOERROR" && (event.matched ?? !event.answers.isEmpty)
        return ProbeSample(payload: event, passed: passed, values: event.error == nil ? ["answers": Double(event.answers.count), "latency": latency] : [:])
    }

    /// Sends the query and reads one response, over UDP or TCP, within `timeout` seconds.
    static func exchange(_ query: [UInt8], host: String, port: UInt16, tcp: Bool, timeout: Double) -> Result<DNSMessage, InvalidInput> {
        var storage = sockaddr_storage()
        var length: socklen_t
        let family: Int32
        if host.contains(":") {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            inet_pton(AF_INET6, host, &a.sin6_addr)
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            inet_pton(AF_INET, host, &a.sin_addr)
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        }
        let fd = socket(family, Int32(tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(InvalidInput("socket: \(String(cString: strerror(errno)))")) }
        defer { close(fd) }
        let deadline = CommandRunner.monotonicSeconds() + timeout
        let via = tcp ? "TCP" : "UDP"

        /// Waits until the socket is ready for `events`; false on timeout.
        func wait(_ events: Int32) -> Bool {
            while true {
                let left = deadline - CommandRunner.monotonicSeconds()
                if left <= 0 { return false }
                var p = pollfd(fd: fd, events: Int16(events), revents: 0)
                let n = poll(&p, 1, Int32(max(1, left * 1000)))
                if n > 0 { return true }
                if n < 0 && errno != EINTR { return false }
            }
        }
        func failure(_ what: String) -> Result<DNSMessage, InvalidInput> { .failure(InvalidInput("\(what) (\(via))")) }
        func socketError() -> String {
            var e: Int32 = 0
            var l = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l)
            return String(cString: strerror(e == 0 ? errno : e)).lowercased()
        }

        let connected = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) } }
        if connected != 0 {
            guard errno == EINPROGRESS else { return failure(String(cString: strerror(errno)).lowercased()) }
            guard wait(POLLOUT) else { return failure("no answer within \(formatTimeout(timeout))") }
            var e: Int32 = 0
            var l = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l)
            guard e == 0 else { return failure(String(cString: strerror(e)).lowercased()) }
        }
        let packet = tcp ? [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query : query
        var sent = 0
        while sent < packet.count {
            let n = packet[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n; continue }
            if errno == EAGAIN || errno == EINTR { guard wait(POLLOUT) else { return failure("no answer within \(formatTimeout(timeout))") }; continue }
            return failure(socketError())
        }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        if !tcp {
            while true {
                guard wait(POLLIN) else { return failure("no answer within \(formatTimeout(timeout))") }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    return failure(socketError())
                }
                // Ignore anything that is not the answer to our question.
                if let m = try? DNSMessage(parsing: Array(buffer[0..<n])), m.id == UInt16(query[0]) << 8 | UInt16(query[1]) { return .success(m) }
            }
        }
        var received: [UInt8] = []
        var expected: Int?
        while expected.map({ received.count < $0 + 2 }) ?? true {
            guard wait(POLLIN) else { return failure("no answer within \(formatTimeout(timeout))") }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                return failure(socketError())
            }
            if n == 0 { return failure("the server closed the connection") }
            received += buffer[0..<n]
            if expected == nil, received.count >= 2 { expected = Int(received[0]) << 8 | Int(received[1]) }
        }
        do {
            return .success(try DNSMessage(parsing: Array(received[2..<(expected! + 2)])))
        } catch {
            return .failure(error)
        }
    }

    static func formatTimeout(_ seconds: Double) -> String { seconds < 1 ? "\(Int(seconds * 1000))ms" : "\(trimmedSeconds(seconds))s" }
    static func trimmedSeconds(_ s: Double) -> String { s == s.rounded() ? String(Int(s)) : String((s * 10).rounded() / 10) }
}
