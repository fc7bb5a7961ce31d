import Testing
@testable import FailbackLog

@Suite struct CanonicalJSONTests {
    /// RFC 8785 Appendix B: IEEE-754 bits and their required serialization.
    @Test(arguments: [
        (0x0000_0000_0000_0000 as UInt64, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
        (0x8000_0000_0000_0001, "-5e-324"), (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
        (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
        (0xC340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
        (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"), (0x44B5_2D02_C7E1_4AF6, "1e+23"),
        (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"), (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
        (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"), (0x444B_1AE4_D6E2_EF50, "1e+21"),
        (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"), (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
        (0x41B3_DE43_5555_5553, "333333333.3333332"), (0x41B3_DE43_5555_5554, "333333333.33333325"),
        (0x41B3_DE43_5555_5555, "333333333.3333333"), (0x41B3_DE43_5555_5556, "333333333.3333334"),
        (0x41B3_DE43_5555_5557, "333333333.33333343"), (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
        (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
    ])
    func rfc8785AppendixBNumbers(bits: UInt64, expected: String) {
        #expect(CanonicalJSON.string(.number(Double(bitPattern: bits))) == expected)
    }

    /// 5,024 numbers serialized by a real ECMAScript engine (see Vectors/gen-es6-numbers.js).
    @Test func numbersMatchECMAScript() throws {
        let text = try String(contentsOfFile: vectorsPath("es6-numbers.txt"), encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ",")
            let d = Double(bitPattern: UInt64(parts[0], radix: 16)!)
            #expect(CanonicalJSON.string(.number(d)) == String(parts[1]), "bits \(parts[0])")
            checked += 1
        }
        #expect(checked > 5000)
    }

    /// The example of RFC 8785 §3.2.2 (and its Appendix-style hex dump in the reference test data).
    @Test func rfc8785Example() throws {
        let input =
            #"{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/", "literals": [null, true, false]}"#
        let expected = #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        #expect(CanonicalJSON.string(try JSONParser.parse(input)) == expected)
    }

    /// Member names sort by UTF-16 code units: U+1F600 (surrogates D83D…) sorts before U+FB33, unlike by scalar value.
    @Test func sortsMemberNamesByUTF16() throws {
        let input = #"{"\u20ac": "Euro", "\r": "CR", "\ufb33": "Hebrew", "1": "One", "\ud83d\ude00": "Smiley", "\u0080": "Control", "\u00f6": "Latin"}"#
        let expected = "{\"\\r\":\"CR\",\"1\":\"One\",\"\u{80}\":\"Control\",\"ö\":\"Latin\",\"€\":\"Euro\",\"😀\":\"Smiley\",\"\u{FB33}\":\"Hebrew\"}"
        #expect(CanonicalJSON.string(try JSONParser.parse(input)) == expected)
    }

    @Test func escapesOnlyWhatRFC8785Escapes() {
        let s = "\u{0}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1F}\"\\/\u{7F}\u{2028}é"
        #expect(CanonicalJSON.string(.string(s)) == #""\u0000\b\t\n\u000b\f\r\u001f\"\\/"# + "\u{7F}\u{2028}é\"")
    }

    /// Parse ∘ encode is the identity on values, and encode is a fixed point (determinism property).
    @Test func roundTripsRandomValues() throws {
        var rng = SplitMix64(seed: 8785)
        for _ in 0..<500 {
            let value = randomJSON(&rng, depth: 0)
            let bytes = CanonicalJSON.encode(value)
            let parsed = try JSONParser.parse(bytes)
            #expect(parsed == value)
            #expect(CanonicalJSON.encode(parsed) == bytes)
        }
    }

    /// The fixed-order envelope writer gives exactly the generic encoder's bytes.
    @Test func envelopeWriterMatchesGenericEncoder() {
        var rng = SplitMix64(seed: 42)
        for i in 0..<300 {
            let draft = EventDraft(
                type: "T\(i)", schemaVersion: Int(rng.next() % 3) + 1, drillID: randomString(&rng),
                recordedAt: Timestamp(millisecondsSinceEpoch: Int64(rng.next() % 4_000_000_000_000)),
                actor: randomString(&rng), host: randomString(&rng), payload: .object(["v": randomJSON(&rng, depth: 1)]),
                redactions: i % 3 == 0 ? [Redaction(pointer: "/payload/v", kind: "bearer_token")] : [],
                idempotencyKey: i % 2 == 0 ? randomString(&rng) : nil)
            let seq = Int(rng.next() % 1_000_000) + 1
            #expect(draft.canonicalBytes(seq: seq, drillSeq: i + 1) == CanonicalJSON.encode(draft.envelope(seq: seq, drillSeq: i + 1)))
        }
    }
}

/// The worked example of docs/log-format.md. The expected hashes were computed with OpenSSL alone:
///   H1=$({ head -c 32 /dev/zero; printf '%s' "$C1"; } | openssl dgst -sha256 -r | cut -d' ' -f1)
///   H2=$({ printf '%s' "$H1" | xxd -r -p; printf '%s' "$C2"; } | openssl dgst -sha256 -r | cut -d' ' -f1)
@Suite struct KnownAnswerTests {
    @Test func documentedTwoEventChain() {
        let at = Timestamp(rfc3339: "2026-11-23T18:21:00.000Z")!
        let drill = "drill-20261123-182100-abcdef"
        let e1 = EventDraft(
            type: "DrillStarted", schemaVersion: 1, drillID: drill, recordedAt: at, actor: "alice", host: "lab-1",
            payload: ["runbook": "failback-bud", "operator": "Dana"], lifecycle: .opens)
        let e2 = EventDraft(
            type: "ReplicationLagSampled", schemaVersion: 1, drillID: drill,
            recordedAt: Timestamp(millisecondsSinceEpoch: at.millisecondsSinceEpoch + 250), actor: "alice", host: "lab-1",
            payload: ["target": "primary", "lag_seconds": 3.2, "source": "dr"])
        let c1 = e1.canonicalBytes(seq: 1, drillSeq: 1), c2 = e2.canonicalBytes(seq: 2, drillSeq: 2)
        #expect(
            String(decoding: c1, as: UTF8.self)
                == #"{"actor":"alice","drill_id":"drill-20261123-182100-abcdef","drill_seq":1,"host":"lab-1","payload":{"operator":"Dana","runbook":"failback-bud"},"recorded_at":"2026-11-23T18:21:00.000Z","schema_version":1,"seq":1,"type":"DrillStarted"}"#
        )
        #expect(
            String(decoding: c2, as: UTF8.self)
                == #"{"actor":"alice","drill_id":"drill-20261123-182100-abcdef","drill_seq":2,"host":"lab-1","payload":{"lag_seconds":3.2,"source":"dr","target":"primary"},"recorded_at":"2026-11-23T18:21:00.250Z","schema_version":1,"seq":2,"type":"ReplicationLagSampled"}"#
        )
        let h1 = HashChain.link(previous: HashChain.genesis, canonical: c1)
        let h2 = HashChain.link(previous: h1, canonical: c2)
        #expect(h1.hex == "f818b22bcbbe79b52066c15d7ebcd721371f5f2a9bec68918755c4d2d537fced")
        #expect(h2.hex == "d95dfcfc7fca1566630c1723799f3b99de4d53dc7a824c23462e8a5fe8e20b8e")
    }
}
