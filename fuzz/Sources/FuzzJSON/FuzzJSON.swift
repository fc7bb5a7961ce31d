// The JSON parser, the RFC 8785 writer, the scanner that reads stored events in place, and the
// envelope readers built on it. Properties, on any bytes:
//  1. `JSONParser.parse` accepts or throws, never crashes; what it accepts has canonical bytes that
//     are valid UTF-8, parse again, and write again to the same bytes (and the same value).
//  2. `JSONScanner.members(ofDocument:)` accepts exactly what `JSONParser.parseObjectMembers`
//     accepts and refuses the rest with the same error; where both accept they see the same
//     members (names and values), the nested `payload` object's members too, and the in-place
//     reads of `JSONObjectView` give what the parsed values hold.
//  3. `parse` and `parseObjectMembers` agree on objects (one grammar, two outputs).
//  4. `RecordedEvent(canonical:hash:)` accepts only documents the parser accepts, with the payload
//     the parser reads; the fast `RecordedEvent.readLine` takes a line only if the general reading
//     takes it too, with the same values; reads that share values (`SharedValues`) give what a
//     fresh read gives.
//  5. `CanonicalJSON.isCanonical` (one pass, no values) says what parsing and writing again says.
import FuzzSupport
@testable import FailbackLog

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    checkRoundTrip(input)
    checkScannerAgainstParser(input)
    checkEnvelope(input)
    checkCanonicalForm(input)
    return 0
}

/// Canonical bytes, compared as bytes (`==` on strings is Unicode equivalence, not identity).
func canonical(_ value: JSONValue?) -> [UInt8]? { value.map(CanonicalJSON.encode) }

func show(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self).debugDescription }

// MARK: 1. Parse, write canonically, parse again

func checkRoundTrip(_ input: [UInt8]) {
    let value: JSONValue
    do {
        value = try JSONParser.parse(input)
    } catch {
        fuzzCheck(
            error.offset >= 0 && error.offset <= input.count && error.line >= 1 && error.column >= 1,
            "error outside the document: \(error) (offset \(error.offset))", input: input)
        _ = error.description
        return
    }
    let bytes = CanonicalJSON.encode(value)
    fuzzCheck(firstInvalidUTF8Offset(bytes) == nil, "canonical bytes are not UTF-8: \(show(bytes))", input: input)
    fuzzCheck(CanonicalJSON.string(value).utf8.elementsEqual(bytes), "CanonicalJSON.string differs from encode", input: input)
    let again: JSONValue
    do {
        again = try JSONParser.parse(bytes)
    } catch {
        fuzzFailure("the canonical bytes \(show(bytes)) do not parse: \(error)", input: input)
    }
    let rewritten = CanonicalJSON.encode(again)
    fuzzCheck(rewritten == bytes, "canonical bytes not stable: \(show(bytes)) -> \(show(rewritten))", input: input)
    fuzzCheck(again == value, "the canonical bytes \(show(bytes)) parse to another value", input: input)
}

// MARK: 2, 3. The scanner against the parser

func checkScannerAgainstParser(_ input: [UInt8]) {
    let parsed = Result { () throws(JSONParseError) in try JSONParser.parseObjectMembers(input) }
    let scanned = Result { () throws(JSONParseError) in try JSONScanner.members(ofDocument: input, nestedName: "payload") }
    switch (parsed, scanned) {
    case (.success(let members), .success(let found)):
        fuzzCheck(found.members.spans.count == members.count, "scanner found \(found.members.spans.count) members, parser \(members.count)", input: input)
        var inOrder = true
        for (i, (span, member)) in zip(found.members.spans, members).enumerated() {
            let name =
                span.nameIsEscaped
                ? JSONParser.string(in: input, openingQuoteAt: span.name.lowerBound - 1)
                : String(decoding: input[span.name], as: UTF8.self)
            fuzzCheck(
                name.map { Array($0.utf8) } == Array(member.key.utf8), "member \(i): scanner's name \(name.debugDescription), parser's \(member.key.debugDescription)", input: input
            )
            fuzzCheck(
                canonical(JSONParser.value(in: input, at: span.value.lowerBound)) == canonical(member.value), "member \(member.key.debugDescription): values differ", input: input)
            if i > 0 {
                let previous = found.members.spans[i - 1]
                inOrder =
                    inOrder && !previous.nameIsEscaped && !span.nameIsEscaped
                    && input[previous.name].lexicographicallyPrecedes(input[span.name])
            } else {
                inOrder = !span.nameIsEscaped
            }
        }
        fuzzCheck(found.members.ascending == inOrder, "ascending is \(found.members.ascending), names in order: \(inOrder)", input: input)
        // The nested object found in the same pass is the `payload` member's members.
        if let payload = zip(found.members.spans, members).first(where: { !$0.0.nameIsEscaped && $0.1.key == "payload" }),
            case .object = payload.1.value
        {
            let nested = JSONScanner.members(ofObjectIn: input, at: payload.0.value)
            fuzzCheck(
                found.nested?.spans == nested.spans && found.nested?.ascending == nested.ascending && found.nested?.names == nested.names,
                "the payload's members found in the pass differ from a scan of it", input: input)
        }
        checkInPlaceReads(input, found.members, members)
        // One grammar, two outputs: the tree accepts the same objects.
        let tree = Result { () throws(JSONParseError) in try JSONParser.parse(input) }
        switch tree {
        case .success(.object(let object)):
            fuzzCheck(object.count == members.count, "parse holds \(object.count) members, parseObjectMembers \(members.count)", input: input)
        case .success(let other):
            fuzzFailure("parse gives \(other) for an object", input: input)
        case .failure(let error):
            fuzzFailure("parseObjectMembers accepts, parse refuses: \(error)", input: input)
        }
    case (.failure(let p), .failure(let s)):
        fuzzCheck(p == s, "parser and scanner refuse differently: \(p) vs \(s)", input: input)
    default:
        fuzzFailure("parser and scanner disagree: \(parsed) vs \(scanned)", input: input)
    }
}

