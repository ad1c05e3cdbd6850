#if canImport(Glibc)
import Glibc
#endif

/// The one error type of MailQueue. Each code says what the submitter should be told
/// (SendmailKit turns it into a sysexits code in one table).
public struct QueueError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Code: Equatable, Sendable, CaseIterable {
        /// The queue folder is missing and cannot be made, or a file cannot be created in it.
        case cannotCreate
        /// No space (ENOSPC, EDQUOT): try later.
        case noSpace
        /// A read or write failed.
        case io
        /// Permission denied.
        case permission
        /// No such queued message.
        case notFound
        /// A queue file that this build cannot read (damaged, or a newer version).
        case corrupt
        /// Another process holds the message (a queue run is delivering it).
        case locked
        /// A queue file or folder that the queue did not make: a symbolic link, a file with
        /// another hard link, not a regular file. Refused, never followed or written.
        case unsafe
    }

    public var code: Code
    public var message: String
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code; self.message = message; self.errno = errno
    }

    /// An error for a failed system call, classified by errno (a full disk or quota is
    /// `noSpace`, whatever the call).
    public static func system(_ what: String, path: String, errno e: Int32, creating: Bool = false) -> QueueError {
        let reason = String(cString: strerror(e))
        let code: Code
        switch e {
        case ENOSPC, EDQUOT: code = .noSpace
        case EACCES, EPERM, EROFS: code = creating ? .cannotCreate : .permission
        case ENOENT where creating: code = .cannotCreate
        case ENOENT: code = .notFound
        default: code = creating ? .cannotCreate : .io
        }
        return QueueError(code, "\(what) \(path): \(reason)", errno: e)
    }

    public var description: String { message }
}
