import Foundation
import Testing
@testable import FailbackDomain
import FailbackLog

func repository(_ path: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(path).path
}

/// Joins backslash-continued lines and collapses every run of white space to one space.
func normalized(_ s: String) -> String {
    s.replacingOccurrences(of: "\\\n", with: " ").split(whereSeparator: \.isWhitespace).joined(separator: " ")
}

/// The command lines of a Markdown document's ```bash blocks: comments and blank lines dropped,
/// backslash continuations joined.
func commandLines(ofMarkdown text: String) -> [String] {
    var lines: [String] = []
    var inBash = false
    var pending = ""
    for raw in text.components(separatedBy: "\n") {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix("```") {
            inBash = !inBash && line == "```bash"
            continue
        }
        guard inBash, !line.isEmpty, !line.hasPrefix("#") else { continue }
        if line.hasSuffix("\\") {
            pending += String(line.dropLast()) + " "
            continue
        }
        lines.append(normalized(pending + line))
        pending = ""
    }
    return lines
}

@Suite struct RunbookTests {
    static let shipped = [
        ("runbooks/failback-bud.yaml", "Tests/Fixtures/seeds/failback-bud.md"),
        ("runbooks/rollback-teei.yaml", "Tests/Fixtures/seeds/rollback-teei.md"),
    ]

    /// Every command of each seed document is in its runbook, as written (white space aside).
    @Test(arguments: shipped)
    func encodesEveryCommandOfTheSeed(runbook: String, seed: String) throws {
        let loaded = try RunbookLoader.load(path: repository(runbook))
        let encoded = loaded.runbook.allCommands.map { normalized($0.run) }.joined(separator: "\n")
        let seedCommands = commandLines(ofMarkdown: try String(contentsOfFile: repository(seed), encoding: .utf8))
        #expect(seedCommands.count > 30)
        for command in seedCommands {
            #expect(encoded.contains(command), "\(runbook) lacks: \(command)")
        }
    }

    @Test(arguments: shipped.map(\.0))
    func shippedRunbooksAreValidAndKnowNoSeedNamesInCode(runbook: String) throws {
        let loaded = try RunbookLoader.load(path: repository(runbook))
        #expect(loaded.digest.count == 64)
        #expect(!loaded.runbook.phases.isEmpty)
        // Steps that stop and resume writes bound the RTO measurement.
        #expect(loaded.runbook.allSteps.contains { $0.step.writes == .stop })
        #expect(loaded.runbook.allSteps.contains { $0.step.writes == .resume })
    }

    func loadError(_ yaml: String) -> String? {
        do {
            _ = try RunbookLoader.load(bytes: Array(yaml.utf8), source: "rb.yaml")
            return nil
        } catch { return error.message }
    }

    static let minimal = """
        format: failback-runbook/1
        id: tiny
        title: Tiny
        version: "1"
        options: [{id: A, title: Restore}]
        phases:
          - id: one
            title: One
            steps:
              - {id: s1, title: Stop writes, writes: stop, commands: [echo stop]}
              - {id: s2, title: Resume writes, writes: resume}
        """

    @Test func readsAMinimalRunbook() throws {
        #expect(loadError(Self.minimal) == nil)
    }

    /// Mistakes are named with file, line, column and path.
    @Test(arguments: [
        ("title: Tiny", "titel: Tiny", "rb.yaml:3:8: titel: unknown member \"titel\" (expected one of: approvals, audience, checklist,"),
        ("version: \"1\"", "version: 1.0", "rb.yaml:4:10: version: expected text; write it in quotes (\"...\") so YAML keeps it as written"),
        (
            "{id: s2, title: Resume writes, writes: resume}", "{id: s2, title: Resume writes, writes: resum}",
            "rb.yaml:11:48: phases[0].steps[1].writes: must be \"stop\" or \"resume\", not \"resum\""
        ),
        ("{id: s2, title: Resume writes, writes: resume}", "{id: s1, title: Resume writes}", "rb.yaml:11:14: phases[0].steps[1].id: duplicate step id \"s1\""),
        ("    title: One", "    title: One\n    option: B", "rb.yaml:9:13: phases[0].option: names option \"B\", which the runbook does not define"),
        ("format: failback-runbook/1", "format: failback-runbook/9", "rb.yaml:1:9: format: unknown format \"failback-runbook/9\" (this version reads failback-runbook/1)"),
        ("id: tiny", "id: tiny one", "rb.yaml:2:5: id: \"tiny one\" is not an id (use letters, digits, '-', '_' and '.')"),
        (
            "commands: [echo stop]", "commands: [{run: echo stop, expext: ok}]",
            "rb.yaml:10:88: phases[0].steps[0].commands[0].expext: unknown member \"expext\" (expected one of: expect, run)"
        ),
        (
            "commands: [echo stop]", "commands: [echo stop], probes: [psql -c 'select 1']",
            "rb.yaml:10:84: phases[0].steps[0].probes[0]: a probe is one line starting with \"failback observe \""
        ),
    ])
    func namesMistakesWithTheirPlace(find: String, replace: String, expected: String) {
        #expect(Self.minimal.contains(find))
        let message = loadError(Self.minimal.replacingOccurrences(of: find, with: replace)) ?? "(accepted)"
        #expect(message.hasPrefix(expected), "\(message)")
    }

    /// Phases that wait for each other once each phase without `after:` waits for the one before
    /// it (as a drill orders them, option by option): refused, where a drill could never start
    /// them. Validated before, and every phase start then needed --override.
    @Test func phasesThatCanNeverStartAreRefused() {
        let two =
            Self.minimal + """

                  - id: two
                    title: Two
                    steps: [{id: s3, title: Three}]
                """
        #expect(loadError(two) == nil)
        #expect(loadError(two.replacingOccurrences(of: "    title: Two\n", with: "    title: Two\n    after: [one]\n")) == nil)
        let deadlock = two.replacingOccurrences(of: "  - id: one\n    title: One\n", with: "  - id: one\n    title: One\n    after: [two]\n")
        #expect(deadlock != two)
        #expect(
            loadError(deadlock)?.hasPrefix(
                "rb.yaml:7:3: phases: phase \"one\" can never start in option A: it waits for phases that wait for it (a phase without after: waits for the one before it)"
            ) == true, "\(loadError(deadlock) ?? "(accepted)")")
    }

    @Test func checksTheFlowchart() {
        let base =
            Self.minimal + """

                flowchart:
                  start: healthy
                  nodes:
                    - {id: healthy, question: Healthy?, yes: {option: A}, no: {outcome: wait, text: Wait}}
                """
        #expect(loadError(base) == nil)
        #expect(
            loadError(base.replacingOccurrences(of: "{option: A}", with: "{option: Z}"))?.hasSuffix(
                "flowchart.nodes[0].yes.option: names option \"Z\", which the runbook does not define") == true)
        #expect(loadError(base.replacingOccurrences(of: "{option: A}", with: "{next: healthy}"))?.hasSuffix("flowchart: the flowchart loops back to node \"healthy\"") == true)
        #expect(
            loadError(base.replacingOccurrences(of: "start: healthy", with: "start: sick"))?.hasSuffix("flowchart.start: names node \"sick\", which the flowchart does not define")
                == true)
        #expect(
            loadError(base.replacingOccurrences(of: "{option: A}", with: "{option: A, next: healthy}"))?.hasSuffix("a branch has exactly one of next, option or outcome") == true)
    }
}
