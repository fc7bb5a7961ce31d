import FailbackLog

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A runbook read from a file, with what identifies its content.
public struct LoadedRunbook: Sendable {
    public var runbook: Runbook
    /// The file as read.
    public var source: String
    /// SHA-256 of the file's bytes, lowercase hex (what `sha256sum FILE` prints).
    public var digest: String
    /// The runbook as JSON (the parsed YAML), for `runbook show --json` and for recording.
    public var json: JSONValue
}

/// Reads runbook files: YAML through libyaml, then a strict reading of the format
/// (docs/runbook-format.md). Errors name the file, line, column and member.
public enum RunbookLoader {
    public static func load(path: String) throws(InvalidInput) -> LoadedRunbook {
        try load(bytes: readFile(path, .runbook), source: path)
    }

    public static func load(bytes: [UInt8], source: String) throws(InvalidInput) -> LoadedRunbook {
        let doc = try YAMLReader.read(bytes, source: source)
        let root = Value(doc.value, pointer: "", doc: doc, source: source)
        let runbook = try read(root)
        try check(runbook, root)
        return LoadedRunbook(runbook: runbook, source: source, digest: HashChain.sha256(bytes).hex, json: doc.value)
    }

    /// A runbook from its JSON form (as a drill recorded it). Errors name `source` and the path.
    public static func runbook(fromJSON json: JSONValue, source: String) throws(InvalidInput) -> Runbook {
        let doc = YAMLDocument(value: json)
        let root = Value(json, pointer: "", doc: doc, source: source)
        let runbook = try read(root)
        try check(runbook, root)
        return runbook
    }

