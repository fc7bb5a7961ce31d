// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "failback",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "failback", targets: ["failback"]),
        .library(name: "FailbackLog", targets: ["FailbackLog"]),
        .library(name: "FailbackDomain", targets: ["FailbackDomain"]),
        // For the fuzz targets (fuzz/Package.swift), which depend on this package by path.
        .library(name: "FailbackProbes", targets: ["FailbackProbes"]),
        .library(name: "FailbackExporters", targets: ["FailbackExporters"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // The system SQLite (libsqlite3-dev): the embedded default store.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        // The system OpenSSL libcrypto (libssl-dev): SHA-256 (and, for evidence bundles, Ed25519),
        // the same implementation auditors check our output with.
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", providers: [.apt(["libssl-dev"])]),
        // The system libyaml (libyaml-dev): the YAML parser runbooks are read with.
        .systemLibrary(name: "CYAML", path: "Sources/CYAML", providers: [.apt(["libyaml-dev"])]),
        // The log: canonical JSON (RFC 8785), the hash chain, the store interface and its SQLite implementation.
        // libpq's declarations (libpq-dev); libpq itself is loaded on demand (dlopen) for PostgreSQL stores.
        .systemLibrary(name: "CLibPQ", path: "Sources/CLibPQ", providers: [.apt(["libpq-dev"])]),
        .target(name: "FailbackLog", dependencies: ["CSQLite", "COpenSSL", "CLibPQ"]),
        // The domain: the event catalogue, redaction, and the recorder that appends through the log.
        .target(name: "FailbackDomain", dependencies: ["FailbackLog", "CYAML"]),
        // Probes: things that observe the world (commands, PostgreSQL through libpq, Redis, DNS, HTTP, pods).
        .target(name: "FailbackProbes", dependencies: ["FailbackDomain", "FailbackLog"]),
        // Exporters: the failback report and evidence bundles, from the log and the domain.
        .target(name: "FailbackExporters", dependencies: ["FailbackDomain", "FailbackLog", "COpenSSL", "CZlib"]),
        // The system zlib (zlib1g-dev): gzip for evidence bundles.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The thin command-line front end: parses, calls the domain, prints.
        .executableTarget(
            name: "failback",
            dependencies: [
                "FailbackDomain", "FailbackProbes", "FailbackExporters",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // A load generator used by the crash, concurrency and benchmark scripts.
        .executableTarget(name: "failback-loadgen", dependencies: ["FailbackDomain"]),
        // The log benchmark's harness (scripts/bench-log).
        .executableTarget(name: "failback-bench", dependencies: ["FailbackDomain", "FailbackLog", "CSQLite"]),
        .testTarget(name: "FailbackLogTests", dependencies: ["FailbackLog"], exclude: ["Vectors"]),
        // What the test targets share (a POSIX shell's word splitting, for the redaction corpora).
        .target(name: "FailbackTestSupport", path: "Tests/FailbackTestSupport"),
        .testTarget(name: "FailbackDomainTests", dependencies: ["FailbackDomain", "FailbackProbes", "FailbackTestSupport"]),
        .testTarget(name: "FailbackExportersTests", dependencies: ["FailbackExporters", "FailbackDomain", "FailbackLog"]),
        .testTarget(name: "FailbackCLITests", dependencies: ["FailbackDomain", "failback", "failback-loadgen", "FailbackTestSupport"]),
    ]
)
