import Foundation
import Testing

/// Keys an auditor pins: a signature verifies only against a key the verifier trusts (`--pubkey`,
/// a fingerprint, or the configuration's `trusted_keys`); any other signer is reported by its
/// fingerprint with exit 3, in both verifiers alike (docs/evidence-bundle.md §4, step 3).
@Suite struct KeyPinningTests {
    let evidence = EvidenceBundleTests()

    /// The fingerprint openssl and sha256sum give for a PEM public key.
    func opensslFingerprint(_ pem: String) throws -> String {
        let o = try run(tool("sh"), ["-c", "openssl pkey -pubin -in '\(pem)' -outform DER | sha256sum"])
        #expect(o.status == 0)
        return "sha256:" + String(o.stdout.prefix(64))
    }

    /// `keys generate -o keys/failback.key`, the help's own example, makes the missing folder
    /// (its owner's only) instead of failing with 74.
    @Test func keysGenerateMakesItsFolder() throws {
        let lab = try Lab()
        let o = try run("failback", ["keys", "generate", "-o", "keys/failback.key"], cwd: lab.dir)
        #expect(o.status == 0, "\(o.stderr)")
        #expect(o.stdout.hasPrefix("private key: keys/failback.key (mode 0600)\npublic key:  keys/failback.key.pub.pem\nfingerprint: sha256:"))
        var st = stat()
        #expect(stat("\(lab.dir)/keys", &st) == 0 && st.st_mode & 0o777 == 0o700)
        #expect(stat("\(lab.dir)/keys/failback.key", &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/a/b/c/k.key"]).status == 0)
        #expect(stat("\(lab.dir)/a/b", &st) == 0 && st.st_mode & 0o777 == 0o700)
    }

