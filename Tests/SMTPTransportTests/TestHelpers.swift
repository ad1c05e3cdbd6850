import Foundation
import XCTest
import SMTPProtocol
import SMTPTestSupport
@testable import SMTPTransport

/// A relay description for 127.0.0.1 tests: no TLS unless asked, short timeouts.
func localRelay(port: UInt16, tls: SMTPTLSMode = .none, timeout: Double = 5) -> SMTPRelay {
    var relay = SMTPRelay(host: "127.0.0.1", port: port, tls: tls, heloName: "client.test")
    relay.timeouts = .all(timeout)
    return relay
}

func envelope(_ recipients: String..., sender: String? = "sender@client.test") -> SMTPEnvelope {
    SMTPEnvelope(sender: sender, recipients: recipients.map { SMTPRecipient($0) })
}

let sampleMessage = Array("From: a@client.test\r\nTo: b@example.test\r\nSubject: test\r\n\r\nHello.\r\n.leading dot\r\n".utf8)

/// Records observer callbacks (thread-safe).
final class ObserverLog: @unchecked Sendable {
    private let lock = NSLock()
    private var _statuses: [SMTPConnectionStatus] = []
    private var _trace: [String] = []
    private var _progress: [SMTPTransferProgress] = []

    var statuses: [SMTPConnectionStatus] { lock.lock(); defer { lock.unlock() }; return _statuses }
    var trace: [String] { lock.lock(); defer { lock.unlock() }; return _trace }
    var progress: [SMTPTransferProgress] { lock.lock(); defer { lock.unlock() }; return _progress }

    var observers: SMTPClientObservers {
        SMTPClientObservers(
            connectionStatus: { s in self.lock.lock(); self._statuses.append(s); self.lock.unlock() },
            transfer: { p in self.lock.lock(); self._progress.append(p); self.lock.unlock() },
            trace: { d, l in self.lock.lock(); self._trace.append((d == .sent ? ">>> " : "<<< ") + l); self.lock.unlock() })
    }
}

extension XCTestCase {
    /// Asserts that `body` throws an SMTPError with `code`, returning it.
    @discardableResult
    func assertSMTPError<T>(_ code: SMTPError.Code, file: StaticString = #filePath, line: UInt = #line,
                            _ body: () throws -> T) -> SMTPError? {
        do {
            _ = try body()
            XCTFail("expected \(code), got success", file: file, line: line)
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }
}
