import ArgumentParser
import FailbackDomain
import FailbackProbes

struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record an observation.",
        subcommands: [Lag.self, RowCount.self, DNS.self, Pods.self, Health.self])

    struct Lag: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lag", abstract: "A replication lag sample.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(parsing: .unconditional, help: "Lag in seconds (a decimal number).") var seconds: DecimalNumber
        @Option(help: "The site replicated from.") var source: String
        @Option(help: "The site replicated to.") var target: String

        func run() throws {
            try Output.record(ReplicationLagSampled(lagSeconds: seconds.value, source: source, target: target), storeOptions, appendOptions)
        }
    }

    struct RowCount: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rowcount", abstract: "A table's row count at one site.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option var table: String
        @Option var site: String
        @Option(parsing: .unconditional) var count: Int

        func run() throws {
            try Output.record(RowCountSampled(table: table, site: site, count: count), storeOptions, appendOptions)
        }
    }

    struct DNS: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "dns", abstract: "The answers a DNS server gave.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: "The name asked for.") var name: String
        @Option(name: .customLong("type"), help: "The record type.") var recordType = "A"
        @Option(help: "An answer (repeat for several; none for an empty answer).") var answer: [String] = []
        @Option(help: ArgumentHelp("The server asked.", valueName: "host:port")) var resolver: String
        @Option(help: "The answer that passes now.") var expect: String?
        @Option(help: ArgumentHelp("The answer expected once the cutover is done (not judged before it).", valueName: "address")) var expectAfterCutover: String?

        func validate() throws {
            if expect != nil && expectAfterCutover != nil { throw ValidationError("give --expect or --expect-after-cutover, not both") }
        }

        func run() throws {
            var observed = try DNSAnswerObserved(name: name, recordType: recordType, resolver: resolver, answers: answer, expected: expect ?? expectAfterCutover)
            if expectAfterCutover != nil { observed.expectation = .afterCutover }
            try Output.record(observed, storeOptions, appendOptions)
        }
    }

    struct Pods: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pods", abstract: "Pod states from `kubectl get pods -o json` output.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: ArgumentHelp("The JSON kubectl printed ('-' for standard input).", valueName: "file")) var fromFile: String

        func run() throws {
            let pods = try KubectlPodList.parse(readFile(fromFile, .podListing), source: fromFile)
            try Output.record(pods, storeOptions, appendOptions)
        }
    }

    struct Health: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "health", abstract: "A health or smoke check result.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var appendOptions: AppendOptions
        @Option(help: "The endpoint checked.") var target: String
        @Option(parsing: .unconditional, help: "The HTTP status returned.") var status: Int
        @Option(name: .customLong("latency-ms"), parsing: .unconditional, help: "Latency in milliseconds (a decimal number).") var latencyMilliseconds: DecimalNumber
        @Option(parsing: .unconditional, help: "The status that passes (default: any 2xx).") var expectStatus: Int?

        func run() throws {
            let check = try HealthCheckObserved(target: target, status: status, latencyMilliseconds: latencyMilliseconds.value, expectedStatus: expectStatus)
            try Output.record(check, storeOptions, appendOptions)
        }
    }
}

/// A number given on the command line as a decimal (`3.2`, `1e3`): `Double(String)` alone would
/// also take `0x10` (16), `inf` and `nan` (FieldCheck.decimal decides).
struct DecimalNumber: ExpressibleByArgument {
    var value: Double
    init?(argument: String) {
        guard let v = FieldCheck.decimal(argument) else { return nil }
        value = v
    }
}
