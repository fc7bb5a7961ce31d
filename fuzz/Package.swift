// swift-tools-version:6.0
// Coverage-guided fuzz targets (libFuzzer + AddressSanitizer), one executable per reader.
// A package of its own, so that the main package's build and tests never compile them: build
// and run them with scripts/fuzz (docs/fuzzing.md), which passes --sanitize fuzzer and address.
// Built without those flags the executables do not link: libFuzzer supplies `main`.
import PackageDescription

// The harness files define `LLVMFuzzerTestOneInput` and no top-level code.
let harness: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "failback-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // The main package, by path (its identity is its folder's name, whatever the clone is called).
        .package(name: "failback", path: ".."),
    ],
    targets: [
        // What every target shares: reporting a broken property, a scratch file.
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        .executableTarget(name: "FuzzJSON", dependencies: [
            "FuzzSupport", .product(name: "FailbackLog", package: "failback"),
        ], swiftSettings: harness),
        .executableTarget(name: "FuzzRunbook", dependencies: [
            "FuzzSupport", .product(name: "FailbackDomain", package: "failback"), .product(name: "FailbackLog", package: "failback"),
        ], swiftSettings: harness),
        .executableTarget(name: "FuzzBundle", dependencies: [
            "FuzzSupport", .product(name: "FailbackExporters", package: "failback"),
        ], swiftSettings: harness),
        .executableTarget(name: "FuzzDNS", dependencies: [
            "FuzzSupport", .product(name: "FailbackProbes", package: "failback"), .product(name: "FailbackDomain", package: "failback"),
        ], swiftSettings: harness),
        .executableTarget(name: "FuzzRedactor", dependencies: [
            "FuzzSupport", .product(name: "FailbackDomain", package: "failback"), .product(name: "FailbackLog", package: "failback"),
        ], swiftSettings: harness),
    ]
)
