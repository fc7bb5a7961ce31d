import CZlib
import FailbackDomain

/// gzip (RFC 1952) through the system zlib, streaming. The header zlib writes has no name and a
/// zero time, so the same input always gives the same bytes.
public final class GzipWriter {
    var stream = z_stream()
    let sink: ([UInt8]) throws(ExportError) -> Void
    var out = [UInt8](repeating: 0, count: 1 << 18)

    public init(level: Int32 = 6, sink: @escaping ([UInt8]) throws(ExportError) -> Void) throws(ExportError) {
        self.sink = sink
        // deflateInit2 is a macro; windowBits 31 = 15 + 16: a gzip wrapper.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ExportError("gzip: zlib would not start")
        }
    }

    deinit { deflateEnd(&stream) }

    public func write(_ bytes: [UInt8]) throws(ExportError) { try run(bytes, flush: Z_NO_FLUSH) }
    public func finish() throws(ExportError) { try run([], flush: Z_FINISH) }

    private func run(_ bytes: [UInt8], flush: Int32) throws(ExportError) {
        var failure: ExportError?
        // zlib only reads its input (`next_in` is mutable in C for old compilers' sake): the caller's
        // bytes are passed as they are. A mutable copy would copy every chunk the export shares
        // with its folding thread (270 MB for a 1,000,000-event drill).
        bytes.withUnsafeBufferPointer { inBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)
            stream.avail_in = uInt(inBuffer.count)
            repeat {
                let produced: Int = out.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    _ = deflate(&stream, flush)
                    return outBuffer.count - Int(stream.avail_out)
                }
                if produced > 0 {
                    do throws(ExportError) { try sink(Array(out[0..<produced])) } catch { failure = error; return }
                }
            } while stream.avail_out == 0 || (flush == Z_FINISH && stream.avail_in > 0)
            stream.next_in = nil
        }
        if let failure { throw failure }
    }
}

/// gunzip, streaming: feed compressed bytes, get back what they decompress to.
public final class GzipReader {
    var stream = z_stream()
    var out = [UInt8](repeating: 0, count: 1 << 18)
    public private(set) var finished = false

    public init() throws(ExportError) {
        guard inflateInit2_(&stream, 31, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw ExportError("gzip: zlib would not start") }
    }

    deinit { inflateEnd(&stream) }

    /// Decompresses `bytes`, passing output to `sink`; throws on corrupt data, and on any byte
    /// after the end of the (one) gzip member.
    public func feed(_ bytes: [UInt8], _ sink: ([UInt8]) throws -> Void) throws {
        if finished && !bytes.isEmpty { throw ExportError("data after the end of the gzip stream", kind: .malformed) }
        var status: Int32 = Z_OK
        var left = 0
        // Each piece goes to `sink` as it is inflated: a small input can inflate a thousandfold.
        try bytes.withUnsafeBufferPointer { inBuffer in
            stream.next_in = UnsafeMutablePointer(mutating: inBuffer.baseAddress)  // read only, as in `GzipWriter`
            stream.avail_in = uInt(inBuffer.count)
            defer { stream.next_in = nil }
            repeat {
                let produced: Int = out.withUnsafeMutableBufferPointer { outBuffer in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return outBuffer.count - Int(stream.avail_out)
                }
                if produced > 0 { try sink(Array(out[0..<produced])) }
            } while status == Z_OK && (stream.avail_out == 0 || stream.avail_in > 0)
            left = Int(stream.avail_in)
        }
        if status == Z_STREAM_END {
            finished = true
            if left > 0 { throw ExportError("data after the end of the gzip stream", kind: .malformed) }
            return
        }
        if status != Z_OK && status != Z_BUF_ERROR { throw ExportError("not gzip data, or corrupt (zlib status \(status))", kind: .malformed) }
    }
}
