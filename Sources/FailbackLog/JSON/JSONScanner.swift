#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where one member of a JSON object lies in the document that holds it.
public struct JSONMemberSpan: Sendable, Equatable {
    /// The name's bytes between its quotes (escapes not decoded).
    public var name: Range<Int>
    /// True when the name holds a backslash escape (its bytes are not its text).
    public var nameIsEscaped: Bool
    /// The value's bytes, from its first byte to its last.
    public var value: Range<Int>

    /// Whether the member is named `name` in `doc` (the document the span is in); an escaped name
    /// never is (its bytes are not its text): readers that walk members read such names the general way.
    @inlinable
    public func isNamed(_ name: StaticString, in doc: UnsafeBufferPointer<UInt8>) -> Bool {
        !nameIsEscaped && self.name.count == name.utf8CodeUnitCount && bytesEqual(doc.baseAddress! + self.name.lowerBound, name.utf8Start, self.name.count)
    }
}

/// JSON's grammar without values: it accepts exactly what `JSONParser` accepts and refuses the rest
/// with the same error at the same place (the parser builds values on these same steps; a
/// differential test holds the two together), and instead of values it gives the positions of one
/// object's members. Reading typed
/// members from those positions (`JSONObjectView`) costs no tree of values, no dictionary and no
/// string the reader does not ask for: this is how stored events are read.
struct JSONScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    /// Where the scan is: the next byte to read.
    var index: Int
    private var depth = 0
    /// Names of the skipped objects being scanned, innermost last (for the duplicate-name check).
    private var names: [JSONMemberSpan] = []

    /// The member of the outermost object whose members are recorded too.
    private var nestedName: StaticString?

    /// True when every byte of the document is known to be ASCII (then no two names in byte order
    /// can be one name to the parser: `checkNames`).
    private var asciiDocument = false

    init(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, asciiDocument: Bool = false) {
        self.bytes = bytes
        self.index = index
        self.asciiDocument = asciiDocument
    }

    /// A document's members, and those of its member named `nestedName` when that is an object.
    struct DocumentMembers {
        var members = ObjectMembers()
        var nested: ObjectMembers?
    }

    /// One object's members, and whether their names are in strictly increasing byte order (as
    /// RFC 8785 writes them; a reader may then search them by halves).
    struct ObjectMembers {
        var spans: [JSONMemberSpan] = []
        var ascending = true
        /// A bit for each member's name (`nameBit`); all bits when a name is escaped.
        var names: UInt64 = 0
    }

    /// A bit picked by a name's length and its first and last bytes: a name whose bit an object's
    /// `names` lacks is not among its members, found so with no bytes compared (most of the
    /// optional members a payload reader asks for are absent).
    @inline(__always)
    static func nameBit(_ name: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        guard count > 0 else { return 1 }
        let h = UInt(count) &* 31 &+ UInt(name[0]) &* 7 &+ UInt(name[count - 1])
        return 1 << (h & 63)
    }

    /// One object's members, recorded by `scanObject`: whether they are in order (their names
    /// checked for duplicates when not), and their `names` bits.
    private func objectMembers(_ spans: [JSONMemberSpan]) throws(JSONParseError) -> ObjectMembers {
        var bits: UInt64 = 0
        for span in spans {
            bits |= span.nameIsEscaped ? ~0 : Self.nameBit(bytes.baseAddress! + span.name.lowerBound, span.name.count)
        }
        return ObjectMembers(spans: spans, ascending: try checkNames(spans[...]), names: bits)
    }

    /// Validates a whole document that must be one object, and gives its members (and those of the
    /// object member `nestedName`, found in the same pass).
    static func members(ofDocument document: [UInt8], nestedName: StaticString? = nil) throws(JSONParseError) -> DocumentMembers {
        let result: Result<DocumentMembers, JSONParseError> = document.withUnsafeBufferPointer { buffer in
            do throws(JSONParseError) {
                let utf8 = checkUTF8(buffer)
                var scanner = JSONScanner(buffer, at: 0, asciiDocument: utf8.isASCII)
                if let bad = utf8.invalidAt { throw scanner.error(.invalidUTF8, at: bad) }
                scanner.skipWhitespace()
                guard scanner.peek() == UInt8(ascii: "{") else {
                    throw scanner.index < buffer.count ? scanner.unexpected() : scanner.error(.unexpectedEnd, at: 0)
                }
                var found = DocumentMembers()
                found.members.spans.reserveCapacity(16)
                scanner.nestedName = nestedName
                try scanner.scanObject(into: &found.members.spans, record: true, checkNamesLater: true, nested: &found.nested)
                scanner.skipWhitespace()
                if scanner.index < buffer.count { throw scanner.error(.trailingContent, at: scanner.index) }
                found.members = try scanner.objectMembers(found.members.spans)
                return .success(found)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// The members of the object at `range` of a document already validated.
    static func members(ofObjectIn document: [UInt8], at range: Range<Int>) -> ObjectMembers {
        document.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, at: range.lowerBound)
            return (try? scanner.recordObject()) ?? ObjectMembers()
        }
    }

    /// The elements of the array at `range` of a document already validated.
    static func elements(ofArrayIn document: [UInt8], at range: Range<Int>) -> [Range<Int>] {
        document.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, at: range.lowerBound + 1)
            var elements: [Range<Int>] = []
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "]") { return elements }
            while scanner.index < range.upperBound {
                scanner.skipWhitespace()
                let start = scanner.index
                guard (try? scanner.skipValue()) != nil else { break }
                elements.append(start..<scanner.index)
                scanner.skipWhitespace()
                scanner.index += 1  // , or ]
            }
            return elements
        }
    }

    // MARK: Documents of a known layout (an event envelope as the log writes it)

    /// Steps over `literal` when the bytes at `index` are exactly it; false (and no step) otherwise.
    @inline(__always)
    mutating func skip(ifNext literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count, bytesEqual(bytes.baseAddress! + index, literal.utf8Start, count) else { return false }
        index += count
        return true
    }

    /// Scans the object at `index`, recording its members (as `members(ofDocument:)` records the
    /// object member it is asked for).
    mutating func recordObject() throws(JSONParseError) -> ObjectMembers {
        var members: [JSONMemberSpan] = []
        members.reserveCapacity(16)
        var none: ObjectMembers?
        try scanObject(into: &members, record: true, checkNamesLater: true, nested: &none)
        return try objectMembers(members)
    }

    /// True when the scan has read every byte.
    var isAtEnd: Bool { index == bytes.count }

    // MARK: Grammar (the parser reads tokens through these same checks)

    mutating func skipValue() throws(JSONParseError) {
        guard index < bytes.count else { throw error(.unexpectedEnd, at: index) }
        switch bytes[index] {
        case UInt8(ascii: "{"):
            var unused: [JSONMemberSpan] = []
            var none: ObjectMembers?
            try scanObject(into: &unused, record: false, checkNamesLater: false, nested: &none)
        case UInt8(ascii: "["): try skipArray()
        case UInt8(ascii: "\""): _ = try skipString()
        case UInt8(ascii: "t"): try expectLiteral("true")
        case UInt8(ascii: "f"): try expectLiteral("false")
        case UInt8(ascii: "n"): try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try skipNumber()
        default: throw unexpected()
        }
    }

    /// Scans an object, its members' spans going to `spans` when `record` is set (else to `names`).
    /// Names are checked for duplicates when the object ends, as the parser does, unless the caller
    /// checks them later. The object member `nestedName` has its members recorded in `nested`.
    private mutating func scanObject(
        into spans: inout [JSONMemberSpan], record: Bool, checkNamesLater: Bool, nested: inout ObjectMembers?
    ) throws(JSONParseError) {
        let base = record ? spans.count : names.count
        try open()
        if try closes(UInt8(ascii: "}")) { return }
        repeat {
            let nameStart = try expectName() + 1
            let escaped = try skipString()
            let name = nameStart..<(index - 1)
            try expectColon()
            let valueStart = index
            if record, let wanted = nestedName, peek() == UInt8(ascii: "{"), !escaped, isName(name, wanted) {
                nestedName = nil
                nested = try recordObject()
                nestedName = wanted
            } else {
                try skipValue()
            }
            let span = JSONMemberSpan(name: name, nameIsEscaped: escaped, value: valueStart..<index)
            if record { spans.append(span) } else { names.append(span) }
        } while try continues(closing: UInt8(ascii: "}"))
        if !checkNamesLater {
            if record { _ = try checkNames(spans[base...]) } else { _ = try checkNames(names[base...]); names.removeSubrange(base...) }
        }
    }

    /// Refuses a name given twice among one object's members, at the later one; true when the names
    /// are in strictly increasing byte order (as RFC 8785 writes them). Names are compared as the
    /// parser's dictionaries compare them, as text (Unicode canonical equivalence: "é" and
    /// "e\u{301}" are one name, and "K" and U+212A KELVIN SIGN), so ASCII names in byte order cannot
    /// repeat; any others are looked at.
    private func checkNames(_ members: ArraySlice<JSONMemberSpan>) throws(JSONParseError) -> Bool {
        // (An escaped name is never taken as ordered: its bytes are not its text. The loop checks
        // each name of a pair; a lone name is checked here.)
        var ordered = !(members.first?.nameIsEscaped ?? false)
        var i = members.startIndex + 1
        while ordered, i < members.endIndex {
            ordered = !members[i - 1].nameIsEscaped && !members[i].nameIsEscaped && precedes(members[i - 1].name, members[i].name)
            i += 1
        }
        if ordered && (asciiDocument || members.allSatisfy({ isASCII($0.name) })) { return true }
        var seen = Set<String>()
        for m in members where !seen.insert(text(ofString: m.name, escaped: m.nameIsEscaped)).inserted {
            throw error(.duplicateKey(text(ofString: m.name, escaped: m.nameIsEscaped)), at: m.name.lowerBound - 1)
        }
        return ordered
    }

    /// Whether the bytes at `range` are all ASCII (eight at a time).
    private func isASCII(_ range: Range<Int>) -> Bool {
        let p = bytes.baseAddress!
        var i = range.lowerBound, any: UInt64 = 0
        while i + 8 <= range.upperBound {
            any |= UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)
            i += 8
        }
        while i < range.upperBound {
            any |= UInt64(p[i])
            i += 1
        }
        return any & 0x8080_8080_8080_8080 == 0
    }

    private func isName(_ range: Range<Int>, _ name: StaticString) -> Bool {
        range.count == name.utf8CodeUnitCount && bytesEqual(bytes.baseAddress! + range.lowerBound, name.utf8Start, range.count)
    }

    private func precedes(_ a: Range<Int>, _ b: Range<Int>) -> Bool {
        compareBytes(bytes.baseAddress! + a.lowerBound, a.count, bytes.baseAddress! + b.lowerBound, b.count) < 0
    }

    private func text(ofString range: Range<Int>, escaped: Bool) -> String {
        escaped ? JSONParser.string(in: Array(bytes), openingQuoteAt: range.lowerBound - 1) ?? "" : String(decoding: bytes[range], as: UTF8.self)
    }

    private mutating func skipArray() throws(JSONParseError) {
        try open()
        if try closes(UInt8(ascii: "]")) { return }
        repeat {
            skipWhitespace()
            try skipValue()
        } while try continues(closing: UInt8(ascii: "]"))
    }

    // MARK: The steps of objects and arrays (shared with the parser, which builds as it goes)

    /// Enters the object or array whose bracket is at `index`.
    @inline(__always)
    mutating func open() throws(JSONParseError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw error(.tooDeep, at: index) }
        index += 1
        skipWhitespace()
    }

    /// Leaves the object or array just opened if it is empty (`closing` next).
    @inline(__always)
    mutating func closes(_ closing: UInt8) throws(JSONParseError) -> Bool {
        guard peek() == closing else { return false }
        index += 1
        depth -= 1
        return true
    }

    /// After a member or element: true at a comma (another follows), false at `closing` (left).
    @inline(__always)
    mutating func continues(closing: UInt8) throws(JSONParseError) -> Bool {
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: ","):
            index += 1
            return true
        case closing:
            index += 1
            depth -= 1
            return false
        case nil: throw error(.unexpectedEnd, at: index)
        default: throw unexpected()
        }
    }

    /// A member's name must come next: where its opening quote is.
    @inline(__always)
    mutating func expectName() throws(JSONParseError) -> Int {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw index < bytes.count ? unexpected() : error(.unexpectedEnd, at: index) }
        return index
    }

    /// The colon after a member's name, and the space around it.
    @inline(__always)
    mutating func expectColon() throws(JSONParseError) {
        skipWhitespace()
        guard peek() == UInt8(ascii: ":") else { throw index < bytes.count ? unexpected() : error(.unexpectedEnd, at: index) }
        index += 1
        skipWhitespace()
    }

    /// Skips a string, checking its escapes; true when it holds one.
    mutating func skipString() throws(JSONParseError) -> Bool {
        index += 1  // opening quote
        var escaped = false
        while index < bytes.count {
            // Past the bytes that are none of a quote, a backslash or a control character.
            index = skipPlainStringBytes(bytes, from: index)
            guard index < bytes.count else { break }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                index += 1
                return escaped
            case UInt8(ascii: "\\"):
                escaped = true
                let escapeOffset = index
                index += 1
                guard index < bytes.count else { throw error(.unexpectedEnd, at: index) }
                let e = bytes[index]
                index += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                    UInt8(ascii: "r"), UInt8(ascii: "t"):
                    break
                case UInt8(ascii: "u"):
                    let code = try hex4(escapeOffset: escapeOffset)
                    if (0xD800...0xDBFF).contains(code) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw error(.loneSurrogate, at: escapeOffset)
                        }
                        index += 2
                        let low = try hex4(escapeOffset: escapeOffset)
                        guard (0xDC00...0xDFFF).contains(low) else { throw error(.loneSurrogate, at: escapeOffset) }
                    } else if (0xDC00...0xDFFF).contains(code) {
                        throw error(.loneSurrogate, at: escapeOffset)
                    }
                default:
                    throw error(.invalidEscape, at: escapeOffset)
                }
            default:
                if b < 0x20 { throw error(.controlCharacterInString, at: index) }
                index += 1
            }
        }
        throw error(.unexpectedEnd, at: index)
    }

    private mutating func hex4(escapeOffset: Int) throws(JSONParseError) -> UInt32 {
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

    /// Skips a number, checking it.
    mutating func skipNumber() throws(JSONParseError) {
        let start = index
        func isDigit(_ b: UInt8?) -> Bool { b.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if peek() == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        if peek() == UInt8(ascii: "0") {
            index += 1
            if isDigit(peek()) { throw error(.invalidNumber, at: start) }
        } else if isDigit(peek()) {
            while isDigit(peek()) { index += 1 }
        } else {
            throw error(.invalidNumber, at: start)
        }
        let integerDigits = index - integerStart
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard isDigit(peek()) else { throw error(.invalidNumber, at: start) }
            while isDigit(peek()) { index += 1 }
        }
        var exponent = false
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            exponent = true
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard isDigit(peek()) else { throw error(.invalidNumber, at: start) }
            while isDigit(peek()) { index += 1 }
        }
        // Without an exponent, fewer than 309 integer digits stay below the largest double.
        if exponent || integerDigits > 300 {
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else { throw error(.invalidNumber, at: start) }
            guard value.isFinite else { throw error(.numberOutOfRange, at: start) }
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw error(.unexpectedEnd, at: bytes.count) }
        for i in 0..<count where bytes[index + i] != literal.utf8Start[i] {
            throw error(.unexpectedCharacter(JSONParseError.character(at: index + i, in: bytes)), at: index + i)
        }
        index += count
    }

    @inline(__always)
    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func unexpected() -> JSONParseError {
        error(.unexpectedCharacter(JSONParseError.character(at: index, in: bytes)), at: index)
    }

    func error(_ reason: JSONParseError.Reason, at offset: Int) -> JSONParseError {
        JSONParseError(reason, at: offset, in: bytes)
    }
}

