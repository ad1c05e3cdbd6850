import MailPolicy
import MailQueue
import SMIME
import SMTPProtocol
import SMTPTransport

/// sysexits.h codes (DESIGN.md "Command line").
public enum ExitCode: Int32, Sendable, CaseIterable {
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

/// Who named the files of an S/MIME operation: that decides what a file that cannot be used
/// means.
public enum SMIMEFileOrigin: Sendable, CaseIterable {
    /// The config (sealmail's policy): a key or certificate it names that cannot be used is a
    /// configuration error.
    case configuration
    /// The caller, on the command line (`sealctl smime`, `sealctl cert`): a file that cannot
    /// be read is missing input, a certificate that cannot be used an unknown addressee.
    case caller
}

/// The one table from errors to exit codes (STYLE.md house rule 5). Every module keeps the
/// meaning of its errors (a code, transient or permanent, the cause); only here do they
/// become numbers, and `-bs` turns the same number into its SMTP reply. The sealmail(8) man
/// page's EXIT STATUS section describes this table; ExitCodeTableTests holds it to every
/// case of every error type.
public enum ExitCodes {
    /// The exit status for `error`, whatever module threw it; 70 for an error no module
    /// declares (a bug).
    public static func code(for error: Error) -> ExitCode {
        switch error {
        case is UsageError: return .usage
        case is ConfigErrors: return .config
        case let e as ConfigLoadError: return e.isPermission ? .noPerm : .config
        case is UntrustedFiles, is FileTrustProblem: return .config
        case let e as SubmissionError: return code(for: e.kind)
        case let e as InputError: return e.isTemporary ? .tempFail : .ioErr
        case let e as QueueError: return code(for: e.code)
        case let e as PolicyRefused: return code(for: e.refusals.map(\.kind))
        case let e as ProtectionError: return code(for: e.cause)
        // Outside a ProtectionError, sealmail's S/MIME files are the config's.
        case let e as SMIMEError: return code(for: e.code, origin: .configuration)
        case let e as SMTPError: return code(for: e)
        default: return .software
        }
    }

    /// A submission problem: usage 64, bad data 65, a user without a passwd entry 67.
    public static func code(for kind: SubmissionError.Kind) -> ExitCode {
        switch kind {
        case .usage: return .usage
        case .data: return .dataErr
        case .noUser: return .noUser
        }
    }

    /// The queue: a full disk or a message another run holds is temporary (75).
    public static func code(for code: QueueError.Code) -> ExitCode {
        switch code {
        case .cannotCreate: return .cantCreate
        case .noSpace: return .tempFail
        case .io: return .ioErr
        case .permission: return .noPerm
        case .notFound: return .noInput
        case .corrupt: return .software
        case .locked: return .tempFail
        // A link or foreign file where a queue file should be: refused, never followed.
        case .unsafe: return .software
        }
    }

    /// The policy's refusals: 77 when the user may not use a sender or key (that is the
    /// reason to fix first), else 69 (encryption required and no usable certificate).
    public static func code(for kinds: [PolicyRefusal.Kind]) -> ExitCode {
        var worst = ExitCode.unavailable
        for kind in kinds {
            switch kind {
            case .notAuthorised: worst = .noPerm
            case .noCertificate: break
            }
        }
        return worst
    }

    /// An S/MIME failure, by what went wrong and who named the files.
    public static func code(for code: SMIMEError.Code, origin: SMIMEFileOrigin) -> ExitCode {
        mapped(code, origin: origin) ?? .software
    }

    /// The S/MIME table; nil for a code added to SMIMEError without a row here (the test
    /// fails on it).
    static func mapped(_ code: SMIMEError.Code, origin: SMIMEFileOrigin) -> ExitCode? {
        let fromConfig = origin == .configuration
        switch code {
        case .unreadableFile: return fromConfig ? .config : .noInput
        case .unusableCertificate: return fromConfig ? .config : .noUser
        case .malformedInput: return fromConfig ? .config : .dataErr
        case .wrongPassphrase, .keyMismatch, .unsupportedAlgorithm: return .config
        case .badMessage, .verificationFailed, .decryptionFailed: return .dataErr
        case .noRecipients: return .usage
        case .outputFailed: return .ioErr
        case .noSpace: return .tempFail
        case .cryptoFailure: return .software
        default: return nil
        }
    }

