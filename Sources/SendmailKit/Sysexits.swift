import MailPolicy
import MailQueue

/// sysexits.h codes (DESIGN.md "Command line").
public enum ExitCode: Int32, Sendable {
    case ok = 0
    case usage = 64
    case dataErr = 65
    case noInput = 66
    case noUser = 67
    case noHost = 68
    case unavailable = 69
    case software = 70
    case osErr = 71
    case osFile = 72
    case cantCreate = 73
    case ioErr = 74
    case tempFail = 75
    case noPerm = 77
    case config = 78
}

/// The one table from errors to exit codes (STYLE.md house rule 5). Libraries keep the
/// meaning of their errors; only here do they become numbers.
public enum ExitCodes {
    public static func code(for error: Error) -> ExitCode {
        switch error {
        case is UsageError: return .usage
        case is ConfigErrors: return .config
        case let e as ConfigLoadError: return e.isPermission ? .noPerm : .config
        case let e as SubmissionError:
            switch e.kind {
            case .usage: return .usage
            case .data: return .dataErr
            case .noUser: return .noUser
            }
        case let e as QueueError:
            switch e.code {
            case .cannotCreate: return .cantCreate
            case .noSpace: return .tempFail
            case .io: return .ioErr
            case .permission: return .noPerm
            case .notFound: return .noInput
            case .corrupt: return .software
            case .locked: return .tempFail
            case .unsafe: return .software
            }
        case let e as PolicyRefused:
            return e.exitCode
        case is ProtectionFailed:
            return .config
        case let e as InputError:
            return e.isTemporary ? .tempFail : .ioErr
        default:
            return .software
        }
    }
}

/// Reading the message from stdin failed.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var isTemporary: Bool
    public var description: String { message }
}
