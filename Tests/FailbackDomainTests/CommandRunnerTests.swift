import Testing

@testable import FailbackProbes

#if canImport(Glibc)
import Glibc
#endif

/// How a probe runs its commands: killed with their whole process group at the timeout, stopped
/// when their output passes the limit, fed standard input without ever being ended by SIGPIPE.
@Suite struct CommandRunnerTests {
    @Test func theWholeGroupIsKilledAtTheTimeout() {
        let clock = ContinuousClock()
        var result: CommandRunner.Result?
        let took = clock.measure {
            // The background sleep holds the output pipe: killing the shell alone would wait for it.
            result = CommandRunner.run(["sh", "-c", "sleep 30 & sleep 30"], captureLimit: 100, live: false, timeout: 0.5)
        }
        guard case .timedOut(let after, _, _)? = result else { Issue.record("not timed out: \(String(describing: result))"); return }
        #expect(after == 0.5)
        #expect(took < .seconds(3), "took \(took)")
    }

    @Test func outputPastTheLimitStopsTheCommand() {
        guard case .finished(_, let signal, let stdout, _, _, _) = CommandRunner.run(["yes"], captureLimit: 1000, live: false, timeout: 20, stopPastLimit: true) else {
            Issue.record("yes did not finish")
            return
        }
        #expect(signal == Int(SIGKILL) && stdout.truncated && stdout.kept.count == 1000)
    }

    @Test func inputGoesThroughAPipeAndACommandThatDoesNotReadItEndsNothing() {
        guard case .finished(let status, _, let stdout, _, _, _) = CommandRunner.run(["cat"], captureLimit: 100, live: false, timeout: 5, input: Array("url = \"x\"\n".utf8)) else {
            Issue.record("cat did not finish")
            return
        }
        #expect(status == 0 && stdout.kept == Array("url = \"x\"\n".utf8))
        // `true` exits without reading 4 MiB: the write fails (EPIPE), and we are still here.
        guard case .finished(let exit, _, _, _, _, _) = CommandRunner.run(["true"], captureLimit: 100, live: false, timeout: 5, input: [UInt8](repeating: 0x41, count: 4 << 20))
        else {
            Issue.record("true did not finish")
            return
        }
        #expect(exit == 0)
    }
}
