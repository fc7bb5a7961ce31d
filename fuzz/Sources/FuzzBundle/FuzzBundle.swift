// The evidence bundle verifier, with its gzip and tar readers: any bytes given as a bundle get a
// verdict (what held, what did not) or a named error, never a crash, a hang or a leak.
//
// Random bytes rarely get past gzip's header and CRC, or tar's header checksums, so the first
// byte of an input says what the rest is:
//   bits 0-1  0: the bundle file as it is;  1: a tar stream, gzipped here (stored blocks);
//             2, 3: a tar stream whose header checksums are fixed here (walking it as a reader
//             would), then gzipped: mutations of names, sizes and contents reach the verifier;
//   bit 2     verify --deep (every event parsed and its canonical form required).
// The seeds (fuzz/corpus/bundle) are a real exported bundle in each form.
import FailbackExporters
import FuzzSupport

#if canImport(Glibc)
import Glibc
#endif

let scratch = ScratchFile(name: "bundle.tar.gz")
/// FAILBACK_FUZZ_VERBOSE=1 prints each verdict (to look at what the seeds reach).
let verbose = getenv("FAILBACK_FUZZ_VERBOSE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBundle(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    guard let mode = input.first else { return 0 }
    let body = Array(input.dropFirst())
    let file: [UInt8]
    switch mode & 3 {
    case 0: file = body
    case 1: file = gzip(body)
    default: file = gzip(withChecksumsFixed(body))
    }
    scratch.write(file)
    do {
        let result = try BundleVerifier.verify(path: scratch.path, trust: TrustedKeys(allowUnpinned: true), deep: mode & 4 != 0)
        if verbose { print("verdict:", result.lines + result.problems.map { "problem: " + $0 }) }
        fuzzCheck(!result.lines.isEmpty || !result.problems.isEmpty, "a verdict that says nothing", input: input)
        for line in result.lines + result.problems { fuzzCheck(!line.isEmpty, "an empty line in the verdict", input: input) }
    } catch let error as ExportError {
        if verbose { print("error:", error) }
        fuzzCheck(!error.description.isEmpty, "an error without a message", input: input)
    } catch {
        fuzzFailure("an error that is not an ExportError: \(type(of: error)) \(error)", input: input)
    }
    return 0
}

/// `bytes` as one gzip member of stored (uncompressed) deflate blocks, with its CRC-32 and size:
/// what zlib would inflate to `bytes`, made without deflate's 256 KiB of buffers an input.
func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
    out.reserveCapacity(bytes.count + bytes.count / 65535 * 5 + 23)
    var start = 0
    repeat {
        let count = min(65535, bytes.count - start)
        let last: UInt8 = start + count == bytes.count ? 1 : 0
        out += [last, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8(~count >> 8 & 0xFF)]
        out += bytes[start..<(start + count)]
        start += count
    } while start < bytes.count
    var crc: UInt32 = 0xFFFF_FFFF
    for b in bytes { crc = crcTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    crc = ~crc
    let size = UInt32(truncatingIfNeeded: bytes.count)
    for v in [crc, size] { out += [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)] }
    return out
}

/// CRC-32 (ISO 3309, as gzip uses), a byte at a time.
let crcTable: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

/// `bytes` with the checksum of every tar header recomputed, the headers found as a reader finds
/// them (a header, its data rounded up to 512 bytes, the next header; zero blocks skipped). Stops
/// at a size that is not octal.
func withChecksumsFixed(_ bytes: [UInt8]) -> [UInt8] {
    var out = bytes
    var offset = 0
    while offset + 512 <= out.count {
        let header = offset..<(offset + 512)
        if out[header].allSatisfy({ $0 == 0 }) { offset += 512; continue }
        var sum = 0
        for i in header { sum += (offset + 148..<offset + 156).contains(i) ? 32 : Int(out[i]) }
        let octal = Array(String(sum, radix: 8).utf8)
        let field = Array(repeating: UInt8(ascii: "0"), count: max(0, 6 - octal.count)) + octal.suffix(6) + [0, UInt8(ascii: " ")]
        out.replaceSubrange((offset + 148)..<(offset + 156), with: field)
        let sizeText = out[(offset + 124)..<(offset + 136)].prefix { $0 != 0 }.filter { $0 != UInt8(ascii: " ") }
        guard let size = Int(String(decoding: sizeText.isEmpty ? Array("0".utf8) : Array(sizeText), as: UTF8.self), radix: 8), size >= 0 else { break }
        let (blocks, overflow) = ((size + 511) / 512).multipliedReportingOverflow(by: 512)
        guard !overflow, blocks <= out.count else { break }
        offset += 512 + blocks
    }
    return out
}
