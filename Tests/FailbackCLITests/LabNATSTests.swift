import Foundation
import Testing

/// The lab's two NATS JetStream servers (eu, us), each holding CSR_EVENTS: the stream's state at
/// both sites read through their monitoring endpoints by `observe json`, and compared as
/// `observe rowcount` compares PostgreSQL's row counts.
@Suite(.serialized) struct LabNATSTests {
    init() throws { try ServerLab.require() }

    static let eu = "http://127.0.0.1:\(ServerLab.portBase + 92)/jsz?streams=true"
    static let us = "http://127.0.0.1:\(ServerLab.portBase + 93)/jsz?streams=true"
    static let state = ".account_details[0].stream_detail[0].state"

    /// The comparison a runbook's "restore the NATS streams" step ends with.
    func compare(_ lab: Lab) throws -> (Outcome, [String: Any]) {
        let o = try lab.failback(
            [
                "observe", "json", "--name", "CSR_EVENTS eu vs us",
                "--value", "eu_messages=.[0]\(Self.state).messages", "--value", "us_messages=.[1]\(Self.state).messages",
                "--value", "eu_bytes=.[0]\(Self.state).bytes", "--value", "us_bytes=.[1]\(Self.state).bytes",
                "--value", "eu_last_seq=.[0]\(Self.state).last_seq", "--value", "us_last_seq=.[1]\(Self.state).last_seq",
                "--expect", "us_messages=$eu_messages", "--expect", "us_bytes=$eu_bytes",
                "--", "sh", "-c", "curl -sf '\(Self.eu)' && curl -sf '\(Self.us)'",
            ])
        let events = try lab.payloads("JSONValuesObserved")
        return (o, try #require(events.last?["values"] as? [String: Any]))
    }

    @Test func theStreamsAreComparedAcrossSites() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try ServerLab.lab("nats", "restore", "eu", "us")
        let (same, values) = try compare(lab)
        #expect(same.status == 0, "\(same.stdout) \(same.stderr)")
        let eu = try #require(values["eu_messages"] as? Int)
        #expect(eu >= 500 && values["us_messages"] as? Int == eu && values["us_bytes"] as? Int == values["eu_bytes"] as? Int)
        #expect(same.stdout.contains("(us_messages=$eu_messages ✓, us_bytes=$eu_bytes ✓)"), "\(same.stdout)")

        // Messages reach eu after the backup: the sites differ, and the observation says so.
        try ServerLab.lab("nats", "publish", "eu", "25")
        let (apart, after) = try compare(lab)
        #expect(apart.status == 1 && apart.stdout.contains("(us_messages=$eu_messages ✗, us_bytes=$eu_bytes ✗)"), "\(apart.stdout)")
        #expect(after["eu_messages"] as? Int == eu + 25 && after["us_messages"] as? Int == eu)
        #expect(after["eu_last_seq"] as? Int ?? 0 >= eu + 25)

        // Restored from eu: the same again.
        try ServerLab.lab("nats", "restore", "eu", "us")
        let (again, restored) = try compare(lab)
        #expect(again.status == 0 && restored["us_messages"] as? Int == eu + 25, "\(again.stdout)")
        try lab.expectValidAgainstSchemas()
    }

    /// A site that is down: the command fails, and that is the observation.
    @Test func aSiteThatDoesNotAnswerIsAFailedObservation() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let o = try lab.failback([
            "observe", "json", "--name", "CSR_EVENTS at a dead site", "--value", "m=\(Self.state).messages", "--",
            "curl", "-sS", "-f", "http://127.0.0.1:9/jsz?streams=true",
        ])
        #expect(o.status == 1 && o.stdout.contains("CSR_EVENTS at a dead site: exit 7: curl: (7) Failed to connect to 127.0.0.1 port 9"), "\(o.stdout)")
    }
}
