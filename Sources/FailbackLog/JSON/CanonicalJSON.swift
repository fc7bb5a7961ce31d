/// RFC 8785 (JSON Canonicalization Scheme): the one byte sequence of a JSON value that the log hashes.
///
/// - objects: members sorted by their names' UTF-16 code units, no whitespace;
/// - strings: UTF-8, with only `"`, `\` and U+0000–U+001F escaped (`\b \t \n \f \r`, else `\u00xx` lowercase);
/// - numbers: ECMAScript `Number.prototype.toString` of the double (shortest round-trip digits).
public enum CanonicalJSON {
    /// The canonical bytes of `value`.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    /// The canonical text of `value` (the same bytes as `encode`, as a String).
    public static func string(_ value: JSONValue) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Appends the canonical bytes of `value` to `out`.
    public static func write(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(true): out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
        case .bool(false): out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .number(let d): writeNumber(d, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, key) in sortedKeys(members).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Member names in RFC 8785 order: by UTF-16 code units, not by scalars or UTF-8 bytes.
    static func sortedKeys(_ members: [String: JSONValue]) -> [String] {
        let keys = Array(members.keys)
        // For ASCII names (the common case) Swift's String order is code-unit order already.
        if keys.allSatisfy({ $0.utf8.allSatisfy { $0 < 0x80 } }) { return keys.sorted() }
        return keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { bytes in
            // Copy runs that need no escape in one go; escape the rest.
            var runStart = 0
            for (i, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                runStart = i + 1
                switch b {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex.utf8Start[Int(b >> 4)], hex.utf8Start[Int(b & 0xF)]])
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ECMAScript Number::toString for a finite double (ECMA-262, 7.1.12.1), as RFC 8785 §3.2.2.3 requires.
    /// Non-finite values are not JSON; callers never hold them (the parser and the domain reject them).
    static func writeNumber(_ d: Double, into out: inout [UInt8]) {
        precondition(d.isFinite, "RFC 8785 has no form for NaN or infinity")
        if d == 0 { out.append(UInt8(ascii: "0")); return }  // also -0
        // Integers below 2^53 print exactly as their decimal digits (and below 1e21 without an exponent).
        if d == d.rounded(.towardZero), abs(d) < 9_007_199_254_740_992 {
            out.append(contentsOf: String(Int64(d)).utf8)
            return
        }
        if d < 0 { out.append(UInt8(ascii: "-")) }
        let (digits, n) = shortestDigits(abs(d))
        let k = digits.count
        if k <= n && n <= 21 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: n - k))
        } else if 0 < n && n <= 21 {
            out.append(contentsOf: digits[0..<n])
            out.append(UInt8(ascii: "."))
            out.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            out.append(contentsOf: [UInt8(ascii: "0"), UInt8(ascii: ".")])
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -n))
            out.append(contentsOf: digits)
        } else {
            out.append(digits[0])
            if k > 1 {
                out.append(UInt8(ascii: "."))
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            out.append(n - 1 >= 0 ? UInt8(ascii: "+") : UInt8(ascii: "-"))
            out.append(contentsOf: String(abs(n - 1)).utf8)
        }
    }

    /// The shortest decimal digits `s` (no leading or trailing zeros) and exponent `n` with
    /// `d == 0.s × 10^n` that round-trip to `d`. Swift's `description` of a Double is the shortest
    /// round-tripping form, closest to the exact value among those (SwiftDtoa), which is the digit
    /// string ECMAScript asks for; only its layout differs, so it is re-laid here.
    static func shortestDigits(_ d: Double) -> (digits: [UInt8], exponent: Int) {
        let text = Array(d.description.utf8)
        var mantissa: [UInt8] = []
        var pointPosition: Int?
        var exponent = 0
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == UInt8(ascii: ".") {
                pointPosition = mantissa.count
            } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                exponent = Int(String(decoding: text[(i + 1)...], as: UTF8.self))!
                break
            } else {
                mantissa.append(c)
            }
            i += 1
        }
        // Value = 0.mantissa × 10^(point + exponent)
        var n = (pointPosition ?? mantissa.count) + exponent
        var start = 0
        while start < mantissa.count - 1, mantissa[start] == UInt8(ascii: "0") {
            start += 1
            n -= 1
        }
        var end = mantissa.count
        while end > start + 1, mantissa[end - 1] == UInt8(ascii: "0") { end -= 1 }
        return (Array(mantissa[start..<end]), n)
    }
}
