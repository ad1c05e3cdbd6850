import Foundation
import XCTest
@testable import MailPolicy
import MailQueue
import SMIME
import SMTPProtocol
import SMTPTransport
@testable import SendmailKit
#if canImport(Glibc)
import Glibc
#endif

/// The one table from errors to sysexits (`ExitCodes`, house rule 5), row by row: every case
/// of every module's error type has the status written here. A case added to a module
/// without a row in the table, or without a row here, fails one of these tests.
final class ExitCodeTableTests: XCTestCase {
    // MARK: MailQueue

    func testEveryQueueErrorCode() {
        let expected: [QueueError.Code: Int32] = [
            .cannotCreate: 73, .noSpace: 75, .io: 74, .permission: 77, .notFound: 66, .corrupt: 70, .locked: 75, .unsafe: 70,
        ]
        for code in QueueError.Code.allCases {
            guard let want = expected[code] else { XCTFail("no row for QueueError.\(code)"); continue }
            XCTAssertEqual(ExitCodes.code(for: QueueError(code, "m")).rawValue, want, "\(code)")
        }
    }

    // MARK: SendmailKit and MailPolicy

    func testEverySubmissionErrorKind() {
        let expected: [SubmissionError.Kind: Int32] = [.usage: 64, .data: 65, .noUser: 67]
        for kind in SubmissionError.Kind.allCases {
            guard let want = expected[kind] else { XCTFail("no row for SubmissionError.\(kind)"); continue }
            XCTAssertEqual(ExitCodes.code(for: SubmissionError(kind, "m")).rawValue, want, "\(kind)")
        }
    }

    func testEveryPolicyRefusalKind() {
        let expected: [PolicyRefusal.Kind: Int32] = [.noCertificate: 69, .notAuthorised: 77]
        for kind in PolicyRefusal.Kind.allCases {
            guard let want = expected[kind] else { XCTFail("no row for PolicyRefusal.\(kind)"); continue }
            let refused = PolicyRefused(refusals: [PolicyRefusal(kind: kind, address: "a@b.example", reason: "r")])
            XCTAssertEqual(ExitCodes.code(for: refused).rawValue, want, "\(kind)")
        }
        // Several reasons: the user's lack of permission is the one to fix first.
        let both = PolicyRefused(refusals: [PolicyRefusal(kind: .noCertificate, address: "a@b.example", reason: "r"),
                                            PolicyRefusal(kind: .notAuthorised, address: "c@b.example", reason: "r")])
        XCTAssertEqual(ExitCodes.code(for: both), .noPerm)
    }

    func testTheOtherErrorTypes() {
        let problem = FileTrustProblem(what: "key", path: "/k", line: 3, reason: "writable by others")
        let rows: [(Error, Int32)] = [
            (UsageError("u"), 64),
            (ConfigErrors(path: "/c", diagnostics: [ConfigDiagnostic(line: 1, message: "m")]), 78),
            (ConfigLoadError(message: "m", isPermission: false), 78),
            (ConfigLoadError(message: "m", isPermission: true), 77),
            (problem, 78),
            (UntrustedFiles(configPath: "/c", problems: [problem]), 78),
            (InputError(message: "m", isTemporary: true), 75),
            (InputError(message: "m", isTemporary: false), 74),
            (Unknown(), 70),
        ]
        for (error, want) in rows {
            XCTAssertEqual(ExitCodes.code(for: error).rawValue, want, "\(type(of: error)): \(error)")
        }
    }

    struct Unknown: Error {}

    // MARK: SMIME

    /// Each code, for files the config names (sealmail) and for files the caller named
    /// (sealctl smime, sealctl cert).
    func testEverySMIMEErrorCode() {
        let expected: [String: (configuration: Int32, caller: Int32)] = [
            "unreadable-file": (78, 66), "wrong-passphrase": (78, 78), "key-mismatch": (78, 78),
            "malformed-input": (78, 65), "unusable-certificate": (78, 67), "unsupported-algorithm": (78, 78),
            "bad-message": (65, 65), "verification-failed": (65, 65), "decryption-failed": (65, 65),
            "no-recipients": (64, 64), "output-failed": (74, 74), "no-space": (75, 75), "crypto-failure": (70, 70),
        ]
        for code in SMIMEError.Code.allCases {
            guard let want = expected[code.rawValue] else { XCTFail("no row for SMIMEError \(code)"); continue }
            XCTAssertEqual(ExitCodes.mapped(code, origin: .configuration)?.rawValue, want.configuration, "\(code), config")
            XCTAssertEqual(ExitCodes.mapped(code, origin: .caller)?.rawValue, want.caller, "\(code), caller")
            // A bare SMIMEError in sealmail concerns the config's files.
            XCTAssertEqual(ExitCodes.code(for: SMIMEError(code, "r", openSSLErrors: [])).rawValue, want.configuration, "\(code)")
        }
        XCTAssertEqual(Set(expected.keys), Set(SMIMEError.Code.allCases.map(\.rawValue)), "a row for a code that is gone")
    }

