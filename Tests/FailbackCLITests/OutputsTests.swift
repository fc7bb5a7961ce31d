import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Outputs that never lie: `-o FILE` is a regular file written whole or not at all (never a
/// folder, device, FIFO or symbolic link; no partial file on any failure or signal); `-o -` is
/// standard output; a write to standard output that fails exits 74.
@Suite(.serialized) struct OutputsTests {
    @Test func anOutputThatIsNotARegularFileIsRefusedUpFront() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        #expect(mkfifo("\(lab.dir)/fifo", 0o644) == 0)
        try FileManager.default.createSymbolicLink(atPath: "\(lab.dir)/link", withDestinationPath: "\(lab.dir)/elsewhere")
        try FileManager.default.createDirectory(atPath: "\(lab.dir)/folder", withIntermediateDirectories: false)
        let cases = [("folder", "a folder"), ("fifo", "a FIFO"), ("link", "a symbolic link (not followed)")]
        for command in [["report"], ["evidence", "export"]] {
            for (name, kind) in cases {
                let o = try lab.failback(command + ["-o", "\(lab.dir)/\(name)"])
                #expect(o.status == 65 && o.stdout.isEmpty, "\(command) \(name): \(o.status) \(o.stderr)")
                #expect(o.stderr == "failback: error: \(lab.dir)/\(name) is \(kind); write to a regular file (or - for standard output)\n")
            }
            let device = try lab.failback(command + ["-o", "/dev/null"])
            #expect(device.status == 65 && device.stderr == "failback: error: /dev/null is a device; write to a regular file (or - for standard output)\n")
        }
        let empty = try lab.failback(["report", "-o", ""])
        #expect(empty.status == 65 && empty.stderr == "failback: error: an empty output path: name a file, or - for standard output\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/elsewhere"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: lab.dir).filter { $0.contains(".partial") }.isEmpty)
        // `-` is standard output: the report as printed, the bundle's bytes (its summary on stderr).
        #expect(try lab.failback(["report", "-o", "-"]).stdout == lab.failback(["report"]).stdout)
        let piped = try run(tool("sh"), ["-c", "'\(buildDirectory.appendingPathComponent("failback").path)' evidence export --store '\(lab.store)' -o - | tar -tzf -"])
        #expect(piped.status == 0 && piped.stdout.split(separator: "\n").first?.hasSuffix("/events.jsonl") == true, "\(piped.stdout)")
        #expect(piped.stderr.hasPrefix("-: drill "), "\(piped.stderr)")
    }

    @Test func aFailedWriteToStandardOutputExits74() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        for command in ["log", "status", "report", "verify"] {
            let o = try run(tool("sh"), ["-c", "'\(buildDirectory.appendingPathComponent("failback").path)' \(command) --store '\(lab.store)' >/dev/full"])
            #expect(o.status == 74, "\(command): \(o.status) \(o.stderr)")
            #expect(o.stderr == "failback: error: cannot write to standard output: No space left on device\n", "\(command)")
        }
    }

    /// SIGTERM at any moment of an export leaves either the whole bundle or nothing: no partial file.
    @Test func aSignalDuringAnExportLeavesNoPartialFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("failback-signal-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try run("failback-bench", ["--dir", dir, "--events", "20000", "--single", "0"]).status == 0)
        var finished = 0, stopped = 0
        for attempt in 0..<12 {
            let bundle = "\(dir)/b\(attempt).tar.gz"
            let export = Process()
            // Foundation's Process starts a child with signals blocked: python unblocks them, as a
            // shell's child has them, and becomes the export.
            export.executableURL = URL(fileURLWithPath: tool("python3"))
            export.arguments = [
                "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
                buildDirectory.appendingPathComponent("failback").path, "evidence", "export", "--store", "\(dir)/ours.sqlite", "-o", bundle,
            ]
            export.standardOutput = FileHandle.nullDevice
            export.standardError = FileHandle.nullDevice
            try export.run()
            usleep(UInt32(30_000 + attempt * 60_000))
            kill(export.processIdentifier, SIGTERM)
            export.waitUntilExit()
            if FileManager.default.fileExists(atPath: bundle) {
                finished += 1
                #expect(try run("failback", ["evidence", "verify", bundle, "--allow-unpinned"]).status == 0)
            } else {
                stopped += 1
            }
            let left = try FileManager.default.contentsOfDirectory(atPath: dir).filter {
                !$0.hasPrefix("ours.sqlite") && !$0.hasPrefix("singles.sqlite") && !($0.hasPrefix("b") && $0.hasSuffix(".tar.gz"))
            }
            #expect(left.isEmpty, "attempt \(attempt): \(left)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("partial") || $0.contains("spool") }.isEmpty)
        }
        // Both outcomes were seen: the signal came during an export, and after one.
        #expect(stopped > 0 && finished + stopped == 12, "stopped \(stopped), finished \(finished)")
    }
}