/// `JSONObjectView`'s reads of each member give what the parsed value holds.
func checkInPlaceReads(_ input: [UInt8], _ found: JSONScanner.ObjectMembers, _ members: [(key: String, value: JSONValue)]) {
    let view = JSONObjectView(document: input, range: 0..<input.count, members: found)
    for (name, member) in members {
        let shown = name.debugDescription
        fuzzCheck(canonical(view[name]?.value) == canonical(member), "view[\(shown)] differs from the parsed value", input: input)
        fuzzCheck(view.string(name).map { Array($0.utf8) } == member.stringValue.map { Array($0.utf8) }, "string(\(shown)) differs", input: input)
        fuzzCheck(
            view.number(name) == member.numberValue, "number(\(shown)) is \(String(describing: view.number(name))), parsed \(String(describing: member.numberValue))", input: input)
        fuzzCheck(view.integer(name) == member.integerValue, "integer(\(shown)) differs", input: input)
        fuzzCheck(view.bool(name) == member.boolValue, "bool(\(shown)) differs", input: input)
        fuzzCheck(view.has(name) == (member != .null), "has(\(shown)) differs", input: input)
        if case .object = member { fuzzCheck(canonical(view[name]?.object?.value) == canonical(member), "object(\(shown)) differs", input: input) }
        if case .array(let elements) = member {
            fuzzCheck(view[name]?.elements?.map { CanonicalJSON.encode($0.value) } == elements.map(CanonicalJSON.encode), "elements(\(shown)) differ", input: input)
        }
    }
}

// MARK: 4. Event envelopes

func checkEnvelope(_ input: [UInt8]) {
    var shared = RecordedEvent.SharedValues()
    let event = try? RecordedEvent(canonical: input, hash: [])
    if let event {
        // Validated whole by the parser's rules.
        guard let members = try? JSONParser.parseObjectMembers(input) else { fuzzFailure("an event the parser refuses", input: input) }
        let payload = members.first { $0.key == "payload" }?.value
        fuzzCheck(canonical(event.payloadView.value) == canonical(payload), "the event's payload is not the parser's", input: input)
        // A run of reads sharing values reads the same (the second read takes the shared ones).
        for _ in 0..<2 {
            guard let again = try? RecordedEvent(canonical: input, hash: [], sharing: &shared) else { fuzzFailure("a shared read refuses", input: input) }
            fuzzCheck(again == event, "a shared read differs: \(again) vs \(event)", input: input)
        }
    }
    var lineShared = RecordedEvent.SharedValues()
    for _ in 0..<2 {
        guard let line = RecordedEvent.readLine(input, sharing: &lineShared) else { return }
        guard let event else { fuzzFailure("readLine takes a line the general reading refuses", input: input) }
        fuzzCheck(
            line.seq == event.seq && line.drillSeq == event.drillSeq && line.type == event.type
                && line.schemaVersion == event.schemaVersion && line.recordedAt == event.recordedAt,
            "readLine reads \(line), the general reading \(event)", input: input)
        fuzzCheck(line.payload == event.payloadView.members, "readLine's payload members differ", input: input)
    }
}

// MARK: 5. The canonical form, checked in one pass

func checkCanonicalForm(_ input: [UInt8]) {
    let reference = (try? JSONParser.parse(input)).map { CanonicalJSON.encode($0) == input } ?? false
    fuzzCheck(CanonicalJSON.isCanonical(input) == reference, "isCanonical says \(!reference), parsing and writing again \(reference)", input: input)
}
