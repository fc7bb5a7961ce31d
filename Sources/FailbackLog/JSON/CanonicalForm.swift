extension CanonicalJSON {
    /// Whether `bytes` are exactly the RFC 8785 form of the one JSON value they hold: what parsing
    /// them (`JSONParser.parse`) and writing the value again (`encode`) would give back byte for
    /// byte, decided in one pass with no value built (a differential test and the JSON fuzz target
    /// hold the two answers equal). This is how a bundle's every event line is checked.
    public static func isCanonical(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        let buffer = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        let utf8 = checkUTF8(buffer)
        guard utf8.invalidAt == nil else { return false }
        var check = CanonicalFormCheck(bytes: buffer, isASCII: utf8.isASCII)
        return check.value() && check.index == buffer.count
    }

    /// `isCanonical`, and the bytes are an event's envelope (docs/log-format.md §1): an object of
    /// the envelope's members only, each required one there, each of its kind (strings, integers,
    /// the payload an object, the redactions an array). Nil when both hold, else what does not:
    /// `notCanonical`, or the envelope's fault. One pass, as `isCanonical`.
    public static func envelopeProblem(_ bytes: UnsafeRawBufferPointer) -> EnvelopeFormProblem? {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .notCanonical }
        let buffer = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        let utf8 = checkUTF8(buffer)
        guard utf8.invalidAt == nil else { return .notCanonical }
        var check = CanonicalFormCheck(bytes: buffer, isASCII: utf8.isASCII)
        check.envelope = 0
        guard buffer[0] == UInt8(ascii: "{"), check.value(), check.index == buffer.count else {
            return check.envelopeFault.map(EnvelopeFormProblem.envelope) ?? .notCanonical
        }
        if let fault = check.envelopeFault { return .envelope(fault) }
        let required = EnvelopeMember.all.filter { $0 != .idempotencyKey && $0 != .redactions }
        if let missing = required.first(where: { check.envelope! & (1 << $0.rawValue) == 0 }) { return .envelope("no \(missing.name) member") }
        return nil
    }

    /// What `envelopeProblem` found.
    public enum EnvelopeFormProblem: Equatable, Sendable {
        case notCanonical
        case envelope(String)
    }

    /// `isCanonical` of an array's bytes.
    public static func isCanonical(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { isCanonical($0) }
    }
}

/// The grammar of RFC 8785 output, which is JSON's without its freedoms: no whitespace; members in
/// increasing UTF-16 order of their names (so none twice), and no two names one text as the parser's
/// dictionaries compare them (Unicode canonical equivalence); strings escaped only where they must
/// be and as `encode` escapes; numbers as ECMAScript prints them. The bytes are valid UTF-8
/// (checked before).
private struct CanonicalFormCheck {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Every byte is ASCII: names compare as bytes, and no two can be one text.
    let isASCII: Bool
    var index = 0
    var depth = 0
    /// A number written again, to compare (kept between numbers).
    var scratch: [UInt8] = []
    /// When checking an event: the envelope members met at the top level (bit `rawValue`), and
    /// the first fault of the envelope's shape.
    var envelope: Int?
    var envelopeFault: String?

    init(bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool) {
        self.bytes = bytes
        self.isASCII = isASCII
    }

    @inline(__always)
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func value() -> Bool {
        guard let first = peek() else { return false }
        switch first {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return false
        }
    }

    /// Enters an object or array (as deep as the parser goes, and no deeper).
    mutating func open() -> Bool {
        depth += 1
        index += 1
        return depth <= JSONParser.maximumDepth
    }

