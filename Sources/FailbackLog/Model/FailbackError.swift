/// What every error the libraries throw says, whichever layer it comes from (the log, the domain,
/// the exporters): a stable code, what it is about, and the exit status a command ends with. The
/// command line prints the error's `description` as one line and exits with `exitStatus`; a
/// program using the libraries reads `errorCode` and `subject` instead of parsing the text.
/// docs/cli.md ("Exit statuses" and "Error codes") lists every code with its status; a test holds
/// that table and these types together.
public protocol FailbackError: Error, Sendable, CustomStringConvertible {
    /// A stable name: the layer, a dot, the kind (`store.unknown-drill`, `input.missing`).
    var errorCode: String { get }
    /// What the error is about, when one thing is: an event, a drill, a file, an input's name.
    var subject: ErrorSubject? { get }
    var exitStatus: ExitStatus { get }
}

/// The one thing an error is about.
public enum ErrorSubject: Sendable, Hashable, CustomStringConvertible {
    /// A stored event, by its global sequence number.
    case seq(Int)
    /// A drill, by its id.
    case drill(String)
    /// A file or folder (or a store's location).
    case path(String)
    /// A byte of a document (JSON), counted from 0.
    case offset(Int)

    public var description: String {
        switch self {
        case .seq(let n): "seq \(n)"
        case .drill(let id): "drill \(id)"
        case .path(let p): p
        case .offset(let o): "byte \(o)"
        }
    }
}

/// A process's exit status, one meaning each (sysexits.h where it has one; docs/cli.md lists them).
public struct ExitStatus: RawRepresentable, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// A chain, a store or a bundle does not verify (or a check failed, a gap is open).
    public static let integrityFailure = ExitStatus(rawValue: 1)
    /// Evidence that holds but whose signer is not a trusted key (or that is unsigned): not verified.
    public static let unpinned = ExitStatus(rawValue: 3)
    /// The command line is wrong.
    public static let usage = ExitStatus(rawValue: 64)
    /// The input is wrong (or the command comes in the wrong order).
    public static let dataError = ExitStatus(rawValue: 65)
    /// Something named is not there.
    public static let noInput = ExitStatus(rawValue: 66)
    /// The software's own failure: nothing the user did.
    public static let software = ExitStatus(rawValue: 70)
    /// Reading or writing failed.
    public static let ioError = ExitStatus(rawValue: 74)
    /// Try again: the store was busy, or moved on.
    public static let tempFail = ExitStatus(rawValue: 75)
    /// Not allowed: the store cannot be written.
    public static let noPermission = ExitStatus(rawValue: 77)
}

extension JSONParseError: FailbackError {
    public var errorCode: String { "json.malformed" }
    public var subject: ErrorSubject? { .offset(offset) }
    public var exitStatus: ExitStatus { .dataError }
}

extension EnvelopeError: FailbackError {
    public var errorCode: String { "log.malformed-event" }
    public var subject: ErrorSubject? { nil }
    public var exitStatus: ExitStatus { .dataError }
}
