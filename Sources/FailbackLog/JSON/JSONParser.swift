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
public struct JSONParser {
    public static let maximumDepth = 512

    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0
    /// Members of the objects being parsed, innermost last.
    private var pending: [(key: String, value: JSONValue, offset: Int)] = []

    /// Parses one JSON document.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a document that must be one JSON object, giving its members in the order written
    /// rather than as a dictionary: for readers that visit each member once (an event envelope).
    /// Refuses what `parse` refuses, duplicate names included.
    public static func parseObjectMembers(_ bytes: [UInt8]) throws(JSONParseError) -> [(key: String, value: JSONValue)] {
        var parser = JSONParser(bytes: bytes)
        if let bad = firstInvalidUTF8Offset(bytes) { throw parser.error(.invalidUTF8, at: bad) }
        parser.skipWhitespace()
        guard parser.peek() == UInt8(ascii: "{") else { throw parser.index < bytes.count ? parser.unexpected() : parser.error(.unexpectedEnd, at: 0) }
        try parser.parseMembers()
        parser.skipWhitespace()
        if parser.index < bytes.count { throw parser.error(.trailingContent, at: parser.index) }
        let members = parser.pending
        // Names in increasing byte order (as RFC 8785 writes ASCII names) cannot repeat; otherwise
        // look. Bytes, not `<`: String comparison is Unicode-aware and far slower.
        if zip(members, members.dropFirst()).contains(where: { !$0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
            var seen = Set<String>()
            for m in members where !seen.insert(m.key).inserted { throw parser.error(.duplicateKey(m.key), at: m.offset) }
        }
        return members.map { ($0.key, $0.value) }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    /// The value starting at `offset` of a document already validated (`JSONScanner`).
    static func value(in bytes: [UInt8], at offset: Int) -> JSONValue? {
        var parser = JSONParser(bytes: bytes)
        parser.index = offset
        return try? parser.parseValue()
    }

    /// The text of the string whose opening quote is at `offset`, escapes decoded.
    static func string(in bytes: [UInt8], openingQuoteAt offset: Int) -> String? {
        var parser = JSONParser(bytes: bytes)
        parser.index = offset
        return try? parser.parseString()
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        if let bad = firstInvalidUTF8Offset(bytes) { throw error(.invalidUTF8, at: bad) }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw error(.trailingContent, at: index) }
        return value
    }

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error(.unexpectedEnd, at: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw unexpected()
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        // Members gather on a stack shared by nested objects, so that each object's dictionary is
        // made once at its final size (growing one member at a time rehashes it again and again).
        let base = pending.count
        try parseMembers()
        var members = [String: JSONValue](minimumCapacity: pending.count - base)
        for i in base..<pending.count where members.updateValue(pending[i].value, forKey: pending[i].key) != nil {
            throw error(.duplicateKey(pending[i].key), at: pending[i].offset)
        }
        pending.removeSubrange(base...)
        return .object(members)
    }

    /// Parses an object, leaving its members on `pending`.
    private mutating func parseMembers() throws(JSONParseError) {
        try enter()
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") { index += 1; depth -= 1; return }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw index < bytes.count ? unexpected() : error(.unexpectedEnd, at: index) }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw index < bytes.count ? unexpected() : error(.unexpectedEnd, at: index) }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            pending.append((key, value, keyOffset))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; depth -= 1; return
            case nil: throw error(.unexpectedEnd, at: index)
            default: throw unexpected()
            }
        }
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") { index += 1; depth -= 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; depth -= 1; return .array(elements)
            case nil: throw error(.unexpectedEnd, at: index)
            default: throw unexpected()
            }
        }
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > Self.maximumDepth { throw error(.tooDeep, at: index) }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let s = String(decoding: bytes[start..<index], as: UTF8.self)
                index += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw error(.controlCharacterInString, at: index) }
            index += 1
        }
        var scalars = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                let escapeOffset = index
                index += 1
                guard index < bytes.count else { throw error(.unexpectedEnd, at: index) }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""): scalars.append(0x22)
                case UInt8(ascii: "\\"): scalars.append(0x5C)
                case UInt8(ascii: "/"): scalars.append(0x2F)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4(escapeOffset: escapeOffset)
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error(.loneSurrogate, at: escapeOffset)
                        }
                        index += 2
                        let low = try parseHex4(escapeOffset: escapeOffset)
                        guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate, at: escapeOffset) }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error(.loneSurrogate, at: escapeOffset)
                    }
                    scalars.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
                default:
                    throw error(.invalidEscape, at: escapeOffset)
                }
            default:
                if b < 0x20 { throw error(.controlCharacterInString, at: index) }
                scalars.append(b)
                index += 1
            }
        }
        throw error(.unexpectedEnd, at: index)
    }

    private mutating func parseHex4(escapeOffset: Int) throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error(.unexpectedEnd, at: bytes.count) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error(.invalidEscape, at: escapeOffset)
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = index
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if peek() == UInt8(ascii: "-") { index += 1 }
        if peek() == UInt8(ascii: "0") {
            index += 1
            if isDigit(peek()) { throw error(.invalidNumber, at: start) }
        } else if isDigit(peek()) {
            while isDigit(peek()) { index += 1 }
        } else {
            throw error(.invalidNumber, at: start)
        }
        var fraction = false
        if peek() == UInt8(ascii: ".") {
            fraction = true
            index += 1
            guard isDigit(peek()) else { throw error(.invalidNumber, at: start) }
            while isDigit(peek()) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            fraction = true
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard isDigit(peek()) else { throw error(.invalidNumber, at: start) }
            while isDigit(peek()) { index += 1 }
        }
        // Integers of up to 15 digits are exact in a double: no need for strtod.
        if !fraction, index - start <= 15 {
            var value = 0, i = start
            let negative = bytes[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            while i < index { value = value &* 10 &+ Int(bytes[i] &- UInt8(ascii: "0")); i += 1 }
            return negative ? -Double(value) : Double(value)
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text) else { throw error(.invalidNumber, at: start) }
        guard value.isFinite else { throw error(.numberOutOfRange, at: start) }
        return value
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error(.unexpectedEnd, at: bytes.count) }
        for i in 0..<count where bytes[index + i] != literal.utf8Start[i] {
            throw error(.unexpectedCharacter(bytes.withUnsafeBufferPointer { JSONParseError.character(at: index + i, in: $0) }), at: index + i)
        }
        index = start + count
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func unexpected() -> JSONParseError {
        error(.unexpectedCharacter(bytes.withUnsafeBufferPointer { JSONParseError.character(at: index, in: $0) }), at: index)
    }

    private func error(_ reason: JSONParseError.Reason, at offset: Int) -> JSONParseError {
        bytes.withUnsafeBufferPointer { JSONParseError(reason, at: offset, in: $0) }
    }
}

/// The offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629: no overlong forms,
/// no surrogates, nothing above U+10FFFF), or nil when all of it is well-formed.
public func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
    var i = 0
    let n = bytes.count
    while i < n {
        // ASCII, eight bytes at a time.
        if i + 8 <= n, bytes.withUnsafeBytes({ $0.loadUnaligned(fromByteOffset: i, as: UInt64.self) }) & 0x8080_8080_8080_8080 == 0 {
            i += 8
            continue
        }
        let b0 = bytes[i]
        if b0 < 0x80 { i += 1; continue }
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
        default: return i
        }
        guard i + length <= n else { return i }
        let b1 = bytes[i + 1]
        guard b1 >= lower && b1 <= upper else { return i }
        for k in 2..<max(2, length) where bytes[i + k] & 0xC0 != 0x80 { return i }
        i += length
    }
    return nil
}
