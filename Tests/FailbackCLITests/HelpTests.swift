import FailbackTestSupport
import Foundation
import Testing

/// Every leaf command's `--help` ends with labelled examples, and every example is a command line
/// failback accepts (it is not refused as a command-line error, 64).
@Suite struct HelpTests {
    /// The leaf commands, from ArgumentParser's own description of the tree.
    func leaves() throws -> [String] {
        let dump = try run("failback", ["--experimental-dump-help"])
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var found: [String] = []
        func walk(_ command: [String: Any], _ path: [String]) {
            let subcommands = (command["subcommands"] as? [[String: Any]] ?? []).filter { $0["commandName"] as? String != "help" }
            if subcommands.isEmpty { found.append(path.joined(separator: " ")) }
            for s in subcommands { walk(s, path + [s["commandName"] as? String ?? "?"]) }
        }
        walk(try #require(root["command"] as? [String: Any]), [])
        return found
    }

    @Test func everyLeafCommandHasLabelledExamplesThatParse() throws {
        let commands = try leaves()
        #expect(commands.count == 47, "\(commands)")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("failback-help-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        for command in commands {
            let words = command.split(separator: " ").map(String.init)
            for asked in [words + ["--help"], ["help"] + words] {
                let help = try run("failback", asked)
                #expect(help.status == 0, "\(asked)")
                let examples = help.stdout.components(separatedBy: "\n\nEXAMPLES:\n")
                #expect(examples.count == 2, "\(command): no EXAMPLES section")
                for line in (examples.last ?? "").split(separator: "\n") where examples.count == 2 {
                    let example = line.trimmingCharacters(in: .whitespaces)
                    #expect(example.hasPrefix("failback \(command)") || example.contains("| failback \(command)"), "\(command): \(example)")
                    guard !example.contains("|"), !example.contains(">"), !example.contains("*") else { continue }
                    // Against a store that is not there: parsed, then refused for the store (66), or
                    // run where no store is needed; never a command-line error.
                    let o = try run("failback", Array(shellWords(example).dropFirst()), cwd: scratch, env: ["FAILBACK_STORE": "\(scratch)/none/ledger.sqlite"])
                    #expect(o.status != 64, "\(example): \(o.stderr)")
                }
            }
        }
    }

    /// Shell completion: the scripts are generated, `--format` values are listed, drill ids come
    /// from the store and phase ids from the current drill's runbook.
    @Test func completionKnowsDrillsPhasesAndFormats() throws {
        let lab = try Lab()
        let drill = try lab.startDrill("rollback-teei")
        for shell in ["bash", "zsh", "fish"] {
            let script = try run("failback", ["--generate-completion-script", shell])
            #expect(script.status == 0 && script.stdout.count > 1000, "\(shell)")
        }
        #expect(try run("failback", ["--generate-completion-script", "bash"]).stdout.contains("-W 'md'$'\\n''json'$'\\n''html'$'\\n''csv'$'\\n''junit'"))
        let env = ["FAILBACK_STORE": lab.store]
        let drills = try run("failback", ["---completion", "report", "--", "--drill", "3", "0", "failback", "report", "--drill"], env: env)
        #expect(drills.status == 0 && drills.stdout == drill + "\n", "\(drills.stdout) \(drills.stderr)")
        let phases = try run("failback", ["---completion", "phase", "start", "--", "positional@0", "3", "0", "failback", "phase", "start", ""], env: env)
        #expect(phases.status == 0 && phases.stdout.split(separator: "\n").contains("b-configure-us-standby"), "\(phases.stdout)")
    }
}
