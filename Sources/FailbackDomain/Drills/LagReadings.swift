import FailbackLog

/// A drill's replication lag readings folded in log order in bounded memory (a drill can hold
/// millions): how many, the smallest, largest and mean, the first and the last, and the last
/// reading at or before each moment a question is asked about (when writes stopped, when they
/// resumed). Those moments are marked (`mark`) as the steps that set them are recorded; readings
/// before a mark are looked up among the latest `window` readings, readings after it update it as
/// they come, so a clock skewed by fewer than `window` readings changes nothing.
public struct LagReadings: Sendable {
    public typealias Reading = (at: Timestamp, seconds: Double)

    public private(set) var count = 0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    private var sum = 0.0
    public private(set) var first: Reading?
    public private(set) var last: Reading?
    /// The latest readings, oldest first, at most `window`.
    private var recent: [Reading] = []
    private var recentStart = 0
    static let window = 1024
    /// For each marked moment: the last reading (in log order) at or before it.
    private var marks: [(at: Timestamp, reading: Reading?)] = []

    public init() {}

    public var isEmpty: Bool { count == 0 }
    public var mean: Double? { count == 0 ? nil : sum / Double(count) }

    public mutating func add(at: Timestamp, seconds: Double) {
        count += 1
        min = Swift.min(min, seconds)
        max = Swift.max(max, seconds)
        sum += seconds
        if first == nil { first = (at, seconds) }
        last = (at, seconds)
        if recent.count < Self.window {
            recent.append((at, seconds))
        } else {
            recent[recentStart] = (at, seconds)
            recentStart = (recentStart + 1) % Self.window
        }
        for i in marks.indices where at <= marks[i].at { marks[i].reading = (at, seconds) }
    }

    /// Remembers the last reading at or before `moment`, now and as readings come.
    public mutating func mark(_ moment: Timestamp) {
        guard !marks.contains(where: { $0.at == moment }) else { return }
        let ordered = recent[recentStart...] + recent[..<recentStart]
        marks.append((moment, ordered.last { $0.at <= moment }))
    }

    /// The last reading (in log order) recorded at or before `moment`, which must have been marked.
    public func last(atOrBefore moment: Timestamp) -> Reading? {
        marks.first { $0.at == moment }?.reading
    }
}
