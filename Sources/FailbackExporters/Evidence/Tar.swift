import FailbackDomain

/// POSIX ustar archives (POSIX.1-1988 as kept in pax), written byte-for-byte the same every time:
/// fixed owner (0/0, no names), mode, mtime, and entry order chosen by the caller.
public struct TarWriter {
    let mtime: Int64
    let sink: ([UInt8]) throws(ExportError) -> Void
    var written = 0
    var pending = 0
    /// The entry being written, and its declared size.
    var entry: (path: String, size: Int)?

    public init(mtime: Int64, sink: @escaping ([UInt8]) throws(ExportError) -> Void) {
        self.mtime = mtime
        self.sink = sink
    }

    /// Starts a regular file of `size` bytes; its bytes follow through `write`.
    public mutating func beginFile(_ path: String, size: Int) throws(ExportError) {
        try checkEntryComplete()
        try emit(try Self.header(path: path, size: size, mtime: mtime))
        pending = size
        entry = (path, size)
        if size == 0 { try endFile() }
    }

    /// Bytes of the entry begun last. More than its declared size is an error (the size came from
    /// somewhere that disagrees with the bytes), and nothing more is written.
    public mutating func write(_ bytes: [UInt8]) throws(ExportError) {
        guard bytes.count <= pending, entry != nil else {
            throw ExportError("tar: \(entry?.path ?? "an entry") has more bytes than the \(entry?.size ?? 0) its header declares", kind: .malformed)
        }
        try emit(bytes)
        pending -= bytes.count
        if pending == 0 { try endFile() }
    }

    public mutating func file(_ path: String, _ bytes: [UInt8]) throws(ExportError) {
        try beginFile(path, size: bytes.count)
        if !bytes.isEmpty { try write(bytes) }
    }

    mutating func endFile() throws(ExportError) {
        let pad = (512 - written % 512) % 512
        if pad > 0 { try emit([UInt8](repeating: 0, count: pad)) }
    }

    /// Throws when the entry begun last has fewer bytes than its header declares.
    func checkEntryComplete() throws(ExportError) {
        guard pending == 0 else {
            throw ExportError("tar: \(entry?.path ?? "an entry") has \((entry?.size ?? 0) - pending) bytes, not the \(entry?.size ?? 0) its header declares", kind: .malformed)
        }
    }

    /// Two zero blocks, then zeros to a whole 10,240-byte record (tar's default blocking).
    public mutating func finish() throws(ExportError) {
        try checkEntryComplete()
        try emit([UInt8](repeating: 0, count: 1024))
        let pad = (10_240 - written % 10_240) % 10_240
        if pad > 0 { try emit([UInt8](repeating: 0, count: pad)) }
    }

    mutating func emit(_ bytes: [UInt8]) throws(ExportError) {
        try sink(bytes)
        written += bytes.count
    }

    static func header(path: String, size: Int, mtime: Int64) throws(ExportError) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        let name = Array(path.utf8)
        var prefix: [UInt8] = [], rest = name
        if name.count > 100 {
            guard let cut = name.indices.reversed().first(where: { name[$0] == UInt8(ascii: "/") && $0 <= 155 && name.count - $0 - 1 <= 100 }) else {
                throw ExportError("tar: path too long for ustar: \(path)", kind: .malformed)
            }
            prefix = Array(name[..<cut])
            rest = Array(name[(cut + 1)...])
        }
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { h[offset + i] = b } }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(rest, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(Int64(size), width: 12), at: 124)
        put(octal(mtime, width: 12), at: 136)
        put(Array("        ".utf8), at: 148)
        h[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0] + Array("00".utf8), at: 257)
        put(prefix, at: 345)
        let sum = h.reduce(0) { $0 + Int64($1) }
        put(Array((String(repeating: "0", count: 6 - String(sum, radix: 8).count) + String(sum, radix: 8)).utf8) + [0, 32], at: 148)
        return h
    }
}

/// Reads a ustar stream fed in pieces, refusing what a bundle never holds: links, devices,
/// absolute paths, `..`, names repeated. It never writes anything to disk.
public struct TarReader {
    public enum Event {
        case begin(path: String, size: Int)
        case data([UInt8])
        case end
    }

    var buffer: [UInt8] = []
    var remaining = 0
    var padding = 0
    var inFile = false
    var zeroBlocks = 0
    public private(set) var finished = false
    var seen = Set<String>()

