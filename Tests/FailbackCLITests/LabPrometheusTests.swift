import Foundation
import Testing

/// `observe prometheus` against the lab's real Prometheus, which scrapes the lab's application
/// every second: errors and slowness injected into the application (`scripts/lab http us ...`)
/// move the real error rate and p95 the runbook's post-rollback validation asks for.
@Suite(.serialized) struct LabPrometheusTests {
    init() throws { try ServerLab.require() }

    static let prometheus = "http://127.0.0.1:\(ServerLab.portBase + 90)"
    /// Seed 2's validation, over the lab's `us` site: error rate < 0.1%, p95 latency < 500ms.
    static let errorRate = #"sum(rate(lab_http_requests_total{site="us",code=~"5.."}[10s])) / sum(rate(lab_http_requests_total{site="us"}[10s]))"#
    static let p95 = #"histogram_quantile(0.95, sum by (le) (rate(lab_http_request_duration_seconds_bucket{site="us"}[10s])))"#

    func observe(_ lab: Lab, _ name: String, _ query: String, _ more: [String]) throws -> Outcome {
        try lab.failback(["observe", "prometheus", "--url", Self.prometheus, "--name", name, "--query", query] + more)
    }

    /// Errors injected: the rate crosses the threshold (the loop sees it), a single check of it
    /// fails; errors stopped: the loop waits until the rate is back under 0.1%.
    @Test func theErrorRateCrossesItsThresholdAndComesBack() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try ServerLab.lab("http", "us", "503", "30%")
        defer { _ = try? ServerLab.lab("http", "us", "503", "0%") }
        // The rate climbs as the window fills: past the threshold at once, to about the injected 30%.
        let up = try observe(lab, "error rate us", Self.errorRate, ["--until", "value>=20%", "--every", "1s", "--timeout", "90s"])
        #expect(up.status == 0 && summaries(up).last?.hasPrefix("prometheus error rate us: until value>=20% MET after") == true, "\(up.stdout)")
        let check = try observe(lab, "error rate us", Self.errorRate, ["--expect", "value<0.1%"])
        #expect(check.status == 1, "\(check.stdout)")
        let shown = try #require(summaries(check).first)
        #expect(shown.hasPrefix("error rate us: 0.") && shown.hasSuffix(" (value<0.1% ✗)"), "\(shown)")
        // The rate Prometheus computed is about the 30% injected (about 300 requests in the window).
        let rate = try #require(Double(shown.dropFirst("error rate us: ".count).prefix { $0 != " " }))
        #expect(rate > 0.1 && rate < 0.6, "\(rate)")

        try ServerLab.lab("http", "us", "503", "0%")
        let down = try observe(lab, "error rate us", Self.errorRate, ["--until", "value<0.1%", "--every", "1s", "--timeout", "120s"])
        let lines = summaries(down)
        #expect(down.status == 0 && lines.last?.hasPrefix("prometheus error rate us: until value<0.1% MET after") == true, "\(down.stdout)")
        // It was not met at once: the 10 s window still held the errors.
        #expect(lines.count > 2 && lines.first?.hasPrefix("error rate us: 0.") == true && lines.first != "error rate us: 0", "\(lines)")
        try lab.expectValidAgainstSchemas()
    }

    /// Slowness injected: p95 passes 500ms; stopped: it comes back under.
    @Test func p95LatencyFollowsTheInjectedSlowness() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        try ServerLab.lab("http", "us", "slow", "800ms")
        defer { _ = try? ServerLab.lab("http", "us", "slow", "0") }
        let slow = try observe(lab, "p95 us", Self.p95, ["--until", "value>=500ms", "--every", "1s", "--timeout", "90s"])
        #expect(slow.status == 0, "\(slow.stdout)")
        let fails = try observe(lab, "p95 us", Self.p95, ["--expect", "value<500ms"])
        #expect(fails.status == 1 && summaries(fails).first?.hasSuffix("(value<500ms ✗)") == true, "\(fails.stdout)")
        try ServerLab.lab("http", "us", "slow", "0")
        let fast = try observe(lab, "p95 us", Self.p95, ["--until", "value<500ms", "--every", "1s", "--timeout", "120s"])
        #expect(fast.status == 0 && summaries(fast).last?.hasPrefix("prometheus p95 us: until value<500ms MET after") == true, "\(fast.stdout)")
    }

    /// A Prometheus that is not there and a query it refuses: failed observations, within the
    /// timeout, saying why; a query with no series is no pass either.
    @Test func failuresAreRecordedAsFailedObservations() throws {
        let lab = try Lab()
        _ = try lab.startDrill("rollback-teei")
        let started = Date()
        let gone = try lab.failback(["observe", "prometheus", "--url", "http://127.0.0.1:9", "--name", "gone", "--query", "up", "--timeout", "3s"])
        #expect(gone.status == 1 && summaries(gone).first?.hasPrefix("gone: (7) Failed to connect to 127.0.0.1 port 9") == true, "\(gone.stdout)")
        #expect(Date().timeIntervalSince(started) < 8)
        let bad = try observe(lab, "bad", "sum(rate(x[5m]", [])
        #expect(bad.status == 1 && summaries(bad) == [#"bad: bad_data: invalid parameter "query": 1:15: parse error: unclosed left parenthesis"#], "\(bad.stdout)")
        let none = try observe(lab, "none", "lab_no_such_metric", ["--expect", "value=0"])
        #expect(none.status == 1 && summaries(none) == ["none: no series (value=0 ✗)"], "\(none.stdout)")
        let range = try observe(lab, "range", "lab_http_requests_total[5s]", [])
        #expect(range.status == 1 && summaries(range) == ["range: a range vector (many values a series): ask for one value, e.g. rate(m[5m]) or last_over_time(m[5m])"])
        // Several series, each must hold: every status's count is at least 0, and the labels are shown.
        let each = try observe(lab, "by code", #"sum by (code) (lab_http_requests_total{site="eu"})"#, ["--expect", "value>=0"])
        #expect(each.status == 0 && summaries(each).first?.hasPrefix("by code: {code=200} ") == true, "\(each.stdout)")
        #expect(
            try lab.failback(["observe", "prometheus", "--url", "ftp://x", "--query", "up"]).stderr == "failback: error: --url \"ftp://x\" is not an http:// or https:// URL\n")
        #expect(try lab.failback(["observe", "prometheus", "--url", Self.prometheus, "--query", "up", "--expect", "rate<1"]).status == 64)
        try lab.expectValidAgainstSchemas()
    }
}
