import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// Something an export or a verifier could not do, or found, with the file when there is one.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, CaseIterable {
        /// Reading or writing failed (exit 74).
        case io
        /// What was asked cannot be done: an output path that is not a regular file, a public key
        /// given to sign with, a drill too large for a bundle (65).
        case input
        /// A file that is not in its format: a bundle's gzip or tar, a checkpoint, a PEM key (65).
        case malformed
        /// Evidence in its format that does not hold: a proof whose path or signature fails (1).
        case integrity
        /// The drill moved on while it was read; reading it again will do (75).
        case changed
    }
    public var message: String
    public var kind: Kind
    /// The file read or written, when the error is about one.
    public var subject: ErrorSubject?
    /// A drill whose chain does not verify, refused: what was wrong, naming the first bad `seq`.
    static func broken(_ report: VerificationReport, doing what: String) -> ExportError {
        ExportError(
            "drill \(report.drillID ?? "?"): \(report.finding): not \(what) (run 'failback verify')", kind: .integrity,
            subject: report.badSeq.map(ErrorSubject.seq) ?? report.drillID.map(ErrorSubject.drill))
    }

    public init(_ message: String, kind: Kind = .io, subject: ErrorSubject? = nil) {
        self.message = message
        self.kind = kind
        self.subject = subject
    }
    public var description: String { message }

    static func errno(_ what: String, _ path: String) -> ExportError {
        ExportError("\(what) \(path): \(String(cString: strerror(Glibc.errno)))", subject: .path(path))
    }
}

extension ExportError: FailbackError {
    public var errorCode: String { "export.\(kind)" }

    public var exitStatus: ExitStatus {
        switch kind {
        case .io: .ioError
        case .input, .malformed: .dataError
        case .integrity: .integrityFailure
        case .changed: .tempFail
        }
    }
}

/// A file written whole or not at all. `-` is standard output (written as it comes). Otherwise the
/// path must be a regular file or nothing yet: a folder, device, FIFO, socket or symbolic link is
/// refused before anything is written. The bytes go to a file with no name in the same folder
/// (`O_TMPFILE`), which `commit` syncs, links beside the path and renames onto it with signals
/// held, so no failure, signal or kill leaves a partial file behind. Where the file system has no
/// `O_TMPFILE`, a temporary `PATH.partial-PID` is used instead, removed on failure (a kill -9 may
/// leave it).
public final class OutputFile {
    public let path: String
    /// The named temporary file (the fallback), or nil for an unnamed one or standard output.
    var temporary: String?
    var fd: Int32
    let toStandardOutput: Bool
    var buffer: [UInt8] = []

    public init(path: String) throws(ExportError) {
        self.path = path
        toStandardOutput = path == "-"
        if toStandardOutput {
            fd = 1
            return
        }
        if path.isEmpty { throw ExportError("an empty output path: name a file, or - for standard output", kind: .input) }
        var st = stat()
        if lstat(path, &st) == 0 {
            let kind: String? =
                switch st.st_mode & S_IFMT {
                case S_IFREG: nil
                case S_IFDIR: "a folder"
                case S_IFLNK: "a symbolic link (not followed)"
                case S_IFIFO: "a FIFO"
                case S_IFCHR, S_IFBLK: "a device"
                case S_IFSOCK: "a socket"
                default: "not a regular file"
                }
            if let kind { throw ExportError("\(path) is \(kind); write to a regular file (or - for standard output)", kind: .input) }
        }
        let dir = SQLiteStorage.directory(of: path)
        fd = open(dir, __O_TMPFILE | O_DIRECTORY | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
            let named = path + ".partial-\(getpid())"
            fd = open(named, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            if fd >= 0 { temporary = named }
        }
        if fd < 0 { throw ExportError.errno("cannot write in", dir) }
        buffer.reserveCapacity(1 << 20)
    }

    public func write(_ bytes: some Collection<UInt8>) throws(ExportError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    public func write(_ text: String) throws(ExportError) { try write(Array(text.utf8)) }

    func flush() throws(ExportError) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if Glibc.errno == EINTR { continue }
                throw ExportError.errno("cannot write", toStandardOutput ? "standard output" : path)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes the file appear at `path`, complete (standard output: everything written).
    public func commit(mode: mode_t = 0o644) throws(ExportError) {
        try flush()
        if toStandardOutput { return }
        fchmod(fd, mode)
        guard fsync(fd) == 0 else { throw ExportError.errno("cannot sync", path) }
        // No signal between naming the file and putting it in place.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        let named: String
        if let temporary {
            named = temporary
        } else {
            named = path + ".partial-\(getpid())"
            unlink(named)
            guard linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, named, AT_SYMLINK_FOLLOW) == 0 else { throw ExportError.errno("cannot name", path) }
        }
        close(fd)
        fd = -1
        guard rename(named, path) == 0 else {
            let error = ExportError.errno("cannot rename into", path)
            unlink(named)
            throw error
        }
        temporary = nil
    }

    /// Removes the temporary file (nothing appears at `path`). Also done when the file is dropped
    /// uncommitted; a process about to exit cannot wait for that (another thread may hold it).
    public func discard() {
        guard fd >= 0, !toStandardOutput else { return }
        close(fd)
        fd = -1
        if let temporary { unlink(temporary) }
    }

    deinit { discard() }
}
