import Testing
import FailbackDomain

/// What FuzzRedactor found (docs/fuzzing.md, "Findings"): open, left to the redaction engine's
/// rewrite, so each case is a known issue. When a change fixes one, its test fails with "known
/// issue was not recorded": turn it into a plain expectation then.
///
/// The cause: Swift's `Regex` reads `\b` as a Unicode word boundary (UAX #29, its default), under
/// which there is none inside `x'A`, `x.A` or `x:A` (an apostrophe, a full stop or a colon between
/// letters joins them into one word). The built-in rules start with `\b`, so a secret right after
/// such a join is not found (`db.password=x` is recorded as it is), and once an earlier rule has
/// put `]` of a marker before the join, the second pass finds it: redacting twice changes the text.
/// A second cause, alone in 26 of the 19,969 inputs the first left (replayed with simple word
/// boundaries): a marker holds a colon, so in a URL a first pass's marker can make the
/// `user:password@` that `url_credentials` looks for (`p://TOKEN=[REDACTED:token_parameter]"@`:
/// the "password" is `token_parameter]"`), which the second pass redacts.
@Suite struct RedactorFuzzFindingsTests {
    let redactor = Redactor()

    /// FuzzRedactor's input, minimised: the first pass leaves `ASECRET=r`, the second redacts it.
    @Test func redactingTwiceChangesNothing() {
        withKnownIssue("\\b is a Unicode word boundary: none in q'A") {
            let once = redactor.redact("pwd=q'ASECRET=r")
            #expect(!once.text.hasSuffix("ASECRET=r"), "\(once.text)")
            let twice = redactor.redact(once.text)
            #expect(twice.text == once.text && twice.kinds.isEmpty, "\(once.text) -> \(twice.text)")
        }
    }

    /// The second cause, minimised: `url_credentials` takes a marker's colon for the one between
    /// a user and a password.
    @Test func aMarkerIsNotAPassword() {
        withKnownIssue("a marker's colon makes user:password@ in a URL") {
            let once = redactor.redact("p://TOKEN=a\"@")
            let twice = redactor.redact(once.text)
            #expect(twice.text == once.text && twice.kinds.isEmpty, "\(once.text) -> \(twice.text)")
        }
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
        withKnownIssue("\\b is a Unicode word boundary: none in x.p, x:P, a'P") {
            let redacted = redactor.redact(text)
            #expect(!redacted.text.contains(secret), "\(text) -> \(redacted.text)")
        }
    }
}
