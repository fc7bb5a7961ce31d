/// ASCII tests over UTF-8 bytes (non-ASCII bytes are never letters, digits or spaces here).
enum Ascii {
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    @inline(__always) static func upper(_ b: UInt8) -> UInt8 { b >= 0x61 && b <= 0x7A ? b & 0xDF : b }
    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
    @inline(__always) static func isLowerLetter(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { isUpper(b) || isLowerLetter(b) }
    @inline(__always) static func isAlnum(_ b: UInt8) -> Bool { isLetter(b) || isDigit(b) }
    @inline(__always) static func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b >= 0x61 && b <= 0x66) || (b >= 0x41 && b <= 0x46) }
    /// Space or tab: what separates words on one line.
    @inline(__always) static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
    @inline(__always) static func isNewline(_ b: UInt8) -> Bool { b == 0x0A || b == 0x0D }
    /// Any ASCII white space (and NUL, which separates the elements of an argv).
    @inline(__always) static func isWhite(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || b == 0 }
    @inline(__always) static func isQuote(_ b: UInt8) -> Bool { b == 0x22 || b == 0x27 || b == 0x60 }
    /// Characters of a name: an environment variable, a member, a header, a flag (`A-Z a-z 0-9 _ . -`).
    @inline(__always) static func isNameChar(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F || b == 0x2D || b == 0x2E }
    /// Characters of base64url tokens (JWT segments and most API tokens): `A-Z a-z 0-9 _ -`.
    @inline(__always) static func isTokenChar(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F || b == 0x2D }
}

/// Finds every occurrence of a set of ASCII words (compared ignoring case) in one pass over the
/// bytes: an Aho–Corasick automaton turned into a table, one lookup a byte. It is the pre-check in
/// front of every rule: text in which no anchor occurs (a site name, a number, most output) costs
/// one table walk and nothing else.
final class AnchorAutomaton: Sendable {
    /// Byte → column of the table (0 for bytes that occur in no anchor); upper-case letters share
    /// their lower-case letter's column.
    private let column: [UInt8]
    private let columns: Int
    /// State × column → next state; the top bit set when some anchor ends in that state.
    private let next: [UInt16]
    /// Per state: the anchors that end there (empty for most).
    private let outputs: [[Int]]
    let lengths: [Int]
    /// The shortest anchor: shorter text cannot hold any.
    let shortest: Int

    init(_ anchors: [String]) {
        var column = [UInt8](repeating: 0, count: 256)
        var columns = 1
        for anchor in anchors {
            for b in anchor.utf8 where column[Int(Ascii.lower(b))] == 0 {
                column[Int(Ascii.lower(b))] = UInt8(columns)
                columns += 1
            }
        }
        precondition(columns < 256, "too many distinct anchor bytes")
        for b in 0x41...0x5A { column[b] = column[b | 0x20] }
        // The trie.
        var goto: [[Int]] = [[Int](repeating: -1, count: columns)]
        var outputs: [[Int]] = [[]]
        for (id, anchor) in anchors.enumerated() {
            var state = 0
            for b in anchor.utf8 {
                let c = Int(column[Int(Ascii.lower(b))])
                if goto[state][c] < 0 {
                    goto[state][c] = goto.count
                    goto.append([Int](repeating: -1, count: columns))
                    outputs.append([])
                }
                state = goto[state][c]
            }
            outputs[state].append(id)
        }
        // Failure links, breadth first, folded into a complete transition table.
        var fail = [Int](repeating: 0, count: goto.count)
        var queue: [Int] = []
        for c in 0..<columns {
            let t = goto[0][c]
            if t < 0 { goto[0][c] = 0 } else { queue.append(t) }
        }
        var head = 0
        while head < queue.count {
            let s = queue[head]
            head += 1
            outputs[s] += outputs[fail[s]]
            for c in 0..<columns {
                let t = goto[s][c]
                if t < 0 {
                    goto[s][c] = goto[fail[s]][c]
                } else {
                    fail[t] = goto[fail[s]][c]
                    queue.append(t)
                }
            }
        }
        precondition(goto.count < 0x8000, "too many anchor states")
        self.column = column
        self.columns = columns
        self.next = goto.flatMap { $0.map { UInt16($0) | (outputs[$0].isEmpty ? 0 : 0x8000) } }
        self.outputs = outputs
        self.lengths = anchors.map { $0.utf8.count }
        self.shortest = lengths.min() ?? 0
    }

    /// Calls `body` with each anchor found and the index just past its end.
    func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (_ anchor: Int, _ end: Int) -> Void) {
        guard bytes.count >= shortest else { return }
        column.withUnsafeBufferPointer { column in
            next.withUnsafeBufferPointer { next in
                var state = 0
                for i in 0..<bytes.count {
                    let t = next[state &* columns &+ Int(column[Int(bytes[i])])]
                    state = Int(t & 0x7FFF)
                    if t & 0x8000 != 0 {
                        for anchor in outputs[state] { body(anchor, i + 1) }
                    }
                }
            }
        }
    }

    /// Whether any anchor occurs in a string (without copying it when it is stored contiguously).
    func occurs(in text: String) -> Bool {
        guard text.utf8.count >= shortest else { return false }
        return text.utf8.withContiguousStorageIfAvailable { occurs(in: $0) } ?? occurs(in: Array(text.utf8))
    }

    func occurs(in bytes: [UInt8]) -> Bool { bytes.withUnsafeBufferPointer { occurs(in: $0) } }

    /// Whether any anchor occurs.
    func occurs(in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= shortest else { return false }
        return column.withUnsafeBufferPointer { column in
            next.withUnsafeBufferPointer { next in
                var state = 0
                for i in 0..<bytes.count {
                    let t = next[state &* columns &+ Int(column[Int(bytes[i])])]
                    if t & 0x8000 != 0 { return true }
                    state = Int(t)
                }
                return false
            }
        }
    }
}
