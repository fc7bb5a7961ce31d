@testable import FailbackDomain
import FailbackLog
import Testing

/// The lag fold answers as the list of every reading would, in bounded memory.
@Suite struct LagReadingsTests {
    /// A deterministic generator (SplitMix64), so a failure reproduces.
    struct Mix {
        var s: UInt64;
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15; var z = s; z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9; z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB; return z ^ (z >> 31)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func answersAsTheWholeListWould(seed: UInt64) {
        var rng = Mix(s: seed)
        var fold = LagReadings()
        var all: [(at: Timestamp, seconds: Double)] = []
        var marks: [Timestamp] = []
        var clock: Int64 = 1_795_458_060_000
        for i in 0..<5000 {
            clock += Int64(rng.next() % 2000)
            // Hosts with clocks behind by up to a minute (fewer readings than the window).
            let skew = rng.next() % 10 == 0 ? Int64(rng.next() % 60_000) : 0
            let reading = (at: Timestamp(millisecondsSinceEpoch: clock - skew), seconds: Double(rng.next() % 10_000) / 100)
            fold.add(at: reading.at, seconds: reading.seconds)
            all.append(reading)
            if i % 700 == 350 {
                // A step that stops or resumes writes, recorded now (its time may be behind too).
                let at = Timestamp(millisecondsSinceEpoch: clock - Int64(rng.next() % 30_000))
                fold.mark(at)
                marks.append(at)
            }
        }
        #expect(fold.count == all.count)
        #expect(fold.min == all.map(\.seconds).min() && fold.max == all.map(\.seconds).max())
        #expect(abs(fold.mean! - all.map(\.seconds).reduce(0, +) / Double(all.count)) < 1e-9)
        #expect(fold.first?.at == all.first?.at && fold.last?.at == all.last?.at)
        for m in marks {
            let expected = all.last { $0.at <= m }
            #expect(fold.last(atOrBefore: m)?.at == expected?.at && fold.last(atOrBefore: m)?.seconds == expected?.seconds)
        }
    }

    @Test func emptyAndUnmarked() {
        var fold = LagReadings()
        #expect(fold.isEmpty && fold.mean == nil && fold.first == nil)
        fold.mark(Timestamp(millisecondsSinceEpoch: 10))
        #expect(fold.last(atOrBefore: Timestamp(millisecondsSinceEpoch: 10)) == nil)
        fold.add(at: Timestamp(millisecondsSinceEpoch: 5), seconds: 2)
        #expect(fold.last(atOrBefore: Timestamp(millisecondsSinceEpoch: 10))?.seconds == 2)
        fold.add(at: Timestamp(millisecondsSinceEpoch: 11), seconds: 3)
        #expect(fold.last(atOrBefore: Timestamp(millisecondsSinceEpoch: 10))?.seconds == 2)
        #expect(fold.last(atOrBefore: Timestamp(millisecondsSinceEpoch: 11)) == nil, "only marked moments are answered")
    }
}
