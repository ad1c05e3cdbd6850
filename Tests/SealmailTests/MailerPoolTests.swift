import Foundation
import XCTest
import PeerTestSupport
import Sealmail

/// `Mailer`'s connections (issue 12): reused across sends (RSET between transactions), never
/// more than `maxConnections` open, and blocking IO kept off Swift's cooperative threads, so
/// that 32 sends to a relay that waits 1 s before each reply (MAIL, RCPT, end of data: 3 s a
/// message) overlap instead of queueing behind a handful of blocked threads.
final class MailerPoolTests: XCTestCase {
    func mail(_ n: Int) -> Mail {
        var m = Mail(from: "alice@example.com", subject: "message \(n)")
        m.to = ["bob@partner.example"]
        m.text = "number \(n)\n"
        return m
    }

    func mailer(_ relay: CaptureRelay, connections: Int) -> Mailer {
        var r = SMTPRelay(host: "127.0.0.1", port: relay.port, tls: .none, heloName: "client.example.com")
        r.timeouts = .all(60)
        return Mailer(relay: r, maxConnections: connections)
    }

    func testSequentialSendsReuseOneConnection() async throws {
        let relay: CaptureRelay
        do { relay = try CaptureRelay() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        let m = mailer(relay, connections: 4)
        for n in 0..<10 { _ = try await m.send(mail(n)) }
        let got = try relay.waitForMessages(10)
        XCTAssertEqual(got.count, 10)
        XCTAssertEqual(Set(got.map(\.peer)).count, 1, "one connection for ten sequential sends")
        await m.close()
    }

    func testConcurrentSendsStayWithinTheLimit() async throws {
        let relay: CaptureRelay
        do { relay = try CaptureRelay() } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        let m = mailer(relay, connections: 3)
        try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
            for n in 0..<24 { group.addTask { try await m.send(self.mail(n)) } }
            for try await r in group { XCTAssertTrue(r.allAccepted) }
        }
        let got = try relay.waitForMessages(24)
        XCTAssertEqual(got.count, 24)
        XCTAssertLessThanOrEqual(Set(got.map(\.peer)).count, 3, "at most maxConnections connections")
        let open = await m.openConnections
        XCTAssertLessThanOrEqual(open, 3)
    }

    /// 32 sends x 3 s of server waiting: about 3 s when they overlap, 96 s one after the
    /// other. The bound is loose (this machine is shared); what it catches is sends that
    /// wait for each other.
    func testSlowRelayDoesNotSerialiseSends() async throws {
        let relay: CaptureRelay
        do { relay = try CaptureRelay(delay: 1) } catch let e as PeerUnavailable { throw XCTSkip(e.description) }
        defer { relay.stop() }
        let m = mailer(relay, connections: 32)
        let start = Date()
        try await withThrowingTaskGroup(of: DeliveryReport.self) { group in
            for n in 0..<32 { group.addTask { try await m.send(self.mail(n)) } }
            for try await r in group { XCTAssertTrue(r.allAccepted) }
        }
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertLessThan(elapsed, 30, "32 sends to a slow relay took \(elapsed) s: they did not overlap")
        XCTAssertEqual(try relay.waitForMessages(32).count, 32)
        await m.close()
    }
}
