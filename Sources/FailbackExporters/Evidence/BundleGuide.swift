import FailbackDomain
import FailbackLog

/// The human-readable files of a bundle: `VERIFY.md` (how to check it with standard tools) and
/// the controls matrix (`controls.md`, `controls.csv`). Pure functions of what the export knows:
/// the same drill gives the same bytes.
enum BundleGuide {
    /// The requirement each control states, in words (AICPA Trust Services Criteria, 2017).
    static let requirements: [String: String] = [
        "CC9.1": "The entity identifies, selects, and develops risk mitigation activities for risks arising from potential business disruptions.",
        "A1.2":
            "The entity authorizes, designs, develops or acquires, implements, operates, approves, maintains, and monitors environmental protections, software, data back-up processes, and recovery infrastructure to meet its objectives.",
        "A1.3": "The entity tests recovery plan procedures supporting system recovery to meet its objectives.",
    ]

    /// What each file of a bundle is, in archive order (outputs stand for all of them).
    static let fileRoles: [(path: String, role: String)] = [
        ("events.jsonl", "the drill's events, one a line: each event's RFC 8785 canonical JSON, exactly the bytes the hash chain and the Merkle tree cover"),
        ("VERIFY.md", "this file"),
        ("runbook.json", "the runbook the drill followed, as recorded when it started"),
        ("report.md, report.html, report.json", "the failback report: verdict, phases, steps, checks, replication lag"),
        ("evidence-index.csv", "every event: number, time, type, who, summary, chain hash"),
        ("checks.xml", "the report's checks as JUnit XML"),
        ("controls.md, controls.csv", "the SOC 2 controls matrix: each control, its requirement, its evidence and its gaps"),
        ("outputs/NNNNNN.*", "each command's captured output (stdout, stderr, an asciinema recording), NNNNNN its event number"),
        ("manifest.json", "every file's size and SHA-256, the chain head, the Merkle root, the controls index with inclusion proofs"),
        ("checkpoint", "the Merkle tree's size and root as a C2SP checkpoint, signed"),
        ("public-key.pem", "the signing key (signed bundles)"),
        ("SHA256SUMS", "the SHA-256 of every file above"),
        ("SHA256SUMS.sig", "the Ed25519 signature of SHA256SUMS (signed bundles)"),
    ]

    /// `VERIFY.md`: what the bundle is and the exact commands that check it.
    static func verifyGuide(drill: String, events: Int, root: [UInt8], chainHead: [UInt8], fingerprint: String?) -> String {
        var out = """
            # How to check this evidence bundle

            This is the evidence of failback drill `\(drill)`: \(events) events, Merkle root
            `\(root.hex)` (base64 `\(Base64.encode(root))`), hash chain head
            `\(chainHead.hex)`. It was exported by failback (format failback-evidence/1). Checking
            it needs no failback: `tar`, `sha256sum`, `openssl` (3.0 or later: `pkeyutl -rawin`) and
            `python3`.

            ## 1. Unpack

            BUNDLE.tar.gz is the file this came in, whatever it is named now:

                tar -xzf BUNDLE.tar.gz
                cd \(drill)

            ## 2. Every file is the one listed

                sha256sum -c SHA256SUMS

            Every line must end in `OK`. A file that is not in SHA256SUMS (but SHA256SUMS.sig) is not
            part of the evidence.


            """
        if let fingerprint {
            out += """
                ## 3. The list is signed, and by whom

                    openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig

                must print `Signature Verified Successfully`. That proves only that the holder of
                public-key.pem's private key signed the list: anyone can sign a bundle with a key of
                their own. Compare the key's fingerprint

                    openssl pkey -pubin -in public-key.pem -outform DER | sha256sum

                with the signer's, obtained out of band (not from this bundle). It prints 64 hex
                digits; the key's fingerprint is `sha256:` and those digits. This bundle says its
                key is `\(fingerprint)`.


                """
        } else {
            out += """
                ## 3. Signature

                This bundle is UNSIGNED (exported without a key): nothing in it says who made it. Its
                files can only be checked against each other.


                """
        }
        out += """
            ## 4. The events are the drill's, whole

            `events.jsonl` is the drill's events in order. Each one's chain hash is
            SHA-256(previous hash || its line without the newline), from 32 zero bytes; the last one
            is manifest.json's `chain_head`. The events are also the leaves of an RFC 9162 Merkle tree
            whose root is manifest.json's `merkle_root` (hex) and the third line of `checkpoint`
            (base64). Recompute them:

                python3 - <<'PY'
                import hashlib
                lines = open("events.jsonl", "rb").read().split(b"\\n")[:-1]
                head = bytes(32)
                for line in lines:
                    head = hashlib.sha256(head + line).digest()
                def root(leaves):
                    if len(leaves) == 1:
                        return leaves[0]
                    k = 1
                    while k * 2 < len(leaves):
                        k *= 2
                    return hashlib.sha256(b"\\x01" + root(leaves[:k]) + root(leaves[k:])).digest()
                leaves = [hashlib.sha256(b"\\x00" + line).digest() for line in lines]
                import base64
                top = root(leaves)
                print("chain head  ", head.hex())
                print("merkle root ", top.hex())
                print("checkpoint  ", base64.b64encode(top).decode())
                PY

            The three lines must be manifest.json's `chain_head`, its `merkle_root` and the third line
            of `checkpoint`, as above. What these tools cannot check alone (the checkpoint's
            signature, the inclusion proof of each event the controls cite) is specified in
            failback's docs/evidence-bundle.md; `failback evidence verify BUNDLE.tar.gz --pubkey
            FINGERPRINT` checks all of it, as does `python3 scripts/verify-bundle.py BUNDLE.tar.gz
            --pubkey FINGERPRINT` from failback's sources (a second verifier, standard library only).

            ## Files

            | file | what it is |
            |---|---|

            """
        for (path, role) in fileRoles {
            if fingerprint == nil, ["public-key.pem", "SHA256SUMS.sig"].contains(path) { continue }
            out += "| \(path) | \(fingerprint == nil && path == "checkpoint" ? "the Merkle tree's size and root as a C2SP checkpoint (unsigned)" : role) |\n"
        }
        return out
    }

