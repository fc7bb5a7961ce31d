import ArgumentParser
import FailbackDomain
import FailbackExporters
import FailbackLog

#if canImport(Glibc)
import Glibc
#endif

struct Keys: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Signing keys for evidence bundles.", subcommands: [Generate.self, Fingerprint.self])

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate",
            abstract: "Make an Ed25519 key pair: PRIVATE (PEM, mode 0600) and PRIVATE.pub.pem.",
            discussion: "failback keys generate -o keys/failback.key")
        @Option(name: .shortAndLong, help: ArgumentHelp("The private key file to write.", valueName: "file")) var output = "failback.key"

        func run() throws {
            guard access(output, F_OK) != 0 else { throw InvalidInput("\(output) exists; not overwritten") }
            // Its folders are made when missing (`-o keys/failback.key`), readable by their owner only.
            var prefix = output.hasPrefix("/") ? "/" : ""
            for part in output.split(separator: "/").dropLast() {
                prefix += part
                if access(prefix, F_OK) != 0, mkdir(prefix, 0o700) != 0 {
                    throw ExportError("cannot make the folder \(prefix) for \(output): \(String(cString: strerror(errno)))", subject: .path(prefix))
                }
                prefix += "/"
            }
            let key = try Ed25519Key.generate()
            let publicFile = try OutputFile(path: output + ".pub.pem")
            try publicFile.write(key.publicPEM)
            let privateFile = try OutputFile(path: output)
            try privateFile.write(key.privatePEM)
            try privateFile.commit(mode: 0o600)
            try publicFile.commit()
            print("private key: \(output) (mode 0600)\npublic key:  \(output).pub.pem\nfingerprint: \(key.fingerprint)")
        }
    }

    struct Fingerprint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fingerprint", abstract: "Print a key's fingerprint (the SHA-256 of its DER public key), to compare out of band.",
            discussion: """
                Example: failback keys fingerprint failback.key.pub.pem
                The same as: openssl pkey -pubin -in failback.key.pub.pem -outform DER | sha256sum
                """)
        @Argument(help: ArgumentHelp("A PEM key file (public or private).", valueName: "file")) var key: String

        func run() throws {
            guard let loaded = try loadKey(key) else { return }
            print(loaded.fingerprint)
        }
    }
}

/// The keys `evidence verify` and `verify-proof` trust: each `--pubkey` (a PEM file, or a
/// fingerprint `sha256:HEX`) when any is given, else the configuration's `trusted_keys`.
func trustedKeys(_ pubkeys: [String], config: String?, allowUnpinned: Bool) throws -> TrustedKeys {
    var trust = TrustedKeys(allowUnpinned: allowUnpinned)
    for given in pubkeys {
        if given.hasPrefix("sha256:") {
            try trust.pin(fingerprint: given, from: "--pubkey")
        } else if let key = try loadKey(given, publicOnly: true) {
            trust.pin(key, from: given)
        }
    }
    if pubkeys.isEmpty {
        let configuration = try Workspace(store: nil, config: config).configuration()
        for fingerprint in configuration.trustedKeys { try trust.pin(fingerprint: fingerprint, from: configuration.source ?? "configuration") }
    }
    return trust
}

/// The options both verifiers of evidence take for the keys they trust.
struct TrustOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "A key evidence must be signed with: a PEM public key file, or its fingerprint (sha256:HEX). Repeat for several (key rotation). Default: the configuration's trusted_keys.",
            valueName: "pem|fingerprint")) var pubkey: [String] = []
    @Option(help: ArgumentHelp("A configuration file with trusted_keys (default: $FAILBACK_CONFIG, else config.json beside the default store).", valueName: "path")) var config:
        String?
    @Flag(help: "Check integrity only when the signer is no trusted key, or the evidence is unsigned; exit 0 and say so.") var allowUnpinned = false

    func trust() throws -> TrustedKeys { try trustedKeys(pubkey, config: config, allowUnpinned: allowUnpinned) }
}

/// The key in the PEM file at `path`, if a path is given: any key for signing, or only a public
/// key, read as the verifiers read one. A file that holds none is wrong input (65).
func loadKey(_ path: String?, publicOnly: Bool = false) throws -> Ed25519Key? {
    guard let path else { return nil }
    let pem = try readFile(path, .key)
    do {
        return publicOnly ? try Ed25519Key.load(publicPEM: pem, what: path) : try Ed25519Key.load(pem: pem, what: path)
    } catch {
        throw InvalidInput(error.message)
    }
}

