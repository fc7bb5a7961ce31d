import FailbackLog
import Testing

@testable import FailbackDomain
@testable import FailbackProbes

/// The shapes recorded fields take (FieldCheck), the terminal escaping of recorded text, and how a
/// password is taken out of a PostgreSQL connection string.
@Suite struct FieldCheckTests {
    @Test func decimalsOnly() {
        for (text, value) in [("3.2", 3.2), ("0", 0), ("-1", -1), ("1e3", 1000), ("2.5E-1", 0.25), ("007", 7)] as [(String, Double)] {
            #expect(FieldCheck.decimal(text) == value, "\(text)")
        }
        for text in ["0x10", "0x1p3", "inf", "nan", "infinity", "+1", ".5", "5.", "1e", "1e+", "", "-", " 1", "1 ", "1_0", "١"] {
            #expect(FieldCheck.decimal(text) == nil, "\(text)")
        }
    }

    func message(_ check: () throws(InvalidInput) -> Void) -> String? {
        do { try check(); return nil } catch { return error.message }
    }

    @Test func dnsNamesHostsAndPorts() {
        for name in [
            "api.example.com", "api.example.com.", "_dmarc.example", "x", "a-b.c", String(repeating: "a", count: 63),
            [63, 63, 63, 61].map { String(repeating: "a", count: $0) }.joined(separator: "."),
        ] {
            #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName(String(name), "name") } == nil, "\(name)")
        }
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName("a..b", "name") } == #"name "a..b" has an empty label (two dots in a row, or a dot at the start)"#)
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName(".a", "name") } == #"name ".a" has an empty label (two dots in a row, or a dot at the start)"#)
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName("-a.b", "name") } == #"name "-a.b": label "-a" starts or ends with '-'"#)
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName("a b", "name") } == #"name "a b": label "a b" may hold only letters, digits, '-' and '_'"#)
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName("", "name") } == "name is empty")
        let long = [String](repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")  // 255
        #expect(message { () throws(InvalidInput) in try FieldCheck.dnsName(long, "name") }?.hasSuffix("(255 bytes) is longer than 253 characters") == true)
        for ok in ["1.2.3.4:53", "[::1]:53", "dns.example:5353", "h:65535", "h:1"] {
            #expect(message { () throws(InvalidInput) in try FieldCheck.hostAndPort(ok, "r") } == nil, "\(ok)")
        }
        for (bad, why) in [
            ("h:0", #"r "h:0": port "0" is not a number from 1 to 65535"#), ("h:65536", #"r "h:65536": port "65536" is not a number from 1 to 65535"#),
            ("h:+53", #"r "h:+53": port "+53" is not a number from 1 to 65535"#), ("h", #"r "h": expected HOST:PORT (an IPv6 address in brackets: [::1]:53)"#),
            ("::1:53", #"r "::1:53": expected HOST:PORT (an IPv6 address in brackets: [::1]:53)"#), ("[x]:53", #"r "[x]:53": "x" is not an IPv6 address"#),
        ] {
            #expect(message { () throws(InvalidInput) in try FieldCheck.hostAndPort(bad, "r") } == why, "\(bad)")
        }
    }

    @Test func httpURLs() {
        for ok in ["http://x", "https://api.example.com/health?a=b#c", "HTTP://X:8080", "http://user:p%40ss@10.0.0.1:80/", "https://[::1]:8443/"] {
            #expect(message { () throws(InvalidInput) in try FieldCheck.httpURL(ok, "URL") } == nil, "\(ok)")
        }
        for bad in ["-K/etc/passwd", "ftp://x/", "http://", "http://x:0/", "http://x:http/", "http://x/\n", "http://[::1/", "http://a_b..c/"] {
            #expect(message { () throws(InvalidInput) in try FieldCheck.httpURL(bad, "URL") } != nil, "\(bad)")
        }
    }

    @Test func recordedTextIsEscapedForATerminal() {
        #expect(terminalSafe("plain text, é ✓") == "plain text, é ✓")
        #expect(terminalSafe("a\u{1B}[31mb\u{7}\n\r\t\u{9B}\u{202E}\u{7F}") == #"a\u{1b}[31mb\u{7}\n\r\t\u{9b}\u{202e}\u{7f}"#)
        #expect(terminalSafe("col1\tcol2", keepTabs: true) == "col1\tcol2")
    }

    @Test func valuesOfALineAreCountedByTokens() {
        func count(_ s: String) -> Int { Array(s.utf8).withUnsafeBytes { jsonValueCount($0) } }
        #expect(count(#"{"a":1,"b":[true,null,"x"],"c":{}}"#) == 7)
        #expect(count("[]") == 1)
        #expect(count(#"["a\"b",-1.5e3]"#) == 3)
        #expect(count(#"{"k":"v:,[]"}"#) == 2)
        #expect(count(#"["open"#) == 2)  // an unterminated string is no string: [ and the run after the quote
    }
}
