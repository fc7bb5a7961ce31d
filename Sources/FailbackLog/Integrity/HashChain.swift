import Crypto

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
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Array(hasher.finalize())
    }

    /// SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }
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

/// Incremental SHA-256 over caller-owned bytes, for the verifier's hot loop.
struct SHA256Hasher {
    private var hasher = SHA256()
    mutating func update(_ bytes: [UInt8]) { hasher.update(data: bytes) }
    mutating func update(_ bytes: UnsafeRawBufferPointer) { hasher.update(bufferPointer: bytes) }
    func finalize() -> [UInt8] { Array(hasher.finalize()) }
    /// Whether the digest equals `expected`, without allocating.
    func finalize(equals expected: UnsafeRawBufferPointer) -> Bool {
        hasher.finalize().withUnsafeBytes { $0.count == expected.count && memcmp($0.baseAddress!, expected.baseAddress!, $0.count) == 0 }
    }
}
