import CYAML
import FailbackLog

/// A place in a source file: 1-based line and column.
public struct SourceMark: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var description: String { "\(line):\(column)" }
}

/// A YAML document read as JSON, with where each value stood in the file.
public struct YAMLDocument: Sendable {
    public var value: JSONValue
    /// Where each value starts: a tree of values (each under its container, by key or index),
    /// not a JSON Pointer string per value, which grows with the square of the nesting.
    var marks: [SourceMark] = []
    var children: [Child: Int] = [:]

    struct Child: Hashable {
        var parent: Int
        var token: String
    }

    /// A document with no marks (read from JSON, not a file).
    public init(value: JSONValue) { self.value = value }

    /// The mark of `pointer` (RFC 6901), or of its nearest ancestor that has one.
    public func mark(at pointer: String) -> SourceMark? {
        guard !marks.isEmpty else { return nil }
        var node = 0
        for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            let token = raw.contains("~") ? String(raw).unescapedPointerToken : String(raw)
            guard let child = children[Child(parent: node, token: token)] else { break }
            node = child
        }
        return marks[node]
    }
}

extension String {
    /// `~1` → `/`, `~0` → `~` (RFC 6901).
    fileprivate var unescapedPointerToken: String {
        var out = "", tilde = false
        for c in self {
            if tilde { out.append(c == "1" ? "/" : c == "0" ? "~" : c); tilde = false } else if c == "~" { tilde = true } else { out.append(c) }
        }
        return out
    }
}

/// Reads one YAML document with libyaml into JSON values. Scalars resolve by the YAML 1.2 core
/// schema (plain `true`/`false`, `null`/`~`/empty, decimal integers and floats; quoted scalars are
/// always strings); mapping keys are strings. Refused, with file, line and column: invalid YAML,
/// several documents, anchors and aliases, duplicate keys, tags other than `!!str`, `.inf`/`.nan`,
/// and nesting deeper than `maximumDepth` (refused as soon as it is met: a file of a few hundred KB
/// nested 160,000 deep took over 4 GB and crashed).
public enum YAMLReader {
    /// Mappings and sequences inside one another, at most: the shipped runbooks go 6 deep.
    public static let maximumDepth = 64

