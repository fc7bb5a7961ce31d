// What the test targets share.

/// Splits a command line as a POSIX shell would into words (quotes, backslashes; no expansion).
public func shellWords(_ line: String) -> [String] {
    var words: [String] = []
    var current = ""
    var inWord = false
    var quote: Character? = nil
    var escaped = false
    for c in line {
        if escaped {
            current.append(c)
            escaped = false
            continue
        }
        if let q = quote {
            if c == q { quote = nil } else if c == "\\" && q == "\"" { escaped = true } else { current.append(c) }
            continue
        }
        switch c {
        case "'", "\"":
            quote = c
            inWord = true
        case "\\":
            escaped = true
            inWord = true
        case " ", "\t", "\n":
            if inWord { words.append(current) }
            current = ""
            inWord = false
        default:
            current.append(c)
            inWord = true
        }
    }
    if inWord { words.append(current) }
    return words
}