    /// Finds a runbook by path, or by id as `runbooks/ID.yaml` under the folders of
    /// `$FAILBACK_RUNBOOKS` (colon-separated), then `./runbooks`.
    public static func resolve(_ nameOrPath: String, searchPath: [String]) throws(InvalidInput) -> LoadedRunbook {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml") {
            return try load(path: nameOrPath)
        }
        for dir in searchPath {
            for ext in ["yaml", "yml"] {
                let candidate = "\(dir)/\(nameOrPath).\(ext)"
                guard fileExists(candidate) else { continue }
                // Found by id: the file must hold that runbook (a copy renamed still holds its own).
                let loaded = try load(path: candidate)
                guard loaded.runbook.id == nameOrPath else {
                    throw InvalidInput("\(candidate) holds runbook \"\(loaded.runbook.id)\", not \"\(nameOrPath)\" (name the file by its id, or pass its path)")
                }
                return loaded
            }
        }
        throw InvalidInput("no runbook \"\(nameOrPath)\" (looked for \(nameOrPath).yaml in \(searchPath.joined(separator: ", ")); or pass a file path)", kind: .missing)
    }

    // MARK: Reading

    private static func read(_ root: Value) throws(InvalidInput) -> Runbook {
        let o = try root.object([
            "format", "id", "title", "version", "updated", "status", "owner", "escalation", "audience", "summary", "targets", "sites",
            "services", "prerequisites", "warnings", "use_cases", "criteria", "questions", "checklist", "approvals", "options", "flowchart", "phases",
            "post_tasks", "validation", "rollback", "troubleshooting", "report", "evidence", "contacts", "related", "history",
        ])
        let format = try o.string("format")
        guard format == "failback-runbook/1" else { throw o.member("format").fail("unknown format \"\(format)\" (this version reads failback-runbook/1)") }
        let targets = try o.optionalObject("targets", ["rto_minutes", "rpo_seconds", "window_hours", "notes"])
        let sites = try o.optionalObject("sites", ["from", "to"])
        let criteria = try o.optionalObject("criteria", ["when", "when_not"])
        let evidence = try o.optionalObject("evidence", ["controls", "requirements", "artifacts", "storage"])
        return Runbook(
            id: try o.identifier("id"), title: try o.string("title"), version: try o.string("version"),
            updated: try o.optionalString("updated"), status: try o.optionalString("status"), owner: try o.optionalString("owner"),
            escalation: try o.strings("escalation"), audience: try o.strings("audience"), summary: try o.optionalString("summary"),
            targets: Runbook.Targets(
                rtoMinutes: try targets?.optionalNumber("rto_minutes"), rpoSeconds: try targets?.optionalNumber("rpo_seconds"),
                windowHours: try targets?.optionalNumber("window_hours"), notes: try targets?.strings("notes") ?? []),
            sites: try sites.map { (s) throws(InvalidInput) in Runbook.Sites(from: try s.string("from"), to: try s.string("to")) },
            services: try o.strings("services"), prerequisites: try o.strings("prerequisites"), warnings: try o.strings("warnings"),
            useCases: try o.strings("use_cases"),
            criteria: Runbook.Criteria(
                when: try criteria?.list("when") { (c) throws(InvalidInput) in
                    let m = try c.object(["criterion", "requirement"])
                    return Runbook.Criterion(criterion: try m.string("criterion"), requirement: try m.string("requirement"))
                } ?? [],
                whenNot: try criteria?.strings("when_not") ?? []),
            questions: try o.list("questions") { (q) throws(InvalidInput) in
                let m = try q.object(["id", "text", "hint"])
                return Runbook.Question(id: try m.identifier("id"), text: try m.string("text"), hint: try m.optionalString("hint"))
            },
            checklist: try o.list("checklist") { (c) throws(InvalidInput) in
                let m = try c.object(["id", "item", "notes"])
                return Runbook.ChecklistItem(id: try m.identifier("id"), item: try m.string("item"), notes: try m.optionalString("notes"))
            },
            approvals: try o.list("approvals") { (a) throws(InvalidInput) in
                let m = try a.object(["role", "count"])
                let count = try m.optionalNumber("count") ?? 1
                guard count >= 1, count == count.rounded(), count <= 100 else { throw m.member("count").fail("expected a whole number from 1 to 100") }
                return Runbook.ApprovalRequirement(role: try m.string("role"), count: Int(count))
            },
            options: try o.list("options") { (v) throws(InvalidInput) in
                let m = try v.object(["id", "title", "recommended", "pros", "cons", "use_when", "estimated_minutes", "window"])
                return Runbook.StrategyOption(
                    id: try m.identifier("id"), title: try m.string("title"), recommended: try m.optionalBool("recommended") ?? false,
                    pros: try m.strings("pros"), cons: try m.strings("cons"), useWhen: try m.optionalString("use_when"),
                    estimatedMinutes: try m.optionalRange("estimated_minutes"), window: try m.optionalString("window"))
            },
            flowchart: try o.optionalObject("flowchart", ["start", "nodes"]).map { (f) throws(InvalidInput) in
                Runbook.Flowchart(
                    start: try f.string("start"),
                    nodes: try f.list("nodes") { (n) throws(InvalidInput) in
                        let m = try n.object(["id", "question", "yes", "no"])
                        return Runbook.Flowchart.Node(
                            id: try m.identifier("id"), question: try m.string("question"), yes: try branch(m.member("yes")), no: try branch(m.member("no")))
                    })
            },
            phases: try o.list("phases") { (p) throws(InvalidInput) in
                let m = try p.object(["id", "title", "option", "offset", "target_minutes", "after", "steps"])
                return Runbook.Phase(
                    id: try m.identifier("id"), title: try m.string("title"), option: try m.optionalString("option"),
                    offset: try m.optionalString("offset"), targetMinutes: try m.optionalRange("target_minutes"),
                    after: m.optionalMember("after") == nil ? nil : try m.strings("after"), steps: try m.list("steps", step))
            },
            postTasks: try o.list("post_tasks", section), validation: try o.list("validation", section),
            rollback: try o.optionalMember("rollback").map(section),
            troubleshooting: try o.list("troubleshooting") { (t) throws(InvalidInput) in
                let m = try t.object(["issue", "cause", "resolution", "commands"])
                return Runbook.Trouble(
                    issue: try m.string("issue"), cause: try m.string("cause"), resolution: try m.string("resolution"), commands: try m.list("commands", command))
            },
            report: try o.strings("report"),
            evidence: try evidence.map { (e) throws(InvalidInput) in
                Runbook.Evidence(
                    controls: try e.strings("controls"), requirements: try e.strings("requirements"), artifacts: try e.strings("artifacts"),
                    storage: try e.optionalString("storage"))
            },
            contacts: try o.list("contacts") { (c) throws(InvalidInput) in
                let m = try c.object(["role", "contact"])
                return Runbook.Contact(role: try m.string("role"), contact: try m.string("contact"))
            },
            related: try o.list("related") { (r) throws(InvalidInput) in
                let m = try r.object(["document", "purpose", "location"])
                return Runbook.RelatedDocument(document: try m.string("document"), purpose: try m.string("purpose"), location: try m.optionalString("location"))
            },
            history: try o.list("history") { (h) throws(InvalidInput) in
                let m = try h.object(["date", "version", "author", "changes"])
                return Runbook.Revision(date: try m.string("date"), version: try m.string("version"), author: try m.string("author"), changes: try m.string("changes"))
            })
    }

    private static func section(_ v: Value) throws(InvalidInput) -> Runbook.Section {
        let m = try v.object(["id", "title", "notes", "steps"])
        return Runbook.Section(id: try m.identifier("id"), title: try m.string("title"), notes: try m.strings("notes"), steps: try m.list("steps", step))
    }

    private static func step(_ v: Value) throws(InvalidInput) -> Runbook.Step {
        let m = try v.object(["id", "title", "action", "commands", "expect", "notes", "sites", "services", "writes", "cutover", "target_minutes", "after", "probes"])
        let writes = try m.optionalString("writes")
        guard writes == nil || Runbook.WriteEffect(rawValue: writes!) != nil else {
            throw m.member("writes").fail("must be \"stop\" or \"resume\", not \"\(writes!)\"")
        }
        var step = Runbook.Step(
            id: try m.identifier("id"), title: try m.string("title"), action: try m.optionalString("action"),
            commands: try m.list("commands", command), expect: try m.optionalString("expect"), notes: try m.strings("notes"),
            sites: try m.strings("sites"), services: try m.strings("services"), writes: writes.flatMap(Runbook.WriteEffect.init),
            cutover: try m.optionalBool("cutover") ?? false, targetMinutes: try m.optionalRange("target_minutes"), after: try m.strings("after"))
        step.probes = try m.list("probes", probe)
        return step
    }

    /// A probe: one line, a `failback observe` command.
    private static func probe(_ v: Value) throws(InvalidInput) -> String {
        guard case .string(let s) = v.value else { throw v.fail("a probe is a failback observe command (a string)") }
        guard s.hasPrefix("failback observe "), !s.contains("\n") else { throw v.fail("a probe is one line starting with \"failback observe \"") }
        return s
    }

    /// A command: a string, or `{run: ..., expect: ...}`.
    private static func command(_ v: Value) throws(InvalidInput) -> Runbook.Command {
        if case .string(let s) = v.value { return Runbook.Command(run: try nonEmpty(s, v), expect: nil) }
        let m = try v.object(["run", "expect"])
        return Runbook.Command(run: try m.string("run"), expect: try m.optionalString("expect"))
    }

    private static func branch(_ v: Value) throws(InvalidInput) -> Runbook.Flowchart.Branch {
        let m = try v.object(["next", "option", "outcome", "text"])
        let next = try m.optionalString("next"), option = try m.optionalString("option"), outcome = try m.optionalString("outcome")
        switch (next, option, outcome) {
        case (let n?, nil, nil): return .next(n)
        case (nil, let o?, nil): return .option(o)
        case (nil, nil, let out?): return .outcome(out, text: try m.optionalString("text") ?? out)
        default: throw v.fail("a branch has exactly one of next, option or outcome")
        }
    }

    private static func nonEmpty(_ s: String, _ v: Value) throws(InvalidInput) -> String {
        guard !s.allSatisfy(\.isWhitespace) else { throw v.fail("must not be empty") }
        return s
    }

    // MARK: Checks across the document

    private static func check(_ rb: Runbook, _ root: Value) throws(InvalidInput) {
        func unique(_ ids: [String], _ what: String, _ pointer: (Int) -> String) throws(InvalidInput) {
            var seen: Set<String> = []
            for (i, id) in ids.enumerated() where !seen.insert(id).inserted {
                throw root.at(pointer(i)).fail("duplicate \(what) id \"\(id)\"")
            }
        }
        try unique(rb.questions.map(\.id), "question", { "/questions/\($0)/id" })
        try unique(rb.checklist.map(\.id), "checklist item", { "/checklist/\($0)/id" })
        try unique(rb.options.map(\.id), "option", { "/options/\($0)/id" })
        try unique(rb.phases.map(\.id), "phase", { "/phases/\($0)/id" })
        // Step ids are unique across the whole runbook: `failback step done ID` names one step.
        var stepPointers: [String] = []
        for (i, p) in rb.phases.enumerated() { for j in p.steps.indices { stepPointers.append("/phases/\(i)/steps/\(j)/id") } }
        for (key, sections) in [("post_tasks", rb.postTasks), ("validation", rb.validation)] {
            for (i, s) in sections.enumerated() { for j in s.steps.indices { stepPointers.append("/\(key)/\(i)/steps/\(j)/id") } }
        }
        if let r = rb.rollback { for j in r.steps.indices { stepPointers.append("/rollback/steps/\(j)/id") } }
        try unique(rb.allSteps.map(\.step.id), "step", { stepPointers[$0] })

        let optionIDs = Set(rb.options.map(\.id))
        for (i, p) in rb.phases.enumerated() {
            if let o = p.option, !optionIDs.contains(o) { throw root.at("/phases/\(i)/option").fail("names option \"\(o)\", which the runbook does not define") }
        }
        try checkOrder(rb, root)
        if let f = rb.flowchart {
            let nodeIDs = Set(f.nodes.map(\.id))
            try unique(f.nodes.map(\.id), "flowchart node", { "/flowchart/nodes/\($0)/id" })
            guard nodeIDs.contains(f.start) else { throw root.at("/flowchart/start").fail("names node \"\(f.start)\", which the flowchart does not define") }
            for (i, n) in f.nodes.enumerated() {
                for (key, b) in [("yes", n.yes), ("no", n.no)] {
                    switch b {
                    case .next(let id) where !nodeIDs.contains(id):
                        throw root.at("/flowchart/nodes/\(i)/\(key)/next").fail("names node \"\(id)\", which the flowchart does not define")
                    case .option(let id) where !optionIDs.contains(id):
                        throw root.at("/flowchart/nodes/\(i)/\(key)/option").fail("names option \"\(id)\", which the runbook does not define")
                    default: break
                    }
                }
            }
            // Every path must end: no question may lead back to itself.
            var visiting: Set<String> = [], done: Set<String> = []
            let byID = Dictionary(uniqueKeysWithValues: f.nodes.map { ($0.id, $0) })
            func walk(_ id: String) -> String? {
                if done.contains(id) { return nil }
                if !visiting.insert(id).inserted { return id }
                for b in [byID[id]!.yes, byID[id]!.no] { if case .next(let n) = b, let loop = walk(n) { return loop } }
                visiting.remove(id)
                done.insert(id)
                return nil
            }
            if let loop = walk(f.start) { throw root.at("/flowchart").fail("the flowchart loops back to node \"\(loop)\"") }
        }
    }
}

