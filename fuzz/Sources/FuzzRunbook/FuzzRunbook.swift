// The runbook reader: YAML through libyaml (`YAMLReader`), then the format's strict reading and
// checks (`RunbookLoader`). Properties, on any bytes:
//  1. `RunbookLoader.load(bytes:source:)` gives a runbook or a named error (an `InvalidInput` that
//     names the source), never a crash; the outline and summary of a runbook it gives are written.
//  2. A runbook read from YAML reads back the same from what a drill records of it: its JSON
//     written canonically and parsed again (`runbook(fromJSON:)`, as `drill start` records the
//     document and `status` reads it back), and also after that document is redacted, as the
//     recorder does before it appends (a redacted runbook must still read, though not equal).
import FuzzSupport
import FailbackDomain
import FailbackLog

/// One for the run: its rules compile their patterns on first use. libFuzzer calls the target
/// from one thread.
nonisolated(unsafe) let redactor = Redactor()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunbook(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    let source = "fuzz.yaml"
    let loaded: LoadedRunbook
    do {
        loaded = try RunbookLoader.load(bytes: input, source: source)
    } catch {
        fuzzCheck(error.message.hasPrefix(source), "an error that does not name the file: \(error.message.debugDescription)", input: input)
        return 0
    }
    _ = loaded.outline
    _ = loaded.validationSummary

    // As recorded: canonical bytes in the log, parsed back.
    let bytes = CanonicalJSON.encode(loaded.json)
    let recorded: JSONValue
    do { recorded = try JSONParser.parse(bytes) } catch { fuzzFailure("the runbook's JSON does not parse back: \(error)", input: input) }
    do {
        let again = try RunbookLoader.runbook(fromJSON: recorded, source: "recorded")
        fuzzCheck(again == loaded.runbook, "the recorded runbook reads back differently", input: input)
    } catch {
        fuzzFailure("the recorded runbook does not read back: \(error.message)", input: input)
    }
    // As the recorder appends it: redacted first.
    let (redacted, redactions) = redactor.redact(recorded, at: "/payload/runbook_document")
    if !redactions.isEmpty {
        do { _ = try RunbookLoader.runbook(fromJSON: redacted, source: "redacted") } catch {
            fuzzFailure("the runbook, redacted as recorded (\(redactions.map(\.pointer))), does not read back: \(error.message)", input: input)
        }
    }
    return 0
}
