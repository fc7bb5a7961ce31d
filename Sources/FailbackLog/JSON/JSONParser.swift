/// Why a byte sequence is not acceptable JSON, and where (1-based line and column, 0-based byte offset).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        case invalidUTF8
        case unexpectedEnd
        case unexpectedCharacter(Character)
        case invalidEscape
        case loneSurrogate
        case controlCharacterInString
        case invalidNumber
        case numberOutOfRange
        case duplicateKey(String)
        case trailingContent
        case tooDeep
    }

    public var reason: Reason
    public var offset: Int
    public var line: Int
    public var column: Int

    public var description: String {
        let what: String
        switch reason {
        case .invalidUTF8: what = "invalid UTF-8"
        case .unexpectedEnd: what = "unexpected end of input"
        case .unexpectedCharacter(let c): what = "unexpected character \(c.debugDescription)"
        case .invalidEscape: what = "invalid escape sequence"
        case .loneSurrogate: what = "lone UTF-16 surrogate in \\u escape"
        case .controlCharacterInString: what = "unescaped control character in string"
        case .invalidNumber: what = "malformed number"
        case .numberOutOfRange: what = "number out of the IEEE-754 double range"
        case .duplicateKey(let k): what = "duplicate object key \(k.debugDescription)"
        case .trailingContent: what = "unexpected content after the JSON value"
        case .tooDeep: what = "nesting deeper than \(JSONParser.maximumDepth) levels"
        }
        return "line \(line), column \(column): \(what)"
    }
}

extension JSONParseError {
    /// The error at byte `offset` of `bytes`, with its line and column.
    init(_ reason: Reason, at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) {
        var line = 1
        var lineStart = 0
        let end = min(offset, bytes.count)
        for i in 0..<end where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters, not bytes (continuation bytes are skipped).
        var column = 1
        if lineStart < end { for i in lineStart..<end where bytes[i] & 0xC0 != 0x80 { column += 1 } }
        self.init(reason: reason, offset: offset, line: line, column: column)
    }

    /// The character starting at `offset` of valid UTF-8, for a message.
    static func character(at offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Character {
        var end = offset + 1
        while end < bytes.count, bytes[end] & 0xC0 == 0x80 { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self).first ?? "?"
    }
}

/// A strict RFC 8259 parser producing I-JSON values: it rejects invalid UTF-8, lone surrogates,
/// duplicate member names and numbers that overflow a double, so that whatever it accepts has exactly
/// one RFC 8785 canonical form.
///
/// Tokens (strings, numbers, literals) are checked by `JSONScanner`, which says where each ends;
/// the parser builds values from them, so the two accept and refuse by the same rules.
public struct JSONParser {
    public static let maximumDepth = 512

    private var scanner: JSONScanner
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Members of the objects being parsed, innermost last.
    private var pending: [(key: String, value: JSONValue, offset: Int)] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) {
        self.bytes = bytes
        scanner = JSONScanner(bytes, at: index)
    }

