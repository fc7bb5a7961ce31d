import ArgumentParser
import FailbackDomain
import FailbackLog

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Copy stores.", subcommands: [Copy.self])

    /// `failback store copy FROM TO`: the same events, bytes and hashes in another store
    /// (docs/storage.md, "Copying a store").
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "copy",
            abstract: "Copy every event of the store FROM into the store TO (created if missing), byte for byte; verify both.",
            discussion: """
                failback store copy .failback/ledger.sqlite postgresql://failback@db.example/ops
                failback store copy postgresql://failback@db.example/ops backup.sqlite
                FROM must verify, or nothing is copied (exit 1). TO may be new, empty, or an earlier
                copy of FROM cut short: the copy resumes after its last event. A TO holding anything
                else is refused (exit 65). On success, one line: what was copied, and that both
                stores verified and their indexes are identical.
                """)
        @Argument(help: ArgumentHelp("The store to copy (a path or a postgresql:// URL).", valueName: "from")) var from: String
        @Argument(help: ArgumentHelp("The store to copy into (a path or a postgresql:// URL).", valueName: "to")) var to: String

        func run() throws {
            let origin = Workspace(store: from, config: nil)
            let source = try origin.openStore(readOnly: true)
            let target = Workspace(store: to, config: nil)
            // The same file by another path (./a, /abs/a, a symlink), or the same URL with or without a password.
            if origin.joinedDrill.store == target.joinedDrill.store {
                throw StoreError(.mismatch, "the source and the target are the same store (\(origin.joinedDrill.store)): nothing copied")
            }
            let report = try StoreCopy.copy(
                from: source,
                to: { () throws(StoreError) -> any EventStore in
                    do {
                        _ = try target.initialize(creatingFolder: false)
                        return try target.openStore()
                    } catch let error as StoreError {
                        throw error
                    } catch {
                        throw StoreError(.database, "cannot open \(target.storeLabel): \(error)", path: target.storeLabel)
                    }
                },
                closingTypes: EventCatalogue.closingTypes)
            print(report.summary)
        }
    }
}
