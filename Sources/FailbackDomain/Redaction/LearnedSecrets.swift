import FailbackLog

/// The secrets a drill has redacted, remembered so that the same value is redacted when it shows
/// up again in a later event of the drill (a password given with `-a` in one command and printed
/// by another) — as salted hashes, never in clear.
///
/// For each secret the store keeps its length, a 16-bit fingerprint (the top bits of a polynomial
/// rolling hash of its bytes) and `SHA-256(salt || secret)`. The salt is derived from the drill id
/// (`SHA-256("failback/learned-secret/1" || 0x00 || drill id)`), so it needs no storage, no two drills
/// share one, and concurrent writers agree on it; the rolling hash's base comes from the salt too.
/// Text is searched by rolling a window of each remembered length over it: a window whose
/// fingerprint matches one of that length is hashed and compared. A string costs one multiply-add
/// a byte per distinct length, and SHA-256 only on a fingerprint match (1 window in 65,536 by chance).
public struct LearnedSecrets: Sendable {
    public let drillID: String
    private let salt: [UInt8]
    private let base: UInt64
    /// Length → (fingerprint, digest) of the secrets of that length.
    private var byLength: [Int: [(fingerprint: UInt16, digest: [UInt8])]] = [:]
    private var known: Set<[UInt8]> = []

    public init(drillID: String, records: [LearnedSecretRecord] = []) {
        self.drillID = drillID
        let hasher = SHA256Hasher()
        hasher.update(Array("failback/learned-secret/1".utf8) + [0] + Array(drillID.utf8))
        self.salt = hasher.finalize()
        var base: UInt64 = 0
        for b in salt.prefix(8) { base = base << 8 | UInt64(b) }
        self.base = base | 1
        for r in records { add(r) }
    }

    public var isEmpty: Bool { byLength.isEmpty }
    public var count: Int { known.count }

    /// The record a secret is remembered by.
    public func record(for secret: String) -> LearnedSecretRecord {
        let bytes = Array(secret.utf8)
        let hasher = SHA256Hasher()
        hasher.update(salt)
        hasher.update(bytes)
        return LearnedSecretRecord(length: bytes.count, fingerprint: Int(fingerprint(bytes)), digest: hasher.finalize())
    }

    /// Remembers a record (read from the store, or just made); false when it was known.
    @discardableResult
    public mutating func add(_ record: LearnedSecretRecord) -> Bool {
        guard record.length >= Redactor.minimumLearnedLength, known.insert(record.digest).inserted else { return false }
        byLength[record.length, default: []].append((UInt16(truncatingIfNeeded: record.fingerprint), record.digest))
        return true
    }

    private func fingerprint(_ bytes: [UInt8]) -> UInt16 {
        var h: UInt64 = 0
        for b in bytes { h = h &* base &+ UInt64(b) }
        return UInt16(truncatingIfNeeded: h >> 48)
    }

    /// Where remembered secrets occur in `bytes`.
    func occurrences(in bytes: [UInt8]) -> [Range<Int>] {
        var found: [Range<Int>] = []
        let hasher = SHA256Hasher()
        for (length, entries) in byLength where length <= bytes.count {
            // base^length, to take the byte leaving the window out.
            var top: UInt64 = 1
            for _ in 0..<length { top = top &* base }
            var h: UInt64 = 0
            for i in 0..<length { h = h &* base &+ UInt64(bytes[i]) }
            var start = 0
            while true {
                let f = UInt16(truncatingIfNeeded: h >> 48)
                if entries.contains(where: { $0.fingerprint == f }) {
                    hasher.update(salt)
                    bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
                    let digest = hasher.finalize()
                    if entries.contains(where: { $0.digest == digest }) { found.append(start..<(start + length)) }
                }
                let end = start + length
                guard end < bytes.count else { break }
                h = h &* base &+ UInt64(bytes[end]) &- top &* UInt64(bytes[start])
                start += 1
            }
        }
        return found
    }
}