    @Test func theFingerprintIsOpenSSLsAndEveryCommandPrintsIt() throws {
        let (lab, bundle, pub) = try evidence.exportedDrill()
        let fingerprint = try opensslFingerprint(pub)
        let generated = try run("failback", ["keys", "generate", "-o", "\(lab.dir)/other.key"])
        #expect(generated.status == 0)
        #expect(
            generated.stdout
                == "private key: \(lab.dir)/other.key (mode 0600)\npublic key:  \(lab.dir)/other.key.pub.pem\nfingerprint: \(try opensslFingerprint("\(lab.dir)/other.key.pub.pem"))\n"
        )
        for file in [pub, "\(lab.dir)/k.key"] {
            let o = try run("failback", ["keys", "fingerprint", file])
            #expect(o.status == 0 && o.stdout == fingerprint + "\n", "\(file): \(o.stdout) \(o.stderr)")
        }
        let exported = try lab.expectSuccess(["evidence", "export", "-o", "\(lab.dir)/again.tar.gz", "--key", "\(lab.dir)/k.key"])
        #expect(exported.stdout.hasSuffix(", signed (failback, key \(fingerprint))\n"), "\(exported.stdout)")
        // Pinned by file or by fingerprint: verified, by the same last line in both verifiers.
        for trust in [["--pubkey", pub], ["--pubkey", fingerprint]] {
            let ours = try evidence.swiftVerify(lab, bundle, trust), theirs = try evidence.pythonVerify(bundle, trust)
            let from = trust[1] == pub ? pub : "--pubkey"
            #expect(ours.status == 0 && ours.stdout.hasSuffix("\nok: signed by the trusted key \(fingerprint) (\(from))\n"), "\(ours.stdout)")
            #expect(theirs.status == 0 && theirs.stdout == ours.stdout, "\(theirs.stdout)")
        }
    }

    @Test func aSignerNoOneTrustsIsNamedAndNotVerified() throws {
        let (lab, bundle, pub) = try evidence.exportedDrill()
        let fingerprint = try opensslFingerprint(pub)
        let line = "UNPINNED: signed by an unpinned key \(fingerprint); compare it with the signer's out of band, then pass --pubkey"
        let ours = try evidence.swiftVerify(lab, bundle), theirs = try evidence.pythonVerify(bundle)
        #expect(ours.status == 3 && ours.stdout.hasSuffix("\n\(line)\n"))
        #expect(ours.stderr == "failback: \(bundle): \(line): not verified\n")
        #expect(theirs.status == 3 && theirs.stdout == ours.stdout && theirs.stderr == "verify-bundle: \(bundle): \(line): not verified\n")
        // --allow-unpinned: integrity only, and it says so.
        let integrity = "INTEGRITY ONLY: signed by an unpinned key \(fingerprint); no trusted key checked (--allow-unpinned)"
        for o in [try evidence.swiftVerify(lab, bundle, ["--allow-unpinned"]), try evidence.pythonVerify(bundle, ["--allow-unpinned"])] {
            #expect(o.status == 0 && o.stdout.hasSuffix("\n\(integrity)\n") && o.stderr.isEmpty, "\(o.stdout)")
        }
        // JSON: intact, not verified, the signer named.
        let json = try evidence.swiftVerify(lab, bundle, ["--json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(json.status == 3 && object["verified"] as? Bool == false && object["intact"] as? Bool == true)
        #expect((object["signer"] as? [String: Any])?["fingerprint"] as? String == fingerprint)
        // Pinned, the same bundle is verified.
        let pinned = try evidence.swiftVerify(lab, bundle, ["--json", "--pubkey", pub])
        let pinnedObject = try #require(try JSONSerialization.jsonObject(with: Data(pinned.stdout.utf8)) as? [String: Any])
        #expect(pinned.status == 0 && pinnedObject["verified"] as? Bool == true && pinnedObject["intact"] as? Bool == true)
        #expect((pinnedObject["signer"] as? [String: Any])?["pinned"] as? Bool == true)
        // The same for a proof.
        let proof = "\(lab.dir)/proof.json"
        try lab.expectSuccess(["evidence", "prove", "--seq", "2", "--key", "\(lab.dir)/k.key"]).stdout.write(toFile: proof, atomically: true, encoding: .utf8)
        let proofOurs = try run("failback", ["evidence", "verify-proof", proof]), proofTheirs = try python("verify-bundle.py", ["--proof", proof])
        #expect(proofOurs.status == 3 && proofOurs.stdout.hasSuffix("\n\(line)\n"), "\(proofOurs.stdout)")
        #expect(proofTheirs.status == 3 && proofTheirs.stdout == proofOurs.stdout, "\(proofTheirs.stdout) \(proofTheirs.stderr)")
        for v in [try run("failback", ["evidence", "verify-proof", proof, "--pubkey", fingerprint]), try python("verify-bundle.py", ["--proof", proof, "--pubkey", fingerprint])] {
            #expect(v.status == 0 && v.stdout.hasSuffix("\nok: signed by the trusted key \(fingerprint) (--pubkey)\n"), "\(v.stdout)")
        }
    }

    /// Key rotation: several trusted keys, from flags or the configuration; a bundle names its key.
    @Test func severalTrustedKeysAndTheConfiguration() throws {
        let (lab, bundle, pub) = try evidence.exportedDrill()
        let fingerprint = try opensslFingerprint(pub)
        #expect(try run("failback", ["keys", "generate", "-o", "\(lab.dir)/next.key"]).status == 0)
        let next = try opensslFingerprint("\(lab.dir)/next.key.pub.pem")
        // The manifest names the key.
        let listing = try run(tool("sh"), ["-c", "tar -xzOf '\(bundle)' --wildcards '*/manifest.json'"])
        #expect(listing.stdout.contains("\"key_fingerprint\":\"\(fingerprint)\""))
        for v in [
            try evidence.swiftVerify(lab, bundle, ["--pubkey", next, "--pubkey", fingerprint]), try evidence.pythonVerify(bundle, ["--pubkey", next, "--pubkey", fingerprint]),
        ] {
            #expect(v.status == 0, "\(v.stdout) \(v.stderr)")
        }
        // Only the next key trusted: this bundle fails (1), naming its signer.
        let other = "signed by the key \(fingerprint), which is not a trusted key"
        #expect(try evidence.swiftVerify(lab, bundle, ["--pubkey", next]).stderr == "failback: \(bundle): \(other)\n")
        #expect(try evidence.pythonVerify(bundle, ["--pubkey", next]).stderr == "verify-bundle: \(bundle): \(other)\n")
        // The configuration's trusted_keys.
        let config = "\(lab.dir)/trust.json"
        try #"{"trusted_keys": ["\#(next)", "\#(fingerprint)"]}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let configured = try evidence.swiftVerify(lab, bundle, ["--config", config])
        #expect(configured.status == 0 && configured.stdout.hasSuffix("\nok: signed by the trusted key \(fingerprint) (\(config))\n"), "\(configured.stdout)")
        #expect(try run("failback", ["evidence", "verify", bundle], env: ["FAILBACK_CONFIG": config]).status == 0)
        try #"{"trusted_keys": ["SHA256:AB"]}"#.write(toFile: config, atomically: true, encoding: .utf8)
        let bad = try evidence.swiftVerify(lab, bundle, ["--config", config])
        #expect(bad.status == 65 && bad.stderr == "failback: error: \(config): trusted_keys[0] is not a key fingerprint (sha256: and 64 lowercase hex digits)\n")
        let badFlag = try evidence.swiftVerify(lab, bundle, ["--pubkey", "sha256:xyz"])
        #expect(badFlag.status == 65 && badFlag.stderr == "failback: error: --pubkey: \"sha256:xyz\" is not a key fingerprint (sha256: and 64 lowercase hex digits)\n")
    }
}
