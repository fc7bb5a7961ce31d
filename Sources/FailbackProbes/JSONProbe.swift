import FailbackDomain
import FailbackLog

/// Where a value lies in a JSON document, in a small subset of jq's syntax (docs/cli.md,
/// "observe json"): `.` the whole document; `.name` or `."any name"` or `.["any name"]` a member;
/// `[N]` an element (negative from the end); `[]` every element (the rest of the path is read in
/// each, and the results make an array); then, optionally, `| length`.
public struct JSONPath: Sendable, Equatable, CustomStringConvertible {
    enum Step: Sendable, Equatable {
        case member(String)
        case index(Int)
        case each
    }

    let steps: [Step]
    /// Ends in `| length`: the number of elements, members or characters.
    let length: Bool
    public let text: String
    public var description: String { text }

    public init(_ text: String) throws(InvalidInput) {
        self.text = text
        func bad(_ why: String) -> InvalidInput { InvalidInput("path \(text.debugDescription): \(why)", kind: .usage) }
        var body = Substring(text)
        var length = false
        if let bar = body.firstIndex(of: "|") {
            guard body[body.index(after: bar)...].trimmingWhitespace() == "length" else { throw bad("only `| length` may follow the path") }
            length = true
            body = body[..<bar]
        }
        let chars = Array(body.trimmingWhitespace().utf8)
        guard chars.first == UInt8(ascii: ".") else { throw bad("a path starts with a dot (`.state.messages`, `.items[0]`)") }
        var steps: [Step] = []
        var i = 0
        /// A JSON string starting at `i` (its quotes included), decoded.
        func quoted() throws(InvalidInput) -> String {
            var j = i + 1
            while j < chars.count, chars[j] != UInt8(ascii: "\"") { j += chars[j] == UInt8(ascii: "\\") ? 2 : 1 }
            guard j < chars.count, let value = try? JSONParser.parse(Array(chars[i...j])), let s = value.stringValue else {
                throw bad("a quoted name is not a JSON string")
            }
            i = j + 1
            return s
        }
        while i < chars.count {
            switch chars[i] {
            case UInt8(ascii: "."):
                i += 1
                guard i < chars.count else {
                    if steps.isEmpty && chars.count == 1 { break }  // `.`: the whole document
                    throw bad("a dot with no name after it")
                }
                if chars[i] == UInt8(ascii: "\"") {
                    steps.append(.member(try quoted()))
                } else if chars[i] == UInt8(ascii: "[") {
                    continue
                } else {
                    let start = i
                    func isNameByte(_ b: UInt8, first: Bool) -> Bool {
                        (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z")) || b == UInt8(ascii: "_") || (!first && b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                    }
                    while i < chars.count, isNameByte(chars[i], first: i == start) { i += 1 }
                    guard i > start else { throw bad("a name is letters, digits and _ (quote any other: .\"x-y\")") }
                    steps.append(.member(String(decoding: chars[start..<i], as: UTF8.self)))
                }
            case UInt8(ascii: "["):
                i += 1
                guard i < chars.count else { throw bad("a [ with no ]") }
                if chars[i] == UInt8(ascii: "]") {
                    steps.append(.each)
                } else if chars[i] == UInt8(ascii: "\"") {
                    steps.append(.member(try quoted()))
                } else {
                    let start = i
                    if chars[i] == UInt8(ascii: "-") { i += 1 }
                    while i < chars.count, chars[i] >= UInt8(ascii: "0"), chars[i] <= UInt8(ascii: "9") { i += 1 }
                    guard let n = Int(String(decoding: chars[start..<i], as: UTF8.self)) else { throw bad("[ ] holds an index, a quoted name, or nothing") }
                    steps.append(.index(n))
                }
                guard i < chars.count, chars[i] == UInt8(ascii: "]") else { throw bad("a [ with no ]") }
                i += 1
            default:
                throw bad("unexpected \(String(decoding: [chars[i]], as: UTF8.self).debugDescription) (steps are .name, [N], [] and | length)")
            }
        }
        self.steps = steps
        self.length = length
    }

    /// The value at the path in `document`, or nil when the path matches nothing there (a member
    /// that is not there, an index past the end, `[]` of what is not an array or object, the
    /// length of a number or a boolean).
    public func value(in document: JSONValue) -> JSONValue? {
        guard let found = Self.read(document, steps[...]) else { return nil }
        guard length else { return found }
        switch found {
        case .array(let a): return JSONValue(a.count)
        case .object(let o): return JSONValue(o.count)
        case .string(let s): return JSONValue(s.count)
        case .null: return JSONValue(0)
        default: return nil
        }
    }

    private static func read(_ value: JSONValue, _ steps: ArraySlice<Step>) -> JSONValue? {
        guard let step = steps.first else { return value }
        let rest = steps.dropFirst()
        switch (step, value) {
        case (.member(let name), .object(let members)):
            return members[name].flatMap { read($0, rest) }
        case (.index(let n), .array(let elements)):
            let i = n < 0 ? elements.count + n : n
            return elements.indices.contains(i) ? read(elements[i], rest) : nil
        case (.each, .array(let elements)):
            var out: [JSONValue] = []
            for e in elements {
                guard let r = read(e, rest) else { return nil }
                out.append(r)
            }
            return .array(out)
        case (.each, .object(let members)):
            // Members in name order (RFC 8785's): the same document reads the same way every time.
            var out: [JSONValue] = []
            for name in members.keys.sorted() {
                guard let r = members[name].flatMap({ read($0, rest) }) else { return nil }
                out.append(r)
            }
            return .array(out)
        default:
            return nil
        }
    }
}

/// A condition over a named value: `NAME OP VALUE`, OP one of `<`, `<=`, `>`, `>=`, `=`, `!=`.
/// VALUE is a number (with a unit: `ms`, `s`, `m`, `h` in seconds; `B`, `KB`, `MB`, `GB`, `KiB`,
/// `MiB`, `GiB` in bytes; `%` a hundredth), `true`, `false`, `null`, `empty` (`[]`, `{}` or
/// null), `$OTHER` (another value read: two sites' counts compared), a JSON string, or any other
/// text (a string). A number compares with a number (or a
/// string holding one, as ClickHouse quotes 64-bit integers); a string, a boolean or null only
/// with `=` and `!=`. On an array read with `[]`, a condition (other than `empty`) holds when the
/// array is not empty and it holds for every element.
public struct JSONCondition: Sendable, Equatable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable { case le = "<=", ge = ">=", ne = "!=", lt = "<", gt = ">", eq = "=" }
    enum Operand: Sendable, Equatable {
        case number(Double)
        case string(String)
        case bool(Bool)
        case null
        case empty
        /// Another value read, by name.
        case reference(String)
    }

    public let text: String
    public let name: String
    let op: Operator
    let operand: Operand
    /// The operand's digits when it is an integer written without a unit: compared exactly with a
    /// string of digits (a 64-bit count past 2^53 that a double would round).
    let exactInteger: String?
    public var description: String { text }

    /// Parses `text` as a condition over one of `names` (the values the probe reads); `naming`
    /// says how a probe names its values (for the message when a condition names another).
    public init(_ text: String, names: Set<String>, option: String, naming: String = "name them with --value NAME=PATH") throws(InvalidInput) {
        self.text = text
        func bad(_ why: String) -> InvalidInput { InvalidInput("\(option) \(text.debugDescription): \(why)", kind: .usage) }
        guard let opStart = text.firstIndex(where: { "<>=!".contains($0) }) else {
            throw bad("expected NAME OP VALUE, OP one of < <= > >= = != (like messages>0, status=ACTIVE, events=empty)")
        }
        let name = text[..<opStart].trimmingWhitespace()
        let afterOp = text[opStart...]
        guard let op = Operator.allCases.first(where: { afterOp.hasPrefix($0.rawValue) }) else { throw bad("\(afterOp.prefix(2)) is not an operator") }
        var raw = afterOp.dropFirst(op.rawValue.count)
        if op == .eq, raw.hasPrefix("=") { raw = raw.dropFirst() }  // `==` is `=`
        let value = raw.trimmingWhitespace()
        guard names.contains(String(name)) else {
            throw bad("no value named \(String(name).debugDescription) (this probe reads \(names.sorted().joined(separator: ", ")); \(naming))")
        }
        guard !value.isEmpty else { throw bad("nothing to compare with") }
        let operand: Operand
        switch value {
        case "empty": operand = .empty
        case "true": operand = .bool(true)
        case "false": operand = .bool(false)
        case "null": operand = .null
        default:
            if value.hasPrefix("$") {
                let other = String(value.dropFirst())
                guard names.contains(other), other != String(name) else {
                    throw bad("\(value) names no other value (this probe reads \(names.sorted().joined(separator: ", ")))")
                }
                operand = .reference(other)
            } else if value.hasPrefix("\"") {
                guard let parsed = try? JSONParser.parse(Array(value.utf8)), let s = parsed.stringValue else { throw bad("\(value) is not a JSON string") }
                operand = .string(s)
            } else if let n = Self.number(value) {
                operand = .number(n)
            } else {
                operand = .string(String(value))
            }
        }
        switch (op, operand) {
        case (.eq, _), (.ne, _), (_, .number), (_, .reference): break
        default: throw bad("\(op.rawValue) compares numbers; \(value) is not one")
        }
        self.name = String(name)
        self.op = op
        self.operand = operand
        self.exactInteger = Self.isInteger(value) ? String(value) : nil
    }

    /// A JSON integer's text: `-?(0|[1-9][0-9]*)`.
    static func isInteger<S: StringProtocol>(_ text: S) -> Bool {
        let digits = text.hasPrefix("-") ? text.dropFirst() : text[...]
        guard let first = digits.first, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
        return first != "0" || digits.count == 1
    }

    /// Two integers' texts compared exactly (any size): <0, 0 or >0.
    static func compareIntegers(_ a: String, _ b: String) -> Int {
        let na = a.hasPrefix("-") && a != "-0", nb = b.hasPrefix("-") && b != "-0"
        if na != nb { return na ? -1 : 1 }
        let da = a.hasPrefix("-") ? a.dropFirst() : a[...], db = b.hasPrefix("-") ? b.dropFirst() : b[...]
        let magnitude = da.count != db.count ? da.count - db.count : (da == db ? 0 : (da < db ? -1 : 1))
        return na ? -magnitude : magnitude
    }

    /// A number with an optional unit, in the unit's base (seconds, bytes), or nil.
    static func number(_ text: Substring) -> Double? {
        let units: [(String, Double)] = [
            ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824), ("kb", 1000), ("mb", 1_000_000), ("gb", 1_000_000_000), ("ms", 0.001), ("b", 1),
            ("s", 1), ("m", 60), ("h", 3600), ("%", 0.01),
        ]
        let lower = text.lowercased()
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            return FieldCheck.decimal(String(text.dropLast(suffix.count))).map { $0 * scale }
        }
        return FieldCheck.decimal(String(text))
    }

    /// Whether the condition holds over the values read, by name (a value that is not there,
    /// because its path matched nothing, meets no condition).
    public func holds(in values: [String: JSONValue]) -> Bool {
        guard case .reference(let other) = operand else { return holds(for: values[name]) }
        guard let value = values[name], let right = values[other] else { return false }
        let resolved: Operand
        var exact: String?
        if let n = Self.numeric(right) {
            resolved = .number(n)
            if case .string(let s) = right, Self.isInteger(s) { exact = s }
        } else {
            switch right {
            case .string(let t): resolved = .string(t)
            case .bool(let b): resolved = .bool(b)
            case .null: resolved = .null
            default:
                // Arrays and objects: the same JSON, or not.
                let equal = CanonicalJSON.encode(value) == CanonicalJSON.encode(right)
                return op == .eq ? equal : op == .ne ? !equal : false
            }
        }
        return JSONCondition(text: text, name: name, op: op, operand: resolved, exactInteger: exact).holds(for: value)
    }

    private init(text: String, name: String, op: Operator, operand: Operand, exactInteger: String?) {
        self.text = text
        self.name = name
        self.op = op
        self.operand = operand
        self.exactInteger = exactInteger
    }

    /// Whether the condition holds for `value` (nil: the path matched nothing, so it does not).
    /// A condition naming another value (`$OTHER`) holds only through `holds(in:)`.
    public func holds(for value: JSONValue?) -> Bool {
        guard let value else { return false }
        if case .reference = operand { return false }
        if operand == .empty {
            let isEmpty: Bool
            switch value {
            case .array(let a): isEmpty = a.isEmpty
            case .object(let o): isEmpty = o.isEmpty
            case .null: isEmpty = true
            default: isEmpty = false
            }
            return op == .eq ? isEmpty : !isEmpty
        }
        if case .array(let elements) = value {
            return !elements.isEmpty && elements.allSatisfy { holds(forOne: $0) }
        }
        return holds(forOne: value)
    }

    private func holds(forOne value: JSONValue) -> Bool {
        let equal: Bool
        switch operand {
        case .number(let n):
            // A value that is not a number meets no condition that compares with one (`!=` too).
            guard let v = Self.numeric(value) else { return false }
            if let exact = exactInteger, case .string(let s) = value, Self.isInteger(s) {
                let c = Self.compareIntegers(s, exact)
                switch op {
                case .lt: return c < 0
                case .le: return c <= 0
                case .gt: return c > 0
                case .ge: return c >= 0
                case .eq: return c == 0
                case .ne: return c != 0
                }
            }
            switch op {
            case .lt: return v < n
            case .le: return v <= n
            case .gt: return v > n
            case .ge: return v >= n
            case .eq, .ne: equal = v == n
            }
        case .string(let s): equal = value.stringValue == s
        case .bool(let b): equal = value.boolValue == b
        case .null: equal = value == .null
        case .empty, .reference: equal = false  // handled by `holds(for:)` and `holds(in:)`
        }
        return op == .eq ? equal : !equal
    }

    /// A number, or a string that is exactly a JSON number (no space around it, no leading zero,
    /// no hex): `"48211"` yes, `" 10 "`, `"007"`, `"0x10"` no.
    static func numeric(_ value: JSONValue) -> Double? {
        if let n = value.numberValue { return n }
        return value.stringValue.flatMap(decimalNumber)
    }

    /// The number a text is, when it is exactly a JSON number (and finite).
    public static func decimalNumber(_ text: String) -> Double? {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")),
            let last = text.utf8.last, last >= UInt8(ascii: "0") && last <= UInt8(ascii: "9"),
            let parsed = try? JSONParser.parse(Array(text.utf8))
        else { return nil }
        return parsed.numberValue
    }
}

