import Testing
@testable import FailbackDomain
@testable import FailbackLog
@testable import FailbackProbes

/// The JSON probe's paths (a jq subset) and conditions, by known answers.
@Suite struct JSONPathTests {
    static let document = try! JSONParser.parse(
        Array(
            #"{"state":{"messages":12,"last_seq":40},"items":[{"s":"a"},{"s":"b"}],"x-y":{"k":true},"empty":[],"none":null,"text":"héllo","n":"1234"}"#.utf8))

    @Test(arguments: [
        (".", nil),
        (".state.messages", "12"),
        (".state | length", "2"),
        (".items[0].s", #""a""#),
        (".items[-1].s", #""b""#),
        (".items[2]", nil),  // past the end: matches nothing
        (".items[].s", #"["a","b"]"#),
        (".items | length", "2"),
        (#"."x-y".k"#, "true"),
        (#".["x-y"]["k"]"#, "true"),
        (".empty | length", "0"),
        (".none | length", "0"),
        (".text | length", "5"),  // characters, not bytes
        (".state.messages | length", nil),  // a number has no length
        (".missing", nil),
        (".state[0]", nil),  // an index into an object
        (".state[]", "[40,12]"),  // an object's values, in name order: last_seq, then messages
    ])
    func readsValues(path: String, expected: String?) throws {
        let p = try JSONPath(path)
        let found = p.value(in: Self.document).map(CanonicalJSON.string)
        // `.` is the whole document.
        #expect(found == (path == "." ? CanonicalJSON.string(Self.document) : expected), "\(path)")
    }

    @Test(arguments: [
        ("state", "a path starts with a dot (`.state.messages`, `.items[0]`)"),
        ("", "a path starts with a dot (`.state.messages`, `.items[0]`)"),
        (".a.", "a dot with no name after it"),
        (".a[", "a [ with no ]"),
        (".a[x]", "[ ] holds an index, a quoted name, or nothing"),
        (#".a["x]"#, "a quoted name is not a JSON string"),
        (".a | keys", "only `| length` may follow the path"),
        (".a b", "unexpected \" \" (steps are .name, [N], [] and | length)"),
        (".9a", "a name is letters, digits and _ (quote any other: .\"x-y\")"),
    ])
    func refusesPaths(path: String, why: String) {
        #expect(throws: InvalidInput.self) { try JSONPath(path) }
        do { _ = try JSONPath(path) } catch { #expect(error.message == "path \(path.debugDescription): \(why)") }
    }

    @Test(arguments: [
        ("m>10", "12", true), ("m>=12", "12", true), ("m<12", "12", false), ("m=12", "12", true), ("m!=12", "12", false),
        ("m<1s", "0.5", true), ("m<500ms", "0.5", false), ("m<=500ms", "0.5", true), ("m<2m", "119", true),
        ("m<1MB", "999999", true), ("m<1MiB", "1048576", false), ("m<0.1%", "0.0009", true), ("m<0.1%", "0.001", false),
        ("m>0", #""48211""#, true),  // ClickHouse quotes 64-bit integers
        ("m>0", #""abc""#, false), ("m!=0", #""abc""#, false),  // not a number: no numeric condition, `!=` neither
        ("m=7", #""007""#, false), ("m!=7", #""007""#, false), ("m=10", #"" 10 ""#, false), ("m=16", #""0x10""#, false),
        ("m=18446744073709551615", #""18446744073709551615""#, true),  // digits compared exactly, past 2^53
        ("m=18446744073709551615", #""18446744073709551614""#, false), ("m<18446744073709551615", #""18446744073709551614""#, true),
        ("m>9007199254740992", #""9007199254740993""#, true), ("m>-5", #""-3""#, true), ("m<-5", #""-30""#, true),
        ("m=ACTIVE", #""ACTIVE""#, true), (#"m="ACTIVE""#, #""ACTIVE""#, true), ("m==ACTIVE", #""ACTIVE""#, true),
        ("m=ACTIVE", #""active""#, false), ("m!=ACTIVE", #""FAILED""#, true),
        ("m=true", "true", true), ("m=true", #""true""#, false), ("m=null", "null", true),
        ("m=empty", "[]", true), ("m=empty", "{}", true), ("m=empty", "null", true), ("m=empty", "[0]", false), ("m=empty", #""""#, false),
        ("m!=empty", "[0]", true),
        ("m=7", "[7,7,7]", true), ("m=7", "[7,6,7]", false), ("m=7", "[]", false),  // every element, and at least one
        ("m=running", #"["running","running"]"#, true),
        ("m=ACTIVE", "12", false),
    ])
    func judgesConditions(condition: String, value: String, holds: Bool) throws {
        let c = try JSONCondition(condition, names: ["m"], option: "--expect")
        #expect(c.holds(for: try JSONParser.parse(Array(value.utf8))) == holds, "\(condition) on \(value)")
        #expect(!c.holds(for: nil), "a path that matched nothing never meets \(condition)")
    }

    /// `$OTHER`: two values read compared with each other (two sites' counts).
    @Test(arguments: [
        ("eu=$us", #"{"eu":500,"us":500}"#, true), ("eu=$us", #"{"eu":520,"us":500}"#, false), ("eu>$us", #"{"eu":520,"us":500}"#, true),
        ("eu!=$us", #"{"eu":520,"us":500}"#, true), ("eu=$us", #"{"eu":"500","us":500}"#, true),  // a quoted 64-bit integer is its number
        ("eu=$us", #"{"eu":"ACTIVE","us":"ACTIVE"}"#, true), ("eu=$us", #"{"eu":[1,2],"us":[1,2]}"#, true), ("eu=$us", #"{"eu":[1,2],"us":[2,1]}"#, false),
        ("eu<$us", #"{"eu":[1,2],"us":[1,2]}"#, false), ("eu=$us", #"{"eu":500}"#, false),  // the other value matched nothing
        ("eu=$us", #"{"eu":[500,500],"us":500}"#, true),  // every element
        ("eu=$us", #"{"eu":"9007199254740993","us":"9007199254740992"}"#, false),  // exactly, as digits
        ("eu>$us", #"{"eu":"9007199254740993","us":"9007199254740992"}"#, true),
    ])
    func comparesTwoValues(condition: String, values: String, holds: Bool) throws {
        let c = try JSONCondition(condition, names: ["eu", "us"], option: "--expect")
        let read = try #require(try JSONParser.parse(Array(values.utf8)).objectValue)
        #expect(c.holds(in: read) == holds, "\(condition) on \(values)")
    }

    @Test func aReferenceNamesAnotherValue() {
        for (text, message) in [
            ("eu=$xx", #"--expect "eu=$xx": $xx names no other value (this probe reads eu, us)"#),
            ("eu=$eu", #"--expect "eu=$eu": $eu names no other value (this probe reads eu, us)"#),
        ] {
            do {
                _ = try JSONCondition(text, names: ["eu", "us"], option: "--expect")
                Issue.record("\(text) was taken")
            } catch { #expect(error.message == message) }
        }
    }

    @Test func jsonLinesAreAnArrayOfDocuments() throws {
        let lines = Array("{\"a\":1}\n\n{\"a\":2}\r\n".utf8)
        #expect(try JSONProbe.parseJSONOrLines(lines).get() == .array([["a": 1], ["a": 2]]))
        guard case .failure(let e) = JSONProbe.parseJSONOrLines(Array("{\"a\":1}\n{\"a\":".utf8)) else {
            Issue.record("a broken line was read")
            return
        }
        #expect(e.message == "printed no JSON: document 2: line 1, column 6: unexpected end of input")
        // Pretty-printed documents one after the other (`curl A; curl B`).
        #expect(try JSONProbe.parseJSONOrLines(Array("{\n  \"a\": 1\n}\n{\n  \"a\": [2]\n}\n".utf8)).get() == .array([["a": 1], ["a": [2]]]))
        #expect(try JSONProbe.parseJSONOrLines(Array(" 7 ".utf8)).get() == 7)
    }
}
