import Foundation
import Testing
@testable import FailbackDomain
@testable import FailbackExporters
@testable import FailbackLog

/// One error model: every error the libraries throw has a code, an exit status and (where it is
/// about one thing) a subject, and docs/cli.md's table of codes is exactly what the code says.
@Suite struct ErrorModelTests {
    /// Every kind of every error type, as one example each.
    static var everyKind: [any FailbackError] {
        var out: [any FailbackError] = StoreError.Code.allCases.map { StoreError($0, "x") }
        out += InvalidInput.Kind.allCases.map { InvalidInput("x", kind: $0) }
        out += ExportError.Kind.allCases.map { ExportError("x", kind: $0) }
        out.append(JSONParseError(reason: .trailingContent, offset: 3, line: 1, column: 4))
        out.append(EnvelopeError("x"))
        return out
    }

    /// The rows of docs/cli.md's "Error codes" table: code → status.
    static func documented() throws -> [String: Int32] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/cli.md"), encoding: .utf8)
        let section = try #require(text.range(of: "### Error codes")).upperBound
        var rows: [String: Int32] = [:]
        for line in text[section...].split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let code = String(cells[0].dropFirst().dropLast())
            #expect(rows[code] == nil, "\(code) twice in docs/cli.md")
            rows[code] = Int32(cells[1])
        }
        return rows
    }

    @Test func theDocumentedCodesAreTheCodes() throws {
        var fromCode: [String: Int32] = [:]
        for error in Self.everyKind {
            #expect(fromCode[error.errorCode] == nil, "two kinds share \(error.errorCode)")
            fromCode[error.errorCode] = error.exitStatus.rawValue
        }
        let documented = try Self.documented()
        #expect(documented.count == Self.everyKind.count)
        #expect(documented == fromCode)
        // Never 1 ("does not verify") for anything that is not about integrity.
        for error in Self.everyKind where error.exitStatus == .integrityFailure {
            #expect(error.errorCode.hasSuffix(".integrity"), "\(error.errorCode)")
        }
    }

    /// Errors name what they are about: a store's location, the drill or the event, the file.
    @Test func errorsCarryTheirSubject() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fb-subject-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A store that is not there: the path.
        do {
            _ = try SQLiteEventStore(openingAt: "\(dir)/none.sqlite")
            Issue.record("opened a store that is not there")
        } catch {
            #expect(error.errorCode == "store.missing" && error.subject == .path("\(dir)/none.sqlite") && error.exitStatus == .noInput, "\(error)")
        }
        // A drill that is not there: the drill.
        try SQLiteEventStore.create(at: "\(dir)/s.sqlite")
        let recorder = Recorder(store: try SQLiteEventStore(openingAt: "\(dir)/s.sqlite"), context: RecordingContext(actor: "t", host: "h"))
        do {
            _ = try recorder.drillForReading("drill-none")
            Issue.record("found a drill that is not there")
        } catch let error as any FailbackError {
            #expect(error.errorCode == "store.unknown-drill" && error.subject == .drill("drill-none"), "\(error)")
        }
        // A file that is not there: the file.
        do {
            _ = try openRegularFile("\(dir)/missing.yaml", what: "runbook")
            Issue.record("read a file that is not there")
        } catch {
            #expect(error.errorCode == "input.missing" && error.subject == .path("\(dir)/missing.yaml") && error.exitStatus == .noInput, "\(error)")
        }
        // JSON: the byte.
        do {
            _ = try JSONParser.parse(Array(#"{"a":1} x"#.utf8))
            Issue.record("parsed trailing content")
        } catch {
            #expect(error.subject == .offset(8) && error.exitStatus == .dataError)
        }
    }
}