    /// Runs `body` with a parser over `document`, from `index`.
    private static func with<T>(_ document: [UInt8], at index: Int = 0, _ body: (inout JSONParser) throws(JSONParseError) -> T) throws(JSONParseError) -> T {
        let result: Result<T, JSONParseError> = document.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer, at: index)
            do throws(JSONParseError) { return .success(try body(&parser)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses one JSON document.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try with(bytes) { (p: inout JSONParser) throws(JSONParseError) in
            try p.checkUTF8()
            p.scanner.skipWhitespace()
            let value = try p.parseValue()
            try p.expectEnd()
            return value
        }
    }

    /// Parses JSON documents one after the other, separated by whitespace (JSON lines, or
    /// pretty-printed documents as `curl A && curl B` prints them), in one pass. On a fault: the
    /// documents before it, and where the faulty one starts with the fault.
    public static func parseSequence(_ bytes: [UInt8]) -> (documents: [JSONValue], failure: (start: Int, error: JSONParseError)?) {
        var documents: [JSONValue] = []
        var start = 0
        do {
            try with(bytes) { (p: inout JSONParser) throws(JSONParseError) in
                try p.checkUTF8()
                p.scanner.skipWhitespace()
                while p.scanner.index < p.bytes.count {
                    start = p.scanner.index
                    documents.append(try p.parseValue())
                    p.scanner.skipWhitespace()
                }
            }
            return (documents, nil)
        } catch {
            return (documents, (start, error))
        }
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a document that must be one JSON object, giving its members in the order written
    /// rather than as a dictionary: for readers that visit each member once.
    /// Refuses what `parse` refuses, duplicate names included.
    public static func parseObjectMembers(_ bytes: [UInt8]) throws(JSONParseError) -> [(key: String, value: JSONValue)] {
        try with(bytes) { (p: inout JSONParser) throws(JSONParseError) in
            try p.checkUTF8()
            p.scanner.skipWhitespace()
            guard p.scanner.peek() == UInt8(ascii: "{") else {
                throw p.scanner.index < p.bytes.count ? p.scanner.unexpected() : p.scanner.error(.unexpectedEnd, at: 0)
            }
            try p.parseMembers()
            try p.expectEnd()
            let members = p.pending
            // ASCII names in increasing byte order (as RFC 8785 writes them) cannot repeat; otherwise
            // look, by text as `parse`'s dictionaries compare names (Unicode canonical equivalence:
            // "é" and "e\u{301}" are one name there, and "K" and U+212A KELVIN SIGN). Bytes, not `<`:
            // String comparison is Unicode-aware and far slower.
            if zip(members, members.dropFirst()).contains(where: { !$0.key.utf8.lexicographicallyPrecedes($1.key.utf8) })
                || members.contains(where: { !$0.key.utf8.allSatisfy { $0 < 0x80 } })
            {
                var seen = Set<String>()
                for m in members where !seen.insert(m.key).inserted { throw p.scanner.error(.duplicateKey(m.key), at: m.offset) }
            }
            return members.map { ($0.key, $0.value) }
        }
    }

    /// The value starting at `offset` of a document already validated (`JSONScanner`).
    static func value(in bytes: [UInt8], at offset: Int) -> JSONValue? {
        try? with(bytes, at: offset) { (p: inout JSONParser) throws(JSONParseError) in try p.parseValue() }
    }

    /// The text of the string whose opening quote is at `offset`, escapes decoded.
    static func string(in bytes: [UInt8], openingQuoteAt offset: Int) -> String? {
        try? with(bytes, at: offset) { (p: inout JSONParser) throws(JSONParseError) in try p.parseString() }
    }

    private func checkUTF8() throws(JSONParseError) {
        if let bad = firstInvalidUTF8Offset(bytes) { throw scanner.error(.invalidUTF8, at: bad) }
    }

    private mutating func expectEnd() throws(JSONParseError) {
        scanner.skipWhitespace()
        if scanner.index < bytes.count { throw scanner.error(.trailingContent, at: scanner.index) }
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let first = scanner.peek() else { throw scanner.error(.unexpectedEnd, at: scanner.index) }
        switch first {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try scanner.expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try scanner.expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try scanner.expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw scanner.unexpected()
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        // Members gather on a stack shared by nested objects, so that each object's dictionary is
        // made once at its final size (growing one member at a time rehashes it again and again).
        let base = pending.count
        try parseMembers()
        var members = [String: JSONValue](minimumCapacity: pending.count - base)
        for i in base..<pending.count where members.updateValue(pending[i].value, forKey: pending[i].key) != nil {
            throw scanner.error(.duplicateKey(pending[i].key), at: pending[i].offset)
        }
        pending.removeSubrange(base...)
        return .object(members)
    }

    /// Parses an object, leaving its members on `pending`.
    private mutating func parseMembers() throws(JSONParseError) {
        try scanner.open()
        if try scanner.closes(UInt8(ascii: "}")) { return }
        repeat {
            let keyOffset = try scanner.expectName()
            let key = try parseString()
            try scanner.expectColon()
            pending.append((key, try parseValue(), keyOffset))
        } while try scanner.continues(closing: UInt8(ascii: "}"))
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try scanner.open()
        var elements: [JSONValue] = []
        if try scanner.closes(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            scanner.skipWhitespace()
            elements.append(try parseValue())
        } while try scanner.continues(closing: UInt8(ascii: "]"))
        return .array(elements)
    }

    /// The string at the scanner (checked by it), escapes decoded.
    private mutating func parseString() throws(JSONParseError) -> String {
        let start = scanner.index + 1
        let escaped = try scanner.skipString()
        let text = start..<(scanner.index - 1)
        guard escaped else { return String(decoding: UnsafeBufferPointer(rebasing: bytes[text]), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.lowerBound
        while i < text.upperBound {
            let b = bytes[i]
            i += 1
            guard b == UInt8(ascii: "\\") else { out.append(b); continue }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = hex4(at: i)
                i += 4
                if (0xD800...0xDBFF).contains(code) {  // the scanner saw its low half follow
                    code = 0x10000 + ((code - 0xD800) << 10) + (hex4(at: i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(code) ?? "\u{FFFD}")).utf8))
            default: out.append(e)  // " \ /
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Four hex digits the scanner has checked.
    private func hex4(at i: Int) -> UInt32 {
        var value: UInt32 = 0
        for b in bytes[i..<(i + 4)] {
            value = value << 4 | UInt32(b <= UInt8(ascii: "9") ? b - UInt8(ascii: "0") : (b | 0x20) - UInt8(ascii: "a") + 10)
        }
        return value
    }

    /// The number at the scanner (checked by it).
    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = scanner.index
        try scanner.skipNumber()
        let text = start..<scanner.index
        // Most numbers are short: no need for strtod.
        if let value = shortDecimal(bytes, text) { return value }
        guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[text]), as: UTF8.self)) else {
            throw scanner.error(.invalidNumber, at: start)
        }
        return value
    }
}

/// The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong forms,
/// no surrogates, nothing above U+10FFFF), or nil when all of it is well-formed.
public func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
    bytes.withUnsafeBufferPointer { firstInvalidUTF8Offset($0) }
}

func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
    checkUTF8(bytes).invalidAt
}

/// `firstInvalidUTF8Offset`, and whether every byte is ASCII (no byte needs the slow path below).
@inline(__always)
func checkUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> (invalidAt: Int?, isASCII: Bool) {
    var ascii = true
    var i = 0
    let n = bytes.count
    while i < n {
        // ASCII, 32 then eight bytes at a time.
        while i + 32 <= n {
            let p = UnsafeRawPointer(bytes.baseAddress! + i)
            let any =
                p.loadUnaligned(as: UInt64.self) | p.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
                | p.loadUnaligned(fromByteOffset: 16, as: UInt64.self) | p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
            if any & 0x8080_8080_8080_8080 != 0 { break }
            i += 32
        }
        if i == n { break }
        if i + 8 <= n, UnsafeRawPointer(bytes.baseAddress! + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
        ascii = false
        let length: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; upper = 0x9F
        case 0xF0: length = 4; lower = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; upper = 0x8F
        default: return (i, false)
        }
        guard i + length <= n else { return (i, false) }
        let b1 = bytes[i + 1]
        guard b1 >= lower && b1 <= upper else { return (i, false) }
        for k in 2..<max(2, length) where bytes[i + k] & 0xC0 != 0x80 { return (i, false) }
        i += length
    }
    return (nil, ascii)
}