    /// `ProtectionError` (what replaced the ProtectionFailed string) is judged by its cause: a
    /// full disk while signing is 75, a key the config names that cannot be used 78, a file
    /// sealmail does not trust 78; the text keeps the context and the cause.
    func testProtectionErrorIsJudgedByItsCause() {
        let full = ProtectionError("signed copy for <a@b.example>", cause: SMIMEError.writeFailed(errno: ENOSPC))
        XCTAssertEqual(ExitCodes.code(for: full), .tempFail)
        XCTAssertTrue(full.description.hasPrefix("signed copy for <a@b.example>: writing the output failed: "), full.description)
        XCTAssertTrue(full.description.contains(String(cString: strerror(ENOSPC))), full.description)
        let key = ProtectionError("signing key of the rule on line 3", cause: SMIMEError(.wrongPassphrase, "bad", path: "/k", openSSLErrors: []))
        XCTAssertEqual(ExitCodes.code(for: key), .config)
        XCTAssertEqual(key.description, "signing key of the rule on line 3: /k: bad")
        let untrusted = ProtectionError("signing key of the rule on line 3",
                                        cause: FileTrustProblem(what: "key", path: "/k", line: 3, reason: "writable by others"))
        XCTAssertEqual(ExitCodes.code(for: untrusted), .config)
        XCTAssertEqual(ExitCodes.code(for: ProtectionError("c", cause: SMIMEError(.badMessage, "r", openSSLErrors: []))), .dataErr)
    }

    /// A failed write is classified by its errno: a full disk or quota may pass (75); any
    /// other failure is an IO error (74).
    func testWriteFailuresByErrno() {
        XCTAssertEqual(SMIMEError.writeFailed(errno: ENOSPC).code, .noSpace)
        XCTAssertEqual(SMIMEError.writeFailed(errno: EDQUOT).code, .noSpace)
        XCTAssertEqual(SMIMEError.writeFailed(errno: EIO).code, .outputFailed)
        XCTAssertEqual(SMIMEError.writeFailed(errno: EBADF).code, .outputFailed)
    }

    // MARK: SMTPTransport

    func testEverySMTPErrorCode() {
        let expected: [String: Int32] = [
            "configuration": 78, "secret-unavailable": 78, "resolve": 69,
            "connect": 75, "timeout": 75, "connection-closed": 75, "io": 75, "interrupted": 75,
            "service-closing": 75, "proxy-unreachable": 75,
            "tls-handshake": 69, "tls-unavailable": 69, "tls-rejected": 69, "greeting-rejected": 69,
            "helo-rejected": 69, "auth-unavailable": 69, "unexpected-reply": 69, "malformed-reply": 69,
            "proxy-refused": 69, "proxy-protocol": 69,
            "tls-verification": 77, "tls-pin-mismatch": 77, "plaintext-auth-refused": 77, "auth-failed": 77,
            "sasl-failed": 77, "proxy-auth-failed": 77,
            "invalid-argument": 65, "invalid-state": 70, "message-source": 74,
        ]
        for code in SMTPError.Code.allCases {
            guard let want = expected[code.rawValue] else { XCTFail("no row for SMTPError \(code)"); continue }
            XCTAssertEqual(ExitCodes.mapped(code)?.rawValue, want, "\(code)")
            XCTAssertEqual(ExitCodes.code(for: SMTPError(code, "m", transient: false)).rawValue, want, "\(code), permanent")
            // Whatever went wrong, a transient failure is "try again later".
            XCTAssertEqual(ExitCodes.code(for: SMTPError(code, "m", transient: true)), .tempFail, "\(code), transient")
        }
        XCTAssertEqual(Set(expected.keys), Set(SMTPError.Code.allCases.map(\.rawValue)), "a row for a code that is gone")
    }

