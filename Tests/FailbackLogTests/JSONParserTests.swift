import Testing
@testable import FailbackLog

@Suite struct JSONParserTests {
    @Test(arguments: [
        ("{\"a\": 1,}", "line 1, column 9: unexpected character \"}\""),
        ("{\"a\": 1, \"a\": 2}", "line 1, column 10: duplicate object key \"a\""),
        ("[1, 2\n, 03]", "line 2, column 3: malformed number"),
        ("\"\\ud800\"", "line 1, column 2: lone UTF-16 surrogate in \\u escape"),
        ("\"\\udc00x\"", "line 1, column 2: lone UTF-16 surrogate in \\u escape"),
        ("\"a\tb\"", "line 1, column 3: unescaped control character in string"),
        ("[1e999]", "line 1, column 2: number out of the IEEE-754 double range"),
        ("{} x", "line 1, column 4: unexpected content after the JSON value"),
        ("{\"a\":\n  [tru]}", "line 2, column 7: unexpected character \"]\""),
        ("[\"\\x\"]", "line 1, column 3: invalid escape sequence"),
        ("", "line 1, column 1: unexpected end of input"),
        ("[1.]", "line 1, column 2: malformed number"),
    ])
    func rejectsWithPosition(input: String, message: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
        do { _ = try JSONParser.parse(input) } catch { #expect(error.description == message) }
    }

    @Test func rejectsInvalidUTF8WithOffset() {
        let bytes: [UInt8] = Array("{\"a\":\n \"x".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        do {
            _ = try JSONParser.parse(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.reason == .invalidUTF8)
            #expect(error.offset == 9)
            #expect(error.line == 2)
        }
    }

    @Test(arguments: [
        [0xC0, 0x80] as [UInt8],  // overlong NUL
        [0xED, 0xA0, 0x80],  // UTF-8-encoded surrogate
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE2, 0x82],  // truncated
        [0xFF],
    ])
    func utf8ValidatorRejectsIllFormedSequences(bytes: [UInt8]) {
        #expect(firstInvalidUTF8Offset([0x41] + bytes) == 1)
    }

    @Test func utf8ValidatorAcceptsWellFormedText() {
        #expect(firstInvalidUTF8Offset(Array("aé€😀\u{10FFFF}".utf8)) == nil)
    }

    @Test func refusesExcessiveNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        do { _ = try JSONParser.parse(deep) } catch { #expect(error.reason == .tooDeep) }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONParser.parse(#"["\ud83d\ude00\u00e9\n\/"]"#) == .array([.string("😀é\n/")]))
    }

    @Test func utf8ValidatorFindsTheOffsetPastRunsOfASCII() {
        // The validator skips ASCII 32 and eight bytes at a time: a bad byte at any place of a run
        // is found, and a run of any length ends where the bytes end.
        for prefix in 0..<80 {
            #expect(firstInvalidUTF8Offset(Array(repeating: 0x61, count: prefix) + [0xC3, 0x28] + Array(repeating: 0x61, count: 9)) == prefix)
            #expect(firstInvalidUTF8Offset(Array(repeating: 0x61, count: prefix)) == nil)
            #expect(firstInvalidUTF8Offset(Array(repeating: 0x61, count: prefix) + Array("é".utf8)) == nil)
        }
    }

    /// A number is read as an integer exactly when it is a whole number within ±(2^53 − 1): the
    /// same answer as rounding it and comparing, on edge cases and random doubles.
    @Test func integersAreTheWholeNumbersWithinI_JSONRange() {
        func reference(_ d: Double) -> Int? { d == d.rounded() && abs(d) <= 9_007_199_254_740_991 ? Int(d) : nil }
        var cases: [Double] = [
            0, -0.0, 1, -1, 0.5, -0.5, 1.5, 9_007_199_254_740_991, -9_007_199_254_740_991, 9_007_199_254_740_992, 4_503_599_627_370_495.5,
            1e300, -1e300, .nan, .infinity, -.infinity, .ulpOfOne, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let whole = Double(Int64.random(in: -(1 << 54)...(1 << 54), using: &rng))
            cases += [whole, whole + Double.random(in: -1..<1, using: &rng), Double(bitPattern: rng.next())]
        }
        let firstWrong = Array(cases.lazy.filter { JSONValueView.integer(exactly: $0) != reference($0) }.prefix(5))
        #expect(firstWrong.isEmpty)
        #expect(JSONValueView.integer(exactly: nil) == nil)
    }

    /// The validator finds what the standard library's UTF-8 decoder finds, at the same offset,
    /// in random bytes: mostly ASCII, some well-formed multi-byte characters, some stray bytes.
    @Test func utf8ValidatorAgreesWithTheStandardDecoder() {
        var random = SystemRandomNumberGenerator()
        let pieces: [[UInt8]] = [Array("é".utf8), Array("€".utf8), Array("😀".utf8), [0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF]]
        for _ in 0..<5_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                bytes += Array(repeating: UInt8.random(in: 0x20...0x7E, using: &random), count: Int.random(in: 0...70, using: &random))
                if Bool.random(using: &random) { bytes += pieces.randomElement(using: &random)! }
            }
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var offset = 0, expected: Int?
            decoding: while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let scalar): offset += scalar.count
                case .error: expected = offset; break decoding
                case .emptyInput: break decoding
                }
            }
            #expect(firstInvalidUTF8Offset(bytes) == expected, "\(bytes)")
        }
    }

    @Test func numbersReadAsStrtodReadsThem() throws {
        // Numbers of up to 15 digits and no exponent take a fast path; anything else goes through
        // strtod. Both readers (the parser and the in-place view) must give strtod's double, bit for bit.
        var texts = [
            "0", "-0", "7", "-7", "123456789012345", "-999999999999999", "1234567890123456", "9007199254740993",
            "12345678901234567890", "1.5", "-0.0", "1e3", "100", "4503599627370497", "0.1", "0.3", "-0.000000000000001",
            "0.000000000000000001", "9.99999999999999", "123456.789012345", "1234567.8901234567", "2.5E-3", "0.7e1",
        ]
        // Short decimals at random: every split of up to 17 digits around the point.
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let digits = String((0..<Int.random(in: 1...17, using: &random)).map { _ in Character(String(Int.random(in: 0...9, using: &random))) })
            let integer = digits.prefix(Int.random(in: 1...digits.count, using: &random))
            let fraction = digits.dropFirst(integer.count)
            let trimmed = integer.drop { $0 == "0" }
            texts.append((Bool.random(using: &random) ? "-" : "") + (trimmed.isEmpty ? "0" : String(trimmed)) + (fraction.isEmpty ? "" : "." + fraction))
        }
        for text in texts {
            let expected = Double(text)!
            let parsed = try JSONParser.parse(text)
            #expect(parsed.numberValue?.bitPattern == expected.bitPattern, "\(text)")
            let document = Array("{\"n\":\(text)}".utf8)
            let object = JSONObjectView(document: document, range: 0..<document.count, members: try JSONScanner.members(ofDocument: document).members)
            let viewed = try #require(object.number("n"))
            #expect(viewed.bitPattern == expected.bitPattern, "\(text)")
        }
    }

    @Test func objectMembersComeInTheOrderWritten() throws {
        let members = try JSONParser.parseObjectMembers(Array(#" {"b": 1, "a": {"y": [true], "x": null}} "#.utf8))
        #expect(members.map(\.key) == ["b", "a"])
        #expect(members[1].value == .object(["x": .null, "y": .array([.bool(true)])]))
        #expect(try JSONParser.parseObjectMembers(Array("{}".utf8)).isEmpty)
    }

    @Test(arguments: [
        (#"{"a": 1, "a": 2}"#, "line 1, column 10: duplicate object key \"a\""),
        (#"{"b": 1, "a": 2, "b": 3}"#, "line 1, column 18: duplicate object key \"b\""),
        (#"{"a": {"c": 1, "c": 2}}"#, "line 1, column 16: duplicate object key \"c\""),
        ("[1]", "line 1, column 1: unexpected character \"[\""),
        ("{\"a\": 1} x", "line 1, column 10: unexpected content after the JSON value"),
        ("", "line 1, column 1: unexpected end of input"),
        ("{\"a\": 1", "line 1, column 8: unexpected end of input"),
    ])
    func objectMembersRefuseWhatParseRefuses(input: String, message: String) {
        do {
            _ = try JSONParser.parseObjectMembers(Array(input.utf8))
            Issue.record("accepted \(input)")
        } catch { #expect(error.description == message) }
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_795_458_060_123, "2026-11-23T18:21:00.123Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (4_102_444_799_999, "2099-12-31T23:59:59.999Z"),
    ])
    func formatsAndParses(ms: Int64, text: String) {
        #expect(Timestamp(millisecondsSinceEpoch: ms).description == text)
        #expect(Timestamp(rfc3339: text)?.millisecondsSinceEpoch == ms)
    }

    @Test func parsesOffsetsAndFractions() {
        #expect(Timestamp(rfc3339: "2026-11-23T20:21:00.1234+02:00")?.description == "2026-11-23T18:21:00.123Z")
        #expect(Timestamp(rfc3339: "2026-11-23T18:21:00Z")?.description == "2026-11-23T18:21:00.000Z")
    }

    @Test(arguments: ["2026-02-30T00:00:00Z", "2026-11-23 18:21", "2026-11-23T18:21:00", "2026-11-23T25:00:00Z", "x"])
    func rejectsMalformed(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }
}