    mutating func object() -> Bool {
        guard open() else { return false }
        if peek() == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return true
        }
        var previous: (name: Range<Int>, escaped: Bool)?
        // Names are also compared as text when some byte is not ASCII (rare): collected here.
        var names: [(name: Range<Int>, escaped: Bool)] = []
        while true {
            guard peek() == UInt8(ascii: "\"") else { return false }
            let start = index + 1
            guard let escaped = string() else { return false }
            let name = (name: start..<index - 1, escaped: escaped)
            if let previous, compareNames(previous, name) >= 0 { return false }
            previous = name
            if !isASCII { names.append(name) }
            guard peek() == UInt8(ascii: ":") else { return false }
            index += 1
            if depth == 1, envelope != nil, !envelopeMember(name.name) { return false }
            guard value() else { return false }
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return names.count < 2 || namesAreDistinctTexts(names)
            default: return false
            }
        }
    }

    /// A member of the event's own object: one of the envelope's, and its value of that member's
    /// kind (read from its first byte; the value's own form is checked after, as any value's).
    mutating func envelopeMember(_ name: Range<Int>) -> Bool {
        let key = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[name]))
        guard let member = EnvelopeMember.all.first(where: { EnvelopePlace.equal(key, $0.name) }) else {
            envelopeFault = "a member \(String(decoding: key, as: UTF8.self).debugDescription) that is not one of the envelope's"
            return false
        }
        envelope! |= 1 << member.rawValue
        let first = peek() ?? 0
        let fits: Bool
        switch member {
        case .actor, .drillID, .host, .idempotencyKey, .recordedAt, .type: fits = first == UInt8(ascii: "\"")
        case .drillSeq, .seq, .schemaVersion: fits = first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")
        case .payload: fits = first == UInt8(ascii: "{")
        case .redactions: fits = first == UInt8(ascii: "[")
        }
        if !fits { envelopeFault = "\(member.name) is not of its kind" }
        return fits
    }

    mutating func array() -> Bool {
        guard open() else { return false }
        if peek() == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return true
        }
        while true {
            guard value() else { return false }
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                depth -= 1
                return true
            default: return false
            }
        }
    }

    /// Steps over a string escaped exactly as `CanonicalJSON.writeString` escapes: `\"`, `\\`,
    /// `\b \t \n \f \r`, and `\u00xx` (lowercase) for the other characters below U+0020; nothing
    /// else. Whether it holds an escape, or nil when it is not in that form.
    mutating func string() -> Bool? {
        index += 1
        var escaped = false
        while true {
            index = skipPlainStringBytes(bytes, from: index)
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                return escaped
            case UInt8(ascii: "\\"):
                escaped = true
                guard index + 1 < bytes.count else { return nil }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "b"), UInt8(ascii: "t"), UInt8(ascii: "n"), UInt8(ascii: "f"), UInt8(ascii: "r"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 5 < bytes.count, bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                        let high = lowercaseHexDigit(bytes[index + 4]), high <= 1, let low = lowercaseHexDigit(bytes[index + 5])
                    else { return nil }
                    // The characters with a short escape are written with it.
                    let code = high << 4 | low
                    guard code != 0x08, code != 0x09, code != 0x0A, code != 0x0C, code != 0x0D else { return nil }
                    index += 6
                default: return nil
                }
            default: return nil  // a control character
            }
        }
    }

    /// A number as ECMAScript prints its double: a short integer is its own form; any other is
    /// read and written again.
    mutating func number() -> Bool {
        let start = index
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 &- UInt8(ascii: "0") <= 9 } ?? false }
        let negative = peek() == UInt8(ascii: "-")
        if negative { index += 1 }
        guard isDigit(peek()) else { return false }
        let leadingZero = bytes[index] == UInt8(ascii: "0")
        let integerStart = index
        index += 1
        if !leadingZero { while isDigit(peek()) { index += 1 } }
        let integerDigits = index - integerStart
        var plain = true
        if peek() == UInt8(ascii: ".") {
            plain = false
            index += 1
            guard isDigit(peek()) else { return false }
            while isDigit(peek()) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            plain = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard isDigit(peek()) else { return false }
            while isDigit(peek()) { index += 1 }
        }
        // Up to 15 digits an integer is exact and printed as its digits; `-0` prints as `0`.
        if plain && integerDigits <= 15 { return !(negative && leadingZero) }
        let token = UnsafeBufferPointer(rebasing: bytes[start..<index])
        guard let value = shortDecimal(bytes, start..<index) ?? Double(String(decoding: token, as: UTF8.self)), value.isFinite else { return false }
        scratch.removeAll(keepingCapacity: true)
        CanonicalJSON.writeNumber(value, into: &scratch)
        return scratch.elementsEqual(token)
    }

    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard index + count <= bytes.count, bytesEqual(bytes.baseAddress! + index, text.utf8Start, count) else { return false }
        index += count
        return true
    }

    /// RFC 8785's order of two names (their UTF-16 code units): <0, 0 or >0.
    func compareNames(_ a: (name: Range<Int>, escaped: Bool), _ b: (name: Range<Int>, escaped: Bool)) -> Int {
        let base = bytes.baseAddress!
        if isASCII && !a.escaped && !b.escaped {
            return compareBytes(base + a.name.lowerBound, a.name.count, base + b.name.lowerBound, b.name.count)
        }
        var x = CanonicalUTF16(bytes: bytes, index: a.name.lowerBound, end: a.name.upperBound)
        var y = CanonicalUTF16(bytes: bytes, index: b.name.lowerBound, end: b.name.upperBound)
        while true {
            switch (x.next(), y.next()) {
            case (nil, nil): return 0
            case (nil, _): return -1
            case (_, nil): return 1
            case (let p?, let q?): if p != q { return Int(p) - Int(q) }
            }
        }
    }

    /// No two names one text to the parser (whose members are keyed by `String`, equal under
    /// Unicode canonical equivalence: "é" and "e\u{301}", "K" and U+212A KELVIN SIGN).
    func namesAreDistinctTexts(_ names: [(name: Range<Int>, escaped: Bool)]) -> Bool {
        var seen = Set<String>()
        for (name, _) in names {
            var units = CanonicalUTF16(bytes: bytes, index: name.lowerBound, end: name.upperBound)
            var code: [UInt16] = []
            while let u = units.next() { code.append(u) }
            if !seen.insert(String(decoding: code, as: UTF16.self)).inserted { return false }
        }
        return true
    }
}

