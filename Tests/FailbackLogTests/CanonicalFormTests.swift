import Foundation
import Testing
@testable import FailbackLog

/// `CanonicalJSON.isCanonical` (one pass, no values) says what parsing and writing again says:
/// the bytes are canonical exactly when `encode(parse(bytes)) == bytes`.
@Suite struct CanonicalFormTests {
    /// The reference: parse, write again, compare.
    static func reference(_ bytes: [UInt8]) -> Bool {
        guard let value = try? JSONParser.parse(bytes) else { return false }
        return CanonicalJSON.encode(value) == bytes
    }

    /// Known answers, each with why.
    @Test(arguments: [
        (#"{"a":1}"#, true),
        (#"{"a": 1}"#, false),  // whitespace
        (#" {"a":1}"#, false),
        (#"{"a":1} "#, false),
        (#"{"b":1,"a":2}"#, false),  // out of order
        (#"{"a":1,"a":2}"#, false),  // a name twice
        (#"{"a":1,"\u0061":2}"#, false),  // `a` escaped: not canonical, and a name twice
        (#""\u001f""#, true),
        (#""\u001F""#, false),  // uppercase hex
        (#""\u0008""#, false),  // U+0008 is written \b
        (#""\b\t\n\f\r\"\\""#, true),
        (#""\/""#, false),  // `/` is not escaped
        (#""\u0041""#, false),
        (#""\u007f""#, false),  // DEL is written as itself
        ("\"\u{7F}\u{2028}é😀\"", true),
        (#""\u00e9""#, false),
        ("\"\u{1}\"", false),  // a raw control character
        (#"0"#, true),
        (#"-0"#, false),  // -0 is written 0
        (#"-1"#, true),
        (#"01"#, false),
        (#"1.0"#, false),
        (#"1.5"#, true),
        (#".5"#, false),
        (#"0.5"#, true),
        (#"1e+21"#, true),
        (#"1e21"#, false),
        (#"1E+21"#, false),
        (#"100000000000000000000"#, true),  // 1e20 is written out
        (#"1e+20"#, false),
        (#"0.000001"#, true),
        (#"1e-7"#, true),
        (#"0.0000001"#, false),
        (#"9007199254740992"#, true),
        (#"9007199254740993"#, false),  // not a double: 9007199254740992
        (#"123456789012345"#, true),  // 15 digits: the short path
        (#"1234567890123456"#, true),  // 16 digits: read and written again
        (#"1e400"#, false),  // out of range
        (#"[1,2]"#, true),
        (#"[1, 2]"#, false),
        (#"[]"#, true),
        (#"{}"#, true),
        (#"true"#, true),
        (#"tru"#, false),
        (#"nul"#, false),
        (#""#, false),
        // UTF-16 order: U+1F600 (D83D DE00) before U+E000, though its UTF-8 (F0…) is after (EE…).
        ("{\"😀\":1,\"\u{E000}\":2}", true),
        ("{\"\u{E000}\":1,\"😀\":2}", false),
        // Escaped names order by what they stand for: `"` (0x22) before `#` (0x23).
        (##"{"\"":1,"#":2}"##, true),
        (##"{"#":1,"\"":2}"##, false),
        ("{\"\\n\":1,\"\u{1}\":2}", false),
        (#"{"\u0001":1,"\n":2}"#, true),  // 0x01 before 0x0A, though `u` is after `n`
        (#"{"\n":1,"\u0001":2}"#, false),
        // One text to the parser (canonical equivalence): e + U+0301 and é; K and U+212A.
        ("{\"e\u{301}\":1,\"é\":2}", false),
        ("{\"K\":1,\"\u{212A}\":2}", false),
        ("{\"e\":1,\"é\":2}", true),
    ])
    func knownAnswers(text: String, canonical: Bool) {
        let bytes = Array(text.utf8)
        #expect(Self.reference(bytes) == canonical, "the reference on \(text)")
        #expect(CanonicalJSON.isCanonical(bytes) == canonical, "\(text)")
    }

    /// Random values written canonically are canonical; each broken or edited (a byte removed,
    /// replaced, a space put in, two bytes swapped, cut short) is judged as the reference judges it.
    @Test func agreesWithParsingAndWritingAgain() {
        var rng = SplitMix64(seed: 1_2_8785)
        let specials: [UInt8] = Array("\"\\{}[],:-+.eE0159 \tnu\u{1}x/".utf8) + [0x80, 0xC3, 0xA9, 0xED, 0xF0]
        var canonical = 0, not = 0
        for _ in 0..<2_000 {
            let value = randomJSON(&rng, depth: 0)
            let bytes = CanonicalJSON.encode(value)
            #expect(CanonicalJSON.isCanonical(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            for _ in 0..<8 {
                var edited = bytes
                let at = Int(rng.next() % UInt64(max(edited.count, 1)))
                switch rng.next() % 5 {
                case 0: if !edited.isEmpty { edited.remove(at: at) }
                case 1: if !edited.isEmpty { edited[at] = specials[Int(rng.next() % UInt64(specials.count))] }
                case 2: edited.insert(specials[Int(rng.next() % UInt64(specials.count))], at: at)
                case 3: if at + 1 < edited.count { edited.swapAt(at, at + 1) }
                default: edited = Array(edited[..<at])
                }
                let expected = Self.reference(edited)
                #expect(CanonicalJSON.isCanonical(edited) == expected, "\(String(decoding: edited, as: UTF8.self).debugDescription)")
                if expected { canonical += 1 } else { not += 1 }
            }
        }
        // Both answers are exercised.
        #expect(canonical > 500)
        #expect(not > 5_000)
    }

    /// Nested as deep as the parser reads, and one level more.
    @Test func depthIsTheParsers() {
        let limit = JSONParser.maximumDepth
        let deepest = Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8)
        let deeper = Array((String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)).utf8)
        #expect(CanonicalJSON.isCanonical(deepest) && Self.reference(deepest))
        #expect(!CanonicalJSON.isCanonical(deeper) && !Self.reference(deeper))
    }

    /// Numbers of every form ECMAScript prints (the 5,024 vectors), and each with a digit changed
    /// form (an extra trailing zero, an uppercase E): the checker and the reference agree.
    @Test func numbersAsECMAScriptPrintsThem() throws {
        let text = try String(contentsOfFile: vectorsPath("es6-numbers.txt"), encoding: .utf8)
        for line in text.split(separator: "\n") {
            let printed = String(line.split(separator: ",")[1])
            #expect(CanonicalJSON.isCanonical(Array(printed.utf8)), "\(printed)")
            for variant in [printed + "0", printed.replacingOccurrences(of: "e", with: "E"), "-" + printed, printed + ".0"] {
                let bytes = Array(variant.utf8)
                #expect(CanonicalJSON.isCanonical(bytes) == Self.reference(bytes), "\(variant)")
            }
        }
    }
}
