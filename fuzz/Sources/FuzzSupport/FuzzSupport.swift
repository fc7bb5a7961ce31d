// Shared by the fuzz targets: how a broken property is reported, and a scratch file for readers
// that take a path.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Stops the run on a broken property: prints what broke (with the input, shortened) and aborts,
/// which libFuzzer reports as a crash and saves the input as `crash-<sha1>`.
public func fuzzFailure(_ message: String, input: [UInt8], file: StaticString = #fileID, line: UInt = #line) -> Never {
    let shown = input.count <= 512 ? input : Array(input.prefix(512))
    let text = String(decoding: shown, as: UTF8.self).debugDescription
    let report = "\n== property broken (\(file):\(line)): \(message)\n== input (\(input.count) bytes\(input.count > 512 ? ", first 512 shown" : "")): \(text)\n"
    _ = Array(report.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Checks a property of the current input.
@inline(__always)
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, input: [UInt8], file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fuzzFailure(message(), input: input, file: file, line: line) }
}

/// The bytes libFuzzer passes (it may pass a null pointer for an empty input).
public func fuzzInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}

/// A file that holds the current input, for readers that open a path. In /dev/shm when there is
/// one (no disk writes at thousands of inputs a second), named by the process (libFuzzer's
/// `-jobs` runs several processes side by side).
public final class ScratchFile: @unchecked Sendable {
    public let path: String

    public init(name: String) {
        var dir = "/dev/shm"
        var info = stat()
        if stat(dir, &info) != 0 || (info.st_mode & S_IFMT) != S_IFDIR || access(dir, W_OK) != 0 {
            dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        }
        path = "\(dir)/failback-fuzz-\(getpid())-\(name)"
        atexit_unlink(path)
    }

    /// Replaces the file's content with `bytes`.
    public func write(_ bytes: [UInt8]) {
        guard let f = fopen(path, "wb") else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
        if !bytes.isEmpty, fwrite(bytes, 1, bytes.count, f) != bytes.count { fatalError("cannot write \(path)") }
        fclose(f)
    }
}

/// Scratch files to remove when the process ends normally (a crash leaves them in /dev/shm, named
/// by the process, for the reproducer to be looked at).
nonisolated(unsafe) private var scratchPaths: [String] = []

private func atexit_unlink(_ path: String) {
    if scratchPaths.isEmpty {
        atexit { for p in scratchPaths { unlink(p) } }
    }
    scratchPaths.append(path)
}

/// A broken property whose cause is known and open (docs/fuzzing.md, "Findings"): with
/// `FAILBACK_FUZZ_KNOWN` naming it (comma-separated), the input is saved under
/// `FAILBACK_FUZZ_FINDINGS` (a folder; default none) and counted, and the run goes on, so that
/// a smoke run still stops on anything else; without it, the run stops as for any broken property.
public func fuzzKnownIssue(_ name: String, _ message: @autoclosure () -> String, input: [UInt8], file: StaticString = #fileID, line: UInt = #line) {
    guard KnownIssues.tolerated.contains(name) else { fuzzFailure("[\(name)] " + message(), input: input, file: file, line: line) }
    KnownIssues.count += 1
    if KnownIssues.count == 1 {
        KnownIssues.name = name
        atexit {
            let report = "== known issue \(KnownIssues.name): \(KnownIssues.count) inputs in all\n"
            _ = Array(report.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }
    if KnownIssues.count.nonzeroBitCount == 1 {
        let report = "== known issue \(name) (\(KnownIssues.count) so far): \(message())\n"
        _ = Array(report.utf8).withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }
    if let folder = KnownIssues.folder {
        // FNV-1a of the input names the file: the same input is saved once.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in input { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        let path = "\(folder)/\(name)-\(String(h, radix: 16))"
        if access(path, F_OK) != 0, let f = fopen(path, "wb") {
            if !input.isEmpty { _ = fwrite(input, 1, input.count, f) }
            fclose(f)
        }
    }
}

private enum KnownIssues {
    static let tolerated: Set<String> = Set((getenv("FAILBACK_FUZZ_KNOWN").map { String(cString: $0) } ?? "").split(separator: ",").map(String.init))
    static let folder: String? = getenv("FAILBACK_FUZZ_FINDINGS").map { String(cString: $0) }
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var name = ""
}