/// The JSON probe: runs a command (as `exec` does: its own process group, killed at the timeout,
/// output capped), reads what it printed as JSON, or as JSON lines (then an array of them), and
/// reads each named value at its path.
public enum JSONProbe {
    /// The most one value read may hold (its RFC 8785 bytes): an event records values, not documents.
    public static let maximumValueBytes = 65_536

    /// Runs `argv` once and judges `expect` (recorded) and `until` (for the loop, not recorded here).
    public static func check(
        name: String?, argv: [String], values: [(name: String, path: JSONPath)], expect: [JSONCondition], until: JSONCondition?, outputLimit: Int, timeout: Double
    ) -> ProbeSample {
        let paths = Dictionary(values.map { ($0.name, $0.path.text) }, uniquingKeysWith: { a, _ in a })
        let label = name ?? argv.joined(separator: " ")
        func observed(_ exit: Int?, _ stdout: CommandRunner.Stream?, _ read: [String: JSONValue], error: String?) -> ProbeSample {
            let conditions = expect.map { JSONValuesObserved.Condition(condition: $0.text, met: error == nil && $0.holds(in: read)) }
            let event = JSONValuesObserved(
                name: label, argv: argv, exitStatus: exit, paths: paths, values: read, conditions: conditions, stdoutBytes: stdout?.total ?? 0,
                stdoutSHA256: (stdout?.sha256 ?? []).hex, error: error)
            var numbers: [String: Double] = [:]
            for (k, v) in read { if let n = JSONCondition.numeric(v) { numbers[k] = n } }
            var judged: [String: Bool] = [:]
            if let until { judged[until.text] = error == nil && until.holds(in: read) }
            return ProbeSample(payload: event, passed: event.passed, values: numbers, judged: judged)
        }
        let result = CommandRunner.run(argv, captureLimit: outputLimit, live: false, timeout: timeout, stopPastLimit: true)
        let exit: Int?, stdout: CommandRunner.Stream, stderr: CommandRunner.Stream
        switch result {
        case .failedToStart(let e): return observed(nil, nil, [:], error: "\(argv[0]) could not start: \(e)")
        case .timedOut(let after, let out, _): return observed(nil, out, [:], error: "did not finish within \(formatDuration(after)) (killed)")
        case .finished(let status, let signal, let out, let err, _, _):
            (exit, stdout, stderr) = (status, out, err)
            // Killed as soon as it printed past the cap: that, not the kill, is what happened.
            if stdout.truncated {
                return observed(exit, stdout, [:], error: "printed more than \(byteSize(outputLimit)) (limits.max_output_bytes or max_payload_bytes, the larger): killed")
            }
            if status != 0 {
                let first = String(decoding: stderr.kept, as: UTF8.self).split(separator: "\n").first.map(String.init)
                let how = status.map { "exit \($0)" } ?? "killed by signal \(signal ?? 0)"
                return observed(exit, stdout, [:], error: "\(how)" + (first.map { ": \($0)" } ?? ""))
            }
        }
        let document: JSONValue
        switch parseJSONOrLines(stdout.kept) {
        case .success(let d): document = d
        case .failure(let e): return observed(exit, stdout, [:], error: e.message)
        }
        var read: [String: JSONValue] = [:]
        var unmatched: [String] = []
        for (valueName, path) in values {
            guard let v = path.value(in: document) else {
                unmatched.append("\(valueName) (\(path.text))")
                continue
            }
            let size = CanonicalJSON.encode(v).count
            guard size <= maximumValueBytes else {
                return observed(exit, stdout, [:], error: "\(valueName) (\(path.text)) is \(byteSize(size)) of JSON, over \(byteSize(maximumValueBytes)): read a smaller part")
            }
            read[valueName] = v
        }
        return observed(exit, stdout, read, error: unmatched.isEmpty ? nil : "no match for \(unmatched.joined(separator: ", "))")
    }

    /// What a command printed: one JSON document, or several one after the other (JSON lines,
    /// or pretty-printed documents separated by whitespace, as `curl A; curl B` prints them),
    /// read as an array of them.
    public static func parseJSONOrLines(_ bytes: [UInt8]) -> Result<JSONValue, InvalidInput> {
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
        if bytes.allSatisfy(isSpace) { return .failure(InvalidInput("printed no JSON (nothing on standard output)")) }
        let (documents, failure) = JSONParser.parseSequence(bytes)
        if let failure {
            // Where the faulty document starts is where its line and column count from.
            var error = failure.error
            if failure.start > 0 { do { _ = try JSONParser.parse(Array(bytes[failure.start...])) } catch let inner { error = inner } }
            return .failure(InvalidInput("printed no JSON: " + (documents.isEmpty ? "" : "document \(documents.count + 1): ") + "\(error)"))
        }
        return .success(documents.count == 1 ? documents[0] : .array(documents))
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return s
    }
}
