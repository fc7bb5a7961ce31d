#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One JSON value read in place, in a document already validated: typed reads decode only it.
public struct JSONValueView: Sendable, Equatable {
    public let document: [UInt8]
    /// The value's bytes in `document`.
    public let range: Range<Int>

    init(document: [UInt8], range: Range<Int>) {
        self.document = document
        self.range = range
    }

    private var first: UInt8 { document[range.lowerBound] }

    public var bool: Bool? { document.withUnsafeBufferPointer { Self.bool(in: $0, range) } }

    public var string: String? { document.withUnsafeBufferPointer { Self.string(in: $0, range, of: document) } }

    public var number: Double? { document.withUnsafeBufferPointer { Self.number(in: $0, range) } }

    // The decoders, over the bytes (shared by the views, by `JSONObjectView`'s member reads, and by
    // readers that walk a validated object's members themselves, `EnvelopeLine.payload`).

    public static func bool(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool? {
        switch doc[range.lowerBound] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }

    static func string(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, of document: [UInt8]) -> String? {
        if let plain = plainString(in: doc, range) { return plain }
        guard doc[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return JSONParser.string(in: document, openingQuoteAt: range.lowerBound)
    }

    /// The text of a string value with no escape in it; nil for any other value, and for a string
    /// with an escape (a reader that wants those reads them the general way).
    public static func plainString(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        guard doc[range.lowerBound] == UInt8(ascii: "\""), range.count >= 2 else { return nil }
        let inner = UnsafeBufferPointer(rebasing: doc[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if inner.isEmpty { return "" }
        guard memchr(inner.baseAddress!, Int32(UInt8(ascii: "\\")), inner.count) == nil else { return nil }
        return String(decoding: inner, as: UTF8.self)
    }

    public static func number(in doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Double? {
        let b = doc[range.lowerBound]
        guard b == UInt8(ascii: "-") || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) else { return nil }
        if let value = shortDecimal(doc, range) { return value }
        return Double(String(decoding: UnsafeBufferPointer(rebasing: doc[range]), as: UTF8.self))
    }

    public static func integer(exactly d: Double?) -> Int? {
        // Within ±(2^53 − 1) a double converts to Int exactly when it has no fraction (NaN fails
        // the range test); this asks no libm `round` per envelope number.
        guard let d, abs(d) <= 9_007_199_254_740_991 else { return nil }
        let i = Int(d)
        return Double(i) == d ? i : nil
    }

    /// The number as an integer, when it is one exactly (as `JSONValue.integerValue`).
    public var integer: Int? { Self.integer(exactly: number) }

    public var object: JSONObjectView? {
        guard first == UInt8(ascii: "{") else { return nil }
        return JSONObjectView(document: document, range: range, members: JSONScanner.members(ofObjectIn: document, at: range))
    }

    public var elements: [JSONValueView]? {
        guard first == UInt8(ascii: "[") else { return nil }
        return JSONScanner.elements(ofArrayIn: document, at: range).map { JSONValueView(document: document, range: $0) }
    }

    /// The value as a tree (parsed now).
    public var value: JSONValue { JSONParser.value(in: document, at: range.lowerBound) ?? .null }
}

/// A JSON object read in place: where its members are in a validated document, and each member
/// decoded only when asked for. Stored events are read this way (no tree, no dictionary).
public struct JSONObjectView: Sendable, Equatable {
    public let document: [UInt8]
    /// The object's bytes in `document`.
    public let range: Range<Int>
    public let members: [JSONMemberSpan]
    /// Names in strictly increasing byte order, none escaped (RFC 8785's order): searched by halves.
    let ascending: Bool
    /// A bit for each member's name (`JSONScanner.nameBit`): a name without its bit is absent.
    let names: UInt64

    init(document: [UInt8], range: Range<Int>, members: JSONScanner.ObjectMembers) {
        self.document = document
        self.range = range
        self.members = members.spans
        self.ascending = members.ascending
        self.names = members.names
    }

    /// Views a value built in memory (through its canonical bytes); a non-object has no members.
    public init(_ value: JSONValue) {
        let bytes = CanonicalJSON.encode(value)
        self.init(document: bytes, range: 0..<bytes.count, members: (try? JSONScanner.members(ofDocument: bytes).members) ?? .init())
    }

    /// The member named `name`, or nil.
    public subscript(name: String) -> JSONValueView? {
        var name = name
        guard let i = name.withUTF8({ wanted in document.withUnsafeBufferPointer { index(of: wanted, in: $0) } }) else { return nil }
        return JSONValueView(document: document, range: members[i].value)
    }

    // Typed reads of one member, with no view made (nil: absent or of another type).

    /// Reads the member `name`'s bytes with `decode`; nil when there is no such member. (`decode`
    /// is handed the document rather than capturing it: a capture would retain it on every read.)
    private func read<T>(_ name: String, _ decode: (UnsafeBufferPointer<UInt8>, Range<Int>, [UInt8]) -> T?) -> T? {
        var name = name
        return name.withUTF8 { wanted in
            document.withUnsafeBufferPointer { doc in
                guard let i = index(of: wanted, in: doc) else { return nil }
                return decode(doc, members[i].value, document)
            }
        }
    }

    public func string(_ name: String) -> String? { read(name) { JSONValueView.string(in: $0, $1, of: $2) } }
    public func number(_ name: String) -> Double? { read(name) { doc, range, _ in JSONValueView.number(in: doc, range) } }
    public func integer(_ name: String) -> Int? { read(name) { doc, range, _ in JSONValueView.integer(exactly: JSONValueView.number(in: doc, range)) } }
    public func bool(_ name: String) -> Bool? { read(name) { doc, range, _ in JSONValueView.bool(in: doc, range) } }
    /// True when the member is present and not null.
    public func has(_ name: String) -> Bool { read(name) { doc, range, _ in doc[range.lowerBound] != UInt8(ascii: "n") ? true : nil } ?? false }

    // Reads of an optional member, found once: nil when it is absent or null, `.some(nil)` when it
    // holds a value of another type.

    public func stringIfPresent(_ name: String) -> String?? { readIfPresent(name) { JSONValueView.string(in: $0, $1, of: $2) } }
    public func integerIfPresent(_ name: String) -> Int?? {
        readIfPresent(name) { doc, range, _ in JSONValueView.integer(exactly: JSONValueView.number(in: doc, range)) }
    }
    public func boolIfPresent(_ name: String) -> Bool?? { readIfPresent(name) { doc, range, _ in JSONValueView.bool(in: doc, range) } }

    private func readIfPresent<T>(_ name: String, _ decode: (UnsafeBufferPointer<UInt8>, Range<Int>, [UInt8]) -> T?) -> T?? {
        read(name) { doc, range, document -> T?? in doc[range.lowerBound] == UInt8(ascii: "n") ? nil : .some(decode(doc, range, document)) } ?? nil
    }

    /// The index of the member whose name's UTF-8 is `wanted` (`doc`: the document's bytes).
    func index(of wanted: UnsafeBufferPointer<UInt8>, in doc: UnsafeBufferPointer<UInt8>) -> Int? {
        let base = doc.baseAddress!
        let w = wanted.baseAddress ?? base
        if names & JSONScanner.nameBit(w, wanted.count) == 0 { return nil }
        // Few members (most payloads): one look along them, bytes compared only where the
        // lengths agree.
        if ascending && members.count <= 8 {
            for i in members.indices {
                let name = members[i].name
                if name.count == wanted.count && bytesEqual(base + name.lowerBound, w, wanted.count) { return i }
            }
            return nil
        }
        if ascending {
            var low = 0, high = members.count
            while low < high {
                let mid = (low + high) / 2
                let name = members[mid].name
                let order = compareBytes(base + name.lowerBound, name.count, w, wanted.count)
                if order == 0 { return mid }
                if order < 0 { low = mid + 1 } else { high = mid }
            }
            return nil
        }
        for (i, span) in members.enumerated() {
            if span.nameIsEscaped {
                if JSONParser.string(in: document, openingQuoteAt: span.name.lowerBound - 1) == String(decoding: wanted, as: UTF8.self) { return i }
            } else if compareBytes(base + span.name.lowerBound, span.name.count, w, wanted.count) == 0 {
                return i
            }
        }
        return nil
    }

    /// The object as a tree (parsed now).
    public var value: JSONValue { JSONParser.value(in: document, at: range.lowerBound) ?? .object([:]) }
}
