import Testing
@testable import FailbackDomain
import FailbackLog

@Suite struct YAMLReaderTests {
    func read(_ text: String) throws(InvalidInput) -> YAMLDocument { try YAMLReader.read(Array(text.utf8), source: "rb.yaml") }

    func message(_ text: String) -> String? {
        do { _ = try read(text); return nil } catch { return error.message }
    }

    @Test func readsMappingsSequencesAndCoreSchemaScalars() throws {
        let doc = try read("""
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
        #expect(doc.value == [
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
}