    public static func read(_ whole: [UInt8], source: String) throws(InvalidInput) -> YAMLDocument {
        // A UTF-8 byte order mark, which YAML allows before a document (editors on Windows write it).
        let bytes = whole.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(whole.dropFirst(3)) : whole
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw InvalidInput("\(source): cannot start the YAML parser") }
        defer { yaml_parser_delete(&parser) }
        var builder = Builder(source: source)
        return try bytes.withUnsafeBufferPointer { (buffer) throws(InvalidInput) -> YAMLDocument in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
                    let mark = parser.problem_mark
                    throw InvalidInput("\(source):\(mark.line + 1):\(mark.column + 1): \(problem)")
                }
                defer { yaml_event_delete(&event) }
                if try builder.handle(&event) { break }
            }
            guard let value = builder.result else { throw InvalidInput("\(source): the file holds no YAML document") }
            var doc = YAMLDocument(value: value)
            doc.marks = builder.marks
            doc.children = builder.children
            return doc
        }
    }

    /// Builds JSON values from parser events, keeping a stack of open containers.
    private struct Builder {
        let source: String
        var result: JSONValue?
        var marks: [SourceMark] = []
        var children: [YAMLDocument.Child: Int] = [:]
        var documents = 0

        enum Container {
            case mapping(members: [String: JSONValue], pendingKey: String?, node: Int)
            case sequence(elements: [JSONValue], node: Int)
        }
        var stack: [Container] = []

        func fail(_ message: String, _ mark: yaml_mark_t) -> InvalidInput {
            InvalidInput("\(source):\(mark.line + 1):\(mark.column + 1): \(message)")
        }

        /// Records where the next value starts, under its container; returns its node.
        mutating func place(_ mark: yaml_mark_t) -> Int {
            let node = marks.count
            marks.append(SourceMark(line: Int(mark.line) + 1, column: Int(mark.column) + 1))
            switch stack.last {
            case nil: break
            case .mapping(_, let key, let parent)?: children[YAMLDocument.Child(parent: parent, token: key ?? "")] = node
            case .sequence(let elements, let parent)?: children[YAMLDocument.Child(parent: parent, token: String(elements.count))] = node
            }
            return node
        }

        var expectsKey: Bool {
            if case .mapping(_, nil, _)? = stack.last { return true }
            return false
        }

        /// Handles one event; true at the end of the stream.
        mutating func handle(_ event: inout yaml_event_t) throws(InvalidInput) -> Bool {
            let mark = event.start_mark
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return true
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw fail("a runbook file holds one YAML document; found another", mark) }
            case YAML_ALIAS_EVENT:
                throw fail("anchors and aliases are not supported; write the value out", mark)
            case YAML_SCALAR_EVENT:
                let s = event.data.scalar
                if s.anchor != nil { throw fail("anchors and aliases are not supported; write the value out", mark) }
                let text = String(decoding: UnsafeBufferPointer(start: s.value, count: s.length), as: UTF8.self)
                let tag = s.tag.map { String(cString: $0) }
                if expectsKey {
                    guard case .mapping(let members, _, let node) = stack.removeLast() else { fatalError("unreachable") }
                    if members[text] != nil { throw fail("duplicate key \(text.debugDescription)", mark) }
                    stack.append(.mapping(members: members, pendingKey: text, node: node))
                    return false
                }
                let plain = s.style == YAML_PLAIN_SCALAR_STYLE
                let value: JSONValue
                switch tag {
                case nil, "!": value = plain ? try resolve(text, mark) : .string(text)
                case "tag:yaml.org,2002:str": value = .string(text)
                default: throw fail("tag \(tag!) is not supported", mark)
                }
                _ = place(mark)
                add(value)
            case YAML_MAPPING_START_EVENT:
                if event.data.mapping_start.anchor != nil { throw fail("anchors and aliases are not supported; write the value out", mark) }
                if expectsKey { throw fail("mapping keys must be plain text", mark) }
                if stack.count >= YAMLReader.maximumDepth { throw fail("nested deeper than \(YAMLReader.maximumDepth)", mark) }
                stack.append(.mapping(members: [:], pendingKey: nil, node: place(mark)))
            case YAML_SEQUENCE_START_EVENT:
                if event.data.sequence_start.anchor != nil { throw fail("anchors and aliases are not supported; write the value out", mark) }
                if expectsKey { throw fail("mapping keys must be plain text", mark) }
                if stack.count >= YAMLReader.maximumDepth { throw fail("nested deeper than \(YAMLReader.maximumDepth)", mark) }
                stack.append(.sequence(elements: [], node: place(mark)))
            case YAML_MAPPING_END_EVENT:
                guard case .mapping(let members, _, _) = stack.removeLast() else { fatalError("unbalanced YAML events") }
                add(.object(members))
            case YAML_SEQUENCE_END_EVENT:
                guard case .sequence(let elements, _) = stack.removeLast() else { fatalError("unbalanced YAML events") }
                add(.array(elements))
            default:
                break
            }
            return false
        }

        /// Adds a finished value to the open container (or makes it the document).
        mutating func add(_ value: JSONValue) {
            switch stack.popLast() {
            case nil:
                result = value
            case .mapping(var members, let key, let node)?:
                members[key!] = value
                stack.append(.mapping(members: members, pendingKey: nil, node: node))
            case .sequence(var elements, let node)?:
                elements.append(value)
                stack.append(.sequence(elements: elements, node: node))
            }
        }

        /// YAML 1.2 core schema resolution of a plain scalar.
        func resolve(_ text: String, _ mark: yaml_mark_t) throws(InvalidInput) -> JSONValue {
            switch text {
            case "", "~", "null", "Null", "NULL": return .null
            case "true", "True", "TRUE": return .bool(true)
            case "false", "False", "FALSE": return .bool(false)
            case ".inf", ".Inf", ".INF", "+.inf", "-.inf", ".nan", ".NaN", ".NAN":
                throw fail("\(text) is not a number JSON can hold", mark)
            default: break
            }
            let isNumber = text.utf8.first.map { ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".") } ?? false
            if isNumber,
                text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || [UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains($0) }
                ),
                let d = Double(text), d.isFinite
            {
                return .number(d)
            }
            return .string(text)
        }
    }
}
