// The redactor (built-in rules), on any text and on any JSON payload. Properties:
//  1. Text (the input as UTF-8, invalid sequences replaced): redacting never crashes, and
//     redacting the result again changes nothing and finds nothing (idempotence, compared as
//     bytes); text with a kind found holds a marker.
//  2. JSON (when the input parses): the same for payloads, by canonical bytes; each redaction's
//     pointer (RFC 6901, under /payload) names a string of the result that holds a marker (an
//     object's member or an array's element that was changed).
// (A kind's own marker may be gone: a later rule's secret can span an earlier rule's marker, as
// in `x_token=a\0PGPASSWORD=[REDACTED:env_secret]`; the text is then redacted the more, not less.)
import FailbackDomain
import FailbackLog
import FuzzSupport

/// One for the run: its rules compile their patterns on first use. libFuzzer calls the target
/// from one thread.
nonisolated(unsafe) let redactor = Redactor()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRedactor(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    checkText(String(decoding: input, as: UTF8.self), input: input)
    if let value = try? JSONParser.parse(input) { checkPayload(value, input: input) }
    return 0
}

func checkText(_ text: String, input: [UInt8]) {
    let once = redactor.redact(text)
    fuzzCheck(once.kinds.isEmpty || once.text.contains("[REDACTED:"), "kinds \(once.kinds) found, no marker in \(once.text.debugDescription)", input: input)
    let twice = redactor.redact(once.text)
    if Array(twice.text.utf8) != Array(once.text.utf8) || !twice.kinds.isEmpty {
        fuzzKnownIssue("redactor-idempotence", "redacting twice changes \(once.text.debugDescription) into \(twice.text.debugDescription) (kinds \(twice.kinds))", input: input)
    }
}

func checkPayload(_ value: JSONValue, input: [UInt8]) {
    let once = redactor.redact(value, at: "/payload")
    for r in once.redactions {
        guard r.pointer.hasPrefix("/payload"), let target = resolve(String(r.pointer.dropFirst("/payload".count)), in: once.value) else {
            fuzzFailure("redaction pointer \(r.pointer) names nothing in \(CanonicalJSON.string(once.value))", input: input)
        }
        guard case .string(let s) = target, s.contains("[REDACTED:") else {
            fuzzFailure("redaction \(r.pointer) (\(r.kind)) names \(CanonicalJSON.string(target)), without a marker", input: input)
        }
    }
    let twice = redactor.redact(once.value, at: "/payload")
    let a = CanonicalJSON.encode(once.value), b = CanonicalJSON.encode(twice.value)
    if a != b || !twice.redactions.isEmpty {
        fuzzKnownIssue(
            "redactor-idempotence", "redacting twice changes \(String(decoding: a, as: UTF8.self)) into \(String(decoding: b, as: UTF8.self)) (\(twice.redactions))", input: input)
    }
}

/// The value `pointer` (RFC 6901) names in `value`, or nil.
func resolve(_ pointer: String, in value: JSONValue) -> JSONValue? {
    if pointer.isEmpty { return value }
    guard pointer.hasPrefix("/") else { return nil }
    var current = value
    for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
        let token = raw.split(separator: "~1", omittingEmptySubsequences: false).joined(separator: "/")
            .split(separator: "~0", omittingEmptySubsequences: false).joined(separator: "~")
        switch current {
        case .object(let members):
            guard let next = members[token] else { return nil }
            current = next
        case .array(let elements):
            guard let i = Int(token), elements.indices.contains(i) else { return nil }
            current = elements[i]
        default:
            return nil
        }
    }
    return current
}
