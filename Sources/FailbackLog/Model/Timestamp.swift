#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC instant with millisecond precision, written as RFC 3339 `YYYY-MM-DDTHH:MM:SS.mmmZ`:
/// the only time format in the log, so that equal instants always have equal bytes.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) { self.millisecondsSinceEpoch = millisecondsSinceEpoch }

    /// The system clock now.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSinceEpoch < b.millisecondsSinceEpoch }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` (years 0000–9999).
    public var description: String {
        let ms = millisecondsSinceEpoch
        let days = floorDiv(ms, 86_400_000)
        let msOfDay = ms - days * 86_400_000
        let (y, m, d) = civil(fromDays: days)
        let fields: [(value: Int64, width: Int, separator: UInt8)] = [
            (y, 4, 0x2D), (m, 2, 0x2D), (d, 2, 0x54), (msOfDay / 3_600_000, 2, 0x3A), ((msOfDay / 60_000) % 60, 2, 0x3A),
            ((msOfDay / 1000) % 60, 2, 0x2E), (msOfDay % 1000, 3, 0x5A),
        ]
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var i = 0
            for field in fields {
                var v = field.value
                for k in stride(from: field.width - 1, through: 0, by: -1) {
                    buffer[i + k] = UInt8(0x30 + v % 10)
                    v /= 10
                }
                i += field.width
                buffer[i] = field.separator
                i += 1
            }
            return i
        }
    }

    /// Parses RFC 3339 in UTC (`Z`) or with an offset (`+02:00`), with 0–9 fraction digits
    /// (precision past milliseconds is truncated). Nil for anything else.
    public init?(rfc3339 text: String) {
        var text = text
        guard let parsed = text.withUTF8({ Self(rfc3339UTF8: $0) }) else { return nil }
        self = parsed
    }

    /// `init(rfc3339:)` over the text's UTF-8 bytes.
    public init?(rfc3339UTF8 b: UnsafeBufferPointer<UInt8>) {
        func num(_ r: Range<Int>) -> Int64? {
            guard r.upperBound <= b.count else { return nil }
            var v: Int64 = 0
            for i in r {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                v = v * 10 + Int64(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
            let h = num(11..<13), let mi = num(14..<16), let s = num(17..<19),
            (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            let digits = i - start
            guard digits >= 1, digits <= 9 else { return nil }
            var firstThree: Int64 = 0
            for k in start..<min(i, start + 3) { firstThree = firstThree * 10 + Int64(b[k] - 0x30) }
            millis = firstThree * (digits == 1 ? 100 : digits == 2 ? 10 : 1)
        }
        var offsetMinutes: Int64 = 0
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard i + 6 == b.count, b[i + 3] == UInt8(ascii: ":"), let oh = num((i + 1)..<(i + 3)), let om = num((i + 4)..<(i + 6)),
                oh < 24, om < 60
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let seconds = days * 86_400 + h * 3600 + mi * 60 + min(s, 59) - offsetMinutes * 60
        self.millisecondsSinceEpoch = seconds * 1000 + millis
    }
}

private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

private func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

private func daysIn(month m: Int64, year y: Int64) -> Int64 {
    switch m {
    case 2: return isLeap(y) ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
private func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
    let y = m <= 2 ? y0 - 1 : y0
    let era = floorDiv(y, 400)
    let yoe = y - era * 400
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

private func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = floorDiv(z, 146_097)
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}

extension Timestamp {
    /// The JSON string value at `range` of `document` (`doc` is its bytes) read as an RFC 3339
    /// time; nil when it is not a string or not such a time.
    init?(jsonString doc: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, of document: [UInt8]) {
        guard range.count >= 2, doc[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let inner = UnsafeBufferPointer(rebasing: doc[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if memchr(inner.baseAddress!, Int32(UInt8(ascii: "\\")), inner.count) != nil {
            guard let text = JSONValueView.string(in: doc, range, of: document), let t = Timestamp(rfc3339: text) else { return nil }
            self = t
            return
        }
        self.init(rfc3339UTF8: inner)
    }
}
