import Foundation
import FailbackDomain
import FailbackLog
import Testing
@testable import FailbackExporters

/// The export's fold reads lag samples and row counts in one pass (`DrillSample`) and every other
/// event the general way: its report must be the report of the general fold, byte for byte.
@Suite struct ExportFoldTests {
    @Test func theExportsFoldGivesTheGeneralFoldsReport() throws {
        let folder = TemporaryFolder()
        var events = try FixedDrill.record(in: folder)
        // Samples of other shapes after the fixed drill's: row counts, a lag with no reading (read
        // the general way), a lag as typed in.
        let last = events.removeLast()
        let extra: [any EventPayload] = [
            try RowCountSampled(table: "events", site: "eu-central-1", count: 1_204_331),
            try RowCountSampled(table: "events", site: "us-east-1", count: 1_204_329),
            try ReplicationLagSampled(lagSeconds: nil, source: "eu-central-1", target: "us-east-1", error: "connection refused"),
            try ReplicationLagSampled(lagSeconds: 7.25, source: "eu-central-1", target: "us-east-1"),
            // As a probe records one (its summary names the bytes, idle and a paused replay).
            try ReplicationLagSampled(
                lagSeconds: 0, source: "eu", target: "us", method: .standbyReplayTimestamp, lagBytes: 4096, idle: true,
                rawLagSeconds: 12.5, replayPaused: true, server: "127.0.0.1:5433"),
        ]
        // Placed after the fixed drill's events and before its closing one, chained as a store
        // chains them.
        var previous = events.last!.hash
        func placed(_ type: String, _ version: Int, _ payload: JSONValue, _ offset: Int) throws -> RecordedEvent {
            let draft = EventDraft(
                type: type, schemaVersion: version, drillID: last.drillID, recordedAt: last.recordedAt, actor: last.actor, host: last.host, payload: payload)
            let bytes = draft.canonicalBytes(seq: last.seq + offset, drillSeq: last.drillSeq + offset)
            previous = HashChain.link(previous: previous, canonical: bytes)
            return try RecordedEvent(canonical: bytes, hash: previous)
        }
        for (i, payload) in extra.enumerated() { events.append(try placed(type(of: payload).eventType, type(of: payload).schemaVersion, payload.json, i)) }
        events.append(try placed(last.type, last.schemaVersion, last.payload, extra.count))

        var general = DrillReport(keepsEventIndex: false)
        for event in events { try general.apply(event) }
        general.finish()
        var indexed = DrillReport()
        for event in events { try indexed.apply(event) }

        // In batches of three events, as the reading thread hands them over.
        let spool = try Spool(beside: folder.path + "/bundle.tar.gz"), index = try Spool(beside: folder.path + "/bundle.tar.gz")
        var fold = try ExportFold(citationsPerType: 40, outputs: spool, index: index)
        for start in stride(from: 0, to: events.count, by: 3) {
            var batch = EventBatch()
            for event in events[start..<min(start + 3, events.count)] {
                batch.lines += event.canonical + [0x0A]
                batch.ends.append(batch.lines.count)
                batch.hashes += event.hash
                batch.seqs.append(event.seq)
            }
            try fold.fold(batch)
        }
        var folded = fold.report
        folded.finish()
        let samples = events.filter { $0.type == ReplicationLagSampled.eventType || $0.type == RowCountSampled.eventType }.count
        #expect(fold.samplesReadInOnePass == samples - 1, "all samples but the one with no reading are read in one pass")
        #expect(fold.exported == events.count && fold.head == events.last!.hash)
        for format in [ReportFormat.json, .markdown, .html] {
            #expect(format.render(folded) == format.render(general), "\(format)")
        }
        // The bundle's evidence index, a row an event as it streams, is the report's CSV.
        try index.flush()
        let csv = try index.read(offset: 0, count: index.size)
        #expect(String(decoding: csv, as: UTF8.self) == ReportFormat.csv.render(indexed))
        #expect(fold.indexHasher.finalize() == HashChain.sha256(csv))
        // Nothing of the spools is left in the folder.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("spool") }.isEmpty)
    }

    /// An export tells how far it is after each batch it reads, ending at every event.
    @Test func anExportReportsItsProgress() throws {
        let folder = TemporaryFolder()
        let events = try FixedDrill.record(in: folder)
        let store = try SQLiteEventStore(openingAt: "\(folder.path)/golden.sqlite")
        var calls: [(Int, Int)] = []
        let summary = try EvidenceBundle.export(drill: FixedDrill.id, from: store, to: "\(folder.path)/b.tar.gz", key: nil, progress: { calls.append(($0, $1)) })
        #expect(summary.events == events.count)
        #expect(!calls.isEmpty && calls.last! == (events.count, events.count))
        #expect(zip(calls, calls.dropFirst()).allSatisfy { $0.0 < $1.0 } && calls.allSatisfy { $0.1 == events.count })
    }
}
