import FailbackDomain
import FailbackLog

/// The signing keys a verifier trusts (pins), by fingerprint (`Ed25519Key.fingerprint`), and what
/// it says of a signer it does not know (docs/evidence-bundle.md §4, step 3).
public struct TrustedKeys: Sendable {
    /// Pinned fingerprints, each with where it came from (`--pubkey FILE`, a config file).
    public private(set) var pinned: [(fingerprint: String, from: String)] = []
    /// Check integrity only when the signer is not pinned (or the bundle unsigned), and say so.
    public var allowUnpinned = false

    public init(allowUnpinned: Bool = false) { self.allowUnpinned = allowUnpinned }

    public var isEmpty: Bool { pinned.isEmpty }

    public mutating func pin(_ key: Ed25519Key, from source: String) { pinned.append((key.fingerprint, source)) }

    /// Pins a fingerprint written as `sha256:` and 64 lowercase hex digits.
    public mutating func pin(fingerprint: String, from source: String) throws(InvalidInput) {
        guard Configuration.isKeyFingerprint(fingerprint) else {
            throw InvalidInput("\(source): \(fingerprint.debugDescription) is not a key fingerprint (sha256: and 64 lowercase hex digits)")
        }
        pinned.append((fingerprint, source))
    }

    /// Where `fingerprint` is pinned, or nil when it is not.
    public func source(of fingerprint: String) -> String? { pinned.first { $0.fingerprint == fingerprint }?.from }

    /// What the signature tells, once every integrity check has held.
    public enum Signer: Sendable, Equatable {
        /// Signed by a pinned key (named by where it was pinned).
        case pinned(fingerprint: String, from: String)
        /// Signed by a key no one pinned: the bundle is intact, but anyone could have signed it.
        case unpinned(fingerprint: String)
        case unsigned

        public var isPinned: Bool { if case .pinned = self { true } else { false } }
    }

    /// The line a verifier prints for `signer`, and whether that is a full verdict (false: integrity
    /// holds, but the signer is not trusted; exit 3 unless `allowUnpinned`).
    public func verdict(_ signer: Signer) -> (line: String, trusted: Bool) {
        switch signer {
        case .pinned(let fingerprint, let from):
            return ("ok: signed by the trusted key \(fingerprint) (\(from))", true)
        case .unpinned(let fingerprint) where allowUnpinned:
            return ("INTEGRITY ONLY: signed by an unpinned key \(fingerprint); no trusted key checked (--allow-unpinned)", true)
        case .unpinned(let fingerprint):
            return ("UNPINNED: signed by an unpinned key \(fingerprint); compare it with the signer's out of band, then pass --pubkey", false)
        case .unsigned where allowUnpinned:
            return ("INTEGRITY ONLY: UNSIGNED: no signature, so nothing says who made it (--allow-unpinned)", true)
        case .unsigned:
            return ("UNSIGNED: no signature, so nothing says who made it (exported without --key)", false)
        }
    }
}
