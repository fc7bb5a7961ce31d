import Testing

import FailbackDomain
@testable import FailbackProbes

/// The DNS probe's own message code (RFC 1035 §4), on hand-built messages.
@Suite struct DNSMessageTests {
    /// A response to `query` with the given answer records appended (names as compression pointers
    /// to the question at offset 12).
    func response(to query: [UInt8], flags: UInt16 = 0x8180, answers: [(type: UInt16, ttl: UInt32, data: [UInt8])]) -> [UInt8] {
        var out = query
        out[2] = UInt8(flags >> 8)
        out[3] = UInt8(flags & 0xFF)
        out[6] = 0
        out[7] = UInt8(answers.count)
        for a in answers {
            out += [0xC0, 12, UInt8(a.type >> 8), UInt8(a.type & 0xFF), 0, 1]
            out += [UInt8(a.ttl >> 24), UInt8(a.ttl >> 16 & 0xFF), UInt8(a.ttl >> 8 & 0xFF), UInt8(a.ttl & 0xFF)]
            out += [UInt8(a.data.count >> 8), UInt8(a.data.count & 0xFF)] + a.data
        }
        return out
    }

    @Test func queryIsEncodedAsRFC1035Says() throws {
        let q = try DNSMessage.query(id: 0xBEEF, name: "api.example.com.", type: 1)
        #expect(q == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 3] + Array("api".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1])
        #expect(throws: InvalidInput.self) { try DNSMessage.query(id: 1, name: String(repeating: "a", count: 64) + ".com", type: 1) }
        #expect(throws: InvalidInput.self) { try DNSMessage.query(id: 1, name: ".", type: 1) }
    }

    @Test func answersAreDecodedWithTheirTTLs() throws {
        let q = try DNSMessage.query(id: 7, name: "api.example.com", type: 1)
        let cname: [UInt8] = [3] + Array("www".utf8) + [0xC0, 16]  // www. + pointer to "example.com"
        let m = try DNSMessage(
            parsing: response(
                to: q,
                answers: [
                    (5, 300, cname), (1, 60, [52, 1, 2, 3]), (28, 60, [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]),
                    (16, 5, [2] + Array("hi".utf8) + [3] + Array("you".utf8)), (15, 5, [0, 10] + [0xC0, 12]), (99, 1, [0xAB, 0xCD]),
                ]))
        #expect(m.id == 7 && !m.truncated && m.responseCode == 0)
        #expect(m.answers.map(\.value) == ["www.example.com", "52.1.2.3", "2001:db8::1", "\"hi\" \"you\"", "10 api.example.com", "\\# 2 abcd"])
        #expect(m.answers.map(\.ttl) == [300, 60, 60, 5, 5, 1])
        #expect(m.answers.allSatisfy { $0.name == "api.example.com" })
    }

    @Test func responseCodeAndTruncationAreRead() throws {
        let q = try DNSMessage.query(id: 9, name: "x.example", type: 1)
        #expect(DNSMessage.responseCodeName(try DNSMessage(parsing: response(to: q, flags: 0x8183, answers: [])).responseCode) == "NXDOMAIN")
        #expect(DNSMessage.responseCodeName(try DNSMessage(parsing: response(to: q, flags: 0x8185, answers: [])).responseCode) == "REFUSED")
        // Truncated: the records that arrived whole are kept, a cut one is dropped.
        let cut = Array(response(to: q, flags: 0x8380, answers: [(1, 60, [1, 2, 3, 4]), (1, 60, [5, 6, 7, 8])]).dropLast(3))
        let m = try DNSMessage(parsing: cut)
        #expect(m.truncated && m.answers.map(\.value) == ["1.2.3.4"])
    }

    /// Every malformed message is an error, never a crash or a loop.
    @Test func malformedMessagesAreRefused() throws {
        let q = try DNSMessage.query(id: 3, name: "a.example", type: 1)
        let good = response(to: q, answers: [(1, 60, [1, 2, 3, 4])])
        #expect(throws: InvalidInput.self) { try DNSMessage(parsing: q) }  // not a response
        for length in 0..<good.count {
            #expect(throws: InvalidInput.self) { try DNSMessage(parsing: Array(good.prefix(length))) }
        }
        var loop = good
        loop[good.count - 16] = 0xC0  // the answer's name pointer...
        loop[good.count - 15] = UInt8(good.count - 16)  // ...to itself
        #expect(throws: InvalidInput.self) { try DNSMessage(parsing: loop) }
    }

    @Test func serverAddressesAreParsed() throws {
        #expect(try DNSProbe.parseServer("127.0.0.1:5353") == ("127.0.0.1", 5353))
        #expect(try DNSProbe.parseServer("10.0.0.2") == ("10.0.0.2", 53))
        #expect(try DNSProbe.parseServer("[::1]:53") == ("::1", 53))
        #expect(try DNSProbe.parseServer("::1") == ("::1", 53))
        for bad in ["dns.example.com", "127.0.0.1:0", "127.0.0.1:99999", "[::1]x", ""] {
            #expect(throws: InvalidInput.self) { try DNSProbe.parseServer(bad) }
        }
    }
}
