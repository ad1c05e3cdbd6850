import Foundation
import XCTest
import SMTPProtocol
import SMTPTestSupport
@testable import SMTPTransport

/// Every wait bounded overall, against the scripted server trickling its replies: one deadline
/// for a whole reply however many reads it takes, one for a whole operation (`connect`,
/// `send`: `SMTPTimeouts.delivery`), and the caller's (`setDeadline`) over everything.
final class OverallDeadlineTests: XCTestCase {
    private func elapsed(_ body: () throws -> Void) rethrows -> Double {
        let start = Date()
        try body()
        return Date().timeIntervalSince(start)
    }

    /// A greeting sent one octet every quarter second: the 2 s wait ends at 2 s, not at the
    /// end of a 2 s wait restarted by each octet (which would let the greeting take 8 s).
    func testOneDeadlineForAWholeReply() throws {
        let server = try ScriptedSMTPServer(script: .init(secondsPerReplyOctet: 0.25))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port, timeout: 2))
        var error: SMTPError?
        let seconds = elapsed { error = assertSMTPError(.timeout) { try client.connect() } }
        XCTAssertTrue(error?.message.contains("greeting") ?? false, "\(String(describing: error))")
        XCTAssertLessThan(seconds, 4, "bounded by the 2 s wait for the whole greeting")
    }

    /// Each reply within its own (30 s) wait, but the session slower than the 3 s limit of the
    /// operation: `connect` fails at 3 s, saying which limit it was. Without that limit this
    /// session would take over 12 s to open (a 115-octet EHLO reply at 10 octets a second),
    /// then as long again for each message.
    func testDeliveryLimitBoundsConnecting() throws {
        let server = try ScriptedSMTPServer(script: .init(steps: ["GREETING": [.reply("220 x")]], secondsPerReplyOctet: 0.1))
        defer { server.stop() }
        var relay = localRelay(port: server.port, timeout: 30)
        relay.timeouts.delivery = 3
        let client = SMTPClient(relay: relay)
        var error: SMTPError?
        let seconds = elapsed { error = assertSMTPError(.timeout) { try client.connect() } }
        XCTAssertTrue(error?.message.contains("overall limit of 3 s") ?? false, "\(String(describing: error))")
        XCTAssertGreaterThan(seconds, 2.5)
        XCTAssertLessThan(seconds, 5)
        XCTAssertTrue(error?.isTransient ?? false)
    }

    /// A transaction whose MAIL reply comes one piece a second: `send` fails when its own 3 s
    /// limit passes (the session was opened quickly), and nothing counts as delivered.
    func testDeliveryLimitBoundsATransaction() throws {
        let slowMail = ScriptStep.split(["2", "5", "0", " ", "2", ".", "1", ".", "0", " ", "o", "k", "\r\n"], seconds: 1)
        let server = try ScriptedSMTPServer(script: .init(steps: ["MAIL": [slowMail]]))
        defer { server.stop() }
        var relay = localRelay(port: server.port, timeout: 30)
        relay.timeouts.delivery = 3
        let client = SMTPClient(relay: relay)
        try client.connect()
        var error: SMTPError?
        let seconds = elapsed {
            error = assertSMTPError(.timeout) { try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage)) }
        }
        XCTAssertTrue(error?.message.contains("overall limit of 3 s") ?? false, "\(String(describing: error))")
        XCTAssertLessThan(seconds, 5)
        XCTAssertFalse(client.isConnected)
        XCTAssertEqual(server.messages.count, 0)
    }

    /// The caller's deadline spans operations (here connect, then send) and names its reason.
    func testTheCallersDeadlineSpansOperations() throws {
        let server = try ScriptedSMTPServer(script: .init(secondsPerReplyOctet: 0.02))
        defer { server.stop() }
        let client = SMTPClient(relay: localRelay(port: server.port, timeout: 30))
        client.setDeadline(.after(3), reason: "the caller stopped waiting")
        var error: SMTPError?
        let seconds = elapsed {
            error = assertSMTPError(.timeout) {
                try client.connect()  // about 3 s of replies: greeting and EHLO
                _ = try client.send(envelope: envelope("b@example.test"), message: .bytes(sampleMessage))
            }
        }
        XCTAssertTrue(error?.message.hasPrefix("the caller stopped waiting (") ?? false, "\(String(describing: error))")
        XCTAssertLessThan(seconds, 5)
    }
}
