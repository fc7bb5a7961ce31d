#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What each payload is checked for before it is appended (`EventPayload.validate`), beyond what
// reading it back requires: every field as its schema in schemas/payloads says, and hosts, ports,
// DNS names and record types as docs/cli.md says. Events recorded before a check existed stay
// readable: the readers do not call these.

extension Check {
    /// An optional text that, when given, is not blank (`--notes ''` is no note).
    static func nonEmptyIfGiven(_ value: String?, _ name: String) throws(InvalidInput) {
        if let value { _ = try nonEmpty(value, name) }
    }
}

extension DNSAnswerObserved {
    /// The record types `record dns --type` and `observe dns --type` take.
    public static let recordTypes = ["A", "AAAA", "CNAME", "MX", "NS", "PTR", "TXT"]

    public func validate() throws(InvalidInput) {
        try FieldCheck.dnsName(name, "DNS name")
        guard Self.recordTypes.contains(recordType) else {
            throw InvalidInput("record type \(recordType.debugDescription) is not one of \(Self.recordTypes.joined(separator: ", "))")
        }
        try FieldCheck.hostAndPort(resolver, "resolver")
        // An address record's answers (and the expected one) are addresses.
        let family: Int32? = recordType == "A" ? AF_INET : recordType == "AAAA" ? AF_INET6 : nil
        if let family {
            for value in answers.map(\.value) + (expected.map { [$0] } ?? []) {
                var buffer = in6_addr()
                guard inet_pton(family, value, &buffer) == 1 else {
                    throw InvalidInput("\(value.debugDescription) is not an \(recordType == "A" ? "IPv4" : "IPv6") address (an answer to \(recordType) is one)")
                }
            }
        }
        for a in answers { if let ttl = a.ttl { _ = try Check.count(ttl, "TTL") } }
        if let l = latencyMilliseconds { _ = try Check.nonNegative(l, "latency (ms)") }
    }
}

extension PodStatesObserved {
    public func validate() throws(InvalidInput) {
        try Check.nonEmptyIfGiven(source, "pod listing source")
        for (i, pod) in pods.enumerated() {
            _ = try Check.nonEmpty(pod.name, "pods[\(i)].name")
            _ = try Check.count(pod.readyContainers, "pods[\(i)] ready containers")
            _ = try Check.count(pod.totalContainers, "pods[\(i)] containers")
            _ = try Check.count(pod.restarts, "pods[\(i)] (\(pod.name)) restarts")
        }
    }
}

extension HealthCheckObserved {
    public func validate() throws(InvalidInput) {
        try FieldCheck.httpURL(target, "target")
    }
}

extension ReplicationLagSampled {
    public func validate() throws(InvalidInput) {
        if let b = lagBytes { _ = try Check.count(b, "lag bytes") }
        if let r = rawLagSeconds { _ = try Check.nonNegative(r, "raw lag seconds") }
    }
}

extension RowCountsCompared {
    public func validate() throws(InvalidInput) {
        guard !tables.isEmpty else { throw InvalidInput("a row-count comparison names at least one table") }
    }
}

extension ChecklistItemVerified {
    public func validate() throws(InvalidInput) {
        _ = try Check.nonEmpty(item, "checklist item")
        try Check.nonEmptyIfGiven(by, "--by")
        try Check.nonEmptyIfGiven(notes, "--notes")
    }
}

extension QuestionAnswered {
    public func validate() throws(InvalidInput) {
        _ = try Check.nonEmpty(question, "question")
        try Check.nonEmptyIfGiven(by, "--by")
        try Check.nonEmptyIfGiven(note, "--note")
        try Check.nonEmptyIfGiven(revisionReason, "--reason")
    }
}

extension DrillStarted {
    public func validate() throws(InvalidInput) {
        try Check.nonEmptyIfGiven(operatorName, "--operator")
        try Check.nonEmptyIfGiven(ticket, "--ticket")
        try Check.nonEmptyIfGiven(option, "--option")
    }
}

extension DrillCompleted {
    public func validate() throws(InvalidInput) {
        for r in reasons { _ = try Check.nonEmpty(r, "a reason") }
        try Check.nonEmptyIfGiven(overrideReason, "--reason")
    }
}
