import COpenSSL
import FailbackDomain
import FailbackLog

/// Ed25519 keys and signatures through the system OpenSSL (libcrypto), PEM on disk: the files
/// `openssl pkeyutl -verify -pubin -rawin` reads.
public final class Ed25519Key: @unchecked Sendable {
    let pkey: OpaquePointer
    /// Whether the private half is here.
    public let canSign: Bool

    init(_ pkey: OpaquePointer, canSign: Bool) {
        self.pkey = pkey
        self.canSign = canSign
    }

    deinit { EVP_PKEY_free(pkey) }

    /// A new key pair.
    public static func generate() throws(ExportError) -> Ed25519Key {
        guard let ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw ExportError("Ed25519: no key context") }
        defer { EVP_PKEY_CTX_free(ctx) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(ctx) == 1, EVP_PKEY_keygen(ctx, &key) == 1, let key else { throw ExportError("Ed25519: key generation failed") }
        return Ed25519Key(key, canSign: true)
    }

    /// Reads a PEM private key (PKCS #8) or public key (SubjectPublicKeyInfo); `what` names it in errors.
    public static func load(pem: [UInt8], what: String) throws(ExportError) -> Ed25519Key {
        let key: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        if let key {
            guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else { EVP_PKEY_free(key); throw ExportError("\(what): not an Ed25519 key", kind: .malformed) }
            return Ed25519Key(key, canSign: true)
        }
        ERR_clear_error()
        let pub: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let pub else { throw ExportError("\(what): not a PEM key (an Ed25519 private key, PKCS #8, or public key)", kind: .malformed) }
        guard EVP_PKEY_get_id(pub) == EVP_PKEY_ED25519 else { EVP_PKEY_free(pub); throw ExportError("\(what): not an Ed25519 key", kind: .malformed) }
        return Ed25519Key(pub, canSign: false)
    }

    /// The public key of an RFC 7468 `PUBLIC KEY` block, read by one exact rule that the Python
    /// verifier shares (a bundle's or proof's key, and `--pubkey`, are read this way; OpenSSL's
    /// reader passes over some damage inside a block): the bytes are UTF-8; of the lines (split at
    /// line feeds, spaces, tabs and carriage returns trimmed), those between the first
    /// `-----BEGIN PUBLIC KEY-----` and the `-----END PUBLIC KEY-----` after it are canonical
    /// padded base64 of the Ed25519 SubjectPublicKeyInfo (RFC 8410: 12 fixed bytes, then the key).
    public static func load(publicPEM pem: [UInt8], what: String) throws(ExportError) -> Ed25519Key {
        guard firstInvalidUTF8Offset(pem) == nil else { throw ExportError("\(what): not UTF-8, so not a PEM public key", kind: .malformed) }
        // Bytes, not characters: Swift holds "\r\n" as one character, which no "\n" would split.
        func trimmed(_ line: ArraySlice<UInt8>) -> String {
            let blank: Set<UInt8> = [0x20, 0x09, 0x0D]
            return String(decoding: line.drop(while: blank.contains).reversed().drop(while: blank.contains).reversed(), as: UTF8.self)
        }
        let lines = pem.split(separator: 0x0A, omittingEmptySubsequences: false).map(trimmed)
        guard let begin = lines.firstIndex(of: "-----BEGIN PUBLIC KEY-----"),
            let end = lines[begin...].firstIndex(of: "-----END PUBLIC KEY-----")
        else { throw ExportError("\(what): not a PEM public key (no BEGIN/END PUBLIC KEY lines)", kind: .malformed) }
        guard let der = Base64.decode(lines[(begin + 1)..<end].joined()), der.count == 44, Array(der.prefix(12)) == Self.spkiPrefix else {
            throw ExportError("\(what): not an Ed25519 public key (its PEM body is not the base64 of one)", kind: .malformed)
        }
        guard isAcceptablePublicKey(Array(der.suffix(32))) else {
            throw ExportError("\(what): not an acceptable Ed25519 public key (not canonical, or of small order: no one holds its private key)", kind: .malformed)
        }
        return try publicKey(raw: Array(der.suffix(32)))
    }

    /// The y coordinates (little-endian, sign bit clear) of the eight points of small order: a
    /// "public key" there has no private key, and a signature by it can verify any message.
    static let smallOrderY: [[UInt8]] = [
        [1] + [UInt8](repeating: 0, count: 31),  // the identity
        [0xEC] + [UInt8](repeating: 0xFF, count: 30) + [0x7F],  // p − 1: order 2
        [UInt8](repeating: 0, count: 32),  // 0: order 4
        fromHex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a") ?? [],  // order 8
        fromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05") ?? [],  // order 8
    ]

    /// Whether 32 bytes encode a key both verifiers accept: y below p (canonical), and not a
    /// point of small order (docs/evidence-bundle.md §4, step 3).
    static func isAcceptablePublicKey(_ raw: [UInt8]) -> Bool {
        guard raw.count == 32 else { return false }
        var y = raw
        y[31] &= 0x7F
        // y < p = 2^255 − 19: compared from the most significant byte.
        let p: [UInt8] = [0xED] + [UInt8](repeating: 0xFF, count: 30) + [0x7F]
        var below = false
        for i in stride(from: 31, through: 0, by: -1) where y[i] != p[i] {
            below = y[i] < p[i]
            break
        }
        return below && !smallOrderY.contains(y)
    }

    /// A key from its 32 raw public bytes.
    public static func publicKey(raw: [UInt8]) throws(ExportError) -> Ed25519Key {
        guard isAcceptablePublicKey(raw) else {
            throw ExportError("Ed25519: a public key that is not canonical, or of small order (no one holds its private key)", kind: .malformed)
        }
        guard raw.count == 32, let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, 32) else { throw ExportError("Ed25519: bad public key", kind: .malformed) }
        return Ed25519Key(key, canSign: false)
    }

    /// The DER SubjectPublicKeyInfo of an Ed25519 key (RFC 8410) is these 12 bytes, then the key.
    static let spkiPrefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]

    /// The key's fingerprint: `sha256:` and the lowercase hex SHA-256 of its DER
    /// SubjectPublicKeyInfo, what `openssl pkey -pubin -in KEY.pem -outform DER | sha256sum` prints.
    public var fingerprint: String { "sha256:" + HashChain.sha256(Self.spkiPrefix + rawPublicKey).hex }

    /// The 32-byte public key.
    public var rawPublicKey: [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 32
        EVP_PKEY_get_raw_public_key(pkey, &out, &length)
        return out
    }

    public var publicPEM: String { pem { PEM_write_bio_PUBKEY($0, pkey) } }
    public var privatePEM: String { pem { PEM_write_bio_PrivateKey($0, pkey, nil, nil, 0, nil, nil) } }

    private func pem(_ write: (OpaquePointer) -> Int32) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        _ = write(bio)
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// The 64-byte signature of `message` (PureEdDSA: the message itself, not a digest).
    public func sign(_ message: [UInt8]) throws(ExportError) -> [UInt8] {
        guard canSign, let ctx = EVP_MD_CTX_new() else { throw ExportError("Ed25519: this key cannot sign (a public key)", kind: .input) }
        defer { EVP_MD_CTX_free(ctx) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(ctx, nil, nil, nil, pkey) == 1, EVP_DigestSign(ctx, &signature, &length, message, message.count) == 1 else {
            throw ExportError("Ed25519: signing failed")
        }
        return signature
    }

    public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard signature.count == 64, let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        let ok = EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 && EVP_DigestVerify(ctx, signature, 64, message, message.count) == 1
        ERR_clear_error()
        return ok
    }
}