    /// A permanent refusal in the transaction is judged by the relay's RFC 3463 status.
    func testSMTPRefusalsByTheirStatus() {
        func refusal(_ code: Int, _ status: EnhancedStatusCode?) -> SMTPError {
            SMTPError(.unexpectedReply, "refused", reply: SMTPReply(code: code, enhancedStatus: status, lines: ["no"]), transient: code < 500)
        }
        XCTAssertEqual(ExitCodes.code(for: refusal(550, EnhancedStatusCode(5, 1, 1))), .noUser)
        XCTAssertEqual(ExitCodes.code(for: refusal(554, EnhancedStatusCode(5, 6, 0))), .dataErr)
        XCTAssertEqual(ExitCodes.code(for: refusal(554, nil)), .unavailable)
        XCTAssertEqual(ExitCodes.code(for: refusal(450, EnhancedStatusCode(4, 2, 1))), .tempFail)
    }

    /// Every code in SMIMEError.swift and SMTPError.swift is in its `allCases`, so the loops
    /// above see a code the day it is added.
    func testAllCasesListEveryDeclaredCode() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        let files: [(String, Set<String>)] = [
            ("SMIME/SMIMEError.swift", Set(SMIMEError.Code.allCases.map(\.rawValue))),
            ("SMTPTransport/SMTPError.swift", Set(SMTPError.Code.allCases.map(\.rawValue))),
        ]
        let pattern = try NSRegularExpression(pattern: #"public static let \w+ = Code\(rawValue: "([^"]+)"\)"#)
        for (file, listed) in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let declared = Set(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).map {
                String(text[Range($0.range(at: 1), in: text)!])
            })
            XCTAssertFalse(declared.isEmpty, "no codes found in \(file)")
            XCTAssertEqual(declared, listed, "\(file): declared codes missing from allCases, or listed codes not declared")
        }
    }

    // MARK: RFC 3463 statuses (-odi)

    func testStatusesOfRefusals() {
        let rows: [(String, Int32)] = [
            ("5.1.0", 67), ("5.1.1", 67), ("5.1.3", 67), ("5.1.6", 67),
            ("5.1.2", 67), ("5.1.10", 67),
            ("5.6.0", 65), ("5.6.3", 65), ("5.3.4", 65), ("5.2.3", 65),
            ("5.7.1", 69), ("5.4.6", 69), ("5.2.2", 69), ("5.0.0", 69),
            // An expired message fails for good with a 4.4.7 status: still a refusal.
            ("4.4.7", 69),
            ("not a status", 69), ("5.1.1 trailing", 69), ("", 69),
        ]
        for (status, want) in rows {
            XCTAssertEqual(ExitCodes.code(forStatus: status).rawValue, want, status)
        }
    }

    // MARK: -bs

    /// Every exit status has the SMTP reply `-bs` gives after DATA: its code and enhanced
    /// status agree in class (RFC 3463 2), local and temporary trouble is 4xx (the client
    /// keeps the message and retries), a refusal 5xx.
    func testEveryExitCodeHasAnSMTPReply() {
        let transient: Set<ExitCode> = [.tempFail, .ioErr, .cantCreate, .osErr, .osFile, .noInput, .software, .config]
        for code in ExitCode.allCases {
            let reply = ExitCodes.smtpReply(for: code)
            let parts = reply.split(separator: " ")
            XCTAssertEqual(parts.count, 2, reply)
            guard parts.count == 2, let number = Int(parts[0]) else { continue }
            XCTAssertEqual(parts[0].first, parts[1].first, "\(code): \(reply)")
            XCTAssertNotNil(EnhancedStatusCode.parse(prefixOf: Array(parts[1].utf8)[...]), "\(code): \(reply)")
            switch code {
            case .ok: XCTAssertEqual(number, 250)
            case _ where transient.contains(code): XCTAssertEqual(number / 100, 4, "\(code): \(reply)")
            default: XCTAssertEqual(number / 100, 5, "\(code): \(reply)")
            }
        }
        // The reply for a full disk while signing, as SMTPServerMode builds it.
        let full = ProtectionError("signed copy", cause: SMIMEError.writeFailed(errno: ENOSPC))
        XCTAssertEqual(ExitCodes.smtpReply(for: ExitCodes.code(for: full)), "451 4.3.0")
    }
}
