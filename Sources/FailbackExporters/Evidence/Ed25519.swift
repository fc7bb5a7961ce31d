import COpenSSL
import FailbackDomain

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
            guard EVP_PKEY_get_id(key) == EVP_PKEY_ED25519 else { EVP_PKEY_free(key); throw ExportError("\(what): not an Ed25519 key") }
            return Ed25519Key(key, canSign: true)
        }
        ERR_clear_error()
        let pub: OpaquePointer? = pem.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, nil, nil)
        }
        ERR_clear_error()
        guard let pub else { throw ExportError("\(what): not a PEM key (an Ed25519 private key, PKCS #8, or public key)") }
        guard EVP_PKEY_get_id(pub) == EVP_PKEY_ED25519 else { EVP_PKEY_free(pub); throw ExportError("\(what): not an Ed25519 key") }
        return Ed25519Key(pub, canSign: false)
    }

    /// A key from its 32 raw public bytes.
    public static func publicKey(raw: [UInt8]) throws(ExportError) -> Ed25519Key {
        guard raw.count == 32, let key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, raw, 32) else { throw ExportError("Ed25519: bad public key") }
        return Ed25519Key(key, canSign: false)
    }

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
        guard canSign, let ctx = EVP_MD_CTX_new() else { throw ExportError("Ed25519: this key cannot sign (a public key)") }
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