/// The value of a number the scanner has checked, when it has at most 15 significant digits and
/// no exponent: then both its digits and the power of ten dividing them are exact doubles, and one
/// division rounds correctly (Clinger's fast path), as `strtod` would. Nil for any other number.
@inline(__always)
func shortDecimal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
    guard range.count <= 17 else { return nil }
    var i = range.lowerBound
    let negative = bytes[i] == UInt8(ascii: "-")
    if negative { i += 1 }
    var digits = 0, value = 0, fractionDigits = 0, inFraction = false
    while i < range.upperBound {
        let b = bytes[i]
        if b == UInt8(ascii: ".") {
            inFraction = true
        } else {
            let d = b &- UInt8(ascii: "0")
            if d > 9 { return nil }  // an exponent
            value = value &* 10 &+ Int(d)
            digits += 1
            if inFraction { fractionDigits += 1 }
        }
        i += 1
    }
    guard digits <= 15 else { return nil }
    let magnitude = fractionDigits == 0 ? Double(value) : Double(value) / exactPowersOfTen[fractionDigits]
    return negative ? -magnitude : magnitude
}

/// 10^0 through 10^15, each exact in a double.
private let exactPowersOfTen: [Double] = (0...15).map { k in (0..<k).reduce(1.0) { r, _ in r * 10 } }

/// Byte order of two byte strings (memcmp, then the shorter first): <0, 0 or >0.
/// (Names are short: a loop, not a call to memcmp.)
@inline(__always)
func compareBytes(_ a: UnsafePointer<UInt8>, _ aCount: Int, _ b: UnsafePointer<UInt8>, _ bCount: Int) -> Int {
    let n = min(aCount, bCount)
    var i = 0
    while i < n {
        if a[i] != b[i] { return Int(a[i]) - Int(b[i]) }
        i += 1
    }
    return aCount - bCount
}

/// Whether `count` bytes at `a` and at `b` are equal: eight at a time, then one at a time (the
/// names, keys and short values compared here are a few words long: no call to memcmp).
@inline(__always) @usableFromInline
func bytesEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    var i = 0
    while i + 8 <= count {
        if UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self) != UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self) { return false }
        i += 8
    }
    while i < count {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
