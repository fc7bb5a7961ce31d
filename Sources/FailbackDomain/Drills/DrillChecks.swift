import FailbackLog

/// A pass/fail fact an event states: an HTTP, DNS, recovery, Redis, row-count, pod or wait check, a
/// command's exit, a step's outcome. One definition, read by the drill's verdict (`DrillState`),
/// the report and replay.
public struct CheckVerdict: Sendable, Equatable {
    public enum Result: String, Sendable { case pass, fail, skipped }
    /// `http`, `dns`, `recovery`, `redis`, `row-counts`, `wait`, `command`, `pods`, `json`, `prometheus`, `step`.
    public var kind: String
    public var name: String
    public var result: Result

    /// What identifies "the same check" run again: a later run's result replaces an earlier one's.
    public var key: String { Self.key(kind: kind, name: name) }
    public static func key(kind: String, name: String) -> String { kind + "\u{0}" + name }
}

extension KnownPayload {
    /// The pass/fail fact this payload states, if it states one.
    public var verdict: CheckVerdict? {
        func v(_ kind: String, _ name: String, _ result: CheckVerdict.Result) -> CheckVerdict { CheckVerdict(kind: kind, name: name, result: result) }
        switch self {
        case .healthCheckObserved(let e): return v("http", e.target, e.passed ? .pass : .fail)
        case .recoveryStateObserved(let e): return v("recovery", e.server, e.passed ? .pass : .fail)
        case .redisReplicationObserved(let e): return v("redis", e.server, e.passed ? .pass : .fail)
        case .rowCountsCompared(let e): return v("row-counts", "\(e.source) vs \(e.target): \(e.tables.map(\.table).joined(separator: ", "))", e.matched ? .pass : .fail)
        case .dnsAnswerObserved(let e):
            return v("dns", "\(e.name) \(e.recordType) @\(e.resolver)", e.error == nil && (e.matched ?? !e.answers.isEmpty) ? .pass : .fail)
        case .waitConcluded(let e): return v("wait", "\(e.probe) until \(e.condition)", e.met ? .pass : .fail)
        case .commandExecuted(let e): return v("command", e.argv.joined(separator: " "), e.exitStatus == 0 ? .pass : .fail)
        case .commandFailedToStart(let e): return v("command", e.argv.joined(separator: " "), .fail)
        case .podStatesObserved(let e): return v("pods", e.checkName, e.readyCount == e.pods.count && !e.pods.isEmpty ? .pass : .fail)
        case .jsonValuesObserved(let e): return v("json", e.name, e.passed ? .pass : .fail)
        case .prometheusQueryEvaluated(let e): return v("prometheus", e.name, e.passed ? .pass : .fail)
        case .stepCompleted(let e): return v("step", e.step, .pass)
        case .stepFailed(let e): return v("step", e.step, .fail)
        case .stepSkipped(let e): return v("step", e.step, .skipped)
        default: return nil
        }
    }
}

extension DrillState {
    /// The check an event states at this point of the drill: its payload's verdict, except a DNS
    /// answer expected only after the cutover, recorded before the cutover step was done (then it
    /// is evidence, not a check).
    public func judged(_ payload: KnownPayload) -> CheckVerdict? {
        if case .dnsAnswerObserved(let e) = payload, e.expectation == .afterCutover, cutoverDoneAt == nil { return nil }
        return payload.verdict
    }

    /// When the first cutover step of the failback (not of the abort procedure) was done.
    public var cutoverDoneAt: Timestamp? {
        let rollback = followed?.rollback?.id
        return steps.filter { $0.cutover && $0.status == .done && $0.section != rollback }.compactMap(\.at).min()
    }
}

extension PodStatesObserved {
    /// What the check is about: the namespaces listed (a later listing of the same namespaces,
    /// from a file or from kubectl, is the same check run again), else where the listing came from.
    public var checkName: String {
        let namespaces = Set(pods.compactMap(\.namespace))
        guard !pods.isEmpty, pods.allSatisfy({ $0.namespace != nil }) else { return source }
        return "namespace " + namespaces.sorted().joined(separator: ", ")
    }
}

/// Duration for people, one format everywhere (status, report, replay, compare, drill list):
/// `251ms` and `5.88s` under a minute (at most two decimals, no float noise), `12m05s` under an
/// hour, `1h02m05s` beyond.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "—" }
    if seconds < 0 { return "-" + formatDuration(-seconds) }
    func twoDecimals(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int64(r)) : String(r)
    }
    if seconds == 0 { return "0s" }
    if seconds < 1 {
        let ms = (seconds * 100_000).rounded() / 100
        if ms < 1000 { return twoDecimals(ms) + "ms" }
    }
    if seconds < 59.995 { return twoDecimals(seconds) + "s" }
    // Past a million years, days would not help: the number as it is.
    guard seconds < 3e13 else { return "\(seconds)s" }
    let whole = Int64(seconds.rounded())
    func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
    if whole < 3600 { return "\(whole / 60)m\(two(whole % 60))s" }
    return "\(whole / 3600)h\(two(whole % 3600 / 60))m\(two(whole % 60))s"
}
