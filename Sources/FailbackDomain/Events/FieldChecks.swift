#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The shapes a recorded field may take (docs/cli.md, "What is recorded"): numbers as decimals,
/// ports, hosts, DNS names, record types, http(s) URLs. Each check throws one line naming the
/// field and what is wrong with it.
public enum FieldCheck {
    /// A decimal number as JSON writes one: `-`? digits, then `.` digits and an exponent, each
    /// optional. Not hexadecimal (`0x10`), `inf`, `nan`, a leading `+` or `.5`: `Double(String)`
    /// takes those, and `--seconds 0x10` was recorded as 16 s.
    public static func decimal(_ text: String) -> Double? {
        var bytes = Substring(text).utf8[...]
        func digits() -> Bool {
            let before = bytes.count
            while let b = bytes.first, b >= 0x30, b <= 0x39 { bytes = bytes.dropFirst() }
            return bytes.count < before
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard digits() else { return nil }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() else { return nil }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() else { return nil }
        }
        guard bytes.isEmpty else { return nil }
        return Double(text)
    }

    /// A port: decimal 1–65535.
    public static func port(_ text: Substring, _ field: String) throws(InvalidInput) -> Int {
        guard !text.isEmpty, text.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let p = Int(text), (1...65535).contains(p) else {
            throw InvalidInput("\(field): port \(String(text).debugDescription) is not a number from 1 to 65535")
        }
        return p
    }

    /// An IPv4 or IPv6 address (as `inet_pton` reads it).
    public static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// A DNS name: labels of 1 to 63 letters, digits, `-` (not first or last) and `_`, separated by
    /// dots, at most 253 characters (a final dot, the root, is allowed and not counted).
    public static func dnsName(_ name: String, _ field: String) throws(InvalidInput) {
        let shown = name.count > 80 ? String(name.prefix(60)).debugDescription + "… (\(name.utf8.count) bytes)" : name.debugDescription
        guard !name.isEmpty else { throw InvalidInput("\(field) is empty") }
        let body = name.hasSuffix(".") && name != "." ? Substring(name.dropLast()) : Substring(name)
        guard body.utf8.count <= 253 else { throw InvalidInput("\(field) \(shown) is longer than 253 characters") }
        for label in body.split(separator: ".", omittingEmptySubsequences: false) {
            guard !label.isEmpty else { throw InvalidInput("\(field) \(shown) has an empty label (two dots in a row, or a dot at the start)") }
            guard label.utf8.count <= 63 else { throw InvalidInput("\(field) \(shown): label \(String(label.prefix(20)).debugDescription)… is longer than 63 characters") }
            for b in label.utf8 {
                let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                guard ok else { throw InvalidInput("\(field) \(shown): label \(String(label).debugDescription) may hold only letters, digits, '-' and '_'") }
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { throw InvalidInput("\(field) \(shown): label \(String(label).debugDescription) starts or ends with '-'") }
        }
    }

    /// A host: an IP address or a DNS name.
    public static func host(_ host: String, _ field: String) throws(InvalidInput) {
        if isIPAddress(host) { return }
        guard !host.isEmpty else { throw InvalidInput("\(field): the host is empty") }
        try dnsName(host, "\(field): host")
    }

    /// `HOST:PORT` or `[IPv6]:PORT`, the port required: a DNS server as the probe asked it, or as
    /// typed in (`record dns --resolver`). Returns the host and the port.
    @discardableResult
    public static func hostAndPort(_ text: String, _ field: String) throws(InvalidInput) -> (host: String, port: Int) {
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw InvalidInput("\(field) \(text.debugDescription): expected [IPv6]:PORT") }
            let host = String(text[text.index(after: text.startIndex)..<close]), rest = text[text.index(after: close)...]
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, host, &v6) == 1 else { throw InvalidInput("\(field) \(text.debugDescription): \(host.debugDescription) is not an IPv6 address") }
            guard rest.hasPrefix(":") else { throw InvalidInput("\(field) \(text.debugDescription): expected [IPv6]:PORT") }
            return (host, try port(rest.dropFirst(), "\(field) \(text.debugDescription)"))
        }
        guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
            throw InvalidInput("\(field) \(text.debugDescription): expected HOST:PORT (an IPv6 address in brackets: [::1]:53)")
        }
        let host = String(text[..<colon])
        try self.host(host, "\(field) \(text.debugDescription)")
        return (host, try port(text[text.index(after: colon)...], "\(field) \(text.debugDescription)"))
    }

    /// An http or https URL with a host (and a port 1–65535 if one is given), no white space or
    /// control characters: what `observe http` hands to curl, and `record health --target`.
    /// `url` without its user information (`scheme://user:pass@host/...` → `scheme://host/...`).
    public static func withoutCredentials(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let authority = url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(url[url.index(after: at)...])
    }

    public static func httpURL(_ text: String, _ field: String) throws(InvalidInput) {
        // Shown without user information: a password in a mistyped URL stays off the terminal.
        let safe = withoutCredentials(text)
        let shown = safe.count > 200 ? String(safe.prefix(200)).debugDescription + "…" : safe.debugDescription
        let lower = text.lowercased()
        guard let scheme = ["http://", "https://"].first(where: { lower.hasPrefix($0) }) else {
            throw InvalidInput("\(field) \(shown) is not an http:// or https:// URL")
        }
        guard text.utf8.count <= 8192 else { throw InvalidInput("\(field) is longer than 8192 bytes") }
        if let c = text.unicodeScalars.first(where: { isControl($0) || $0 == " " }) {
            throw InvalidInput("\(field) \(shown) holds \(c == " " ? "a space" : "the control character U+\(String(c.value, radix: 16, uppercase: true))") (percent-encode it)")
        }
        let rest = text.dropFirst(scheme.count)
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority, portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw InvalidInput("\(field) \(shown): unclosed [ in the host") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw InvalidInput("\(field) \(shown): expected :PORT after the IPv6 address") }
                portText = after.dropFirst()
            }
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, String(host), &v6) == 1 else { throw InvalidInput("\(field) \(shown): \(String(host).debugDescription) is not an IPv6 address") }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            guard !host.isEmpty else { throw InvalidInput("\(field) \(shown) has no host") }
            try self.host(String(host), "\(field) \(shown)")
        }
        if let portText { _ = try port(portText, "\(field) \(shown)") }
    }
}

/// A C0 or C1 control character, or DEL: what can move a terminal's cursor or start an escape
/// sequence (ESC, CSI U+009B...).
public func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
}

/// Text recorded by one person, made safe to print on another's terminal: control characters
/// (C0, DEL, C1: the start of every escape sequence) and the bidirectional overrides and isolates
/// (which reorder what is shown) are written as escapes — `\n`, `\r`, `\t`, `\u{1b}` — never sent
/// raw. With `keepTabs` a tab stays (a command's output, where a tab only moves right).
public func terminalSafe(_ text: String, keepTabs: Bool = false) -> String {
    func unsafe(_ s: Unicode.Scalar) -> Bool {
        (isControl(s) && !(keepTabs && s == "\t")) || (0x202A...0x202E).contains(s.value) || (0x2066...0x2069).contains(s.value)
    }
    guard text.unicodeScalars.contains(where: unsafe) else { return text }
    var out = ""
    for scalar in text.unicodeScalars {
        guard unsafe(scalar) else {
            out.unicodeScalars.append(scalar)
            continue
        }
        switch scalar {
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default: out += "\\u{\(String(scalar.value, radix: 16))}"
        }
    }
    return out
}
