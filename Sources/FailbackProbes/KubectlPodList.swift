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
            pods.append(PodStatesObserved.Pod(
                name: name,
                namespace: item["metadata"]?["namespace"]?.stringValue,
                phase: status?["phase"]?.stringValue ?? "Unknown",
                readyContainers: containers.filter { $0["ready"]?.boolValue == true }.count,
                totalContainers: max(declared, containers.count),
                restarts: containers.reduce(0) { $0 + ($1["restartCount"]?.integerValue ?? 0) },
                reasons: reasons,
                node: item["spec"]?["nodeName"]?.stringValue))
        }
        return PodStatesObserved(source: source, pods: pods)
    }
}
