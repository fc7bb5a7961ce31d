/// The bounds of one event's canonical bytes, a line of a bundle's events.jsonl: the recorder
/// appends nothing larger, and both bundle verifiers refuse a line past them unread
/// (docs/evidence-bundle.md §4). What parsing a line costs grows with its values, not only its
/// bytes: a 16 MiB line of `[0,0,...]` took 285 MB to parse as a tree, one of 262,144 values ~20.
public enum EventLine {
    /// 16 MiB, the newline not counted.
    public static let maximumBytes = 16 << 20
    /// As `jsonValueCount` counts them.
    public static let maximumValues = 1 << 18
    /// Objects and arrays nested at most this deep, the event's own object level 1 (as
    /// `jsonNestingDepth` counts): what every reader parses (`JSONParser.maximumDepth`).
    public static let maximumDepth = JSONParser.maximumDepth
}

/// Where the string opened by the quote at `open` closes: the next quote not escaped by a
/// backslash; nil when none does.
private func closingQuote(_ bytes: UnsafeRawBufferPointer, after open: Int) -> Int? {
    var j = open + 1
    while j < bytes.count, bytes[j] != UInt8(ascii: "\"") { j += bytes[j] == UInt8(ascii: "\\") ? 2 : 1 }
    return j < bytes.count ? j : nil
}

/// How deep objects and arrays nest in `bytes` (the outermost level 1; 0 for a scalar), counted
/// without parsing: strings, from a quote to the next unescaped one, are skipped.
public func jsonNestingDepth(_ bytes: UnsafeRawBufferPointer) -> Int {
    var depth = 0, deepest = 0, i = 0
    let n = bytes.count
    while i < n {
        switch bytes[i] {
        case UInt8(ascii: "\""):
            i = closingQuote(bytes, after: i) ?? n
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            deepest = max(deepest, depth)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            depth -= 1
        default: break
        }
        i += 1
    }
    return deepest
}

/// The JSON values in `bytes` (docs/evidence-bundle.md §4, step 1; docs/log-format.md): each string that is not a
/// member name, each object and array, and each run of other bytes between `{}[],:`, quotes and
/// white space (a number or a literal). Counted by tokens, without parsing: strings end at the
/// next unescaped quote. Both verifiers count the same way.
public func jsonValueCount(_ bytes: UnsafeRawBufferPointer) -> Int {
    var count = 0, i = 0
    let n = bytes.count
    func isDelimiter(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "\""),
            0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C:
            return true
        default: return false
        }
    }
    while i < n {
        switch bytes[i] {
        case UInt8(ascii: "\""):
            // A string to its closing quote; one left open is not a string (as a regular expression
            // that finds strings leaves it), and the quote alone is a delimiter.
            if let j = closingQuote(bytes, after: i) {
                count += 1
                i = j + 1
            } else {
                i += 1
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            count += 1
            i += 1
        case UInt8(ascii: ":"):
            count -= 1  // the string before it was a member name
            i += 1
        case let b where isDelimiter(b):
            i += 1
        default:
            count += 1
            while i < n, !isDelimiter(bytes[i]) { i += 1 }
        }
    }
    return count
}