/// The signing key named by `--key`, if any (a private key).
func signingKey(_ path: String?) throws -> Ed25519Key? {
    guard let path, let key = try loadKey(path) else { return nil }
    if !key.canSign { throw InvalidInput("\(path): a public key; signing needs the private key") }
    return key
}

struct Evidence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence", abstract: "SOC 2 evidence bundles (docs/evidence-bundle.md).",
        subcommands: [Export.self, VerifyBundle.self, Prove.self, VerifyProof.self, Gaps.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write a drill's evidence bundle: tar + gzip, the same bytes every time.",
            discussion: "failback evidence export -o evidence/drill.tar.gz --key failback.key\nWithout --key the bundle is complete but unsigned, and says so.")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
        @Option(name: .shortAndLong, help: ArgumentHelp("The bundle to write (default: evidence/DRILL.tar.gz).", valueName: "file")) var output: String?
        @Option(help: ArgumentHelp("The Ed25519 private key (PEM) to sign with.", valueName: "file")) var key: String?
        @Option(help: "The signer's name in the checkpoint's signature line.") var keyName = "failback"

        func validate() throws {
            if keyName.isEmpty || keyName.contains(where: { $0 == " " || $0 == "+" || $0 == "\n" }) { throw ValidationError("--key-name must be non-empty, without spaces or '+'") }
        }

        func run() throws {
            let signer = try signingKey(key)
            let (recorder, head) = try storeOptions.drillForReading(drill)
            let path = output ?? "evidence/\(head.drillID).tar.gz"
            if output == nil { mkdir("evidence", 0o755) }
            // On a terminal, a long export says how far it is (standard error, redrawn in place).
            var shownAt = monotonicSeconds()
            let progress: ((Int, Int) -> Void)? =
                isatty(2) != 0
                ? { read, total in
                    guard monotonicSeconds() - shownAt >= 0.2 || read == total else { return }
                    shownAt = monotonicSeconds()
                    Output.printProgress("exporting \(head.drillID): \(read) of \(total) events (\(read * 100 / max(1, total))%)", done: read == total)
                } : nil
            let s = try EvidenceBundle.export(drill: head.drillID, from: recorder.store, to: path, key: signer, keyName: keyName, progress: progress)
            // With -o -, the bundle is standard output: the summary goes to standard error.
            let say: (String) -> Void = output == "-" ? { Output.printError($0) } : { print($0) }
            say(
                "\(s.path): drill \(s.drillID), \(s.events) events, \(s.files) files, \(s.bytes) bytes, merkle root \(s.merkleRoot), \(s.keyFingerprint.map { "signed (\(keyName), key \($0))" } ?? "UNSIGNED")"
            )
        }
    }

    struct Prove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prove",
            abstract: "Print one event's inclusion proof (RFC 9162 audit path + checkpoint), checkable alone with verify-proof.")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
        @Option(parsing: .unconditional, help: ArgumentHelp("The event's global sequence number (the first column of failback log).", valueName: "n")) var seq: Int
        @Option(help: ArgumentHelp("The Ed25519 private key (PEM) to sign the checkpoint with.", valueName: "file")) var key: String?
        @Option(help: "The signer's name in the checkpoint.") var keyName = "failback"

        func run() throws {
            let (recorder, head) = try storeOptions.drillForReading(drill)
            let proof = try InclusionProof.make(drill: head.drillID, seq: seq, from: recorder.store, key: try signingKey(key), keyName: keyName)
            print(CanonicalJSON.string(proof.json))
        }
    }

    struct VerifyProof: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-proof", abstract: "Check an inclusion proof alone: the event is in the drill's signed tree.",
            discussion: """
                Example: failback evidence verify-proof seq-42.json --pubkey sha256:3f5e…
                Exit 0 when it holds and its signer is a trusted key (or with --allow-unpinned), 1 when it does not hold, 3 when it holds but is unsigned or signed by a key not trusted, 65 when the file is not a proof.
                """)
        @Argument(help: "The proof (what evidence prove printed).") var proof: String
        @OptionGroup var trustOptions: TrustOptions
        @Flag(help: "The result as one JSON object.") var json = false

        func run() throws {
            let trust = try trustOptions.trust()
            let text = try readFile(proof, .proof)
            let parsed: InclusionProof
            do { parsed = try InclusionProof(json: JSONParser.parse(text)) } catch let e as JSONParseError { throw InvalidInput("\(proof): \(e)") }
            do {
                let (lines, signer) = try parsed.verify(trust: trust)
                let trusted = trust.verdict(signer).trusted
                print(
                    json
                        ? CanonicalJSON.string(["proof": .string(proof), "verified": .bool(signer.isPinned), "intact": true, "checks": .array(lines.map(JSONValue.string))])
                        : lines.joined(separator: "\n"))
                if !trusted {
                    Output.printError("failback: \(proof): \(Output.oneLine(lines.last ?? "")): not verified")
                    throw ExitCode(ExitStatus.unpinned.rawValue)
                }
            } catch let error as ExportError where error.kind == .integrity || error.kind == .malformed {
                if json { print(CanonicalJSON.string(["proof": .string(proof), "verified": false, "intact": false, "problem": .string(error.message)])) }
                Output.printError("failback: \(proof): \(Output.oneLine(error.message))")
                throw ExitCode(ExitStatus.integrityFailure.rawValue)
            }
        }
    }

    struct Gaps: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gaps",
            abstract: "Which SOC 2 control lacks which evidence, from the runbook and the drill.",
            discussion: "Exit 0 when nothing is missing, 1 when something is (each gap on its own line).")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: ArgumentHelp("The drill (default: the current drill, else the latest).", valueName: "id"), completion: Completions.drills) var drill: String?
        @Flag(help: "The gaps as one JSON object.") var json = false

        func run() throws {
            let (recorder, head) = try storeOptions.drillForReading(drill)
            let gaps = try DrillReport.build(drill: head.drillID, from: recorder.store, keepsEventIndex: false).evidenceGaps
            if json {
                print(
                    CanonicalJSON.string(
                        .members([
                            "drill_id": .string(head.drillID),
                            "gaps": .array(gaps.map { ["control": .string($0.control), "missing": .string($0.missing)] }),
                        ])))
            } else {
                for g in gaps { print("\(g.control)\t\(g.missing)") }
                if gaps.isEmpty { print("no gaps: every control has its evidence") }
            }
            if !gaps.isEmpty { throw ExitCode(1) }
        }
    }

    struct VerifyBundle: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check a bundle alone: sums, signature, checkpoint, chain, Merkle root, cited inclusions.",
            discussion: """
                Example: failback evidence verify evidence/drill.tar.gz --pubkey failback.key.pub.pem
                Exit 0 when everything holds and the signer is a trusted key (or with --allow-unpinned), 1 when anything does not hold (named), 3 when everything holds but the bundle is unsigned or signed by a key not trusted, 65 when it is not a bundle at all.
                """)
        @Argument(help: "The bundle (.tar.gz).") var bundle: String
        @OptionGroup var trustOptions: TrustOptions
        @Flag(help: "Check each event's RFC 8785 form by parsing it and writing it again (slower; the same verdict as the one-pass check).") var deep = false
        @Flag(help: "The result as one JSON object (problems still go to standard error too).") var json = false

        func run() throws {
            let trust = try trustOptions.trust()
            guard access(bundle, R_OK) == 0 else { throw StoreError(.missing, "\(bundle): \(String(cString: strerror(errno)))") }
            let result: BundleVerifier.Result
            do {
                result = try BundleVerifier.verify(path: bundle, trust: trust, deep: deep)
            } catch let error as ExportError where error.kind != .io {
                // Not a bundle this verifier will read (refused entries, corrupt gzip, cut short).
                throw ExportError("\(bundle): \(error.message)", kind: .malformed, subject: .path(bundle))
            }
            if json {
                print(
                    CanonicalJSON.string(
                        .members([
                            "bundle": .string(bundle), "verified": .bool(result.problems.isEmpty && result.signer.isPinned), "signed": .bool(result.signed),
                            "intact": .bool(result.problems.isEmpty), "signer": signerJSON(result.signer),
                            "checks": .array(result.lines.map(JSONValue.string)), "problems": .array(result.problems.map(JSONValue.string)),
                        ])))
            } else {
                for line in result.lines { print(line) }
            }
            if !result.problems.isEmpty {
                for p in result.problems { Output.printError("failback: \(bundle): \(Output.oneLine(p))") }
                throw ExitCode(ExitStatus.integrityFailure.rawValue)
            }
            if !result.trusted {
                Output.printError("failback: \(bundle): \(Output.oneLine(result.lines.last ?? "")): not verified")
                throw ExitCode(ExitStatus.unpinned.rawValue)
            }
        }

        func signerJSON(_ signer: TrustedKeys.Signer) -> JSONValue {
            switch signer {
            case .pinned(let fingerprint, let from): return ["fingerprint": .string(fingerprint), "pinned": true, "pinned_by": .string(from)]
            case .unpinned(let fingerprint): return ["fingerprint": .string(fingerprint), "pinned": false]
            case .unsigned: return .null
            }
        }
    }
}
