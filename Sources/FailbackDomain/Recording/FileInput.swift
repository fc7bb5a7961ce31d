#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a file a command reads may be, and how large (docs/configuration.md, "File inputs").
public struct FileInput: Sendable, Equatable {
    /// How the file is named in errors: `runbook`, `pod listing`...
    public var what: String
    /// The most bytes read; a larger file (or standard input that goes on) is refused.
    public var limit: Int

    public init(_ what: String, limit: Int) {
        self.what = what
        self.limit = limit
    }

    /// A runbook (YAML): the shipped ones are under 30 KB.
    public static let runbook = FileInput("runbook", limit: 1 << 20)
    /// The configuration file (JSON).
    public static let configuration = FileInput("configuration file", limit: 1 << 20)
    /// A PEM key: a few hundred bytes.
    public static let key = FileInput("key", limit: 64 << 10)
    /// An inclusion proof: one event (at most a 16 MiB line) as a JSON string, escaped.
    public static let proof = FileInput("proof", limit: 64 << 20)
    /// What `kubectl get pods -o json` printed: about 15 KB a pod, so some 2,000 pods.
    public static let podListing = FileInput("pod listing", limit: 32 << 20)
    /// The file naming an operator's current drill (`JoinedDrill`).
    public static let currentDrill = FileInput("current-drill file", limit: 4096)

    /// `limit` as a person reads it: `1 MiB`, `64 KiB`.
    public var limitText: String { byteSize(limit) }
}

/// `16 MiB`, `64 KiB`, or bytes.
public func byteSize(_ bytes: Int) -> String {
    if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
    if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
    return "\(bytes) bytes"
}

/// Opens `path` for reading if it is a regular file: a device such as /dev/zero, a FIFO, a folder
/// or a socket is refused before anything is read, and a FIFO is opened without waiting for a
/// writer (O_NONBLOCK, then fstat). A file that is not there is `InvalidInput.Kind.missing`.
/// Returns the descriptor (blocking, close-on-exec) and the file's size.
public func openRegularFile(_ path: String, what: String) throws(InvalidInput) -> (fd: Int32, size: Int) {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else {
        let e = errno
        throw InvalidInput("\(what) \(path): \(String(cString: strerror(e)))", kind: e == ENOENT || e == ENOTDIR ? .missing : .invalid, subject: .path(path))
    }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
        let message = String(cString: strerror(errno))
        close(fd)
        throw InvalidInput("\(what) \(path): \(message)", subject: .path(path))
    }
    let type = st.st_mode & S_IFMT
    guard type == S_IFREG else {
        close(fd)
        throw InvalidInput("\(what) \(path) is \(fileKind(type)), not a regular file", subject: .path(path))
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    return (fd, Int(st.st_size))
}

/// Reads a whole file, or standard input for `-`, as `input` allows: at most `input.limit` bytes,
/// and only a regular file (see `openRegularFile`). Errors are one line naming the file.
public func readFile(_ path: String, _ input: FileInput) throws(InvalidInput) -> [UInt8] {
    let fd: Int32
    let name = path == "-" ? "\(input.what) from standard input" : "\(input.what) \(path)"
    var bytes: [UInt8] = []
    if path == "-" {
        fd = 0
        var st = stat()
        if fstat(0, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { throw InvalidInput("\(name): standard input is a folder") }
        // Reserved, not touched: memory is taken only as bytes come, and never copied to grow.
        bytes.reserveCapacity(input.limit + 1)
    } else {
        let (opened, size) = try openRegularFile(path, what: input.what)
        fd = opened
        guard size <= input.limit else {
            close(fd)
            throw InvalidInput("\(name) is \(size) bytes, over the limit of \(input.limitText)")
        }
        bytes.reserveCapacity(size + 1)
    }
    defer { if fd != 0 { close(fd) } }
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        // One byte past the limit tells input at the limit from longer input (a file may grow
        // after fstat; standard input may never end).
        let room = input.limit + 1 - bytes.count
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, room)) }
        if n < 0 {
            if errno == EINTR { continue }
            throw InvalidInput("\(name): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
        if bytes.count > input.limit { throw InvalidInput("\(name) is over the limit of \(input.limitText)") }
    }
    return bytes
}

/// `a character device`, `a FIFO`... for a file type of `stat`.
func fileKind(_ type: mode_t) -> String {
    switch type {
    case S_IFDIR: return "a folder"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "of an unknown type"
    }
}
