import FailbackDomain
import FailbackLog
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Runs a command as `failback exec` does: its output is copied through to ours as it arrives, and
/// each stream is hashed whole and kept up to `captureLimit` bytes.
public enum CommandRunner {
    /// One stream as captured.
    public struct Stream: Sendable {
        public var kept: [UInt8] = []
        public var total = 0
        public var sha256: [UInt8] = []
        public var truncated: Bool { total > kept.count }
    }

    public enum Result: Sendable {
        /// It ran: how it ended, and what it printed.
        case finished(exitStatus: Int?, signal: Int?, stdout: Stream, stderr: Stream, startedAt: Timestamp, endedAt: Timestamp)
        /// It ran past its timeout and was killed, with its whole process group.
        case timedOut(after: Double, stdout: Stream, stderr: Stream)
        /// It could not be started.
        case failedToStart(error: String)
    }

    /// Runs `argv` (found on `PATH`); `live` copies its output to our stdout and stderr.
    ///
    /// With a `timeout` (seconds) the command runs in a process group of its own, and the whole
    /// group is killed (SIGKILL) when it runs longer: a shell's children too, however they hold
    /// the pipes. Its standard input is then `input` (through a pipe), or /dev/null; without a
    /// timeout it shares ours (and our process group: ctrl-C reaches it). With `stopPastLimit`, a
    /// command whose standard output passes `captureLimit` is killed at once (a listing that goes
    /// on for ever is no listing). The child starts with no signal blocked, whatever our threads
    /// block; `environment` is added to ours (where a password goes: never on a command line,
    /// which every local user sees in `ps`).
    public static func run(
        _ argv: [String], captureLimit: Int, live: Bool, timeout: Double? = nil, input: [UInt8]? = nil, stopPastLimit: Bool = false,
        environment: [String: String] = [:]
    ) -> Result {
        guard !argv.isEmpty else { return .failedToStart(error: "no command given") }
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0], inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, input == nil || pipe(&inPipe) == 0 else {
            return .failedToStart(error: String(cString: strerror(errno)))
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        if input != nil {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            for fd in inPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        } else if timeout != nil {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        // Nothing of ours but the three standard streams reaches the command (a server it starts
        // must not hold our pipes open).
        if let closeFrom = closeFrom { _ = closeFrom(&actions, 3) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t(), defaults = sigset_t()
        sigemptyset(&noSignals)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if timeout != nil {
            // A group of its own, killed whole at the timeout (pgid = the child's pid).
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnv: [UnsafeMutablePointer<CChar>?] = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }

        let startedAt = Timestamp.now()
        var pid: pid_t = 0
        // In our process group (no timeout: `failback exec`), we do as system(3) does while the
        // command runs: see `Foreground`.
        let foreground = timeout == nil ? Foreground() : nil
        defer { foreground?.restore() }
        let rc = posix_spawnp(&pid, argv[0], &actions, &attributes, cArgs, cEnv)
        if rc == 0 { foreground?.started(pid) }
        close(outPipe[1])
        close(errPipe[1])
        if input != nil { close(inPipe[0]) }
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            if input != nil { close(inPipe[1]) }
            return .failedToStart(error: String(cString: strerror(rc)))
        }

        var streams = [Stream(), Stream()]
        let hashers = [SHA256Hasher(), SHA256Hasher()]
        // The command's output, and its input while some is left to write (never blocking: a
        // command that does not read cannot stall us past the timeout).
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0), pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: -1, events: Int16(POLLOUT), revents: 0),
        ]
        var written = 0
        if let input {
            _ = fcntl(inPipe[1], F_SETFL, fcntl(inPipe[1], F_GETFL) | O_NONBLOCK)
            if input.isEmpty { close(inPipe[1]) } else { fds[2].fd = inPipe[1] }
        }
        var open = 2
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let started = monotonicSeconds()
        let deadline = timeout.map { started + $0 }
        var killed = false, timedOut = false
        /// The command's status once it has exited and been reaped (while its output may still be
        /// held open by what it left running).
        var reaped: Int32?
        var exitedAt: Double?
        func killGroup() {
            guard !killed else { return }
            killed = true
            // The group when it has one (a timeout), else the command alone.
            kill(timeout != nil ? -pid : pid, SIGKILL)
            // What left the group (setsid, a daemon) but still holds its output open goes too.
            if timeout != nil { for other in holders(ofPipesReadBy: [fds[0].fd, fds[1].fd]) { kill(other, SIGKILL) } }
        }
        while open > 0 {
            var wait: Int32 = -1
            if let deadline {
                let left = deadline - monotonicSeconds()
                if left <= 0 {
                    if !killed { timedOut = true }
                    killGroup()
                    // The pipes close when everything holding them is gone; a last resort.
                    if left < -2 { break }
                }
                // A probe's command: has it exited, leaving something behind that holds its
                // output? Then, after a moment for that to finish on its own, it is killed.
                if reaped == nil {
                    var status: Int32 = 0
                    if waitpid(pid, &status, WNOHANG) == pid {
                        reaped = status
                        // On its own, or by our kill at the deadline (then it timed out).
                        if !killed { exitedAt = monotonicSeconds() }
                    }
                }
                if let exitedAt, !killed, monotonicSeconds() - exitedAt > 0.2 { killGroup() }
                wait = Int32(max(10, min(reaped == nil ? 100 : 50, left * 1000)))
            }
            let ready = poll(&fds, 3, wait)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if let input, fds[2].fd >= 0, fds[2].revents != 0 {
                let (n, error) = writeWithoutSIGPIPE(fds[2].fd, input, from: written)
                if n > 0 { written += n }
                if (n < 0 && error != EAGAIN && error != EINTR) || written == input.count {
                    close(fds[2].fd)
                    fds[2].fd = -1
                }
            }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(fds[i].fd, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                    continue
                }
                let chunk = buffer[0..<n]
                chunk.withUnsafeBytes { hashers[i].update($0) }
                streams[i].total += n
                let room = captureLimit - streams[i].kept.count
                if room > 0 { streams[i].kept.append(contentsOf: chunk.prefix(room)) }
                if live { chunk.withUnsafeBytes { writeAll(i == 0 ? 1 : 2, $0) } }
                if stopPastLimit, i == 0, streams[0].total > captureLimit { killGroup() }
            }
        }
        for i in 0..<3 where fds[i].fd >= 0 { close(fds[i].fd) }
        var status: Int32 = reaped ?? 0
        if reaped == nil { while waitpid(pid, &status, 0) < 0 && errno == EINTR {} }
        let endedAt = Timestamp.now()
        for i in 0..<2 { streams[i].sha256 = hashers[i].finalize() }
        // Killed at the deadline after it had exited on its own: it finished (what it left behind
        // is what was killed).
        if timedOut && exitedAt == nil { return .timedOut(after: timeout ?? 0, stdout: streams[0], stderr: streams[1]) }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros.
        let exited = status & 0x7F == 0
        return .finished(
            exitStatus: exited ? Int((status >> 8) & 0xFF) : nil, signal: exited ? nil : Int(status & 0x7F),
            stdout: streams[0], stderr: streams[1], startedAt: startedAt, endedAt: endedAt)
    }

    /// While a command runs in our process group, what signals do to failback: SIGINT and SIGQUIT
    /// (which a terminal sends the whole group: ctrl-C) are ignored by failback, as the command
    /// gets them too and ends as it will; SIGTERM and SIGHUP, sent to failback alone (`timeout`,
    /// `kill`, a terminal closed), are passed on to the command. Either way failback lives to
    /// record how the command ended (an interrupted command is evidence too) instead of dying
    /// before it and leaving the command running. The dispositions are restored after.
    final class Foreground {
        private var saved: [(Int32, sigaction)] = []
        private var savedMask = sigset_t()

        init() {
            Self.child = 0
            Self.pending = 0
            // Delivered to this thread even when whoever started us had them blocked (a test
            // runner's thread, a supervisor): blocked, SIGTERM would wait for ever.
            var these = sigset_t()
            sigemptyset(&these)
            for sig in [SIGINT, SIGQUIT, SIGTERM, SIGHUP] { sigaddset(&these, sig) }
            pthread_sigmask(SIG_UNBLOCK, &these, &savedMask)
            for sig in [SIGINT, SIGQUIT, SIGTERM, SIGHUP] {
                var action = sigaction()
                sigemptyset(&action.sa_mask)
                action.sa_flags = SA_RESTART
                if sig == SIGINT || sig == SIGQUIT {
                    action.__sigaction_handler.sa_handler = SIG_IGN
                } else {
                    action.__sigaction_handler.sa_handler = { sig in
                        // Async-signal-safe: reads a word, calls kill(2).
                        if Foreground.child > 0 { kill(Foreground.child, sig) } else { Foreground.pending = sig }
                    }
                }
                var old = sigaction()
                if sigaction(sig, &action, &old) == 0 { saved.append((sig, old)) }
            }
        }

        /// The command started: a signal that came while it was being started goes to it now.
        func started(_ pid: pid_t) {
            Self.child = pid
            if Self.pending != 0 { kill(pid, Self.pending) }
        }

        func restore() {
            Self.child = 0
            for (sig, old) in saved {
                var action = old
                sigaction(sig, &action, nil)
            }
            if !saved.isEmpty { pthread_sigmask(SIG_SETMASK, &savedMask, nil) }
            saved = []
        }

        // Read by the signal handler; one command runs in the foreground at a time.
        nonisolated(unsafe) static var child: pid_t = 0
        nonisolated(unsafe) static var pending: Int32 = 0
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which its headers declare only
    /// for _GNU_SOURCE.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    static func monotonicSeconds() -> Double { FailbackLog.monotonicSeconds() }

    /// Writes what is left of `bytes` to a command's standard input. A command that exited without
    /// reading it closes the pipe: the write fails (EPIPE) instead of SIGPIPE ending us, blocked on
    /// this thread for the write and taken back if it came.
    private static func writeWithoutSIGPIPE(_ fd: Int32, _ bytes: [UInt8], from offset: Int) -> (Int, Int32) {
        var pipeSignal = sigset_t(), previous = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        let error = n < 0 ? errno : 0
        if error == EPIPE {
            var now = timespec()
            _ = sigtimedwait(&pipeSignal, nil, &now)
        }
        return (n, error)
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}

extension CommandRunner.Result {
    /// The event this run becomes (`CommandExecuted` or `CommandFailedToStart`). With `keep`, each
    /// stream was captured past it (`CapturedOutput.redactionLookahead`) and is cut to `keep` bytes
    /// once redacted; it counts as truncated when it printed more than `keep`.
    public func payload(argv: [String], cwd: String, step: String?, keep: Int? = nil) -> any EventPayload {
        switch self {
        case .failedToStart(let error):
            return CommandFailedToStart(argv: argv, cwd: cwd, step: step, error: error)
        case .timedOut(let after, let stdout, let stderr):
            // `exec` sets no timeout; a probe's command that timed out is recorded by the probe.
            let now = Timestamp.now()
            let started = Timestamp(millisecondsSinceEpoch: now.millisecondsSinceEpoch - Int64(after * 1000))
            return CommandRunner.Result.finished(exitStatus: nil, signal: Int(SIGKILL), stdout: stdout, stderr: stderr, startedAt: started, endedAt: now)
                .payload(argv: argv, cwd: cwd, step: step)
        case .finished(let exitStatus, let signal, let stdout, let stderr, let startedAt, let endedAt):
            func captured(_ s: CommandRunner.Stream) -> CapturedOutput {
                // Invalid UTF-8 becomes U+FFFD in the kept text; the digest is of the bytes as printed.
                CapturedOutput(
                    text: String(decoding: s.kept, as: UTF8.self), bytes: s.total, sha256: s.sha256.hex, truncated: s.total > (keep ?? s.kept.count),
                    keep: keep.flatMap { s.kept.count > $0 ? $0 : nil })
            }
            return CommandExecuted(
                argv: argv, cwd: cwd, step: step, startedAt: startedAt, endedAt: endedAt, exitStatus: exitStatus, signal: signal,
                stdout: captured(stdout), stderr: captured(stderr))
        }
    }

    /// The status `failback exec` exits with: the command's, 128 + signal, or 127 when it did not start.
    public var exitCode: Int32 {
        switch self {
        case .failedToStart: return 127
        case .timedOut: return 128 + SIGKILL
        case .finished(let status, let signal, _, _, _, _): return Int32(status ?? (128 + (signal ?? 0)))
        }
    }
}

/// The processes (other than this one) that hold a descriptor on any of the pipes these read ends
/// belong to: what left a command's process group (`setsid`, a daemon) yet keeps its output open.
/// Found through /proc (Linux); none elsewhere.
func holders(ofPipesReadBy fds: [Int32]) -> [pid_t] {
    var targets: Set<String> = []
    for fd in fds where fd >= 0 {
        var st = stat()
        if fstat(fd, &st) == 0 { targets.insert("pipe:[\(st.st_ino)]") }
    }
    guard !targets.isEmpty, let proc = opendir("/proc") else { return [] }
    defer { closedir(proc) }
    let me = getpid()
    var found: [pid_t] = []
    var link = [CChar](repeating: 0, count: 64)
    while let entry = readdir(proc) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        guard let pid = pid_t(name), pid != me, let dir = opendir("/proc/\(pid)/fd") else { continue }
        defer { closedir(dir) }
        while let f = readdir(dir) {
            let fd = withUnsafeBytes(of: f.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let n = readlink("/proc/\(pid)/fd/\(fd)", &link, link.count - 1)
            guard n > 0 else { continue }
            if targets.contains(String(decoding: link[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)) {
                found.append(pid)
                break
            }
        }
    }
    return found
}