extension RunbookLoader {
    /// `after:` names known phases (or steps of the same section), nothing depends on itself, and
    /// the dependencies have no cycle.
    fileprivate static func checkOrder(_ rb: Runbook, _ root: Value) throws(InvalidInput) {
        let phaseIDs = Set(rb.phases.map(\.id))
        var phaseEdges: [String: [String]] = [:]
        for (i, p) in rb.phases.enumerated() {
            for (k, dep) in (p.after ?? []).enumerated() {
                let at = root.at("/phases/\(i)/after/\(k)")
                guard phaseIDs.contains(dep) else { throw at.fail("names phase \"\(dep)\", which the runbook does not define") }
                guard dep != p.id else { throw at.fail("phase \"\(p.id)\" cannot come after itself") }
            }
            phaseEdges[p.id] = p.after ?? []
        }
        if let loop = firstCycle(phaseEdges, order: rb.phases.map(\.id)) { throw root.at("/phases").fail("the phases' after: dependencies loop through phase \"\(loop)\"") }
        // As a drill orders them: for each option (and for a runbook of none), the phases it
        // follows, each without `after:` waiting for the one before it. A loop there is a drill
        // that can never start its phases (p1 after p2, p2 after p1 by its place).
        for option in rb.options.isEmpty ? [nil] : rb.options.map(\.id) as [String?] {
            let followed = rb.phases.filter { $0.option == nil || $0.option == option }
            let ids = Set(followed.map(\.id))
            var edges: [String: [String]] = [:]
            for (i, p) in followed.enumerated() { edges[p.id] = p.after.map { $0.filter(ids.contains) } ?? (i == 0 ? [] : [followed[i - 1].id]) }
            if let loop = firstCycle(edges, order: followed.map(\.id)) {
                throw root.at("/phases").fail(
                    "phase \"\(loop)\" can never start\(option.map { " in option \($0)" } ?? ""): it waits for phases that wait for it (a phase without after: waits for the one before it)"
                )
            }
        }
        var sections: [(pointer: String, steps: [Runbook.Step])] = rb.phases.enumerated().map { ("/phases/\($0.offset)", $0.element.steps) }
        sections += rb.postTasks.enumerated().map { ("/post_tasks/\($0.offset)", $0.element.steps) }
        sections += rb.validation.enumerated().map { ("/validation/\($0.offset)", $0.element.steps) }
        if let r = rb.rollback { sections.append(("/rollback", r.steps)) }
        for section in sections {
            let ids = Set(section.steps.map(\.id))
            var edges: [String: [String]] = [:]
            for (j, step) in section.steps.enumerated() {
                for (k, dep) in step.after.enumerated() {
                    let at = root.at("\(section.pointer)/steps/\(j)/after/\(k)")
                    guard ids.contains(dep) else { throw at.fail("names step \"\(dep)\", which this section does not define") }
                    guard dep != step.id else { throw at.fail("step \"\(step.id)\" cannot come after itself") }
                }
                edges[step.id] = step.after
            }
            if let loop = firstCycle(edges, order: section.steps.map(\.id)) {
                throw root.at("\(section.pointer)/steps").fail("the steps' after: dependencies loop through step \"\(loop)\"")
            }
        }
    }

