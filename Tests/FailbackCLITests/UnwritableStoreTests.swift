import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Reading needs no write: a store on a full disk, or in a folder the reader cannot write (where
/// SQLite cannot make the write-ahead log's index), is read as it is; appends are refused.
@Suite(.serialized) struct UnwritableStoreTests {
    /// A store with one drill and a few events, and what the reading commands print for it.
    func recordedLab() throws -> (lab: Lab, log: String, verify: String) {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        for i in 1...3 { try lab.expectSuccess(["note", "note \(i)"]) }
        return (lab, try lab.expectSuccess(["log"]).stdout, try lab.expectSuccess(["verify"]).stdout)
    }

    @Test func readingCommandsWorkOnAFullDisk() throws {
        // A full disk is a file system of its own, filled up: root only (CI runs as root).
        guard geteuid() == 0 else { return try readingCommandsWorkInAFolderTheReaderCannotWrite() }
        let (lab, log, verify) = try recordedLab()
        let full = "\(lab.dir)/full"
        try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: false)
        #expect(try run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", full]).status == 0)
        defer { _ = try? run("/bin/umount", [full]) }
        let store = "\(full)/ledger.sqlite"
        #expect(try run("/bin/cp", [lab.store, store]).status == 0)
        _ = try run("/bin/dd", ["if=/dev/zero", "of=\(full)/filler", "bs=4k"])
        for command in [["log"], ["verify"]] {
            let o = try run("failback", command + ["--store", store], cwd: lab.dir)
            #expect(o.status == 0 && o.stderr.isEmpty, "\(command): \(o.stderr)")
            #expect(o.stdout == (command == ["log"] ? log : verify.replacingOccurrences(of: lab.store, with: store)))
        }
        for command in [["status"], ["report", "--format", "json"], ["drill", "list"], ["replay", "--json"]] {
            let o = try run("failback", command + ["--store", store], cwd: lab.dir)
            #expect(o.status == 0 && o.stderr.isEmpty, "\(command): \(o.stderr)")
        }
        let note = try run("failback", ["note", "x", "--store", store], cwd: lab.dir)
        #expect(note.status == 74)
        #expect(note.stderr == "failback: error: store \(store) cannot be written (disk I/O error; is the disk full?): nothing appended\n")
        #expect(note.stdout.isEmpty)
    }

    /// Another user (nobody) reads a store in a folder it cannot write.
    @Test func readingCommandsWorkInAFolderTheReaderCannotWrite() throws {
        let (lab, log, verify) = try recordedLab()
        let asReader: [String] = geteuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        chmod(lab.dir, 0o555)
        defer { chmod(lab.dir, 0o755) }
        func failback(_ args: [String]) throws -> Outcome {
            let binary = buildDirectory.appendingPathComponent("failback").path
            let all = asReader + [binary] + args + ["--store", lab.store]
            // The reader's own state folder (none: it has joined no drill).
            return try run(all[0], Array(all.dropFirst()), cwd: "/", env: ["FAILBACK_STATE_DIR": "/nonexistent/state"])
        }
        #expect(!FileManager.default.fileExists(atPath: lab.store + "-wal"))
        let read = try failback(["log"])
        #expect(read.status == 0 && read.stderr.isEmpty, "\(read.stderr)")
        #expect(read.stdout == log)
        let verified = try failback(["verify"])
        #expect(verified.status == 0 && verified.stdout == verify, "\(verified.stderr)")
        let note = try failback(["note", "x"])
        #expect(note.status == 77)
        #expect(note.stderr == "failback: error: store \(lab.store) is read-only: nothing appended\n")
        #expect(!FileManager.default.fileExists(atPath: lab.store + "-shm"))
        // Read so, an altered event is still found.
        chmod(lab.dir, 0o755)
        let altered = try lab.sqlite(TamperTests.dropTriggers + "UPDATE events SET canonical = CAST(replace(CAST(canonical AS TEXT), 'note 2', 'note X') AS BLOB);")
        #expect(altered.status == 0, "\(altered.stderr)")
        chmod(lab.dir, 0o555)
        let broken = try failback(["verify"])
        #expect(broken.status == 1 && broken.stdout.contains("chain BROKEN at seq"), "\(broken.stdout) \(broken.stderr)")
    }
}
