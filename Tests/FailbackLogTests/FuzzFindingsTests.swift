import Testing
@testable import FailbackLog

/// What the fuzz targets found (docs/fuzzing.md, "Findings"), each as its minimised input, so the
/// normal test run holds the fix without the fuzzer.
@Suite struct FuzzFindingsTests {
    /// Names that are different bytes but the same text to Swift (canonically equivalent: "é" and
    /// "e" + U+0301, "K" and U+212A KELVIN SIGN, "Å" and U+212B ANGSTROM SIGN). `JSONParser.parse`
    /// builds objects as dictionaries of Swift strings, in which they are one key, and refuses them
    /// as a duplicate; the scanner and `parseObjectMembers` took names in increasing byte order as
    /// distinct, and accepted them: an event line with such a payload passed the envelope reading
    /// (and `verify`'s fast walk) while its payload read as `{}` and `verify --deep` refused it.
    /// FuzzJSON: `{"e\u{301}":1,"é":2}` (parseObjectMembers accepts, parse refuses).
    static let equivalentNames = [
        "{\"e\u{301}\":1,\"é\":2}",
        "{\"K\":1,\"\u{212A}\":2}",
        "{\"a\":0,\"\u{C5}\":1,\"b\":true,\"\u{212B}\":2}",
        "{\"\u{212A}\":1,\"K\":2}",  // not in byte order: always looked at
        "{\"payload\":{\"K\":1,\"\u{212A}\":2}}",
    ]

    @Test(arguments: equivalentNames)
    func canonicallyEquivalentNamesAreOneName(document: String) throws {
        let bytes = Array(document.utf8)
        let parsed = Result { () throws(JSONParseError) in try JSONParser.parse(bytes) }
        guard case .failure(let error) = parsed, case .duplicateKey = error.reason else {
            Issue.record("parse accepts \(document.debugDescription): \(parsed)")
            return
        }
        #expect(throws: error) { try JSONParser.parseObjectMembers(bytes) }
        #expect(throws: error) { try JSONScanner.members(ofDocument: bytes, nestedName: "payload") }
    }

    /// The same payload in an event envelope, in the log's own layout (the shortcut reading) and
    /// with a space (the general reading): refused, not read as an empty payload.
    @Test func anEnvelopeWithEquivalentPayloadNamesIsRefused() throws {
        let draft = EventDraft(
            type: "NoteAdded", schemaVersion: 1, drillID: "d", recordedAt: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000),
            actor: "a", host: "h", payload: ["K": 1])
        let written = draft.canonicalBytes(seq: 1, drillSeq: 1)
        let name = Array(#"{"K":1}"#.utf8)
        let at = try #require(written.firstRange(of: name))
        var layout = written
        layout.replaceSubrange(at, with: Array("{\"K\":1,\"\u{212A}\":2}".utf8))
        var spaced = layout
        spaced.insert(0x20, at: 1)
        for bytes in [layout, spaced] {
            #expect(throws: EnvelopeError.self, "\(String(decoding: bytes, as: UTF8.self))") { try RecordedEvent(canonical: bytes, hash: []) }
            var shared = RecordedEvent.SharedValues()
            #expect(RecordedEvent.readLine(bytes, sharing: &shared) == nil)
        }
        // The bytes as written still read.
        #expect(try RecordedEvent(canonical: written, hash: []).payload == ["K": 1])
    }
}
