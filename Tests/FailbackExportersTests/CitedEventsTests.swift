import Testing
@testable import FailbackExporters

@Suite struct CitedEventsTests {
    /// Per type, the first and the last `perType / 2` indices, in order, however the types interleave.
    @Test(arguments: [0, 1, 2, 7, 40])
    func citesTheFirstAndLastOfEachType(perType: Int) {
        let types = ["A", "B", "C"]
        var random = SystemRandomNumberGenerator()
        for length in [0, 1, 5, 19, 20, 21, 39, 40, 41, 500] {
            var cited = CitedEvents(perType: perType)
            var all: [String: [Int]] = [:]
            for index in 0..<length {
                // Runs of one type and single events between them.
                let type = index % 7 < 4 ? "A" : types.randomElement(using: &random)!
                cited.note(index, type: type)
                all[type, default: []].append(index)
            }
            for type in types + ["absent"] {
                let indices = all[type] ?? []
                let half = perType / 2
                let expected = indices.count <= 2 * half ? indices : Array(indices.prefix(half) + indices.suffix(half))
                #expect(cited.indices(ofType: type) == expected, "\(type), \(length) events, \(perType) per type")
            }
        }
    }
}
