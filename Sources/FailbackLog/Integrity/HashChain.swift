import COpenSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The per-drill hash chain: `hash_1 = SHA-256(32 zero bytes || canonical_1)`,
/// `hash_n = SHA-256(hash_{n-1} || canonical_n)`. See docs/log-format.md.
public enum HashChain {
    /// The value that stands before a drill's first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// The link after `previous` for an event whose RFC 8785 bytes are `canonical`.
    public static func link(previous: [UInt8], canonical: [UInt8]) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(previous)
        hasher.update(canonical)
        return hasher.finalize()
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalize()
    }
}

/// Incremental SHA-256 through OpenSSL (which uses the CPU's SHA instructions), by its low-level
/// context calls: cheaper than EVP per small message (see Sources/COpenSSL/shim.h). One instance
/// is reused across digests (`finalize` resets it), so hashing an event allocates nothing.
public final class SHA256Hasher {
    private let ctx: UnsafeMutablePointer<SHA256_CTX>

    public init() {
        ctx = .allocate(capacity: 1)
        failback_sha256_init(ctx)
    }

    deinit { ctx.deallocate() }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { failback_sha256_update(ctx, bytes.baseAddress, bytes.count) }
    }

    /// The digest; the hasher is reset for the next one.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { finalize(into: $0.baseAddress!) }
        return out
    }

    /// Writes the 32-byte digest to `out`; the hasher is reset for the next one.
    public func finalize(into out: UnsafeMutablePointer<UInt8>) {
        failback_sha256_final(out, ctx)
        failback_sha256_init(ctx)
    }

    /// Whether the digest equals `expected` (the hasher is reset), without allocating.
    func finalize(equals expected: UnsafeRawBufferPointer) -> Bool {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &digest) { d in
            finalize(into: d.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return expected.count == 32 && memcmp(d.baseAddress!, expected.baseAddress!, 32) == 0
        }
    }
}

extension Array where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