    /// One row of the controls matrix: an event that evidences a control, or a gap.
    struct Row {
        var control: String
        var reference: DrillReport.EventReference?
        /// `pass`, `fail`, `skipped`, `recorded` (an event that is evidence without a verdict) or `gap`.
        var result: String
        var file: String
        var gap: String?
    }

    /// The controls matrix: for each control, the events it cites (with the report's verdict of
    /// each, where it is a check) and every check of the control's event types; then its gaps.
    static func matrix(controls: [(id: String, title: String, types: [String])], cited: [[DrillReport.EventReference]], report: DrillReport) -> [Row] {
        var rows: [Row] = []
        let verdicts = Dictionary(report.checks.map { ($0.evidence.drillSeq, $0.result.rawValue) }, uniquingKeysWith: { first, _ in first })
        let gaps = report.evidenceGaps
        for (control, citedEvents) in zip(controls, cited) {
            var byNumber: [Int: DrillReport.EventReference] = [:]
            for e in citedEvents { byNumber[e.drillSeq] = e }
            for c in report.checks where control.types.contains(c.evidence.type) { byNumber[c.evidence.drillSeq] = c.evidence }
            for (n, e) in byNumber.sorted(by: { $0.key < $1.key }) {
                let file = e.type == "CommandExecuted" ? "outputs/\(String(repeating: "0", count: max(0, 6 - String(n).count)))\(n).cast" : "events.jsonl"
                rows.append(Row(control: control.id, reference: e, result: verdicts[n] ?? "recorded", file: file))
            }
            for g in gaps where g.control == control.id { rows.append(Row(control: control.id, result: "gap", file: "", gap: g.missing)) }
        }
        return rows
    }

    static func controlsCSV(_ rows: [Row]) -> String {
        var out = "control,drill_seq,seq,recorded_at,type,actor,summary,result,file\r\n"
        for r in rows {
            let cells: [String]
            if let e = r.reference {
                cells = [r.control, String(e.drillSeq), String(e.seq), e.at.description, e.type, e.actor, e.summary, r.result, r.file]
            } else {
                cells = [r.control, "", "", "", "", "", r.gap ?? "", r.result, ""]
            }
            out += cells.map(EvidenceIndexCSV.field).joined(separator: ",") + "\r\n"
        }
        return out
    }

    static func controlsMarkdown(_ rows: [Row], controls: [(id: String, title: String, types: [String])]) -> String {
        func cell(_ s: String) -> String { terminalSafe(s, keepTabs: false).replacingAll("|", with: "\\|") }
        var out =
            "# SOC 2 controls matrix\n\nEach control, what it requires, the drill's events that evidence it (their inclusion proofs are in manifest.json's `controls`), and what is missing.\n"
        for control in controls {
            out += "\n## \(control.id): \(control.title)\n\n**Requirement.** \(requirements[control.id] ?? "")\n\n"
            let mine = rows.filter { $0.control == control.id }
            let events = mine.filter { $0.reference != nil }
            if events.isEmpty {
                out += "No event evidences it.\n"
            } else {
                out += "| event # | seq | type | recorded at | actor | summary | result | file |\n|---|---|---|---|---|---|---|---|\n"
                for r in events {
                    guard let e = r.reference else { continue }
                    out += "| \(e.drillSeq) | \(e.seq) | \(e.type) | \(e.at) | \(cell(e.actor)) | \(cell(e.summary)) | \(r.result) | \(r.file) |\n"
                }
            }
            let gaps = mine.compactMap(\.gap)
            out += gaps.isEmpty ? "\n**Gaps:** none.\n" : "\n**Gaps:**\n\n" + gaps.map { "- \(cell($0))\n" }.joined()
        }
        return out
    }
}
