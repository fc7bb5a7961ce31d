import Testing
import FailbackDomain

/// What FuzzRedactor found against the regex rules (docs/fuzzing.md, "Findings"), kept as
/// regressions: Swift's `Regex` read `\b` as a Unicode word boundary (UAX #29), with none inside
/// `x'A`, `x.A` or `x:A`, so a secret right after such a join was missed (`db.password=x`) and
/// found only once a marker stood before the join: redacting twice changed the text. The
/// redaction engine that replaced those rules reads names by their bytes; these hold.
/// A second cause: a marker holds a colon, so in a URL a first pass's marker could make the
/// `user:password@` that the URL rule looks for, which a second pass redacted.
@Suite struct RedactorFuzzFindingsTests {
    let redactor = Redactor()

    /// FuzzRedactor's input, minimised: the first pass leaves `ASECRET=r`, the second redacts it.
    @Test func redactingTwiceChangesNothing() {
        let once = redactor.redact("pwd=q'ASECRET=r")
        #expect(!once.text.hasSuffix("ASECRET=r"), "\(once.text)")
        let twice = redactor.redact(once.text)
        #expect(twice.text == once.text && twice.kinds.isEmpty, "\(once.text) -> \(twice.text)")
    }

    /// The second cause, minimised: a marker's colon is not the one between a user and a password.
    @Test func aMarkerIsNotAPassword() {
        let once = redactor.redact("p://TOKEN=a\"@")
        let twice = redactor.redact(once.text)
        #expect(twice.text == once.text && twice.kinds.isEmpty, "\(once.text) -> \(twice.text)")
    }

    /// FuzzRedactor against the redaction engine, minimised: a value that runs into a marker
    /// already in the text was dropped whole, so a secret it covered (`KEY=a`) stayed, for the
    /// second pass to find. Now the value is cut where the marker begins.
    @Test func aValueRunningIntoAMarkerIsCutThere() {
        let input = String(decoding: [0x2D, 0x48, 0x1C] + Array("TOKEN=\"".utf8) + [0x8C, 0] + Array("KEY=a".utf8) + [0] + Array("[REDACTED:]".utf8), as: UTF8.self)
        let once = redactor.redact(input)
        #expect(!once.text.contains("KEY=a"), "\(once.text.debugDescription)")
        let twice = redactor.redact(once.text)
        #expect(twice.text == once.text && twice.kinds.isEmpty, "\(once.text.debugDescription) -> \(twice.text.debugDescription)")
        let plain = redactor.redact("export TOKEN=\"abc KEY=hunter2 [REDACTED:password]")
        #expect(redactor.redact(plain.text).text == plain.text && !plain.text.contains("hunter2"), "\(plain.text)")
    }

    /// FuzzRedactor in CI's smoke run, minimised: a value taken for a placeholder (`%s...`) was
    /// skipped whole, and with it the `TOKEN=c` it held, which the second pass then found.
    @Test func whatAPlaceholderHoldsIsScanned() {
        for input in [
            "Bearer I_TOKEN=%sTOKEN=c", "I_TOKEN=%sTOKEN=hunter2", "PASSWORD=<x>API_TOKEN=abc", "KEY=q[REDACTED:]KEY=a", "TOKEN=\"q[REDACTED:]KEY=a\"", "-H\u{1C}TOKEN=\"\0",
            "KEY=<KEY=p>",
        ] {
            let once = redactor.redact(input)
            let twice = redactor.redact(once.text)
            #expect(twice.text == once.text && twice.kinds.isEmpty, "\(input): \(once.text) -> \(twice.text)")
        }
        #expect(!redactor.redact("I_TOKEN=%sTOKEN=hunter2").text.contains("hunter2"))
    }

    /// The first cause in one pass: each secret stays in the text.
    @Test(arguments: [
        ("db.password=hunter2", "hunter2"),
        ("cfg.client_secret=s3cr3t", "s3cr3t"),
        ("x.PGPASSWORD=hunter2", "hunter2"),
        ("user@host:PGPASSWORD=hunter2", "hunter2"),
        ("a'PGPASSWORD=hunter2", "hunter2"),
    ])
    func secretsAfterAJoinedWordAreRedacted(text: String, secret: String) {
        let redacted = redactor.redact(text)
        #expect(!redacted.text.contains(secret), "\(text) -> \(redacted.text)")
    }
}
