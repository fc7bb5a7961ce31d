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

/// The SHA-256 algorithm object, fetched from OpenSSL once (OpenSSL 3 looks algorithms up by name;
/// doing that per digest would cost more than hashing a small event).
private final class SHA256Algorithm: @unchecked Sendable {
    // Immutable after init; OpenSSL's EVP_MD objects may be shared between threads.
    let md: OpaquePointer
    static let shared = SHA256Algorithm()
    private init() {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else { fatalError("OpenSSL has no SHA256") }
        self.md = md
    }
}

/// Incremental SHA-256 through OpenSSL's EVP interface (which uses the CPU's SHA instructions).
/// One instance is reused across digests (`reset`), so hashing an event allocates nothing.
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        reset()
    }

    deinit { EVP_MD_CTX_free(ctx) }

    func reset() {
        EVP_DigestInit_ex2(ctx, SHA256Algorithm.shared.md, nil)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count > 0 { EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count) }
    }

    /// The digest; the hasher is reset for the next one.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { finalize(into: $0.baseAddress!) }
        return out
    }

    /// Writes the 32-byte digest to `out`; the hasher is reset for the next one.
    func finalize(into out: UnsafeMutablePointer<UInt8>) {
        var length: UInt32 = 32
        EVP_DigestFinal_ex(ctx, out, &length)
        reset()
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
