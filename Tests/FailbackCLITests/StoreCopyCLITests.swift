import Foundation
import Testing

/// `failback store copy` between SQLite files: what it says for an empty store, and a store
/// named twice by different paths.
@Suite struct StoreCopyCLITests {
    @Test func anEmptyStoreIsCopiedAndAStoreIsNotCopiedOntoItself() throws {
        let lab = try Lab()
        let empty = try run("failback", ["store", "copy", lab.store, "\(lab.dir)/copy.sqlite"])
        #expect(empty.status == 0 && empty.stderr == "")
        #expect(empty.stdout == "copied \(lab.store) to \(lab.dir)/copy.sqlite (0 events in 0 drills): 0 appended; both verified, the copy's index identical to the source's\n")
        _ = try lab.startDrill("rollback-teei")
        try FileManager.default.createSymbolicLink(atPath: "\(lab.dir)/alias.sqlite", withDestinationPath: lab.store)
        for alias in ["./ledger.sqlite", "\(lab.dir)/alias.sqlite", "\(lab.dir)//ledger.sqlite"] {
            let same = try run("failback", ["store", "copy", lab.store, alias], cwd: lab.dir)
            #expect(same.status == 65 && same.stdout == "", "\(alias)")
            #expect(same.stderr == "failback: error: the source and the target are the same store (\(lab.store)): nothing copied\n", "\(alias)")
        }
        // A target in a folder that is not there (a typo) is refused, not made.
        let astray = try run("failback", ["store", "copy", lab.store, "\(lab.dir)/typo/copy.sqlite"])
        #expect(astray.status == 66 && astray.stdout == "")
        #expect(astray.stderr == "failback: error: no folder \(lab.dir)/typo for the store \(lab.dir)/typo/copy.sqlite\n")
        #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/typo"))
    }
}
