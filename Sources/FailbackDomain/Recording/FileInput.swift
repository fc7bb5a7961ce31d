#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole file (or standard input for `-`), with errors that name it; with `limit`, one
/// larger than `limit` bytes is refused (read no further than that).
public func readFile(_ path: String, what: String = "file", limit: Int? = nil) throws(InvalidInput) -> [UInt8] {
    let fd: Int32
    if path == "-" {
        fd = 0
    } else {
        var st = stat()
        guard stat(path, &st) == 0 else { throw InvalidInput("\(what) \(path): \(String(cString: strerror(errno)))") }
        guard (st.st_mode & S_IFMT) != S_IFDIR else { throw InvalidInput("\(what) \(path) is a folder") }
        fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw InvalidInput("\(what) \(path): \(String(cString: strerror(errno)))") }
    }
    defer { if fd != 0 { close(fd) } }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65_536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw InvalidInput("\(what) \(path): \(String(cString: strerror(errno)))")
        }
        if n == 0 { break }
        bytes.append(contentsOf: chunk[0..<n])
        if let limit, bytes.count > limit { throw InvalidInput("\(what) \(path) is over the limit of \(limit) bytes") }
    }
    return bytes
}