    /// An SMTP failure: whatever it is, a transient one is 75 (try later); a permanent
    /// refusal of the transaction by its RFC 3463 status; anything else by its code.
    public static func code(for error: SMTPError) -> ExitCode {
        if error.isTransient { return .tempFail }
        if error.code == .unexpectedReply, let reply = error.reply { return code(forStatus: reply.effectiveStatus) }
        return mapped(error.code) ?? .software
    }

    /// The SMTP table for permanent failures; nil for a code added to SMTPError without a
    /// row here (the test fails on it).
    static func mapped(_ code: SMTPError.Code) -> ExitCode? {
        switch code {
        case .configuration, .secretUnavailable: return .config
        // DESIGN.md's list of exit codes has no 68: a relay name that does not resolve is
        // an unavailable service (69), a refused destination domain an unknown address (67).
        case .resolve: return .unavailable
        case .connect, .timeout, .connectionClosed, .io, .interrupted, .serviceClosing, .proxyUnreachable:
            return .tempFail
        case .tlsHandshake, .tlsUnavailable, .tlsRejected, .greetingRejected, .heloRejected, .authUnavailable,
             .unexpectedReply, .malformedReply, .proxyRefused, .proxyProtocol:
            return .unavailable
        case .tlsVerification, .tlsPinMismatch, .plaintextAuthRefused, .authFailed, .saslFailed, .proxyAuthFailed:
            return .noPerm
        case .invalidArgument: return .dataErr
        case .invalidState: return .software
        case .messageSource: return .ioErr
        default: return nil
        }
    }

    /// A refusal's RFC 3463 status (`-odi`'s failed recipients): a bad mailbox or destination
    /// 67 (X.1.0, X.1.1, X.1.2, X.1.3, X.1.6, RFC 7505's X.1.10; DESIGN.md lists no 68), content
    /// the relay will not take 65 (X.6.*, too big: X.2.3, X.3.4), anything else 69. The class
    /// is not looked at: the caller knows whether the refusal is final (an expired message
    /// fails with 4.4.7).
    public static func code(forStatus status: EnhancedStatusCode) -> ExitCode {
        switch (status.subject, status.detail) {
        case (1, 0), (1, 1), (1, 2), (1, 3), (1, 6), (1, 10): return .noUser
        case (6, _), (3, 4), (2, 3): return .dataErr
        default: return .unavailable
        }
    }

    /// `code(forStatus:)` for the text of a status (`5.1.1`); 69 when it is not one.
    public static func code(forStatus text: String) -> ExitCode {
        guard let (status, length) = EnhancedStatusCode.parse(prefixOf: Array(text.utf8)[...]),
              length == text.utf8.count else { return .unavailable }
        return code(forStatus: status)
    }

    /// The reply `-bs` gives after DATA when the submission failed with this exit status
    /// (RFC 5321 4.2.2, RFC 3463): local trouble the client may retry is 451 (4.3.5 for the
    /// config), a refusal 550 or 554 with the status of its reason.
    public static func smtpReply(for code: ExitCode) -> String {
        switch code {
        case .ok: return "250 2.0.0"
        case .tempFail, .ioErr, .cantCreate, .osErr, .osFile, .noInput, .software: return "451 4.3.0"
        case .config: return "451 4.3.5"
        case .noUser: return "550 5.1.1"
        case .noHost: return "550 5.1.2"
        case .dataErr: return "554 5.6.0"
        case .usage: return "554 5.5.4"
        case .noPerm: return "554 5.7.1"
        case .unavailable: return "554 5.7.0"
        }
    }
}

/// Reading the message from stdin failed.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var isTemporary: Bool
    public var description: String { message }
}
