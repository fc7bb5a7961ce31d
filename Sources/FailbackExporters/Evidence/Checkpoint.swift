import FailbackLog

/// A C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint) in the signed-note form
/// (https://c2sp.org/signed-note): origin, tree size and base64 root, each on its own line, then a
/// blank line and one signature line per key: `— NAME base64(key_id[4] || Ed25519 signature)`.
/// key_id = SHA-256(NAME || 0x0A || 0x01 || public key)[0..<4]. An unsigned bundle's checkpoint is
/// the note text alone.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int
    public var root: [UInt8]

    public init(origin: String, size: Int, root: [UInt8]) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The signed text: three lines, each ending in a newline.
    public var body: String { "\(origin)\n\(size)\n\(Base64.encode(root))\n" }

    public static func keyID(name: String, publicKey: [UInt8]) -> [UInt8] {
        let h = SHA256Hasher()
        h.update(Array(name.utf8) + [0x0A, 0x01] + publicKey)
        return Array(h.finalize().prefix(4))
    }

    /// A signer's name (C2SP signed-note): not empty, no space, `+` or line break.
    public static func isKeyName(_ name: String) -> Bool {
        !name.isEmpty && !name.unicodeScalars.contains { $0 == " " || $0 == "+" || $0 == "\n" || $0 == "\r" || $0 == "\t" }
    }

    /// The note, signed by `key` under `name` (unsigned: the body alone).
    public func note(signedBy key: Ed25519Key?, name: String) throws(ExportError) -> String {
        guard let key else { return body }
        let signature = try key.sign(Array(body.utf8))
        return body + "\n\u{2014} \(name) \(Base64.encode(Self.keyID(name: name, publicKey: key.rawPublicKey) + signature))\n"
    }

    /// Reads a note: its checkpoint and signature lines (name, key id, signature).
    public static func parse(_ text: String) throws(ExportError) -> (checkpoint: Checkpoint, signatures: [(name: String, keyID: [UInt8], signature: [UInt8])]) {
        let parts = text.split(separator: "\n\n", omittingEmptySubsequences: false).map(String.init)
        let lines = parts[0].split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, let size = Int(lines[1]), size >= 0, String(size) == lines[1], let root = Base64.decode(String(lines[2])), root.count == 32,
            !lines[0].isEmpty
        else { throw ExportError("checkpoint: not origin, size and root hash on three lines", kind: .malformed) }
        // The note ends with a newline: the root's line, unsigned; the last signature line, signed.
        var signatures: [(String, [UInt8], [UInt8])] = []
        if parts.count == 1 {
            guard lines.count == 4, lines[3].isEmpty else { throw ExportError("checkpoint: not three lines each ending in a newline (no extension lines)", kind: .malformed) }
        } else {
            guard parts.count == 2 else { throw ExportError("checkpoint: more than one blank line", kind: .malformed) }
            guard lines.count == 3 else { throw ExportError("checkpoint: extension lines are not expected", kind: .malformed) }
            guard parts[1].hasSuffix("\n"), parts[1].count > 1 else { throw ExportError("checkpoint: the signature lines do not end in a newline", kind: .malformed) }
            for line in parts[1].dropLast().split(separator: "\n", omittingEmptySubsequences: false) {
                // One space between the fields, no more.
                let fields = line.split(separator: " ", omittingEmptySubsequences: false)
                guard fields.count == 3, fields[0] == "\u{2014}", isKeyName(String(fields[1])), let blob = Base64.decode(String(fields[2])), blob.count == 68 else {
                    throw ExportError("checkpoint: malformed signature line", kind: .malformed)
                }
                signatures.append((String(fields[1]), Array(blob.prefix(4)), Array(blob.dropFirst(4))))
            }
        }
        return (Checkpoint(origin: String(lines[0]), size: size, root: root), signatures)
    }
}

/// RFC 4648 base64 with padding.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        var i = 0
        while i < bytes.count {
            let n = min(3, bytes.count - i)
            let b0 = bytes[i], b1 = n > 1 ? bytes[i + 1] : 0, b2 = n > 2 ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(n > 1 ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(n > 2 ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Nil unless `text` is canonical padded base64.
    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 == 0 else { return nil }
        var values: [UInt8: UInt8] = [:]
        for (i, c) in alphabet.enumerated() { values[c] = UInt8(i) }
        var out = [UInt8]()
        var i = 0
        while i < chars.count {
            let pad = chars[i..<(i + 4)].reversed().prefix { $0 == UInt8(ascii: "=") }.count
            guard pad <= 2, i + 4 == chars.count || pad == 0 else { return nil }
            var v: UInt32 = 0
            for c in chars[i..<(i + 4 - pad)] {
                guard let d = values[c] else { return nil }
                v = v << 6 | UInt32(d)
            }
            v <<= UInt32(6 * pad)
            let bytes = [UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            out += bytes.prefix(3 - pad)
            i += 4
        }
        return encode(out) == text ? out : nil
    }
}
