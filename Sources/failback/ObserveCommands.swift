import ArgumentParser
import FailbackDomain
import FailbackLog
import FailbackProbes

struct Observe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Probe the world and record what it says (every sample an event).",
        subcommands: [Lag.self, Recovery.self, Redis.self, RowCount.self, DNS.self, HTTP.self, Pods.self, JSON.self, Prometheus.self])

    /// The sampling options every probe takes.
    struct Loop: ParsableArguments {
        @Option(
            name: .customLong("until"), help: ArgumentHelp("Sample until this holds: pass, or NAME<VALUE like status=200, latency<250ms.", valueName: "condition"))
        var untils: [String] = []
        @Option(help: ArgumentHelp("Pause between samples.", valueName: "duration")) var every = "2s"
        @Option(help: ArgumentHelp("Give up after this long (also each request's limit).", valueName: "duration")) var timeout = "30s"

        /// The one condition a loop waits for.
        var until: String? { untils.first }

        func validate() throws {
            // Taken silently, the last would win and the first be forgotten: a loop waits for one.
            if untils.count > 1 { throw ValidationError("--until is given \(untils.count) times: a loop waits for one condition") }
        }
    }

    struct Lag: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lag",
            abstract: "Measure replication lag on a PostgreSQL sender (replay_lag) or standby (now() - last replayed transaction).",
            discussion: """
                failback observe lag --postgres 'host=db-us port=5432' --role standby --until 'lag<5s' --every 2s --timeout 5m
                Asked through psql. When nothing is waiting to be replayed the lag is 0 and the event says idle.
                Exit 0 when a reading was taken (or --until is met), 1 when none could be or it timed out.
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("The server's connection string (libpq key=value or URI).", valueName: "conninfo")) var postgres: String
        @Option(help: "primary: read pg_stat_replication on the sender; standby: ask the standby itself.") var role: String = "standby"
        @Option(help: "The sending site's name (default: from the server).") var source: String?
        @Option(help: "The receiving site's name (default: from the server).") var target: String?

        func validate() throws {
            if LagProbe.Role(rawValue: role) == nil { throw ValidationError("--role must be primary or standby, not \(role.debugDescription)") }
        }

        func run() throws {
            try loop.sample(probe: "lag \(serverLabel(postgres)) (\(role))", measures: LagProbe.measures, storeOptions, appendOptions) { _, remaining in
                try LagProbe.check(conninfo: postgres, role: LagProbe.Role(rawValue: role)!, source: source, target: target, timeout: remaining)
            }
        }
    }

    struct Recovery: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recovery",
            abstract: "Record whether a PostgreSQL server is in recovery (a standby) or not (a primary).",
            discussion: "failback observe recovery --postgres CONNINFO --expect primary --until pass --timeout 1m\nExit 0 when it answered (as expected), else 1.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("The server's connection string.", valueName: "conninfo")) var postgres: String
        @Option(help: "The role that passes: primary or standby.") var expect: String?

        func validate() throws {
            if let expect, expect != "primary" && expect != "standby" { throw ValidationError("--expect must be primary or standby, not \(expect.debugDescription)") }
        }

        func run() throws {
            try loop.sample(probe: "recovery \(serverLabel(postgres))", measures: RecoveryProbe.measures, storeOptions, appendOptions) { _, remaining in
                try RecoveryProbe.check(conninfo: postgres, expected: expect, timeout: remaining)
            }
        }
    }

    struct Redis: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "redis", abstract: "Record a Redis server's role, replication link, offset lag and PING latency (INFO replication).",
            discussion: """
                failback observe redis --url redis://10.0.0.7:6379 --expect master --until pass --every 1s --timeout 1m
                Speaks RESP itself (AUTH when the URL has a password, PING, INFO replication; a replica's master is asked for its offset).
                The recorded URL has no password. Exit 0 when it answered (with the expected role, a replica with its link up), else 1.
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("The server: redis://[[USER]:PASSWORD@]HOST[:PORT].", valueName: "url")) var url: String
        @Option(help: "The role that passes: master or replica.") var expect: String?

        func validate() throws {
            do { _ = try RedisURL(url) } catch { throw ValidationError(error.message) }
            if let expect, !RedisReplicationObserved.roles.contains(expect) { throw ValidationError("--expect must be master or replica, not \(expect.debugDescription)") }
        }

        func run() throws {
            let server = try RedisURL(url)
            try loop.sample(probe: "redis \(server.recorded)", measures: RedisProbe.measures, storeOptions, appendOptions) { _, remaining in
                try RedisProbe.check(url: server, expected: expect, timeout: remaining)
            }
        }
    }

    struct RowCount: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rowcount", abstract: "Count rows of tables at two sites and record both counts and the difference.",
            discussion: "failback observe rowcount --source CONNINFO --target CONNINFO --table events --table accounts\nExit 0 when every table has the same count on both, else 1."
        )
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("The source site's connection string.", valueName: "conninfo")) var source: String
        @Option(help: ArgumentHelp("The target site's connection string.", valueName: "conninfo")) var target: String
        @Option(name: .customLong("table"), help: ArgumentHelp("A table to count (repeat; schema.table allowed).", valueName: "table")) var tables: [String] = []
        @Option(help: "The source site's name (default: host:port/dbname).") var sourceSite: String?
        @Option(help: "The target site's name.") var targetSite: String?

        func validate() throws {
            if tables.isEmpty { throw ValidationError("give at least one --table") }
            if let t = tables.first(where: { $0.isEmpty || $0.hasPrefix(".") || $0.hasSuffix(".") }) { throw ValidationError("--table \(t.debugDescription) is not a table name") }
        }

        func run() throws {
            try loop.sample(probe: "rowcount \(tables.joined(separator: ","))", measures: RowCountProbe.measures, storeOptions, appendOptions) { _, remaining in
                try RowCountProbe.check(source: source, target: target, tables: tables, sourceSite: sourceSite, targetSite: targetSite, timeout: remaining)
            }
        }
    }

    struct DNS: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dns", abstract: "Ask a DNS server directly (UDP, then TCP if truncated) and record every answer with its TTL.",
            discussion: """
                failback observe dns api.example.com --server 10.0.0.2:53 --expect 52.1.2.3 --until pass --every 5s --timeout 10m
                --expect: the answer that passes now. --expect-after-cutover: the address the cutover switches to; an answer
                recorded before the cutover step is done is kept as evidence but is no check (the old address is no failure then).
                Exit 0 when the server answered (with the expected value), else 1.
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Argument(help: "The name to look up.") var name: String
        @Option(help: ArgumentHelp("The server's IP address and port.", valueName: "host:port")) var server: String
        @Option(help: "The record type: A, AAAA, CNAME, MX, NS, PTR, TXT.") var type = "A"
        @Option(help: "The answer that passes now.") var expect: String?
        @Option(help: ArgumentHelp("The answer expected once the cutover is done (not judged before it).", valueName: "address")) var expectAfterCutover: String?

        func validate() throws {
            if expect != nil && expectAfterCutover != nil { throw ValidationError("give --expect or --expect-after-cutover, not both") }
            do { _ = try DNSProbe.parseServer(server) } catch { throw ValidationError(error.message) }
            if DNSMessage.types[type.uppercased()] == nil { throw ValidationError("--type must be one of \(DNSMessage.types.keys.sorted().joined(separator: ", "))") }
        }

        func run() throws {
            try loop.sample(probe: "dns \(name) \(type.uppercased()) @\(server)", measures: DNSProbe.measures, storeOptions, appendOptions) { recorder, remaining in
                var sample = try DNSProbe.check(
                    name: name, type: type, server: server, expected: expect ?? expectAfterCutover,
                    expectation: expectAfterCutover != nil ? .afterCutover : .now, timeout: min(remaining, 5))
                // Before the cutover an answer for the cutover's address is evidence, judged by
                // nothing (the old address then is no failure): one such check exits 0. A --until
                // loop still waits for the address itself.
                if expectAfterCutover != nil, loop.until == nil, try recorder.cutoverDone(appendOptions.drill) == false { sample.passed = true }
                return sample
            }
        }
    }

    struct HTTP: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "http", abstract: "Request a URL (through curl) and record its status and latency, or the error.",
            discussion: "Exit status 0 when the check passes (or --until is met), 1 when it fails or times out.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Argument(help: "The URL.") var url: String
        @Option(parsing: .unconditional, help: "The status that passes (default: any 2xx).") var expectStatus: Int?
        @Option(help: "Text the body must contain.") var expectBody: String?

        func run() throws {
            try loop.sample(probe: "http \(url)", measures: HTTPProbe.measures, storeOptions, appendOptions) { recorder, remaining in
                try HTTPProbe.check(url: url, expectStatus: expectStatus, expectBody: expectBody, timeout: remaining, bodyLimit: recorder.maxOutputBytes)
            }
        }
    }

    struct Pods: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pods",
            abstract: "Record pod states from a kubectl listing (a file, or the command after --).",
            discussion:
                "failback observe pods --from-file pods.json | failback observe pods -- kubectl get pods -n bud -o json\nExit 0 when every pod is ready (or --until is met), else 1."
        )
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Loop
        @Option(help: ArgumentHelp("What `kubectl get pods -o json` printed.", valueName: "file")) var fromFile: String?
        @Argument(parsing: .postTerminator, help: "A command printing a kubectl pod listing, after --.") var command: [String] = []

        func validate() throws {
            if (fromFile == nil) == command.isEmpty { throw ValidationError("give --from-file FILE or a command after --, not both") }
        }

        func run() throws {
            try loop.sample(probe: "pods \(fromFile ?? command.joined(separator: " "))", measures: PodsProbe.measures, storeOptions, appendOptions) { recorder, remaining in
                try PodsProbe.check(file: fromFile, command: command, outputLimit: max(recorder.maxOutputBytes, recorder.maxPayloadBytes), timeout: remaining)
            }
        }
    }
}

extension Observe {
    struct JSON: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "json",
            abstract: "Run a command that prints JSON, and record the values read at paths and the verdict of each condition.",
            discussion: """
                failback observe json --name 'CSR_EVENTS stream' --value messages=.state.messages --expect 'messages>0' -- nats stream info CSR_EVENTS --json
                failback observe json --value status=.cluster.status --until 'status=ACTIVE' --every 10s --timeout 15m -- aws eks describe-cluster --name prod
                Paths: . .name ."any name" [N] [] and | length (docs/cli.md). Conditions: NAME OP VALUE, OP one of < <= > >= = !=;
                VALUE a number (units ms s m h, B KB MB GB KiB MiB GiB, %), true, false, null, empty, $NAME (another value), or text.
                Output: one JSON document, or several one after the other (JSON lines; `curl A && curl B`): then .[0], .[1]...
                The command runs as exec runs it (its own process group, killed at --timeout, output capped at limits.max_output_bytes).
                Exit 0 when values were read and every --expect holds (or --until is met), else 1 (recorded either way).
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Observe.Loop
        @Option(help: "What the check is called (default: the command).") var name: String?
        @Option(name: .customLong("value"), help: ArgumentHelp("A value to read: NAME=PATH, like messages=.state.messages (repeat).", valueName: "name=path"))
        var values: [String] = []
        @Option(name: .customLong("expect"), help: ArgumentHelp("A condition that must hold: NAME OP VALUE (repeat).", valueName: "condition"))
        var expects: [String] = []
        @Argument(parsing: .postTerminator, help: "The command printing JSON, after --.") var command: [String] = []

        /// The values to read, each name once.
        func parsedValues() throws -> [(name: String, path: JSONPath)] {
            var out: [(name: String, path: JSONPath)] = []
            for v in values {
                guard let eq = v.firstIndex(of: "="), !v[..<eq].isEmpty,
                    v[..<eq].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") })
                else { throw ValidationError("--value \(v.debugDescription): expected NAME=PATH, NAME letters, digits, _ and -") }
                let name = String(v[..<eq])
                if out.contains(where: { $0.name == name }) { throw ValidationError("--value \(name) is given twice") }
                do { out.append((name, try JSONPath(String(v[v.index(after: eq)...])))) } catch { throw ValidationError("--value \(name): \(error.message)") }
            }
            return out
        }

        func validate() throws {
            if command.isEmpty { throw ValidationError("give the command after --: failback observe json --value NAME=PATH -- COMMAND ARGS...") }
            if values.isEmpty { throw ValidationError("give at least one --value NAME=PATH") }
            let names = Set(try parsedValues().map(\.name))
            _ = try loop.conditions(expect: expects, names: names)
        }

        func run() throws {
            let read = try parsedValues()
            let names = Set(read.map(\.name))
            let (expect, until) = try loop.conditions(expect: expects, names: names)
            try loop.sample(
                probe: "json \(name ?? command.joined(separator: " "))", measures: [:], storeOptions, appendOptions,
                condition: until.map { UntilCondition(judgedByProbe: $0.text) }
            ) { recorder, remaining in
                JSONProbe.check(
                    name: name, argv: command, values: read, expect: expect, until: until, outputLimit: max(recorder.maxOutputBytes, recorder.maxPayloadBytes),
                    timeout: remaining)
            }
        }
    }
}