/// The UTF-16 code units of a string's bytes between its quotes, in canonical form (valid UTF-8,
/// escapes as `CanonicalFormCheck.string` accepts them).
private struct CanonicalUTF16 {
    let bytes: UnsafeBufferPointer<UInt8>
    var index: Int
    let end: Int
    /// The low surrogate of a character above U+FFFF whose high one was given.
    var low: UInt16?

    mutating func next() -> UInt16? {
        if let low {
            self.low = nil
            return low
        }
        guard index < end else { return nil }
        let b = bytes[index]
        if b == UInt8(ascii: "\\") {
            let e = bytes[index + 1]
            index += 2
            switch e {
            case UInt8(ascii: "b"): return 0x08
            case UInt8(ascii: "t"): return 0x09
            case UInt8(ascii: "n"): return 0x0A
            case UInt8(ascii: "f"): return 0x0C
            case UInt8(ascii: "r"): return 0x0D
            case UInt8(ascii: "u"):
                let high = lowercaseHexDigit(bytes[index + 2]) ?? 0, low = lowercaseHexDigit(bytes[index + 3]) ?? 0
                index += 4
                return UInt16(high << 4 | low)
            default: return UInt16(e)  // `"` or `\`
            }
        }
        let length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4
        var scalar = UInt32(length == 1 ? b : length == 2 ? b & 0x1F : length == 3 ? b & 0x0F : b & 0x07)
        for k in 1..<length { scalar = scalar << 6 | UInt32(bytes[index + k] & 0x3F) }
        index += length
        guard scalar > 0xFFFF else { return UInt16(scalar) }
        let v = scalar - 0x10000
        low = UInt16(0xDC00 | (v & 0x3FF))
        return UInt16(0xD800 | (v >> 10))
    }
}

/// The value of a lowercase hex digit, or nil.
@inline(__always)
private func lowercaseHexDigit(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    default: return nil
    }
}

/// The index of the first byte at or after `index` that is a quote, a backslash or a control
/// character (or the end): eight bytes at a time, then one.
@inline(__always)
func skipPlainStringBytes(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int) -> Int {
    var index = index
    while index + 8 <= bytes.count {
        let w = UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
        let ones: UInt64 = 0x0101_0101_0101_0101
        let quote = w ^ (ones &* 0x22), backslash = w ^ (ones &* 0x5C)
        let special = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((w &- ones &* 0x20) & ~w)) & (ones &* 0x80)
        // The lowest flagged byte is the first special one (flags above it may be false).
        if special != 0 { return index + special.trailingZeroBitCount / 8 }
        index += 8
    }
    while index < bytes.count {
        let b = bytes[index]
        if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 { return index }
        index += 1
    }
    return index
}
