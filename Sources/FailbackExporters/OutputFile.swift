import FailbackDomain

#if canImport(Glibc)
import Glibc
#endif

/// Something an export could not do (a file it could not write or read), with the path.
public struct ExportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    static func errno(_ what: String, _ path: String) -> ExportError { ExportError("\(what) \(path): \(String(cString: strerror(Glibc.errno)))") }
}

/// A file written whole or not at all: bytes go to a temporary file beside it, which `commit`
/// syncs and renames into place. Dropped without `commit`, the temporary file is removed.
public final class OutputFile {
    public let path: String
    let temporary: String
    var fd: Int32
    var buffer: [UInt8] = []

    public init(path: String) throws(ExportError) {
        self.path = path
        temporary = path + ".partial-\(getpid())"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw ExportError.errno("cannot create", temporary) }
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
                throw ExportError.errno("cannot write", temporary)
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Makes the file appear at `path`, complete.
    public func commit(mode: mode_t = 0o644) throws(ExportError) {
        try flush()
        fchmod(fd, mode)
        guard fsync(fd) == 0 else { throw ExportError.errno("cannot sync", temporary) }
        close(fd)
        fd = -1
        guard rename(temporary, path) == 0 else { throw ExportError.errno("cannot rename into", path) }
    }

    /// Removes the temporary file (nothing appears at `path`). Also done when the file is dropped
    /// uncommitted; a process about to exit cannot wait for that (another thread may hold it).
    public func discard() {
        guard fd >= 0 else { return }
        close(fd)
        fd = -1
        unlink(temporary)
    }

    deinit { discard() }
}