extension Observe {
    struct Prometheus: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prometheus",
            abstract: "Ask Prometheus to evaluate a PromQL query now, and record each series' value and the verdict of each condition.",
            discussion: """
                failback observe prometheus --url http://prometheus:9090 --name 'error rate' --query 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))' --expect 'value<0.1%'
                Conditions name the result's value: value<500ms, value<0.1%, value=0 (with several series, each must hold).
                An answer with no series, an error of Prometheus (a bad query) or no answer within --timeout is a failed observation.
                Exit 0 when a result came and every --expect holds (or --until is met), else 1 (recorded either way).
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @OptionGroup var loop: Observe.Loop
        @Option(help: ArgumentHelp("The Prometheus server: http(s)://HOST:PORT (and any path prefix).", valueName: "url")) var url: String
        @Option(help: ArgumentHelp("The PromQL query (an instant query).", valueName: "promql")) var query: String
        @Option(help: "What the check is called (default: the query).") var name: String?
        @Option(name: .customLong("expect"), help: ArgumentHelp("A condition on the value: value OP VALUE (repeat).", valueName: "condition"))
        var expects: [String] = []

        func validate() throws {
            if query.allSatisfy(\.isWhitespace) { throw ValidationError("--query is empty") }
            _ = try loop.conditions(expect: expects, names: PrometheusProbe.names, naming: "its one value")
        }

        func run() throws {
            // A bad URL is bad input (65), as it is for observe http.
            try FieldCheck.httpURL(url, "--url")
            if url.contains("?") || url.contains("#") {
                throw InvalidInput("--url \(FieldCheck.withoutCredentials(url).debugDescription): the server's address, without a query or fragment")
            }
            let (expect, until) = try loop.conditions(expect: expects, names: PrometheusProbe.names, naming: "its one value")
            try loop.sample(
                probe: "prometheus \(name ?? query)", measures: [:], storeOptions, appendOptions, condition: until.map { UntilCondition(judgedByProbe: $0.text) }
            ) { recorder, remaining in
                PrometheusProbe.check(
                    name: name, server: url, query: query, expect: expect, until: until, timeout: remaining,
                    bodyLimit: max(recorder.maxOutputBytes, recorder.maxPayloadBytes))
            }
        }
    }
}

extension Observe.Loop {
    /// The conditions a probe judges itself (`observe json`, `observe prometheus`): each `--expect`,
    /// and the `--until` one (nil for `pass`); one that cannot be read is a command-line error.
    func conditions(expect: [String], names: Set<String>, naming: String = "name them with --value NAME=PATH") throws -> (
        expect: [JSONCondition], until: JSONCondition?
    ) {
        func read(_ text: String, _ option: String) throws -> JSONCondition {
            do { return try JSONCondition(text, names: names, option: option, naming: naming) } catch { throw ValidationError(error.message) }
        }
        return (try expect.map { try read($0, "--expect") }, try until.flatMap { $0 == "pass" ? nil : try read($0, "--until") })
    }

    /// Runs a probe as these options say, recording and printing every sample and the verdict;
    /// exits 1 when the check fails or the condition times out.
    func sample(
        probe: String, measures: [String: String], _ storeOptions: StoreOptions, _ appendOptions: AppendOptions,
        condition judged: UntilCondition? = nil, _ check: (Recorder, _ remaining: Double) throws -> ProbeSample
    ) throws {
        let recorder = try storeOptions.workspace.openRecorder(actor: appendOptions.actor)
        let drill = try recorder.drillForWriting(appendOptions.drill)
        // `judged`: a condition the probe judges itself, in place of the `--until` text.
        let condition = try judged ?? until.map { (u) throws(InvalidInput) in try UntilCondition(u, names: measures) }
        let pause = try parseDuration(every, option: "--every"), limit = try parseDuration(timeout, option: "--timeout")
        let ok = try Sampler.run(
            probe: probe, until: condition, every: pause, timeout: limit,
            record: { payload in
                let outcome = try recorder.record(payload, drill: drill.drillID)
                print(Output.render(outcome.event, json: appendOptions.json))
            }
        ) { remaining in try check(recorder, remaining) }
        if !ok { throw ExitCode(1) }
    }
}
