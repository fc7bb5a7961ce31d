// The DNS probe's message parser (RFC 1035 §4), on any bytes given as a server's response.
// Properties:
//  1. `DNSMessage(parsing:)` gives a message or an `InvalidInput` that says "DNS: ...", never a
//     crash or a loop (compression pointers included).
//  2. Each answer's name can be asked for again: `DNSMessage.query` of it either refuses it (a
//     name no query can hold) or writes a query that, marked as a response, parses back with its
//     id, no answers and no error.
import FailbackDomain
import FailbackProbes
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNS(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let message: DNSMessage
    do {
        message = try DNSMessage(parsing: input)
    } catch {
        fuzzCheck(error.message.hasPrefix("DNS: "), "an error that is not named: \(error.message.debugDescription)", input: input)
        return 0
    }
    _ = DNSMessage.responseCodeName(message.responseCode)
    for (i, answer) in message.answers.enumerated() {
        guard let query = try? DNSMessage.query(id: message.id, name: answer.name, type: answer.type) else { continue }
        var response = query
        response[2] |= 0x80
        do {
            let parsed = try DNSMessage(parsing: response)
            fuzzCheck(
                parsed.id == message.id && parsed.answers.isEmpty && parsed.responseCode == 0 && !parsed.truncated,
                "the query for answer \(i) (\(answer.name.debugDescription)) parses back as \(parsed)", input: input)
        } catch {
            fuzzFailure("the query for answer \(i) (\(answer.name.debugDescription)) does not parse back: \(error)", input: input)
        }
    }
    return 0
}
