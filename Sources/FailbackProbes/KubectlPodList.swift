import FailbackDomain
import FailbackLog

/// Reads what `kubectl get pods -o json` prints (a `List` of `Pod`s, or one `Pod`) into a
/// `PodStatesObserved` payload.
public enum KubectlPodList {
    /// Parses the bytes of a kubectl listing; errors name `source` and the line and column.
    public static func parse(_ bytes: [UInt8], source: String) throws(InvalidInput) -> PodStatesObserved {
        let json: JSONValue
        do { json = try JSONParser.parse(bytes) } catch { throw InvalidInput("\(source): \(error.description)") }
        let kind = json["kind"]?.stringValue
        let items: [JSONValue]
        switch kind {
        case "List", "PodList":
            guard let list = json["items"]?.arrayValue else { throw InvalidInput("\(source): a \(kind!) without an \"items\" array") }
            items = list
        case "Pod":
            items = [json]
        default:
            let found = kind.map { "kind \"\($0)\"" } ?? "no \"kind\""
            throw InvalidInput("\(source): expected the output of 'kubectl get pods -o json' (kind List or Pod), found \(found)")
        }
        var pods: [PodStatesObserved.Pod] = []
        for (i, item) in items.enumerated() {
            guard item["kind"]?.stringValue ?? "Pod" == "Pod" else {
                throw InvalidInput("\(source): items[\(i)] is a \(item["kind"]?.stringValue ?? "?"), not a Pod")
            }
            guard let name = item["metadata"]?["name"]?.stringValue else { throw InvalidInput("\(source): items[\(i)] has no metadata.name") }
            let status = item["status"]
            let containers = status?["containerStatuses"]?.arrayValue ?? []
            let declared = item["spec"]?["containers"]?.arrayValue?.count ?? containers.count
            var reasons: [String] = []
            for c in containers {
                for state in ["waiting", "terminated"] {
                    if let reason = c["state"]?[state]?["reason"]?.stringValue, !reasons.contains(reason) { reasons.append(reason) }
                }
            }
            if let reason = status?["reason"]?.stringValue, !reasons.contains(reason) { reasons.append(reason) }
            pods.append(
                PodStatesObserved.Pod(
                    name: name,
                    namespace: item["metadata"]?["namespace"]?.stringValue,
                    phase: status?["phase"]?.stringValue ?? "Unknown",
                    readyContainers: containers.filter { $0["ready"]?.boolValue == true }.count,
                    totalContainers: max(declared, containers.count),
                    restarts: try restarts(of: containers, item: i, source: source),
                    reasons: reasons,
                    node: item["spec"]?["nodeName"]?.stringValue))
        }
        return PodStatesObserved(source: source, pods: pods)
    }

    /// The restarts of a pod's containers, added up: each `restartCount` a count (0 to 2^53-1).
    static func restarts(of containers: [JSONValue], item: Int, source: String) throws(InvalidInput) -> Int {
        var total = 0
        for (j, c) in containers.enumerated() {
            guard let value = c["restartCount"] else { continue }
            guard let n = value.integerValue, n >= 0 else {
                throw InvalidInput("\(source): items[\(item)].status.containerStatuses[\(j)].restartCount is \(CanonicalJSON.string(value)), not a count ≥ 0")
            }
            let (sum, overflow) = total.addingReportingOverflow(n)
            guard !overflow, sum <= 9_007_199_254_740_991 else { throw InvalidInput("\(source): items[\(item)]: restarts add up past 2^53-1") }
            total = sum
        }
        return total
    }
}

/// The pods probe: a kubectl listing read from a file or from running kubectl, as one sample.
public enum PodsProbe {
    public static let measures = ["ready": "", "total": "", "not_ready": ""]

    /// Reads the listing (from `file`, else by running `command`). The command is killed, with its
    /// whole process group, at `timeout` seconds: that is recorded as a failed sample with its
    /// error (no pods); one that prints more than `outputLimit` bytes is killed at once and refused,
    /// as is a listing that cannot be read (malformed JSON, the command failing).
    public static func check(file: String?, command: [String], outputLimit: Int, timeout: Double) throws(InvalidInput) -> ProbeSample {
        let bytes: [UInt8], source: String
        if let file {
            bytes = try readFile(file, .podListing)
            source = file
        } else {
            source = command.joined(separator: " ")
            switch CommandRunner.run(command, captureLimit: outputLimit, live: false, timeout: timeout, stopPastLimit: true) {
            case .failedToStart(let error):
                throw InvalidInput("\(command[0]) could not start: \(error)")
            case .timedOut(let after, _, _):
                let pods = PodStatesObserved(source: source, pods: [], error: "no listing within \(formatDuration(after)) (killed)")
                return ProbeSample(payload: pods, passed: false, values: [:])
            case .finished(let status, let signal, let stdout, let stderr, _, _):
                guard status == 0, !stdout.truncated else {
                    let why =
                        stdout.truncated
                        ? "printed more than limits.max_output_bytes (\(outputLimit))"
                        : (String(decoding: stderr.kept, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "exit \(status ?? 128 + (signal ?? 0))")
                    // The command line and its error output, quoted to a terminal that CI logs keep:
                    // redacted as they would be if recorded (`--token=...`, a URL's password).
                    throw InvalidInput(Redactor().redact("\(source): \(why)").text)
                }
                bytes = stdout.kept
            }
        }
        let pods = try KubectlPodList.parse(bytes, source: source)
        let ready = pods.readyCount
        return ProbeSample(
            payload: pods, passed: pods.passed,
            values: ["ready": Double(ready), "total": Double(pods.pods.count), "not_ready": Double(pods.pods.count - ready)])
    }
}
