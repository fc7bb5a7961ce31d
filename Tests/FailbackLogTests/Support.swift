import Foundation
@testable import FailbackLog

/// A small deterministic generator for property tests (the same seed gives the same cases).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomString(_ rng: inout SplitMix64) -> String {
    let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\u{1}", "é", "€", "😀", "\u{FB33}", "/", "\u{7F}"]
    return String((0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
}

func randomJSON(_ rng: inout SplitMix64, depth: Int) -> JSONValue {
    switch rng.next() % (depth > 3 ? 5 : 7) {
    case 0: return .null
    case 1: return .bool(rng.next() % 2 == 0)
    case 2:
        let d = Double(bitPattern: rng.next())
        return .number(d.isFinite ? d : Double(Int64(bitPattern: rng.next()) % 1_000_000) / 100)
    case 3: return .number(Double(Int64(bitPattern: rng.next()) % 9_007_199_254_740_991))
    case 4: return .string(randomString(&rng))
    case 5: return .array((0..<Int(rng.next() % 4)).map { _ in randomJSON(&rng, depth: depth + 1) })
    default:
        var o: [String: JSONValue] = [:]
        for _ in 0..<Int(rng.next() % 5) { o[randomString(&rng)] = randomJSON(&rng, depth: depth + 1) }
        return .object(o)
    }
}

func vectorsPath(_ name: String, file: String = #filePath) -> String {
    URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Vectors/\(name)").path
}

/// A fresh folder per test, removed at the end.
final class TemporaryDirectory {
    let path: String
    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("failback-test-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
