import Testing
@testable import FailbackDomain
import FailbackLog

@Suite struct YAMLReaderTests {
    func read(_ text: String) throws(InvalidInput) -> YAMLDocument { try YAMLReader.read(Array(text.utf8), source: "rb.yaml") }

    func message(_ text: String) -> String? {
        do { _ = try read(text); return nil } catch { return error.message }
    }

    @Test func readsMappingsSequencesAndCoreSchemaScalars() throws {
        let doc = try read(
            """
            id: failback-bud
            version: "1.0"
            rto_minutes: 10
            ratio: 0.5
            enabled: true
            owner: ~
            tags: [db, dns]
            steps:
              - title: Promote
                command: |
                  kubectl exec -n bud patroni-0 -- patronictl failover --force
              - title: 'Check: lag < 5s'
            """)
        #expect(
            doc.value == [
                "id": "failback-bud", "version": "1.0", "rto_minutes": 10, "ratio": 0.5, "enabled": true, "owner": nil,
                "tags": ["db", "dns"],
                "steps": [["title": "Promote", "command": "kubectl exec -n bud patroni-0 -- patronictl failover --force\n"], ["title": "Check: lag < 5s"]],
            ])
        #expect(doc.mark(at: "/steps/1/title") == SourceMark(line: 12, column: 12))
        #expect(doc.mark(at: "/steps/0") == SourceMark(line: 9, column: 5))
        #expect(doc.mark(at: "/steps/0/nothing/here") == SourceMark(line: 9, column: 5))
    }

    @Test func quotedAndTaggedScalarsStayStrings() throws {
        let doc = try read("a: '10'\nb: !!str true\nc: \"null\"\nd: 1.0.2\ne: 0x1F\n")
        #expect(doc.value == ["a": "10", "b": "true", "c": "null", "d": "1.0.2", "e": "0x1F"])
    }

    @Test(arguments: [
        ("a: 1\na: 2\n", "rb.yaml:2:1: duplicate key \"a\""),
        ("a: &x 1\nb: *x\n", "rb.yaml:1:4: anchors and aliases are not supported; write the value out"),
        ("a: 1\n---\nb: 2\n", "rb.yaml:2:1: a runbook file holds one YAML document; found another"),
        ("a: .inf\n", "rb.yaml:1:4: .inf is not a number JSON can hold"),
        ("a: !!int 3\n", "rb.yaml:1:4: tag tag:yaml.org,2002:int is not supported"),
        ("a: [1, 2\nb: 3\n", "rb.yaml:2:2: did not find expected ',' or ']'"),
        ("steps:\n  - a\n - b\n", "rb.yaml:3:2: did not find expected key"),
        ("", "rb.yaml: the file holds no YAML document"),
    ])
    func refusesWithFileLineAndColumn(text: String, expected: String) {
        #expect(message(text) == expected)
    }

    @Test func refusesInvalidUTF8() {
        do {
            _ = try YAMLReader.read(Array("a: caf".utf8) + [0xE9] + Array("\n".utf8), source: "rb.yaml")
            Issue.record("accepted invalid UTF-8")
        } catch { #expect(error.message.hasPrefix("rb.yaml:1:")) }
    }

    /// Nesting is bounded: 64 levels read, the 65th is refused where it starts (file:line:column),
    /// and marks stay exact at the bottom.
    @Test func nestingIsBoundedAt64() throws {
        let ok = "a: " + String(repeating: "[", count: 63) + "1" + String(repeating: "]", count: 63) + "\n"
        let doc = try read(ok)
        #expect(doc.mark(at: "/a" + String(repeating: "/0", count: 63)) == SourceMark(line: 1, column: 67))
        #expect(message("a: " + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "\n") == "rb.yaml:1:67: nested deeper than 64")
        #expect(message(String(repeating: "- ", count: 65) + "x\n") == "rb.yaml:1:129: nested deeper than 64")
        // Refused as soon as it is met: 160,000 levels take no longer than 65.
        let clock = ContinuousClock()
        let took = clock.measure { #expect(message("a: " + String(repeating: "[", count: 160_000) + "\n") == "rb.yaml:1:67: nested deeper than 64") }
        #expect(took < .seconds(2))
    }

    /// Marks are a tree of values: a pointer finds its value, or its nearest ancestor, through
    /// keys with `/` and `~` (escaped ~1 and ~0) and sequence indexes.
    @Test func marksFollowPointersThroughEscapedKeys() throws {
        let doc = try read("top:\n  \"a/b\": 1\n  \"c~d\":\n    - x\n    - y\n")
        #expect(doc.mark(at: "/top/a~1b") == SourceMark(line: 2, column: 10))
        #expect(doc.mark(at: "/top/c~0d/1") == SourceMark(line: 5, column: 7))
        #expect(doc.mark(at: "/top/c~0d/7") == SourceMark(line: 4, column: 5))
        #expect(doc.mark(at: "") == SourceMark(line: 1, column: 1))
        #expect(YAMLDocument(value: ["a": 1]).mark(at: "/a") == nil)
    }
}
