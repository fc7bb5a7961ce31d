import FailbackDomain
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

/// Bytes an export keeps on disk instead of in memory until the archive takes them (the
/// commands' outputs, the evidence index): a temporary file with no name (`O_TMPFILE` in the
/// bundle's folder; else made and unlinked at once), so nothing is left behind, even after
/// SIGKILL. Appended by one thread, read back by another once the first is done.
final class Spool: @unchecked Sendable {
    private var fd: Int32
    private var buffer: [UInt8] = []
    /// Bytes appended so far (written or buffered).
    private(set) var size = 0

    init(beside path: String) throws(ExportError) {
        let dir = SQLiteStorage.directory(of: path)
        var fd = open(dir, __O_TMPFILE | O_DIRECTORY | O_RDWR | O_CLOEXEC, 0o600)
        if fd < 0 {
            var template = Array((dir + "/.failback-spool-XXXXXX").utf8CString)
            fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
            if fd >= 0 { template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) } }
        }
        if fd < 0 { throw ExportError.errno("cannot make a temporary file in", dir) }
        self.fd = fd
        buffer.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    /// Appends `bytes`; returns where they begin.
    @discardableResult
    func append(_ bytes: some Collection<UInt8>) throws(ExportError) -> Int {
        let offset = size
        buffer.append(contentsOf: bytes)
        size += bytes.count
        if buffer.count >= 1 << 20 { try flush() }
        return offset
    }

    func flush() throws(ExportError) {
        var done = 0
        while done < buffer.count {
            let n = buffer[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError.errno("cannot write a temporary file for", "the bundle")
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// `count` bytes from `offset` (after `flush`).
    func read(offset: Int, count: Int) throws(ExportError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw ExportError.errno("cannot read back a temporary file for", "the bundle") }
            done += n
        }
        return out
    }
}
