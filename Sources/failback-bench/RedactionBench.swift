import FailbackDomain
import FailbackLog

/// `failback-bench --redaction [EVENTS]`: what redaction costs, alone (no store): the payloads of
/// the bench drill (lag samples and row counts, which hold no anchor), an ordinary 64 KiB command
/// output, and the same output with secrets in it. Best of 5 runs each; one JSON object.
func redactionBench(events: Int) {
    let redactor = Redactor()
    let samples = payloads(0, events).map(\.json)
    func best(_ runs: Int = 5, _ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<runs {
            let t0 = seconds()
            body()
            best = min(best, seconds() - t0)
        }
        return best
    }
    var sink = 0
    let payloadSeconds = best {
        for p in samples { sink &+= redactor.redact(p, at: "/payload").redactions.count }
    }
    let lines = [
        "kubectl get pods -n bud --context=primary",
        "budcluster-7d9f8b6c5-x2k4p    0/1     CrashLoopBackOff   5          10m",
        " client_addr |   state   | replay_lag",
        " 10.0.1.12   | streaming | 00:00:00.004812",
        "slave0:ip=10.0.1.13,port=6379,state=online,offset=123456789,lag=0",
        "2026-11-23T18:21:00.250Z INFO replication caught up, lag 0.42s, token bucket refilled, keys rotated",
        "curl https://api.budai.example.com/api/v1/projects -H \"Authorization: Bearer $TOKEN\"",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  evidence/drill.tar.gz",
    ]
    var ordinary = ""
    var i = 0
    while ordinary.utf8.count < 65_536 {
        ordinary += lines[i % lines.count] + "\n"
        i += 1
    }
    let secrets = ordinary.replacingFirst("keys rotated", "PGPASSWORD=Pw9secret psql; curl -u admin:Pw8secret https://x")
        .replacingFirst("replay_lag", "replay_lag AKIAIOSFODNN7EXAMPLE eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
    let outputSeconds = best(20) { sink &+= redactor.redact(ordinary).kinds.count }
    let secretSeconds = best(20) { sink &+= redactor.redact(secrets).kinds.count }
    /// Milliseconds with three decimals (a JSON number).
    func ms(_ seconds: Double) -> String {
        let micro = Int((seconds * 1e6).rounded())
        let fraction = String(micro % 1000)
        return "\(micro / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
    print(
        "{\"events\": \(events), \"ns_per_sample_payload\": \(Int(payloadSeconds / Double(events) * 1e9)), \"ms_per_64k_output\": \(ms(outputSeconds)), \"ms_per_64k_output_with_secrets\": \(ms(secretSeconds)), \"sink\": \(sink % 2)}"
    )
}

extension String {
    fileprivate func replacingFirst(_ target: String, _ replacement: String) -> String {
        guard let r = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(r, with: replacement)
        return copy
    }
}