    /// A node on a cycle of `edges` (node → the nodes it waits for), if there is one.
    private static func firstCycle(_ edges: [String: [String]], order: [String]) -> String? {
        var state: [String: Bool] = [:]  // false: on the current path; true: done
        func visit(_ id: String) -> String? {
            if let s = state[id] { return s ? nil : id }
            state[id] = false
            for dep in edges[id] ?? [] { if let loop = visit(dep) { return loop } }
            state[id] = true
            return nil
        }
        for id in order { if let loop = visit(id) { return loop } }
        return nil
    }
}

/// A JSON value read from a YAML file, with where it is: errors name file:line:column and path.
struct Value {
    let value: JSONValue
    let pointer: String
    let doc: YAMLDocument
    let source: String

    init(_ value: JSONValue, pointer: String, doc: YAMLDocument, source: String) {
        self.value = value
        self.pointer = pointer
        self.doc = doc
        self.source = source
    }

    /// `phases[2].steps[0].title` for `/phases/2/steps/0/title`.
    var path: String {
        var out = ""
        for token in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            if token.allSatisfy(\.isNumber) { out += "[\(token)]" } else { out += (out.isEmpty ? "" : ".") + token }
        }
        return out.isEmpty ? "(top)" : out
    }

    func fail(_ message: String) -> InvalidInput {
        let at = doc.mark(at: pointer).map { ":\($0)" } ?? ""
        return InvalidInput("\(source)\(at): \(path): \(message)")
    }

    /// The value at an absolute pointer (for checks that span the document).
    func at(_ pointer: String) -> Value {
        var v = doc.value
        for token in pointer.split(separator: "/") {
            if let i = Int(token), case .array(let a) = v, i < a.count { v = a[i] } else if let m = v[String(token)] { v = m }
        }
        return Value(v, pointer: pointer, doc: doc, source: source)
    }

    func object(_ allowed: Set<String>) throws(InvalidInput) -> Object {
        guard case .object(let members) = value else { throw fail("expected a mapping") }
        for key in members.keys.sorted() where !allowed.contains(key) {
            throw Value(members[key]!, pointer: pointer + "/" + key, doc: doc, source: source).fail(
                "unknown member \"\(key)\" (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
        return Object(members: members, base: self)
    }
}

/// The members of a mapping, read by name.
struct Object {
    let members: [String: JSONValue]
    let base: Value

    func member(_ key: String) -> Value {
        Value(members[key] ?? .null, pointer: base.pointer + "/" + key, doc: base.doc, source: base.source)
    }

    func optionalMember(_ key: String) -> Value? {
        guard let v = members[key], v != .null else { return nil }
        return member(key)
    }

    func string(_ key: String) throws(InvalidInput) -> String {
        guard let v = optionalMember(key) else { throw base.fail("missing \"\(key)\"") }
        guard case .string(let s) = v.value, !s.allSatisfy(\.isWhitespace) else {
            if case .number = v.value { throw v.fail("expected text; write it in quotes (\"...\") so YAML keeps it as written") }
            throw v.fail("expected non-empty text")
        }
        return s
    }

    func optionalString(_ key: String) throws(InvalidInput) -> String? {
        optionalMember(key) == nil ? nil : try string(key)
    }

    /// Ids: letters, digits, `-`, `_`, `.` (they are typed on the command line).
    func identifier(_ key: String) throws(InvalidInput) -> String {
        let s = try string(key)
        guard s.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }) else {
            throw member(key).fail("\"\(s)\" is not an id (use letters, digits, '-', '_' and '.')")
        }
        return s
    }

    func optionalNumber(_ key: String) throws(InvalidInput) -> Double? {
        guard let v = optionalMember(key) else { return nil }
        guard case .number(let d) = v.value, d >= 0 else { throw v.fail("expected a number ≥ 0") }
        return d
    }

    func optionalBool(_ key: String) throws(InvalidInput) -> Bool? {
        guard let v = optionalMember(key) else { return nil }
        guard case .bool(let b) = v.value else { throw v.fail("expected true or false") }
        return b
    }

    /// A number, or `[min, max]`.
    func optionalRange(_ key: String) throws(InvalidInput) -> ClosedRange<Double>? {
        guard let v = optionalMember(key) else { return nil }
        switch v.value {
        case .number(let d) where d >= 0: return d...d
        case .array(let a) where a.count == 2:
            if let lo = a[0].numberValue, let hi = a[1].numberValue, lo >= 0, lo <= hi { return lo...hi }
        default: break
        }
        throw v.fail("expected minutes: a number, or [min, max]")
    }

    func strings(_ key: String) throws(InvalidInput) -> [String] {
        try list(key) { (v) throws(InvalidInput) in
            guard case .string(let s) = v.value, !s.isEmpty else { throw v.fail("expected text") }
            return s
        }
    }

    /// A sequence (missing: empty), each element read by `element`.
    func list<T>(_ key: String, _ element: (Value) throws(InvalidInput) -> T) throws(InvalidInput) -> [T] {
        guard let v = optionalMember(key) else { return [] }
        guard case .array(let a) = v.value else { throw v.fail("expected a list") }
        var out: [T] = []
        for i in a.indices {
            out.append(try element(Value(a[i], pointer: "\(v.pointer)/\(i)", doc: base.doc, source: base.source)))
        }
        return out
    }

    func optionalObject(_ key: String, _ allowed: Set<String>) throws(InvalidInput) -> Object? {
        try optionalMember(key).map { (v) throws(InvalidInput) in try v.object(allowed) }
    }
}

private func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
}
