import Foundation
import Testing

/// `observe pods` over real kubectl listings (recorded `kubectl get pods -o json` files).
@Suite struct ObservePodsTests {
    let kubectl = repositoryRoot.appendingPathComponent("Tests/Fixtures/kubectl").path

    @Test func readsAFileOrACommandAndPassesOnlyWhenAllAreReady() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        #expect(try lab.failback(["observe", "pods", "--from-file", "\(kubectl)/pods-ready.json"]).status == 0)
        let mixed = try lab.failback(["observe", "pods", "--", "cat", "\(kubectl)/pods-mixed.json"])
        #expect(mixed.status == 1)
        #expect(mixed.stdout.contains("2/4 pods ready; not ready: budcluster-6b7c8d9e0-a1b2c (CrashLoopBackOff)"))
        let before = try lab.eventCount
        let bad = try lab.failback(["observe", "pods", "--", "cat", "\(kubectl)/pods-malformed.json"])
        #expect(bad.status == 65 && bad.stderr.contains("line 17, column 1: unexpected end of input"))
        let failing = try lab.failback(["observe", "pods", "--", "sh", "-c", "echo 'error: context \"primary\" not found' >&2; exit 1"])
        #expect(failing.status == 65 && failing.stderr.contains("error: context \"primary\" not found"))
        #expect(try lab.eventCount == before)
        #expect(try lab.failback(["observe", "pods"]).status == 64)
    }

    /// Pods come up between samples: the loop records each listing, then the verdict.
    @Test func waitsUntilThePodsAreReady() throws {
        let lab = try Lab()
        _ = try lab.startDrill("failback-bud")
        // Prints the mixed listing twice, then the ready one (a counter file keeps the state).
        let script =
            "n=$(cat \(lab.dir)/n 2>/dev/null || echo 0); echo $((n+1)) > \(lab.dir)/n; "
            + "if [ $n -lt 2 ]; then cat \(kubectl)/pods-mixed.json; else cat \(kubectl)/pods-ready.json; fi"
        let o = try lab.failback(["observe", "pods", "--until", "not_ready=0", "--every", "100ms", "--timeout", "20s", "--", "sh", "-c", script])
        #expect(o.status == 0)
        let lines = o.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[3].contains("WaitConcluded") && lines[3].contains("until not_ready=0 MET after 3 samples"))
    }
}