    public init() {}

    /// Consumes bytes; calls `handle` for every entry start, data chunk and entry end.
    public mutating func feed(_ bytes: [UInt8], _ handle: (Event) throws -> Void) throws {
        buffer.append(contentsOf: bytes)
        var offset = 0
        defer { buffer.removeFirst(offset) }
        while offset < buffer.count && !finished {
            if inFile {
                let n = min(remaining, buffer.count - offset)
                if n > 0 { try handle(.data(Array(buffer[offset..<(offset + n)]))) }
                offset += n
                remaining -= n
                if remaining > 0 { return }
                inFile = false
                try handle(.end)
                continue
            }
            if padding > 0 {
                let n = min(padding, buffer.count - offset)
                offset += n
                padding -= n
                continue
            }
            guard buffer.count - offset >= 512 else { return }
            let block = Array(buffer[offset..<(offset + 512)])
            offset += 512
            if block.allSatisfy({ $0 == 0 }) {
                zeroBlocks += 1
                if zeroBlocks == 2 { finished = true }
                continue
            }
            // One zero block, then an entry: not an end (two in a row), not an entry either.
            if zeroBlocks == 1 { throw ExportError("tar: a lone zero block before an entry", kind: .malformed) }
            let (path, size) = try Self.parseHeader(block)
            guard seen.insert(path).inserted else { throw ExportError("tar: \(path) appears twice", kind: .malformed) }
            try handle(.begin(path: path, size: size))
            remaining = size
            padding = (512 - size % 512) % 512
            inFile = true
            if size == 0 {
                inFile = false
                try handle(.end)
            }
        }
    }

    static func parseHeader(_ h: [UInt8]) throws(ExportError) -> (String, Int) {
        func text(_ range: Range<Int>) -> String { String(decoding: h[range].prefix { $0 != 0 }, as: UTF8.self) }
        // As GNU tar reads one: leading spaces, octal digits, then only spaces and NULs to the end
        // of the field ("3 000" is not 3000: tar would read 3 and the rest of the archive otherwise).
        func number(_ range: Range<Int>) throws(ExportError) -> Int {
            let field = h[range].drop { $0 == 0x20 }
            let digits = field.prefix { (0x30...0x37).contains($0) }
            guard digits.count <= 21, field.dropFirst(digits.count).allSatisfy({ $0 == 0 || $0 == 0x20 }) else {
                throw ExportError("tar: bad number in a header", kind: .malformed)
            }
            return digits.reduce(0) { $0 * 8 + Int($1 - 0x30) }
        }
        // A POSIX ustar header: "ustar", NUL, version "00" (a v7 or GNU header reads its prefix
        // field otherwise, and tar would write the file elsewhere).
        guard Array(h[257..<265]) == Array("ustar\u{0}00".utf8) else { throw ExportError("tar: a header that is not POSIX ustar", kind: .malformed) }
        var sum = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        guard try number(148..<156) == sum else { throw ExportError("tar: header checksum mismatch", kind: .malformed) }
        // Every number field is octal: mode, uid, gid, mtime, devmajor and devminor too.
        for field in [100..<108, 108..<116, 116..<124, 136..<148, 329..<337, 337..<345] { _ = try number(field) }
        let name = text(0..<100), prefix = text(345..<500)
        let path = prefix.isEmpty ? name : prefix + "/" + name
        let kinds: [UInt8: String] = [
            UInt8(ascii: "1"): "a hard link", UInt8(ascii: "2"): "a symbolic link", UInt8(ascii: "3"): "a character device",
            UInt8(ascii: "4"): "a block device", UInt8(ascii: "5"): "a directory", UInt8(ascii: "6"): "a FIFO",
        ]
        let type = h[156]
        if type != 0 && type != UInt8(ascii: "0") {
            throw ExportError("tar: \(path) is \(kinds[type] ?? "an entry of type '\(Character(UnicodeScalar(type)))'"): refused", kind: .malformed)
        }
        if path.isEmpty || path.hasPrefix("/") { throw ExportError("tar: \(path.isEmpty ? "an empty path" : path) is absolute: refused", kind: .malformed) }
        if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." }) {
            throw ExportError("tar: \(path) leaves the folder (..): refused", kind: .malformed)
        }
        return (path, try number(124..<136))
    }
}
